"""Cutting one rendered issue into each reader's copy: string work on marked blocks.

An issue is rendered and inlined once with block bounds around every post,
every headline and the headline list, and around what only a message
(`mail`) or only the web copy (`web`) shows (see markers.py). A cut keeps
some blocks and drops the others by joining the kept segments of a document
split once; nothing is parsed or rendered again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from publisher.core.errors import TemplateError
from publisher.newsletter.markers import BLOCK_MARKER

Block = tuple[str, int | None]
"""A block's kind and, for posts and headlines, its position in the issue."""
Keep = Callable[[Block], bool]


@dataclass(frozen=True)
class Segment:
    text: str
    inside: frozenset[Block]
    """Every block the text is in; it is kept only when all of them are."""


def segments(document: str, where: str) -> list[Segment]:
    """`document` split at its block bounds; TemplateError when they do not nest."""
    found: list[Segment] = []
    open_blocks: list[Block] = []
    start = 0
    for match in BLOCK_MARKER.finditer(document):
        edge, kind, number = match.groups()
        block: Block = (kind, int(number) if number is not None else None)
        if start < match.start():
            found.append(Segment(document[start : match.start()], frozenset(open_blocks)))
        start = match.end()
        if edge == "begin":
            open_blocks.append(block)
        elif not open_blocks or open_blocks[-1] != block:
            raise TemplateError(
                f"{where}: the end of block {_name(block)} does not close the block last begun",
                hint="keep each {{ post.begin }} … {{ post.end }} pair (and the others) together",
            )
        else:
            open_blocks.pop()
    if open_blocks:
        raise TemplateError(
            f"{where}: block {_name(open_blocks[-1])} is begun but never ended",
            hint="every block that begins must end in the same template",
        )
    if start < len(document):
        found.append(Segment(document[start:], frozenset()))
    return found


def _name(block: Block) -> str:
    kind, number = block
    return kind if number is None else f"{kind} {number}"


class Cutter:
    """One issue's HTML and text, split once; `cut` joins the kept segments of each."""

    def __init__(self, html: str, text: str, *, html_name: str, text_name: str) -> None:
        self.parts = (segments(html, html_name), segments(text, text_name))
        self.names = (html_name, text_name)
        self.blocks = tuple(frozenset().union(*(s.inside for s in part)) for part in self.parts)

    def cut(self, keep: Keep, *, must_drop: frozenset[Block] = frozenset()) -> tuple[str, str]:
        """(html, text) with every segment whose blocks are all kept.

        `must_drop` names blocks that have to be found to be dropped (headlines only in a
        part with a headline list); a template that does not mark one is an error rather
        than a reader getting others' posts.
        """
        for name, blocks in zip(self.names, self.blocks, strict=True):
            needed = must_drop
            if ("toc", None) not in blocks:
                needed = frozenset(block for block in must_drop if block[0] != "headline")
            missing = sorted(needed - blocks, key=lambda block: (block[0] != "post", _name(block)))
            if missing:
                raise TemplateError(
                    f"{name}: block {_name(missing[0])} is not marked, so it cannot be left "
                    "out of the readers' copies that do not want it",
                    hint="wrap each post in {{ post.begin }} … {{ post.end }} and each "
                    "headline in {{ post.headline_begin }} … {{ post.headline_end }}",
                )
        html, text = (
            "".join(s.text for s in part if all(keep(block) for block in s.inside))
            for part in self.parts
        )
        return html, text
