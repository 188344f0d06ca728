"""Telling a refusal of the whole relay from a refusal of one reader.

A 5xx at connection, EHLO, AUTH or MAIL FROM concerns every message; so does a
size refusal (RFC 3463 X.3.4, or 552 that is not about a mailbox) and the same
permanent reply to many recipients in a row (a policy block such as 554 5.7.1).
Those stop the run with `RelayRefused`, and the recipients stay pending.
"""

from __future__ import annotations

import re
import threading
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


@dataclass
class Streak:
    """Permanent refusals in a row with the same code and status, across connections.

    Such results are held back instead of reported; once `threshold` are held the relay
    is refusing everyone and the held recipients are never reported (they stay pending).
    Any other final outcome breaks the streak and releases what was held.
    """

    threshold: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    held: list[Result] = field(default_factory=list)
    signature: tuple[int | None, str] | None = None

    def offer(self, result: Result) -> tuple[list[Result], bool]:
        """(results to report now, whether the threshold was reached)."""
        if self.threshold <= 0 or result.outcome is Outcome.TEMPORARY:
            return [result], False
        joins = result.outcome is Outcome.PERMANENT and not is_no_such_user(result)
        signature = (result.code, enhanced_status(result.text))
        with self.lock:
            if joins and (self.signature is None or signature == self.signature):
                self.signature = signature
                self.held.append(result)
                return [], len(self.held) >= self.threshold
            released, self.held, self.signature = self.held, [], None
            if joins:
                self.signature = signature
                self.held.append(result)
                return released, False
            return [*released, result], False

    def release(self) -> list[Result]:
        with self.lock:
            released, self.held, self.signature = self.held, [], None
            return released
