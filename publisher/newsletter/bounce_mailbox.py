"""The bounce mailbox, a Maildir or an mbox file (the only importer of mailbox), or an
IMAP folder (bounce_imap).

Processed messages are moved into a Maildir subfolder or an IMAP folder, or marked in the
mbox file, and deleted only when [bounces] delete_processed says so. Other mail is never
touched.
"""

from __future__ import annotations

import logging
import mailbox
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from publisher.core.config import Config
from publisher.core.errors import ConfigError, MailboxUnavailable
from publisher.newsletter.bounce_imap import open_imap_box
from publisher.newsletter.credentials import imap_password

logger = logging.getLogger(__name__)

PROCESSED_HEADER = "X-Publisher-Processed"


class BounceMailbox(Protocol):
    def messages(self) -> Iterator[tuple[str, bytes]]:
        """(key, raw bytes) of every message not yet processed."""
        ...

    def processed(self, key: str, outcome: str, now: datetime) -> None: ...

    def close(self) -> None: ...


class MaildirBox:
    def __init__(self, path: Path, processed_folder: str, delete: bool) -> None:
        self.box = mailbox.Maildir(path, factory=None, create=False)
        self.processed_folder = processed_folder
        self.delete = delete

    def messages(self) -> Iterator[tuple[str, bytes]]:
        for key in sorted(self.box.iterkeys()):
            yield key, self.box.get_bytes(key)

    def processed(self, key: str, outcome: str, now: datetime) -> None:
        if not self.delete:
            folder = (
                self.box.get_folder(self.processed_folder)
                if self.processed_folder in self.box.list_folders()
                else self.box.add_folder(self.processed_folder)
            )
            message = self.box.get_message(key)
            message.add_flag("S")
            folder.add(message)  # copied first, so nothing is lost if we stop here
        self.box.remove(key)

    def close(self) -> None:
        self.box.close()


STALE_LOCK_SECONDS = 300
"""A dot lock this old was left by a process that died (lockfile(1)'s default)."""


class MboxBox:
    """An mbox file, locked while read (fcntl and a dot lock, as mail delivery agents do).

    Marks are written when the box is closed: a run killed before that reads the same
    messages again, and changes nothing twice (mail_events is keyed by Message-ID, or by
    a SHA-256 of the bytes for a message without one)."""

    def __init__(self, path: Path, delete: bool) -> None:
        self.box = mailbox.mbox(path, create=False)
        _lock(self.box, path)
        self.delete = delete

    def messages(self) -> Iterator[tuple[str, bytes]]:
        for key in list(self.box.iterkeys()):
            message = self.box.get_message(key)
            if message.get(PROCESSED_HEADER) is None:
                yield key, self.box.get_bytes(key)  # an int at run time; handed back as is

    def processed(self, key: str, outcome: str, now: datetime) -> None:
        if self.delete:
            self.box.remove(key)
            return
        message = self.box.get_message(key)
        message[PROCESSED_HEADER] = " ".join(f"{now.isoformat()} {outcome}".split())[:900]
        message.set_flags("RO")
        self.box[key] = message

    def close(self) -> None:
        try:
            self.box.flush()
        finally:
            self.box.unlock()
            self.box.close()


def _lock(box: mailbox.mbox, path: Path) -> None:
    try:
        box.lock()
        return
    except mailbox.ExternalClashError as e:
        dot_lock = path.with_name(path.name + ".lock")
        try:
            age = time.time() - dot_lock.stat().st_mtime
        except FileNotFoundError:
            age = 0.0  # gone meanwhile: another process was in it a moment ago
        if "dot lock" not in str(e) or age < STALE_LOCK_SECONDS:
            raise MailboxUnavailable(
                f"[bounces] mbox {path} is locked by another process",
                hint="a mail delivery or another `publisher bounces` is using it; the next "
                f"run reads it again (a lock file older than {STALE_LOCK_SECONDS} s is "
                "removed as left by a process that died)",
            ) from e
    logger.warning("removing %s: left %.0f s ago by a process that died", dot_lock, age)
    dot_lock.unlink(missing_ok=True)
    box.lock()


def local_mailbox_problem(config: Config) -> ConfigError | None:
    """What is wrong with the [bounces] maildir or mbox on this machine (an IMAP folder is
    only known by connecting); None when it can be read or none is configured."""
    settings = config.bounces
    base = config.file.parent
    if settings.maildir:
        path = base / settings.maildir
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            return ConfigError(
                f"[bounces] maildir {path} is not a Maildir (no cur/ and new/ in it)",
                hint="point it at the folder your mail server delivers the bounce address to",
            )
    elif settings.mbox and not (base / settings.mbox).is_file():
        return ConfigError(
            f"[bounces] mbox {base / settings.mbox} does not exist", hint="check the path"
        )
    return None


def open_bounce_mailbox(config: Config) -> BounceMailbox:
    settings = config.bounces
    base = config.file.parent
    if (problem := local_mailbox_problem(config)) is not None:
        raise problem
    if settings.maildir:
        return MaildirBox(
            base / settings.maildir, settings.processed_folder, settings.delete_processed
        )
    if not settings.mbox:
        return open_imap_box(settings, imap_password(config))
    return MboxBox(base / settings.mbox, settings.delete_processed)
