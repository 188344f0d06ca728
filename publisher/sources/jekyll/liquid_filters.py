"""Jekyll's Liquid filters (lib/jekyll/filters*.rb) for python-liquid, as plain functions.

Filters that need the site (URLs, time zone, Markdown) read it from the render context's
`JEKYLL_SITE` global, a `FilterSite` the caller provides.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import format_datetime
from html import escape
from typing import Any
from urllib.parse import quote, quote_plus
from zoneinfo import ZoneInfo

from liquid.filter import with_context

from publisher.render.typography import smartify as typographic_smartify
from publisher.sources.jekyll.dates import DateError, parse_ruby_time
from publisher.sources.jekyll.permalinks import absolute_url as site_absolute_url
from publisher.sources.jekyll.permalinks import relative_url as site_relative_url
from publisher.sources.jekyll.slugs import slugify as jekyll_slugify

SITE_GLOBAL = "JEKYLL_SITE"
CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"


@dataclass(frozen=True)
class FilterSite:
    """What Jekyll's filters need to know about the site."""

    url: str
    baseurl: str
    zone: ZoneInfo
    markdownify: Callable[[str], str]


def _site(context: Any) -> FilterSite:
    site = context.globals.get(SITE_GLOBAL)
    assert isinstance(site, FilterSite)
    return site


def _text(value: object) -> str:
    return "" if value is None or _undefined(value) else str(value)


def _undefined(value: object) -> bool:
    from liquid import is_undefined

    return bool(is_undefined(value))


def _url_of(value: object) -> str | None:
    if value is None or _undefined(value):
        return None
    if isinstance(value, Mapping) and "url" in value:
        return str(value["url"])
    return str(value)


@with_context
def relative_url(value: object, *, context: Any) -> str | None:
    url = _url_of(value)
    return None if url is None else site_relative_url(_site(context).baseurl, url)


@with_context
def absolute_url(value: object, *, context: Any) -> str | None:
    url = _url_of(value)
    site = _site(context)
    return None if url is None else site_absolute_url(site.url, site.baseurl, url)


def _time(value: object, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(zone)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, zone)
    return parse_ruby_time(str(value), zone)


def _date_filter(render: Callable[[datetime], str]) -> Callable[..., object]:
    @with_context
    def apply(value: object, *args: object, context: Any) -> object:
        if value is None or _undefined(value) or value == "":
            return value
        try:
            return render(_time(value, _site(context).zone), *args)
        except DateError as error:
            raise ValueError(f"invalid date {value!r}: {error}") from error

    return apply


def _ordinal(day: int) -> str:
    if 11 <= day <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _stringify(moment: datetime, month: str, kind: object = None, style: object = None) -> str:
    from publisher.sources.jekyll.permalinks import english_strftime

    month_name = english_strftime(moment, month)
    if kind == "ordinal":
        day = f"{moment.day}{_ordinal(moment.day)}"
        if style == "US":
            return f"{month_name} {day}, {moment.year}"
        return f"{day} {month_name} {moment.year}"
    return f"{moment.day:02d} {month_name} {moment.year}"


date_to_xmlschema = _date_filter(lambda m: m.isoformat(timespec="seconds"))
date_to_rfc822 = _date_filter(format_datetime)
date_to_string = _date_filter(lambda m, *a: _stringify(m, "%b", *a))
date_to_long_string = _date_filter(lambda m, *a: _stringify(m, "%B", *a))


def xml_escape(value: object) -> str:
    return escape(_text(value), quote=False).replace('"', "&quot;")


def cgi_escape(value: object) -> str:
    return quote_plus(_text(value), safe="")


def uri_escape(value: object) -> str:
    return quote(_text(value), safe="!$&'()*+,;=:@/?#[]%-._~")


@with_context
def markdownify(value: object, *, context: Any) -> str:
    return _site(context).markdownify(_text(value))


def smartify(value: object) -> str:
    return typographic_smartify(_text(value))


def slugify(value: object, mode: object = None) -> str | None:
    if value is None or _undefined(value):
        return None
    return jekyll_slugify(str(value), None if mode is None else str(mode))


def normalize_whitespace(value: object) -> str:
    return " ".join(_text(value).split())


def number_of_words(value: object, mode: object = None) -> int:
    text = _text(value)
    cjk = len(re.findall(f"[{CJK}]", text))
    words = len(re.findall(rf"[^{CJK}\s]+", text))
    if mode == "cjk" or (mode == "auto" and cjk):
        return cjk + words
    return len(text.split())


