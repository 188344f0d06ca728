"""What `publisher init` writes for one kind of site: files, each written only if absent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from publisher.core.site_settings import SiteSettings


@dataclass(frozen=True)
class PlannedFile:
    path: str
    """Relative to the site folder, with '/' between folders."""
    text: str
    skip_reason: Callable[[Path], str | None] | None = None
    """Given the site folder: why not to write this file even though it is absent."""


@dataclass(frozen=True)
class SitePlan:
    files: tuple[PlannedFile, ...]
    config: str = "config.toml"
    """The config file among `files`, which the next commands are run with."""


OWN_CONFIG_NAME = "publisher.toml"
"""The config `init` writes into a Jekyll or Hugo site: not config.toml, which the site may
use itself (and init never overwrites)."""


def site_kind_plan(template: str, settings: SiteSettings, **fields: str) -> SitePlan:
    """publisher.toml for a Jekyll or Hugo site: `template` filled with `fields` and the
    `{sender}` made from the site's own title and URL host."""
    site = settings.defaults.get("site", {})
    title = str(site.get("title") or "News").replace('"', "'")
    host = urlsplit(str(site.get("base_url") or "")).hostname or "example.org"
    sender = f"{title} <news@{host}>".replace("\\", "")
    text = template.format(sender=sender, **fields)
    return SitePlan((PlannedFile(OWN_CONFIG_NAME, text),), config=OWN_CONFIG_NAME)
