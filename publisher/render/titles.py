"""Titles and summaries as jekyll-feed writes them, for every source kind.

A title is made typographic the way Jekyll's `smartify` does (quotes, dashes,
ellipses), stripped of HTML, and its entities are decoded once: what a reader sees.
A summary is the text of an HTML excerpt, its whitespace collapsed.
"""

from __future__ import annotations

import re

from publisher.render.text import plain_line

# Liquid's strip_html: scripts, styles and comments with what they hold, then every tag.
_HTML = re.compile(r"<script.*?</script>|<!--.*?-->|<style.*?</style>|<.*?>", re.S | re.I)


def strip_html(html: str) -> str:
    """Liquid's `strip_html`: markup gone, entities left as they are."""
    return _HTML.sub("", html)


def plain_title(raw: str) -> str:
    """A title as jekyll-feed shows it (`smartify | strip_html`), as plain text on one line."""
    from html import unescape  # its entity table, only when a post is read

    from publisher.render.typography import smartify

    return plain_line(unescape(strip_html(smartify(raw))))


def summary_text(html: str) -> str:
    """An excerpt's HTML as jekyll-feed's summary (`strip_html | normalize_whitespace`), as
    plain text."""
    from html import unescape

    return plain_line(unescape(strip_html(html)))
