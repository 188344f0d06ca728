"""Dates written in front matter, read as aware datetimes."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

_JEKYLL_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M:%S.%f %z")


def parse_moment(value: Any, zone: Any) -> datetime:
    """A front-matter date as an aware datetime; naive times are in the site's zone."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        moment = _from_text(value.strip())
    else:
        raise ValueError(f"cannot read {value!r} as a date")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.replace(microsecond=0)


def _from_text(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        pass
    for pattern in _JEKYLL_FORMATS:
        try:
            return datetime.strptime(text, pattern)  # noqa: DTZ007 (every pattern has %z)
        except ValueError:
            continue
    raise ValueError(f"cannot read {text!r} as a date") from None
