"""Jekyll's front matter `defaults:`: scope by path and type, most specific wins.

Sets whose scope matches a post are merged in order; a set with a longer `path` (or the
same path and a `type`) takes precedence, others only fill gaps. The result lies under
the post's own front matter, which always wins (a `null` there keeps the default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from publisher.sources.merging import deep_merge

DEPRECATED_TYPES = {"page": "pages", "post": "posts", "draft": "drafts"}


def _sanitize(path: object) -> str:
    if not isinstance(path, str) or not path:
        return ""
    return path.strip("/") if path.startswith("/") else path


def _applies_path(scope: Mapping[str, Any], relative_path: str, root: Path | None) -> bool:
    scope_path = scope.get("path")
    if not isinstance(scope_path, str) or not scope_path:
        return True
    if "*" in scope_path:
        if root is None:
            return False
        matches = sorted(root.glob(scope_path.lstrip("/")))
        return any(relative_path.startswith(m.relative_to(root).as_posix()) for m in matches)
    return relative_path.startswith(_sanitize(scope_path))


def _applies_type(scope: Mapping[str, Any], doc_type: str) -> bool:
    if "type" not in scope:
        return True
    wanted = str(scope["type"])
    return DEPRECATED_TYPES.get(wanted, wanted) == doc_type


def _has_precedence(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    if old is None:
        return True
    new_path, old_path = _sanitize(new.get("path")), _sanitize(old.get("path"))
    if len(new_path) != len(old_path):
        return len(new_path) >= len(old_path)
    return "type" in new or "type" not in old


def defaults_for(
    sets: Sequence[Mapping[str, Any]],
    relative_path: str,
    doc_type: str = "posts",
    root: Path | None = None,
) -> dict[str, Any]:
    """The default values for one document (`relative_path` from the site root)."""
    values: dict[str, Any] = {}
    old_scope: Mapping[str, Any] | None = None
    for default_set in sets:
        set_values = default_set.get("values")
        if not isinstance(set_values, Mapping):
            continue
        scope = default_set.get("scope")
        scope = scope if isinstance(scope, Mapping) else {}
        if not (_applies_type(scope, doc_type) and _applies_path(scope, relative_path, root)):
            continue
        if _has_precedence(old_scope, scope):
            values = deep_merge(values, set_values)
            old_scope = scope
        else:
            values = deep_merge(set_values, values)
    return values


def apply_defaults(front_matter: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Front matter over defaults; `categories` from both are joined, as Jekyll does."""
    merged = deep_merge(defaults, front_matter)
    if "categories" in front_matter and "categories" in defaults:
        ours, theirs = front_matter["categories"], defaults["categories"]
        ours_list = ours.split() if isinstance(ours, str) else list(ours or [])
        theirs_list = theirs.split() if isinstance(theirs, str) else list(theirs or [])
        merged["categories"] = list(dict.fromkeys(theirs_list + ours_list))
    return merged
