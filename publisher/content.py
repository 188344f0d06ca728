"""Finding and parsing posts: the only reader of the content folder.

Posts are Jekyll-style files: YAML front matter, then an HTML or Markdown body.
Every file is read and checked before anything is returned, and every problem
found is reported in one ContentError.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import frontmatter
import yaml
from markdown_it import MarkdownIt
from slugify import slugify

from publisher.config import Config
from publisher.errors import ContentError, Problem, many
from publisher.html import (
    absolute_url,
    first_paragraph,
    plain_line,
    plain_text,
    shorten,
    strip_xml_illegal,
    syndication_html,
)
from publisher.models import Category, DateSource, Post

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".txt"})
AUTO_EXCERPT_LENGTH = 280

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


@dataclass(frozen=True)
class LoadedSite:
    posts: tuple[Post, ...]
    """Published posts, newest first."""
    hidden: tuple[tuple[str, str], ...]
    """(source name, reason) for drafts, unpublished and future posts."""
    first_seen_now: tuple[Post, ...]
    """Posts dated by `now` because this is the first time they were seen."""


class _FileProblems:
    """Collects the problems of one file, named the way a user finds it."""

    def __init__(self, where: str, sink: list[Problem]) -> None:
        self.where = where
        self.sink = sink
        self.count = 0

    def add(self, message: str, hint: str = "", line: int | None = None) -> None:
        where = f"{self.where}:{line}" if line else self.where
        self.sink.append(Problem(where, message, hint))
        self.count += 1


def find_sources(content_dir: Path) -> list[Path]:
    """Every post file below `content_dir`, skipping dotfiles, dot-folders and other kinds."""
    if not content_dir.is_dir():
        raise ContentError(
            f"no content folder at {content_dir}",
            hint="create it, or set [paths] content in config.toml",
        )
    found = []
    for folder, subfolders, files in os.walk(content_dir):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in files:
            suffix = Path(name).suffix.lower()
            if name.startswith(".") or suffix not in MARKDOWN_SUFFIXES | HTML_SUFFIXES:
                continue
            found.append(Path(folder) / name)
    return sorted(found, key=lambda p: p.relative_to(content_dir).as_posix())


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


def _split(text: str, problems: _FileProblems) -> tuple[dict[str, Any], str] | None:
    if not text.startswith("---"):
        problems.add(
            "has no front matter",
            "start the file with a '---' line, a `title: …` line and another '---' line",
            1,
        )
        return None
    try:
        metadata, body = frontmatter.parse(text, handler=_YAMLHandler())
    except _FrontMatterShapeError as e:
        problems.add(str(e), "write one `key: value` per line, like `title: My post`", 2)
        return None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(e, "problem", None) or str(e)
        problems.add(
            f"front matter is not valid YAML: {reason}", "check quoting and indentation", line
        )
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


def category_slug(name: str) -> str:
    """A folder name for the category's feeds; never '.' or '..', which would escape it."""
    return slugify(name, allow_unicode=True) or quote(name, safe="").replace(".", "%2E")


def _post_slug(metadata: Mapping[str, Any], title: str, stem: str) -> str:
    if isinstance(metadata.get("slug"), str) and metadata["slug"].strip():
        return slugify(metadata["slug"], allow_unicode=True)
    if title.isascii() and slugify(title):
        return str(slugify(title))
    match = _DATE_PREFIX.match(stem)
    return slugify(match.group(4) if match else stem, allow_unicode=True) or "post"


def _expand_permalink(pattern: str, slug: str, published: datetime) -> str:
    return (
        pattern.replace(":slug", quote(slug))
        .replace(":year", f"{published.year:04d}")
        .replace(":month", f"{published.month:02d}")
        .replace(":day", f"{published.day:02d}")
    )


def tag_uri(authority: str, source_name: str) -> str:
    """RFC 4151 id from the file's place under content/, without its suffix."""
    specific = quote(source_name.rsplit(".", 1)[0], safe="/-._~!$&'()*+,;=:@")
    return f"tag:{authority}:{specific}"


@dataclass(frozen=True)
class _Draft:
    """A post read from disk, before ids are checked against each other."""

    post: Post
    hidden_reason: str | None
    first_seen_now: bool


