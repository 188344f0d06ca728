"""`publisher build`: posts → feeds and index.html, written only where bytes changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from publisher.config import Config
from publisher.content import LoadedSite, load_site
from publisher.feeds import feed_specs, render_feeds
from publisher.locking import exclusive
from publisher.output import WriteReport, write_tree
from publisher.pages import index_page
from publisher.store import BuildRecord, open_store, read_only_store


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


def load_posts(config: Config, now: datetime) -> LoadedSite:
    """Every post, dated with first-seen dates from the store; writes nothing."""
    store = read_only_store(config.state_db)
    try:
        first_seen = store.first_seen_dates() if store else {}
    finally:
        if store:
            store.close()
    return load_site(config, first_seen, now)


def render_site(config: Config, site: LoadedSite) -> dict[str, bytes]:
    specs = feed_specs(config, site.posts)
    files = render_feeds(config, specs)
    files["index.html"] = index_page(config, site.posts, specs)
    return files


def build(config: Config, now: datetime) -> BuildReport:
    with exclusive(config):
        return _build(config, now)


def _build(config: Config, now: datetime) -> BuildReport:
    # Gather and render everything first: a bad post must not half-write anything.
    site = load_posts(config, now)
    files = render_site(config, site)
    warnings = new_first_seen_warnings(site)

    store = open_store(config.state_db)
    try:
        store.record_first_seen((p.id, p.source_name, p.published) for p in site.first_seen_now)
        written = write_tree(config.paths.output, files)
        store.record_build(
            BuildRecord(
                now, len(site.posts), len(written.written), len(written.unchanged), len(warnings)
            )
        )
    finally:
        store.close()
    return BuildReport(site, written, warnings)
