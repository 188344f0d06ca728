"""Finding and parsing posts: the only reader of the content folder.

Posts are Jekyll-style files: YAML front matter, then an HTML or Markdown body.
Every file is read and checked before anything is returned, and every problem
found is reported in one ContentError.

A post goes through three steps, so that a rebuild redoes only what changed:
- parsing (the file's bytes and the settings → `ParsedPost`), where every check
  happens; a `SourceCache` hands the result back for a file whose size and
  mtime, or failing that whose bytes, are unchanged;
- finishing (→ `Post` without content): first-seen dates, `now`, the URL;
- rendering (Markdown, the syndication-safe HTML pass, the summary), the
  expensive step, done only for the posts the caller asks for (`content_for`)
  and cached by the file's hash and the post's URL. It never finds a problem
  that parsing did not.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import frontmatter
import yaml
from markdown_it import MarkdownIt
from slugify import slugify

from publisher.core.config import Config, SiteConfig
from publisher.core.errors import ContentError, Problem, many
from publisher.core.models import Category, DateSource, Post
from publisher.core.parallel import collections_paused, helper_count, shared_map
from publisher.render.html import (
    absolute_url,
    first_paragraph,
    plain_line,
    plain_text,
    shorten,
    strip_xml_illegal,
    syndication_html,
)

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".txt"})
POST_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES
AUTO_EXCERPT_LENGTH = 280
PARALLEL_FROM = 2000
"""Files to read and parse from which forked helpers share the work."""
RENDERS_WORTH_A_HELPER = 40
"""Posts to render from which forked helpers share the work."""
_READ_BYTES = 1 << 16

_DATE_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")
_URI_SAFE = "/:@!$&'()*+,;=-._~%?#[]"
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_JEKYLL_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M:%S.%f %z")
_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


class _FrontMatterShapeError(ValueError):
    pass


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader (the C one when it is built)."""


def _timestamp_or_text(loader: Any, node: Any) -> Any:
    # An impossible date like 2024-13-45 makes PyYAML raise a bare ValueError;
    # keep the text so the `date` check names the field.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


class _YAMLHandler(frontmatter.YAMLHandler):  # type: ignore[name-defined,misc]
    """Front matter through `_Loader`."""

    def load(self, fm: str, **kwargs: object) -> Any:
        data = yaml.load(fm, Loader=_Loader)  # noqa: S506
        if data is not None and not isinstance(data, dict):
            raise _FrontMatterShapeError("front matter must be a set of `key: value` lines")
        return data


_HANDLER = _YAMLHandler()


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A post file as found on disk, before it is read."""

    path: str
    """The file's path as found under the content folder."""
    name: str
    """Path under the content folder, with forward slashes."""
    size: int
    """-1 when the file could not be stat'ed."""
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class CachedSource:
    """What a SourceCache remembers of one file: its stat, its hash and its `ParsedPost`."""

    size: int
    mtime_ns: int
    digest: bytes
    record: str
    """`ParsedPost.to_record()`."""


class SourceCache(Protocol):
    """Parsed posts and rendered content from earlier builds (see publisher/cache.py)."""

    def sources(self) -> Mapping[str, CachedSource]: ...

    def rendered(self, digest: bytes, markdown: bool, url: str) -> tuple[str, str] | None: ...


@dataclass
class CacheStats:
    """How each post was had: by stat, by hash, or by parsing; its content cached or rendered."""

    stat_hits: int = 0
    hash_hits: int = 0
    parsed: int = 0
    render_hits: int = 0
    rendered: int = 0
    helpers: int = 0
    """Processes forked to share the reading and parsing."""


@dataclass
class CacheUpdate:
    """What a SourceCache should remember after this load, for the caller to save."""

    sources: dict[str, CachedSource] = field(default_factory=dict)
    """New or changed entries by source name."""
    removed: list[str] = field(default_factory=list)
    """Source names to forget: deleted, renamed, or now failing."""
    rendered: list[tuple[bytes, bool, str, str, str]] = field(default_factory=list)
    """(digest, markdown, url, content_html, summary)."""
    digests: dict[str, bytes] = field(default_factory=dict)
    """The hash of every post file that was loaded, by source name."""
    stats: CacheStats = field(default_factory=CacheStats)
    sources_saved: bool = False
    """`sources` and `removed` are saved already; only `rendered` is left."""


