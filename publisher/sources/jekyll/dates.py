"""Post dates as Jekyll 4.3 reads them: Ruby's `Time.parse`, then the site's time zone.

Jekyll turns every `date` into text and hands it to `Time.parse`; a value without an offset
is local time, which for a site is its `timezone:`. A YAML timestamp is different: Psych
reads one without an offset as UTC. A local time that happens twice (DST ends) is read as
the later, standard-time one and a local time that never happens (DST starts) moves
forward, as Ruby's `Time.local` does on glibc.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from publisher.sources.jekyll.front_matter import YamlTimestamp

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
# The zone abbreviations Ruby's Date._parse knows that sites actually write.
ZONE_HOURS = {
    "utc": 0, "ut": 0, "gmt": 0, "z": 0, "wet": 0, "west": 1, "bst": 1, "cet": 1,
    "cest": 2, "eet": 2, "eest": 3, "msk": 3, "ist": 5.5, "hkt": 8, "sgt": 8, "awst": 8,
    "jst": 9, "kst": 9, "acst": 9.5, "aest": 10, "aedt": 11, "nzst": 12, "nzdt": 13,
    "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
    "akst": -9, "akdt": -8, "hst": -10,
}  # fmt: skip

_TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
_MERIDIAN = r"(?:\s*(?P<meridian>[ap])\.?m\.?)?"
_ZONE = r"(?:\s*(?P<zone>z|[+-]\d{1,2}(?::?\d{2})?|[a-z]{1,5}))?"
_TAIL = rf"(?:(?:t|\s+){_TIME}{_MERIDIAN}{_ZONE})?\s*$"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
_MONTH_WORD = r"(?P<month_name>[a-z]{3,9})\.?"
PATTERNS = [
    re.compile(rf"^\s*{_WEEKDAY}(?P<year>-?\d{{4}})[-/.](?P<month>\d{{1,2}})[-/.](?P<day>\d{{1,2}}){_TAIL}"),
    re.compile(rf"^\s*{_WEEKDAY}(?P<day>\d{{1,2}})(?:st|nd|rd|th)?[\s-]+{_MONTH_WORD}[\s,-]+(?P<year>\d{{4}}){_TAIL}"),
    re.compile(rf"^\s*{_WEEKDAY}{_MONTH_WORD}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}}){_TAIL}"),
    re.compile(rf"^\s*(?P<year>\d{{4}})(?P<month>\d{{2}})(?P<day>\d{{2}}){_TAIL}"),
]  # fmt: skip
FILENAME_DATE = re.compile(r"^(\d{2,4})-(\d{1,2})-(\d{1,2})$")
_YAML_TIMESTAMP = re.compile(
    r"^(?P<date>-?\d{4}-\d{1,2}-\d{1,2})(?:(?:[Tt]|[ \t]+)(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})"
    r"(?:\.(?P<f>\d*))?[ \t]*(?P<zone>Z|[-+]\d{1,2}(?::?\d{2})?)?)?$"
)


class DateError(ValueError):
    """A date Ruby's `Time.parse` would refuse (Jekyll stops the build on it)."""


