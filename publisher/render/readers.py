"""Readers: how a post's body becomes HTML, by name. A source names a reader per file.

A new body format is one function and one line in READERS.
"""

from __future__ import annotations

from collections.abc import Callable

from publisher.render.markdown import commonmark


def _html(body: str) -> str:
    return body


def _kramdown(body: str) -> str:
    from publisher.render.kramdown import render_kramdown

    return render_kramdown(body)


READERS: dict[str, Callable[[str], str]] = {
    "markdown": commonmark,
    "html": _html,
    "kramdown": _kramdown,
}
"""Reader name → body text to (unsanitised) HTML."""


def read(reader: str, body: str) -> str:
    return READERS[reader](body)
