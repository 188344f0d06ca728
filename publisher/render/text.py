"""Plain text: one-line values and cut-short excerpts (no HTML parser needed)."""

from __future__ import annotations

import functools
import re

_WHITESPACE = re.compile(r"\s+")


@functools.cache
def _xml_illegal() -> re.Pattern[str]:
    # Compiled on first use: its ranges take milliseconds to compile, which a build
    # with nothing to do should not spend.
    return re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def strip_xml_illegal(text: str) -> str:
    """Remove characters that XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE/F)."""
    return _xml_illegal().sub("", text)


def plain_line(text: str) -> str:
    """One line of plain text: no controls, no line breaks, single spaces."""
    return _WHITESPACE.sub(" ", strip_xml_illegal(text)).strip()


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "…"