def array_to_sentence_string(value: object, connector: object = "and") -> str:
    items = [_text(v) for v in _items(value)]
    if len(items) < 3:
        return f" {connector} ".join(items)
    return f"{', '.join(items[:-1])}, {connector} {items[-1]}"


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %z")
    return str(value)


def jsonify(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _items(value: object) -> list[Any]:
    if value is None or _undefined(value):
        return []
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def _property(item: object, name: str) -> object:
    for key in str(name).split("."):
        item = item.get(key) if isinstance(item, Mapping) else None
    return item


def _matches(found: object, target: object) -> bool:
    if target is None:
        return found is None
    wanted = str(target)
    if isinstance(found, str):
        return found == wanted
    values = found if isinstance(found, list | tuple) else [found]
    return any(str(v) == wanted for v in values if v is not None)


def where(value: object, prop: object, target: object = None) -> object:
    if not prop or isinstance(target, list | dict):
        return value
    return [item for item in _items(value) if _matches(_property(item, str(prop)), target)]


@with_context
def where_exp(value: object, variable: object, expression: object, *, context: Any) -> list[Any]:
    template = context.env.from_string(f"{{% if {expression} %}}1{{% endif %}}")
    scope = dict(context.globals)
    return [
        item
        for item in _items(value)
        if template.render(**{**scope, str(variable): item}).strip() == "1"
    ]


def group_by(value: object, prop: object) -> list[dict[str, Any]]:
    groups: dict[str, list[Any]] = {}
    for item in _items(value):
        groups.setdefault(_text(_property(item, str(prop))), []).append(item)
    return [{"name": k, "items": v, "size": len(v)} for k, v in groups.items()]


def _sort_key(found: object) -> tuple[int, Any]:
    if isinstance(found, bool) or found is None:
        return (1, str(found))
    if isinstance(found, int | float):
        return (0, found)
    text = str(found)
    if re.fullmatch(r"\s*-?\d+\s*", text):
        return (0, int(text))
    if re.fullmatch(r"\s*-?(?:\d+\.?\d*|\.\d+)\s*", text):
        return (0, float(text))
    return (1, text)


def sort(value: object, prop: object = None, nils: object = "first") -> list[Any]:
    items = _items(value)
    if prop is None or _undefined(prop):
        return sorted(items, key=_sort_key)
    if nils not in ("first", "last"):
        raise ValueError(f"invalid nils order {nils!r}: use 'first' or 'last'")
    present = [i for i in items if _property(i, str(prop)) is not None]
    missing = [i for i in items if _property(i, str(prop)) is None]
    ordered = sorted(present, key=lambda i: _sort_key(_property(i, str(prop))))
    return missing + ordered if nils == "first" else ordered + missing


def push(value: object, item: object) -> object:
    return [*value, item] if isinstance(value, list) else value


def pop(value: object, count: int = 1) -> object:
    return value[: max(0, len(value) - int(count))] if isinstance(value, list) else value


def shift(value: object, count: int = 1) -> object:
    return value[int(count) :] if isinstance(value, list) else value


def unshift(value: object, item: object) -> object:
    return [item, *value] if isinstance(value, list) else value


def to_integer(value: object) -> int:
    if value is True or value is False:
        return int(value)
    try:
        return int(float(_text(value) or 0))
    except ValueError:
        return 0


JEKYLL_FILTERS: dict[str, Callable[..., object]] = {
    "relative_url": relative_url,
    "absolute_url": absolute_url,
    "date_to_xmlschema": date_to_xmlschema,
    "date_to_rfc822": date_to_rfc822,
    "date_to_string": date_to_string,
    "date_to_long_string": date_to_long_string,
    "xml_escape": xml_escape,
    "cgi_escape": cgi_escape,
    "uri_escape": uri_escape,
    "markdownify": markdownify,
    "smartify": smartify,
    "slugify": slugify,
    "normalize_whitespace": normalize_whitespace,
    "number_of_words": number_of_words,
    "array_to_sentence_string": array_to_sentence_string,
    "jsonify": jsonify,
    "where": where,
    "where_exp": where_exp,
    "group_by": group_by,
    "sort": sort,
    "push": push,
    "pop": pop,
    "shift": shift,
    "unshift": unshift,
    "to_integer": to_integer,
}
