"""What the SMTP transport's parts share about a relay's answers."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass

LOST = (smtplib.SMTPException, OSError)
"""What smtplib raises when the connection breaks or the server talks nonsense."""


def reply_text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())


@dataclass(frozen=True)
class Failure:
    """A failed attempt that is safe to retry: the content never went out whole."""

    code: int | None
    text: str
    stage: str
    connect: bool = False
    """The connection could not be opened at all."""
    stale: bool = False
    """A reused connection turned out to be closed when the envelope began."""


class CannotConnect(Exception):
    def __init__(self, code: int | None, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
