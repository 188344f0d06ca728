"""A run's new issues: planned per group of readers, rendered once each, cut per group,
frozen for the archive and stored with every reader's delivery in one transaction.

Later, the copy for a delivery is cut again from the stored issue (`copies_of`),
so a resumed run sends exactly what the first one would have.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from publisher.build.pipeline import load_posts
from publisher.core.config import Config
from publisher.core.models import Post
from publisher.core.plural import counted
from publisher.newsletter.digest import (
    Issue,
    IssuePost,
    RenderedDigest,
    RenderedIssue,
    render_issue,
)
from publisher.newsletter.planning import (
    Group,
    IssuePlan,
    RunPlan,
    plan_run,
    pool_floor,
    posix,
)
from publisher.newsletter.selection import archive
from publisher.outputs.archive import issue_url
from publisher.state.readers import Forgotten, NewIssue
from publisher.state.store import Store


@dataclass(frozen=True)
class MadeIssues:
    digest_ids: list[int]
    note: str = ""
    """Why there is no new issue, when there is none."""


def make_issues(
    store: Store, config: Config, *, now: datetime, cadences: Sequence[str]
) -> MadeIssues:
    """Plan, render and store the issues of `cadences` that some active reader is due."""
    excluded = store.baseline_post_ids()
    first = not store.has_mailed_anything()
    plans: list[RunPlan] = []

    def content_for(posts: Sequence[Post]) -> list[Post]:
        plans.append(
            plan_run(store, config, posts, excluded, now=now, cadences=cadences, first=first)
        )
        return plans[-1].posts  # only what an issue holds is rendered

    site = load_posts(config, now, content_for=content_for)
    plan = plans[-1].with_content(site.posts)
    if not plan.issues:
        active = store.subscriber_counts()["active"]
        if plan.pool and not active:
            note = f"{counted(len(plan.pool), 'new post')} but no active subscribers; nothing sent"
        else:
            note = "no new posts since the last digest; nothing sent"
        return MadeIssues([], note)
    number = store.next_issue_number()
    made = [_made(config, issue, number + i, now) for i, issue in enumerate(plan.issues)]
    sent, forgotten = _sent_sets(config, plan.groups, made, now, store.sent_horizon())
    baseline = [post.id for post in archive(site.posts, now=now, config=config)] if first else []
    rows = [m.row for m in made]
    digest_ids = store.create_issues(now, rows, sent, baseline=baseline, forgotten=forgotten)
    return MadeIssues(digest_ids)


@dataclass(frozen=True)
class _Made:
    row: NewIssue
    kept: dict[str, list[Post]]
    """Group key → the posts its cut holds after the size budget."""


def _made(config: Config, plan: IssuePlan, number: int, now: datetime) -> _Made:
    rendered = render_issue(config, plan.posts, now=now, archive_url=issue_url(config, number))
    issue = Issue(config, rendered)
    fitted: dict[tuple[int, ...], tuple[int, ...]] = {}
    cut_of: dict[tuple[int, ...], int] = {}
    readers: dict[str, int] = {}
    kept: dict[str, list[Post]] = {}
    for key, positions in sorted(plan.cuts.items()):
        if positions not in fitted:
            fitted[positions] = issue.fitting(positions)
        final = fitted[positions]
        readers[key] = cut_of.setdefault(final, len(cut_of))
        kept[key] = [plan.posts[i] for i in final]
    held = sorted({i for final in cut_of for i in final})
    archive_html, archive_text = issue.web_copy()
    row = NewIssue(
        number=number,
        cadence=plan.cadence,
        subject=issue.cut(range(len(plan.posts))).subject,
        html=rendered.html,
        text=rendered.text,
        posts=json.dumps([post.as_json() for post in rendered.posts], ensure_ascii=False),
        mailed=tuple(plan.posts[i].id for i in held),
        archive_html=archive_html,
        archive_text=archive_text,
        cuts={cut: final for final, cut in cut_of.items()},
        readers=readers,
    )
    return _Made(row, kept)


def _sent_sets(
    config: Config,
    groups: Sequence[Group],
    made: Sequence[_Made],
    now: datetime,
    horizon: float | None,
) -> tuple[dict[str, str], Forgotten]:
    """Group key → JSON of what its readers were sent that is still in the pool's window,
    for every group some issue goes to; and what those sets forget (older than the floor)."""
    floor = pool_floor(config, now, horizon)
    cutoff = posix(floor)
    sets = {}
    forgotten: set[str] = set()
    for group in groups:
        new = [post for m in made for post in m.kept.get(group.key, [])]
        if not new:
            continue
        sent = dict(group.sent)
        sent.update((post.id, posix(post.arrived)) for post in new)
        recent = sorted([post_id, when] for post_id, when in sent.items() if when >= cutoff)
        forgotten.update(post_id for post_id, when in sent.items() if when < cutoff)
        sets[group.key] = json.dumps(recent, ensure_ascii=False, separators=(",", ":"))
    return sets, Forgotten(floor.timestamp(), frozenset(forgotten))


def stored_issue(config: Config, store: Store, digest_id: int) -> Issue | None:
    """The issue a digest row holds, ready to cut; None for a digest made before issues."""
    row = store.issue(digest_id)
    if row is None:
        return None
    digest = store.digest(digest_id)
    posts = tuple(IssuePost.from_json(post) for post in json.loads(row.posts))
    return Issue(config, RenderedIssue(digest.html, digest.text, posts, digest.created_at))


def copies_of(
    config: Config, store: Store, digest_id: int
) -> Callable[[int | None], RenderedDigest]:
    """Each delivery's copy of a stored digest, by the cut the ledger names; made once per cut."""
    issue = stored_issue(config, store, digest_id)
    cuts = store.issue_cuts(digest_id) if issue is not None else {}
    made: dict[int | None, RenderedDigest] = {}
    digest = store.digest(digest_id)
    whole = RenderedDigest(
        digest.subject, digest.html, digest.text, store.digest_post_ids(digest_id)
    )

    def copy(cut: int | None) -> RenderedDigest:
        if cut not in made:
            if issue is None:
                made[cut] = whole
            elif cut is None:
                made[cut] = issue.cut(range(len(issue.posts)))
            else:
                made[cut] = issue.cut(cuts[cut])
        return made[cut]

    return copy
