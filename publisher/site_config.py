"""`load_config`: config.toml read over what the site's own config says, checked at once.

core/config.py validates the tables and knows nothing of source kinds. Here, outside
core, the source kind config.toml names reads the site's own config (a Jekyll site's
`_config.yml`, a Hugo site's config, through the SOURCES registry) into the defaults
core receives, and APScheduler (publisher/schedule.py) says whether each crontab
expression means something; every problem found on the way is reported with core's,
in one error.

A config file that is a site generator's own (Hugo's `config.toml`, or one beside a
Jekyll `_config.yml`) is said to be so, with `publisher init` as the way on, instead of
a list of unknown tables.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from publisher.core import checks
from publisher.core.config import Config, parse_config, read_config
from publisher.core.errors import ConfigError, Problem
from publisher.core.site_settings import SiteSettings
from publisher.core.tables import TABLES, ScheduleConfig


def load_config(path: Path) -> Config:
    path = path.resolve()
    data = read_config(path)
    _refuse_a_generators_config(data, path)
    settings = _site_settings(data, path.parent)
    more = tuple(_schedule_problems(data, path.name))
    if more:
        settings = dataclasses.replace(settings, problems=settings.problems + more)
    return parse_config(data, path, settings)


def _site_settings(data: dict[str, Any], base: Path) -> SiteSettings:
    """What the site's own config says, for the source kind config.toml names."""
    from publisher.sources import SOURCES, site_settings

    table = data.get("source")
    table = table if isinstance(table, dict) else {}
    kind, path = table.get("kind", "folder"), table.get("path", ".")
    if kind not in SOURCES or not isinstance(path, str) or not path.strip():
        return SiteSettings()  # reported with the [source] table
    return site_settings(kind, (base / path).resolve())


_SCHEDULES = tuple(
    field.name
    for field in dataclasses.fields(ScheduleConfig)
    if field.metadata["check"] is checks.schedule_spec
)


def _schedule_problems(data: dict[str, Any], where: str) -> list[Problem]:
    """APScheduler's word on each crontab expression core's checks let through."""
    table = data.get("schedule")
    if not isinstance(table, dict):
        return []
    problems = []
    for key in _SCHEDULES:
        value = table.get(key)
        if not isinstance(value, str) or checks.schedule_spec(value) or checks.is_interval(value):
            continue  # an interval, or reported by core's checks
        from publisher.schedule import spec_problem  # the only importer of APScheduler

        if complaint := spec_problem(value):
            problems.append(Problem(f"{where} [schedule] {key}", f"{complaint} (got {value!r})"))
    return problems


def _refuse_a_generators_config(data: dict[str, Any], path: Path) -> None:
    """A ConfigError when the file has no table of ours but keys outside tables (which
    publisher's config never has), or tables in a Jekyll or Hugo site's folder."""
    if not data or any(key in TABLES for key in data):
        return  # a mistyped table beside ours: reported with every other problem
    from publisher.scaffold.detect import hugo_evidence, jekyll_evidence

    folder = path.parent
    keys = ", ".join(list(data)[:4]) + (", …" if len(data) > 4 else "")
    hugo, jekyll = hugo_evidence(folder), jekyll_evidence(folder)
    if hugo or jekyll:
        kind = "Hugo" if hugo else "Jekyll"
        raise ConfigError(
            f"{path} looks like the {kind} site's own config, not publisher's "
            f"({hugo or jekyll}; top-level {keys})",
            hint=f"run `publisher init` in {folder}: it writes publisher.toml for the "
            f"{kind} source, which publisher reads before config.toml",
        )
    if any(not isinstance(value, dict) for value in data.values()):
        raise ConfigError(
            f"{path} is not publisher's config: its top-level {keys} are not in tables",
            hint="publisher's settings go in tables like [site] and [mail] "
            "(docs/configuration.md); `publisher init` in an empty folder writes a commented "
            "config.toml",
        )
