"""Go's reference-time layouts (`2006`, `01`, `Jan`, `Monday`, …), which Hugo accepts as
permalink tokens (`:2006`): a token is a date format when formatting it changes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from publisher.core.i18n import ENGLISH_MONTHS, ENGLISH_WEEKDAYS

MONTHS = ENGLISH_MONTHS
WEEKDAYS = (ENGLISH_WEEKDAYS[-1], *ENGLISH_WEEKDAYS[:-1])
"""Go's order: Sunday first."""


def go_weekday(moment: datetime) -> int:
    """Go's `Weekday()`: Sunday is 0."""
    return (moment.weekday() + 1) % 7


def _hour12(moment: datetime) -> int:
    return moment.hour % 12 or 12


def _zone_name(moment: datetime) -> str:
    name = moment.tzname() or ""
    return name if name.isalpha() else _numeric_zone(moment)


def _numeric_zone(moment: datetime) -> str:
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _starts_lower(text: str) -> bool:
    return bool(text) and "a" <= text[0] <= "z"


_FIXED: tuple[tuple[str, Callable[[datetime], str]], ...] = (
    ("January", lambda m: MONTHS[m.month - 1]),
    ("Monday", lambda m: WEEKDAYS[go_weekday(m)]),
    ("2006", lambda m: f"{m.year:04d}"),
    ("_2006", lambda m: f"_{m.year:04d}"),
    ("__2", lambda m: f"{m.timetuple().tm_yday:>3}"),
    ("002", lambda m: f"{m.timetuple().tm_yday:03d}"),
    ("MST", _zone_name),
    ("01", lambda m: f"{m.month:02d}"),
    ("02", lambda m: f"{m.day:02d}"),
    ("03", lambda m: f"{_hour12(m):02d}"),
    ("04", lambda m: f"{m.minute:02d}"),
    ("05", lambda m: f"{m.second:02d}"),
    ("06", lambda m: f"{m.year % 100:02d}"),
    ("15", lambda m: f"{m.hour:02d}"),
    ("_2", lambda m: f"{m.day:>2}"),
    ("PM", lambda m: "PM" if m.hour >= 12 else "AM"),
    ("pm", lambda m: "pm" if m.hour >= 12 else "am"),
    ("1", lambda m: str(m.month)),
    ("2", lambda m: str(m.day)),
    ("3", lambda m: str(_hour12(m))),
    ("4", lambda m: str(m.minute)),
    ("5", lambda m: str(m.second)),
)
_CASED: tuple[tuple[str, Callable[[datetime], str]], ...] = (
    ("Jan", lambda m: MONTHS[m.month - 1][:3]),
    ("Mon", lambda m: WEEKDAYS[go_weekday(m)][:3]),
)


def format_go_layout(layout: str, moment: datetime) -> str:
    """`moment.Format(layout)` for layouts made of word characters (what a permalink token
    can hold). Like Go, `Jan`/`Mon` only count when no lower-case letter follows."""
    out: list[str] = []
    index = 0
    while index < len(layout):
        rest = layout[index:]
        for token, render in _CASED:
            if rest.startswith(token) and not _starts_lower(rest[3:]):
                out.append(render(moment))
                index += len(token)
                break
        else:
            for token, render in _FIXED:
                if rest.startswith(token):
                    out.append(render(moment))
                    index += len(token)
                    break
            else:
                out.append(layout[index])
                index += 1
    return "".join(out)


def is_go_layout(token: str) -> bool:
    """Hugo's test: a token is a date layout when formatting a reference time changes it."""
    reference = datetime(2019, 11, 9, 23, 1, 42, tzinfo=UTC)
    return format_go_layout(token, reference) != token
