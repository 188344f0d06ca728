"""Markers: fixed strings a digest is rendered with, replaced later by string work.

Three kinds, all under one prefix that `defuse` removes from every value
before rendering, so no post can carry one:
- per-subscriber values (greeting, links, address), filled in per reader by `Filler`;
- per-cut values (subject, intro sentence, preheader), filled in once per cut;
- block bounds around each post, each headline, the headline list, and the parts
  only a message (`mail`) or only the web copy (`web`) shows; see cutting.py.
"""

from __future__ import annotations

import html
import re

_MARKER_PREFIX = "__publisher_"
GREETING = "__publisher_greeting__"
UNSUBSCRIBE_URL = "__publisher_unsubscribe_url__"
PREFERENCES_URL = "__publisher_preferences_url__"
EMAIL = "__publisher_email__"
_MARKER = re.compile(r"__publisher_(greeting|unsubscribe_url|preferences_url|email)__")

SUBJECT = "__publisher_subject__"
INTRO = "__publisher_intro__"
PREHEADER = "__publisher_preheader__"
CUT_MARKER = re.compile(r"__publisher_(subject|intro|preheader)__")

BLOCK_KINDS = ("post", "headline", "toc", "mail", "web")
BLOCK_MARKER = re.compile(
    r"(?:<!--)?__publisher_(begin|end)_(post|headline|toc|mail|web)(?:_(\d+))?__(?:-->)?\n?"
)
"""A block bound, as an HTML comment or a bare line, with the line end after it."""


def block_bound(edge: str, kind: str, number: int | None = None) -> str:
    """The marker text of one bound: `__publisher_begin_post_3__`."""
    suffix = "" if number is None else f"_{number}"
    return f"__publisher_{edge}_{kind}{suffix}__"


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


def fill_cut(template: str, values: dict[str, str], *, escape: bool) -> str:
    """The per-cut markers filled in, in one pass."""

    def value(match: re.Match[str]) -> str:
        text = values[match.group(1)]
        return html.escape(text, quote=True) if escape else text

    return CUT_MARKER.sub(value, template)
