"""Plain-text bounces in qmail's format (QSBMF), as Yahoo's servers long sent them
without a DSN: a greeting ("Sorry, we were unable to deliver your message to the
following address." or "Hi. This is the qmail-send program at …"), one paragraph per
recipient starting with `<address>:`, then "--- Below this line is a copy of the
message." and the message (or "--- Enclosed are the original headers of the message.").

Read conservatively, because a person can write any of those words: only a single
text/plain message from the null sender or a MAILER-DAEMON, opening with one of those
greetings and carrying the divider, counts; and only a recipient paragraph with an SMTP
reply code or an enhanced status code (5: hard, 4: soft) is a bounce. Anything else is
left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import getaddresses

_GREETINGS = (
    "sorry, we were unable to deliver your message to the following address",
    "this is the qmail-send program at",
)
_DIVIDER = re.compile(
    r"^--- (?:Below this line is a copy of the message|"
    r"Enclosed are the original headers of the message)\.?[ \t]*$",
    re.MULTILINE,
)
_RECIPIENT = re.compile(r"\A<([^<>\s@]+@[^<>\s@]+)>:[ \t]*(.*)\Z", re.DOTALL)
_ENHANCED = re.compile(r"(?<![\d.])([45])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_REPLY_CODE = re.compile(r"(?:\A|said:\s*)([45])\d\d\b")
"""A reply code opening the paragraph (Yahoo) or after "Remote host said:" (qmail)."""
_DAEMONS = ("mailer-daemon", "postmaster")
MAX_TEXT = 100_000
"""Characters of the text read: the greeting and the recipients come first."""


@dataclass(frozen=True)
class PlainBounce:
    address: str
    status: str
    """An enhanced status code: the one given, or 5.0.0 / 4.0.0 from the reply code."""
    reason: str


@dataclass(frozen=True)
class PlainBounces:
    bounces: tuple[PlainBounce, ...]
    original: Message | None
    """The headers of the returned message, when it is there."""


def read_plain_bounce(message: EmailMessage) -> PlainBounces | None:
    """The recipients a qmail-style bounce names, or None when it is not one."""
    if message.get_content_type() != "text/plain" or not from_a_mail_system(message):
        return None
    try:
        text = str(message.get_content())[:MAX_TEXT].replace("\r\n", "\n")
    except (LookupError, ValueError):  # an unknown charset or a broken encoding
        return None
    divider = _DIVIDER.search(text)
    if divider is None:
        return None
    head = text[: divider.start()]
    if not any(greeting in " ".join(head.lower().split()) for greeting in _GREETINGS):
        return None
    bounces = tuple(filter(None, map(_bounce, re.split(r"\n[ \t]*\n", head))))
    if not bounces:
        return None
    copy = text[divider.end() :].lstrip("\r\n")
    return PlainBounces(bounces, HeaderParser().parsestr(copy) if copy else None)


def from_a_mail_system(message: Message) -> bool:
    """Sent by the null sender or a MAILER-DAEMON / postmaster, as bounces are."""
    if str(message.get("Return-Path", "")).strip() == "<>":
        return True
    senders = getaddresses([str(message.get("From", ""))])
    return any(address.split("@")[0].lower() in _DAEMONS for _, address in senders)


def _bounce(paragraph: str) -> PlainBounce | None:
    match = _RECIPIENT.match(paragraph.strip())
    if match is None:
        return None
    address, reason = match.group(1), " ".join(match.group(2).split())
    if enhanced := _ENHANCED.search(reason):
        status = ".".join(enhanced.groups())
    elif code := _REPLY_CODE.search(reason):
        status = f"{code.group(1)}.0.0"
    else:
        return None  # no code: nothing says whether it is for good
    return PlainBounce(address, status, reason[:450])
