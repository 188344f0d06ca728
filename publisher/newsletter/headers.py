"""Header values we encode ourselves, and a message's exact wire bytes.

CPython's header folding can drop the space between two encoded words
(gh-92081), so non-ASCII names and subjects are written as our own RFC 2047
words that never split at a space, and stored raw.
"""

from __future__ import annotations

import base64
import contextlib
import email.policy
from email.message import EmailMessage
from email.utils import formataddr

from publisher.core.errors import ConfigError
from publisher.render.text import plain_line, shorten

NAME_LENGTH = 80
MAX_LINE = 998

WIRE_POLICY = email.policy.SMTP.clone(refold_source="none")
"""Headers we encoded ourselves are written exactly as stored; the rest are folded."""
_WIRE_UTF8 = WIRE_POLICY.clone(utf8=True)


SUBJECT_CHUNK = 39
"""UTF-8 bytes per Subject word: 52 base64 characters, 64 with the wrapper, so even
`Subject: ` and one word stay under 78 characters."""
NAME_CHUNK = 45
"""UTF-8 bytes per display-name word: 72 characters, under RFC 2047's 75. Names that fit
one word (15 Hangul syllables) decode exactly everywhere; Python's phrase parser keeps the
folding space between two words, which RFC 2047 decoders (mail clients) drop."""


def encoded_words(text: str, chunk_bytes: int = SUBJECT_CHUNK) -> list[str]:
    """RFC 2047 base64 words that split only between characters, never at a space.

    Python 3.11's header folder can end an encoded word at a space and put the space
    between two encoded words, where decoders drop it ("푸틴 방북" arrives as "푸틴방북",
    CPython gh-92081). Spaces here always travel inside a word.
    """
    words: list[str] = []
    chunk = ""
    for char in text:
        if chunk and len((chunk + char).encode("utf-8")) > chunk_bytes:
            words.append(chunk)
            chunk = ""
        chunk += char
    if chunk:
        words.append(chunk)
    return [
        "=?utf-8?b?" + base64.b64encode(word.encode("utf-8")).decode("ascii") + "?="
        for word in words
    ]


def needs_encoding(text: str) -> bool:
    return not text.isascii() or "=?" in text


def folded(parts: list[str], first: int) -> str:
    """`parts` joined by spaces, folded so lines stay under 78 characters where possible."""
    lines = [""]
    width = first
    for part in parts:
        if lines[-1] and width + len(lines[-1]) + 1 + len(part) > 78:
            lines.append("")
            width = 1
        lines[-1] = f"{lines[-1]} {part}" if lines[-1] else part
    return "\n ".join(lines)


def wire_address(address: str) -> str:
    """The address with an internationalised domain in its ASCII (IDNA) form when we can."""
    local, _, domain = address.rpartition("@")
    if local.isascii() and not domain.isascii():
        with contextlib.suppress(UnicodeError):
            domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


def mailbox(name: str, address: str, header: str) -> str:
    """A From/To/Reply-To value with the display name encoded by us when it is not ASCII."""
    name = shorten(plain_line(name), NAME_LENGTH)
    address = wire_address(plain_line(address))
    if not name:
        return address
    if not needs_encoding(name):
        return formataddr((name, address))
    return folded([*encoded_words(name, NAME_CHUNK), f"<{address}>"], len(header) + 2)


def unstructured(text: str, header: str) -> str:
    return folded(encoded_words(text), len(header) + 2)


def message_bytes(message: EmailMessage) -> bytes:
    """The exact bytes to send: CRLF line endings, no line over 998 octets."""
    stored = [str(value) for _, value in message.raw_items()]
    policy = WIRE_POLICY if all(value.isascii() for value in stored) else _WIRE_UTF8
    data = message.as_bytes(policy=policy)
    longest = max(len(line) for line in data.split(b"\r\n"))
    if longest > MAX_LINE:
        raise ConfigError(
            f"a message header line is {longest} octets long; SMTP allows {MAX_LINE}",
            hint="shorten [digest] unsubscribe_url or the [mail] from and reply_to addresses",
        )
    return data
