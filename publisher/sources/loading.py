"""Loading a site: every post file read, checked, dated and (where asked) rendered.

Every file is read and checked before anything is returned, and every problem
found is reported in one ContentError.

A post goes through three steps, so that a rebuild redoes only what changed:
- parsing (the file's bytes and the source's settings → `ParsedPost`), where
  every check happens; a `SourceCache` hands the result back for a file whose
  size and mtime, or failing that whose bytes, are unchanged;
- finishing (→ `Post` without content): first-seen dates, `now`, the URL;
- rendering (the reader, the syndication-safe HTML pass, the summary), the
  expensive step, done only for the posts the caller asks for (`content_for`)
  and cached by the file's hash, its reader and the post's URL. The only
  problem it finds that parsing did not is a body that cannot travel whole
  (HTML nested too deeply), reported against its file like any other.

Every post's URL and image must pass the URL policy (publisher/core/url_policy.py)
whatever the source, so no feed, page or email ever carries a `javascript:` link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from zoneinfo import ZoneInfo

from publisher.core.config import Config
from publisher.core.errors import ContentError, Problem, UnrenderableContent, many
from publisher.core.models import Post
from publisher.core.parallel import collections_paused, helper_count, shared_map
from publisher.core.url_policy import web_url
from publisher.sources.base import (
    SITE_READER,
    CachedSource,
    CacheUpdate,
    LoadedSite,
    PostIds,
    Source,
    SourceCache,
)
from publisher.sources.files import SourceFile, content_hash, read_bytes
from publisher.sources.records import ParsedPost
from publisher.sources.steps import (
    Draft,
    Moment,
    Outcome,
    ParseJob,
    Shown,
    finish_outcome,
    finish_post,
    read_and_parse,
)

PARALLEL_FROM = 2000
"""Files to read and parse from which forked helpers share the work."""
RENDERS_WORTH_A_HELPER = 40
"""Posts to render from which forked helpers share the work."""

ContentFor = Callable[[Sequence[Post]], Iterable[Post]]


class _StaleStat(Exception):
    """A file's bytes differ from what its unchanged size and mtime promised."""

    def __init__(self, name: str) -> None:
        self.name = name


