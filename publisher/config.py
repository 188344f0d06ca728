"""Reading and validating `config.toml` into typed, frozen objects.

Every table is a frozen dataclass whose fields carry their documentation and
an optional check. `load_config` reports every problem in one error.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from publisher.errors import ConfigError, Problem, many

Check = Callable[[Any], str | None]
"""Returns a complaint, or None when the value is fine."""


def setting(default: Any, doc: str, *, check: Check | None = None, required: bool = False) -> Any:
    return field(default=default, metadata={"doc": doc, "check": check, "required": required})


def _http_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an absolute http(s) URL, like 'https://news.example.org'"
    return None


def _optional_http_url(value: str) -> str | None:
    return _http_url(value) if value else None


def _timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "is not an IANA time zone name, like 'Asia/Seoul' or 'UTC'"
    return None


_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def _language(value: str) -> str | None:
    return None if _LANGUAGE_TAG.match(value) else "must be a language tag, like 'ko' or 'en-GB'"


# RFC 4151: taggingEntity = authorityName "," date
_TAGGING_ENTITY = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|[^@\s,]+@[A-Za-z0-9.-]+)"
    r",\d{4}(?:-\d{2}(?:-\d{2})?)?$"
)


def _id_authority(value: str) -> str | None:
    if _TAGGING_ENTITY.match(value):
        return None
    return "must be a domain or email you own, a comma and a date, like 'news.example.org,2024'"


def _positive(value: int) -> str | None:
    return None if value >= 1 else "must be 1 or more"


FEED_FORMATS = ("atom", "rss", "json")


def _formats(value: tuple[str, ...]) -> str | None:
    unknown = [f for f in value if f not in FEED_FORMATS]
    if unknown:
        return f"unknown format {unknown[0]!r}; choose from {', '.join(FEED_FORMATS)}"
    if len(set(value)) != len(value):
        return "lists a format twice"
    return None


def _permalink(value: str) -> str | None:
    if not value.startswith("/"):
        return "must start with '/', like '/:slug/'"
    return None


@dataclass(frozen=True)
class SiteConfig:
    """[site]: who publishes, and where the site lives."""

    title: str = setting("", "The site's name, used as the feed title.", required=True)
    description: str = setting("", "One line about the site; the feed subtitle.")
    base_url: str = setting(
        "", "Absolute URL where the site (and public/) is served.", check=_http_url, required=True
    )
    language: str = setting("en", "Language tag of the site, like 'ko'.", check=_language)
    timezone: str = setting("UTC", "IANA time zone for dates written without one.", check=_timezone)
    author: str = setting("", "Default author name of every post.")
    author_email: str = setting("", "The default author's email address.")
    id_authority: str = setting(
        "",
        "RFC 4151 tagging entity for permanent entry ids, like 'news.example.org,2024'. "
        "Never change it once feeds are public.",
        check=_id_authority,
        required=True,
    )
    permalink: str = setting(
        "/:slug/",
        "URL path of a post without a `permalink` of its own; "
        "placeholders :slug, :year, :month, :day.",
        check=_permalink,
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class FeedsConfig:
    """[feeds]: what the feeds hold."""

    limit: int = setting(20, "How many of the newest posts each feed holds.", check=_positive)
    full_content: bool = setting(True, "Put whole posts in the feeds; false gives summaries only.")
    formats: tuple[str, ...] = setting(
        FEED_FORMATS, "Which feeds to write: any of atom, rss, json.", check=_formats
    )
    categories: bool = setting(True, "Also write one set of feeds per category.")
    hub: str = setting("", "WebSub hub URL to announce in every feed.", check=_optional_http_url)


@dataclass(frozen=True)
class PathsConfig:
    """[paths]: folders, relative to the config file."""

    content: Path = setting(Path("content"), "Where the posts are.")
    output: Path = setting(Path("public"), "Where feeds and index.html are written.")
    state: Path = setting(Path("state"), "Where the SQLite state and lock live.")
    templates: Path = setting(Path("templates"), "Where the page and email templates are.")


@dataclass(frozen=True)
class Config:
    site: SiteConfig
    feeds: FeedsConfig
    paths: PathsConfig
    source: Path
    """The config file this came from."""

    @property
    def state_db(self) -> Path:
        return self.paths.state / "publisher.sqlite3"


TABLES: dict[str, type] = {"site": SiteConfig, "feeds": FeedsConfig, "paths": PathsConfig}


def _did_you_mean(name: str, choices: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"did you mean {close[0]!r}?" if close else ""


def _coerce(raw: Any, annotation: Any, base: Path) -> tuple[Any, str | None]:
    """The value as the field's type, or a complaint about its type."""
    if annotation is bool:
        return (raw, None) if isinstance(raw, bool) else (None, "must be true or false")
    if annotation is int:
        ok = isinstance(raw, int) and not isinstance(raw, bool)
        return (raw, None) if ok else (None, "must be a whole number")
    if annotation is str:
        return (raw.strip(), None) if isinstance(raw, str) else (None, "must be a string")
    if annotation is Path:
        if not isinstance(raw, str) or not raw.strip():
            return None, "must be a folder path string"
        return (base / raw).resolve(), None
    if typing.get_origin(annotation) is tuple:
        if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            return tuple(raw), None
        return None, "must be a list of strings"
    raise TypeError(f"unsupported setting type {annotation!r}")


