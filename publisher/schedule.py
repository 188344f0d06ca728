"""When jobs run: the only importer of apscheduler (3.x).

APScheduler 3.11's CronTrigger mishandles daylight-saving changes: on the
night clocks go back, a wall-clock time such as 01:30 fires twice and later
calls can return the same instant again (a loop); on the night they go
forward it returns a nonexistent wall time (02:30-05:00 in New York). So our
cron trigger runs CronTrigger over wall-clock readings labelled UTC, where
there is no DST, and turns each wall-clock time into a real instant once:
a repeated time fires at its first occurrence, a skipped time at the
instant the clocks jumped over it (02:30 → 03:30 EDT).
"""

from __future__ import annotations

import itertools
import logging
import re
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from publisher.core.config import Config

_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_INTERVAL_ANCHOR = datetime(2000, 1, 1)  # noqa: DTZ001 (given the zone where it is used)
"""Intervals count from this local midnight, so fire times never depend on start-up time."""
_TINY = timedelta(microseconds=1)


def _utc(moment: datetime) -> datetime:
    """For comparing and subtracting: aware datetimes sharing one ZoneInfo compare by wall clock."""
    return moment.astimezone(UTC)


def _wall_clock(moment: datetime, zone: ZoneInfo) -> datetime:
    """What a clock in `zone` reads at `moment`, labelled UTC so that no DST applies."""
    return moment.astimezone(zone).replace(tzinfo=UTC)


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first real instant a clock in `zone` reads `wall` (or jumps past it)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


class WallClockCronTrigger(BaseTrigger):  # type: ignore[misc]
    """A crontab schedule in a time zone that fires each wall-clock time once."""

    def __init__(self, expression: str, zone: ZoneInfo) -> None:
        self.zone = zone
        self._wall = CronTrigger.from_crontab(expression, timezone=UTC)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        start = _wall_clock(now, self.zone)
        if previous_fire_time is not None:
            start = min(start, _wall_clock(previous_fire_time, self.zone) + _TINY)
        while True:
            wall: datetime | None = self._wall.get_next_fire_time(None, start)
            if wall is None:
                return None
            moment = _instant(wall, self.zone)
            if previous_fire_time is None or _utc(moment) > _utc(previous_fire_time):
                return moment
            start = wall + _TINY


@dataclass(frozen=True)
class Schedule:
    """One job's schedule: a crontab or an interval, read in the site's time zone."""

    job: str
    spec: str
    zone: ZoneInfo
    trigger: BaseTrigger

    @property
    def is_interval(self) -> bool:
        return isinstance(self.trigger, IntervalTrigger)

    def fire_times_after(self, after: datetime) -> Iterator[datetime]:
        """Fire times strictly after `after`, in the schedule's zone, one at a time."""
        previous: datetime | None = None
        moment = after + timedelta(microseconds=1)
        while (following := self.trigger.get_next_fire_time(previous, moment)) is not None:
            following = following.astimezone(self.zone)
            yield following
            previous = following
            moment = following + timedelta(microseconds=1)

    def fire_times(self, after: datetime, count: int) -> list[datetime]:
        """The next `count` fire times strictly after `after`, in the schedule's zone."""
        return list(itertools.islice(self.fire_times_after(after), count))

    def latest_due(self, since: datetime, now: datetime) -> datetime | None:
        """The last fire time in (since, now], or None; stops at the first one after `now`."""
        latest = None
        for moment in self.fire_times_after(since):
            if _utc(moment) > _utc(now):
                break
            latest = moment
        return latest


def make_schedule(job: str, spec: str, zone: ZoneInfo) -> Schedule:
    trigger: Any
    if match := _INTERVAL.match(spec):
        amount, unit = int(match.group(1)), _UNITS[match.group(2)]
        trigger = IntervalTrigger(
            **{unit: amount}, start_date=_INTERVAL_ANCHOR.replace(tzinfo=zone), timezone=zone
        )
    else:
        trigger = WallClockCronTrigger(spec, zone)
    return Schedule(job, spec, zone, trigger)


