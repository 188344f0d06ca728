"""The Liquid side of a Jekyll source: one environment per site, its `site` and `page`.

Everything python-liquid is asked goes through publisher/sources/jekyll/liquid.py; this module
wires a JekyllSource's posts, pages and includes into it, then hands the output to
kramdown for Markdown posts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from liquid.exceptions import LiquidError

from publisher.render.kramdown import render_kramdown
from publisher.render.readers import read
from publisher.render.titles import summary_text
from publisher.sources.jekyll.discovery import PostFile
from publisher.sources.jekyll.liquid import JekyllSite, jekyll_environment, render_liquid
from publisher.sources.jekyll.liquid_filters import FilterSite
from publisher.sources.jekyll.parsing import PostText
from publisher.sources.jekyll.rendering import (
    page_payload,
    post_url_names,
    unclosed_block,
    unrenderable_stripped,
)

if TYPE_CHECKING:
    from publisher.sources.jekyll.source import JekyllSource

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class JekyllRenderer:
    """Liquid with the site's objects, then the post's reader."""

    def __init__(self, source: JekyllSource) -> None:
        self.source = source
        rules = source.rules
        self.site_url = rules.url + rules.baseurl
        self.url_by_name: dict[str, str] = {}
        self.env = jekyll_environment(
            JekyllSite(
                config={**source.site.raw, "data": source.data()},
                url=rules.url,
                baseurl=rules.baseurl,
                filters=FilterSite(rules.url, rules.baseurl, rules.zone, render_kramdown),
                includes_dir=source.root / "_includes",
                post_url=self._post_url,
                link=self._link,
            )
        )

    def know_posts(self, posts: list[dict[str, Any]]) -> None:
        """`site.posts`, and the URLs `post_url` and `link` find posts at."""
        self.url_by_name = {post["path"]: post["url"] for post in posts}
        self.env.site = dataclasses.replace(self.env.site, posts=list[Mapping[str, Any]](posts))

    def _post_url(self, name: str) -> str | None:
        source_name = post_url_names(list(self.url_by_name)).get(name.strip())
        return None if source_name is None else self.url_by_name.get(source_name)

    def _link(self, path: str) -> str | None:
        return self.url_by_name.get(path) or self.source.site_files().get(path)

    def filter_names(self) -> list[str]:
        return [*self.env.filters]

    def tag_warnings(self, body: str, body_line: int) -> list[tuple[int, str]]:
        """Tags python-liquid cannot parse, by line in the file."""
        self.env.collected = []
        try:
            self.env.from_string(body, name="post")
        except LiquidError as error:
            return [(body_line, f"Liquid cannot be read: {error}; it is left out")]
        return [
            _where(w.line, w.message, body, body_line)
            for w in self.env.collected
            if w.template in ("", "post")
        ]

    def page(self, split: PostText, post: PostFile, url: str) -> dict[str, Any]:
        from publisher.sources.jekyll import fields
        from publisher.sources.jekyll.dates import post_date

        path = url[len(self.site_url) :] if url.startswith(self.site_url) else url
        data = split.data
        date = None
        with contextlib.suppress(ValueError):  # parsing reported it
            zone = self.source.rules.zone
            date = post_date(data.get("date"), post.name_date, zone, fallback=_EPOCH)
        return page_payload(
            data,
            self.source.site,
            url=path,
            date=date,
            title=fields.title(data, post.slug),
            categories=fields.categories(post.folder_categories, data),
            tags=fields.tags(data),
            path=post.relative_path,
            relative_path=post.relative_path,
            slug=str(data.get("slug") or post.slug),
            name=post.path.name,
            ext=post.ext,
            draft=post.draft,
        )

    def liquid(self, text: str, page: Mapping[str, Any], name: str, body_line: int) -> str:
        try:
            output, _ = render_liquid(
                self.env, text, page=page, name=name, line_offset=body_line - 1
            )
        except LiquidError:  # a resource limit: nothing of the Liquid is rendered
            return unrenderable_stripped(text)
        return output

    def body_html(
        self, body: str, reader: str, page: Mapping[str, Any], name: str, line: int
    ) -> str:
        return read(reader, self.liquid(body, page, name, line))

    def summary(
        self, excerpt: tuple[str, bool], reader: str, page: Mapping[str, Any], name: str, line: int
    ) -> str:
        """jekyll-feed's summary: the excerpt rendered (unless written), as text."""
        text, rendered = excerpt
        if rendered:
            text = read(reader, self.liquid(text, page, name, line))
        return summary_text(text)


def _where(line: int, message: str, body: str, body_line: int) -> tuple[int, str]:
    """A parse warning by line in the file. python-liquid finds a block left open at the
    end of the body, and an open `raw` as an unknown tag; Jekyll names the opening line."""
    left_open = _LEFT_OPEN.match(message)
    tag = (left_open.group(1) or left_open.group(2)) if left_open else ""
    opened = unclosed_block(body, tag) if tag else None
    if opened is not None:
        return opened + body_line - 1, f"{tag!r} is never closed; left out"
    return max(line, 1) + body_line - 1, f"{message}; left out"


_LEFT_OPEN = re.compile(r"expected tag end(\w+), found end of|unexpected tag '(raw)'")
