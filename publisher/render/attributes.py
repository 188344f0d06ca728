"""Attribute lists, as kramdown (Jekyll) and Goldmark (Hugo) both write them: in braces,
`{#id .class key="value"}` (kramdown with a colon first, `{: .class}`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it.token import Token

_ITEM = re.compile(
    r"""([#.])([\w:-]+)|([\w-]+)=(?:"([^"]*)"|'([^']*)'|([^\s}]+))|([A-Za-z_][\w-]*)"""
)


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
