"""Hugo page and feed URLs: every page's permalink against the real Hugo's, and Hugo's
path rules (urlize, escaping, permalink tokens) case by case."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

import pytest

from publisher.core.errors import ConfigError
from publisher.sources.hugo.pages import HugoSite
from publisher.sources.hugo.urls import (
    PageFacts,
    PathRules,
    SiteURLs,
    compile_permalink,
    compile_permalinks,
    make_path,
    make_path_sanitized,
    url_escape,
    urlize,
)
from tests.hugo_ours import our_page, our_site
from tests.hugo_peer import BUILDS, HugoBuilds, build_id


@pytest.mark.parametrize("build", BUILDS, ids=build_id)
def test_every_page_permalink_equals_hugos(hugo_builds: HugoBuilds, build) -> None:
    hugo = hugo_builds.get(build[0], *build[1])
    ours = our_site(hugo)
    compared = []
    for lang in hugo.dumps:
        for theirs in hugo.pages(lang):
            page = our_page(ours, lang, theirs["file"]["path"])
            compared.append(
                (
                    theirs["file"]["path"],
                    (page.permalink, page.rel_permalink),
                    (theirs["permalink"], theirs["relPermalink"]),
                )
            )
    differing = [c for c in compared if c[1] != c[2]]
    print(f"{build_id(build)}: permalinks {len(compared) - len(differing)}/{len(compared)} equal")
    assert compared and differing == []


@pytest.mark.parametrize("build", BUILDS, ids=build_id)
def test_bundle_resource_urls_equal_hugos(hugo_builds: HugoBuilds, build) -> None:
    hugo = hugo_builds.get(build[0], *build[1])
    ours = our_site(hugo)
    checked = 0
    for lang in hugo.dumps:
        for theirs in hugo.pages(lang):
            page = our_page(ours, lang, theirs["file"]["path"])
            for resource in theirs["resources"]:
                url = ours.urls[lang].resource_url(page.facts, resource["name"])
                assert url == resource["permalink"]
                assert resource["permalink"].startswith(page.resource_base)
                checked += 1
    assert checked >= 1


@pytest.mark.parametrize("build", BUILDS, ids=build_id)
def test_rss_guid_and_link_are_the_permalinks_we_compute(hugo_builds: HugoBuilds, build) -> None:
    hugo = hugo_builds.get(build[0], *build[1])
    ours = {page.permalink for page in our_site(hugo).pages}
    items = [item for feed in hugo.feeds.values() for item in feed.items]
    page_items = [item for item in items if "/tags/" not in item.link]
    assert page_items
    for item in items:
        assert item.guid == item.link
    listed = {item.link for item in items}
    assert listed - ours <= _list_page_links(hugo), listed - ours


def _list_page_links(hugo) -> set[str]:
    """Links of list pages Hugo's RSS also carries (a taxonomy feed lists its terms)."""
    links = {term["permalink"] for dump in hugo.dumps.values() for term in dump["terms"]}
    return links | {s["permalink"] for dump in hugo.dumps.values() for s in dump["sections"]}


@pytest.mark.parametrize("build", BUILDS, ids=build_id)
def test_feed_urls_equal_hugos(hugo_builds: HugoBuilds, build) -> None:
    hugo = hugo_builds.get(build[0], *build[1])
    site = our_site(hugo)
    checked = 0
    for lang, dump in hugo.dumps.items():
        urls = site.urls[lang]
        assert urls.absolute(urls.list_feed(())) == dump["homeRSS"]
        for section in dump["sections"]:
            assert urls.absolute(urls.list_feed((section["section"],))) == section["rss"]
            checked += 1
        for term in dump["terms"]:
            written = _term_as_written(site, lang, term["taxonomy"], term["key"])
            assert urls.term_feed(term["taxonomy"], written) == term["rss"], term
            checked += 1
        for feed_url in [dump["homeRSS"], *(t["rss"] for t in dump["terms"])]:
            path = feed_url.removeprefix(urls.base_url).lstrip("/")
            assert _unquoted(path) in hugo.feeds or path in hugo.feeds, path
    assert checked > 5


def _term_as_written(site: HugoSite, lang: str, plural: str, key: str) -> str:
    for page in site.pages:
        for term in page.terms.get(plural, ()) if page.lang == lang else ():
            if make_path_sanitized(term, site.urls[lang].rules) == key:
                return term
    raise AssertionError(f"no page of ours has the {plural} term {key!r}")


def _unquoted(path: str) -> str:
    return unquote(path)


# Hugo's rules, case by case (each expected value is what Hugo 0.111.3 gives; the
# fixtures prove the same rules against the real binary above).

LOWER = PathRules()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Vim (text editor)", "vim-text-editor"),
        ("Hello, World!", "hello-world"),
        ("A Winter Day: Snow, Tea & Books!", "a-winter-day-snow-tea-books"),
        ("Spring  Is   Here", "spring-is-here"),
        ("custom Slug Here", "custom-slug-here"),
        ("Café au lait — résumé", "caf%C3%A9-au-lait-r%C3%A9sum%C3%A9"),
        ("한글 제목", "%ED%95%9C%EA%B8%80-%EC%A0%9C%EB%AA%A9"),
        ("C++ & C#", "c++-c#"),
        ("under_score.dot~tilde@at", "under_score.dot~tilde@at"),
        ("  leading and trailing  ", "leading-and-trailing"),
        ("100%25 sure", "100%25-sure"),
    ],
)
def test_urlize_follows_hugo(text: str, expected: str) -> None:
    assert urlize(text, LOWER) == expected


