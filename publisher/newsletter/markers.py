"""Per-subscriber markers: fixed strings a digest is rendered with, filled in per reader.

No post field can carry a marker: `defuse` removes their common prefix from
every value before rendering. `Filler` fills them in one pass, so a value
holding a marker is never expanded again.
"""

from __future__ import annotations

import html
import re

_MARKER_PREFIX = "__publisher_"
GREETING = "__publisher_greeting__"
UNSUBSCRIBE_URL = "__publisher_unsubscribe_url__"
EMAIL = "__publisher_email__"
_MARKER = re.compile(r"__publisher_(greeting|unsubscribe_url|email)__")


def defuse(text: str) -> str:
    """`text` with no marker in it, however the marker was split or nested."""
    while _MARKER_PREFIX in text:
        text = text.replace(_MARKER_PREFIX, "")
    return text


class Filler:
    """`fill` for one template and many value sets: the template is split once."""

    def __init__(self, template: str, *, escape: bool) -> None:
        self.pieces = _MARKER.split(template)
        """Text, marker name, text, marker name, …, text."""
        self.escape = escape

    def __call__(self, values: dict[str, str]) -> str:
        pieces = list(self.pieces)
        for i in range(1, len(pieces), 2):
            text = values[pieces[i]]
            pieces[i] = html.escape(text, quote=True) if self.escape else text
        return "".join(pieces)


def fill(template: str, values: dict[str, str], *, escape: bool) -> str:
    """One pass over the markers, so a value holding a marker is never expanded again."""
    return Filler(template, escape=escape)(values)