@dataclass(frozen=True)
class LoadedSite:
    posts: tuple[Post, ...]
    """Published posts, newest first."""
    hidden: tuple[tuple[str, str], ...]
    """(source name, reason) for drafts, unpublished and future posts."""
    first_seen_now: tuple[Post, ...]
    """Posts dated by `now` because this is the first time they were seen."""
    next_publication: datetime | None = None
    """The earliest date of the hidden posts dated after `now`: the site may change then."""
    with_content: frozenset[str] | None = None
    """Ids of the posts whose content_html and summary were rendered; None means all.
    The others have both empty."""
    cache_update: CacheUpdate = field(default_factory=CacheUpdate, compare=False)

    def has_content(self, post: Post) -> bool:
        return self.with_content is None or post.id in self.with_content


class _FileProblems:
    """Collects the problems of one file, named the way a user finds it."""

    def __init__(self, where: Callable[[], str], sink: list[Problem]) -> None:
        self.where = where
        self.sink = sink
        self.count = 0

    def add(self, message: str, hint: str = "", line: int | None = None) -> None:
        where = self.where()
        self.sink.append(Problem(f"{where}:{line}" if line else where, message, hint))
        self.count += 1


def scan_sources(content_dir: Path) -> list[SourceFile]:
    """Every post file below `content_dir` with its size and mtime, ordered by name;
    dotfiles, dot-folders, other kinds of file and symlinked folders are skipped."""
    if not content_dir.is_dir():
        raise ContentError(
            f"no content folder at {content_dir}",
            hint="create it, or set [paths] content in config.toml",
        )
    found: list[SourceFile] = []
    folders = [(str(content_dir), "")]
    while folders:
        folder, prefix = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue  # like os.walk: an unreadable folder is passed over
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                is_folder = entry.is_dir()
            except OSError:
                is_folder = False
            if is_folder:
                if not entry.is_symlink():
                    folders.append((entry.path, f"{prefix}{name}/"))
            elif os.path.splitext(name)[1].lower() in POST_SUFFIXES:
                try:
                    stat = entry.stat()
                    size, mtime_ns = stat.st_size, stat.st_mtime_ns
                except OSError:
                    size, mtime_ns = -1, -1
                found.append(SourceFile(entry.path, prefix + name, size, mtime_ns))
    found.sort(key=lambda source: source.name)
    return found


def _decode(raw: bytes, problems: _FileProblems) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        problems.add(
            f"is not valid UTF-8 (byte {e.start} on this line)", "save the file as UTF-8", line
        )
        return None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        problems.add("is empty", "add front matter with at least a title, or delete the file")
        return None
    return text


_UNCLOSED_CONTEXTS = frozenset(
    {
        "while scanning a quoted scalar",
        "while parsing a flow sequence",
        "while parsing a flow mapping",
    }
)
"""PyYAML contexts of a quote or bracket left open: its error points at where the text ends."""


def _split(text: str, problems: _FileProblems) -> tuple[dict[str, Any], str] | None:
    if not text.startswith("---"):
        problems.add(
            "has no front matter",
            "start the file with a '---' line, a `title: …` line and another '---' line",
            1,
        )
        return None
    try:
        metadata, body = frontmatter.parse(text, handler=_HANDLER)
    except _FrontMatterShapeError as e:
        problems.add(str(e), "write one `key: value` per line, like `title: My post`", 2)
        return None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(e, "problem", None) or str(e)
        # An unclosed quote or bracket is noticed only where the text ends; name the line
        # where it opened (the context), and say where the parser gave up.
        context, context_mark = getattr(e, "context", None), getattr(e, "context_mark", None)
        if (
            context in _UNCLOSED_CONTEXTS
            and context_mark is not None
            and line
            and context_mark.line + 1 < line
        ):
            reason = f"{reason} on line {line}, {context} that began on this line"
            line = context_mark.line + 1
            hint = "close the quote or bracket opened on this line"
        else:
            hint = "check quoting and indentation"
        problems.add(f"front matter is not valid YAML: {reason}", hint, line)
        return None
    return _xml_safe(dict(metadata)), str(body)


