"""Page and feed URLs exactly as Hugo 0.111.3 makes them.

The path rules (`make_path`, `urlize`, `url_escape`) follow Hugo's `UnicodeSanitize`,
`MakePathSanitized` and Go's `net/url` escaping; `page_link` follows `CreateTargetPaths` for
regular pages (permalink patterns, `url` front matter, `slug`, `uglyURLs`, language prefix).
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from publisher.core.errors import ConfigError, Problem, many
from publisher.sources.hugo.golayout import MONTHS, WEEKDAYS, format_go_layout, go_weekday
from publisher.sources.hugo.golayout import is_go_layout as _is_go_layout

GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
"""What Hugo formats when a page has no date."""

_PATH_PUNCTUATION = frozenset("./\\_#+~-@")
_GO_SPACES = frozenset("\t\n\v\f\r \x85\xa0")


@dataclass(frozen=True)
class PathRules:
    disable_path_to_lower: bool = False
    remove_path_accents: bool = False


def remove_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", kept)


def _is_go_space(ch: str) -> bool:
    return ch in _GO_SPACES or unicodedata.category(ch) in ("Zs", "Zl", "Zp")


def _is_path_char(ch: str) -> bool:
    return (
        ch in _PATH_PUNCTUATION
        or unicodedata.category(ch)[0] in "LM"
        or (unicodedata.category(ch) == "Nd")
    )


def _is_hex(ch: str) -> bool:
    return ch in "0123456789abcdefABCDEF"


def make_path(text: str, rules: PathRules) -> str:
    """Hugo's `UnicodeSanitize`: letters, digits, marks and `./\\_#+~-@` (and `%XX`) kept,
    runs of spaces made one hyphen, everything else dropped; case kept."""
    if rules.remove_path_accents:
        text = remove_accents(text)
    target: list[str] = []
    prepend_hyphen = was_hyphen = False
    for index, ch in enumerate(text):
        allowed = _is_path_char(ch) or (
            ch == "%"
            and index + 2 < len(text)
            and _is_hex(text[index + 1])
            and _is_hex(text[index + 2])
        )
        if allowed:
            was_hyphen = ch == "-"
            if prepend_hyphen and not was_hyphen:
                target.append("-")
            prepend_hyphen = False
            target.append(ch)
        elif target and not was_hyphen and _is_go_space(ch):
            prepend_hyphen = True
    return "".join(target)


def go_lower(text: str) -> str:
    """Go's `strings.ToLower`: one rune for one rune (Python's `lower` may add runes)."""
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def make_path_sanitized(text: str, rules: PathRules) -> str:
    made = make_path(text, rules)
    return made if rules.disable_path_to_lower else go_lower(made)


def urlize(text: str, rules: PathRules) -> str:
    """Hugo's `urlize`: a path from any text ("Vim (text editor)" → "vim-text-editor")."""
    return url_escape(make_path_sanitized(text, rules))


_PATH_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~$&+,/:;=@"
)
_FRAGMENT_SAFE = _PATH_SAFE | frozenset("!()*?")
_ENCODED_EXTRA = frozenset("!$&'()*+,;=:@[]%")


def _escape(raw: bytes, safe: frozenset[str]) -> str:
    return "".join(chr(b) if chr(b) in safe else f"%{b:02X}" for b in raw)


def _unescape(text: str) -> bytes | None:
    out = bytearray()
    index = 0
    encoded = text.encode("utf-8")
    while index < len(encoded):
        byte = encoded[index]
        if byte == ord("%"):
            pair = encoded[index + 1 : index + 3].decode("latin-1")
            if len(pair) < 2 or not all(_is_hex(c) for c in pair):
                return None
            out.append(int(pair, 16))
            index += 3
            continue
        out.append(byte)
        index += 1
    return bytes(out)


