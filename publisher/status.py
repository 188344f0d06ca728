"""`publisher status`: what ran last, what runs next, and the counts, read without writing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from publisher.core.config import Config
from publisher.core.models import DELIVERY_STATUSES, SUBSCRIBER_STATUSES
from publisher.core.plural import counted
from publisher.jobs import local_and_utc
from publisher.schedule import Schedule, digest_schedules, schedules
from publisher.state.mail_events import MAIL_EVENT_KINDS
from publisher.state.store import (
    BuildRecord,
    DigestRow,
    reading,
)
from publisher.state.summaries import digest_summary, every_status, utc_text


@dataclass(frozen=True)
class Status:
    last_build: BuildRecord | None
    last_digest: DigestRow | None
    last_digest_counts: dict[str, int]
    unfinished_digests: int
    ledger: dict[str, int]
    subscribers: dict[str, int]
    mail_events: dict[str, int]
    build_schedule: Schedule
    digest_schedule: Schedule
    next_build: datetime | None
    next_digest: datetime | None
    next_by_cadence: dict[str, datetime | None]
    """Every offered cadence with a schedule ([digest] cadences): when it is next due."""
    each: bool
    """The `each` cadence is offered: a mail per new post, sent by every run."""

    def lines(self) -> list[str]:
        build, digest = self.build_schedule, self.digest_schedule
        lines = [f"last build:   {self._last_build()}", f"last digest:  {self._last_digest()}"]
        if self.unfinished_digests:
            count = self.unfinished_digests
            them = "it" if count == 1 else "them"
            lines.append(f"unfinished:   {counted(count, 'digest')}; the next run finishes {them}")
        lines += [
            f"next build:   {_when(self.next_build, build)}",
            f"next digest:  {_when(self.next_digest, digest)}",
            *(
                f"{f'next {cadence}:':<14}{_when(moment, digest)}"
                for cadence, moment in self.next_by_cadence.items()
                if cadence != "weekly"
            ),
            *(["each post:    mailed by the next run after it is published"] if self.each else []),
            f"subscribers:  {_tally(self.subscribers, SUBSCRIBER_STATUSES)}",
            f"ledger:       {_tally(self.ledger, DELIVERY_STATUSES)}",
        ]
        if any(self.mail_events.values()):
            lines.append(f"bounces:      {mail_event_line(self.mail_events)}")
        return lines

    def as_json(self) -> dict[str, Any]:
        """The same for scripts; the keys are documented in docs/operations.md (Status)."""
        build = self.last_build
        return {
            "last_build": None
            if build is None
            else {
                "finished_at": utc_text(build.finished_at),
                "posts": build.posts,
                "written": build.written,
                "unchanged": build.unchanged,
                "warnings": build.warnings,
            },
            "last_digest": None
            if self.last_digest is None
            else digest_summary(self.last_digest, self.last_digest_counts),
            "unfinished_digests": self.unfinished_digests,
            "next_build": utc_text(self.next_build),
            "next_digest": utc_text(self.next_digest),
            "next_digests": {
                cadence: utc_text(moment) for cadence, moment in self.next_by_cadence.items()
            },
            "subscribers": every_status(self.subscribers, SUBSCRIBER_STATUSES),
            "ledger": every_status(self.ledger, DELIVERY_STATUSES),
            "mail_events": every_status(self.mail_events, MAIL_EVENT_KINDS),
        }

    def _last_build(self) -> str:
        if self.last_build is None:
            return "never"
        record = self.last_build
        return (
            f"{local_and_utc(record.finished_at, self.build_schedule)}: "
            f"{counted(record.posts, 'post')}, {counted(record.written, 'file')} written, "
            f"{counted(record.warnings, 'warning')}"
        )

    def _last_digest(self) -> str:
        if self.last_digest is None:
            return "never"
        digest = self.last_digest
        state = "complete" if digest.completed_at else "unfinished"
        counts = _tally(self.last_digest_counts, DELIVERY_STATUSES)
        return (
            f"#{digest.id} {local_and_utc(digest.created_at, self.digest_schedule)}, "
            f"{state}: {counts}"
        )


def mail_event_line(counts: dict[str, int]) -> str:
    """`5 hard, 4 soft, 2 complaints, 2 mailed unsubscribes`."""
    return (
        f"{counts.get('hard_bounce', 0)} hard, {counts.get('soft_bounce', 0)} soft, "
        f"{counted(counts.get('complaint', 0), 'complaint')}, "
        f"{counted(counts.get('unsubscribe_request', 0), 'mailed unsubscribe')}"
    )


def _when(moment: datetime | None, schedule: Schedule) -> str:
    return local_and_utc(moment, schedule) if moment else "never"


def _tally(counts: dict[str, int], order: tuple[str, ...]) -> str:
    return ", ".join(f"{counts.get(status, 0)} {status}" for status in order)


def status(config: Config, now: datetime) -> Status:
    """Read the store read-only (it need not exist yet) and the schedule; takes no lock."""
    build_schedule, digest_schedule = schedules(config)
    next_build = next(iter(build_schedule.fire_times(now, 1)), None)
    next_digest = next(iter(digest_schedule.fire_times(now, 1)), None)
    by_cadence = {
        cadence: next(iter(schedule.fire_times(now, 1)), None)
        for cadence, schedule in digest_schedules(config).items()
    }
    with reading(config.state_db) as store:
        recent = store.recent_digests(1) if store else []
        return Status(
            last_build=store.last_build() if store else None,
            last_digest=recent[0][0] if recent else None,
            last_digest_counts=recent[0][1] if recent else {},
            unfinished_digests=len(store.unfinished_digest_ids()) if store else 0,
            ledger=store.delivery_counts() if store else {},
            subscribers=store.subscriber_counts() if store else {},
            mail_events=store.mail_event_counts() if store else {},
            build_schedule=build_schedule,
            digest_schedule=digest_schedule,
            next_build=next_build,
            next_digest=next_digest,
            next_by_cadence=by_cadence,
            each="each" in config.digest.cadences,
        )