def load_site(
    config: Config,
    source: Source,
    first_seen: Mapping[str, datetime],
    now: datetime,
    *,
    cache: SourceCache | None = None,
    content_for: ContentFor | None = None,
    sources: Sequence[SourceFile] | None = None,
    meanwhile: Callable[[CacheUpdate], None] | None = None,
    ids: PostIds | None = None,
) -> LoadedSite:
    """Read and check every post of `source`. Raises one ContentError listing every problem.

    Only the posts `content_for` picks from the published ones (newest first,
    without content) get content_html and summary; by default every one does.
    What `cache` should remember afterwards is in the result's `cache_update`.
    `sources` is what `source.scan()` found, when the caller already looked.
    `meanwhile` is called with the cache update once every file is read and
    checked, while content renders (in forked helpers, when it is worth it).
    `ids` are the adopted ids and the id scheme (default: the source's own ids).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if sources is None:
        sources = source.scan()
    zone = config.site.zone
    moment = Moment(
        source,
        zone,
        now,
        now.astimezone(UTC),
        first_seen,
        Shown(config, source.root),
        config.source.max_post_bytes,
        ids or PostIds(),
    )
    distrusted: set[str] = set()
    while True:
        try:
            with collections_paused():
                return _Load(moment, cache, sources, distrusted).run(content_for, meanwhile)
        except _StaleStat as stale:
            distrusted.add(stale.name)


@dataclass
class _Load:
    """One attempt at loading; `_StaleStat` starts another that hashes the named file."""

    moment: Moment
    cache: SourceCache | None
    sources: Sequence[SourceFile]
    distrusted: set[str]
    update: CacheUpdate = field(default_factory=CacheUpdate)
    problems: list[Problem] = field(default_factory=list)
    site_key: str = ""
    """What rendering can see of the other posts (see `Source.link_posts`)."""

    def _cache_reader(self, draft: Draft) -> str:
        """The render cache's reader key: the reader, the file, and what of the site it read."""
        key = f"{draft.reader}\0{draft.post.source_name}"
        return f"{key}\0{self.site_key}" if draft.reader.endswith(SITE_READER) else key

    def run(
        self, content_for: ContentFor | None, meanwhile: Callable[[CacheUpdate], None] | None
    ) -> LoadedSite:
        known = self.cache.sources() if self.cache is not None else {}
        drafts = self._drafts(known)
        _check_unique(drafts, self.moment.shown, self.problems)
        _check_urls(drafts, self.moment.shown, self.problems)
        self._raise_problems()
        good = {d.post.source_name for d in drafts}
        self.update.removed = [name for name in known if name not in good]

        visible = [d for d in drafts if d.hidden_reason is None]
        visible.sort(key=lambda d: (-d.post.published.timestamp(), d.post.source_name))
        light = [d.post for d in visible]
        wanted = None if content_for is None else {post.id for post in content_for(light)}
        chosen = [d for d in visible if wanted is None or d.post.id in wanted]
        link_posts = getattr(self.moment.source, "link_posts", None)
        if chosen and link_posts is not None:
            self.site_key = str(link_posts(light))
        contents = self._contents(chosen, partial(meanwhile, self.update) if meanwhile else None)
        self._raise_problems()

        posts = [
            replace(d.post, content_html=contents[d.post.id][0], summary=contents[d.post.id][1])
            if d.post.id in contents
            else d.post
            for d in visible
        ]
        final = {post.id: post for post in posts}
        changes = [d.changes_at for d in drafts if d.changes_at is not None]
        site_warnings = getattr(self.moment.source, "site_warnings", tuple)
        warnings = (*site_warnings(), *(w for d in drafts for w in d.warnings))
        return LoadedSite(
            posts=tuple(posts),
            hidden=tuple((d.post.source_name, d.hidden_reason) for d in drafts if d.hidden_reason),
            first_seen_now=tuple(final[d.post.id] for d in drafts if d.first_seen_now),
            next_publication=min(changes, default=None),
            with_content=None if wanted is None else frozenset(wanted),
            cache_update=self.update,
            warnings=(*warnings, *self._reference_warnings(visible)),
            seen_as={d.post.id: d.source_id for d in drafts if d.post.id != d.source_id},
        )

    def _reference_warnings(self, visible: Sequence[Draft]) -> list[str]:
        """Links to other posts that lead nowhere now, checked at every build (the post
        itself may be cached while its target was renamed)."""
        check = getattr(self.moment.source, "reference_warnings", None)
        by_name = {source.name: source for source in self.sources}
        referring = [by_name[d.post.source_name] for d in visible if d.reader.endswith(SITE_READER)]
        if check is None or not referring:
            return []
        return [
            f"{self.moment.shown(source)}:{line}: {message}"
            for source, line, message in check(referring)
        ]

    def _raise_problems(self) -> None:
        if self.problems:
            raise many(ContentError, f"content in {self.moment.source.root}", self.problems)

    def _drafts(self, known: Mapping[str, CachedSource]) -> list[Draft]:
        """Every file as a draft post: from the cache by stat, else read (and maybe parsed)."""
        moment = self.moment
        from_stat: dict[str, Draft] = {}
        maybe_same: dict[str, ParsedPost] = {}
        jobs: list[ParseJob] = []
        for source in self.sources:
            cached = known.get(source.name)
            decoded = _from_cache(cached, moment.zone) if cached is not None else None
            if decoded is None or cached is None or source.size > moment.max_bytes:
                jobs.append((source, None))
            elif (
                cached.size == source.size
                and cached.mtime_ns == source.mtime_ns
                and source.size >= 0
                and source.name not in self.distrusted
            ):
                from_stat[source.name] = finish_post(decoded, source, cached.digest, moment)
            elif getattr(moment.source, "reads_mtime", False):
                jobs.append((source, None))  # the same bytes may parse to another date
            else:
                maybe_same[source.name] = decoded
                jobs.append((source, cached.digest))
        by_name = self._read_and_parse(jobs)
        drafts: list[Draft] = []
        for source in self.sources:
            if (draft := from_stat.get(source.name)) is not None:
                self.update.stats.stat_hits += 1
            else:
                draft = self._absorb(source, by_name[source.name], known, maybe_same)
                if draft is None:
                    continue
            self.update.digests[source.name] = draft.digest
            drafts.append(draft)
        return drafts

    def _read_and_parse(self, jobs: list[ParseJob]) -> dict[str, Outcome]:
        moment = self.moment
        helpers = self.update.stats.helpers = helper_count(len(jobs), worth_it=PARALLEL_FROM)
        outcomes = shared_map(
            jobs,
            partial(read_and_parse, moment=moment),
            helpers=helpers,
            remote=partial(read_and_parse, moment=moment, finish=False),
            absorb=partial(finish_outcome, moment=moment),
        )
        return dict(zip((source.name for source, _ in jobs), outcomes, strict=True))

    def _absorb(
        self,
        source: SourceFile,
        outcome: Outcome,
        known: Mapping[str, CachedSource],
        maybe_same: Mapping[str, ParsedPost],
    ) -> Draft | None:
        """The draft a read file gave, noted for the cache; None when it gave problems."""
        self.problems.extend(outcome.problems)
        if outcome.digest is None:
            return None
        if outcome.same:
            record = known[source.name].record
            draft = finish_post(maybe_same[source.name], source, outcome.digest, self.moment)
            self.update.stats.hash_hits += 1
        elif outcome.record is not None and outcome.draft is not None:
            record, draft = outcome.record, outcome.draft
            self.update.stats.parsed += 1
        else:
            return None
        self.update.sources[source.name] = CachedSource(
            source.size, source.mtime_ns, outcome.digest, record
        )
        return draft

    def _contents(
        self, chosen: Sequence[Draft], meanwhile: Callable[[], None] | None
    ) -> dict[str, tuple[str, str]]:
        """(content_html, summary) by post id: from the cache, else rendered."""
        contents: dict[str, tuple[str, str]] = {}
        missing: list[Draft] = []
        stats = self.update.stats
        for draft in chosen:
            post = draft.post
            reader = self._cache_reader(draft)
            found = self.cache.rendered(draft.digest, reader, post.url) if self.cache else None
            if found is None:
                missing.append(draft)
            else:
                contents[post.id] = found
                stats.render_hits += 1
        jobs = [
            (str(d.post.source), d.post.source_name, d.digest, d.reader, d.post.url)
            for d in missing
        ]
        helpers = helper_count(len(jobs), worth_it=RENDERS_WORTH_A_HELPER)
        render = partial(_render_file, self.moment.source)
        rendered_all = shared_map(jobs, render, helpers=helpers, meanwhile=meanwhile)
        for draft, rendered in zip(missing, rendered_all, strict=True):
            post = draft.post
            if rendered is None:
                self._explain_unrendered(draft)
                continue
            if isinstance(rendered, Problem):
                where = self.moment.shown(SourceFile(str(post.source), post.source_name, -1, -1))
                self.problems.append(Problem(where, rendered.message, rendered.hint))
                continue
            contents[post.id] = rendered
            stats.rendered += 1
            reader = self._cache_reader(draft)
            self.update.rendered.append((draft.digest, reader, post.url, *rendered))
        return contents

    def _explain_unrendered(self, draft: Draft) -> None:
        """A file that parsed could not be rendered: it went away or changed meanwhile."""
        post = draft.post
        where = self.moment.shown(SourceFile(str(post.source), post.source_name, -1, -1))
        try:
            raw = read_bytes(post.source)
        except OSError as e:
            self.problems.append(
                Problem(where, f"cannot be read: {e.strerror}", "check its permissions")
            )
            return
        if post.source_name not in self.update.sources:
            raise _StaleStat(post.source_name)  # it was taken from the cache by size and mtime
        if content_hash(raw) != draft.digest:
            self.problems.append(Problem(where, "changed while it was being read", "build again"))
            return
        raise AssertionError(f"{post.source_name} parses but does not render")


