"""`JekyllSource`: a Jekyll site's posts, as Jekyll 4.3 and jekyll-feed publish them.

[source] path is the site's root (where `_config.yml` is). Posts are every `_posts/`
folder Jekyll reads, and `_drafts/` only when [source] drafts (or `build --drafts`) asks;
a draft is never published. URLs, dates, ids and summaries are Jekyll's and
jekyll-feed's; bodies go through Liquid and kramdown (see rendering.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from publisher.core.config import Config
from publisher.core.errors import ConfigError, many
from publisher.core.models import Post
from publisher.sources.base import SITE_READER
from publisher.sources.files import FileProblems, SourceFile
from publisher.sources.jekyll.data import data_digest, data_files, read_data
from publisher.sources.jekyll.discovery import find_posts, published_reason
from publisher.sources.jekyll.errors import JekyllInputError, as_problems
from publisher.sources.jekyll.pages import site_files
from publisher.sources.jekyll.parsing import (
    PostParse,
    SiteRules,
    post_file_for,
    read_text,
)
from publisher.sources.jekyll.rendering import (
    Includes,
    excerpt_of,
    index_key,
    missing_targets,
    post_url_names,
    site_posts,
    unknown_filters,
    uses_other_posts,
)
from publisher.sources.jekyll.site_config import SiteConfig, load_site_config, style_to_template
from publisher.sources.private_folders import refuse_published
from publisher.sources.records import ParsedPost
from publisher.sources.steps import Shown

MAX_POST_BYTES = 8 * 1024 * 1024


def _site(config: Config) -> SiteConfig:
    try:
        return load_site_config(config.source.path)
    except JekyllInputError as error:
        where = f"the Jekyll site in {config.source.path}"
        raise many(ConfigError, where, list(as_problems(error))) from error


UNPUBLISHED_HINT = (
    "move it under a folder Jekyll does not copy (one whose name starts with _ or ., such as "
    "_publisher/), or add it to `exclude:` in _config.yml"
)


class JekyllSource:
    """Posts of the Jekyll site at [source] path."""

    def __init__(self, config: Config) -> None:
        self.root = config.source.path
        self.site = _site(config)
        rules, destination = self.site.entry_rules, self.site.destination
        refuse_published(
            config,
            self.root,
            lambda relative: published_reason(rules, relative, destination),
            UNPUBLISHED_HINT,
        )
        self.config = config
        self.drafts = config.source.drafts
        self.publishes_future = self.site.future
        """Jekyll's `future: true`: posts dated after now are published too."""
        parts = urlsplit(config.site.base_url)
        self.rules = SiteRules(
            site=self.site,
            zone=config.site.zone,
            permalink=style_to_template(config.site.permalink),
            url=f"{parts.scheme}://{parts.netloc}",
            baseurl=parts.path.rstrip("/"),
            author=config.site.author,
        )
        self.includes = Includes(self.root / "_includes")
        self._names: list[str] = []
        self._files: dict[str, str] | None = None
        self._renderer: Any = None
        self.data_dir = str(self.site.raw.get("data_dir") or "_data")
        self._data: tuple[dict[str, Any], list[str]] | None = None

    # finding and parsing --------------------------------------------------------

    def scan(self) -> list[SourceFile]:
        found = []
        for post in find_posts(self.root, self.site.entry_rules, drafts=self.drafts):
            try:
                stat = post.path.stat()
                size, mtime = stat.st_size, stat.st_mtime_ns
                found.append(SourceFile(str(post.path), post.relative_path, size, mtime))
            except OSError:
                found.append(SourceFile(str(post.path), post.relative_path, -1, -1))
        found.sort(key=lambda source: source.name)
        self._names = [source.name for source in found]
        return found

    def site_files(self) -> dict[str, str]:
        """relative path → URL path of every page and file `{% link %}` may name."""
        if self._files is None:
            self._files = site_files(
                self.root, self.site.entry_rules, str(self.site.permalink), self.site.markdown_ext
            )
        return self._files

    def fingerprint(self) -> dict[str, Any]:
        config = json.dumps(self.site.raw, sort_keys=True, default=str)
        pages = json.dumps(self.site_files(), sort_keys=True)
        return {
            "site": dataclasses.asdict(self.config.site),
            "root": str(self.root),
            "drafts": self.drafts,
            "config": hashlib.sha256(config.encode()).hexdigest(),
            "includes": self.includes.digest,
            "pages": hashlib.sha256(pages.encode()).hexdigest(),
            "data": data_digest(data_files(self.root, self.data_dir)),
        }

    def data(self) -> dict[str, Any]:
        """`site.data`, read when a post is first rendered."""
        if self._data is None:
            self._data = read_data(self.root, self.data_dir)
        return self._data[0]

    def site_warnings(self) -> tuple[str, ...]:
        """Data files left out of `site.data`, and jekyll-feed settings not followed."""
        prefix = Shown(self.config, self.root).prefix or ""
        self.data()
        assert self._data is not None
        found = [prefix + warning for warning in self._data[1]]
        if self.site.feed.tags:
            found.append(
                f"{prefix}_config.yml: feed.tags: jekyll-feed's tag feeds (feed/by_tag/) are "
                "not written by publisher; jekyll-feed, while in `plugins`, still writes them"
            )
        return tuple(found)

    def parse(self, raw: bytes, source: SourceFile, problems: FileProblems) -> ParsedPost | None:
        text = self._text(raw, problems)
        if text is None:
            return None
        parse = PostParse(self.rules, source, problems)
        ext = source.name.rsplit(".", 1)[-1].lower()
        reader = "kramdown" if ext in {e.lower() for e in self.site.markdown_ext} else "html"
        parsed = parse.parsed(text, reader)
        if parsed is None or parse.split is None:
            return None
        body, body_line = parse.split.body, parse.split.body_line
        self._warn_liquid(body, body_line, problems)
        if reader == "kramdown" and "{:" in body:
            from publisher.render.kramdown import kramdown_with_warnings

            for line, message in kramdown_with_warnings(body)[1]:
                problems.warn(f"{message}", body_line + line - 1)
        if uses_other_posts(body, self.includes):
            parsed = dataclasses.replace(parsed, reader=parsed.reader + SITE_READER)
        return parsed

    def _text(self, raw: bytes, problems: FileProblems) -> str | None:
        if len(raw) > MAX_POST_BYTES:
            problems.add(f"is {len(raw)} bytes; the limit is {MAX_POST_BYTES}")
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            line = raw.count(b"\n", 0, e.start) + 1
            message = f"is not valid UTF-8 (byte {e.start} on this line)"
            problems.add(message, "save the file as UTF-8", line)
            return None
        return text.removeprefix("\ufeff").replace("\r\n", "\n")

    def _warn_liquid(self, body: str, body_line: int, problems: FileProblems) -> None:
        """Liquid we cannot render is a warning, never an error: the rest of the post stands."""
        if "{{" not in body and "{%" not in body:
            return
        renderer = self.renderer()
        found = unknown_filters(body, body_line, renderer.filter_names())
        found += renderer.tag_warnings(body, body_line)
        found += missing_targets(body, body_line, {"include": self.includes.names})
        for line, message in sorted(set(found)):
            problems.warn(message, line)

    def reference_warnings(self, files: Sequence[SourceFile]) -> list[tuple[SourceFile, int, str]]:
        """Each `post_url` and `link` of these posts whose target is not there now."""
        targets = {
            "post_url": set(post_url_names(self._names)),
            "link": set(self.site_files()) | set(self._names),
        }
        found = []
        for source in files:
            post = post_file_for(source.name)
            try:
                with open(source.path, "rb") as handle:
                    text = self._text(handle.read(MAX_POST_BYTES + 1), FileProblems(str, []))
                split = read_text(text, post, self.site) if text and post else None
            except (OSError, JekyllInputError):
                continue  # parsing reports what is wrong with the file
            if split is not None:
                for line, message in missing_targets(split.body, split.body_line, targets):
                    found.append((source, line, message))
        return found

    def permalink(self, parsed: ParsedPost, published: datetime) -> str:
        raise AssertionError("a Jekyll post's URL never waits for its first-seen date")

    # rendering --------------------------------------------------------------------

    def link_posts(self, posts: Sequence[Post]) -> str:
        index = site_posts(posts, self.config.site.base_url)
        self.renderer().know_posts(index)
        return index_key(index)

    def renderer(self) -> Any:
        if self._renderer is None:
            from publisher.sources.jekyll.liquid_site import JekyllRenderer

            self._renderer = JekyllRenderer(self)
        return self._renderer

    def render(self, raw: bytes, reader: str, url: str, name: str) -> tuple[str, str] | None:
        from publisher.render.html import syndication_html

        text = self._text(raw, FileProblems(lambda: name, []))
        post = post_file_for(name)
        if text is None or post is None:
            return None
        split = read_text(text, post, self.site)
        base_reader = reader.removesuffix(SITE_READER)
        renderer = self.renderer()
        page = renderer.page(split, post, url)
        content = renderer.body_html(split.body, base_reader, page, name, split.body_line)
        summary = ""
        excerpt = excerpt_of(split.data, split.body, self.config.site.excerpt_separator)
        if excerpt is not None:
            summary = renderer.summary(excerpt, base_reader, page, name, split.body_line)
        return syndication_html(content, url), summary
