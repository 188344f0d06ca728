"""What every source kind provides, and what loading a site gives back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from itertools import count
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from publisher.core.models import Post
from publisher.sources.files import FileProblems, SourceFile
from publisher.sources.records import ParsedPost

SITE_READER = "+site"
"""Ends the reader name of a post whose rendering reads other posts (Jekyll's `post_url`
and `site.posts`): its cached rendering is also keyed by `link_posts`'s answer."""


class Source(Protocol):
    """Where posts come from: one kind of site (registered in publisher/sources/__init__.py).

    Parsing must decide everything about a post from its bytes and the source's
    settings (so it can be cached by the file's hash and `fingerprint`);
    rendering must depend only on the bytes, the reader, the post's URL and source
    name, and (for a reader ending in SITE_READER) the other posts.

    Optional: `link_posts(posts) -> str`, called with every published post (newest
    first, without content) before any is rendered, returns a key for what rendering
    can see of them; `publishes_future` (bool), true when posts dated after `now` are
    published anyway (Jekyll's `future: true`); `reads_mtime` (bool), true when parsing
    reads a file's modification time (Hugo's `:fileModTime`), so a file whose mtime
    changed is parsed again even when its bytes did not; `site_warnings() -> tuple[str,
    ...]`, what the site as a whole is published despite (files skipped, settings not
    followed), reported with the posts' warnings; `reference_warnings(files) ->
    list[tuple[SourceFile, int, str]]`, called at every build that loads posts with the
    published posts whose reader ends in SITE_READER: (file, line, message) for each link
    to another post or page that leads nowhere now (checked even when the post is cached).
    """

    root: Path
    """The folder posts are found under."""

    def scan(self) -> list[SourceFile]:
        """Every file that may be a post, ordered by name."""
        ...

    def fingerprint(self) -> dict[str, Any]:
        """Everything besides a post's own file that parsing and rendering depend on."""
        ...

    def parse(self, raw: bytes, source: SourceFile, problems: FileProblems) -> ParsedPost | None:
        """Every check on one file; None (with its problems added) when it has problems."""
        ...

    def permalink(self, parsed: ParsedPost, published: datetime) -> str:
        """The URL of a post whose URL waited for its first-seen date."""
        ...

    def render(self, raw: bytes, reader: str, url: str, name: str) -> tuple[str, str] | None:
        """(content_html, summary) of the file `name` that parses; None when it does not."""
        ...


class LastingId(NamedTuple):
    """What a file was published as by an earlier build (see publisher/build/lasting.py)."""

    entry_id: str
    """The id it was published under: it keeps it when its URL, its title or the
    permalink settings change."""
    visible_since: datetime
    """When a build first published it."""
    digest: bytes = b""
    """The hash of its bytes then."""
    renamed_from: str | None = None
    """The file's name then, when it had another."""
    seen_as: tuple[str | None, str | None, datetime | None] = (None, None, None)
    """Its link, title and published date then, as readers saw them (None: not kept)."""


