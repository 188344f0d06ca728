"""`publisher build`: posts → feeds and index.html, written only where bytes changed.

Posts come through the build cache (publisher/build/cache.py): only new and changed
files are parsed, only the posts a feed or index.html shows are rendered, and
when no input changed since the last build and its files are still in place,
nothing is read at all.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, partial
from typing import TYPE_CHECKING

from publisher.build.cache import BuildCache, BuildInputs, LastBuild, open_cache
from publisher.build.lasting import post_ids, remembered
from publisher.core.config import Config
from publisher.core.models import DateSource, category_names
from publisher.core.parallel import collections_paused, helper_count, shared_map
from publisher.core.plural import counted
from publisher.outputs import FEED_FORMATS
from publisher.outputs.files import (
    MANIFEST_NAME,
    Publication,
    WriteReport,
    output_folders,
    publish,
    read_manifest,
    remove_leftovers,
    write_manifest,
)
from publisher.sources import open_source
from publisher.sources.base import CacheUpdate, LoadedSite, PostIds, Source
from publisher.sources.files import SourceFile
from publisher.state.locking import exclusive
from publisher.state.post_files import PostFile
from publisher.state.store import BuildRecord, open_store

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from publisher.core.models import Post
    from publisher.outputs.feeds import FeedSpec
    from publisher.sources.loading import ContentFor

# What only a build that reads posts needs is imported where it is used, so that a
# build with nothing to do imports no parser, renderer or feed writer.

FEED_ENTRIES_WORTH_A_HELPER = 600
"""From how many feed entries in all the feeds a forked process shares their rendering."""


@dataclass(frozen=True)
class BuildReport:
    """What a build did: the files it wrote or left, its warnings and how many posts."""

    files: WriteReport
    warnings: tuple[str, ...]
    posts: int
    """How many posts were published."""
    nothing_changed: bool = False
    """No input changed since the last build and its files are in place: no post was read."""
    loaded: LoadedSite | None = field(default=None, repr=False)
    reload: Callable[[], LoadedSite] | None = field(default=None, repr=False, compare=False)
    """How to read the posts when the build had no need to (nothing changed)."""

    @cached_property
    def site(self) -> LoadedSite:
        """The posts built; read now if the build found nothing changed and skipped them."""
        if self.loaded is not None:
            return self.loaded
        if self.reload is None:
            raise ValueError("a BuildReport needs the site or a way to load it")
        return self.reload()

    def summary(self) -> str:
        removed = f"{len(self.files.removed)} removed, " if self.files.removed else ""
        return (
            f"built {counted(self.posts, 'post')}: "
            f"{counted(len(self.files.written), 'file')} written, "
            f"{len(self.files.unchanged)} unchanged, {removed}"
            f"{counted(len(self.warnings), 'warning')}"
        )


def fallback_date_warnings(site: LoadedSite, *, filename_dates: bool = True) -> tuple[str, ...]:
    """Posts dated by something other than their front matter. `filename_dates`: whether
    a date from the file name counts (for a Jekyll or Hugo site it is the site's own rule)."""
    fallbacks = {"first seen", "filename"} if filename_dates else {"first seen"}
    return tuple(
        f"{post.source_name}: no date; using the {post.date_source} date "
        f"{post.published.isoformat()}"
        for post in site.posts
        if post.date_source in fallbacks
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
    from publisher.outputs.feeds import feed_specs
    from publisher.outputs.index_page import LATEST_POSTS

    def pick(posts: Sequence[Post]) -> list[Post]:
        chosen = {post.id: post for spec in feed_specs(config, posts) for post in spec.posts}
        for post in posts[:LATEST_POSTS]:
            chosen.setdefault(post.id, post)
        return list(chosen.values())

    return pick


def load_posts(
    config: Config,
    now: datetime,
    content_for: ContentFor | None = None,
    *,
    own_ids: bool = False,
) -> LoadedSite:
    """Every post, dated with first-seen dates from the store; writes nothing.

    Only the posts `content_for` picks get content_html and summary (default: all).
    With `own_ids`, posts have the source's own ids, not adopted ones.
    """
    from publisher.sources.loading import load_site

    source = open_source(config)
    cache = open_cache(config, source, writable=False)
    try:
        sources = source.scan()
        known = remembered(config)
        ids = post_ids(config, source, sources, known)
        return load_site(
            config,
            source,
            known.first_seen,
            now,
            cache=cache,
            content_for=content_for,
            sources=sources,
            ids=PostIds() if own_ids else ids,
        )
    finally:
        cache.close()


def render_site(config: Config, site: LoadedSite, *, has_issues: bool = False) -> dict[str, bytes]:
    """Every file of the site; index.html links the newsletter archive if `has_issues`."""
    from publisher.outputs.archive import index_url
    from publisher.outputs.feeds import feed_specs
    from publisher.outputs.index_page import LATEST_POSTS, index_page

    specs = feed_specs(config, site.posts)
    shown = [post for spec in specs for post in spec.posts] + list(site.posts[:LATEST_POSTS])
    if missing := sorted({p.source_name for p in shown if not site.has_content(p)}):
        raise RuntimeError(f"posts shown without their content: {', '.join(missing[:5])}")
    entries = sum(len(spec.posts) for spec in specs) * len(config.feeds.formats)
    jobs = [(spec, fmt) for spec in specs for fmt in config.feeds.formats]
    rendered = shared_map(
        jobs,
        partial(_render_feed, config),
        helpers=helper_count(entries, worth_it=FEED_ENTRIES_WORTH_A_HELPER),
    )
    files = {spec.filename(fmt): data for (spec, fmt), data in zip(jobs, rendered, strict=True)}
    archive = index_url(config) if has_issues else ""
    files["index.html"] = index_page(config, site.posts, specs, archive_url=archive)
    return files


def _render_feed(config: Config, job: tuple[FeedSpec, str]) -> bytes:
    spec, fmt = job
    return FEED_FORMATS[fmt].render(config, spec)


def build(config: Config, now: datetime) -> BuildReport:
    source = open_source(config)
    with exclusive(config), collections_paused():
        cache = open_cache(config, source, writable=True)
        try:
            report = _build(config, source, now, cache)
        finally:
            cache.close()
        archive = _republish_archive(config, report)
    if archive is not None and archive.warnings:
        return dataclasses.replace(report, warnings=report.warnings + archive.warnings)
    return report


def _republish_archive(config: Config, report: BuildReport) -> Publication | None:
    """The newsletter's past issues, as frozen, written again where a build wrote files or
    the archive's files went missing (a build with nothing to do renders nothing)."""
    from publisher.newsletter.archive import archive_in_place, publish_archive

    if report.nothing_changed and archive_in_place(config):
        return None
    return publish_archive(config)


def _first_seen_rows(
    site: LoadedSite, first_seen: Mapping[str, datetime]
) -> list[tuple[str, str, datetime]]:
    """(id, source name, date) of the posts dated when first seen, where their id does not
    hold it yet: seen for the first time now, or known by their file under another id."""
    return [
        (site.seen_key(post), post.source_name, post.published)
        for post in site.posts
        if post.date_source == DateSource.FIRST_SEEN and site.seen_key(post) not in first_seen
    ]


def _post_files(site: LoadedSite, sources: Sequence[SourceFile], ids: PostIds) -> list[PostFile]:
    """What each published post was published as (its id, bytes, and what readers see),
    where the state does not hold it yet."""
    sizes = {source.name: source.size for source in sources}
    digests = site.cache_update.digests
    known = {
        name: (lasting.entry_id, lasting.digest, lasting.seen_as)
        for name, lasting in ids.lasting.items()
        if lasting.renamed_from is None
    }
    files = [
        PostFile(
            post.source_name,
            post.id,
            digests[post.source_name],
            sizes[post.source_name],
            post.arrived,
            post.url,
            post.title,
            post.published,
        )
        for post in site.posts
    ]
    return [
        file
        for file in files
        if known.get(file.source_name) != (file.entry_id, file.digest, file.seen_as())
    ]


def _record(config: Config, now: datetime, report: BuildReport) -> None:
    with open_store(config.state_db) as store:
        store.record_build(
            BuildRecord(
                now,
                report.posts,
                len(report.files.written),
                len(report.files.unchanged),
                len(report.warnings),
            )
        )


def _remove_leftovers(config: Config) -> None:
    """Temp files an earlier build left when it was killed mid-write (ours, and old)."""
    manifest = config.paths.state / MANIFEST_NAME
    written = read_manifest(manifest) or {}
    folders = output_folders(config.paths.output, written) | {config.paths.state}
    for path in remove_leftovers(folders):
        log.info("removed %s, left by a build that was stopped while writing it", path)


def _nothing_changed(
    config: Config, now: datetime, cache: BuildCache, last: LastBuild, sources: list[SourceFile]
) -> BuildReport:
    """The report of a build whose inputs are those of the last one: nothing is written."""
    report = BuildReport(
        WriteReport((), tuple(sorted(last.outputs))),
        (),
        last.posts,
        nothing_changed=True,
        reload=lambda: load_posts(config, now, shown_posts(config)),
    )
    write_manifest(config.paths.state / MANIFEST_NAME, last.outputs)
    if last.recheck and (settled := last.without_settled(sources)) != last:
        cache.save(CacheUpdate(), settled)
    _record(config, now, report)
    return report


def _build(config: Config, source: Source, now: datetime, cache: BuildCache) -> BuildReport:
    _remove_leftovers(config)
    sources = source.scan()
    known = remembered(config)
    inputs = BuildInputs(config, source)
    key = inputs.key(sources, known.key())
    last = cache.last_build()
    if last is not None and last.holds(key, now, config, source.root):
        return _nothing_changed(config, now, cache, last, sources)

    from publisher.sources.loading import load_site

    # Gather and render everything first: a bad post must not half-write anything.
    ids = post_ids(config, source, sources, known)
    site = load_site(
        config,
        source,
        known.first_seen,
        now,
        cache=cache,
        content_for=shown_posts(config),
        sources=sources,
        meanwhile=cache.save_sources,
        ids=ids,
    )
    files = render_site(config, site, has_issues=known.has_issues)
    warnings = ids.warnings + site.warnings + new_first_seen_warnings(site)
    if cache.problem:
        warnings += (cache.problem,)

    with open_store(config.state_db) as store:
        store.record_first_seen(_first_seen_rows(site, known.first_seen))
        store.record_post_files(_post_files(site, sources, ids))
        store.record_gone_post_files({source.name for source in sources})
        store.replace_site_categories(category_names(site.posts))  # for readers to choose from
    known_after = remembered(config)
    published = publish(
        config.paths.output,
        files,
        config.paths.state / MANIFEST_NAME,
        fallback=last.outputs if last is not None else None,
    )
    warnings += published.warnings
    last = None
    if inputs.templates_unchanged() and published.complete:
        last = LastBuild.of(inputs.key(sources, known_after.key()), site, sources, files)
    if problem := cache.save(site.cache_update, last):
        warnings += (problem,)
    report = BuildReport(published.files, warnings, len(site.posts), loaded=site)
    _record(config, now, report)
    return report
