"""Markdown: the only user of markdown-it-py."""

from __future__ import annotations

from markdown_it import MarkdownIt

_commonmark = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def commonmark(text: str) -> str:
    """CommonMark with tables and strikethrough; raw HTML is kept for the HTML pass to clean."""
    html: str = _commonmark.render(text)
    return html
