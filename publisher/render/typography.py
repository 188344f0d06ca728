"""Typography, as kramdown (Jekyll) and Goldmark (Hugo) both make it: `---`, `--` and
`...` as dashes and an ellipsis; and Jekyll's `smartify` for titles and Liquid, which also
curls quotes. No Markdown parser is needed here, so reading a site's title costs none.
"""

from __future__ import annotations

import re
import unicodedata
from html import unescape

DASHES_AND_DOTS = re.compile(r"---|--|\.\.\.")
TYPOGRAPHY = {"---": "\u2014", "--": "\u2013", "...": "\u2026"}
GUILLEMETS = ((re.compile(r"<<\s?"), "\u00ab"), (re.compile(r"\s?>>"), "\u00bb"))
_TAG_OR_QUOTE = re.compile(r"<[^<>]*>|[\"']")
_DECADE = re.compile(r"\d\ds?\b")
_ENTITY = re.compile(r"&(?:#\w+|[A-Za-z]\w*);|&")
_KEPT_ENTITIES = {"&amp;": "&amp;", "&lt;": "&lt;", "&gt;": "&gt;"}
_OPENERS = {'"': "\u201c", "'": "\u2018"}
_CLOSERS = {'"': "\u201d", "'": "\u2019"}


def typographic(text: str) -> str:
    """`---`, `--` and `...` as the em dash, en dash and ellipsis."""
    return DASHES_AND_DOTS.sub(lambda m: TYPOGRAPHY[m.group(0)], text)


def smartify(text: str) -> str:
    """Jekyll's `smartify`: dashes, ellipses, guillemets and curly quotes; HTML tags kept
    as they are; entities made characters (but `&amp;`, `&lt;`, `&gt;`)."""
    text = typographic(text)
    for pattern, replacement in GUILLEMETS:
        text = pattern.sub(replacement, text)
    return _unescape_entities(_curl_quotes(text))


def _is_space(char: str) -> bool:
    return char == "" or char.isspace()


def _is_punctuation(char: str) -> bool:
    return char != "" and unicodedata.category(char)[0] in "PS"


def _curl_quotes(text: str) -> str:
    """Straight quotes outside tags curled: a quote opens before a word that follows a
    space or punctuation, closes after a word, and between two letters is an apostrophe."""
    out: list[str] = []
    position = 0
    open_quotes: list[str] = []
    for match in _TAG_OR_QUOTE.finditer(text):
        out.append(text[position : match.start()])
        position = match.end()
        quote = match.group(0)
        if len(quote) > 1:  # a tag
            out.append(quote)
            continue
        before = text[match.start() - 1] if match.start() else ""
        after = text[match.end()] if match.end() < len(text) else ""
        opens = not _is_space(after) and (_is_space(before) or _is_punctuation(before))
        closes = not _is_space(before) and (_is_space(after) or _is_punctuation(after))
        if quote == "'" and (
            (before.isalnum() and after.isalnum()) or _DECADE.match(text, match.end())
        ):
            out.append(_CLOSERS["'"])  # an apostrophe: don't, kramdown's, the '90s
        elif closes and quote in open_quotes:
            open_quotes.remove(quote)
            out.append(_CLOSERS[quote])
        elif opens:
            open_quotes.append(quote)
            out.append(_OPENERS[quote])
        elif closes:
            out.append(_CLOSERS[quote])
        else:
            out.append(quote)
    out.append(text[position:])
    return "".join(out)


def _unescape_entities(text: str) -> str:
    """Entities to characters (kramdown's `as_char`), except &amp; &lt; &gt; and bare `&`."""

    def one(match: re.Match[str]) -> str:
        entity = match.group(0)
        if entity == "&":
            return "&amp;"
        return _KEPT_ENTITIES.get(entity, unescape(entity))

    return _ENTITY.sub(one, text)
