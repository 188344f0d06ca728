"""Sending finished messages: what every transport takes and gives back.

Transports: the smtp package (the only importer of smtplib) sends to a relay,
outbox.py writes .eml files into a folder. Messages arrive as exact wire
bytes, already DKIM-signed, and leave byte for byte unchanged: nothing
re-serialises them.

Each envelope ends in one `Result`. The one rule that matters for "exactly
once": a relay keeps a message once it has read the final dot of DATA, so from
the moment that dot has gone out a lost connection or a garbled reply is
AMBIGUOUS and the message is never sent again; anything that fails before that
point is safe to retry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Protocol

from publisher.core.config import Config


class Outcome(StrEnum):
    SENT = "sent"
    TEMPORARY = "temporary"
    """Not delivered; safe to try again in a later run."""
    PERMANENT = "permanent"
    """Refused with a 5xx reply (or unsendable); trying again will not help."""
    AMBIGUOUS = "ambiguous"
    """The content went out but the server's verdict never came back: never resend blindly."""


@dataclass(frozen=True)
class Envelope:
    key: str
    """The caller's id for this message, echoed in its Result."""
    sender: str
    recipient: str
    message: bytes
    """Exact wire bytes with CRLF line ends, sent unchanged."""
    filename: str = ""
    """Outbox file name without .eml; defaults to the key."""


@dataclass(frozen=True)
class Result:
    key: str
    outcome: Outcome
    code: int | None
    """The SMTP reply code that decided, or None when no reply did."""
    text: str
    attempts: int
    stage: str = ""
    """The step that decided: connect, MAIL, RCPT, DATA, message (the reply after the
    content), or outbox."""


_ENHANCED_STATUS = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
_ADDRESS_STATUS = re.compile(r"(?<![\d.])5\.1\.(\d{1,3})(?![\d.])")
_SENDER_ADDRESS_DETAILS = frozenset({"7", "8"})
"""RFC 3463 X.1.7 and X.1.8 are about the sender's address, not the recipient's."""
_NO_SUCH_USER_PHRASES = (
    "no such user",
    "unknown user",
    "user unknown",
    "does not exist",
    "no such recipient",
    "recipient unknown",
    "unknown recipient",
)


def is_no_such_user(result: Result) -> bool:
    """Whether a permanent failure says the recipient's address itself is bad.

    RFC 3463 enhanced codes 5.1.x are the main signal; without an enhanced code,
    a 550/553 reply whose text says the user is unknown also counts.
    """
    if result.outcome is not Outcome.PERMANENT or result.stage in ("connect", "MAIL"):
        return False
    if _ENHANCED_STATUS.match(result.text):
        match = _ADDRESS_STATUS.match(result.text.lstrip())
        return match is not None and match.group(1) not in _SENDER_ADDRESS_DETAILS
    text = result.text.lower()
    return result.code in (550, 553) and any(phrase in text for phrase in _NO_SUCH_USER_PHRASES)


def never() -> bool:
    return False


def ignore(_result: Result) -> None:
    """The default `on_held`: a transport that never holds a result needs nothing."""


class Transport(Protocol):
    def deliver(
        self,
        envelopes: Iterable[Envelope],
        *,
        before_data: Callable[[Envelope], None],
        on_result: Callable[[Result], None],
        on_held: Callable[[Result], None] = ...,
        should_stop: Callable[[], bool] = ...,
    ) -> None:
        """Send each envelope, calling before_data when the relay could keep the message from
        the next byte on (just before the final dot; it must be durable when it returns) and
        on_result once with its outcome. on_held, when given, is called for a refusal whose
        outcome waits on others (it may be the whole relay's: see smtp/relay_failures.py);
        the message is not with the relay, and on_result settles it later. Stops taking
        envelopes once should_stop() is true."""


def configured_transports(config: Config) -> Callable[[Path], Transport]:
    """The transport [mail] transport names, for an outbox folder; the SMTP password (from
    the variable [smtp] password_env names) is read once, now, so a missing one fails
    before anything is sent."""
    from publisher.newsletter.credentials import smtp_password

    password = smtp_password(config) if config.mail.transport == "smtp" else None
    return partial(open_transport, config, password)


def open_transport(config: Config, password: str | None, outbox_folder: Path) -> Transport:
    """The transport [mail] transport names: 'smtp' sends through [smtp], else the outbox."""
    if config.mail.transport == "smtp":
        from publisher.newsletter.smtp import SmtpTransport

        return SmtpTransport(
            config.smtp, password, retries=config.smtp.retries, backoff=config.smtp.backoff
        )
    from publisher.newsletter.outbox import OutboxTransport

    return OutboxTransport(outbox_folder)
