"""The Hugo harness itself: the fixtures are built by the real hugo, dump what the tests
need, and a missing hugo is a skip, or a failure where peers are required."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hugo_peer import ALL_PAGES, FIXTURES, SITES, HugoBuilds, hugo_binary


def test_every_fixture_has_the_same_dump_layout() -> None:
    layouts = {(FIXTURES / site / "layouts" / "index.dump.json").read_text() for site in SITES}
    assert len(layouts) == 1


@pytest.mark.parametrize("site", SITES)
def test_hugo_builds_each_fixture_with_feeds_and_a_dump_per_language(
    hugo_builds: HugoBuilds, site: str
) -> None:
    build = hugo_builds.get(site)
    for lang, dump in build.dumps.items():
        assert dump["pages"], lang
        feed_path = dump["homeRSS"].removeprefix(dump["baseURL"])
        assert build.feeds[feed_path].items, feed_path
    assert "ERROR" not in build.log


def test_all_pages_build_lists_more(hugo_builds: HugoBuilds) -> None:
    for site in SITES:
        assert len(hugo_builds.get(site, *ALL_PAGES).pages()) > len(hugo_builds.get(site).pages())


def test_missing_hugo_skips_or_fails_when_peers_are_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("PUBLISHER_REQUIRE_PEERS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="hugo is not installed"):
        hugo_binary()
    monkeypatch.setenv("PUBLISHER_REQUIRE_PEERS", "1")
    with pytest.raises(pytest.fail.Exception, match="hugo is not installed"):
        hugo_binary()
