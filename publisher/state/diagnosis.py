"""What is wrong with a state database, told truthfully, and the guard against starting afresh
by accident.

The state database holds what cannot be rebuilt: first-seen dates, the subscriber list
and the delivery ledger (who was sent which digest). Each way it can be unusable gets
its own message and hint: read-only, missing, empty (0 bytes), another program's
database, or not a database at all. No hint suggests restoring an older copy without
saying that a ledger older than the last digest mails those posts again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from publisher.core.config import Config
from publisher.core.errors import StateError

READ_ONLY_CODES = frozenset(
    {
        "SQLITE_READONLY",
        "SQLITE_READONLY_DIRECTORY",
        "SQLITE_READONLY_CANTINIT",
        "SQLITE_READONLY_CANTLOCK",
        "SQLITE_READONLY_RECOVERY",
        "SQLITE_CANTOPEN",
        "SQLITE_PERM",
        "SQLITE_AUTH",
    }
)
DAMAGED_CODES = frozenset({"SQLITE_NOTADB", "SQLITE_CORRUPT"})

RESTORE_WARNING = (
    "a copy older than the last digest does not know what that digest sent: its posts "
    "would be mailed again unless you run `publisher digest --mark-sent` after restoring"
)
NEW_STATE_OPTION = "--new-state"


def open_failure(path: Path, error: sqlite3.Error) -> StateError:
    """The StateError for an SQLite error met while opening or first reading `path`."""
    code = getattr(error, "sqlite_errorname", "")
    if code in READ_ONLY_CODES:
        return read_only(path, str(error))
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StateError(
            f"state database {path} is busy: {error}",
            hint="another process holds it for longer than 30 seconds; try again later",
        )
    if code in DAMAGED_CODES:
        return StateError(
            f"state database {path} is not an SQLite database ({error}): damaged, or another "
            "kind of file",
            hint=f"move it aside and restore the newest backup; {RESTORE_WARNING}",
        )
    return StateError(
        f"state database {path} cannot be used: {error}",
        hint=f"if it is damaged, move it aside and restore the newest backup; {RESTORE_WARNING}",
    )


def read_only(path: Path, reason: str) -> StateError:
    return StateError(
        f"cannot open the state database {path} ({reason}): the file or its folder "
        f"{path.parent} is read-only to this user",
        hint=f"let the user running publisher write {path.parent}: SQLite also creates "
        f"{path.name}-wal and {path.name}-shm there, even to read",
    )


def empty(path: Path) -> StateError:
    return StateError(
        f"state database {path} is empty (0 bytes): it holds no subscribers, no ledger and no "
        "first-seen dates",
        hint=f"if it was emptied by accident (a full disk, a failed copy), restore the newest "
        f"backup; {RESTORE_WARNING}. If this is a new site, delete the file",
    )


def foreign(path: Path, tables: list[str]) -> StateError:
    shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
    return StateError(
        f"{path} is an SQLite database but not publisher's state (it has the tables {shown}); "
        "it was left as it is",
        hint="point [paths] state at a folder of publisher's own",
    )


def check_ours(db: sqlite3.Connection, path: Path) -> None:
    """Refuse a database another program made: never migrate tables into it."""
    tables = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    if tables and "schema_migrations" not in tables:
        raise foreign(path, tables)


def is_empty_file(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return False


def earlier_output(config: Config) -> list[Path]:
    """What earlier runs leave behind: the site's feeds in the output folder, digests in the
    outbox folder."""
    found: list[Path] = []
    for folder, pattern in ((config.paths.output, "feed.*"), (config.paths.outbox, "digest-*")):
        try:
            found += sorted(folder.glob(pattern))[:1]
        except OSError:
            continue
    return found


def refuse_accidental_new_state(config: Config, *, new_state: bool) -> None:
    """Refuse to start from a missing or empty state database when earlier runs left output
    (feeds, digests): the state is lost, and starting afresh would date every post anew
    and mail them all again. `--new-state` says starting afresh is meant. An empty file
    that may be replaced is removed, so that it is made anew like a missing one."""
    path = config.state_db
    missing, zero_bytes = not path.exists(), is_empty_file(path)
    if not (missing or zero_bytes):
        return
    evidence = [] if new_state else earlier_output(config)
    if not evidence:
        if zero_bytes:
            path.unlink()  # holds nothing; without it every command starts a new one
        return
    what = "no state database" if missing else "an empty (0-byte) state database"
    raise StateError(
        f"there is {what} at {path}, but {evidence[0]} shows publisher ran here before: "
        "starting afresh would forget first-seen dates, subscribers and what was mailed",
        hint=f"restore the state folder from a backup ({RESTORE_WARNING}); to start afresh "
        f"on purpose, run the command again with `publisher {NEW_STATE_OPTION} …`",
    )
