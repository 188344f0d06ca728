"""What kramdown (Jekyll) and Goldmark (Hugo) share: attribute lists and typography.

Both write attributes in braces, `{#id .class key="value"}` (kramdown with a colon first,
`{: .class}`), and both make `---`, `--` and `...` typographic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from markdown_it.token import Token

_ITEM = re.compile(
    r"""([#.])([\w:-]+)|([\w-]+)=(?:"([^"]*)"|'([^']*)'|([^\s}]+))|([A-Za-z_][\w-]*)"""
)
DASHES_AND_DOTS = re.compile(r"---|--|\.\.\.")
TYPOGRAPHY = {"---": "\u2014", "--": "\u2013", "...": "\u2026"}


@dataclass
class Attributes:
    pairs: list[tuple[str, str]] = field(default_factory=list)
    """("id", …), ("class", every class joined), (key, value), in the order written."""
    names: list[str] = field(default_factory=list)
    """Bare words: kramdown's references to attribute list definitions, and `toc`."""


def parse_attributes(text: str) -> Attributes:
    """`#id .class key=value word` → Attributes (classes joined into one `class`)."""
    found = Attributes()
    classes: list[str] = []
    for match in _ITEM.finditer(text):
        marker, name, key, *values, word = match.groups()
        if marker == "#":
            found.pairs.append(("id", name))
        elif marker == ".":
            if not classes:
                found.pairs.append(("class", ""))
            classes.append(name)
        elif key:
            found.pairs.append((key, next(v for v in values if v is not None)))
        elif word:
            found.names.append(word)
    found.pairs = [(k, " ".join(classes) if k == "class" else v) for k, v in found.pairs]
    return found


def apply_attributes(token: Token, pairs: Sequence[tuple[str, str]]) -> None:
    """Set each attribute on the token; a class adds to the classes it has."""
    for key, value in pairs:
        current = token.attrGet("class") if key == "class" else None
        token.attrSet(key, f"{current} {value}" if current else value)


def typographic(text: str) -> str:
    """`---`, `--` and `...` as the em dash, en dash and ellipsis."""
    return DASHES_AND_DOTS.sub(lambda m: TYPOGRAPHY[m.group(0)], text)
