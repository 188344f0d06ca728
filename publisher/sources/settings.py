"""The folder kind's `SiteSettings` (see publisher/core/site_settings.py)."""

from __future__ import annotations

from typing import Any

from publisher.core.site_settings import SiteSettings

FOLDER_PLACEHOLDERS = ("slug", "year", "month", "day")


def folder_settings(_root: Any) -> SiteSettings:
    """The folder kind has no site config of its own; its permalinks know four placeholders."""
    from publisher.core.checks import permalink_placeholders

    return SiteSettings(permalink_problem=permalink_placeholders(FOLDER_PLACEHOLDERS))
