"""One inter-process lock: real processes contend for it, wait or exit 75, and state stays whole."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from publisher.core.config import Config
from publisher.core.errors import ExitCode
from publisher.newsletter.subscribers import add_subscriber
from publisher.site_config import load_config
from tests.conftest import NOW

DEADLINE = 120.0
"""Seconds a subprocess may take before the test gives up (a hang guard, not a measurement)."""
LOCK_TIMEOUT = 0.25
"""[schedule] lock_timeout where a writer must give up: short, so the test does not wait."""

OLD_FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Old</title>'
    "<link>https://news.example.org/</link><description>x</description><item>"
    "<title>Old</title><link>https://news.example.org/old/</link>"
    "<guid>https://news.example.org/old/</guid></item></channel></rss>"
)
"""A feed `adopt` reads before it waits for the lock."""

HOLD_THE_LOCK = """
import sys
from pathlib import Path
from publisher.site_config import load_config
from publisher.state.locking import exclusive
with exclusive(load_config(Path(sys.argv[1])), wait_seconds=0):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def _with_lock_timeout(site_dir: Path, seconds: float) -> Config:
    with (site_dir / "config.toml").open("a", encoding="utf-8") as file:
        file.write(f"\n[schedule]\nlock_timeout = {seconds}\n")
    return load_config(site_dir / "config.toml")


@contextlib.contextmanager
def _lock_held_by_another_process(config: Config) -> Iterator[subprocess.Popen[str]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(config.file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        yield holder
    finally:
        holder.communicate(input="", timeout=DEADLINE)


def _publisher(config: Config, *arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "publisher", "--config", str(config.file), *arguments],
        cwd=config.file.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _integrity(config: Config) -> str:
    with contextlib.closing(sqlite3.connect(config.state_db)) as db:
        (result,) = db.execute("PRAGMA integrity_check").fetchone()
        return str(result)


@pytest.mark.parametrize(
    "command",
    [
        ["build"],
        ["digest"],
        ["run"],
        ["subscribers", "add", "new@example.org"],
        ["adopt", "old.xml"],
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_a_writer_gives_up_after_lock_timeout_with_exit_75(
    site_dir: Path, command: list[str]
) -> None:
    config = _with_lock_timeout(site_dir, LOCK_TIMEOUT)
    (site_dir / "old.xml").write_text(OLD_FEED, encoding="utf-8")
    add_subscriber(config, "a@example.org", "", NOW)
    with _lock_held_by_another_process(config):
        writer = _publisher(config, *command)
        out, err = writer.communicate(timeout=DEADLINE)
        status = _publisher(config, "status")  # reads only: never waits for the lock
        status_out, _ = status.communicate(timeout=DEADLINE)
    assert writer.returncode == int(ExitCode.TEMPFAIL) == 75
    assert status.returncode == 0 and "subscribers:  0 pending, 1 active" in status_out
    assert err.splitlines()[-2:] == [
        f"error: another publisher is working on {config.paths.state} (waited {LOCK_TIMEOUT:g}s)",
        "hint: wait for it to finish; if none is running, the lock frees itself",
    ]
    assert _integrity(config) == "ok"
    assert not (site_dir / "public").exists()
    assert not config.paths.outbox.exists()
    assert "new@example.org" not in out


def test_a_writer_waits_for_the_lock_then_does_its_work(site_dir: Path) -> None:
    config = _with_lock_timeout(site_dir, DEADLINE)
    with _lock_held_by_another_process(config):
        # -v shows the lock's "waiting" debug line: proof that it waits.
        build = _publisher(config, "--log-format", "json", "-v", "build")
        assert build.stderr is not None
        for line in build.stderr:
            entry = json.loads(line)
            if entry["logger"] == "publisher.state.locking" and "waiting" in entry["message"]:
                break
        else:
            pytest.fail("the build never waited for the lock")
    out, _ = build.communicate(timeout=DEADLINE)
    assert build.returncode == 0
    assert out.startswith("built 5 posts")
    assert (site_dir / "public" / "feed.atom").is_file()
    assert _integrity(config) == "ok"


def test_concurrent_builds_and_digests_all_finish_and_mail_each_subscriber_once(
    site_dir: Path,
) -> None:
    config = _with_lock_timeout(site_dir, DEADLINE)
    for n in range(5):
        add_subscriber(config, f"reader{n}@example.org", "", NOW)
    processes = [_publisher(config, command) for command in ("build", "digest", "run") * 2]
    results = [(p.communicate(timeout=DEADLINE), p.returncode) for p in processes]
    assert [code for _, code in results] == [0] * len(processes), results

    with contextlib.closing(sqlite3.connect(config.state_db)) as db:
        assert db.execute("SELECT count(*) FROM digests").fetchone() == (1,)
        assert db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall() == [
            ("sent", 5)
        ]
        assert db.execute("SELECT count(*) FROM builds").fetchone() == (4,)
    messages = sorted(p.name for p in config.paths.outbox.rglob("*.eml"))
    assert messages == [f"{n:08d}.eml" for n in range(1, 6)]
    assert _integrity(config) == "ok"
