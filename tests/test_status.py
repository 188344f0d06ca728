"""`publisher status`: last build and digest, what is due next, counts; read-only."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from publisher.build.pipeline import build
from publisher.cli import cli
from publisher.core.config import Config
from publisher.newsletter.delivery import send_digests
from publisher.newsletter.subscribers import add_subscriber, remove_subscriber
from publisher.newsletter.transports import Result
from publisher.state.locking import exclusive
from publisher.status import status
from tests.conftest import NOW, ROOT


def _status_output(site_dir: Path) -> list[str]:
    result = CliRunner().invoke(
        cli,
        ["--config", str(site_dir / "config.toml"), "--now", NOW.isoformat(), "status"],
        prog_name="publisher",
    )
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_status_before_anything_ran_says_never_and_creates_nothing(
    config: Config, site_dir: Path
) -> None:
    lines = _status_output(site_dir)
    assert lines[:2] == ["last build:   never", "last digest:  never"]
    # NOW is Thursday 2024-06-20 09:00 in Seoul; the default digest is Mondays 08:00.
    assert "next digest:  Mon 2024-06-24 08:00:00+09:00 KST = 2024-06-23 23:00:00 UTC" in lines
    assert "next build:   Thu 2024-06-20 09:15:00+09:00 KST = 2024-06-20 00:15:00 UTC" in lines
    assert "subscribers:  0 pending, 0 active, 0 unsubscribed, 0 bounced" in lines
    assert not config.paths.state.exists()


def test_status_after_a_build_and_a_digest(config: Config, site_dir: Path) -> None:
    built = build(config, NOW)
    for email in ("a@example.org", "b@example.org", "c@example.org"):
        add_subscriber(config, email, "", NOW)
    remove_subscriber(config, "c@example.org", NOW)
    digest_time = NOW + timedelta(minutes=5)
    report = send_digests(config, digest_time)
    assert [run.sent for run in report.runs] == [2]

    lines = _status_output(site_dir)
    assert lines[0] == (
        "last build:   Thu 2024-06-20 09:00:00+09:00 KST = 2024-06-20 00:00:00 UTC: "
        f"5 posts, {len(built.files.written)} files written, {len(built.warnings)} warnings"
    )
    assert lines[1] == (
        "last digest:  #1 Thu 2024-06-20 09:05:00+09:00 KST = 2024-06-20 00:05:00 UTC, "
        "complete: 0 pending, 0 sending, 2 sent, 0 failed, 0 ambiguous"
    )
    assert "subscribers:  0 pending, 2 active, 1 unsubscribed, 0 bounced" in lines
    assert "ledger:       0 pending, 0 sending, 2 sent, 0 failed, 0 ambiguous" in lines


def test_status_reads_without_the_lock_and_without_writing(config: Config) -> None:
    build(config, NOW)
    add_subscriber(config, "a@example.org", "", NOW)
    before = hashlib.sha256(config.state_db.read_bytes()).hexdigest()
    with exclusive(config, wait_seconds=0):  # a writer is busy: status must not wait for it
        report = status(config, NOW)
    assert report.last_build is not None
    assert report.subscribers["active"] == 1
    assert report.last_digest is None
    assert hashlib.sha256(config.state_db.read_bytes()).hexdigest() == before


def test_an_interrupted_digest_is_reported_unfinished(config: Config) -> None:
    add_subscriber(config, "a@example.org", "", NOW)
    add_subscriber(config, "b@example.org", "", NOW)
    stop = StopAfterFirstResult()
    send_digests(config, NOW, should_stop=stop.is_set, progress=stop)
    report = status(config, NOW)
    assert report.unfinished_digests == 1
    assert report.last_digest_counts["sent"] == 1
    assert report.last_digest_counts["pending"] == 1
    assert "unfinished:   1 digest; the next run finishes it" in report.lines()


class StopAfterFirstResult(threading.Event):
    """A digest progress report that asks the run to stop once one message is done."""

    def start(self, total: int) -> None:
        assert total == 2

    def advance(self, result: Result) -> None:
        self.set()


def _json_of(site_dir: Path, *command: str) -> Any:
    result = CliRunner().invoke(
        cli,
        ["--config", str(site_dir / "config.toml"), "--now", NOW.isoformat(), *command, "--json"],
        prog_name="publisher",
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return json.loads(result.stdout)


def test_status_json_before_anything_ran(config: Config, site_dir: Path) -> None:
    assert _json_of(site_dir, "status") == {
        "last_build": None,
        "last_digest": None,
        "unfinished_digests": 0,
        "next_build": "2024-06-20T00:15:00+00:00",
        "next_digest": "2024-06-23T23:00:00+00:00",
        "next_digests": {"weekly": "2024-06-23T23:00:00+00:00"},
        "subscribers": {"pending": 0, "active": 0, "unsubscribed": 0, "bounced": 0},
        "ledger": {"pending": 0, "sending": 0, "sent": 0, "failed": 0, "ambiguous": 0},
        "mail_events": {
            "hard_bounce": 0,
            "soft_bounce": 0,
            "complaint": 0,
            "unsubscribe_request": 0,
        },
    }
    assert not config.paths.state.exists()


def test_status_json_and_digest_status_json_after_a_build_and_an_unfinished_digest(
    config: Config, site_dir: Path
) -> None:
    built = build(config, NOW)
    add_subscriber(config, "a@example.org", "", NOW)
    add_subscriber(config, "b@example.org", "", NOW)
    stop = StopAfterFirstResult()
    send_digests(config, NOW + timedelta(minutes=5), should_stop=stop.is_set, progress=stop)

    found = _json_of(site_dir, "status")
    assert found["last_build"] == {
        "finished_at": "2024-06-20T00:00:00+00:00",
        "posts": 5,
        "written": len(built.files.written),
        "unchanged": 0,
        "warnings": len(built.warnings),
    }
    digest = found["last_digest"]
    assert digest["id"] == 1 and digest["created_at"] == "2024-06-20T00:05:00+00:00"
    assert digest["complete"] is False and digest["completed_at"] is None
    assert digest["subject"].startswith("뉴스다오 속보: ")
    assert digest["deliveries"] == {
        "pending": 1,
        "sending": 0,
        "sent": 1,
        "failed": 0,
        "ambiguous": 0,
    }
    assert found["unfinished_digests"] == 1
    assert found["subscribers"]["active"] == 2
    assert found["ledger"] == digest["deliveries"]

    assert _json_of(site_dir, "digest", "status") == {"digests": [digest]}


def test_digest_status_json_with_no_digests(site_dir: Path) -> None:
    assert _json_of(site_dir, "digest", "status") == {"digests": []}


def _keys(value: Any) -> set[str]:
    """Every key of every object in a JSON value, but the status names under the counts."""
    if isinstance(value, list):
        return set().union(*map(_keys, value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found = set(value)
    for key, item in value.items():
        if key not in ("subscribers", "ledger", "deliveries", "mail_events"):
            found |= _keys(item)
    return found


def test_every_status_json_key_is_documented(config: Config, site_dir: Path) -> None:
    build(config, NOW)
    add_subscriber(config, "a@example.org", "", NOW)
    send_digests(config, NOW)
    keys = _keys(_json_of(site_dir, "status")) | _keys(_json_of(site_dir, "digest", "status"))
    assert {"finished_at", "deliveries", "next_digest", "digests"} <= keys
    page = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = page.split("\n## Status\n", 1)[1].split("\n## ", 1)[0]
    for key in keys:
        assert f"`{key}`" in section, f"{key} is not described under Status in docs/operations.md"


def test_status_shows_when_every_offered_cadence_is_next_due(site_dir: Path) -> None:
    config_file = site_dir / "config.toml"
    text = config_file.read_text(encoding="utf-8")
    text = text.replace("[digest]\n", '[digest]\ncadences = ["weekly", "daily", "each"]\n', 1)
    config_file.write_text(text + '\n[schedule]\ndaily = "0 7 * * *"\n', encoding="utf-8")

    found = _json_of(site_dir, "status")
    shown = CliRunner().invoke(
        cli, ["--config", str(config_file), "--now", NOW.isoformat(), "status"]
    )

    assert found["next_digests"] == {
        "weekly": "2024-06-23T23:00:00+00:00",
        "daily": "2024-06-20T22:00:00+00:00",
    }
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert any(line.startswith("next daily:   Fri 2024-06-21 07:00:00+09:00") for line in lines)
    assert "each post:    mailed by the next run after it is published" in lines