def _xml_safe(value: Any) -> Any:
    """Front-matter values without characters XML forbids (YAML's "\\x01" escapes allow them)."""
    if isinstance(value, str):
        return strip_xml_illegal(value)
    if isinstance(value, dict):
        return {key: _xml_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_xml_safe(item) for item in value]
    return value


def _uri(url: str) -> str:
    """Percent-encode what may not stand in a URI (spaces, non-ASCII); keep what is there."""
    return quote(url.strip(), safe=_URI_SAFE)


def parse_moment(value: Any, zone: Any) -> datetime:
    """A front-matter date as an aware datetime; naive times are in the site's zone."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            for pattern in _JEKYLL_FORMATS:
                try:
                    moment = datetime.strptime(text, pattern)  # noqa: DTZ007 (every pattern has %z)
                    break
                except ValueError:
                    continue
            else:
                raise ValueError(f"cannot read {text!r} as a date") from None
    else:
        raise ValueError(f"cannot read {value!r} as a date")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.replace(microsecond=0)


def _string_list(value: Any, field: str, problems: _FileProblems) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return tuple(plain_line(str(item)) for item in value if str(item).strip())
    problems.add(
        f"`{field}` must be a list or a space-separated string",
        f"write `{field}: [one, two]` or `{field}: one two`",
    )
    return ()


def _first(metadata: Mapping[str, Any], *names: str) -> tuple[str, Any]:
    for name in names:
        if metadata.get(name) is not None:
            return name, metadata[name]
    return names[0], None


@lru_cache(maxsize=4096)
def category_slug(name: str) -> str:
    """A folder name for the category's feeds; never '.' or '..', which would escape it."""
    return slugify(name, allow_unicode=True) or quote(name, safe="").replace(".", "%2E")


@lru_cache(maxsize=4096)
def _category(name: str, slug: str) -> Category:
    return Category(name, slug)  # one shared (frozen) object per category


def _post_slug(metadata: Mapping[str, Any], title: str, stem: str) -> str:
    if isinstance(metadata.get("slug"), str) and metadata["slug"].strip():
        return slugify(metadata["slug"], allow_unicode=True)
    if title.isascii() and (from_title := slugify(title)):
        return str(from_title)
    match = _DATE_PREFIX.match(stem)
    return slugify(match.group(4) if match else stem, allow_unicode=True) or "post"


def _expand_permalink(pattern: str, slug: str, published: datetime) -> str:
    return (
        pattern.replace(":slug", quote(slug))
        .replace(":year", f"{published.year:04d}")
        .replace(":month", f"{published.month:02d}")
        .replace(":day", f"{published.day:02d}")
    )


@lru_cache(maxsize=64)
def _origin(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}/"


@lru_cache(maxsize=4096)
def _from_origin(path: str, origin: str) -> str:
    return absolute_url(path, origin)


def _absolute(url: str, page_url: str, base_url: str) -> str:
    """`absolute_url(url, page_url)`, remembered for a path from the root of the site's
    host (like /assets/a.png), where the result depends only on that host."""
    origin, url = _origin(base_url), url.strip()
    if page_url.startswith(origin) and url.startswith("/") and not url.startswith("//"):
        return _from_origin(url, origin)
    return absolute_url(url, page_url)


def tag_uri(authority: str, source_name: str) -> str:
    """RFC 4151 id from the file's place under content/, without its suffix."""
    specific = quote(source_name.rsplit(".", 1)[0], safe="/-._~!$&'()*+,;=:@")
    return f"tag:{authority}:{specific}"


def _moment_text(moment: datetime | None) -> str | None:
    """ISO 8601; without an offset when in the site's zone (the only ZoneInfo a post gets)."""
    if moment is None:
        return None
    if isinstance(moment.tzinfo, ZoneInfo):
        return moment.replace(tzinfo=None).isoformat()
    return moment.isoformat()


def _moment_from_text(text: str | None, zone: ZoneInfo) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


