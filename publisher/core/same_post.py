"""How two records of a post are known to be the same post: the same link, else the same
title and published date. `publisher adopt` matches a feed's entries to posts this way,
and a build matches a renamed and edited post file to the file it was published as."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from urllib.parse import unquote, urlsplit

SAME_DATE_SECONDS = 36 * 3600
"""How far apart two published dates may be for posts of one title to be the same."""
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def comparable_link(url: str) -> str:
    """A URL as two spellings of the same page agree: host lower-cased, path unescaped,
    no scheme, no trailing slash."""
    parts = urlsplit(url.strip())
    path = unquote(parts.path).rstrip("/")
    return f"{parts.netloc.lower()}{path}?{parts.query}"


def comparable_title(title: str) -> str:
    text = unescape(re.sub(r"<[^>]*>", "", title)).translate(_QUOTES)
    return " ".join(text.split()).casefold()


def same_date(one: datetime, other: datetime) -> bool:
    return abs((one - other).total_seconds()) <= SAME_DATE_SECONDS
