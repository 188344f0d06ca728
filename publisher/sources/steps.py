"""The per-file steps of loading a site: reading and parsing a file, then finishing the
post as of `now` (first-seen dates, the URL, whether it is shown yet)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from publisher.core.config import Config
from publisher.core.errors import Problem
from publisher.core.models import Post
from publisher.sources.base import PostIds, Source
from publisher.sources.files import FileProblems, SourceFile, content_hash, read_bytes
from publisher.sources.records import ParsedPost


@dataclass(frozen=True)
class Draft:
    """A post read from disk, before ids are checked against each other."""

    post: Post
    hidden_reason: str | None
    first_seen_now: bool
    digest: bytes
    reader: str
    changes_at: datetime | None
    """When the post's being published changes: its date, for one dated after `now`; its
    expiry, for a published post that expires."""
    source_id: str
    warnings: tuple[str, ...] = ()


class Shown:
    """A post's path as the user finds it: relative to the config file's folder."""

    def __init__(self, config: Config, root: Path) -> None:
        self.base = config.file.parent
        self.prefix: str | None = None
        try:
            inside = root.relative_to(self.base).as_posix()
            self.prefix = "" if inside == "." else inside + "/"
        except ValueError:
            pass

    def __call__(self, source: SourceFile) -> str:
        if self.prefix is not None:
            return self.prefix + source.name
        return str(Path(source.path))


@dataclass(frozen=True)
class Moment:
    """What finishing a post needs besides the post: the source, `now`, first-seen dates."""

    source: Source
    zone: ZoneInfo
    now: datetime
    now_utc: datetime
    first_seen: Mapping[str, datetime]
    shown: Shown
    max_bytes: int
    """[source] max_post_bytes."""
    ids: PostIds = field(default_factory=PostIds)


def finish_post(parsed: ParsedPost, source: SourceFile, digest: bytes, moment: Moment) -> Draft:
    """The post as of `now`, without its content."""
    ids = moment.ids
    adopted = ids.adopted_published.get(parsed.id)  # what readers of the adopted feed hold
    published = adopted.astimezone(moment.zone) if adopted is not None else parsed.published
    seen_now = False
    if published is None:
        seen = moment.first_seen.get(parsed.id) or ids.first_seen_files.get(source.name)
        if seen is not None:
            published = seen.astimezone(moment.zone)
        else:
            published = moment.now.astimezone(moment.zone).replace(microsecond=0)
            seen_now = True
    url, image = parsed.url, parsed.image
    if url is None:
        url = moment.source.permalink(parsed, published)
        image = urljoin(url, image.strip()) if image else None
    start = max(published, parsed.publish_from or published)
    post = Post(
        source=Path(source.path),
        source_name=source.name,
        id=ids.of(parsed.id, url, source.name, given=parsed.id_given),
        title=parsed.title,
        url=url,
        slug=parsed.slug,
        published=published,
        updated=max(published if parsed.updated is None else parsed.updated, published),
        date_source=parsed.date_source,
        categories=parsed.categories,
        tags=parsed.tags,
        author=parsed.author,
        summary="",
        content_html="",
        image=image,
        lang=parsed.lang,
        visible_since=ids.visible_since(source.name, start, moment.now),
    )
    hidden, changes_at = _hidden_now(parsed, published, moment)
    return Draft(
        post,
        hidden,
        seen_now and hidden is None,
        digest,
        parsed.reader,
        changes_at,
        parsed.id,
        parsed.warnings,
    )


def _hidden_now(
    parsed: ParsedPost, published: datetime, moment: Moment
) -> tuple[str | None, datetime | None]:
    """Why the post is not published at `now` (None: it is), and when that changes."""
    start = parsed.publish_from or published
    if start.astimezone(UTC) > moment.now_utc and not getattr(
        moment.source, "publishes_future", False
    ):
        return parsed.hidden or f"dated in the future ({start.isoformat()})", start
    if parsed.hidden is not None:
        return parsed.hidden, None
    if parsed.expires is not None:
        if parsed.expires.astimezone(UTC) < moment.now_utc:
            return f"expired ({parsed.expires.isoformat()})", None
        return None, parsed.expires
    return None, None


# reading and parsing -------------------------------------------------------------

ParseJob = tuple[SourceFile, bytes | None]
"""A file to read, and the hash under which the cache holds a post for it (or None)."""


@dataclass(frozen=True)
class Outcome:
    """What reading and parsing one file gave."""

    digest: bytes | None
    """None when the file could not be read."""
    problems: tuple[Problem, ...] = ()
    record: str | None = None
    """`ParsedPost.to_record()`; None when the file has problems or is `same`."""
    draft: Draft | None = None
    same: bool = False
    """The bytes hash to the cached hash: the cached post stands."""


def read_and_parse(job: ParseJob, moment: Moment, finish: bool = True) -> Outcome:
    """Read the file, and parse and finish it unless it hashes to the cached hash."""
    source, cached_digest = job
    sink: list[Problem] = []
    problems = FileProblems(partial(moment.shown, source), sink)
    if source.size > moment.max_bytes:
        _too_big(source.size, moment.max_bytes, problems)
        return Outcome(None, tuple(sink))
    try:
        raw = read_bytes(source.path, source.size)
    except OSError as e:
        problems.add(f"cannot be read: {e.strerror}", "check the file's permissions")
        return Outcome(None, tuple(sink))
    if len(raw) > moment.max_bytes:  # it grew since it was listed
        _too_big(len(raw), moment.max_bytes, problems)
        return Outcome(None, tuple(sink))
    digest = content_hash(raw)
    if digest == cached_digest:
        return Outcome(digest, same=True)
    parsed = moment.source.parse(raw, source, problems)
    if parsed is None:
        return Outcome(digest, tuple(sink))
    if problems.warnings:
        parsed = replace(parsed, warnings=tuple(problems.warnings))
    draft = finish_post(parsed, source, digest, moment) if finish else None
    return Outcome(digest, (), parsed.to_record(), draft)


def _too_big(size: int, limit: int, problems: FileProblems) -> None:
    problems.add(
        f"is {size / 1e6:.1f} MB; posts may be at most {limit / 1e6:.1f} MB",
        "split the post, move big files out of content/, or raise [source] max_post_bytes",
    )


def finish_outcome(job: ParseJob, outcome: Outcome, moment: Moment) -> Outcome:
    """An outcome parsed elsewhere, finished here (a post travels faster as its record)."""
    if outcome.record is None or outcome.digest is None:
        return outcome
    parsed = ParsedPost.from_record(outcome.record, moment.zone)
    draft = finish_post(parsed, job[0], outcome.digest, moment)
    return Outcome(outcome.digest, outcome.problems, outcome.record, draft)


# loading the site ----------------------------------------------------------------
