"""`publisher schedule`: --next, catching up missed runs, logs, and a graceful stop on SIGTERM."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import logging
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from publisher.build.pipeline import build
from publisher.cli import cli
from publisher.core import logs
from publisher.core.config import Config
from publisher.jobs import build_job, digest_job, missed_runs
from publisher.newsletter.delivery import send_digests
from publisher.newsletter.subscribers import add_subscriber, import_subscribers
from publisher.schedule import Job, make_schedule, serve
from publisher.site_config import load_config
from publisher.state.locking import exclusive
from tests.conftest import NOW, SEOUL
from tests.smtp_sink import SmtpSink

SUBPROCESS_DEADLINE = 120.0
"""Seconds a subprocess may take before the test gives up (a hang, not a measurement)."""


def _set_schedule(site_dir: Path, **settings: object) -> Config:
    table = "\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items())
    with (site_dir / "config.toml").open("a", encoding="utf-8") as file:
        file.write(f"\n[schedule]\n{table}\n")
    return load_config(site_dir / "config.toml")


def _invoke(site_dir: Path, *arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(site_dir / "config.toml"), *arguments], prog_name="publisher"
    )
    return result.exit_code, result.output


# --next ---------------------------------------------------------------------


def test_next_lists_fire_times_across_new_york_spring_forward(site_dir: Path) -> None:
    _set_schedule(site_dir, build="6h", digest="30 2 * * *", timezone="America/New_York")
    code, output = _invoke(
        site_dir, "--now", "2024-03-09T12:00:00-05:00", "schedule", "--next", "3"
    )
    assert code == 0, output
    assert output.splitlines() == [
        "build: every 6h (America/New_York)",
        "  Sat 2024-03-09 18:00:00-05:00 EST = 2024-03-09 23:00:00 UTC",
        "  Sun 2024-03-10 00:00:00-05:00 EST = 2024-03-10 05:00:00 UTC",
        "  Sun 2024-03-10 07:00:00-04:00 EDT = 2024-03-10 11:00:00 UTC",  # six real hours
        "digest: 30 2 * * * (America/New_York)",
        "  Sun 2024-03-10 03:30:00-04:00 EDT = 2024-03-10 07:30:00 UTC",  # 02:30 never happens
        "  Mon 2024-03-11 02:30:00-04:00 EDT = 2024-03-11 06:30:00 UTC",
        "  Tue 2024-03-12 02:30:00-04:00 EDT = 2024-03-12 06:30:00 UTC",
    ]


def test_next_keeps_the_local_hour_of_a_berlin_weekly_digest_across_fall_back(
    site_dir: Path,
) -> None:
    _set_schedule(site_dir, digest="0 8 * * mon", timezone="Europe/Berlin")
    code, output = _invoke(site_dir, "--now", "2024-10-19T22:00:00Z", "schedule", "--next", "3")
    assert code == 0, output
    digest = output.split("digest: 0 8 * * mon (Europe/Berlin)\n", 1)[1]
    assert digest.splitlines() == [
        "  Mon 2024-10-21 08:00:00+02:00 CEST = 2024-10-21 06:00:00 UTC",
        "  Mon 2024-10-28 08:00:00+01:00 CET = 2024-10-28 07:00:00 UTC",
        "  Mon 2024-11-04 08:00:00+01:00 CET = 2024-11-04 07:00:00 UTC",
    ]


def test_next_defaults_to_the_site_time_zone(site_dir: Path) -> None:
    code, output = _invoke(site_dir, "--now", NOW.isoformat(), "schedule", "--next", "1")
    assert code == 0, output
    assert output.splitlines() == [
        "build: every 15m (Asia/Seoul)",
        "  Thu 2024-06-20 09:15:00+09:00 KST = 2024-06-20 00:15:00 UTC",
        "digest: 0 8 * * mon (Asia/Seoul)",
        "  Mon 2024-06-24 08:00:00+09:00 KST = 2024-06-23 23:00:00 UTC",
    ]


def test_the_scheduler_refuses_a_fake_clock(site_dir: Path) -> None:
    code, output = _invoke(site_dir, "--now", NOW.isoformat(), "schedule")
    assert code == 2
    assert "--now only applies to `schedule --next`" in output


# missed runs ----------------------------------------------------------------


def test_a_build_missed_while_down_is_caught_up_within_the_grace_time(site_dir: Path) -> None:
    config = _set_schedule(site_dir, build="15m", misfire_grace_time=600)
    build(config, NOW)  # Thursday 09:00 in Seoul
    assert missed_runs(config, NOW + timedelta(minutes=5)) == {}
    due = missed_runs(config, NOW + timedelta(minutes=20))
    assert {job: moment.isoformat() for job, moment in due.items()} == {
        "build": "2024-06-20T09:15:00+09:00"
    }
    # 09:15 and 09:30 were both missed: one catch-up, for the latest, if still within 600 s.
    assert missed_runs(config, NOW + timedelta(minutes=39))["build"].minute == 30
    assert missed_runs(config, NOW + timedelta(minutes=41)) == {}


def test_a_missed_weekly_digest_is_caught_up_only_within_the_grace_time(site_dir: Path) -> None:
    config = _set_schedule(site_dir, build="1d", digest="0 8 * * mon", misfire_grace_time=3600)
    monday = datetime(2024, 6, 17, 8, 0, 30, tzinfo=SEOUL)
    build(config, monday - timedelta(hours=1))
    add_subscriber(config, "a@example.org", "", monday)
    assert [run.sent for run in send_digests(config, monday).runs] == [1]

    next_monday = datetime(2024, 6, 24, 8, 0, tzinfo=SEOUL)
    due = missed_runs(config, next_monday + timedelta(minutes=10))
    assert due["digest"].isoformat() == "2024-06-24T08:00:00+09:00"
    assert "digest" not in missed_runs(config, next_monday + timedelta(minutes=61))


def test_nothing_is_caught_up_before_anything_ever_ran(site_dir: Path) -> None:
    config = _set_schedule(site_dir, build="15m")
    assert missed_runs(config, NOW) == {}


# logs -----------------------------------------------------------------------


def test_json_logs_are_one_object_per_line_with_the_extra_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure("json")
    logging.getLogger("publisher.test").info("sent %d", 3, extra={"job": "digest", "when": NOW})
    logging.getLogger("publisher.test").debug("not shown without -v")
    (line,) = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert datetime.fromisoformat(entry.pop("time")).utcoffset() == timedelta(0)
    assert entry == {
        "level": "INFO",
        "logger": "publisher.test",
        "message": "sent 3",
        "job": "digest",
        "when": "2024-06-20 09:00:00+09:00",
    }


def test_text_logs_and_the_verbosity_flags(capsys: pytest.CaptureFixture[str]) -> None:
    log = logging.getLogger("publisher.test")
    logs.configure("text", quiet=True)
    log.info("hidden")
    log.warning("careful", extra={"job": "build"})
    logs.configure("text", verbose=True)
    log.debug("detail")
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "WARNING publisher.test: careful (job=build)",
        "DEBUG publisher.test: detail",
    ]


def test_verbose_and_quiet_together_are_a_usage_error(site_dir: Path) -> None:
    code, output = _invoke(site_dir, "-v", "-q", "status")
    assert code == 2
    assert "cannot be used together" in output


# graceful stop --------------------------------------------------------------


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_serve_lets_the_running_job_finish_after_a_stop_signal(stop_signal: signal.Signals) -> None:
    stop = threading.Event()
    events: list[str] = []

    def job() -> None:
        events.append("started")
        (watcher,) = [t for t in threading.enumerate() if t.name == "stop-signal"]
        assert watcher.ident is not None
        # Thread-directed, so no other thread of the test process can take it.
        signal.pthread_kill(watcher.ident, stop_signal)
        events.append("saw stop" if stop.wait(SUBPROCESS_DEADLINE) else "no stop")

    schedule = make_schedule("digest", "1h", ZoneInfo("UTC"))
    received = serve(
        [Job(schedule, job, catch_up=True)],
        grace=timedelta(minutes=1),
        stop=stop,
        now=datetime.now(ZoneInfo("UTC")),
    )
    assert received is stop_signal
    assert events == ["started", "saw stop"]


def _smtp_site(site_dir: Path, sink: SmtpSink, subscribers: int) -> Config:
    """The sample site sending through `sink`, 20 messages a second, with a digest every
    second: slow enough to stop mid-digest, quick enough not to keep the suite waiting."""
    sink.send_site_through(site_dir / "config.toml", rate=20.0, connections=1)
    config = _set_schedule(site_dir, build="1h", digest="1s", misfire_grace_time=60)
    rows = site_dir / "subscribers.csv"
    with rows.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([f"reader{n:03d}@example.org", ""] for n in range(subscribers))
    assert import_subscribers(config, rows, NOW).added == subscribers
    return config


def _start_scheduler(site_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "publisher",
            "--config",
            str(site_dir / "config.toml"),
            "--log-format",
            "json",
            "schedule",
        ],
        cwd=site_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> tuple[int, list[dict[str, object]]]:
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=SUBPROCESS_DEADLINE)
    return process.returncode, [json.loads(line) for line in err.splitlines()]


def _ledger(config: Config) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(config.state_db)) as db:
        return dict(db.execute("SELECT status, count(*) FROM deliveries GROUP BY status"))


def test_sigterm_mid_digest_then_restart_sends_everyone_exactly_one_copy(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    subscribers = 40
    config = _smtp_site(site_dir, smtp_sink, subscribers)

    first = _start_scheduler(site_dir)
    try:
        assert smtp_sink.wait_for_messages(3, timeout=SUBPROCESS_DEADLINE)
    finally:
        code, records = _stop(first)
    assert code == 0, records
    sent_before_restart = len(smtp_sink.messages)
    assert sent_before_restart < subscribers, "the digest finished before SIGTERM arrived"
    # The message in flight at SIGTERM was finished and recorded: nothing is left in doubt.
    assert _ledger(config) == {
        "sent": sent_before_restart,
        "pending": subscribers - sent_before_restart,
    }
    assert {record["level"] for record in records} <= {"DEBUG", "INFO", "WARNING"}
    assert any("SIGTERM received" in str(record["message"]) for record in records)

    second = _start_scheduler(site_dir)
    try:
        assert smtp_sink.wait_for_messages(subscribers, timeout=SUBPROCESS_DEADLINE)
    finally:
        code, records = _stop(second)
    assert code == 0, records

    for n in range(subscribers):
        assert len(smtp_sink.messages_for(f"reader{n:03d}@example.org")) == 1
    assert len(smtp_sink.messages) == subscribers
    assert _ledger(config) == {"sent": subscribers}


def test_on_start_the_scheduler_catches_up_a_digest_missed_within_the_grace_time(
    site_dir: Path,
) -> None:
    config = _set_schedule(site_dir, build="1h", digest="1h", misfire_grace_time=3600)
    add_subscriber(config, "a@example.org", "", NOW)
    # The last digest went out two hours ago, so the hourly digest due at the top of this
    # hour (at most an hour ago: inside the grace time) was missed, and the next regular
    # one is up to an hour away: the digest this test sees is the catch-up.
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    assert [run.sent for run in send_digests(config, two_hours_ago).runs] == [1]
    new_post = "---\ntitle: A later post\n---\n<p>More news.</p>\n"
    (site_dir / "content" / "900-later.html").write_text(new_post, encoding="utf-8")

    process = _start_scheduler(site_dir)
    try:
        assert _wait_until(lambda: _completed_digests(config) == 2)
    finally:
        code, records = _stop(process)
    assert code == 0, records
    messages = [str(record["message"]) for record in records]
    catch_up = [r for r in records if str(r["message"]).startswith("catching up: the digest")]
    assert len(catch_up) == 1 and catch_up[0]["job"] == "digest"
    assert messages.index(str(catch_up[0]["message"])) < messages.index(
        "digest 2 (new): 1 sent, 0 failed, 0 deferred, 0 ambiguous"
    )
    assert sorted(p.parent.name for p in config.paths.outbox.rglob("*.eml")) == [
        "digest-00001",
        "digest-00002",
    ]


def _completed_digests(config: Config) -> int:
    with contextlib.closing(sqlite3.connect(f"{config.state_db.as_uri()}?mode=ro", uri=True)) as db:
        (count,) = db.execute("SELECT count(*) FROM digests WHERE completed_at IS NOT NULL")
        return int(count[0])


def _wait_until(condition: Callable[[], bool]) -> bool:
    """Poll `condition` until it holds or SUBPROCESS_DEADLINE passes (a hang guard)."""
    deadline = time.monotonic() + SUBPROCESS_DEADLINE
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_job_that_finds_the_lock_busy_or_fails_is_logged_and_the_daemon_goes_on(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    impatient = dataclasses.replace(
        config, schedule=dataclasses.replace(config.schedule, lock_timeout=0.1)
    )
    caplog.set_level(logging.INFO, logger="publisher.jobs")
    with exclusive(impatient, wait_seconds=0):  # another publisher is writing
        build_job(impatient, lambda: NOW)
    (impatient.paths.content / "broken.md").write_text("---\ntitle: [open\n---\n", "utf-8")
    digest_job(impatient, lambda: NOW, lambda: False)

    messages = [(r.levelname, r.getMessage(), getattr(r, "job", "")) for r in caplog.records]
    assert messages[0][0:1] == ("WARNING",) and messages[0][2] == "build"
    assert messages[0][1].startswith("build skipped: another publisher is working on")
    assert messages[1][0] == "ERROR" and messages[1][2] == "digest"
    assert messages[1][1].startswith("digest failed: content in ")
    assert not (impatient.paths.output / "feed.atom").exists()
