"""`HugoSource`: a Hugo site's pages, with the links, ids, dates and summaries Hugo 0.111.3
gives them.

[source] path is the site's root (where hugo.toml, config.toml or config/ is); the site's
production config is read as Hugo reads it. Posts are the regular pages of the main
sections ([source] pages = "all": every regular page, as Hugo's RSS lists them), in every
language. Bodies are rendered Goldmark-like, with Hugo's built-in shortcodes; a site's
own shortcode is a warning naming the page and line, never text in a feed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from publisher.core.config import Config
from publisher.core.errors import ConfigError, ContentError, Problem, many
from publisher.core.models import Post
from publisher.sources.base import SITE_READER
from publisher.sources.files import FileProblems, SourceFile
from publisher.sources.hugo.cascade import Branch, Cascades
from publisher.sources.hugo.content import (
    ContentFile,
    ContentTree,
    find_content,
    post_files,
)
from publisher.sources.hugo.dates import FILE_MOD_TIME, DateRules, date_rules
from publisher.sources.hugo.frontmatter import Markup
from publisher.sources.hugo.pages import (
    HugoPage,
    dotted,
    page_branch,
    page_from_text,
    render_page,
    site_cascades,
    site_urls,
)
from publisher.sources.hugo.posts import PostRules, parsed_post
from publisher.sources.hugo.publish_dirs import published_reason
from publisher.sources.hugo.refs import RefIndex, RefTarget
from publisher.sources.hugo.shortcodes import NO_SUCH_PAGE, ShortcodeContext, expand_shortcodes
from publisher.sources.hugo.site_config import HugoSiteConfig, load_site_config
from publisher.sources.private_folders import refuse_published
from publisher.sources.records import ParsedPost

MAX_PAGE_BYTES = 4 << 20
SHORTCODES = Path("layouts", "shortcodes")
"""Where a site (or a theme, under themes/<name>/) keeps its own shortcode templates."""
MAX_SHORTCODE_FILES = 2000
UNPUBLISHED_HINT = (
    "move it out of the folders Hugo publishes: beside content/ (state/ at the site's root is "
    "never copied), or outside the site"
)
_MARKDOWN_INNER = re.compile(
    r"\.Inner\s*\|\s*(?:markdownify|\$?\.Page\.RenderString)|(?:markdownify|RenderString)\s+\$?\.Inner"
)
_REF = re.compile(r"\{\{[<%]\s*(?:/\*\s*)?(?:rel)?ref[\s>%]")


def _site(config: Config) -> HugoSiteConfig:
    try:
        site = load_site_config(config.source.path)
    except ConfigError as error:
        where = f"the Hugo site in {config.source.path}"
        problems = list(error.problems) or [Problem(where, error.message, error.hint)]
        raise many(ConfigError, where, problems) from error
    # [site] base_url (the site's baseURL unless config.toml says otherwise) makes the links
    return dataclasses.replace(site, base_url=config.site.base_url + "/")


class HugoSource:
    """Pages of the Hugo site at [source] path."""

    def __init__(self, config: Config) -> None:
        self.root = config.source.path
        self.config = config
        self.site = _site(config)
        site = self.site
        refuse_published(config, self.root, lambda at: published_reason(site, at), UNPUBLISHED_HINT)
        self.dates: DateRules = date_rules(
            self.site.frontmatter, file_mod_time=config.source.file_mod_time
        )
        self.urls = site_urls(self.site)
        self.rules = PostRules(
            self.site, self.urls, config.site.author, all_pages=config.source.pages == "all"
        )
        self.publishes_future = self.site.build_future
        """Hugo's `buildFuture`: pages with a publish date after now are published too."""
        self.reads_mtime = config.source.file_mod_time and any(
            FILE_MOD_TIME in handlers for handlers in self.dates.handlers.values()
        )
        self._tree: ContentTree | None = None
        self._posts: dict[str, ContentFile] = {}
        self._linked: dict[str, str] = {}
        self._refs: RefIndex | None = None
        self._pages: RefIndex | None = None
        """Every page, for checking that a `ref` names one."""
        self._shortcodes: frozenset[str] | None = None
        self._cascades: Cascades | None = None
        self._markdown_inner: frozenset[str] | None = None

    # finding and parsing --------------------------------------------------------

    def tree(self) -> ContentTree:
        if self._tree is None:
            self._tree = find_content(self.site)
        return self._tree

    def cascades(self) -> Cascades:
        if self._cascades is None:
            self._cascades = site_cascades(self.site, self.tree())
        return self._cascades

    def branch(self, file: ContentFile) -> Branch:
        """What the page inherits from the list pages above it (`cascade`, drafts, dates)."""
        return page_branch(self.cascades(), file, self.site, self.dates)

    def name_of(self, file: ContentFile) -> str:
        try:
            return file.path.relative_to(self.root).as_posix()
        except ValueError:
            return str(file.path)

    def scan(self) -> list[SourceFile]:
        all_pages = self.config.source.pages == "all"
        found = []
        for file in post_files(self.site, self.tree(), all_pages=all_pages):
            name = self.name_of(file)
            self._posts[name] = file
            try:
                stat = file.path.stat()
                found.append(SourceFile(str(file.path), name, stat.st_size, stat.st_mtime_ns))
            except OSError:
                found.append(SourceFile(str(file.path), name, -1, -1))
        found.sort(key=lambda source: source.name)
        return found

    def fingerprint(self) -> dict[str, Any]:
        config = json.dumps(self.site.raw, sort_keys=True, default=str)
        return {
            "site": dataclasses.asdict(self.config.site),
            "root": str(self.root),
            "pages": self.config.source.pages,
            "file_mod_time": self.config.source.file_mod_time,
            "config": _sha256(config.encode()),
            "list_pages": self.cascades().digest(),
            "shortcodes": self.shortcodes_digest(),
        }

    def shortcode_files(self) -> list[tuple[Path, Path]]:
        """(folder, file) of every shortcode template of the site and its themes."""
        themes = self.site.raw.get("theme") or []
        themes = [themes] if isinstance(themes, str) else [str(t) for t in themes]
        folders = [self.root / SHORTCODES, *(self.root / "themes" / t / SHORTCODES for t in themes)]
        found = []
        for folder in folders:
            if folder.is_dir():
                found += [(folder, path) for path in sorted(folder.rglob("*")) if path.is_file()]
        return found[:MAX_SHORTCODE_FILES]

    def site_shortcodes(self) -> frozenset[str]:
        if self._shortcodes is None:
            names = {path.relative_to(folder).as_posix() for folder, path in self.shortcode_files()}
            self._shortcodes = frozenset(name.split(".", 1)[0] for name in names)
        return self._shortcodes

    def markdown_inner(self) -> frozenset[str]:
        """The site's shortcodes whose template renders `.Inner` as Markdown."""
        if self._markdown_inner is None:
            found = set()
            for folder, path in self.shortcode_files():
                if _MARKDOWN_INNER.search(_read_small(path).decode("utf-8", "replace")):
                    found.add(path.relative_to(folder).as_posix().split(".", 1)[0])
            self._markdown_inner = frozenset(found)
        return self._markdown_inner

    def shortcodes_digest(self) -> str:
        """The site's own shortcode templates (names and bytes): they decide which shortcodes
        are the site's, and warnings name them."""
        chunks = []
        for _folder, path in self.shortcode_files():
            chunks.append(path.relative_to(self.root).as_posix().encode())
            chunks.append(_read_small(path))
        return _sha256(*chunks)

    def site_warnings(self) -> tuple[str, ...]:
        """Config settings not followed and content files skipped, named as the user finds
        them (from config.toml's folder)."""
        shown = _shown_root(self.config)
        origin = shown + self.site.files[0].relative_to(self.site.root).as_posix()
        config_notes = (f"{origin}: {note}" for note in (*self.site.notes, *self.dates.notes))
        return (*config_notes, *(shown + note for note in self.tree().notes))

    def parse(self, raw: bytes, source: SourceFile, problems: FileProblems) -> ParsedPost | None:
        file = self._file(source.name)
        if file is None:
            problems.add("is not a page of the Hugo site", "build again")
            return None
        text = self._text(raw, problems)
        if text is None:
            return None
        mod_time = datetime.fromtimestamp(max(source.mtime_ns, 0) / 1e9, UTC)
        try:
            branch = self.branch(file)
            page = page_from_text(file, text, self.site, self.dates, self.urls, mod_time, branch)
        except ContentError as error:
            for problem in error.problems:
                problems.add(problem.message, problem.hint or error.hint, _line(problem))
            return None
        for note in page.notes:
            problems.warn(note)
        for warning in self._shortcode_warnings(page):
            problems.warn(warning.message, _line(warning))
        reader = "hugo-html" if file.markup is Markup.HTML else "hugo-markdown"
        if _REF.search(page.body):
            reader += SITE_READER
        return parsed_post(page, self.rules, reader)

    def _file(self, name: str) -> ContentFile | None:
        if not self._posts:
            self.scan()
        return self._posts.get(name)

    def _text(self, raw: bytes, problems: FileProblems) -> str | None:
        if len(raw) > MAX_PAGE_BYTES:
            problems.add(f"is {len(raw)} bytes; the limit is {MAX_PAGE_BYTES}")
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            line = raw.count(b"\n", 0, e.start) + 1
            problems.warn("is not valid UTF-8; read with replacement characters", line)
            return raw.decode("utf-8", errors="replace")

    def _shortcode_warnings(self, page: HugoPage, *, refs: bool = False) -> tuple[Problem, ...]:
        """What rendering will leave out; shortcodes are expanded without rendering Markdown.
        With `refs`, only the `ref`s and `relref`s to no page (see reference_warnings);
        without, every other warning."""
        if "{{<" not in page.body and "{{%" not in page.body:
            return ()
        if self._pages is None:
            self._pages = RefIndex(RefTarget(file, "", "") for file in self.tree().pages())
        pages = self._pages

        def exists(target: str, _absolute: bool) -> str | None:
            return "" if not refs or pages.find(target, page.file) is not None else None

        context = ShortcodeContext(
            page=self.name_of(page.file),
            render_markdown=lambda text: text,
            resolve_ref=exists,
            param=lambda name: _param(page, self.site, name),
            first_line=page.body_line,
            site_shortcodes=self.site_shortcodes(),
        )
        warnings = expand_shortcodes(page.body, context).warnings
        return tuple(w for w in warnings if w.message.endswith(NO_SUCH_PAGE) == refs)

    def reference_warnings(self, files: Sequence[SourceFile]) -> list[tuple[SourceFile, int, str]]:
        """Each `ref` and `relref` of these pages to a page that is not there now."""
        self._pages = None  # pages may have been renamed since the last look
        found = []
        for source in files:
            file = self._file(source.name)
            try:
                text = _read_small(Path(source.path)).decode("utf-8", errors="replace")
                page = (
                    page_from_text(
                        file, text, self.site, self.dates, self.urls, None, self.branch(file)
                    )
                    if file is not None
                    else None
                )
            except (OSError, ContentError):
                continue  # parsing reports what is wrong with the file
            if page is not None:
                for warning in self._shortcode_warnings(page, refs=True):
                    found.append((source, _line(warning) or 0, warning.message))
        return found

    def permalink(self, parsed: ParsedPost, published: datetime) -> str:
        raise AssertionError("a Hugo page's URL never waits for its first-seen date")

    # rendering --------------------------------------------------------------------

    def link_posts(self, posts: Sequence[Post]) -> str:
        """What `ref` and `relref` can reach: the published posts and the other pages (by
        name, size and mtime: they are read only when a page links to one)."""
        self._linked = {post.source_name: post.url for post in posts}
        self._refs = None
        others = []
        for file in self.tree().pages():
            name = self.name_of(file)
            if name not in self._posts:
                try:
                    stat = file.path.stat()
                    others.append(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}")
                except OSError:
                    continue
        linked = [f"{name}\0{url}" for name, url in sorted(self._linked.items())]
        return _sha256("\n".join(linked + others).encode("utf-8", "surrogateescape"))

    def refs(self) -> RefIndex:
        if self._refs is None:
            self._refs = RefIndex(self._ref_targets())
        return self._refs

    def _ref_targets(self) -> list[RefTarget]:
        targets = []
        for file in self.tree().pages():
            name = self.name_of(file)
            if name in self._posts:
                url = self._linked.get(name)
                if url is not None:
                    targets.append(RefTarget(file, url, urlsplit(url).path))
                continue
            page = self._other_page(file)
            if page is not None and not page.draft and not page.branch.draft:
                targets.append(RefTarget(file, page.permalink, page.rel_permalink))
        return targets

    def _other_page(self, file: ContentFile) -> HugoPage | None:
        try:
            raw = _read_small(file.path, MAX_PAGE_BYTES)
            text = raw.decode("utf-8", errors="replace")
            branch = self.branch(file)
            return page_from_text(file, text, self.site, self.dates, self.urls, None, branch)
        except (OSError, ContentError):
            return None

    def render(self, raw: bytes, reader: str, url: str, name: str) -> tuple[str, str] | None:
        file = self._file(name)
        text = self._text(raw, FileProblems(lambda: name, []))
        if file is None or text is None:
            return None
        try:
            mod_time = datetime.fromtimestamp(os.stat(file.path).st_mtime, UTC)
            branch = self.branch(file)
            page = page_from_text(file, text, self.site, self.dates, self.urls, mod_time, branch)
        except (OSError, ContentError):
            return None
        refs = self.refs() if reader.endswith(SITE_READER) else RefIndex(())
        from publisher.render.goldmark import GoldmarkOptions
        from publisher.render.html import syndication_html
        from publisher.render.titles import summary_text

        options = GoldmarkOptions.from_hugo(self.site.goldmark)
        page = render_page(page, self.site, refs, options, self.markdown_inner())
        base = page.resource_base if file.leaf_bundle else url
        summary = summary_text(page.summary.text) if page.summary is not None else ""
        return syndication_html(page.content_html, base), summary


def _shown_root(config: Config) -> str:
    """The site's root as paths in messages start: from config.toml's folder, "" or "site/"."""
    try:
        inside = config.source.path.relative_to(config.file.parent).as_posix()
    except ValueError:
        return f"{config.source.path}/"
    return "" if inside == "." else f"{inside}/"


def _param(page: HugoPage, site: HugoSiteConfig, name: str) -> object:
    value = dotted(page.params, name)
    return value if value is not None else dotted(site.language(page.lang).params, name)


def _line(problem: Problem) -> int | None:
    _, _, line = problem.where.rpartition(":")
    return int(line) if line.isdigit() else None


def _read_small(path: Path, limit: int = MAX_PAGE_BYTES) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(limit + 1)[:limit]


def _sha256(*chunks: bytes) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(len(chunk).to_bytes(8, "big"))
        digest.update(chunk)
    return digest.hexdigest()