def localize(wall: datetime, zone: tzinfo) -> datetime:
    """A naive wall-clock time in `zone`, resolving DST folds and gaps as Ruby does."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip == wall:  # happens twice: Ruby takes the later (standard-time) one
        return second.astimezone(UTC).astimezone(zone)
    return first.astimezone(UTC).astimezone(zone)  # never happens: moves forward


def _offset(zone_text: str) -> timezone:
    lowered = zone_text.lower()
    if lowered in ZONE_HOURS:
        return timezone(timedelta(hours=ZONE_HOURS[lowered]))
    match = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})?", zone_text)
    if match is None:
        raise DateError(f"unknown time zone {zone_text!r}")
    sign = -1 if match.group(1) == "-" else 1
    minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
    return timezone(sign * timedelta(minutes=minutes))


def _hour(hour: int, meridian: str | None) -> int:
    if meridian == "p" and hour < 12:
        return hour + 12
    if meridian == "a" and hour == 12:
        return 0
    return hour


def _fields(text: str) -> dict[str, str | None]:
    for pattern in PATTERNS:
        match = pattern.match(text.lower())
        if match:
            return match.groupdict()
    raise DateError(f"{text!r} is not a date Ruby's Time.parse reads")


def parse_ruby_time(text: str, zone: tzinfo) -> datetime:
    """Read `text` as Ruby's `Time.parse` would; no offset means local time in `zone`."""
    parts = _fields(text)
    month = parts.get("month")
    month_number = int(month) if month else MONTHS.get((parts.get("month_name") or "")[:9], 0)
    if not month_number and parts.get("month_name"):
        month_number = MONTHS.get((parts["month_name"] or "")[:3], 0)
    fraction = (parts.get("fraction") or "0")[:6].ljust(6, "0")
    try:
        wall = datetime(  # noqa: DTZ001 - made aware just below
            int(parts["year"] or 0),
            month_number,
            int(parts["day"] or 0),
            _hour(int(parts.get("hour") or 0), parts.get("meridian")),
            int(parts.get("minute") or 0),
            int(parts.get("second") or 0),
            int(fraction),
        )
    except ValueError as error:
        raise DateError(f"{text!r} is not a valid date: {error}") from error
    zone_text = parts.get("zone")
    if zone_text:
        return wall.replace(tzinfo=_offset(zone_text)).astimezone(zone)
    return localize(wall, zone)


def parse_yaml_timestamp(text: str, zone: tzinfo) -> datetime:
    """A YAML timestamp as Psych builds it: without an offset the wall clock is UTC."""
    match = _YAML_TIMESTAMP.match(text.strip())
    if match is None:
        return parse_ruby_time(text, zone)
    if match.group("h") is None:  # a bare date: Psych makes a Date, Jekyll local midnight
        return parse_ruby_time(match.group("date"), zone)
    year, month, day = (int(x) for x in match.group("date").split("-"))
    wall = datetime(  # noqa: DTZ001 - made aware just below
        year, month, day, int(match.group("h")), int(match.group("m")), int(match.group("s"))
    )  # Time#to_s drops the fraction before Jekyll re-reads it
    zone_text = match.group("zone")
    offset = UTC if zone_text in (None, "Z") else _offset(zone_text)
    return wall.replace(tzinfo=offset).astimezone(zone)


def read_date(value: object, zone: tzinfo) -> datetime:
    """A front matter `date` value (text, YAML timestamp, date or datetime), in `zone`."""
    if isinstance(value, YamlTimestamp):
        return parse_yaml_timestamp(value, zone)
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(zone)
    if isinstance(value, date):
        return localize(datetime(value.year, value.month, value.day), zone)  # noqa: DTZ001
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return parse_ruby_time(str(value), zone)
    raise DateError(f"{value!r} is not a date")


def filename_date(text: str, zone: tzinfo) -> datetime:
    """The `YYYY-MM-DD` of a post's file name: local midnight in `zone`."""
    match = FILENAME_DATE.match(text)
    if match is None:
        raise DateError(f"{text!r} is not a YYYY-MM-DD date")
    year, month, day = (int(x) for x in match.groups())
    try:
        return localize(datetime(year, month, day), zone)  # noqa: DTZ001
    except ValueError as error:
        raise DateError(f"{text!r} is not a valid date: {error}") from error


def post_date(
    front_matter_date: object,
    name_date: str | None,
    zone: ZoneInfo,
    *,
    fallback: datetime,
) -> datetime:
    """Jekyll's choice: front matter `date`, else the file name's, else `fallback`.

    `fallback` is the file's modification time for a draft and the build time otherwise.
    """
    if front_matter_date not in (None, ""):
        return read_date(front_matter_date, zone)
    if name_date is not None:
        return filename_date(name_date, zone)
    return fallback.astimezone(zone)