def _go_escaped(text: str, safe: frozenset[str]) -> str:
    """Go's `EscapedPath`/`EscapedFragment`: the text as written when it is a valid encoding,
    else every unsafe byte percent-encoded."""
    if all(ch in _ENCODED_EXTRA or ch in safe for ch in text) and _unescape(text) is not None:
        return text
    raw = _unescape(text)
    return _escape(raw if raw is not None else text.encode("utf-8"), safe)


def url_escape(path: str) -> str:
    """Go's `url.Parse(path).String()` for a path: non-ASCII and unsafe bytes percent-encoded,
    a query and a fragment kept apart."""
    path, hash_mark, fragment = path.partition("#")
    path, question, query = path.partition("?")
    escaped = _go_escaped(path, _PATH_SAFE) + question + query
    if hash_mark:
        escaped += "#" + _go_escaped(fragment, _FRAGMENT_SAFE)
    return escaped


def go_clean(path: str) -> str:
    """Go's `path.Clean`."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def pjoin(*parts: str) -> str:
    """Hugo's `pjoin`: `path.Join` that keeps one trailing slash."""
    joined = "/".join(part for part in parts if part)
    cleaned = go_clean(joined) if joined else ""
    if parts[-1].endswith("/") and not cleaned.endswith("/"):
        cleaned += "/"
    return cleaned


def query_unescape(text: str) -> str | None:
    """Go's `url.QueryUnescape` (`+` is a space); None when the escapes are malformed."""
    raw = _unescape(text.replace("+", " "))
    if raw is None:
        return None
    return raw.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class PageFacts:
    """What Hugo's URL code needs to know about one regular page."""

    title: str
    slug: str
    """From front matter (dashes trimmed) or a `:filename` date handler; "" when none."""
    url: str
    """The `url` front matter; "" when none."""
    date: datetime | None
    dir: str
    """The file's folder under its content folder, "/"-separated, ending in "/" ("" at the root)."""
    translation_base_name: str
    """The file name without extension and language: "post" for post.ko.md, "index" in bundles."""
    content_base_name: str
    """`translation_base_name`, or the bundle folder's name for a leaf bundle."""
    section: str
    """The root section ("" for pages at the content root)."""
    sections: tuple[str, ...]
    """The path of the page's current section, e.g. ("docs", "guide")."""


PermalinkToken = Callable[["PageFacts", str, PathRules], str]


def _date(page: PageFacts) -> datetime:
    return page.date if page.date is not None else GO_ZERO_TIME


def _filename(page: PageFacts, rules: PathRules) -> str:
    name = page.translation_base_name
    if name == "index":
        name = posixpath.basename(page.dir.rstrip("/"))
    return urlize(name, rules)


def _slug_else(fallback: Callable[[PageFacts, PathRules], str]) -> PermalinkToken:
    def token(page: PageFacts, _: str, rules: PathRules) -> str:
        return urlize(page.slug, rules) if page.slug else fallback(page, rules)

    return token


def _title(page: PageFacts, rules: PathRules) -> str:
    return urlize(page.title, rules)


def _content_base_name(page: PageFacts, rules: PathRules) -> str:
    return urlize(page.content_base_name, rules)


TOKENS: Mapping[str, PermalinkToken] = {
    "year": lambda p, _, r: str(_date(p).year),
    "month": lambda p, _, r: f"{_date(p).month:02d}",
    "monthname": lambda p, _, r: MONTHS[_date(p).month - 1],
    "day": lambda p, _, r: f"{_date(p).day:02d}",
    "weekday": lambda p, _, r: str(go_weekday(_date(p))),
    "weekdayname": lambda p, _, r: WEEKDAYS[go_weekday(_date(p))],
    "yearday": lambda p, _, r: str(_date(p).timetuple().tm_yday),
    "section": lambda p, _, r: p.section,
    "sections": lambda p, _, r: "/".join(p.sections),
    "title": lambda p, _, r: _title(p, r),
    "slug": _slug_else(_title),
    "slugorfilename": _slug_else(_filename),
    "filename": lambda p, _, r: _filename(p, r),
    # Newer than Hugo 0.111.3 (which rejects them): accepted for sites built with newer Hugo.
    "contentbasename": lambda p, _, r: _content_base_name(p, r),
    "contentbasenameorslug": _slug_else(_content_base_name),
}
_ATTRIBUTE = re.compile(r":\w+(\[.+?\])?")


