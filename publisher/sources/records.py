"""`ParsedPost`: what a post's file and the settings decide, and its one-line cache record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from publisher.core.models import Category, DateSource


@lru_cache(maxsize=4096)
def category(name: str, slug: str) -> Category:
    return Category(name, slug)  # one shared (frozen) object per category


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
    reader: str
    """The name of the reader (see publisher/render/readers.py) that renders its body; one
    ending in `SITE_READER` also reads other posts (see publisher/sources/base.py)."""
    warnings: tuple[str, ...] = ()
    """What the post is published despite ("where:line: message"), shown at every build."""
    publish_from: datetime | None = None
    """When the post may first be published, where that is not `published` (Hugo's
    `publishDate`); None: from `published` on."""
    expires: datetime | None = None
    """When the post stops being published (Hugo's `expiryDate`); None: never."""
    id_given: bool = False
    """The front matter names the post's id: it wins over the id its file was published
    under before."""

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
                self.reader,
                list(self.warnings),
                _moment_text(self.publish_from),
                _moment_text(self.expires),
                self.id_given,
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
            (author, lang, slug, url, hidden, reader, warnings) = fields[8:15]
            publish_from, expires = fields[15:17]
            id_given = fields[17] if len(fields) > 17 else False  # a record from before it
            parsed = cls(
                title=title,
                id=entry_id,
                date_source=DateSource(source),
                published=_moment_from_text(published, zone),
                updated=_moment_from_text(updated, zone),
                categories=tuple(category(name, slug) for name, slug in categories),
                tags=tuple(tags),
                image=image,
                author=author,
                lang=lang,
                slug=slug,
                url=url,
                hidden=hidden,
                reader=reader,
                warnings=tuple(warnings),
                publish_from=_moment_from_text(publish_from, zone),
                expires=_moment_from_text(expires, zone),
                id_given=id_given is True,
            )
        except (ValueError, TypeError, AttributeError) as e:
            raise ValueError(f"not a post record: {e}") from e
        if not _well_shaped(parsed):
            raise ValueError("not a post record")
        return parsed


def _well_shaped(parsed: ParsedPost) -> bool:
    texts = (
        *(parsed.title, parsed.id, parsed.author, parsed.slug, parsed.reader),
        *parsed.tags,
        *parsed.warnings,
    )
    optional = (parsed.image, parsed.lang, parsed.url, parsed.hidden)
    return (
        all(isinstance(text, str) for text in texts)
        and all(text is None or isinstance(text, str) for text in optional)
        and all(isinstance(c.name, str) and isinstance(c.slug, str) for c in parsed.categories)
    )


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
