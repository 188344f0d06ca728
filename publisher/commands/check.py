"""`publisher check`: validate config, content and templates; write nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from publisher.commands.build import fallback_date_warnings, load_posts, render_site
from publisher.config import Config
from publisher.content import LoadedSite


@dataclass(frozen=True)
class CheckReport:
    site: LoadedSite
    warnings: tuple[str, ...]


def check(config: Config, now: datetime) -> CheckReport:
    site = load_posts(config, now)
    render_site(config, site)  # templates and feeds must render too
    return CheckReport(site, fallback_date_warnings(site))
