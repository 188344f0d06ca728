"""Whether a digest is due: read from the ledger and [schedule], without loading the mailer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from publisher.core.config import Config
from publisher.schedule import schedules
from publisher.state.store import reading

DIGEST_JOB = "digest"


@dataclass(frozen=True)
class DigestDue:
    due: bool
    reason: str


def digest_due(config: Config, now: datetime) -> DigestDue:
    """Whether `publisher run` should send: never sent, an unfinished digest, or a
    [schedule] digest time passed since the last digest run."""
    with reading(config.state_db) as store:
        if store is None:
            return DigestDue(True, "no digest has run yet")
        last = store.last_job_run(DIGEST_JOB)
        unfinished = bool(store.unfinished_digest_ids())
    if unfinished:
        return DigestDue(True, "a digest is unfinished")
    if last is None:
        return DigestDue(True, "no digest has run yet")
    schedule = schedules(config)[1]
    due = schedule.latest_due(last, now)
    if due is not None:
        return DigestDue(True, f"due at {due.isoformat()}")
    following = schedule.fire_times(now, 1)
    when = following[0].isoformat() if following else "never"
    return DigestDue(False, f"digest not due until {when} ([schedule] digest); nothing sent")
