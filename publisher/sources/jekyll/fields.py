"""Front matter fields as Jekyll reads them: title, categories, tags, author, image."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from publisher.sources.jekyll.slugs import titleize_slug


@dataclass(frozen=True)
class Author:
    """`author:` as a name, or a hash with name, email and uri."""

    name: str
    email: str | None = None
    uri: str | None = None


def _as_list(value: Any, *, split_strings: bool) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split() if split_strings else [value]
    if isinstance(value, list):
        flat: list[Any] = []
        for item in value:
            flat.extend(item if isinstance(item, list) else [item])
        return [item for item in flat if item is not None]
    return [value]


def _pluralized(data: Mapping[str, Any], singular: str, plural: str) -> list[Any]:
    # Jekyll favours the singular key; a plural string is split on whitespace
    if data.get(singular) is not None:
        return _as_list(data[singular], split_strings=False)
    return _as_list(data.get(plural), split_strings=True)


def categories(folder_categories: Sequence[str], data: Mapping[str, Any]) -> list[str]:
    """Folders before `_posts`, then `categories`/`category` from the data, de-duplicated."""
    from_data = _as_list(data.get("categories"), split_strings=True)
    merged = list(dict.fromkeys([*folder_categories, *(str(c) for c in from_data)]))
    extra = [str(c) for c in _pluralized(data, "category", "categories")]
    return list(dict.fromkeys(merged + extra))


def tags(data: Mapping[str, Any]) -> list[str]:
    """`tag` (one) or `tags` (a list, or a string split on whitespace)."""
    return [str(t) for t in _pluralized(data, "tag", "tags")]


def title(data: Mapping[str, Any], slug: str) -> str:
    """The front matter title, else one made from the file name slug."""
    value = data.get("title")
    if value is None or value is False:
        return titleize_slug(slug)
    return str(value)


def author(value: Any) -> Author | None:
    """A post's (or the site's) `author`: string, or hash with name/email/uri."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        name, email, uri = (value.get(key) for key in ("name", "email", "uri"))
        return Author(
            name="" if name is None else str(name),
            email=None if email is None else str(email),
            uri=None if uri is None else str(uri),
        )
    return Author(name=str(value))


def image(value: Any) -> str | None:
    """`image` as a path or URL, or a hash with `path` (what jekyll-feed reads)."""
    if isinstance(value, Mapping):
        path = value.get("path")
        return None if path in (None, "") else str(path)
    return None if value in (None, "", False) else str(value)
