"""Which files are pages, of which language and section, which Hugo builds, and which are
posts: against the pages the real Hugo lists, then rule by rule."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from publisher.sources.hugo.content import (
    BuildFlags,
    PageKind,
    default_main_section,
    find_content,
    is_built,
)
from publisher.sources.hugo.pages import load_hugo_site
from publisher.sources.hugo.site_config import load_site_config
from tests.conftest import NOW
from tests.hugo_ours import our_site
from tests.hugo_peer import ALL_PAGES, BUILDS, FIXTURES, HugoBuilds, build_id


@pytest.mark.parametrize("build", BUILDS, ids=build_id)
def test_the_pages_we_list_are_the_pages_hugo_lists(hugo_builds: HugoBuilds, build) -> None:
    hugo = hugo_builds.get(build[0], *build[1])
    ours = our_site(hugo)
    for lang in hugo.dumps:
        theirs = sorted(page["file"]["path"] for page in hugo.pages(lang))
        mine = sorted(page.file.relative for page in ours.pages if page.lang == lang)
        assert mine == theirs, lang
    assert set(ours.main_sections) == set(hugo.dumps)


@pytest.mark.parametrize("build", BUILDS, ids=build_id)
def test_main_sections_and_page_facts_equal_hugos(hugo_builds: HugoBuilds, build) -> None:
    hugo = hugo_builds.get(build[0], *build[1])
    ours = our_site(hugo)
    for lang, dump in hugo.dumps.items():
        assert list(ours.main_sections[lang]) == dump["mainSections"]
        by_path = {page.file.relative: page for page in ours.pages if page.lang == lang}
        for theirs in dump["pages"]:
            page = by_path[theirs["file"]["path"]]
            assert page.section == theirs["section"]
            assert "/".join(page.file.sections) == theirs["sectionsPath"]
            assert page.file.content_base_name == theirs["file"]["contentBaseName"]
            assert page.title == theirs["title"]
            assert page.draft == theirs["draft"]
            assert page.facts.slug == theirs["slug"]
            assert page.description == theirs["description"]
            assert list(page.images) == (theirs["params"].get("images") or [])
            written_authors = theirs["params"].get("authors") or theirs["params"].get("author")
            if isinstance(written_authors, str):
                written_authors = [written_authors]
            assert list(page.authors) == (written_authors or [])
            urls = ours.urls[lang]
            for plural, their_terms in theirs["taxonomies"].items():
                written = list(page.terms.get(plural, ()))
                assert written == (theirs["params"].get(plural) or [])
                feeds = [urls.term_feed(plural, term) for term in written]
                assert feeds == [term["rss"] for term in their_terms]


def test_posts_are_the_main_section_pages(hugo_builds: HugoBuilds) -> None:
    hugo = hugo_builds.get("babel")
    ours = our_site(hugo)
    theirs = {p["file"]["path"] for p in hugo.pages("en") if p["section"] == "blog"}
    assert {post.file.relative for post in ours.posts("en")} == theirs
    assert all(post.section == "blog" for post in ours.posts())
    news = {p["file"]["path"] for p in hugo.pages("en") if p["section"] == "news"}
    assert len(news) > len(theirs)


def test_drafts_future_and_expired_only_with_their_flags(hugo_builds: HugoBuilds) -> None:
    default = {p["file"]["path"] for p in hugo_builds.get("blog").pages()}
    everything = {p["file"]["path"] for p in hugo_builds.get("blog", *ALL_PAGES).pages()}
    held_back = everything - default
    assert held_back == {
        "posts/draft-ideas.md",
        "posts/from-the-future.md",
        "posts/old-offer.md",
        "posts/publish-later.md",
    }
    ours = load_hugo_site(hugo_builds.get("blog").source, now=NOW)
    assert held_back.isdisjoint(page.file.relative for page in ours.pages)


def test_is_built_uses_now_and_the_publish_date() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    later, earlier = now + timedelta(seconds=1), now - timedelta(seconds=1)
    none = BuildFlags()
    assert is_built(none, draft=False, publish_date=earlier, expiry_date=None, now=now)
    assert not is_built(none, draft=True, publish_date=None, expiry_date=None, now=now)
    assert not is_built(none, draft=False, publish_date=later, expiry_date=None, now=now)
    assert not is_built(none, draft=False, publish_date=None, expiry_date=earlier, now=now)
    assert is_built(none, draft=False, publish_date=None, expiry_date=now, now=now)
    every = BuildFlags(drafts=True, future=True, expired=True)
    assert is_built(every, draft=True, publish_date=later, expiry_date=earlier, now=now)


def test_default_main_section_is_the_biggest_first_by_name_on_ties() -> None:
    assert default_main_section(["posts", "posts", "notes", "", "", ""]) == "posts"
    assert default_main_section(["b", "a", "b", "a"]) == "a"
    assert default_main_section(["", ""]) is None


def test_bundles_resources_list_pages_and_languages(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "blog", site)
    bundle = site / "content" / "posts" / "bundle-trip"
    (bundle / "notes.md").write_text("+++\ntitle = 'A resource'\n+++\nNot a page.\n")
    (site / "content" / "posts" / "draft.org").write_text("#+TITLE: Org\n")
    tree = find_content(load_site_config(site))
    pages = {file.relative: file for file in tree.pages()}
    assert "posts/bundle-trip/index.md" in pages
    assert "posts/bundle-trip/notes.md" not in pages
    assert pages["posts/bundle-trip/index.md"].content_base_name == "bundle-trip"
    assert pages["docs/guide/advanced/tuning.md"].sections == ("docs", "guide", "advanced")
    assert pages["journal/2023/spring.md"].sections == ("journal", "2023")
    assert pages["about.md"].section == ""
    lists = [file.relative for file in tree.files if file.kind is PageKind.LIST]
    assert "posts/_index.md" in lists and "posts/_index.md" not in pages
    assert any("draft.org" in note and "Org mode" in note for note in tree.notes)


def test_language_from_suffix_and_from_content_dir() -> None:
    suffixed = find_content(load_site_config(FIXTURES / "babel"))
    by_suffix = {file.relative: file.lang for file in suffixed.pages()}
    assert by_suffix["blog/first-steps.md"] == "en"
    assert by_suffix["blog/first-steps.ko.md"] == "ko"
    folders = find_content(load_site_config(FIXTURES / "almanac"))
    by_folder = {(file.lang, file.relative) for file in folders.pages()}
    assert ("fr", "entries/l-ete-indien.md") in by_folder
    assert ("en", "pages/about.md") in by_folder


def test_a_page_we_cannot_read_is_a_problem_not_a_failed_site(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "blog", site)
    (site / "content" / "posts" / "broken.md").write_text(
        '+++\ntitle = "Broken\ndate = 2023\n+++\n'
    )
    loaded = load_hugo_site(site, now=NOW)
    assert [problem.where for problem in loaded.problems] == ["content/posts/broken.md:2"]
    assert "invalid TOML" in loaded.problems[0].message
    assert "posts/hello-world.md" in {page.file.relative for page in loaded.posts()}