def spec_problem(spec: str) -> str | None:
    """Why a [schedule] value cannot be a schedule, or None when it can."""
    try:
        make_schedule("check", spec, ZoneInfo("UTC"))
    except ValueError as e:
        return f"is not a valid crontab expression ({e})"
    return None


def schedules(config: Config) -> tuple[Schedule, Schedule]:
    """The build and digest schedules from [schedule]."""
    zone = ZoneInfo(config.schedule.timezone) if config.schedule.timezone else config.site.zone
    return (
        make_schedule("build", config.schedule.build, zone),
        make_schedule("digest", config.schedule.digest, zone),
    )


def digest_schedules(config: Config) -> dict[str, Schedule]:
    """The schedule of each offered cadence that has one: weekly ([schedule] digest) and
    daily ([schedule] daily); `each` goes out with every run instead."""
    zone = ZoneInfo(config.schedule.timezone) if config.schedule.timezone else config.site.zone
    specs = {
        "weekly": ("digest", config.schedule.digest),
        "daily": ("digest-daily", config.schedule.daily),
    }
    return {
        cadence: make_schedule(job, spec, zone)
        for cadence, (job, spec) in specs.items()
        if cadence in config.digest.cadences
    }


def missed_run(
    schedule: Schedule, last_run: datetime | None, now: datetime, grace: timedelta
) -> datetime | None:
    """The fire time to catch up on at start-up: missed since `last_run`, and within grace."""
    if last_run is None:
        return None
    since = max(_utc(last_run), _utc(now) - grace - timedelta(seconds=1))
    due = schedule.latest_due(since, now)
    if due is None or _utc(now) - _utc(due) > grace:
        return None
    return due


# The long-running scheduler --------------------------------------------------

log = logging.getLogger(__name__)

STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


@dataclass(frozen=True)
class Job:
    """A schedule and what to run on it; `catch_up` runs it once as soon as the scheduler starts."""

    schedule: Schedule
    run: Callable[[], None]
    catch_up: bool = False


def serve(
    jobs: Sequence[Job], *, grace: timedelta, stop: threading.Event, now: datetime
) -> signal.Signals:
    """Run `jobs` on a BlockingScheduler until SIGTERM or SIGINT; return the signal.

    On the signal `stop` is set (a digest in progress sees `should_stop` and
    finishes the message in flight), the scheduler stops taking jobs and
    waits for the running ones, then this returns.

    The stop signals are blocked and taken synchronously with sigwait by a
    watcher thread, rather than handled: a Python signal handler runs between
    two bytecodes of the main thread, and an exception raised from it inside
    the scheduler's loop can be swallowed by APScheduler's `except
    BaseException` around job submission, leaving the process running.
    """
    # The scheduler itself only here: `publisher run` reads the schedule without it.
    from apscheduler.events import EVENT_SCHEDULER_STARTED
    from apscheduler.schedulers.blocking import BlockingScheduler

    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        scheduler = BlockingScheduler(timezone=UTC)
        for job in jobs:
            scheduler.add_job(
                job.run,
                trigger=job.schedule.trigger,
                id=job.schedule.job,
                name=job.schedule.job,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=max(1, int(grace.total_seconds())),
                **({"next_run_time": now} if job.catch_up else {}),
            )
        started = threading.Event()
        scheduler.add_listener(lambda _event: started.set(), EVENT_SCHEDULER_STARTED)
        received: list[signal.Signals] = []

        def stop_on_signal() -> None:
            number = signal.Signals(signal.sigwait(STOP_SIGNALS))
            received.append(number)
            log.info("%s received: finishing the job in progress, then stopping", number.name)
            stop.set()
            started.wait()
            scheduler.pause()
            scheduler.shutdown(wait=True)

        watcher = threading.Thread(target=stop_on_signal, name="stop-signal", daemon=True)
        watcher.start()
        scheduler.start()  # blocks until the watcher shuts the scheduler down
        watcher.join()
        log.info("scheduler stopped")
        return received[0]
    finally:
        _discard_pending(STOP_SIGNALS)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)


def _discard_pending(signals: frozenset[signal.Signals]) -> None:
    """A second SIGTERM sent while stopping must not kill us once the mask is lifted."""
    while signals & signal.sigpending():
        signal.sigwait(signals)