def test_path_accents_removed_and_case_kept_when_configured() -> None:
    rules = PathRules(disable_path_to_lower=True, remove_path_accents=True)
    assert urlize("About Café Déjà Vu", rules) == "About-Cafe-Deja-Vu"
    assert make_path("Mémoire", rules) == "Memoire"


def test_url_escape_keeps_valid_escapes_and_encodes_the_rest() -> None:
    assert url_escape("/a(b)/c%20d/") == "/a(b)/c%20d/"
    assert url_escape("/é(x)/") == "/%C3%A9%28x%29/"
    assert url_escape("/a b/#frag ment") == "/a%20b/#frag%20ment"


def _facts(**changes: object) -> PageFacts:
    facts = {
        "title": "A Title",
        "slug": "",
        "url": "",
        "date": datetime(2023, 3, 4, 5, 6, 7, tzinfo=UTC),
        "dir": "posts/",
        "translation_base_name": "my-file",
        "content_base_name": "my-file",
        "section": "posts",
        "sections": ("posts",),
    }
    facts.update(changes)
    return PageFacts(**facts)  # type: ignore[arg-type]


def _site(pattern: str | None = None, **options: object) -> SiteURLs:
    patterns = compile_permalinks({"posts": pattern} if pattern else {})
    return SiteURLs(
        base_url=str(options.get("base_url", "https://example.org/")),
        rules=LOWER,
        ugly_urls=bool(options.get("ugly", False)),
        permalinks=patterns,
        language_prefix=str(options.get("prefix", "")),
    )


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("/:year/:month/:day/:slug/", "/2023/03/04/a-title/"),
        ("/:monthname/:weekday/:weekdayname/:yearday/", "/march/6/saturday/63/"),
        ("/:section/:sections/:filename/", "/posts/posts/my-file/"),
        ("/:slugorfilename/", "/my-file/"),
        ("/:title", "/a-title/"),
        ("/:2006-:01-:02/:Jan/", "/2023-03-04/mar/"),
        ("/:contentbasename/", "/my-file/"),
    ],
)
def test_permalink_tokens(pattern: str, expected: str) -> None:
    assert _site(pattern).page_link(_facts()) == expected


def test_sections_slices() -> None:
    facts = _facts(sections=("docs", "guide", "advanced"), section="docs")
    site = SiteURLs("https://e.org/", LOWER, False, {"docs": compile_permalink("/:sections[1:]/")})
    assert site.page_link(facts) == "/guide/advanced/"
    last = SiteURLs(
        "https://e.org/", LOWER, False, {"docs": compile_permalink("/:sections[last]/")}
    )
    assert last.page_link(facts) == "/advanced/"
    out_of_range = compile_permalink("/:sections[7]/x/")
    assert (
        SiteURLs("https://e.org/", LOWER, False, {"docs": out_of_range}).page_link(facts) == "/x/"
    )


def test_url_front_matter_wins_and_keeps_its_case() -> None:
    site = _site("/:year/:slug/", base_url="https://example.org/blog/")
    facts = _facts(url="/special/Own-Path/")
    assert site.page_link(facts) == "/special/Own-Path/"
    assert site.rel_permalink(facts) == "/blog/special/Own-Path/"
    assert site.permalink(facts) == "https://example.org/blog/special/Own-Path/"
    assert _site().page_link(_facts(url="/feed.json")) == "/feed.json"
    assert _site(prefix="fr").page_link(_facts(url="relative/x/")) == "/fr/relative/x/"
    assert _site(prefix="fr").page_link(_facts(url="/absolute/x/")) == "/absolute/x/"


def test_ugly_urls_and_language_prefix() -> None:
    site = _site(ugly=True, prefix="ko")
    assert site.page_link(_facts(slug="Custom")) == "/ko/posts/custom.html"
    assert site.absolute(site.list_feed(())) == "https://example.org/ko/index.xml"
    assert site.term_feed("categories", "Site News") == (
        "https://example.org/ko/categories/site-news/index.xml"
    )


def test_unknown_token_is_a_config_error_never_literal_text() -> None:
    with pytest.raises(ConfigError) as raised:
        compile_permalinks({"posts": "/:year/:nosuch/", "notes": "/:slug/"})
    assert "unknown token :nosuch" in str(raised.value.problems)
    with pytest.raises(ConfigError):
        compile_permalink("/:year//:slug/")


def test_plus_in_a_slug_becomes_a_space_as_in_hugo() -> None:
    # Hugo query-unescapes the expanded pattern: "c++-tips" → "c  -tips" → "c-tips".
    assert _site("/:slug/").page_link(_facts(slug="C++ Tips & Tricks")) == "/c-tips-tricks/"
    assert _site().page_link(_facts(slug="C++ Tips")) == "/posts/c++-tips/"