def _sections_slice(cut: str) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    """Hugo's `:sections[low:high]`, `[n]` and `[last]`, lenient out of bounds."""
    cut = cut.strip().lower()
    if not cut:
        return lambda entries: entries
    if len(cut) < 3 or cut[0] != "[" or cut[-1] != "]":
        return lambda entries: ()
    inner = cut[1:-1]

    def bound(text: str, default: Callable[[int], int]) -> Callable[[int], int]:
        if text == "":
            return default
        if text == "last":
            return lambda n: n - 1
        number = max(int(text) if text.lstrip("-").isdigit() else 0, 0)
        return lambda n: min(number, n)

    if ":" not in inner:
        index = bound(inner, lambda n: 0)
        return lambda entries: (
            (entries[index(len(entries))],)
            if entries and index(len(entries)) < len(entries)
            else ()
        )
    low_text, high_text = inner.split(":", 1)
    low, high = bound(low_text, lambda n: 0), bound(high_text, lambda n: n)
    return lambda entries: entries[low(len(entries)) : high(len(entries))] if entries else ()


def _token(attribute: str) -> PermalinkToken | None:
    name = attribute[1:]
    if name in TOKENS:
        return TOKENS[name]
    if name.startswith("sections["):
        cut = _sections_slice(name[len("sections") :])
        return lambda page, _, rules: "/".join(cut(page.sections))
    if _is_go_layout(name):
        return lambda page, layout, rules: format_go_layout(layout[1:], _date(page))
    return None


@dataclass(frozen=True)
class PermalinkPattern:
    pattern: str
    tokens: tuple[tuple[str, PermalinkToken], ...]

    def expand(self, page: PageFacts, rules: PathRules) -> str:
        expanded = self.pattern
        for text, token in self.tokens:
            expanded = expanded.replace(text, token(page, text, rules), 1)
        return expanded


def compile_permalink(pattern: str, where: str = "permalinks") -> PermalinkPattern:
    """One pattern checked as Hugo checks it; unknown tokens are a ConfigError."""
    fragments = pattern[1:].split("/")
    if not pattern or any(not part for part in fragments[:-1]):
        raise ConfigError(
            f"{where}: {pattern!r} is ill-formed",
            hint="a pattern starts with / and has no empty parts, e.g. /:year/:slug/",
        )
    tokens = []
    for found in _ATTRIBUTE.finditer(pattern):
        token = _token(found.group(0))
        if token is None:
            raise ConfigError(
                f"{where}: {pattern!r}: unknown token {found.group(0)}",
                hint="Hugo's tokens: " + ", ".join(f":{name}" for name in TOKENS),
            )
        tokens.append((found.group(0), token))
    return PermalinkPattern(pattern, tuple(tokens))


def compile_permalinks(patterns: Mapping[str, str]) -> dict[str, PermalinkPattern]:
    """Every section's pattern; all bad ones reported together."""
    compiled: dict[str, PermalinkPattern] = {}
    problems: list[Problem] = []
    for section, pattern in patterns.items():
        try:
            compiled[section] = compile_permalink(pattern, f"permalinks.{section}")
        except ConfigError as e:
            problems.append(Problem(f"permalinks.{section}", e.message, e.hint))
    if problems:
        raise many(ConfigError, "Hugo permalinks", problems)
    return compiled


