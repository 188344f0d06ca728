"""`publisher schedule`: the build and digest jobs, run on [schedule] until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from publisher.build.pipeline import build
from publisher.core.config import Config
from publisher.core.errors import LockBusyError, PublisherError
from publisher.newsletter.bounces import process_bounces
from publisher.newsletter.delivery import send_digests
from publisher.newsletter.due import DIGEST_JOB
from publisher.schedule import Job, Schedule, missed_run, schedules, serve
from publisher.state.store import reading

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")


def local_and_utc(moment: datetime, schedule: Schedule) -> str:
    """`Mon 2024-06-24 08:00:00+09:00 KST = 2024-06-23 23:00:00 UTC`."""
    local = moment.astimezone(schedule.zone)
    utc = moment.astimezone(UTC)
    stamp = local.isoformat(sep=" ", timespec="seconds")
    return f"{local:%a} {stamp} {local.tzname()} = {utc:%Y-%m-%d %H:%M:%S} UTC"


def describe(schedule: Schedule) -> str:
    every = "every " if schedule.is_interval else ""
    return f"{schedule.job}: {every}{schedule.spec.strip()} ({schedule.zone.key})"


def upcoming(config: Config, now: datetime, count: int) -> list[str]:
    """The next `count` fire times of each job, local and UTC, one per line under its job."""
    lines: list[str] = []
    for schedule in schedules(config):
        lines.append(describe(schedule))
        lines.extend(f"  {local_and_utc(t, schedule)}" for t in schedule.fire_times(now, count))
    return lines


@dataclass(frozen=True)
class LastRuns:
    build: datetime | None
    digest: datetime | None


def last_runs(config: Config) -> LastRuns:
    """When the last build finished and the last digest was made, from the store (read-only)."""
    with reading(config.state_db) as store:
        if store is None:
            return LastRuns(None, None)
        last_build = store.last_build()
        last_digest_run = store.last_job_run(DIGEST_JOB)
        digests = store.recent_digests(1)
    # A digest run that found nothing new makes no digest row, but it did run.
    last_digest = last_digest_run or (digests[0][0].created_at if digests else None)
    return LastRuns(last_build.finished_at if last_build else None, last_digest)


def missed_runs(config: Config, now: datetime) -> dict[str, datetime]:
    """Jobs whose fire time passed while nothing ran, within the grace time: job → that time."""
    grace = timedelta(seconds=config.schedule.misfire_grace_time)
    last = last_runs(config)
    missed = {}
    for schedule, last_run in zip(schedules(config), (last.build, last.digest), strict=True):
        due = missed_run(schedule, last_run, now, grace)
        if due is not None:
            missed[schedule.job] = due
    return missed


def _attempt(job: str, work: Callable[[], T]) -> T | None:
    """Run one job's work; a busy lock or an error is logged and the daemon carries on."""
    try:
        return work()
    except LockBusyError as e:
        log.warning("%s skipped: %s", job, e.message, extra={"job": job})
    except PublisherError as e:
        log.error("%s failed: %s", job, e.message, extra={"job": job, "hint": e.hint})
    return None


def build_job(config: Config, clock: Clock) -> None:
    report = _attempt("build", lambda: build(config, clock()))
    if report is None:
        return
    for warning in report.warnings:
        log.warning(warning, extra={"job": "build"})
    log.info(report.summary(), extra={"job": "build"})


def digest_job(config: Config, clock: Clock, should_stop: Callable[[], bool]) -> None:
    if config.bounces.configured:  # readers who bounced or left by mail are skipped
        bounces = _attempt("bounces", lambda: process_bounces(config, clock()))
        if bounces is not None:
            log.info(bounces.summary(), extra={"job": "bounces"})
    report = _attempt("digest", lambda: send_digests(config, clock(), should_stop=should_stop))
    if report is None:
        return
    level = logging.WARNING if report.partial else logging.INFO
    log.log(level, report.summary(), extra={"job": "digest", "stopped": should_stop()})


def run_schedule(config: Config, clock: Clock) -> None:
    """Run the jobs until SIGTERM or SIGINT; missed runs within the grace time run once first."""
    now = clock()
    stop = threading.Event()
    build_schedule, digest_schedule = schedules(config)
    missed = missed_runs(config, now)
    for name, due in missed.items():
        log.info(
            "catching up: the %s run due at %s was missed; running it once now",
            name,
            due.isoformat(),
            extra={"job": name, "missed": due.isoformat()},
        )
    jobs = [
        Job(build_schedule, lambda: build_job(config, clock), "build" in missed),
        Job(digest_schedule, lambda: digest_job(config, clock, stop.is_set), "digest" in missed),
    ]
    for job in jobs:
        following = job.schedule.fire_times(now, 1)
        log.info(
            "%s; next run %s",
            describe(job.schedule),
            local_and_utc(following[0], job.schedule) if following else "never",
            extra={"job": job.schedule.job},
        )
    grace = timedelta(seconds=config.schedule.misfire_grace_time)
    serve(jobs, grace=grace, stop=stop, now=now)
