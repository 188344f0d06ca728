"""Hugo's page dates: which front matter key (or file fact) gives `.Date`, `.PublishDate`,
`.Lastmod` and `.ExpiryDate`, following the site's `frontmatter` config, and how a date
written without an offset is read (in the language's `timeZone`, else UTC).

Handlers, as in Hugo 0.111.3: a front matter key name, `:default` (the built-in list),
`:filename` (a `YYYY-MM-DD` prefix of the file or bundle name, which also gives the slug),
`:fileModTime` (only when the operator opts in: file times change on checkout) and `:git`
(not supported here: it needs the repository's history; skipped with a note).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any

from publisher.core.errors import ConfigError, Problem, many
from publisher.core.i18n import ENGLISH_MONTHS

FIELDS = ("date", "lastmod", "publishdate", "expirydate")
DEFAULT_HANDLERS: Mapping[str, tuple[str, ...]] = {
    "date": ("date", "publishdate", "lastmod"),
    "lastmod": (":git", "lastmod", "date", "publishdate"),
    "publishdate": ("publishdate", "date"),
    "expirydate": ("expirydate",),
}
KEY_ALIASES: Mapping[str, tuple[str, ...]] = {
    "lastmod": ("modified",),
    "publishdate": ("pubdate", "published"),
    "expirydate": ("unpublishdate",),
}
FILENAME = ":filename"
FILE_MOD_TIME = ":filemodtime"
GIT = ":git"
DEFAULT = ":default"
KNOWN_SPECIAL = (FILENAME, FILE_MOD_TIME, GIT, DEFAULT)
MAX_DATE_CHARS = 100


@dataclass(frozen=True)
class DateRules:
    handlers: Mapping[str, tuple[str, ...]]
    """Per date field (`date`, `lastmod`, `publishdate`, `expirydate`), in the order tried."""
    file_mod_time: bool = False
    """Whether `:fileModTime` may be used (the operator's opt-in)."""
    notes: tuple[str, ...] = ()

    @property
    def date_keys(self) -> frozenset[str]:
        """Front matter keys that hold dates (Hugo keeps them out of `.Params` as text)."""
        return frozenset(
            handler
            for handlers in self.handlers.values()
            for handler in handlers
            if not handler.startswith(":")
        )


@dataclass(frozen=True)
class PageDates:
    date: datetime | None
    publish_date: datetime | None
    lastmod: datetime | None
    expiry_date: datetime | None
    filename_slug: str | None
    """The slug a `:filename` handler took from the name, when the page sets no `slug`."""
    notes: tuple[str, ...] = ()
    date_handler: str = ""
    """The handler that gave `date`: a front matter key, `:filename` or `:filemodtime`;
    "" when nothing did."""


def date_rules(
    frontmatter: Mapping[str, Sequence[str]], *, file_mod_time: bool = False
) -> DateRules:
    """The site's `frontmatter` config expanded as Hugo expands it (`:default`, key aliases)."""
    problems = []
    handlers: dict[str, tuple[str, ...]] = {}
    for name in frontmatter:
        if name.lower() not in FIELDS:
            problems.append(Problem(f"frontmatter.{name}", "is not a date Hugo knows"))
    for name in FIELDS:
        configured = [h.lower() for h in frontmatter.get(name, DEFAULT_HANDLERS[name])]
        for handler in configured:
            if handler.startswith(":") and handler not in KNOWN_SPECIAL:
                problems.append(Problem(f"frontmatter.{name}", f"unknown date handler {handler!r}"))
        handlers[name] = _with_aliases(_expand_default(configured, DEFAULT_HANDLERS[name]))
    if problems:
        raise many(ConfigError, "Hugo frontmatter config", problems)
    notes = []
    for name, used in handlers.items():
        if FILE_MOD_TIME in used and not file_mod_time:
            notes.append(
                f"frontmatter.{name}: :fileModTime skipped"
                " (file times change on checkout; opt in to use them)"
            )
        if GIT in used and name in frontmatter:
            notes.append(f"frontmatter.{name}: :git is not supported; skipped")
    return DateRules(handlers, file_mod_time, tuple(notes))


def _expand_default(handlers: Sequence[str], defaults: Sequence[str]) -> list[str]:
    expanded: list[str] = []
    for handler in handlers:
        expanded.extend(defaults if handler == DEFAULT else [handler])
    return expanded


def _with_aliases(handlers: Sequence[str]) -> tuple[str, ...]:
    complete: list[str] = []
    for handler in handlers:
        for name in (handler, *KEY_ALIASES.get(handler, ())):
            if name not in complete:
                complete.append(name)
    return tuple(complete)


def resolve_dates(
    front_matter: Mapping[str, Any],
    rules: DateRules,
    *,
    zone: tzinfo,
    content_base_name: str,
    mod_time: datetime | None,
) -> PageDates:
    """The four dates of one page. `front_matter` has lower-cased keys; `content_base_name`
    is the file name without extension and language (a bundle's folder name)."""
    notes: list[str] = []
    found: dict[str, datetime | None] = {}
    found_by: dict[str, str] = {}
    slug: str | None = None
    for name in FIELDS:
        found[name] = None
        for handler in rules.handlers[name]:
            value = None
            if handler == FILENAME:
                value, name_slug = date_and_slug_from_name(content_base_name, zone)
                if value is not None and "slug" not in front_matter:
                    slug = name_slug
            elif handler == FILE_MOD_TIME:
                value = mod_time if rules.file_mod_time else None
            elif handler != GIT and handler in front_matter:
                value = parse_hugo_date(front_matter[handler], zone)
                if value is None:
                    note = f"{handler}: {front_matter[handler]!r} is not a date Hugo reads"
                    _note(notes, note)
            if value is not None:
                found[name], found_by[name] = value, handler
                break
    return PageDates(
        date=found["date"],
        publish_date=found["publishdate"],
        lastmod=found["lastmod"],
        expiry_date=found["expirydate"],
        filename_slug=slug,
        notes=tuple(notes),
        date_handler=found_by.get("date", ""),
    )


def _note(notes: list[str], note: str) -> None:
    if note not in notes:
        notes.append(note)


def date_and_slug_from_name(name: str, zone: tzinfo) -> tuple[datetime | None, str]:
    """Hugo's `:filename`: a date in the first ten characters, the rest (trimmed) the slug."""
    dot = name.rfind(".")
    stem = name[:dot] if dot > 0 else name
    if len(stem) < 10:
        return None, ""
    found = parse_hugo_date(stem[:10], zone)
    if found is None:
        return None, ""
    return found, stem[10:].strip(" -_")


_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:(?:T| )(?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})(?:\.(?P<frac>\d{1,9}))?"
    r"(?P<zone> ?(?:Z|[+-]\d{2}:?\d{2}))?(?: [A-Z]{3,5})?)?"
)
_DAY_MONTH_YEAR = re.compile(r"(?P<d>\d{2}) (?P<mon>[A-Z][a-z]{2}) (?P<y>\d{4})")
_MONTHS = tuple(name[:3] for name in ENGLISH_MONTHS)