def _read_post(
    path: Path,
    source_name: str,
    where: str,
    config: Config,
    first_seen: Mapping[str, datetime],
    now: datetime,
    sink: list[Problem],
) -> _Draft | None:
    problems = _FileProblems(where, sink)
    try:
        raw = path.read_bytes()
    except OSError as e:
        problems.add(f"cannot be read: {e.strerror}", "check the file's permissions")
        return None
    text = _decode(raw, problems)
    if text is None:
        return None
    split = _split(text, problems)
    if split is None:
        return None
    metadata, body = split
    site = config.site

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

    stem = Path(source_name).stem
    date_source = DateSource.FRONT_MATTER
    published: datetime | None = None
    seen_now = False
    if metadata.get("date") is not None:
        try:
            published = parse_moment(metadata["date"], site.zone)
        except ValueError as e:
            problems.add(
                f"`date`: {e}",
                "write it like 2024-06-19, 2024-06-19T09:30:00+09:00 or 2024-06-19 09:30:00 +0900",
            )
    elif match := _DATE_PREFIX.match(stem):
        try:
            year, month, day = (int(part) for part in match.groups()[:3])
            published = datetime(year, month, day, tzinfo=site.zone)
            date_source = DateSource.FILENAME
        except ValueError:
            problems.add(
                f"the filename date {stem[:10]!r} is not a real date",
                "rename the file, or give the post a `date:`",
            )
    else:
        date_source = DateSource.FIRST_SEEN
        if entry_id in first_seen:
            published = first_seen[entry_id].astimezone(site.zone)
        else:
            published = now.astimezone(site.zone).replace(microsecond=0)
            seen_now = True

    field, raw_updated = _first(metadata, "updated", "last_modified_at")
    updated = published
    if raw_updated is not None:
        try:
            updated = parse_moment(raw_updated, site.zone)
        except ValueError as e:
            problems.add(f"`{field}`: {e}", "write it like 2024-06-19T09:30:00+09:00")

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

    if problems.count or published is None or updated is None:
        return None

    slug = _post_slug(metadata, title, stem)
    permalink = metadata.get("permalink")
    if isinstance(permalink, str) and urlsplit(permalink).scheme in ("http", "https"):
        url = _uri(permalink)
    elif isinstance(permalink, str) and permalink.strip():
        url = site.base_url + "/" + _uri(permalink).lstrip("/")
    else:
        url = site.base_url + _expand_permalink(site.permalink, slug, published)

    html = _markdown.render(body) if path.suffix.lower() in MARKDOWN_SUFFIXES else body
    content_html = syndication_html(html, url)

    _, raw_summary = _first(metadata, "excerpt", "summary", "description")
    if raw_summary is not None:
        summary = plain_line(plain_text(str(raw_summary)))
    else:
        summary = shorten(first_paragraph(content_html), AUTO_EXCERPT_LENGTH)

    author = metadata.get("author")
    if isinstance(author, dict):
        author = author.get("name")

    post = Post(
        source=path,
        source_name=source_name,
        id=entry_id,
        title=title,
        url=url,
        slug=slug,
        published=published,
        updated=max(updated, published),
        date_source=date_source,
        categories=tuple(Category(name, category_slug(name)) for name in categories),
        tags=tags,
        author=plain_line(str(author)) if author else site.author,
        summary=summary,
        content_html=content_html,
        image=absolute_url(_uri(image_value), url) if image_value else None,
        lang=plain_line(str(lang)) if lang else None,
    )
    hidden = None
    if metadata.get("draft") is True:
        hidden = "draft"
    elif metadata.get("published") is False:
        hidden = "published: false"
    elif published.astimezone(UTC) > now.astimezone(UTC):
        hidden = f"dated in the future ({published.isoformat()})"
    return _Draft(post, hidden, seen_now and hidden is None)


def _shown(path: Path, config: Config) -> str:
    """A post's path as the user finds it: relative to the config file's folder."""
    try:
        return path.relative_to(config.source.parent).as_posix()
    except ValueError:
        return str(path)


def load_site(config: Config, first_seen: Mapping[str, datetime], now: datetime) -> LoadedSite:
    """Read and check every post. Raises one ContentError listing every problem."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    content_dir = config.paths.content
    problems: list[Problem] = []
    drafts: list[_Draft] = []
    for path in find_sources(content_dir):
        source_name = path.relative_to(content_dir).as_posix()
        where = _shown(path, config)
        draft = _read_post(path, source_name, where, config, first_seen, now, problems)
        if draft is not None:
            drafts.append(draft)

    by_id: dict[str, Post] = {}
    by_url: dict[str, Post] = {}
    for draft in drafts:
        post = draft.post
        if post.id in by_id:
            problems.append(
                Problem(
                    _shown(post.source, config),
                    f"has the same id as {_shown(by_id[post.id].source, config)}: {post.id}",
                    "give one of them a different `id`, or remove the `id` lines",
                )
            )
        by_id.setdefault(post.id, post)
        if draft.hidden_reason is None:
            if post.url in by_url:
                other = _shown(by_url[post.url].source, config)
                problems.append(
                    Problem(
                        _shown(post.source, config),
                        f"has the same URL as {other}: {post.url}",
                        "set a different `slug` or `permalink` on one of them",
                    )
                )
            by_url.setdefault(post.url, post)
    if problems:
        raise many(ContentError, f"content in {content_dir}", problems)

    visible = [d.post for d in drafts if d.hidden_reason is None]
    visible.sort(key=lambda p: (-p.published.timestamp(), p.source_name))
    return LoadedSite(
        posts=tuple(visible),
        hidden=tuple((d.post.source_name, d.hidden_reason) for d in drafts if d.hidden_reason),
        first_seen_now=tuple(d.post for d in drafts if d.first_seen_now),
    )
