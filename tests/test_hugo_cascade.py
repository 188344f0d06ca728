"""Hugo's `cascade`, beyond the conformance fixture (tests/fixtures/hugo/cascade, compared
page by page and feed by feed with the real Hugo in the conformance tests): what an edit to
a list page does to the next build, and the target globs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from publisher.cli import cli
from publisher.sources.hugo.cascade import CascadeEntry, glob, read_cascade
from tests.conftest import NOW
from tests.hugo_peer import copy_fixture


def links(public: Path) -> set[str]:
    root = etree.parse(str(public / "index.xml")).getroot()
    return {item.findtext("link") for item in root.iter("item")}


def test_editing_a_sections_cascade_changes_the_next_build(tmp_path: Path) -> None:
    site = copy_fixture("cascade", tmp_path / "site")
    config = tmp_path / "config.toml"
    config.write_text(f'[source]\nkind = "hugo"\npath = "{site}"\n', encoding="utf-8")

    def build() -> set[str]:
        done = CliRunner().invoke(cli, ["--config", str(config), "--now", NOW.isoformat(), "build"])
        assert done.exit_code == 0, done.output
        return links(tmp_path / "public")

    first = build()
    assert "https://cascade.example.net/posts/first/" in first
    index = site / "content" / "posts" / "_index.md"
    before = index.read_text(encoding="utf-8")
    index.write_text(before.replace("cascade:\n", "cascade:\n  draft: true\n"), encoding="utf-8")
    assert build() == set()  # the list page's bytes are in the fingerprint: nothing reused
    index.write_text(before, encoding="utf-8")
    assert build() == first


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/targets/a*.md", "/targets/alpha.md", True),
        ("/targets/a*.md", "/targets/deeper/a.md", False),  # `*` stays in its folder
        ("/targets/**", "/targets/deeper/inner.md", True),
        ("{/a,/a/**}", "/a", True),
        ("{/a,/a/**}", "/a/b/c.md", True),
        ("/posts/?.md", "/posts/x.md", True),
        ("/posts/[!x].md", "/posts/x.md", False),
        ("/Posts/*.md", "/posts/upper.md", True),  # case-insensitive
    ],
)
def test_target_paths_are_hugos_globs(pattern: str, path: str, matches: bool) -> None:
    assert bool(glob(pattern).fullmatch(path.lower())) is matches


def test_a_map_cascade_hands_its_target_down_as_a_key_as_hugo_0_111_does() -> None:
    (entry,) = read_cascade({"Draft": True, "_target": {"kind": "page"}})
    assert entry == CascadeEntry({"draft": True, "_target": {"kind": "page"}})
    assert entry.matches("section", "/s/_index.md", "en")
    listed = read_cascade([{"draft": True, "_target": {"kind": "page", "lang": "{en,fr}"}}])
    assert listed[0].matches("page", "/s/p.md", "fr")
    assert not listed[0].matches("section", "/s/_index.md", "en")
    assert not listed[0].matches("page", "/s/p.md", "ko")
