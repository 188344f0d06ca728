"""Which cadences are due: read from the ledger and [schedule], without loading the mailer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from publisher.core.config import Config
from publisher.schedule import digest_schedules
from publisher.state.store import reading

DIGEST_JOB = "digest"
"""The job name of the weekly cadence, as the store has always recorded it."""
EACH = "each"


def job_name(cadence: str) -> str:
    return DIGEST_JOB if cadence == "weekly" else f"{DIGEST_JOB}-{cadence}"


@dataclass(frozen=True)
class DigestDue:
    """Whether a digest is due now, why, and for which cadences."""

    due: bool
    reason: str
    cadences: tuple[str, ...] = ()
    """The cadences to send now; a due run with none only finishes unfinished digests."""


def digest_due(config: Config, now: datetime) -> DigestDue:
    """What `publisher run` should send: each offered cadence never sent, or whose [schedule]
    time passed since it last ran; `each` every time; and any unfinished digest."""
    offered = config.digest.cadences
    with reading(config.state_db) as store:
        unfinished = bool(store.unfinished_digest_ids()) if store else False
        last = {c: store.last_job_run(job_name(c)) if store else None for c in offered}
    schedules = digest_schedules(config)
    due: list[str] = []
    reasons: list[str] = []
    waiting: list[str] = []
    for cadence in offered:
        if cadence == EACH:
            due.append(cadence)
            reasons.append("each: every run")
            continue
        schedule = schedules[cadence]
        since = last[cadence]
        moment = schedule.latest_due(since, now) if since is not None else None
        if since is None or moment is not None:
            due.append(cadence)
            reasons.append(
                f"{cadence}: no digest has run yet"
                if since is None
                else f"{cadence}: due at {moment.isoformat() if moment else ''}"
            )
            continue
        following = schedule.fire_times(now, 1)
        when = following[0].isoformat() if following else "never"
        waiting.append(f"{cadence} digest not due until {when} ([schedule] {schedule.job})")
    if due:
        return DigestDue(True, "; ".join(reasons), tuple(due))
    if unfinished:
        return DigestDue(True, "a digest is unfinished")
    return DigestDue(False, "; ".join(waiting) + "; nothing sent")
