"""A folder of posts: Jekyll-style files (YAML front matter, then a Markdown or HTML body).

The default source kind. Every check a post's file gets happens in `parse`;
`render` turns a file that parsed into syndication-safe HTML and a summary.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from publisher.core.config import Config
from publisher.core.models import DateSource
from publisher.render.text import plain_line
from publisher.render.titles import plain_title
from publisher.sources import frontmatter
from publisher.sources.dates import parse_moment
from publisher.sources.files import FileProblems, SourceFile, decode, scan
from publisher.sources.records import ParsedPost, category
from publisher.sources.urls import (
    absolute,
    category_slug,
    expand_permalink,
    slug,
    tag_uri,
    uri,
)

READER_BY_SUFFIX = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".txt": "html",
}

_DATE_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


class FolderSource:
    """Posts in [paths] content, dated and linked by [site] settings."""

    def __init__(self, config: Config) -> None:
        self.site = config.site
        self.zone = config.site.zone
        self.root = config.paths.content

    def scan(self) -> list[SourceFile]:
        return scan(self.root, READER_BY_SUFFIX)

    def fingerprint(self) -> dict[str, Any]:
        return {"site": dataclasses.asdict(self.site), "content": str(self.root)}

    def parse(self, raw: bytes, source: SourceFile, problems: FileProblems) -> ParsedPost | None:
        text = decode(raw, problems)
        split = frontmatter.split(text, problems) if text is not None else None
        if split is None:
            return None
        return _Parse(self, split[0], source, problems).post()

    def permalink(self, parsed: ParsedPost, published: datetime) -> str:
        return self.site.base_url + expand_permalink(self.site.permalink, parsed.slug, published)

    def render(self, raw: bytes, reader: str, url: str, name: str) -> tuple[str, str] | None:
        from publisher.render.html import first_paragraph, plain_text, syndication_html
        from publisher.render.readers import read
        from publisher.render.titles import summary_text

        problems = FileProblems(lambda: "", [])
        text = decode(raw, problems)
        split = frontmatter.split(text, problems) if text is not None else None
        if split is None:
            return None
        metadata, body = split
        content_html = syndication_html(read(reader, body), url)
        _, raw_summary = first_of(metadata, "excerpt", "summary", "description")
        separator = metadata.get("excerpt_separator", self.site.excerpt_separator)
        if raw_summary is not None:
            summary = plain_line(plain_text(str(raw_summary)))
        elif isinstance(separator, str) and separator and separator in body:
            head = body.partition(separator)[0]
            summary = summary_text(syndication_html(read(reader, head), url))
        else:
            summary = first_paragraph(content_html)
        return content_html, summary


def first_of(metadata: Mapping[str, Any], *names: str) -> tuple[str, Any]:
    """(name, value) of the first of `names` the front matter sets."""
    for name in names:
        if metadata.get(name) is not None:
            return name, metadata[name]
    return names[0], None


def string_list(value: Any, field: str, problems: FileProblems) -> tuple[str, ...]:
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


class _Parse:
    """One file's front matter read into a ParsedPost, field by field."""

    def __init__(
        self,
        source: FolderSource,
        metadata: dict[str, Any],
        file: SourceFile,
        problems: FileProblems,
    ) -> None:
        self.site = source.site
        self.zone = source.zone
        self.metadata = metadata
        self.file = file
        self.problems = problems
        self.stem = os.path.splitext(file.name.rsplit("/", 1)[-1])[0]

    def post(self) -> ParsedPost | None:
        metadata = self.metadata
        title = self.title()
        entry_id = self.entry_id()
        published, date_source = self.published()
        updated = self.updated()
        categories = string_list(metadata.get("categories"), "categories", self.problems)
        if not categories and isinstance(metadata.get("category"), str):
            categories = (plain_line(metadata["category"]),)
        tags = string_list(metadata.get("tags"), "tags", self.problems)
        image_value = self.image()
        lang = self.lang()
        self.check_flags()
        if self.problems.count:
            return None
        post_slug = self.slug(title)
        url = self.url(post_slug, published)
        image = uri(image_value) if image_value else None
        if image is not None and url is not None:
            image = absolute(image, url, self.site.base_url)
        return ParsedPost(
            title=title,
            id=entry_id,
            date_source=date_source,
            published=published,
            updated=updated,
            categories=tuple(category(name, category_slug(name)) for name in categories),
            tags=tags,
            image=image,
            author=self.author(),
            lang=lang,
            slug=post_slug,
            url=url,
            hidden=self.hidden(),
            reader=READER_BY_SUFFIX[os.path.splitext(self.file.name)[1].lower()],
            id_given=self.metadata.get("id") is not None,
        )

    def title(self) -> str:
        raw_title = self.metadata.get("title")
        title = plain_title(str(raw_title)) if raw_title is not None else ""
        if not title:
            self.problems.add(
                "`title` is missing or empty", "add a line `title: …` to the front matter"
            )
        return title

    def entry_id(self) -> str:
        if self.metadata.get("id") is None:
            return tag_uri(self.site.id_authority, self.file.name)
        entry_id = str(self.metadata["id"]).strip()
        if not _URI_SCHEME.match(entry_id):
            self.problems.add(
                f"`id` {entry_id!r} is not a URI",
                "use a URI like 'tag:example.org,2024:my-post', or remove it for an automatic one",
            )
        return entry_id

    def published(self) -> tuple[datetime | None, DateSource]:
        if self.metadata.get("date") is not None:
            try:
                return parse_moment(self.metadata["date"], self.zone), DateSource.FRONT_MATTER
            except ValueError as e:
                self.problems.add(
                    f"`date`: {e}",
                    "write it like 2024-06-19, 2024-06-19T09:30:00+09:00 "
                    "or 2024-06-19 09:30:00 +0900",
                )
                return None, DateSource.FRONT_MATTER
        if match := _DATE_PREFIX.match(self.stem):
            try:
                year, month, day = (int(part) for part in match.groups()[:3])
                return datetime(year, month, day, tzinfo=self.zone), DateSource.FILENAME
            except ValueError:
                self.problems.add(
                    f"the filename date {self.stem[:10]!r} is not a real date",
                    "rename the file, or give the post a `date:`",
                )
                return None, DateSource.FRONT_MATTER
        return None, DateSource.FIRST_SEEN

    def updated(self) -> datetime | None:
        field_name, raw_updated = first_of(self.metadata, "updated", "last_modified_at")
        if raw_updated is None:
            return None
        try:
            return parse_moment(raw_updated, self.zone)
        except ValueError as e:
            self.problems.add(f"`{field_name}`: {e}", "write it like 2024-06-19T09:30:00+09:00")
            return None

    def image(self) -> str | None:
        value = self.metadata.get("image")
        if isinstance(value, dict):
            value = value.get("path") or value.get("url") or value.get("feature")
        if value is not None and not isinstance(value, str):
            self.problems.add(
                "`image` must be a URL or a path", "write `image: /assets/picture.jpg`"
            )
            return None
        return value

    def lang(self) -> str | None:
        lang = self.metadata.get("lang")
        if lang is not None and not _LANGUAGE_TAG.match(str(lang)):
            self.problems.add(
                f"`lang` {lang!r} is not a language tag",
                "write it like `lang: ko` or `lang: en-GB`",
            )
        return plain_line(str(lang)) if lang else None

    def check_flags(self) -> None:
        for flag in ("draft", "published"):
            if flag in self.metadata and not isinstance(self.metadata[flag], bool):
                self.problems.add(
                    f"`{flag}` must be true or false", f"write `{flag}: true` or `{flag}: false`"
                )

    def slug(self, title: str) -> str:
        written = self.metadata.get("slug")
        if isinstance(written, str) and written.strip():
            return slug(written)
        if title.isascii() and (from_title := slug(title, allow_unicode=False)):
            return from_title
        match = _DATE_PREFIX.match(self.stem)
        return slug(match.group(4) if match else self.stem) or "post"

    def url(self, post_slug: str, published: datetime | None) -> str | None:
        permalink = self.metadata.get("permalink")
        if isinstance(permalink, str) and urlsplit(permalink).scheme in ("http", "https"):
            return uri(permalink)
        if isinstance(permalink, str) and permalink.strip():
            return self.site.base_url + "/" + uri(permalink).lstrip("/")
        if published is not None:
            return self.site.base_url + expand_permalink(self.site.permalink, post_slug, published)
        return None

    def author(self) -> str:
        author = self.metadata.get("author")
        if isinstance(author, dict):
            author = author.get("name")
        return plain_line(str(author)) if author else self.site.author

    def hidden(self) -> str | None:
        if self.metadata.get("draft") is True:
            return "draft"
        if self.metadata.get("published") is False:
            return "published: false"
        return None
