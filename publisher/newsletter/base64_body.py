"""A text part's base64 body for many readers, re-encoding only what differs.

The email package writes a text part with cte="base64" as: line ends made CRLF, the
UTF-8 bytes in base64, 76 characters (57 bytes) a line, each line ending in CRLF. A
digest's body differs between readers only at a few markers (greeting, links, address),
but everything after a marker moves with the marker's length. Because a base64 line
depends only on its own 57 bytes, a long unchanging stretch of the template encodes the
same way whenever it starts at the same place within a line: there are at most 57 such
places, so each stretch is encoded once per place it is met at, and reused.
"""

from __future__ import annotations

import binascii
import html

from publisher.newsletter.markers import Filler

LINE_BYTES = 57
"""Bytes per base64 line of 76 characters."""
_LINE_CHARACTERS = LINE_BYTES // 3 * 4
REUSED_STRETCH = 2 * LINE_BYTES
"""Shorter stretches are encoded with their neighbours every time."""


def base64_lines(data: bytes) -> bytes:
    """`data` in base64 lines of 76 characters, each ending in CRLF (none for no data)."""
    encoded = binascii.b2a_base64(data, newline=False)
    step = _LINE_CHARACTERS
    lines = [encoded[i : i + step] for i in range(0, len(encoded), step)]
    return b"\r\n".join(lines) + b"\r\n" if lines else b""


def base64_body(text: str) -> bytes:
    """`text` as the email package writes a base64 text part's body."""
    data = text.encode("utf-8")
    if b"\r" in data:
        data = b"\r\n".join(data.splitlines())
    else:
        data = data.replace(b"\n", b"\r\n").removesuffix(b"\r\n")
    return base64_lines(data + b"\r\n")


class Base64Body:
    """`base64_body(fill(template, values))`, made faster for the second reader on."""

    def __init__(self, template: str, *, escape: bool) -> None:
        self.filler = Filler(template, escape=escape)
        self.escape = escape
        pieces = self.filler.pieces
        self.exact = not any("\r" in piece for piece in pieces[::2])
        """Without a CR in the template, line ends are a plain replacement."""
        self.texts = [piece.encode("utf-8").replace(b"\n", b"\r\n") for piece in pieces[::2]]
        self.markers = pieces[1::2]
        self.encoded: dict[tuple[int, int], bytes] = {}
        """(stretch, bytes it starts into a line) → its whole lines in base64."""

    def __call__(self, values: dict[str, str]) -> bytes:
        filled = [self._value(values[marker]) for marker in self.markers]
        if not self.exact or any(b"\r" in value or b"\n" in value for value in filled):
            return base64_body(self.filler(values))
        out: list[bytes] = []
        pending = bytearray()
        """Bytes not yet encoded; they always start a line."""
        ends_a_line = False
        for index, text in enumerate(self.texts):
            if index and filled[index - 1]:
                pending += filled[index - 1]
                ends_a_line = False
            if text:
                ends_a_line = text.endswith(b"\n")
            if len(text) < REUSED_STRETCH:
                pending += text
                continue
            into = -len(pending) % LINE_BYTES
            pending += text[:into]
            out.append(base64_lines(bytes(pending)))
            whole = (len(text) - into) // LINE_BYTES * LINE_BYTES
            out.append(self._stretch(index, into, text, whole))
            pending = bytearray(text[into + whole :])
        if not ends_a_line:  # the email package ends the text with a line end
            pending += b"\r\n"
        out.append(base64_lines(bytes(pending)))
        return b"".join(out)

    def _value(self, value: str) -> bytes:
        return (html.escape(value, quote=True) if self.escape else value).encode("utf-8")

    def _stretch(self, index: int, into: int, text: bytes, whole: int) -> bytes:
        key = (index, into)
        if key not in self.encoded:
            self.encoded[key] = base64_lines(text[into : into + whole])
        return self.encoded[key]
