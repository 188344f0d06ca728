"""The bounce mailbox on an IMAP server: imaplib's only home.

[bounces] imap_folder is read over TLS (implicit, or STARTTLS that never falls back to
plain text; plain text only to a server on this machine). Messages are fetched with
BODY.PEEK, so mail that is not a report is not even marked seen. A processed message is
marked seen and moved into processed_folder: UID MOVE (RFC 6851) or, without it, UID COPY,
\\Deleted and a UID EXPUNGE of that message alone (RFC 4315). A server with neither keeps
the original, flagged $PublisherProcessed, beside the copy. It is deleted only when
delete_processed says so, and never by a bare EXPUNGE or CLOSE, which would also remove
whatever else someone had marked deleted in the folder.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator, Sequence
from datetime import datetime

from publisher.core.config import BouncesConfig
from publisher.core.errors import ConfigError, MailboxUnavailable
from publisher.newsletter.bounce_reports import MAX_MESSAGE_BYTES

PROCESSED_KEYWORD = "$PublisherProcessed"
TIMEOUT = 60.0
"""Seconds to wait for the server at any one step."""
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_LOST = (OSError, imaplib.IMAP4.abort)
_UID = re.compile(rb"\d+")


def quoted(name: str) -> str:
    """An IMAP quoted string (imaplib sends arguments as given)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapBox:
    """A selected IMAP folder whose messages are keyed by UID."""

    def __init__(self, imap: imaplib.IMAP4, settings: BouncesConfig, where: str) -> None:
        self.imap = imap
        self.settings = settings
        self.where = where
        self.capabilities = _capabilities(imap)
        self.folder_ready = False

    def messages(self) -> Iterator[tuple[str, bytes]]:
        found = self._ok(
            "UID SEARCH", self.imap.uid("SEARCH", "UNDELETED", "UNKEYWORD", PROCESSED_KEYWORD)
        )
        for uid in _UID.findall(b" ".join(d for d in found if isinstance(d, bytes))):
            # One more byte than a report may have: bounce_reports leaves bigger mail alone.
            fetched = self._ok(
                "UID FETCH",
                self.imap.uid("FETCH", uid.decode(), f"(BODY.PEEK[]<0.{MAX_MESSAGE_BYTES + 1}>)"),
            )
            data = next(filter(None, (_body(part, uid) for part in fetched)), None)
            if data is not None:  # None: expunged by someone else meanwhile
                yield uid.decode(), data

    def processed(self, key: str, outcome: str, now: datetime) -> None:
        uid = self.imap.uid
        if self.settings.delete_processed:
            self._ok("UID STORE", uid("STORE", key, "+FLAGS.SILENT", r"(\Deleted)"))
            if "UIDPLUS" in self.capabilities:
                self._ok("UID EXPUNGE", uid("EXPUNGE", key))
            return
        target = self._processed_folder()
        self._ok("UID STORE", uid("STORE", key, "+FLAGS.SILENT", r"(\Seen)"))
        if "MOVE" in self.capabilities:
            self._ok("UID MOVE", uid("MOVE", key, target))
            return
        self._ok("UID COPY", uid("COPY", key, target))  # copied first: nothing is lost
        if "UIDPLUS" in self.capabilities:
            self._ok("UID STORE", uid("STORE", key, "+FLAGS.SILENT", r"(\Deleted)"))
            self._ok("UID EXPUNGE", uid("EXPUNGE", key))
        else:
            self._ok("UID STORE", uid("STORE", key, "+FLAGS.SILENT", f"({PROCESSED_KEYWORD})"))

    def close(self) -> None:
        try:
            self.imap.logout()  # LOGOUT expunges nothing
        except (*_LOST, imaplib.IMAP4.error):
            pass

    def _processed_folder(self) -> str:
        target = quoted(self.settings.processed_folder)
        if not self.folder_ready:
            listed = self._ok("LIST", self.imap.list('""', target))
            if not any(isinstance(line, bytes | tuple) for line in listed):
                self._ok("CREATE", self.imap.create(target))
            self.folder_ready = True
        return target

    def _ok(self, step: str, answer: tuple[str, Sequence[object]]) -> Sequence[object]:
        kind, data = answer
        if kind != "OK":
            raise MailboxUnavailable(
                f"the IMAP server {self.where} refused {step}: {_text(data)}",
                hint="nothing was lost: messages not yet moved are read again next time",
            )
        return data


