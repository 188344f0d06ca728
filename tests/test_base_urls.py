"""A site's base URL as its generator writes it: Jekyll's `url` + `baseurl` (with or
without slashes, with spaces or non-ASCII) and Hugo's baseURL give the same links, ids and
feed links in our feeds as in jekyll-feed's and Hugo's, percent-encoded alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from publisher.cli import cli
from publisher.sources.urls import site_base_url
from tests.conftest import NOW
from tests.hugo_peer import run_hugo
from tests.jekyll_peer import ATOM, require_jekyll, run_jekyll

POST = "---\ntitle: A post\n---\nText.\n"


def build_ours(site: Path, kind: str) -> Path:
    config = site.parent / "config.toml"
    config.write_text(f'[source]\nkind = "{kind}"\npath = "site"\n', encoding="utf-8")
    done = CliRunner().invoke(cli, ["--config", str(config), "--now", NOW.isoformat(), "build"])
    assert done.exit_code == 0, done.output
    return site.parent / "public"


def atom_links(path: Path) -> list[str]:
    """The feed's id and links, then each entry's id and alternate link, in order."""
    root = etree.parse(str(path)).getroot()
    found = [root.findtext(f"{ATOM}id")]
    found += sorted(link.get("href") for link in root.findall(f"{ATOM}link"))
    for entry in root.iter(f"{ATOM}entry"):
        found += [entry.findtext(f"{ATOM}id"), entry.find(f"{ATOM}link").get("href")]
    return found


@pytest.mark.parametrize("baseurl", ["blog", "/my blog", "ü b/", "/a%20b", "x/"])
def test_jekyll_baseurl_gives_the_links_jekyll_feed_writes(tmp_path: Path, baseurl: str) -> None:
    require_jekyll()
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_posts" / "2024-01-01-a post.md").write_text(POST, encoding="utf-8")
    (site / "_config.yml").write_text(
        f'title: T\nurl: "https://Ex.org"\nbaseurl: "{baseurl}"\nplugins: [jekyll-feed]\n'
        "exclude: [state, outbox]\n",
        encoding="utf-8",
    )
    run_jekyll(site, [site / "_config.yml"], drafts=False)
    theirs = atom_links(site / "_site" / "feed.xml")
    assert not any(" " in link for link in theirs)

    ours = atom_links(build_ours(site, "jekyll") / "feed.xml")

    assert ours == theirs


@pytest.mark.parametrize(
    "base_url", ["https://Ex.com/My Site/", "https://ex.com/ü b", "https://ex.com/a%20b/"]
)
def test_hugo_base_url_gives_the_links_hugo_writes(tmp_path: Path, base_url: str) -> None:
    site = tmp_path / "site"
    (site / "content" / "posts").mkdir(parents=True)
    (site / "content" / "posts" / "p.md").write_text(
        "---\ntitle: P\ndate: 2024-01-01\n---\nText.\n", encoding="utf-8"
    )
    (site / "hugo.toml").write_text(f'baseURL = "{base_url}"\ntitle = "H"\n', encoding="utf-8")
    run_hugo(site, tmp_path / "hugo-public", (), tmp_path / "cache")
    theirs = etree.parse(str(tmp_path / "hugo-public" / "index.xml")).getroot()

    ours = etree.parse(str(build_ours(site, "hugo") / "index.xml")).getroot()

    assert " " not in theirs.findtext("channel/link")
    assert ours.findtext("channel/link") == theirs.findtext("channel/link")
    assert ours.findtext("channel/item/link") == theirs.findtext("channel/item/link")
    assert ours.findtext("channel/item/guid") == theirs.findtext("channel/item/guid")
    self_link = "channel/{http://www.w3.org/2005/Atom}link"
    assert ours.find(self_link).get("href") == theirs.find(self_link).get("href")


@pytest.mark.parametrize(
    ("url", "path", "expected"),
    [
        ("https://ex.org", "blog", "https://ex.org/blog"),
        ("https://ex.org/", "/blog/", "https://ex.org/blog"),
        ("https://ex.org", "", "https://ex.org"),
        ("https://ex.org", "/", "https://ex.org"),
        ("https://ex.org/a b/", "", "https://ex.org/a%20b"),
        ("https://ex.org", "100%", "https://ex.org/100%25"),
        ("https://ex.org", "/a%2Fb", "https://ex.org/a%2Fb"),
    ],
)
def test_one_function_joins_and_encodes_base_urls(url: str, path: str, expected: str) -> None:
    assert site_base_url(url, path) == expected
