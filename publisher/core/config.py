"""Reading and validating `config.toml` into typed, frozen objects.

Every table is a frozen dataclass (core/tables.py) whose fields carry their
documentation and an optional check. `parse_config` reports every problem in one
error, with those the site's own config gave (`SiteSettings`, read outside core by
publisher/site_config.py, whose `load_config` is the one to call). The tables are
re-exported here: `from publisher.core.config import Config`.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from pathlib import Path
from typing import Any

from publisher.core.errors import ConfigError, Problem, many
from publisher.core.site_settings import SiteSettings
from publisher.core.tables import (
    KEY_ALIASES,
    TABLES,
    BouncesConfig,
    Config,
    DigestConfig,
    FeedsConfig,
    MailConfig,
    PathsConfig,
    ScheduleConfig,
    SiteConfig,
    SmtpConfig,
    SourceConfig,
    WebConfig,
)

__all__ = [
    "CONFIG_NAMES",
    "KEY_ALIASES",
    "TABLES",
    "BouncesConfig",
    "Config",
    "DigestConfig",
    "FeedsConfig",
    "MailConfig",
    "PathsConfig",
    "ScheduleConfig",
    "SiteConfig",
    "SmtpConfig",
    "SourceConfig",
    "WebConfig",
    "default_config_path",
    "documented_settings",
    "parse_config",
    "read_config",
]


def _did_you_mean(name: str, choices: typing.Iterable[str]) -> str:
    import difflib  # only for a config with a mistake in it

    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"did you mean {close[0]!r}?" if close else ""


def _written_keys(table: str, fields: typing.Iterable[str]) -> list[str]:
    reverse = {field: key for (t, key), field in KEY_ALIASES.items() if t == table}
    return [reverse.get(field, field) for field in fields]


def _coerce(raw: Any, annotation: Any, base: Path) -> tuple[Any, str | None]:
    """The value as the field's type, or a complaint about its type."""
    if annotation is bool:
        return (raw, None) if isinstance(raw, bool) else (None, "must be true or false")
    if annotation is int:
        ok = isinstance(raw, int) and not isinstance(raw, bool)
        return (raw, None) if ok else (None, "must be a whole number")
    if annotation is float:
        ok = isinstance(raw, int | float) and not isinstance(raw, bool)
        return (float(raw), None) if ok else (None, "must be a number")
    if annotation is str:
        return (raw.strip(), None) if isinstance(raw, str) else (None, "must be a string")
    if annotation is Path:
        if not isinstance(raw, str) or not raw.strip():
            return None, "must be a folder path string"
        return (base / raw).resolve(), None
    if typing.get_origin(annotation) is dict:
        if isinstance(raw, dict) and all(isinstance(v, str) for v in raw.values()):
            return {str(k): v.strip() for k, v in raw.items()}, None
        return None, 'must be a table of strings, like { atom = "feed.xml" }'
    if typing.get_origin(annotation) is tuple:
        if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            return tuple(raw), None
        return None, "must be a list of strings"
    raise TypeError(f"unsupported setting type {annotation!r}")


def _build_table(
    name: str,
    cls: type,
    raw: dict[str, Any],
    base: Path,
    problems: list[Problem],
    where: str,
    settings: SiteSettings,
) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    aliased = {field for (table, _), field in KEY_ALIASES.items() if table == name}
    defaults = dict(settings.defaults.get(name, {}))
    written = [(key, value, settings.origin) for key, value in defaults.items() if key not in raw]
    written += [(key, value, where) for key, value in raw.items()]
    for written_key, value, origin in written:
        key = KEY_ALIASES.get((name, written_key), written_key)
        if key not in fields or (key in aliased and written_key == key):
            problems.append(
                Problem(
                    f"{origin} [{name}]",
                    f"unknown key {written_key!r}",
                    _did_you_mean(written_key, _written_keys(name, fields)),
                )
            )
            continue
        coerced, complaint = _coerce(value, hints[key], base)
        if fields[key].metadata["verbatim"] and isinstance(value, str):
            coerced = value
        if complaint is None:
            check = fields[key].metadata["check"]
            complaint = check(coerced) if check else None
        if complaint is not None:
            label = f"{where} [{name}] {written_key}"
            if origin != where:
                label = f"{origin} (as [{name}] {written_key})"
            problems.append(Problem(label, f"{complaint} (got {value!r})"))
            continue
        values[key] = coerced
    for key, spec in fields.items():
        needed = spec.metadata["required"] and (name, key) not in settings.optional
        if needed and not values.get(key):
            if key not in values and (key in raw or key in defaults):
                continue  # already reported as a bad value
            hint = settings.hints.get((name, key), f"add `{key} = …` to [{name}]")
            problems.append(Problem(f"{where} [{name}] {key}", "is required", hint))
        if isinstance(spec.default, Path) and key not in values:
            values[key] = (base / spec.default).resolve()
    return cls(**values)


