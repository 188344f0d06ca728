"""`publisher adopt FEED`: keep the ids subscribers' readers already hold.

Reads the feed a site published before switching to publisher (Atom, RSS or JSON
Feed; a file, or an http(s) URL fetched once), matches each entry to a post (by
link, then by title and date), and records per post the id and published date
that feed gave it. Builds then write those ids; posts the feed did not hold get
ids in the same scheme when the scheme is one we can continue (the post's URL, or
the source's own ids, as jekyll-feed's are for a Jekyll source). Adopted posts,
and every post older than the newest of them, count as already mailed, so the
first digest after switching holds only new posts. feedparser's only home.
"""

from __future__ import annotations

import calendar
import json
import urllib.request
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from publisher.core.config import Config
from publisher.core.errors import ContentError, PublisherError
from publisher.core.models import Post
from publisher.core.plural import counted
from publisher.core.same_post import comparable_link, comparable_title, same_date

MAX_FEED_BYTES = 32 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 30.0
ZERO_YEAR = 1
"""A date in year 1 is Go's zero time: Hugo's RSS gives it to a page without a date."""


@dataclass(frozen=True)
class FeedEntry:
    """One entry of the adopted feed, as a reader holds it."""

    id: str
    link: str
    title: str
    published: datetime | None


@dataclass
class Adoption:
    """What `adopt` found: matches (entry, the post by its source's own id), the rest."""

    feed: str
    matched: list[tuple[FeedEntry, Post]] = field(default_factory=list)
    unmatched: list[FeedEntry] = field(default_factory=list)
    scheme: str = "source"
    mailed: int = 0
    """Posts recorded as already mailed."""

    def summary(self) -> str:
        total = len(self.matched) + len(self.unmatched)
        ids = {"source": "the source's own", "link": "their links"}[self.scheme]
        return (
            f"adopted {len(self.matched)} of {counted(total, 'entry', 'entries')} of {self.feed}; "
            f"posts it did not hold get ids from {ids}; "
            f"{counted(self.mailed, 'post')} recorded as already mailed"
        )


# reading the feed -------------------------------------------------------------------


class _HttpOnly(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise ContentError(f"{req.full_url} redirects to {newurl}, which is not http(s)")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def feed_bytes(location: str, timeout: float = FETCH_TIMEOUT_SECONDS) -> bytes:
    """The feed at a path, or at an http(s) URL fetched once; at most MAX_FEED_BYTES."""
    scheme = urlsplit(location).scheme
    try:
        if scheme in ("http", "https"):
            opener = urllib.request.build_opener(_HttpOnly)
            request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
                location, headers={"User-Agent": "publisher"}
            )
            with opener.open(request, timeout=timeout) as response:
                data: bytes = response.read(MAX_FEED_BYTES + 1)
        elif scheme and len(scheme) > 1:
            raise ContentError(f"cannot read {location}", hint="give a file path or an http(s) URL")
        else:
            with open(Path(location), "rb") as handle:
                data = handle.read(MAX_FEED_BYTES + 1)
    except OSError as e:  # URLError and timeouts are OSErrors too
        raise ContentError(f"cannot read the feed {location}: {e}") from e
    if len(data) > MAX_FEED_BYTES:
        raise ContentError(f"the feed {location} is larger than {MAX_FEED_BYTES} bytes")
    return data


def read_feed(data: bytes, location: str) -> list[FeedEntry]:
    """Every entry of an Atom, RSS or JSON Feed document."""
    if data.lstrip()[:1] == b"{":
        return _json_feed(data, location)
    import feedparser

    parsed = feedparser.parse(data)
    if not parsed.entries and parsed.get("bozo"):
        raise ContentError(
            f"{location} is not a feed: {parsed.get('bozo_exception')}",
            hint="give the Atom, RSS or JSON Feed document subscribers read",
        )
    # feedparser's loose parser (for ill-formed XML, like jekyll-feed's `&` in an href)
    # leaves entities in ids and links: decode them, as a well-formed feed would have been
    loose = unescape if parsed.get("bozo") else str
    return [
        FeedEntry(
            id=loose(str(entry.get("id") or entry.get("link") or "")),
            link=loose(str(entry.get("link") or "")),
            title=str(entry.get("title") or ""),
            published=_published(entry),
        )
        for entry in parsed.entries
    ]


def _published(entry: Any) -> datetime | None:
    with warnings.catch_warnings():  # feedparser warns when `updated` stands in for it
        warnings.simplefilter("ignore", DeprecationWarning)
        parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed or parsed.tm_year <= ZERO_YEAR:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC)


