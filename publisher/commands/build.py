"""`publisher build`: posts → feeds and index.html, written only where bytes changed.

Posts come through the build cache (publisher/cache.py), and only the ones a
feed or index.html shows get their content rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from publisher.cache import BuildCache, open_cache
from publisher.config import Config
from publisher.content import LoadedSite, load_site
from publisher.feeds import feed_specs, render_feeds
from publisher.locking import exclusive
from publisher.models import Post
from publisher.output import WriteReport, write_tree
from publisher.pages import LATEST_POSTS, index_page
from publisher.store import BuildRecord, open_store, read_only_store

ContentFor = Callable[[Sequence[Post]], Iterable[Post]]


@dataclass(frozen=True)
class BuildReport:
    site: LoadedSite
    files: WriteReport
    warnings: tuple[str, ...]

    def summary(self) -> str:
        warnings = len(self.warnings)
        return (
            f"built {len(self.site.posts)} posts: {len(self.files.written)} files written, "
            f"{len(self.files.unchanged)} unchanged, "
            f"{warnings} warning{'s' if warnings != 1 else ''}"
        )


def fallback_date_warnings(site: LoadedSite) -> tuple[str, ...]:
    return tuple(
        f"{post.source_name}: no date; using the {post.date_source} date "
        f"{post.published.isoformat()}"
        for post in site.posts
        if post.date_source != "front matter"
    )


def new_first_seen_warnings(site: LoadedSite) -> tuple[str, ...]:
    """Only the posts dated by this build: later builds keep the date and stay quiet."""
    return tuple(
        f"{post.source_name}: no date; recording {post.published.isoformat()} "
        "(when publisher first saw it) as its date from now on"
        for post in site.first_seen_now
    )


def shown_posts(config: Config) -> ContentFor:
    """Picks the posts the feeds and index.html show, which are the ones needing content."""

    def pick(posts: Sequence[Post]) -> list[Post]:
        chosen = {post.id: post for spec in feed_specs(config, posts) for post in spec.posts}
        for post in posts[:LATEST_POSTS]:
            chosen.setdefault(post.id, post)
        return list(chosen.values())

    return pick


def _load(
    config: Config, now: datetime, cache: BuildCache, content_for: ContentFor | None
) -> LoadedSite:
    store = read_only_store(config.state_db)
    try:
        first_seen = store.first_seen_dates() if store else {}
    finally:
        if store:
            store.close()
    return load_site(config, first_seen, now, cache=cache, content_for=content_for)


def load_posts(config: Config, now: datetime, content_for: ContentFor | None = None) -> LoadedSite:
    """Every post, dated with first-seen dates from the store; writes nothing.

    Only the posts `content_for` picks get content_html and summary (default: all).
    """
    cache = open_cache(config, writable=False)
    try:
        return _load(config, now, cache, content_for)
    finally:
        cache.close()


def render_site(config: Config, site: LoadedSite) -> dict[str, bytes]:
    specs = feed_specs(config, site.posts)
    shown = [post for spec in specs for post in spec.posts] + list(site.posts[:LATEST_POSTS])
    if missing := sorted({p.source_name for p in shown if not site.has_content(p)}):
        raise RuntimeError(f"posts shown without their content: {', '.join(missing[:5])}")
    files = render_feeds(config, specs)
    files["index.html"] = index_page(config, site.posts, specs)
    return files


def build(config: Config, now: datetime) -> BuildReport:
    with exclusive(config):
        return _build(config, now)


def _build(config: Config, now: datetime) -> BuildReport:
    cache = open_cache(config, writable=True)
    try:
        # Gather and render everything first: a bad post must not half-write anything.
        site = _load(config, now, cache, shown_posts(config))
        files = render_site(config, site)
        warnings = new_first_seen_warnings(site)
        if cache.problem:
            warnings += (cache.problem,)

        store = open_store(config.state_db)
        try:
            store.record_first_seen((p.id, p.source_name, p.published) for p in site.first_seen_now)
            written = write_tree(config.paths.output, files)
            if problem := cache.save(site.cache_update):
                warnings += (problem,)
            store.record_build(
                BuildRecord(
                    now,
                    len(site.posts),
                    len(written.written),
                    len(written.unchanged),
                    len(warnings),
                )
            )
        finally:
            store.close()
    finally:
        cache.close()
    return BuildReport(site, written, warnings)