@dataclass(frozen=True)
class PostIds:
    """Which entry id and which dates each post gets.

    A post's id is, in order: the one an adopted feed gave it (see
    publisher/adoption.py); the one its front matter gives (`id_given`); the one its file
    was published under before (`lasting`, so a post whose URL changes is not new to
    readers or mailed again); else the source's own, or with `scheme` "link", its URL.
    """

    adopted: Mapping[str, str] = field(default_factory=dict)
    """The source's id of a post → the id the adopted feed gave it."""
    scheme: str = "source"
    adopted_published: Mapping[str, datetime] = field(default_factory=dict)
    """The source's id of a post → the published date the adopted feed gave it, which
    readers hold: it wins over the post's own."""
    lasting: Mapping[str, LastingId] = field(default_factory=dict)
    """By source name (a renamed file under its new name): what it was published as."""
    first_seen_files: Mapping[str, datetime] = field(default_factory=dict)
    """First-seen dates by source name (a renamed file under its new name), for a post
    without a date whose id changed."""
    built_before: bool = False
    """Whether an earlier build (keeping post files) ran: a post it did not publish is new
    since then. A site's first build finds every post where its date puts it."""
    warnings: tuple[str, ...] = ()
    """New files that could each be a renamed one, published as new posts (named)."""

    def of(self, source_id: str, url: str, name: str = "", *, given: bool = False) -> str:
        adopted = self.adopted.get(source_id)
        if adopted is not None:
            return adopted
        if given:
            return source_id
        if (lasting := self.lasting.get(name)) is not None:
            return lasting.entry_id
        natural = url if self.scheme == "link" else source_id
        if natural not in self._claimed:
            return natural
        # Another file still holds this id, readers know it as that post's: this is a new
        # post at that post's old URL.
        return next(f"{natural}#{n}" for n in count(2) if f"{natural}#{n}" not in self._claimed)

    @cached_property
    def _claimed(self) -> frozenset[str]:
        return frozenset(lasting.entry_id for lasting in self.lasting.values())

    def visible_since(self, name: str, start: datetime, now: datetime) -> datetime:
        """When the post in file `name`, published from `start`, was first published by a
        build: by an earlier one, by this one (`now`), or, for a site no build published
        before, at `start`."""
        if (lasting := self.lasting.get(name)) is not None:
            return max(lasting.visible_since, start)
        return max(start, now) if self.built_before else start


@dataclass(frozen=True, slots=True)
class CachedSource:
    """What a SourceCache remembers of one file: its stat, its hash and its `ParsedPost`."""

    size: int
    mtime_ns: int
    digest: bytes
    record: str
    """`ParsedPost.to_record()`."""


class SourceCache(Protocol):
    """Parsed posts and rendered content from earlier builds (see publisher/build/cache.py)."""

    def sources(self) -> Mapping[str, CachedSource]: ...

    def rendered(self, digest: bytes, reader: str, url: str) -> tuple[str, str] | None: ...


@dataclass
class CacheStats:
    """How each post was had: by stat, by hash, or by parsing; its content cached or rendered."""

    stat_hits: int = 0
    hash_hits: int = 0
    parsed: int = 0
    render_hits: int = 0
    rendered: int = 0
    helpers: int = 0
    """Processes forked to share the reading and parsing."""


@dataclass
class CacheUpdate:
    """What a SourceCache should remember after this load, for the caller to save."""

    sources: dict[str, CachedSource] = field(default_factory=dict)
    """New or changed entries by source name."""
    removed: list[str] = field(default_factory=list)
    """Source names to forget: deleted, renamed, or now failing."""
    rendered: list[tuple[bytes, str, str, str, str]] = field(default_factory=list)
    """(digest, reader, url, content_html, summary)."""
    digests: dict[str, bytes] = field(default_factory=dict)
    """The hash of every post file that was loaded, by source name."""
    stats: CacheStats = field(default_factory=CacheStats)
    sources_saved: bool = False
    """`sources` and `removed` are saved already; only `rendered` is left."""


@dataclass(frozen=True)
class LoadedSite:
    """What a source read in one build: the posts to publish, and what it left out and why."""

    posts: tuple[Post, ...]
    """Published posts, newest first."""
    hidden: tuple[tuple[str, str], ...]
    """(source name, reason) for drafts, unpublished and future posts."""
    first_seen_now: tuple[Post, ...]
    """Posts dated by `now` because this is the first time they were seen."""
    next_publication: datetime | None = None
    """The earliest date at which a post dated after `now` is published or a published post
    expires: the site may change then."""
    with_content: frozenset[str] | None = None
    """Ids of the posts whose content_html and summary were rendered; None means all.
    The others have both empty."""
    warnings: tuple[str, ...] = ()
    """What posts are published despite (Liquid left out), "where:line: message"."""
    seen_as: Mapping[str, str] = field(default_factory=dict)
    """Post id → the source's own id, where they differ: first-seen dates are kept by it."""
    cache_update: CacheUpdate = field(default_factory=CacheUpdate, compare=False)

    def has_content(self, post: Post) -> bool:
        return self.with_content is None or post.id in self.with_content

    def seen_key(self, post: Post) -> str:
        """What the post's first-seen date is kept under."""
        return self.seen_as.get(post.id, post.id)