@dataclass(frozen=True)
class SiteURLs:
    """The URL rules of one language of a site."""

    base_url: str
    rules: PathRules
    ugly_urls: bool
    permalinks: Mapping[str, PermalinkPattern]
    language_prefix: str = ""

    @property
    def base_path(self) -> str:
        return urlsplit(self.base_url).path.rstrip("/")

    def absolute(self, link: str) -> str:
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        return base + link.lstrip("/")

    def relative(self, link: str) -> str:
        if not self.base_path:
            return link
        joined = pjoin(self.base_path, link)
        return joined + "/" if link.endswith("/") and not joined.endswith("/") else joined

    def page_link(self, page: PageFacts) -> str:
        """Hugo's `Link` for a regular page: its path from the site root, escaped."""
        if page.url:
            return url_escape(self._url_link(page.url))
        path = self._page_path(page)
        link = path.rstrip("/") + "/" if path != "/" else "/"
        if self.ugly_urls:
            link = "/" + path.strip("/") + ".html"
        return self._finish(link)

    def _page_path(self, page: PageFacts) -> str:
        pattern = self.permalinks.get(page.section)
        expanded = ""
        if pattern is not None:
            expanded = query_unescape(pattern.expand(page, self.rules)) or ""
        if expanded:
            return pjoin("/", expanded)
        return pjoin("/", _source_dir(page), page.slug or page.content_base_name)

    def _finish(self, link: str) -> str:
        if self.language_prefix:
            link = pjoin(self.language_prefix, link)
        return url_escape(make_path_sanitized(_normalised(link), self.rules))

    def resource_dir(self, page: PageFacts) -> str:
        """Hugo's `SubResourceBaseLink`: where a bundle's resources are published, as a link
        path ending in "/". With uglyURLs it is not the page's own URL (/x.html → /x/)."""
        if page.url:
            folder = pjoin("/", page.url)
            if "." in page.url and not page.url.endswith("/"):
                folder = posixpath.dirname(folder)
            if not page.url.startswith("/") and self.language_prefix:
                folder = pjoin(self.language_prefix, folder)
            return url_escape(_normalised(folder).rstrip("/") + "/")
        return self._finish(self._page_path(page).rstrip("/")).rstrip("/") + "/"

    def resource_url(self, page: PageFacts, name: str) -> str:
        """The absolute URL of a bundle resource, `name` relative to the bundle folder."""
        return self.absolute(self.resource_dir(page) + url_escape(name.lstrip("/")))

    def _url_link(self, url: str) -> str:
        """A `url` front matter value: kept as written; a relative one gets the language prefix."""
        link = pjoin("/", url)
        if url.endswith("/") or "." not in url:
            link = link.rstrip("/") + "/"
        if not url.startswith("/") and self.language_prefix:
            link = pjoin(self.language_prefix, link)
        return _normalised(link)

    def permalink(self, page: PageFacts) -> str:
        return self.absolute(self.page_link(page))

    def rel_permalink(self, page: PageFacts) -> str:
        return self.relative(self.page_link(page))

    def term_feed(self, plural: str, term: str) -> str:
        """The RSS feed of one taxonomy term, e.g. /categories/site-news/index.xml."""
        pattern = self.permalinks.get(plural)
        if pattern is not None:
            facts = PageFacts(term, "", "", None, "", term, term, plural, (plural,))
            expanded = query_unescape(pattern.expand(facts, self.rules))
            if expanded:
                return self.absolute(self.list_feed(tuple(expanded.strip("/").split("/"))))
        key = make_path_sanitized(term, self.rules)
        return self.absolute(self.list_feed((plural, key)))

    def list_feed(self, sections: tuple[str, ...]) -> str:
        """The link of a list page's RSS: the home page's for (), a section's for (name,)."""
        link = pjoin("/", *sections, "index.xml")
        if self.language_prefix:
            link = pjoin(self.language_prefix, link)
        return url_escape(make_path_sanitized(_normalised(link), self.rules))


def _source_dir(page: PageFacts) -> str:
    """The folder part of the default path: a leaf bundle's own folder is its name, not a dir."""
    if page.translation_base_name != page.content_base_name:
        return page.dir.removesuffix("/").removesuffix(page.content_base_name)
    return page.dir


def _normalised(link: str) -> str:
    had_slash = link.endswith("/")
    link = "/" + link.strip("/")
    return link + "/" if had_slash and link != "/" else link
