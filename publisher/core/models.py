"""Plain data passed between the stages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

SUBSCRIBER_STATUSES = ("pending", "active", "unsubscribed", "bounced")
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "ambiguous")
CADENCES = ("weekly", "daily", "each")
"""How often a reader is mailed: a weekly or daily digest, or a mail for each new post."""


class DateSource(StrEnum):
    FRONT_MATTER = "front matter"
    FILENAME = "filename"
    FILE_TIME = "file modification time"
    FIRST_SEEN = "first seen"


@dataclass(frozen=True)
class Category:
    """A category as written (`name`) and as it appears in URLs and feed paths (`slug`)."""

    name: str
    slug: str


@dataclass(frozen=True)
class Post:
    """One published post, as every output (feeds, index page, digest) sees it."""

    source: Path
    """Absolute path of the file the post came from."""
    source_name: str
    """Path under the content folder, with forward slashes."""
    id: str
    title: str
    url: str
    slug: str
    published: datetime
    updated: datetime
    date_source: DateSource
    categories: tuple[Category, ...]
    tags: tuple[str, ...]
    author: str
    summary: str
    """Plain text."""
    content_html: str
    """Syndication-safe HTML: sanitised, well-formed, absolute URLs."""
    image: str | None
    lang: str | None
    visible_since: datetime | None = None
    """When a build first published the post (a draft published weeks after its date, a
    Hugo `publishDate` after its `date`), where known; never before `published`."""

    @property
    def arrived(self) -> datetime:
        """When the post became news to readers: `visible_since`, else `published`."""
        return self.visible_since or self.published


def category_names(posts: Iterable[Post]) -> dict[str, str]:
    """slug → name of every category the posts have; of two names for one slug, the first
    in sort order, as the category feeds name it."""
    names: dict[str, str] = {}
    for post in posts:
        for category in post.categories:
            names[category.slug] = min(names.get(category.slug, category.name), category.name)
    return names