def _build_table(
    name: str, cls: type, raw: dict[str, Any], base: Path, problems: list[Problem], where: str
) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            problems.append(
                Problem(f"{where} [{name}]", f"unknown key {key!r}", _did_you_mean(key, fields))
            )
            continue
        coerced, complaint = _coerce(value, hints[key], base)
        if complaint is None:
            check = fields[key].metadata["check"]
            complaint = check(coerced) if check else None
        if complaint is not None:
            problems.append(Problem(f"{where} [{name}] {key}", f"{complaint} (got {value!r})"))
            continue
        values[key] = coerced
    for key, spec in fields.items():
        if spec.metadata["required"] and not values.get(key):
            if key in raw and key not in values:
                continue  # already reported as a bad value
            problems.append(
                Problem(f"{where} [{name}] {key}", "is required", f"add `{key} = …` to [{name}]")
            )
        if isinstance(spec.default, Path) and key not in values:
            values[key] = (base / spec.default).resolve()
    return cls(**values)


def parse_config(data: dict[str, Any], source: Path) -> Config:
    """Validate already-parsed TOML; every problem is reported in one ConfigError."""
    problems: list[Problem] = []
    where = source.name
    for table, value in data.items():
        if table not in TABLES:
            problems.append(
                Problem(where, f"unknown table [{table}]", _did_you_mean(table, TABLES))
            )
        elif not isinstance(value, dict):
            problems.append(Problem(where, f"{table} must be a table, written [{table}]"))
    base = source.parent
    tables = {
        name: _build_table(
            name,
            cls,
            raw_table if isinstance(raw_table := data.get(name), dict) else {},
            base,
            problems,
            where,
        )
        for name, cls in TABLES.items()
    }
    if problems:
        raise many(ConfigError, f"invalid configuration in {source}", problems)
    site: SiteConfig = tables["site"]
    site = dataclasses.replace(site, base_url=site.base_url.rstrip("/"))
    return Config(site=site, feeds=tables["feeds"], paths=tables["paths"], source=source)


def load_config(path: Path) -> Config:
    path = path.resolve()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"no config file at {path}",
            hint="run from the site folder, or pass --config PATH",
        ) from None
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from e
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 (byte {e.start})", hint="save it as UTF-8") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f"{path}: not valid TOML: {e}", hint="check the quoting on that line"
        ) from e
    return parse_config(data, path)


def documented_settings() -> list[tuple[str, str, Any, str]]:
    """(table, key, default, doc) for every setting: the README documents each one."""
    rows = []
    for table, cls in TABLES.items():
        for spec in dataclasses.fields(cls):
            rows.append((table, spec.name, spec.default, spec.metadata["doc"]))
    return rows