def parse_hugo_date(value: object, zone: tzinfo) -> datetime | None:
    """A front matter date as Hugo's `cast` reads it; None when Hugo would not read it.

    Dates without an offset are in `zone`. Supported: TOML dates and times, ISO 8601 with
    `T` or a space, with or without fraction and offset (`Z`, `+09:00`, `+0900`), a bare
    date, RFC 1123/822 mail dates, "02 Jan 2006", and Unix seconds as numbers.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str) or len(value) > MAX_DATE_CHARS:
        return None
    return _parse_text(value.strip(), zone)


def _parse_text(text: str, zone: tzinfo) -> datetime | None:
    iso = _ISO.fullmatch(text)
    if iso is not None:
        return _from_iso(iso, zone)
    day_first = _DAY_MONTH_YEAR.fullmatch(text)
    if day_first is not None and day_first["mon"] in _MONTHS:
        month = _MONTHS.index(day_first["mon"]) + 1
        return _checked(int(day_first["y"]), month, int(day_first["d"]), zone=zone)
    try:
        mail = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return mail if mail.tzinfo is not None else mail.replace(tzinfo=zone)


def _from_iso(found: re.Match[str], zone: tzinfo) -> datetime | None:
    offset = _offset(found["zone"])
    fraction = (found["frac"] or "").ljust(6, "0")[:6]
    return _checked(
        int(found["y"]),
        int(found["mo"]),
        int(found["d"]),
        int(found["h"] or 0),
        int(found["mi"] or 0),
        int(found["s"] or 0),
        int(fraction or 0),
        zone=offset if offset is not None else zone,
    )


def _offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    text = text.strip()
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return timezone(sign * timedelta(minutes=minutes))


def _checked(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    micro: int = 0,
    *,
    zone: tzinfo,
) -> datetime | None:
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)
    except ValueError:
        return None
