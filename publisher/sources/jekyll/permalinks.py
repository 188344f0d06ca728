"""The URL Jekyll 4.3 gives a post: placeholders, styles, escaping, and the post's id.

Placeholders are filled from the post's date in the site's time zone and from its file
name (`:title` keeps case; `:slug` is lower-cased). Each value is escaped the way
Jekyll's `URL.escape_path` does (Addressable's encoding of a URI, then `#` as `%23`),
and the joined URL is cleaned of `..`, `./` and doubled slashes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from publisher.core.i18n import ENGLISH_MONTHS, ENGLISH_WEEKDAYS
from publisher.sources.jekyll.slugs import slugify

PLACEHOLDER = re.compile(r":([a-z_]+)")
SAFE_PATH = re.compile(r"^[a-zA-Z0-9./-]+$")
URI_PARTS = re.compile(r"^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?$", re.S)
# RFC 3986 character classes, as Addressable spells them.
_SUB_DELIMS = "!$&'()*+,;="
_UNRESERVED = "-._~"
_PCHAR = _UNRESERVED + _SUB_DELIMS + ":@"
_SAFE = {
    "scheme": "-+.",
    "authority": _PCHAR + "[]",
    "path": _PCHAR + "/",
    "query": _PCHAR + "/?",
    "fragment": _PCHAR + "/?",
}

DATE_FORMATS = {
    "year": "%Y",
    "month": "%m",
    "day": "%d",
    "hour": "%H",
    "minute": "%M",
    "second": "%S",
    "short_month": "%b",
    "long_month": "%B",
    "short_year": "%y",
    "w_year": "%G",
    "week": "%V",
    "w_day": "%u",
    "short_day": "%a",
    "long_day": "%A",
    "y_day": "%j",
}
OTHER_PLACEHOLDERS = (
    "i_day",
    "i_month",
    "title",
    "slug",
    "name",
    "categories",
    "slugified_categories",
    "output_ext",
    "path",
    "collection",
)
PLACEHOLDERS = frozenset(DATE_FORMATS) | frozenset(OTHER_PLACEHOLDERS)


@dataclass(frozen=True)
class PostUrlParts:
    """What a post's URL is made of (see `post_url_parts` for reading them off a file)."""

    date: datetime
    basename_without_ext: str
    slug: str
    categories: Sequence[str]
    cleaned_relative_path: str
    output_ext: str = ".html"
    collection: str = "posts"


def _candidates(name: str) -> list[str]:
    # `:month_:day`: the regex takes `month_`; Jekyll then also tries `month`
    return [name, name.removesuffix("_")] if name.endswith("_") else [name]


def pattern_problem(pattern: str) -> str | None:
    """Why a permalink pattern is unusable (an unknown placeholder), or None when it's fine."""
    unknown = [
        f":{match.group(1)}"
        for match in PLACEHOLDER.finditer(pattern)
        if not any(key in PLACEHOLDERS for key in _candidates(match.group(1)))
    ]
    if not unknown:
        return None
    known = ", ".join(f":{p}" for p in sorted(PLACEHOLDERS))
    return f"unknown placeholder {', '.join(unknown)} in permalink {pattern!r} (known: {known})"


def english_strftime(moment: datetime, code: str) -> str:
    # English names whatever the process locale, as Ruby's strftime always gives
    if code in ("%b", "%B"):
        name = ENGLISH_MONTHS[moment.month - 1]
        return name if code == "%B" else name[:3]
    if code in ("%a", "%A"):
        name = ENGLISH_WEEKDAYS[moment.weekday()]
        return name if code == "%A" else name[:3]
    return moment.strftime(code)


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def placeholders(parts: PostUrlParts) -> dict[str, str]:
    """Every placeholder's value for one post (unescaped)."""
    values = {name: english_strftime(parts.date, code) for name, code in DATE_FORMATS.items()}
    values.update(
        i_day=str(parts.date.day),
        i_month=str(parts.date.month),
        title=slugify(parts.slug, "pretty", cased=True),
        slug=slugify(parts.slug),
        name=slugify(parts.basename_without_ext),
        categories="/".join(_unique([str(c).lower() for c in parts.categories])),
        slugified_categories="/".join(_unique([slugify(str(c)) for c in parts.categories])),
        output_ext=parts.output_ext,
        path=parts.cleaned_relative_path,
        collection=parts.collection,
    )
    return values


