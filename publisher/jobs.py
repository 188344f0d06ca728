"""`publisher schedule`: the build job and a digest job per scheduled cadence, run on
[schedule] until stopped; `each` mails go out after every build."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

from publisher.build.pipeline import build
from publisher.core.config import Config
from publisher.core.errors import LockBusyError, PublisherError
from publisher.newsletter.bounces import process_bounces
from publisher.newsletter.delivery import send_digests
from publisher.newsletter.due import DIGEST_JOB, EACH
from publisher.schedule import Job, Schedule, digest_schedules, missed_run, schedules, serve
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
    for schedule in _schedules(config):
        lines.append(describe(schedule))
        lines.extend(f"  {local_and_utc(t, schedule)}" for t in schedule.fire_times(now, count))
    return lines


def _schedules(config: Config) -> list[Schedule]:
    """The build's schedule, then each scheduled cadence's (weekly, daily) that is offered."""
    return [schedules(config)[0], *digest_schedules(config).values()]


def last_runs(config: Config) -> dict[str, datetime | None]:
    """Job → when it last ran to the end, from the store (read-only)."""
    jobs = [schedule.job for schedule in _schedules(config)]
    with reading(config.state_db) as store:
        if store is None:
            return dict.fromkeys(jobs)
        last_build = store.last_build()
        runs: dict[str, datetime | None] = {job: store.last_job_run(job) for job in jobs}
        digests = store.recent_digests(1)
    runs["build"] = last_build.finished_at if last_build else None
    # A digest run that found nothing new makes no digest row, but it did run.
    if DIGEST_JOB in runs and runs[DIGEST_JOB] is None and digests:
        runs[DIGEST_JOB] = digests[0][0].created_at
    return runs


def missed_runs(config: Config, now: datetime) -> dict[str, datetime]:
    """Jobs whose fire time passed while nothing ran, within the grace time: job → that time."""
    grace = timedelta(seconds=config.schedule.misfire_grace_time)
    last = last_runs(config)
    missed = {}
    for schedule in _schedules(config):
        due = missed_run(schedule, last[schedule.job], now, grace)
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


def digest_job(
    config: Config,
    clock: Clock,
    should_stop: Callable[[], bool],
    cadences: Sequence[str] | None = None,
) -> None:
    """Send the issues of `cadences` (default: every offered one) and finish unfinished ones."""
    if config.bounces.configured:  # readers who bounced or left by mail are skipped
        bounces = _attempt("bounces", lambda: process_bounces(config, clock()))
        if bounces is not None:
            log.info(bounces.summary(), extra={"job": "bounces"})
    job = DIGEST_JOB if cadences is None else "-".join([DIGEST_JOB, *cadences])
    report = _attempt(
        job, lambda: send_digests(config, clock(), cadences=cadences, should_stop=should_stop)
    )
    if report is None:
        return
    level = logging.WARNING if report.partial else logging.INFO
    log.log(level, report.summary(), extra={"job": job, "stopped": should_stop()})


def run_schedule(config: Config, clock: Clock) -> None:
    """Run the jobs until SIGTERM or SIGINT; missed runs within the grace time run once first."""
    now = clock()
    stop = threading.Event()
    build_schedule = schedules(config)[0]
    missed = missed_runs(config, now)
    for name, due in missed.items():
        log.info(
            "catching up: the %s run due at %s was missed; running it once now",
            name,
            due.isoformat(),
            extra={"job": name, "missed": due.isoformat()},
        )

    def build_then_each() -> None:
        build_job(config, clock)
        if EACH in config.digest.cadences:  # a mail per new post goes out with every build
            digest_job(config, clock, stop.is_set, [EACH])

    jobs = [Job(build_schedule, build_then_each, "build" in missed)]
    for cadence, schedule in digest_schedules(config).items():
        jobs.append(
            Job(
                schedule,
                partial(digest_job, config, clock, stop.is_set, [cadence]),
                schedule.job in missed,
            )
        )
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
