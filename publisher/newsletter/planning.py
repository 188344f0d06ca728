"""Which posts each reader is due, and the issues that carry them.

Every run looks at the pool: posts that arrived in the last [digest] wait_days
(never reaching back past the horizon where what readers were sent was last
forgotten) that no baseline excludes. A post arrives when readers could first see
it (`Post.arrived`): its date, or later, its Hugo `publishDate` or the first build
that published it (a draft published weeks after its date); every time here is that.
A reader is due the pool posts in their categories that they were never sent,
arrived no earlier than [digest] first_digest_days before they subscribed (no
earlier than the moment they subscribed, for `each`), newest first, at most
[digest] max_posts. Readers
with the same cadence, categories, history and start are due the same posts
and are planned as one group, so the work here grows with the number of
groups, not of readers.

Per cadence the run makes one issue holding every post some group is due
(`weekly`, `daily`), or one issue per post (`each`); each group is given the
cut of it that holds exactly its posts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from publisher.core.config import Config
from publisher.core.models import Post
from publisher.newsletter.preferences import Preferences, default_cadence
from publisher.newsletter.selection import first_digest_cutoff
from publisher.state.store import Store

EACH = "each"


def posix(moment: datetime) -> int:
    return int(moment.timestamp())


def pool_floor(config: Config, now: datetime, horizon: float | None = None) -> datetime:
    """The oldest publication time a run may mail: [digest] wait_days ago, but never before
    the `horizon` (store.sent_horizon()): what readers were sent before it is forgotten, so
    raising wait_days must not make those posts look new."""
    floor = now.astimezone(UTC) - timedelta(days=config.digest.wait_days)
    if horizon is not None:
        floor = max(floor, datetime.fromtimestamp(horizon, UTC))
    return floor


def pool(
    posts: Sequence[Post],
    excluded: set[str],
    *,
    now: datetime,
    config: Config,
    first: bool = False,
    horizon: float | None = None,
) -> list[Post]:
    """The posts a run may mail, newest first. The site's `first` issue reaches back only
    [digest] first_digest_days, so an existing archive is not mailed in one go."""
    floor, now_utc = pool_floor(config, now, horizon), now.astimezone(UTC)
    if first:
        floor = max(floor, first_digest_cutoff(now, config))
    chosen = [
        post
        for post in posts
        if post.id not in excluded and floor <= post.arrived.astimezone(UTC) <= now_utc
    ]
    chosen.sort(
        key=lambda post: (-post.arrived.timestamp(), -post.published.timestamp(), post.source_name)
    )
    return chosen


def lookbacks(config: Config) -> dict[str, float]:
    """Per offered cadence: how long before subscribing a reader's first posts may be."""
    days = timedelta(days=config.digest.first_digest_days).total_seconds()
    return {cadence: 0.0 if cadence == EACH else days for cadence in config.digest.cadences}


@dataclass(frozen=True)
class Group:
    """Readers due exactly the same posts."""

    key: str
    preferences: Preferences
    sent: dict[str, int]
    """Post id → posix time it arrived (`Post.arrived`), of what they were sent that is still
    recent."""
    skipped: int
    """How many of the oldest pool posts came before they subscribed."""
    readers: int

    def due(self, posts: Sequence[Post], max_posts: int) -> list[Post]:
        eligible = posts[: len(posts) - self.skipped]
        wanted = [
            post
            for post in eligible
            if post.id not in self.sent
            and self.preferences.wants(category.slug for category in post.categories)
        ]
        return wanted[:max_posts]


@dataclass
class IssuePlan:
    cadence: str
    posts: tuple[Post, ...]
    """Newest first."""
    cuts: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Group key → the positions of that group's posts."""


@dataclass
class RunPlan:
    pool: list[Post]
    groups: list[Group]
    issues: list[IssuePlan]

    @property
    def posts(self) -> list[Post]:
        """Every post an issue holds: the only ones that need their content rendered."""
        seen: dict[str, Post] = {}
        for issue in self.issues:
            for post in issue.posts:
                seen.setdefault(post.id, post)
        return list(seen.values())

    def with_content(self, loaded: Sequence[Post]) -> RunPlan:
        """The same plan over the loaded posts that carry content."""
        by_id = {post.id: post for post in loaded}
        issues = [
            IssuePlan(i.cadence, tuple(by_id[p.id] for p in i.posts), dict(i.cuts))
            for i in self.issues
        ]
        return RunPlan(self.pool, self.groups, issues)


def issues_for(
    cadence: str, groups: Sequence[Group], posts: Sequence[Post], max_posts: int
) -> list[IssuePlan]:
    """One issue with every post some group is due, or one per post for `each`."""
    due = {group.key: group.due(posts, max_posts) for group in groups}
    held = {post.id for wanted in due.values() for post in wanted}
    union = [post for post in posts if post.id in held]  # still newest first
    if not union:
        return []
    if cadence == EACH:
        due_ids = {key: {post.id for post in wanted} for key, wanted in due.items()}
        # Oldest first, so the mail arrives in the order of posting.
        return [IssuePlan(cadence, (post,), _holding(due_ids, post.id)) for post in reversed(union)]
    position = {post.id: i for i, post in enumerate(union)}
    cuts = {key: tuple(position[p.id] for p in wanted) for key, wanted in due.items() if wanted}
    return [IssuePlan(cadence, tuple(union), cuts)]


def _holding(due_ids: dict[str, set[str]], post_id: str) -> dict[str, tuple[int, ...]]:
    return {key: (0,) for key, ids in due_ids.items() if post_id in ids}


def plan_run(
    store: Store,
    config: Config,
    posts: Sequence[Post],
    excluded: set[str],
    *,
    now: datetime,
    cadences: Sequence[str],
    first: bool = False,
) -> RunPlan:
    """Group the active readers of `cadences` (in the store's temporary plan table) and plan
    the issues that carry what each group is due."""
    horizon = store.sent_horizon()
    candidates = pool(posts, excluded, now=now, config=config, first=first, horizon=horizon)
    if not candidates:
        return RunPlan(candidates, [], [])
    rows = store.group_readers(
        [post.arrived.timestamp() for post in candidates],
        lookbacks(config),
        default_cadence(config),
        cadences,
        now.timestamp(),
    )
    histories = store.sent_set_posts(row.sent_set for row in rows)
    groups = [
        Group(
            row.key,
            Preferences(row.categories, row.cadence),
            dict(histories[row.sent_set]),
            row.skipped,
            row.readers,
        )
        for row in rows
    ]
    issues = []
    for cadence in cadences:
        members = [g for g in groups if g.preferences.cadence == cadence]
        issues += issues_for(cadence, members, candidates, config.digest.max_posts)
    return RunPlan(candidates, groups, issues)
