"""Markdown for a folder of posts: CommonMark with tables and strikethrough.

markdown-it-py lives in render/: here, and in kramdown.py (a Jekyll site's posts) and
goldmark.py (a Hugo site's), which extend it as those generators render Markdown."""

from __future__ import annotations

from markdown_it import MarkdownIt

_commonmark = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def commonmark(text: str) -> str:
    """CommonMark with tables and strikethrough; raw HTML is kept for the HTML pass to clean."""
    html: str = _commonmark.render(text)
    return html
