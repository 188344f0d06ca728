"""`publisher run`, the one-shot for cron and timers: feeds, then the digest; honest exit codes."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import sqlite3
import subprocess
import sys
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import feedparser

from publisher.core.config import Config
from publisher.site_config import load_config
from tests.conftest import NOW, SAMPLE
from tests.smtp_sink import SmtpSink

DEADLINE = 120.0
"""Seconds a subprocess may take before the test gives up (a hang guard, not a measurement)."""


def _publisher(site_dir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publisher", "--config", str(site_dir / "config.toml"), *arguments],
        cwd=site_dir,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


def _import_sample_subscribers(site_dir: Path) -> None:
    imported = _publisher(site_dir, "subscribers", "import", str(SAMPLE / "subscribers.csv"))
    assert imported.returncode == 0, imported.stderr


def _outbox_files(site_dir: Path) -> dict[str, bytes]:
    outbox = site_dir / "outbox"
    return {str(p.relative_to(outbox)): p.read_bytes() for p in outbox.rglob("*") if p.is_file()}


def test_run_builds_the_feeds_and_writes_the_digest_to_the_outbox(site_dir: Path) -> None:
    _import_sample_subscribers(site_dir)
    first = _publisher(site_dir, "--now", NOW.isoformat(), "run")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0].startswith("built 5 posts")
    assert "digest 1 (new): 2 sent, 0 failed" in first.stdout

    for name in ("feed.atom", "feed.rss", "feed.json", "index.html"):
        assert (site_dir / "public" / name).is_file()
    atom = feedparser.parse((site_dir / "public" / "feed.atom").read_bytes())
    assert not atom.bozo and len(atom.entries) == 5

    files = _outbox_files(site_dir)
    assert sorted(files) == [
        "digest-00001/00000001.eml",
        "digest-00001/00000002.eml",
        "digest-00001/preview.html",
    ]
    recipients = set()
    for name in ("digest-00001/00000001.eml", "digest-00001/00000002.eml"):
        message = email.message_from_bytes(files[name], policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        recipients.add(message["To"].addresses[0].addr_spec)
        assert message.get_body(("plain",)) is not None
    assert recipients == {"reader@example.org", "editor@example.org"}


def test_a_second_run_sends_nothing_and_exits_0(site_dir: Path) -> None:
    _import_sample_subscribers(site_dir)
    assert _publisher(site_dir, "--now", NOW.isoformat(), "run").returncode == 0
    before = _outbox_files(site_dir)
    feeds_before = (site_dir / "public" / "feed.atom").read_bytes()

    later = (NOW + timedelta(hours=1)).isoformat()
    second = _publisher(site_dir, "--now", later, "run")
    assert second.returncode == 0, second.stderr
    # The first run's digest made the archive's first issue, which index.html now links.
    assert "1 file written" in second.stdout
    assert 'class="archive"' in (site_dir / "public" / "index.html").read_text(encoding="utf-8")
    assert "nothing sent" in second.stdout
    assert _outbox_files(site_dir) == before
    assert (site_dir / "public" / "feed.atom").read_bytes() == feeds_before
    third = _publisher(site_dir, "--now", later, "run")
    assert third.returncode == 0 and "0 files written" in third.stdout, third.stdout


def _send_through(site_dir: Path, sink: SmtpSink) -> Config:
    return load_config(sink.send_site_through(site_dir / "config.toml"))


def test_run_exits_3_when_a_recipient_is_refused_for_good(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    config = _send_through(site_dir, smtp_sink)
    _import_sample_subscribers(site_dir)
    smtp_sink.fail("editor@example.org", (550, "5.1.1 no such user"), forever=True)

    result = _publisher(site_dir, "--now", NOW.isoformat(), "run")
    assert result.returncode == 3, result.stderr
    assert "digest 1 (new): 1 sent, 1 failed" in result.stdout
    assert len(smtp_sink.messages_for("reader@example.org")) == 1
    assert smtp_sink.messages_for("editor@example.org") == []
    assert (site_dir / "public" / "feed.atom").is_file()  # the feeds are built all the same

    with contextlib.closing(sqlite3.connect(config.state_db)) as db:
        rows = db.execute(
            "SELECT s.email, d.status, d.code, s.status FROM deliveries d "
            "JOIN subscribers s ON s.id = d.subscriber_id ORDER BY s.email"
        ).fetchall()
    assert rows == [
        ("editor@example.org", "failed", 550, "bounced"),
        ("reader@example.org", "sent", 250, "active"),
    ]

    again = _publisher(site_dir, "--now", (NOW + timedelta(hours=1)).isoformat(), "run")
    assert again.returncode == 0, again.stderr
    assert len(smtp_sink.messages) == 1


def test_run_sends_a_digest_only_when_the_schedule_says_one_is_due(site_dir: Path) -> None:
    _import_sample_subscribers(site_dir)
    first = _publisher(site_dir, "--now", NOW.isoformat(), "run")  # a Thursday
    assert first.returncode == 0, first.stderr
    assert "digest 1 (new)" in first.stdout  # the first digest never waits
    (site_dir / "content" / "later.md").write_text(
        "---\ntitle: A later post\ndate: 2024-06-20 10:00:00 +0900\n---\nNews.\n",
        encoding="utf-8",
    )
    sent_before = _outbox_files(site_dir)

    thursday = _publisher(site_dir, "--now", (NOW + timedelta(hours=2)).isoformat(), "run")

    assert thursday.returncode == 0, thursday.stderr
    assert "6 posts" in thursday.stdout, "the feeds are still rebuilt"
    assert "digest not due until 2024-06-24T08:00:00+09:00" in thursday.stdout
    assert _outbox_files(site_dir) == sent_before

    monday = _publisher(site_dir, "--now", "2024-06-24T08:05:00+09:00", "run")

    assert monday.returncode == 0, monday.stderr
    assert "digest 2 (new): 2 sent" in monday.stdout
    new_files = set(_outbox_files(site_dir)) - set(sent_before)
    assert {name.split("/")[0] for name in new_files} == {"digest-00002"}
    again = _publisher(site_dir, "--now", "2024-06-24T09:00:00+09:00", "run")
    assert "digest not due until 2024-07-01T08:00:00+09:00" in again.stdout


def test_quiet_run_prints_nothing_when_all_is_well(site_dir: Path) -> None:
    _import_sample_subscribers(site_dir)
    assert _publisher(site_dir, "--now", NOW.isoformat(), "run").returncode == 0

    later = (NOW + timedelta(minutes=15)).isoformat()
    quiet = _publisher(site_dir, "--quiet", "--now", later, "run")

    assert quiet.returncode == 0, quiet.stderr
    assert (quiet.stdout, quiet.stderr) == ("", "")  # cron mails nothing


def test_json_logs_carry_warnings_and_errors_too(site_dir: Path) -> None:
    (site_dir / "content" / "broken.md").write_text("---\ntitle: [unclosed\n---\n", "utf-8")

    failed = _publisher(site_dir, "--log-format", "json", "--now", NOW.isoformat(), "build")

    assert failed.returncode == 1
    (line,) = failed.stderr.splitlines()
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and "problem" in entry["message"]
    assert any("broken.md" in p["where"] and p["hint"] for p in entry["problems"])
    (site_dir / "content" / "broken.md").unlink()
    built = _publisher(site_dir, "--log-format", "json", "--now", NOW.isoformat(), "build")
    assert built.returncode == 0, built.stderr
    warnings = [json.loads(line) for line in built.stderr.splitlines()]
    assert len(warnings) == 5 and all(w["level"] == "WARNING" for w in warnings)