def _cross_checks(
    site: SiteConfig, feeds: FeedsConfig, settings: SiteSettings, where: str
) -> list[Problem]:
    """Checks that need more than one setting, or the source kind."""
    problems = []
    if complaint := settings.permalink_problem(site.permalink):
        problems.append(
            Problem(f"{where} [site] permalink", f"{complaint} (got {site.permalink!r})")
        )
    if len(set(feeds.paths.values())) != len(feeds.paths):
        problems.append(Problem(f"{where} [feeds] paths", "two formats share one path"))
    if len(set(feeds.category_paths.values())) != len(feeds.category_paths):
        problems.append(Problem(f"{where} [feeds] category_paths", "two formats share one path"))
    tops = [tag for tag, folder in feeds.languages.items() if not folder.strip("/")]
    if tops and site.language not in feeds.languages:
        problems.append(
            Problem(
                f"{where} [feeds] languages",
                f"{tops[0]!r} is at the top, where the feeds of [site] language "
                f"({site.language!r}) are",
                "list [site] language too, under a folder of its own",
            )
        )
    return problems


def parse_config(
    data: dict[str, Any], source: Path, settings: SiteSettings | None = None
) -> Config:
    """Validate already-parsed TOML over what the site's own config says (`settings`);
    every problem is reported in one ConfigError."""
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
    settings = settings or SiteSettings()
    problems.extend(settings.problems)
    tables = {
        name: _build_table(
            name,
            cls,
            raw_table if isinstance(raw_table := data.get(name), dict) else {},
            base,
            problems,
            where,
            settings,
        )
        for name, cls in TABLES.items()
    }
    site: SiteConfig = tables["site"]
    site = dataclasses.replace(site, base_url=site.base_url.rstrip("/"))
    if not problems:
        problems.extend(_cross_checks(site, tables["feeds"], settings, where))
    if problems:
        raise many(ConfigError, f"invalid configuration in {source}", problems)
    return Config(
        site=site,
        feeds=tables["feeds"],
        paths=tables["paths"],
        mail=tables["mail"],
        smtp=tables["smtp"],
        digest=tables["digest"],
        schedule=tables["schedule"],
        file=source,
        source=tables["source"],
        bounces=tables["bounces"],
        web=dataclasses.replace(tables["web"], base_url=tables["web"].base_url.rstrip("/")),
    )


def read_config(path: Path) -> dict[str, Any]:
    """The TOML of the config file at `path` (resolved), or a ConfigError saying why not."""
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
    return data


CONFIG_NAMES = ("publisher.toml", "config.toml")
"""Looked for in this order without --config: in a Hugo site, config.toml is Hugo's own,
so `publisher init` writes publisher.toml there (and in a Jekyll site, for the same look)."""


def default_config_path() -> Path:
    """The config file in the current folder: the first of CONFIG_NAMES that exists."""
    for name in CONFIG_NAMES:
        if Path(name).is_file():
            return Path(name)
    return Path(CONFIG_NAMES[-1])


def documented_settings() -> list[tuple[str, str, Any, str]]:
    """(table, key, default, doc) for every setting: the README documents each one."""
    rows = []
    for table, cls in TABLES.items():
        names = _written_keys(table, [spec.name for spec in dataclasses.fields(cls)])
        for written, spec in zip(names, dataclasses.fields(cls), strict=True):
            default = spec.default_factory() if callable(spec.default_factory) else spec.default
            rows.append((table, written, default, spec.metadata["doc"]))
    return rows