@dataclass(frozen=True, slots=True)
class ParsedPost:
    """Everything a post's file and the settings decide, before `now` and first-seen dates."""

    title: str
    id: str
    date_source: DateSource
    published: datetime | None
    """None when the post is dated by when it was first seen."""
    updated: datetime | None
    """None when only `published` is given."""
    categories: tuple[Category, ...]
    tags: tuple[str, ...]
    image: str | None
    """Absolute when `url` is known, else as written (percent-encoded)."""
    author: str
    lang: str | None
    slug: str
    url: str | None
    """None when it depends on the first-seen date."""
    hidden: str | None
    """'draft' or 'published: false'; a future date is decided when finishing."""
    markdown: bool

    def to_record(self) -> str:
        """The post as one line of JSON, for a SourceCache."""
        return json.dumps(
            [
                self.title,
                self.id,
                self.date_source.value,
                _moment_text(self.published),
                _moment_text(self.updated),
                [[c.name, c.slug] for c in self.categories],
                list(self.tags),
                self.image,
                self.author,
                self.lang,
                self.slug,
                self.url,
                self.hidden,
                self.markdown,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_record(cls, record: str, zone: ZoneInfo) -> ParsedPost:
        """The post `to_record` wrote; ValueError when the record is not one."""
        try:
            fields = json.loads(record)
            (title, entry_id, source, published, updated, categories, tags, image) = fields[:8]
            (author, lang, slug, url, hidden, markdown) = fields[8:]
            parsed = cls(
                title=title,
                id=entry_id,
                date_source=DateSource(source),
                published=_moment_from_text(published, zone),
                updated=_moment_from_text(updated, zone),
                categories=tuple(_category(name, slug) for name, slug in categories),
                tags=tuple(tags),
                image=image,
                author=author,
                lang=lang,
                slug=slug,
                url=url,
                hidden=hidden,
                markdown=markdown,
            )
        except (ValueError, TypeError, AttributeError) as e:
            raise ValueError(f"not a post record: {e}") from e
        shapes = (
            all(isinstance(text, str) for text in (title, entry_id, author, slug, *parsed.tags)),
            all(text is None or isinstance(text, str) for text in (image, lang, url, hidden)),
            all(isinstance(c.name, str) and isinstance(c.slug, str) for c in parsed.categories),
            isinstance(markdown, bool),
        )
        if not all(shapes):
            raise ValueError("not a post record")
        return parsed


def _parse(
    raw: bytes, source: SourceFile, site: SiteConfig, problems: _FileProblems
) -> ParsedPost | None:
    """Every check on one file; None when it has problems."""
    text = _decode(raw, problems)
    if text is None:
        return None
    split = _split(text, problems)
    if split is None:
        return None
    metadata, _ = split
    zone = site.zone
    source_name = source.name

    raw_title = metadata.get("title")
    title = plain_line(str(raw_title)) if raw_title is not None else ""
    if not title:
        problems.add("`title` is missing or empty", "add a line `title: …` to the front matter")

    entry_id = tag_uri(site.id_authority, source_name)
    if metadata.get("id") is not None:
        entry_id = str(metadata["id"]).strip()
        if not _URI_SCHEME.match(entry_id):
            problems.add(
                f"`id` {entry_id!r} is not a URI",
                "use a URI like 'tag:example.org,2024:my-post', or remove it for an automatic one",
            )

    stem = os.path.splitext(source_name.rsplit("/", 1)[-1])[0]
    date_source = DateSource.FRONT_MATTER
    published: datetime | None = None
    if metadata.get("date") is not None:
        try:
            published = parse_moment(metadata["date"], zone)
        except ValueError as e:
            problems.add(
                f"`date`: {e}",
                "write it like 2024-06-19, 2024-06-19T09:30:00+09:00 or 2024-06-19 09:30:00 +0900",
            )
    elif match := _DATE_PREFIX.match(stem):
        try:
            year, month, day = (int(part) for part in match.groups()[:3])
            published = datetime(year, month, day, tzinfo=zone)
            date_source = DateSource.FILENAME
        except ValueError:
            problems.add(
                f"the filename date {stem[:10]!r} is not a real date",
                "rename the file, or give the post a `date:`",
            )
    else:
        date_source = DateSource.FIRST_SEEN

    field_name, raw_updated = _first(metadata, "updated", "last_modified_at")
    updated = None
    if raw_updated is not None:
        try:
            updated = parse_moment(raw_updated, zone)
        except ValueError as e:
            problems.add(f"`{field_name}`: {e}", "write it like 2024-06-19T09:30:00+09:00")

    categories = _string_list(metadata.get("categories"), "categories", problems)
    if not categories and isinstance(metadata.get("category"), str):
        categories = (plain_line(metadata["category"]),)
    tags = _string_list(metadata.get("tags"), "tags", problems)

    image_value = metadata.get("image")
    if isinstance(image_value, dict):
        image_value = (
            image_value.get("path") or image_value.get("url") or image_value.get("feature")
        )
    if image_value is not None and not isinstance(image_value, str):
        problems.add("`image` must be a URL or a path", "write `image: /assets/picture.jpg`")
        image_value = None

    lang = metadata.get("lang")
    if lang is not None and not _LANGUAGE_TAG.match(str(lang)):
        problems.add(
            f"`lang` {lang!r} is not a language tag", "write it like `lang: ko` or `lang: en-GB`"
        )

    for flag in ("draft", "published"):
        if flag in metadata and not isinstance(metadata[flag], bool):
            problems.add(
                f"`{flag}` must be true or false", f"write `{flag}: true` or `{flag}: false`"
            )

    if problems.count:
        return None

    slug = _post_slug(metadata, title, stem)
    permalink = metadata.get("permalink")
    url: str | None
    if isinstance(permalink, str) and urlsplit(permalink).scheme in ("http", "https"):
        url = _uri(permalink)
    elif isinstance(permalink, str) and permalink.strip():
        url = site.base_url + "/" + _uri(permalink).lstrip("/")
    elif published is not None:
        url = site.base_url + _expand_permalink(site.permalink, slug, published)
    else:
        url = None

    image = _uri(image_value) if image_value else None
    if image is not None and url is not None:
        image = _absolute(image, url, site.base_url)

    author = metadata.get("author")
    if isinstance(author, dict):
        author = author.get("name")

    hidden = None
    if metadata.get("draft") is True:
        hidden = "draft"
    elif metadata.get("published") is False:
        hidden = "published: false"

    return ParsedPost(
        title=title,
        id=entry_id,
        date_source=date_source,
        published=published,
        updated=updated,
        categories=tuple(_category(name, category_slug(name)) for name in categories),
        tags=tags,
        image=image,
        author=plain_line(str(author)) if author else site.author,
        lang=plain_line(str(lang)) if lang else None,
        slug=slug,
        url=url,
        hidden=hidden,
        markdown=os.path.splitext(source_name)[1].lower() in MARKDOWN_SUFFIXES,
    )


@dataclass(frozen=True)
class _Draft:
    """A post read from disk, before ids are checked against each other."""

    post: Post
    hidden_reason: str | None
    first_seen_now: bool
    digest: bytes
    markdown: bool
    future: bool


@dataclass(frozen=True)
class _Moment:
    """What finishing a post needs besides the post: the site, `now`, first-seen dates."""

    site: SiteConfig
    zone: ZoneInfo
    now: datetime
    now_utc: datetime
    first_seen: Mapping[str, datetime]
    shown: _Shown


def _finish(parsed: ParsedPost, source: SourceFile, digest: bytes, moment: _Moment) -> _Draft:
    """The post as of `now`, without its content."""
    site, zone, now = moment.site, moment.zone, moment.now
    published = parsed.published
    seen_now = False
    if published is None:
        if parsed.id in moment.first_seen:
            published = moment.first_seen[parsed.id].astimezone(zone)
        else:
            published = now.astimezone(zone).replace(microsecond=0)
            seen_now = True
    url, image = parsed.url, parsed.image
    if url is None:
        url = site.base_url + _expand_permalink(site.permalink, parsed.slug, published)
        image = absolute_url(image, url) if image else None
    updated = published if parsed.updated is None else parsed.updated
    post = Post(
        source=Path(source.path),
        source_name=source.name,
        id=parsed.id,
        title=parsed.title,
        url=url,
        slug=parsed.slug,
        published=published,
        updated=max(updated, published),
        date_source=parsed.date_source,
        categories=parsed.categories,
        tags=parsed.tags,
        author=parsed.author,
        summary="",
        content_html="",
        image=image,
        lang=parsed.lang,
    )
    hidden = parsed.hidden
    future = published.astimezone(UTC) > moment.now_utc
    if hidden is None and future:
        hidden = f"dated in the future ({published.isoformat()})"
    return _Draft(post, hidden, seen_now and hidden is None, digest, parsed.markdown, future)


def render_content(raw: bytes, markdown: bool, url: str) -> tuple[str, str] | None:
    """(content_html, summary) of a post file that parses; None when it does not."""
    problems = _FileProblems(lambda: "", [])
    text = _decode(raw, problems)
    split = _split(text, problems) if text is not None else None
    if split is None:
        return None
    metadata, body = split
    html = _markdown.render(body) if markdown else body
    content_html = syndication_html(html, url)
    _, raw_summary = _first(metadata, "excerpt", "summary", "description")
    if raw_summary is not None:
        summary = plain_line(plain_text(str(raw_summary)))
    else:
        summary = shorten(first_paragraph(content_html), AUTO_EXCERPT_LENGTH)
    return content_html, summary


def _digest(raw: bytes) -> bytes:
    return hashlib.sha256(raw).digest()


def _read(path: str | Path, size: int = -1) -> bytes:
    """The file's bytes; `size`, when known, saves a read to find the end."""
    # os.read: cheaper than open()'s buffered file object, and this runs per post.
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = [os.read(fd, size + 1)] if size >= 0 else []
        if chunks and len(chunks[0]) <= size:
            return chunks[0]  # all of it: a read asks for one byte more than there is
        while chunk := os.read(fd, _READ_BYTES):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


class _Shown:
    """A post's path as the user finds it: relative to the config file's folder."""

    def __init__(self, config: Config) -> None:
        self.base = config.source.parent
        self.prefix: str | None = None
        try:
            inside = config.paths.content.relative_to(self.base).as_posix()
            self.prefix = "" if inside == "." else inside + "/"
        except ValueError:
            pass

    def __call__(self, source: SourceFile) -> str:
        if self.prefix is not None:
            return self.prefix + source.name
        return str(Path(source.path))


# reading and parsing -------------------------------------------------------------

ParseJob = tuple[SourceFile, bytes | None]
"""A file to read, and the hash under which the cache holds a post for it (or None)."""


@dataclass(frozen=True)
class _Outcome:
    """What reading and parsing one file gave."""

    digest: bytes | None
    """None when the file could not be read."""
    problems: tuple[Problem, ...] = ()
    record: str | None = None
    """`ParsedPost.to_record()`; None when the file has problems or is `same`."""
    draft: _Draft | None = None
    same: bool = False
    """The bytes hash to the cached hash: the cached post stands."""


def _read_and_parse(job: ParseJob, moment: _Moment, finish: bool = True) -> _Outcome:
    """Read the file, and parse and finish it unless it hashes to the cached hash."""
    source, cached_digest = job
    sink: list[Problem] = []
    problems = _FileProblems(partial(moment.shown, source), sink)
    try:
        raw = _read(source.path, source.size)
    except OSError as e:
        problems.add(f"cannot be read: {e.strerror}", "check the file's permissions")
        return _Outcome(None, tuple(sink))
    digest = _digest(raw)
    if digest == cached_digest:
        return _Outcome(digest, same=True)
    parsed = _parse(raw, source, moment.site, problems)
    if parsed is None:
        return _Outcome(digest, tuple(sink))
    draft = _finish(parsed, source, digest, moment) if finish else None
    return _Outcome(digest, (), parsed.to_record(), draft)


def _finish_outcome(job: ParseJob, outcome: _Outcome, moment: _Moment) -> _Outcome:
    """An outcome parsed elsewhere, finished here (a post travels faster as its record)."""
    if outcome.record is None or outcome.digest is None:
        return outcome
    parsed = ParsedPost.from_record(outcome.record, moment.zone)
    draft = _finish(parsed, job[0], outcome.digest, moment)
    return _Outcome(outcome.digest, outcome.problems, outcome.record, draft)


# rendering -----------------------------------------------------------------------

RenderJob = tuple[str, bytes, bool, str]
"""(path, hash, markdown, url) of a post whose content is needed."""


def _render_file(job: RenderJob) -> tuple[str, str] | None:
    """The post's (content_html, summary); None when the file is gone or has changed."""
    path, digest, markdown, url = job
    try:
        raw = _read(path)
    except OSError:
        return None
    return render_content(raw, markdown, url) if _digest(raw) == digest else None


# loading the site ----------------------------------------------------------------


class _StaleStat(Exception):
    """A file's bytes differ from what its unchanged size and mtime promised."""

    def __init__(self, name: str) -> None:
        self.name = name


def load_site(
    config: Config,
    first_seen: Mapping[str, datetime],
    now: datetime,
    *,
    cache: SourceCache | None = None,
    content_for: Callable[[Sequence[Post]], Iterable[Post]] | None = None,
    sources: Sequence[SourceFile] | None = None,
    meanwhile: Callable[[CacheUpdate], None] | None = None,
) -> LoadedSite:
    """Read and check every post. Raises one ContentError listing every problem.

    Only the posts `content_for` picks from the published ones (newest first,
    without content) get content_html and summary; by default every one does.
    What `cache` should remember afterwards is in the result's `cache_update`.
    `sources` is what `scan_sources` found, when the caller already looked.
    `meanwhile` is called with the cache update once every file is read and
    checked, while content renders (in forked helpers, when it is worth it).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if sources is None:
        sources = scan_sources(config.paths.content)
    distrusted: set[str] = set()
    while True:
        try:
            with collections_paused():
                return _load(
                    config, first_seen, now, cache, content_for, sources, distrusted, meanwhile
                )
        except _StaleStat as stale:
            distrusted.add(stale.name)


def _load(
    config: Config,
    first_seen: Mapping[str, datetime],
    now: datetime,
    cache: SourceCache | None,
    content_for: Callable[[Sequence[Post]], Iterable[Post]] | None,
    sources: Sequence[SourceFile],
    distrusted: set[str],
    meanwhile: Callable[[CacheUpdate], None] | None,
) -> LoadedSite:
    content_dir = config.paths.content
    site = config.site
    moment = _Moment(site, site.zone, now, now.astimezone(UTC), first_seen, _Shown(config))
    known = cache.sources() if cache is not None else {}
    update = CacheUpdate()
    stats = update.stats
    problems: list[Problem] = []

    from_stat: dict[str, _Draft] = {}
    maybe_same: dict[str, ParsedPost] = {}
    jobs: list[ParseJob] = []
    for source in sources:
        cached = known.get(source.name)
        decoded = _from_cache(cached, site) if cached is not None else None
        if decoded is None or cached is None:
            jobs.append((source, None))
        elif (
            cached.size == source.size
            and cached.mtime_ns == source.mtime_ns
            and source.size >= 0
            and source.name not in distrusted
        ):
            from_stat[source.name] = _finish(decoded, source, cached.digest, moment)
        else:
            maybe_same[source.name] = decoded
            jobs.append((source, cached.digest))

    helpers = stats.helpers = helper_count(len(jobs), worth_it=PARALLEL_FROM)
    outcomes = shared_map(
        jobs,
        partial(_read_and_parse, moment=moment),
        helpers=helpers,
        remote=partial(_read_and_parse, moment=moment, finish=False),
        absorb=partial(_finish_outcome, moment=moment),
    )
    by_name = dict(zip((source.name for source, _ in jobs), outcomes, strict=True))
    drafts: list[_Draft] = []
    for source in sources:
        if (draft := from_stat.get(source.name)) is not None:
            stats.stat_hits += 1
        else:
            outcome = by_name[source.name]
            problems.extend(outcome.problems)
            if outcome.digest is None:
                continue
            if outcome.same:
                record = known[source.name].record
                draft = _finish(maybe_same[source.name], source, outcome.digest, moment)
                stats.hash_hits += 1
            elif outcome.record is not None and outcome.draft is not None:
                record, draft = outcome.record, outcome.draft
                stats.parsed += 1
            else:
                continue
            update.sources[source.name] = CachedSource(
                source.size, source.mtime_ns, outcome.digest, record
            )
        update.digests[source.name] = draft.digest
        drafts.append(draft)

    _check_unique(drafts, config, problems)
    if problems:
        raise many(ContentError, f"content in {content_dir}", problems)

    good = {d.post.source_name for d in drafts}
    update.removed = [name for name in known if name not in good]

    visible = [d for d in drafts if d.hidden_reason is None]
    visible.sort(key=lambda d: (-d.post.published.timestamp(), d.post.source_name))
    light = [d.post for d in visible]
    wanted = None if content_for is None else {post.id for post in content_for(light)}
    chosen = [d for d in visible if wanted is None or d.post.id in wanted]
    contents = _contents(
        chosen, cache, update, moment, problems, partial(meanwhile, update) if meanwhile else None
    )
    if problems:
        raise many(ContentError, f"content in {content_dir}", problems)

    posts = [
        replace(d.post, content_html=contents[d.post.id][0], summary=contents[d.post.id][1])
        if d.post.id in contents
        else d.post
        for d in visible
    ]
    final = {post.id: post for post in posts}
    future = [d.post.published for d in drafts if d.hidden_reason and d.future]
    return LoadedSite(
        posts=tuple(posts),
        hidden=tuple((d.post.source_name, d.hidden_reason) for d in drafts if d.hidden_reason),
        first_seen_now=tuple(final[d.post.id] for d in drafts if d.first_seen_now),
        next_publication=min(future, default=None),
        with_content=None if wanted is None else frozenset(wanted),
        cache_update=update,
    )


def _check_unique(drafts: Sequence[_Draft], config: Config, problems: list[Problem]) -> None:
    """Ids must be unique among all posts, URLs among the published ones."""
    by_id: dict[str, Post] = {}
    by_url: dict[str, Post] = {}
    for draft in drafts:
        post = draft.post
        if post.id in by_id:
            problems.append(
                Problem(
                    _shown_path(post.source, config),
                    f"has the same id as {_shown_path(by_id[post.id].source, config)}: {post.id}",
                    "give one of them a different `id`, or remove the `id` lines",
                )
            )
        by_id.setdefault(post.id, post)
        if draft.hidden_reason is None:
            if post.url in by_url:
                other = _shown_path(by_url[post.url].source, config)
                problems.append(
                    Problem(
                        _shown_path(post.source, config),
                        f"has the same URL as {other}: {post.url}",
                        "set a different `slug` or `permalink` on one of them",
                    )
                )
            by_url.setdefault(post.url, post)


def _contents(
    chosen: Sequence[_Draft],
    cache: SourceCache | None,
    update: CacheUpdate,
    moment: _Moment,
    problems: list[Problem],
    meanwhile: Callable[[], None] | None,
) -> dict[str, tuple[str, str]]:
    """(content_html, summary) by post id: from the cache, else rendered."""
    contents: dict[str, tuple[str, str]] = {}
    missing: list[_Draft] = []
    for draft in chosen:
        post = draft.post
        found = cache.rendered(draft.digest, draft.markdown, post.url) if cache else None
        if found is None:
            missing.append(draft)
        else:
            contents[post.id] = found
            update.stats.render_hits += 1
    jobs = [(str(d.post.source), d.digest, d.markdown, d.post.url) for d in missing]
    helpers = helper_count(len(jobs), worth_it=RENDERS_WORTH_A_HELPER)
    rendered_all = shared_map(jobs, _render_file, helpers=helpers, meanwhile=meanwhile)
    for draft, rendered in zip(missing, rendered_all, strict=True):
        post = draft.post
        if rendered is None:
            _explain_unrendered(draft, update, moment, problems)
            continue
        contents[post.id] = rendered
        update.stats.rendered += 1
        update.rendered.append((draft.digest, draft.markdown, post.url, *rendered))
    return contents


def _explain_unrendered(
    draft: _Draft, update: CacheUpdate, moment: _Moment, problems: list[Problem]
) -> None:
    """A file that parsed could not be rendered: it went away or changed meanwhile."""
    post = draft.post
    where = moment.shown(SourceFile(str(post.source), post.source_name, -1, -1))
    try:
        raw = _read(post.source)
    except OSError as e:
        problems.append(Problem(where, f"cannot be read: {e.strerror}", "check its permissions"))
        return
    if post.source_name not in update.sources:
        raise _StaleStat(post.source_name)  # it was taken from the cache by size and mtime
    if _digest(raw) != draft.digest:
        problems.append(Problem(where, "changed while it was being read", "build again"))
        return
    raise AssertionError(f"{post.source_name} parses but does not render")


def _from_cache(cached: CachedSource, site: SiteConfig) -> ParsedPost | None:
    try:
        return ParsedPost.from_record(cached.record, site.zone)
    except ValueError:
        return None


def _shown_path(path: Path, config: Config) -> str:
    """A post's path as the user finds it: relative to the config file's folder."""
    try:
        return path.relative_to(config.source.parent).as_posix()
    except ValueError:
        return str(path)
