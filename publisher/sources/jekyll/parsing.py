"""One Jekyll post file read into a `ParsedPost`: every check Jekyll would make, and ours.

Front matter (with `defaults:` under it), the date Jekyll gives the post in the site's
time zone, its URL and jekyll-feed's id, the title as jekyll-feed shows it, categories
(folders, then front matter), tags, author, image, `last_modified_at`, and whether it
is hidden (`published: false`, a draft). A problem names the file and the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from publisher.core.models import Category, DateSource
from publisher.render.text import plain_line
from publisher.render.titles import plain_title
from publisher.sources.files import FileProblems, SourceFile
from publisher.sources.jekyll import fields
from publisher.sources.jekyll.dates import DateError, post_date, read_date
from publisher.sources.jekyll.defaults import apply_defaults, defaults_for
from publisher.sources.jekyll.discovery import PostFile, output_ext
from publisher.sources.jekyll.errors import JekyllInputError
from publisher.sources.jekyll.front_matter import (
    read_front_matter,
    split_front_matter,
    top_level_lines,
)
from publisher.sources.jekyll.permalinks import (
    PostUrlParts,
    absolute_url,
    pattern_problem,
    post_id,
    post_url,
)
from publisher.sources.jekyll.site_config import SiteConfig
from publisher.sources.records import ParsedPost, category

_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")
_SAFE_CATEGORY = re.compile(r"^[^/\\\x00-\x1f?#%]+$")


@dataclass(frozen=True)
class SiteRules:
    """What parsing needs from the site and config.toml."""

    site: SiteConfig
    zone: ZoneInfo
    permalink: str
    """The posts' permalink template ([site] permalink)."""
    url: str
    baseurl: str
    author: str


@dataclass(frozen=True)
class PostText:
    """A post file's text split as Jekyll splits it, with defaults merged in."""

    data: dict[str, Any]
    body: str
    body_line: int
    lines: dict[str, int]
    """Front matter key → line in the file."""


def post_file_for(root_name: str) -> PostFile | None:
    """The PostFile a source name (`news/_posts/2021-01-01-x.md`) stands for."""
    from pathlib import Path

    from publisher.sources.jekyll.discovery import _post_file

    parts = root_name.split("/")
    for index, part in enumerate(parts[:-1]):
        if part in ("_posts", "_drafts"):
            base = "/".join(parts[:index])
            return _post_file(Path(), root_name, part, base)
    return None


def read_text(text: str, post: PostFile, site: SiteConfig) -> PostText:
    """Front matter over `defaults:`, and the body; JekyllInputError names the line."""
    front_matter, body, body_line = read_front_matter(text, post.relative_path)
    defaults = defaults_for(site.defaults, post.relative_path, "posts", site.root)
    yaml_text = split_front_matter(text)[0]
    lines = top_level_lines(yaml_text) if yaml_text else {}
    return PostText(apply_defaults(front_matter, defaults), body, body_line, lines)


def jekyll_category(name: str) -> Category:
    """The name as written is its feed's path (`feed/<name>.xml`), when it is a safe one."""
    if _SAFE_CATEGORY.match(name) and name.strip(".") and name == name.strip():
        return category(name, name)
    from publisher.sources.jekyll.slugs import slugify

    return category(name, slugify(name) or "category")


class PostParse:
    """One file's text read into a ParsedPost; problems go to `problems`."""

    def __init__(self, rules: SiteRules, source: SourceFile, problems: FileProblems) -> None:
        self.rules = rules
        self.source = source
        self.problems = problems
        self.split: PostText | None = None
        """The text as split, once `parsed` read it."""

    def parsed(self, text: str, reader: str) -> ParsedPost | None:
        post = post_file_for(self.source.name)
        if post is None:
            self.problems.add("is not in a _posts or _drafts folder")
            return None
        try:
            split = read_text(text, post, self.rules.site)
        except JekyllInputError as error:
            for problem in error.problems:
                self.problems.add(problem.message, problem.hint, problem.line or None)
            return None
        self.split = split
        return self._post(post, split, reader)

    def _post(self, post: PostFile, split: PostText, reader: str) -> ParsedPost | None:
        rules, data = self.rules, split.data
        date = self._date(post, split)
        updated = self._moment(split, "last_modified_at")
        permalink = data.get("permalink")
        if permalink is not None and (problem := pattern_problem(str(permalink))):
            self.problems.add(f"`permalink`: {problem}", line=split.lines.get("permalink"))
        if date is None or self.problems.count:
            return None
        slug = str(data["slug"]) if data.get("slug") else post.slug
        categories = fields.categories(post.folder_categories, data)
        parts = PostUrlParts(
            date=date,
            basename_without_ext=post.basename_without_ext,
            slug=slug,
            categories=categories,
            cleaned_relative_path=post.cleaned_relative_path,
            output_ext=output_ext(post.ext, rules.site.markdown_ext),
        )
        path = post_url(rules.permalink, parts, str(permalink) if permalink else None)
        return ParsedPost(
            title=plain_title(fields.title(data, post.slug)),
            id=absolute_url(rules.url, rules.baseurl, post_id(path, slug)),
            date_source=DateSource.FRONT_MATTER if data.get("date") else DateSource.FILENAME,
            published=date,
            updated=updated,
            categories=tuple(jekyll_category(name) for name in categories),
            tags=tuple(plain_line(tag) for tag in fields.tags(data) if plain_line(tag)),
            image=self._image(data),
            author=self._author(data),
            lang=self._lang(data),
            slug=slug,
            url=absolute_url(rules.url, rules.baseurl, path),
            hidden=self._hidden(post, data),
            reader=reader,
        )

    def _date(self, post: PostFile, split: PostText) -> datetime | None:
        fallback = datetime.fromtimestamp(max(self.source.mtime_ns, 0) / 1e9, UTC)
        try:
            date = post_date(
                split.data.get("date"), post.name_date, self.rules.zone, fallback=fallback
            )
        except DateError as error:
            self.problems.add(
                f"`date`: {error}",
                "write it like 2024-06-19 or 2024-06-19 09:30:00 +0900",
                split.lines.get("date"),
            )
            return None
        return date.replace(microsecond=0)

    def _moment(self, split: PostText, key: str) -> datetime | None:
        value = split.data.get(key)
        if value in (None, ""):
            return None
        try:
            return read_date(value, self.rules.zone).replace(microsecond=0)
        except DateError as error:
            self.problems.add(f"`{key}`: {error}", line=split.lines.get(key))
            return None

    def _image(self, data: dict[str, Any]) -> str | None:
        image = fields.image(data.get("image"))
        if image is None or "://" in image:
            return image
        return absolute_url(self.rules.url, self.rules.baseurl, image)

    def _author(self, data: dict[str, Any]) -> str:
        authors = data.get("authors")
        first = authors[0] if isinstance(authors, list) and authors else None
        author = fields.author(data.get("author")) or fields.author(first)
        return plain_line(author.name) if author is not None else self.rules.author

    def _lang(self, data: dict[str, Any]) -> str | None:
        lang = data.get("lang")
        if isinstance(lang, str) and _LANGUAGE_TAG.match(lang):
            return lang.replace("_", "-")
        return None

    def _hidden(self, post: PostFile, data: dict[str, Any]) -> str | None:
        if post.draft:
            return "draft"
        if data.get("published", True) is False and not self.rules.site.unpublished:
            return "published: false"
        return None
