"""What kind of site a folder already holds, told by its config files.

Each function returns the evidence ("it has _config.yml"), or None.
"""

from __future__ import annotations

import re
from pathlib import Path

JEKYLL_CONFIGS = ("_config.yml", "_config.yaml", "_config.toml")
HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json")
HUGO_LEGACY_CONFIGS = ("config.toml", "config.yaml", "config.yml", "config.json")
"""Hugo's older names: a config.toml is Hugo's only when it sets baseURL (ours has none)."""
_BASE_URL = re.compile(r"""^\s*["']?baseurl["']?\s*[:=]""", re.IGNORECASE | re.MULTILINE)
_READ_AT_MOST = 256 * 1024


def jekyll_evidence(folder: Path) -> str | None:
    for name in JEKYLL_CONFIGS:
        if (folder / name).is_file():
            return f"it has {name}"
    return None


def hugo_evidence(folder: Path) -> str | None:
    for name in HUGO_CONFIGS:
        if (folder / name).is_file():
            return f"it has {name}"
    if (folder / "config" / "_default").is_dir():
        return "it has config/_default/"
    for name in HUGO_LEGACY_CONFIGS:
        if _sets_base_url(folder / name):
            return f"its {name} sets baseURL"
    return None


def _sets_base_url(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            head = file.read(_READ_AT_MOST).decode("utf-8", "replace")
    except OSError:
        return False
    return bool(_BASE_URL.search(head))
