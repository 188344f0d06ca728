"""What a post's Liquid may point at besides posts: pages and files, for `{% link %}`.

A page's URL is its front matter `permalink`, else Jekyll's page template (`/:path/`
for an index, `/:path/:basename` plus the suffix of the site's permalink style for
other Markdown and HTML pages, `/:path/:basename:output_ext` for the rest); any other
file is served at its own path. Only pages' front matter is read, so `link` targets
(and the build cache's fingerprint) follow a page's permalink, not its every edit.
"""

from __future__ import annotations

import os
from pathlib import Path

from publisher.sources.jekyll.discovery import EntryRules, output_ext
from publisher.sources.jekyll.errors import JekyllInputError
from publisher.sources.jekyll.front_matter import read_front_matter
from publisher.sources.jekyll.permalinks import escape_path, sanitize_url

MAX_PAGE_FILES = 20_000
MAX_PAGE_BYTES = 1024 * 1024
SKIPPED_FOLDERS = frozenset({"_posts", "_drafts", "_site", "_includes", "_layouts", "_sass"})


def permalink_suffix(template: str, style: str) -> str:
    """Jekyll's `Utils.add_permalink_suffix`."""
    if style == "pretty" or (style not in ("date", "ordinal", "none") and style.endswith("/")):
        return template + "/"
    if style in ("date", "ordinal", "none") or style.endswith(":output_ext"):
        return template + ":output_ext"
    return template


def _page_url(
    relative: str, ext: str, permalink: object, style: str, markdown: tuple[str, ...]
) -> str:
    if isinstance(permalink, str) and permalink.strip():
        return sanitize_url(permalink.strip())
    folder, _, name = relative.rpartition("/")
    basename = name[: -len(ext)] if ext else name
    out_ext = output_ext(ext, markdown)
    if out_ext != ".html":
        template = "/:path/:basename:output_ext"
    elif basename == "index":
        template = "/:path/"
    else:
        template = permalink_suffix("/:path/:basename", style)
    url = (
        template.replace(":path", escape_path(folder))
        .replace(":basename", escape_path(basename))
        .replace(":output_ext", out_ext)
    )
    return sanitize_url(url)


def site_files(
    root: Path, rules: EntryRules, style: str, markdown: tuple[str, ...]
) -> dict[str, str]:
    """relative path → URL of every page and file `{% link %}` may name (posts aside)."""
    found: dict[str, str] = {}
    for current, folders, names in os.walk(root):
        inside = Path(current).relative_to(root).as_posix()
        inside = "" if inside == "." else inside + "/"
        folders[:] = sorted(
            f
            for f in folders
            if f not in SKIPPED_FOLDERS and rules.keeps(inside + f, True) and not f.startswith(".")
        )
        for name in sorted(names):
            relative = inside + name
            if not rules.keeps(relative, False):
                continue
            if len(found) >= MAX_PAGE_FILES:
                return found
            ext = os.path.splitext(name)[1]
            page, permalink = _front_matter_permalink(root / relative, relative)
            if page:
                found[relative] = _page_url(relative, ext, permalink, style, markdown)
            else:
                found[relative] = escape_path("/" + relative)
    return found


def _front_matter_permalink(path: Path, relative: str) -> tuple[bool, object]:
    """(whether the file is a page, its `permalink`): a page starts with front matter."""
    try:
        with open(path, "rb") as handle:
            if handle.read(3) != b"---":
                return False, None
            head = (b"---" + handle.read(MAX_PAGE_BYTES)).decode("utf-8", errors="replace")
        data, _, _ = read_front_matter(head, relative)
    except (OSError, JekyllInputError):
        return False, None
    return True, data.get("permalink")
