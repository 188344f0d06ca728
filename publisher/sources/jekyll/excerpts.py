"""Jekyll's excerpt: the source text (Markdown + Liquid) of a post's summary.

`excerpt` in the front matter wins and is used as written (Jekyll does not render it).
Otherwise the body is cut at the first `excerpt_separator` (the post's, else the
site's; "\\n\\n" by default, so the first paragraph, whole). If the cut leaves a Liquid
block open its end tag is appended, and reference-style link definitions from the rest
of the post that the excerpt uses are appended so its links still resolve.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LIQUID_TAG = re.compile(r"{%-?\s*(\w+)\s*.*?-?%}", re.S)
LINK_REFERENCE = re.compile(r"^ {0,3}(\[[^\]]+\])(:.+)$", re.M)
LIQUID_BLOCKS = frozenset(
    (
        "if",
        "unless",
        "for",
        "case",
        "capture",
        "comment",
        "raw",
        "highlight",
        "tablerow",
        "ifchanged",
    )
)


@dataclass(frozen=True)
class Excerpt:
    """An excerpt's source, and whether it came from front matter (so is not rendered)."""

    text: str
    from_front_matter: bool = False


def separator_for(data: Mapping[str, Any], site_separator: str) -> str:
    """The post's `excerpt_separator` (even an empty one), else the site's."""
    value = data.get("excerpt_separator")
    return site_separator if value is None else str(value)


def _close_open_blocks(head: str) -> str:
    for name in reversed(LIQUID_TAG.findall(head)):
        if name not in LIQUID_BLOCKS:
            continue
        if re.search(rf"{{%-?\s*end{name}.*?\s*-?%}}", head, re.S):
            continue
        head += f"\n{{% end{name} %}}"
    return head


def cut_excerpt(body: str, separator: str) -> str:
    """The body up to `separator`, made whole again (Liquid blocks, link definitions)."""
    head, found, tail = body.partition(separator)
    if not found or not tail:
        return head
    if "{%" in head:
        head = _close_open_blocks(head)
    definitions = [label + rest for label, rest in LINK_REFERENCE.findall(tail) if label in head]
    if not definitions:
        return head
    return head + "\n\n" + "\n".join(definitions)


def excerpt_source(
    data: Mapping[str, Any], body: str, site_separator: str = "\n\n"
) -> Excerpt | None:
    """The post's excerpt source; None when the separator is set to empty (no excerpt)."""
    written = data.get("excerpt")
    if written is not None:
        return Excerpt(str(written), from_front_matter=True)
    separator = separator_for(data, site_separator)
    if not separator:
        return None
    return Excerpt(cut_excerpt(body, separator))