def _encode(component: str, part: str) -> str:
    return quote(component, safe=_SAFE[part])


def escape_path(path: str) -> str:
    """Jekyll's `URL.escape_path`: percent-encode what a URI may not hold; `#` as `%23`."""
    if not path or SAFE_PATH.match(path):
        return path
    match = URI_PARTS.match(path)
    assert match is not None  # the pattern matches every string
    scheme, authority, body = match.group(2), match.group(4), match.group(5)
    query, fragment = match.group(7), match.group(9)
    encoded = ""
    if scheme is not None:
        encoded += _encode(scheme, "scheme") + ":"
    if authority is not None:
        encoded += "//" + _encode(authority, "authority")
    encoded += _encode(body, "path")
    if query is not None:
        encoded += "?" + _encode(query, "query")
    if fragment is not None:
        encoded += "#" + _encode(fragment, "fragment")
    return encoded.replace("#", "%23", 1)


def sanitize_url(url: str) -> str:
    """Jekyll's `URL#sanitize_url`: leading slash, `..` and `./` removed, slashes squeezed."""
    cleaned = ("/" + url).replace("..", "/").replace("./", "")
    return re.sub(r"/{2,}", "/", cleaned)


def fill_pattern(pattern: str, values: Mapping[str, str]) -> str:
    """Replace each placeholder with its escaped value; an unknown one raises ValueError."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        for key in _candidates(name):
            if key in values:
                return match.group(0).replace(f":{key}", escape_path(values[key]), 1)
        raise ValueError(pattern_problem(pattern) or f"unknown placeholder :{name}")

    return PLACEHOLDER.sub(replace, pattern)


def post_url(template: str, parts: PostUrlParts, permalink: str | None = None) -> str:
    """The post's URL path: its own `permalink` if set, else the collection's template."""
    return sanitize_url(fill_pattern(permalink or template, placeholders(parts)))


def post_id(url: str, slug: str) -> str:
    """Jekyll's `Document#id` (jekyll-feed's entry id): the URL's folder joined to the slug."""
    folder = url.rstrip("/").rsplit("/", 1)[0] if "/" in url.rstrip("/") else ""
    return f"{folder.rstrip('/')}/{slug}"


def normalize_uri_path(path: str) -> str:
    """Addressable's `normalize` of a path: escape what a path may not hold, keep `%XX`."""
    escaped = re.sub(
        r"%(?![0-9A-Fa-f]{2})|[^%" + re.escape(_PCHAR + "/") + r"A-Za-z0-9]",
        lambda m: quote(m.group(0), safe=""),
        path,
    )
    return re.sub(
        r"%([0-9A-Fa-f]{2})",
        lambda m: _unreserved_or_upper(m.group(1)),
        escaped,
    )


def _unreserved_or_upper(hex_pair: str) -> str:
    char = chr(int(hex_pair, 16))
    if char.isascii() and (char.isalnum() or char in _UNRESERVED):
        return char
    return "%" + hex_pair.upper()


def absolute_url(site_url: str, baseurl: str, path: str) -> str:
    """`path | absolute_url`: site URL + baseurl + path, normalized as Addressable does."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", path):
        return path
    return (
        site_url.rstrip("/") + relative_url(baseurl, path)
        if site_url
        else relative_url(baseurl, path)
    )


def relative_url(baseurl: str, path: str) -> str:
    """`path | relative_url`: baseurl + path, each with one leading slash, normalized."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", path):
        return path
    base = baseurl.rstrip("/")
    base = base if not base or base.startswith("/") else "/" + base
    path = path if path.startswith("/") or not path else "/" + path
    return normalize_uri_path(base + path)
