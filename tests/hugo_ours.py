"""Our side of the Hugo conformance tests: the same temp copy Hugo built, read by us."""

from __future__ import annotations

from publisher.sources.hugo.content import BuildFlags
from publisher.sources.hugo.pages import HugoPage, HugoSite, load_hugo_site
from tests.conftest import NOW
from tests.hugo_peer import HugoBuild

_CACHE: dict[tuple[str, tuple[str, ...], bool], HugoSite] = {}


def our_site(build: HugoBuild, *, file_mod_time: bool = True) -> HugoSite:
    """The site as we read it, with the build's flags (Hugo's own run used them)."""
    key = (str(build.source), build.flags, file_mod_time)
    if key not in _CACHE:
        flags = BuildFlags(
            drafts="--buildDrafts" in build.flags,
            future="--buildFuture" in build.flags,
            expired="--buildExpired" in build.flags,
        )
        _CACHE[key] = load_hugo_site(
            build.source, now=NOW, flags=flags, file_mod_time=file_mod_time
        )
    return _CACHE[key]


def our_page(site: HugoSite, lang: str, content_path: str) -> HugoPage:
    for page in site.pages:
        if page.lang == lang and page.file.relative == content_path:
            return page
    raise KeyError(f"we list no {lang} page from {content_path}")
