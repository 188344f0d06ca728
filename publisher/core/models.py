"""Plain data passed between the stages."""

from __future__ import annotations

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
    name: str
    slug: str


@dataclass(frozen=True)
class Post:
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
