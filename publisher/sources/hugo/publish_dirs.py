"""Which folders of a Hugo site `hugo` publishes: its static folders (copied as they are),
its content folders (every file beside the pages), and the folder it writes the site to.

Hugo 0.111.3 copies nothing else from the site's root: a `state/` or `outbox/` beside
`content/` stays out of `public/` (tests/test_private_folders.py builds one to show it).
"""

from __future__ import annotations

from publisher.sources.hugo.site_config import HugoSiteConfig

MAX_STATIC_DIRS = 11
"""Hugo reads staticDir and staticDir0 … staticDir10."""


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, str | int)]
    return []


def _folder(name: str) -> str:
    return name.strip().strip("/").removeprefix("./")


def published_folders(site: HugoSiteConfig) -> list[tuple[str, str]]:
    """(folder from the root, why what is in it is published)."""
    raw = site.raw
    publish = _folder(str(raw.get("publishdir") or "public")) or "public"
    found = [(publish, f"it is inside {publish}/, where Hugo writes the site")]
    statics = _names(raw.get("staticdir") or "static")
    for number in range(MAX_STATIC_DIRS):
        statics += _names(raw.get(f"staticdir{number}"))
    for language in raw.get("languages") or {}:
        entry = (raw.get("languages") or {}).get(language)
        if isinstance(entry, dict):
            statics += _names(entry.get("staticdir"))
    themes = _names(raw.get("theme"))
    statics += [f"themes/{theme}/static" for theme in themes]
    for static in dict.fromkeys(_folder(name) for name in statics):
        found.append((static, f"Hugo copies {static}/ into {publish}/"))
    for content in dict.fromkeys(language.content_dir for language in site.languages):
        found.append((content, f"Hugo publishes the files under {content}/ beside its pages"))
    return [(folder, why) for folder, why in found if folder]


def published_reason(site: HugoSiteConfig, relative: str) -> str | None:
    """Why `hugo` would publish the folder at `relative` (from the root), or None."""
    for folder, why in published_folders(site):
        if relative == folder or relative.startswith(f"{folder}/"):
            return why
    return None