def _json_feed(data: bytes, location: str) -> list[FeedEntry]:
    try:
        document = json.loads(data)
        items = document["items"]
        assert isinstance(items, list)
    except (ValueError, KeyError, TypeError, AssertionError) as e:
        raise ContentError(f"{location} is not a JSON Feed: {e}") from e
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        published = None
        text = item.get("date_published") or item.get("date_modified")
        if isinstance(text, str):
            try:
                published = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
            except (ValueError, OverflowError):
                published = None
            if published is not None and published.year <= ZERO_YEAR:
                published = None
        entries.append(
            FeedEntry(
                id=str(item.get("id") or item.get("url") or ""),
                link=str(item.get("url") or ""),
                title=str(item.get("title") or ""),
                published=published,
            )
        )
    return entries


# matching -------------------------------------------------------------------------


def match_entries(entries: Sequence[FeedEntry], posts: Sequence[Post], feed: str) -> Adoption:
    """Each entry's post: the one at its link, else the one with its title and date."""
    by_link = {comparable_link(post.url): post for post in posts}
    by_title: dict[str, list[Post]] = {}
    for each in posts:
        by_title.setdefault(comparable_title(each.title), []).append(each)
    adoption = Adoption(feed)
    taken: set[str] = set()
    for entry in entries:
        post: Post | None = by_link.get(comparable_link(entry.link)) if entry.link else None
        if post is None or post.id in taken:
            post = _by_title_and_date(entry, by_title, taken)
        if post is None or not entry.id:
            adoption.unmatched.append(entry)
            continue
        taken.add(post.id)
        adoption.matched.append((entry, post))
    adoption.scheme = _scheme(adoption.matched)
    return adoption


def _by_title_and_date(
    entry: FeedEntry, by_title: dict[str, list[Post]], taken: set[str]
) -> Post | None:
    if entry.published is None:
        return None
    for post in by_title.get(comparable_title(entry.title), []):
        if post.id not in taken and same_date(post.published, entry.published):
            return post
    return None


def _scheme(matched: Sequence[tuple[FeedEntry, Post]]) -> str:
    """The feed's id scheme: "link" when its ids are its entries' links (as Hugo's RSS
    guids are), else "source": our own ids continue (jekyll-feed's, for a Jekyll source)."""
    if matched and all(entry.id == entry.link for entry, _ in matched):
        return "link"
    return "source"


# recording ------------------------------------------------------------------------


def adopt(
    config: Config, location: str, now: datetime, *, timeout: float = FETCH_TIMEOUT_SECONDS
) -> Adoption:
    """Read the feed, match it to the site's posts, and record the ids and dates, holding
    the state folder's lock as a build does."""
    from publisher.state.locking import exclusive

    entries = read_feed(feed_bytes(location, timeout), location)
    with exclusive(config):
        return _adopt(config, location, entries, now)


def _adopt(config: Config, location: str, entries: list[FeedEntry], now: datetime) -> Adoption:
    from dataclasses import replace

    from publisher.build.lasting import post_ids, remembered
    from publisher.build.pipeline import load_posts
    from publisher.sources import open_source
    from publisher.state.adopted import AdoptedPost
    from publisher.state.store import open_store

    site = load_posts(config, now, content_for=lambda _posts: (), own_ids=True)
    adoption = match_entries(entries, site.posts, location)
    if not adoption.matched:
        raise PublisherError(
            f"no entry of {location} matches a post of the site "
            f"({counted(len(entries), 'entry', 'entries')})",
            hint="adopt the feed this site published before; check [site] base_url",
        )
    scheme = adoption.scheme if config.source.ids == "auto" else config.source.ids
    adopted = [AdoptedPost(p.id, e.id, e.published, e.link) for e, p in adoption.matched]
    source = open_source(config)
    known = post_ids(config, source, source.scan(), remembered(config))
    ids = replace(
        known,
        adopted={**known.adopted, **{a.source_id: a.entry_id for a in adopted}},
        scheme=scheme,
    )
    newest = max(p.published for _, p in adoption.matched)
    mailed = [ids.of(p.id, p.url, p.source_name) for p in site.posts if p.published <= newest]
    with open_store(config.state_db) as store:
        store.record_adoption(location, now, adoption.scheme, adopted, len(adoption.unmatched))
        adoption.mailed = store.mark_posts_mailed(mailed, now)
    return adoption