RenderJob = tuple[str, str, bytes, str, str]
"""(path, source name, hash, reader, url) of a post whose content is needed."""


def _render_file(source: Source, job: RenderJob) -> tuple[str, str] | Problem | None:
    """The post's (content_html, summary); None when the file is gone or has changed;
    a Problem (its `where` left empty) when its body cannot be rendered whole."""
    path, name, digest, reader, url = job
    try:
        raw = read_bytes(path)
    except OSError:
        return None
    if content_hash(raw) != digest:
        return None
    try:
        return source.render(raw, reader, url, name)
    except UnrenderableContent as e:
        return Problem("", e.message, e.hint)


def _check_unique(
    drafts: Sequence[Draft], shown: Callable[[SourceFile], str], problems: list[Problem]
) -> None:
    """Ids must be unique among all posts, URLs among the published ones."""
    by_id: dict[str, Post] = {}
    by_url: dict[str, Post] = {}

    def where(post: Post) -> str:
        return shown(SourceFile(str(post.source), post.source_name, -1, -1))

    for draft in drafts:
        post = draft.post
        if post.id in by_id:
            problems.append(
                Problem(
                    where(post),
                    f"has the same id as {where(by_id[post.id])}: {post.id}",
                    "give one of them a different `id`, or remove the `id` lines",
                )
            )
        by_id.setdefault(post.id, post)
        if draft.hidden_reason is None:
            if post.url in by_url:
                problems.append(
                    Problem(
                        where(post),
                        f"has the same URL as {where(by_url[post.url])}: {post.url}",
                        "set a different `slug` or `permalink` on one of them",
                    )
                )
            by_url.setdefault(post.url, post)


def _check_urls(
    drafts: Sequence[Draft], shown: Callable[[SourceFile], str], problems: list[Problem]
) -> None:
    """A post's URL and image must be http(s) URLs (after a site path is made absolute)."""
    for draft in drafts:
        post = draft.post
        where = shown(SourceFile(str(post.source), post.source_name, -1, -1))
        if web_url(post.url) is None:
            problems.append(
                Problem(
                    where,
                    f"its URL {post.url!r} is not an http(s) URL",
                    "set `permalink` to a path on the site, like /2024/my-post/",
                )
            )
        if post.image is not None and web_url(post.image) is None:
            problems.append(
                Problem(
                    where,
                    f"`image` {post.image[:80]!r} is not an http(s) URL or a path on the site",
                    "write `image: /assets/picture.jpg` or an https:// URL; "
                    "javascript: and data: URLs are refused",
                )
            )


def _from_cache(cached: CachedSource, zone: ZoneInfo) -> ParsedPost | None:
    try:
        return ParsedPost.from_record(cached.record, zone)
    except ValueError:
        return None
