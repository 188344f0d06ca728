"""Telling a refusal of the whole relay from a refusal of one reader.

A 5xx at connection, EHLO, AUTH or MAIL FROM concerns every message; so does a
size refusal (RFC 3463 X.3.4, or 552 that is not about a mailbox) and the same
permanent reply to many recipients of more than one domain in a row (a policy
block such as 554 5.7.1, see `Streak`). Those stop the run with `RelayRefused`,
and the recipients stay pending.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from publisher.core.errors import RelayRefused
from publisher.newsletter.transports import Outcome, Result, is_no_such_user

_ENHANCED = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")


def enhanced_status(text: str) -> str:
    """The RFC 3463 status a reply text starts with, like '5.7.1', or ''."""
    match = _ENHANCED.match(text)
    return match.group(1) if match else ""


def is_size_refusal(code: int | None, text: str) -> bool:
    status = enhanced_status(text)
    if status:
        return status.endswith(".3.4") or (code == 552 and not status[2:].startswith("2."))
    return code == 552


_HINTS = {
    "auth": "the relay wants a login: set [smtp] username and password_env (and check the "
    "password in that variable)",
    "size": "the digest is bigger than the relay accepts: fewer posts ([digest] max_posts), "
    "or raise the relay's message size limit",
    "policy": "the relay's policy refuses these messages: check that the relay lets this host "
    "and the [mail] from / bounce_address domain send, then run `publisher digest` again",
    "other": "fix what the relay says, then run `publisher digest` again; nobody was marked failed",
}


def hint_for(code: int | None, text: str) -> str:
    status = enhanced_status(text)
    if code in (530, 535) or status.startswith("5.7.0") or "auth" in text.lower():
        return _HINTS["auth"]
    if is_size_refusal(code, text):
        return _HINTS["size"]
    if status.startswith("5.7.") or code == 554:
        return _HINTS["policy"]
    return _HINTS["other"]


def relay_refused(
    where: str, stage: str, code: int | None, text: str, detail: str = ""
) -> RelayRefused:
    said = f"{code} {text}".strip() if code is not None else text
    message = f"the relay {where} refused at {stage}: {said}"
    if detail:
        message += f" ({detail})"
    return RelayRefused(
        message + "; the run stopped and every recipient not yet sent is still pending",
        hint=hint_for(code, text),
        code=code,
    )


def recipient_domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


@dataclass(frozen=True)
class Offered:
    """What a connection does with a result it offered to the streak."""

    report: list[Result]
    """Results to report now, in this order."""
    tripped_by: Result | None = None
    """The refusal that made the streak relay-wide: the run stops."""


@dataclass
class Streak:
    """Permanent refusals in a row with the same reply code and status, across connections.

    Only the relay's own replies count: a result decided here (code None, such as an
    address the relay cannot take without SMTPUTF8) neither joins nor breaks a streak.
    A refusal that may be the relay's is held back: `hold` puts its row back to pending,
    durably, before anything else happens, so a run that stops (or dies) now leaves it to
    be sent again, never `sending`. Once `threshold` refusals are held, from at least two
    recipient domains (a dead domain refuses its own addresses alike), the streak trips:
    it is frozen, what it held is reported as TEMPORARY (pending), and so is every later
    refusal that would have joined it. A final result that breaks the streak first
    releases what it held as the reader failures they are.
    """

    threshold: int
    hold: Callable[[Result], None]
    lock: threading.Lock = field(default_factory=threading.Lock)
    held: list[Result] = field(default_factory=list)
    domains: set[str] = field(default_factory=set)
    signature: tuple[int | None, str] | None = None
    tripped: bool = False

    def offer(self, result: Result, recipient: str) -> Offered:
        if self.threshold <= 0 or result.outcome is Outcome.TEMPORARY or result.code is None:
            return Offered([result])
        joins = result.outcome is Outcome.PERMANENT and not is_no_such_user(result)
        signature = (result.code, enhanced_status(result.text))
        with self.lock:
            if self.tripped:
                return Offered([_deferred(result)] if joins else [result])
            released: list[Result] = []
            if self.signature is not None and not (joins and signature == self.signature):
                released, self.held, self.domains, self.signature = self.held, [], set(), None
            if not joins:
                return Offered([*released, result])
            self.hold(result)  # under the lock: nobody may release it before it is held
            self.signature = signature
            self.held.append(result)
            self.domains.add(recipient_domain(recipient))
            if len(self.held) >= self.threshold and len(self.domains) >= min(2, self.threshold):
                self.tripped = True
                deferred = [_deferred(held) for held in self.held]
                self.held, self.domains = [], set()
                return Offered([*released, *deferred], tripped_by=result)
            return Offered(released)

    def settle(self, *, finished: bool) -> list[Result]:
        """What is still held when sending ends: reader failures when every envelope was
        tried; else (stopped, or interrupted) deferred, as nothing decided about them."""
        with self.lock:
            held, self.held, self.domains, self.signature = self.held, [], set(), None
        return held if finished and not self.tripped else [_deferred(r) for r in held]


def _deferred(result: Result) -> Result:
    return Result(
        result.key, Outcome.TEMPORARY, result.code, result.text, result.attempts, result.stage
    )
