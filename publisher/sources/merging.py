"""Nested settings merged as Jekyll and Hugo merge them: config files over each other,
`defaults:` under front matter, a language's `params` over the site's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` wins; maps merge key by key; a `None` in `over` keeps what `base` has
    (Jekyll's `deep_merge_hashes`; in a Hugo config a null sets nothing either)."""
    merged = dict(base)
    for key, value in over.items():
        old = merged.get(key)
        if value is None and key in merged:
            continue
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = value
    return merged
