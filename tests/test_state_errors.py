"""State errors tell the truth (issue 12, item 8): read-only, missing, empty, foreign and
damaged state databases each get their own message and hint, no hint suggests restoring an
old ledger without saying it mails posts again, and a lost database is not replaced by
accident while earlier feeds or digests show publisher ran here."""

from __future__ import annotations

import contextlib
import sqlite3

from click.testing import CliRunner, Result

from publisher.cli import cli
from publisher.core.config import Config
from tests.conftest import NOW, SAMPLE
from tests.read_only import read_only

EXAMPLES = SAMPLE / "subscribers.csv"


def publisher(config: Config, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config.file), "--now", NOW.isoformat(), *args])


def ok(config: Config, *args: str) -> Result:
    result = publisher(config, *args)
    assert result.exit_code == 0, result.output
    return result


def test_a_read_only_state_folder_is_named_as_such_by_every_command(config: Config) -> None:
    """Reproduces item 8: a read-only state folder gave tracebacks (`digest`) or called the
    database "unreadable" and told the operator to restore it from a backup."""
    ok(config, "build")
    ok(config, "subscribers", "add", "reader@example.org")
    for name in ("secret.key", "publisher.sqlite3-wal", "publisher.sqlite3-shm"):
        (config.paths.state / name).unlink(missing_ok=True)
    with read_only(config.paths.state):
        for command in (
            ["build"],
            ["status"],
            ["digest", "status"],
            ["subscribers", "list"],
            ["subscribers", "add", "other@example.org"],
            ["digest"],
        ):
            result = publisher(config, *command)
            assert result.exit_code == 1, (command, result.output)
            assert result.exception is None or isinstance(result.exception, SystemExit), command
            assert "read-only" in result.output or "may write there" in result.output, command
            assert "restore" not in result.output, command
            assert str(config.paths.state) in result.output, command


def test_a_damaged_database_never_gets_a_bare_restore_hint(config: Config) -> None:
    """Reproduces item 8: `digest status` on a damaged database said "restore it from a
    backup", which rolls the ledger back and mails the posts sent since then again."""
    ok(config, "build")
    config.state_db.write_bytes(b"this is not an SQLite database " * 200)
    for command in (["digest", "status"], ["status"], ["build"]):
        result = publisher(config, *command)
        assert result.exit_code == 1, result.output
        assert "is not an SQLite database" in result.output, result.output
        assert "restore the newest backup" in result.output
        assert "would be mailed again" in result.output
        assert "digest --mark-sent" in result.output


def test_another_programs_database_is_refused_and_left_as_it_is(config: Config) -> None:
    """Reproduces item 8: a database of another program was taken over and migrated."""
    config.paths.state.mkdir()
    with contextlib.closing(sqlite3.connect(config.state_db)) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT)")
        db.commit()
    before = config.state_db.read_bytes()
    for command in (["subscribers", "list"], ["build"], ["subscribers", "add", "a@example.org"]):
        result = publisher(config, *command)
        assert result.exit_code == 1, result.output
        assert "is an SQLite database but not publisher's state" in result.output
        assert "the tables users" in result.output
    assert config.state_db.read_bytes() == before


def test_an_emptied_database_beside_earlier_output_is_refused_without_new_state(
    config: Config,
) -> None:
    """Reproduces item 8: a zero-byte state database was taken as a new one, so after the
    list was imported again every post went out again."""
    ok(config, "subscribers", "import", str(EXAMPLES))
    ok(config, "build")
    ok(config, "digest")
    mailed = sorted(config.paths.outbox.glob("digest-*/*.eml"))
    assert mailed
    config.state_db.write_bytes(b"")  # a full disk, a failed copy
    for name in ("publisher.sqlite3-wal", "publisher.sqlite3-shm"):
        (config.paths.state / name).unlink(missing_ok=True)

    for command in (["subscribers", "import", str(EXAMPLES)], ["digest"], ["build"], ["status"]):
        result = publisher(config, *command)
        assert result.exit_code == 1, result.output
        assert "an empty (0-byte) state database" in result.output, result.output
        assert "publisher --new-state" in result.output
        assert "would be mailed again" in result.output
    assert config.state_db.stat().st_size == 0
    assert sorted(config.paths.outbox.glob("digest-*/*.eml")) == mailed

    ok(config, "--new-state", "subscribers", "import", str(EXAMPLES))
    ok(config, "status")  # a new state database now, made on purpose


def test_a_missing_database_beside_earlier_digests_is_refused_without_new_state(
    config: Config,
) -> None:
    ok(config, "subscribers", "add", "reader@example.org")
    ok(config, "digest")
    config.state_db.unlink()
    result = publisher(config, "digest")
    assert result.exit_code == 1
    assert "there is no state database at" in result.output
    assert "digest-00001 shows publisher ran here before" in result.output
    assert not config.state_db.exists()
    ok(config, "--new-state", "subscribers", "add", "reader@example.org")


def test_a_new_site_needs_no_flag_and_an_empty_file_there_is_simply_made_anew(
    config: Config,
) -> None:
    config.paths.state.mkdir()
    config.state_db.write_bytes(b"")
    ok(config, "build")
    assert config.state_db.stat().st_size > 0
