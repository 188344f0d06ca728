"""A Jekyll post rendered as Jekyll renders it: Liquid, then kramdown, then our HTML pass.

Liquid sees `site.*` (every `_config.yml` key, and `site.posts`), `page.*` (front matter
with defaults, and Jekyll's own keys), includes from `_includes/`, `link` and
`post_url`. The summary is jekyll-feed's: `description`, else the excerpt (written in
front matter, else the body up to `excerpt_separator`, rendered the same way), as text.
Whatever Liquid cannot render is left out of the output, never printed (an unknown
filter passes its value on, as in Jekyll); `unknown_filters` and `missing_targets` tell
which, by line: filters when the post is parsed, targets at every build (see
JekyllSource.reference_warnings).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from publisher.core.models import Post
from publisher.sources.jekyll.excerpts import excerpt_source
from publisher.sources.jekyll.site_config import SiteConfig

MAX_INCLUDE_FILES = 2000
LIQUID_MARKUP = re.compile(r"{{.*?}}|{%.*?%}", re.S)
_FILTER_USE = re.compile(r"\|\s*([A-Za-z_][\w-]*)")
_TARGET_TAG = re.compile(r"{%-?\s*(post_url|link|include)\s+(.+?)\s*-?%}", re.S)
_USES_SITE = re.compile(
    r"post_url|{%-?\s*link\s|site\.(posts|categories|tags|related_posts|pages|documents"
    r"|collections|html_pages)|site\[|page\.(next|previous)"
)
_INCLUDE = re.compile(r"{%-?\s*include")


class Includes:
    """The site's `_includes/`: what the build cache must know of it, and whether any
    include reads other posts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        digest = hashlib.sha256()
        self.use_site = False
        files = sorted(p for p in folder.rglob("*") if p.is_file())[:MAX_INCLUDE_FILES]
        self.names = {path.relative_to(folder).as_posix() for path in files}
        for path in files:
            try:
                data = path.read_bytes()
            except OSError:
                continue
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + data)
            self.use_site = self.use_site or bool(
                _USES_SITE.search(data.decode("utf-8", "replace"))
            )
        self.digest = digest.hexdigest()


def uses_other_posts(body: str, includes: Includes) -> bool:
    """Whether the body's Liquid reads other posts (its rendering then depends on them)."""
    if "{" not in body:
        return False
    return bool(_USES_SITE.search(body)) or (includes.use_site and bool(_INCLUDE.search(body)))


def unknown_filters(body: str, body_line: int, filters: Sequence[str]) -> list[tuple[int, str]]:
    """(line, message) for each filter we do not know (unknown tags are found by parsing:
    see `JekyllRenderer`)."""
    found: list[tuple[int, str]] = []
    for match in LIQUID_MARKUP.finditer(body):
        line = body_line + body.count("\n", 0, match.start())
        for name in _FILTER_USE.findall(match.group(0).strip("{}%")):
            if name not in filters:
                message = f"unknown Liquid filter {name!r}: its value is passed on unfiltered"
                found.append((line, message))
    return found


_BLOCK_TAG = re.compile(r"{%-?\s*(end)?(\w+)")
_BLOCKS = {"if", "unless", "for", "case", "capture", "comment", "raw", "highlight", "tablerow"}


def unclosed_block(body: str, tag_name: str) -> int | None:
    """The line in the body of the innermost `tag_name` block that is never closed."""
    opened: list[tuple[int, str]] = []
    for match in _BLOCK_TAG.finditer(body):
        closing, tag = bool(match.group(1)), match.group(2)
        if opened and opened[-1][1] in ("raw", "comment") and tag != opened[-1][1]:
            continue  # nothing inside raw or comment is a tag
        if tag in _BLOCKS and not closing:
            opened.append((body.count("\n", 0, match.start()) + 1, tag))
        elif closing and opened and opened[-1][1] == tag:
            opened.pop()
    return next((line for line, tag in reversed(opened) if tag == tag_name), None)


def missing_targets(
    body: str, body_line: int, targets: Mapping[str, set[str]]
) -> list[tuple[int, str]]:
    """(line, message) for each `post_url`, `link` or `include` whose target does not
    exist."""
    found: list[tuple[int, str]] = []
    for match in _TARGET_TAG.finditer(body):
        tag, target = match.group(1), match.group(2).strip()
        if tag == "include":
            target = target.split()[0]
        if tag not in targets or "{{" in target or target in targets[tag]:
            continue
        line = body_line + body.count("\n", 0, match.start())
        found.append((line, _MISSING[tag].format(target=target)))
    return found


_MISSING = {
    "post_url": "post_url: no post named {target!r}; the link is left empty",
    "link": "link: no file at {target!r}; the link is left empty",
    "include": "include {target!r}: no such file in _includes/; it is left out",
}


def post_url_names(source_names: Sequence[str]) -> dict[str, str]:
    """`post_url` names (the path under `_posts/` without extension, or the file name
    alone) → source name."""
    names: dict[str, str] = {}
    for name in source_names:
        _, marker, inner = name.partition("_posts/")
        if not marker:
            continue
        stem = inner.rsplit(".", 1)[0]
        names.setdefault(stem, name)
        names.setdefault(stem.rsplit("/", 1)[-1], name)
    return names


def site_posts(posts: Sequence[Post], site_url: str) -> list[dict[str, Any]]:
    """`site.posts` as our Liquid shows it: newest first, the keys a feed needs."""

    def path(url: str) -> str:
        return url[len(site_url) :] if url.startswith(site_url) else url

    return [
        {
            "url": path(post.url),
            "id": path(post.id),
            "title": post.title,
            "date": post.published,
            "categories": [c.name for c in post.categories],
            "tags": list(post.tags),
            "path": post.source_name,
            "relative_path": post.source_name,
            "slug": post.slug,
        }
        for post in posts
    ]


def index_key(posts: Sequence[Mapping[str, Any]]) -> str:
    """A hash of what other posts' Liquid can see of the posts."""
    text = json.dumps(
        posts,
        sort_keys=True,
        default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v),
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def excerpt_of(data: Mapping[str, Any], body: str, separator: str) -> tuple[str, bool] | None:
    """(excerpt source, whether it is rendered) as jekyll-feed's summary starts: the
    `description`, else the excerpt; None when there is none."""
    description = data.get("description")
    if description not in (None, "", False):
        return str(description), False
    excerpt = excerpt_source(data, body, separator)
    if excerpt is None:
        return None
    return excerpt.text, not excerpt.from_front_matter


def unrenderable_stripped(text: str) -> str:
    """Text whose Liquid could not be rendered at all, with every tag and output left out."""
    return LIQUID_MARKUP.sub("", text)


def page_payload(data: Mapping[str, Any], site: SiteConfig, **known: Any) -> dict[str, Any]:
    """`page` for Liquid: front matter (with defaults), then Jekyll's own keys."""
    payload = dict(data)
    payload.update(known)
    payload.setdefault("collection", "posts")
    payload.setdefault("layout", data.get("layout"))
    payload["excerpt_separator"] = data.get("excerpt_separator", site.excerpt_separator)
    return payload
