"""Header values we encode ourselves, and a message's exact wire bytes.

CPython's header folding can drop the space between two encoded words
(gh-92081), so non-ASCII names and subjects are written as our own RFC 2047
words that never split at a space, and stored raw.
"""

from __future__ import annotations

import base64
import contextlib
import email.policy
import re
from email.message import EmailMessage

from publisher.core.errors import ConfigError
from publisher.newsletter.domains import DomainError, ascii_domain
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
    """The address with an internationalised domain in its ASCII form (IDNA 2008) when the
    local part is ASCII; an address with a non-ASCII local part stays UTF-8 (RFC 6532)."""
    local, _, domain = address.rpartition("@")
    if local.isascii() and not domain.isascii():
        # An invalid one stays UTF-8: the envelope refuses it with a reason, per recipient.
        with contextlib.suppress(DomainError):
            domain = ascii_domain(domain)
    return f"{local}@{domain}"


_PHRASE_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


def _quoted_phrase(name: str) -> str:
    """An ASCII display name as RFC 5322 writes it: quoted when it holds a special."""
    if not _PHRASE_SPECIALS.search(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mailbox(name: str, address: str, header: str) -> str:
    """A From/To/Reply-To value with the display name encoded by us when it is not ASCII.

    The address part is written as is: ASCII, or UTF-8 (RFC 6532) for a local part
    that needs SMTPUTF8, which email.utils.formataddr cannot write.
    """
    name = shorten(plain_line(name), NAME_LENGTH)
    address = wire_address(plain_line(address))
    if not name:
        return address
    if not needs_encoding(name):
        return f"{_quoted_phrase(name)} <{address}>"
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