def open_imap_box(
    settings: BouncesConfig, password: str, ssl_context: ssl.SSLContext | None = None
) -> ImapBox:
    """Connected, secured, logged in, with imap_folder selected."""
    host = settings.imap_host
    port = settings.imap_port or (993 if settings.imap_security == "ssl" else 143)
    where = f"{host}:{port}"
    _check_settings(settings, where)
    context = ssl_context or ssl.create_default_context()
    imap = _connect(settings, host, port, context, where)
    try:
        _login(imap, settings, password, where)
        kind, data = imap.select(quoted(settings.imap_folder))
        if kind != "OK":
            raise ConfigError(
                f"the IMAP server {where} has no folder {settings.imap_folder!r}: {_text(data)}",
                hint="set [bounces] imap_folder to the folder bounces arrive in (often INBOX)",
            )
        return ImapBox(imap, settings, where)
    except _LOST as e:
        _drop(imap)
        raise _unreachable(where, e) from e
    except BaseException:
        _drop(imap)
        raise


def _drop(imap: imaplib.IMAP4) -> None:
    """Close a connection that failed part way (a failed STARTTLS leaves no socket)."""
    with contextlib.suppress(OSError):
        imap.shutdown()


def _check_settings(settings: BouncesConfig, where: str) -> None:
    if settings.imap_security == "none" and settings.imap_host.strip("[]") not in LOCAL_HOSTS:
        raise ConfigError(
            f"[bounces] imap_security = 'none' would send the IMAP password to {where} unencrypted",
            hint="use imap_security = 'ssl' (port 993) or 'starttls' (port 143); "
            "'none' is only for a server on 127.0.0.1",
        )
    if settings.processed_folder == settings.imap_folder:
        raise ConfigError(
            "[bounces] processed_folder is the folder bounces are read from",
            hint="name another folder; processed messages are moved into it",
        )
    if not settings.imap_user:
        raise ConfigError(
            "[bounces] imap_host is set but imap_user is not",
            hint="set imap_user to the login of the mailbox bounces arrive in",
        )


def _connect(
    settings: BouncesConfig, host: str, port: int, context: ssl.SSLContext, where: str
) -> imaplib.IMAP4:
    try:
        if settings.imap_security == "ssl":
            return imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=TIMEOUT)
        imap = imaplib.IMAP4(host, port, timeout=TIMEOUT)
    except ssl.SSLCertVerificationError as e:
        raise _certificate_error(where, e) from e
    except ssl.SSLError as e:
        raise ConfigError(
            f"no TLS session with the IMAP server {where}: {e.reason or e}",
            hint="port 993 usually speaks implicit TLS (imap_security = 'ssl'), "
            "port 143 STARTTLS (imap_security = 'starttls')",
        ) from e
    except _LOST as e:
        raise _unreachable(where, e) from e
    if settings.imap_security == "starttls":
        try:
            _starttls(imap, context, where)
        except BaseException:
            _drop(imap)
            raise
    return imap


def _starttls(imap: imaplib.IMAP4, context: ssl.SSLContext, where: str) -> None:
    if "STARTTLS" not in imap.capabilities:
        raise ConfigError(
            f"the IMAP server {where} does not offer STARTTLS, and imap_security = "
            "'starttls' never falls back to plain text",
            hint="if it speaks implicit TLS (usually port 993) set imap_security = 'ssl'",
        )
    try:
        imap.starttls(ssl_context=context)
    except ssl.SSLCertVerificationError as e:
        raise _certificate_error(where, e) from e


def _login(imap: imaplib.IMAP4, settings: BouncesConfig, password: str, where: str) -> None:
    try:
        imap.login(settings.imap_user, password)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as e:
        raise ConfigError(
            f"the IMAP server {where} refused the login of {settings.imap_user!r}: {e}",
            hint="check [bounces] imap_user and the password in the variable "
            f"{settings.imap_password_env}",
        ) from e


def _body(part: object, uid: bytes) -> bytes | None:
    """The message, if this FETCH response item is the body of message `uid` (not some
    other message's flag update)."""
    match part:
        case (bytes(head), bytes(body)) if re.search(rb"\bUID %s\b" % uid, head):
            return body
    return None


def _capabilities(imap: imaplib.IMAP4) -> frozenset[str]:
    """What the server offers once logged in (often more than before)."""
    kind, data = imap.capability()
    words = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
    return frozenset(words.upper().split()) if kind == "OK" else frozenset()


def _certificate_error(where: str, error: ssl.SSLCertVerificationError) -> ConfigError:
    return ConfigError(
        f"the TLS certificate of the IMAP server {where} did not verify: {error.verify_message}",
        hint="check that [bounces] imap_host is the name on the server's certificate",
    )


def _unreachable(where: str, error: BaseException) -> MailboxUnavailable:
    return MailboxUnavailable(
        f"cannot read the bounce mailbox on {where}: {error}",
        hint="check [bounces] imap_host and imap_port; nothing was changed, and the next "
        "run tries again",
    )


def _text(data: Sequence[object]) -> str:
    return " ".join(d.decode("utf-8", "replace") for d in data if isinstance(d, bytes))
