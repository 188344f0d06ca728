"""A link to another post (Jekyll's `post_url` and `link`, Hugo's `ref` and `relref`) whose
target was renamed is a warning at every build that loads the posts and at every `check`,
even while the post holding the link is cached (Hugo itself stops with REF_NOT_FOUND)."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from publisher.cli import cli
from tests.conftest import NOW
from tests.hugo_peer import FIXTURES as HUGO_FIXTURES
from tests.jekyll_peer import FIXTURES as JEKYLL_FIXTURES


def site_config(tmp_path: Path, kind: str, fixture: Path) -> Path:
    shutil.copytree(fixture, tmp_path / "site")
    config = tmp_path / "config.toml"
    config.write_text(f'[source]\nkind = "{kind}"\npath = "site"\n', encoding="utf-8")
    return config


def run(config: Path, verb: str) -> Result:
    done = CliRunner().invoke(cli, ["--config", str(config), "--now", NOW.isoformat(), verb])
    assert done.exit_code == 0, done.output
    return done


def about(result: Result, name: str) -> list[str]:
    return [line for line in result.stderr.splitlines() if name in line]


def test_a_renamed_post_url_target_warns_until_it_is_fixed(tmp_path: Path) -> None:
    config = site_config(tmp_path, "jekyll", JEKYLL_FIXTURES / "kitchen")
    posts = tmp_path / "site" / "_posts"
    linking = "site/_posts/2022-01-12-liquid-links.md:5: post_url: no post named"
    assert about(run(config, "build"), "liquid-links.md") == []

    target = posts / "2022-01-10-liquid-basics.html"
    target.rename(posts / "2022-01-10-renamed-basics.html")
    assert [w.split(" '")[0] for w in about(run(config, "build"), "liquid-links")] == [
        f"warning: {linking}"
    ]
    other = posts / "2022-01-20-no-separator.md"
    other.write_text(other.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    rebuilt = run(config, "build")  # the linking post is cached by its stat this time
    assert any(linking in line for line in about(rebuilt, "liquid-links"))
    assert any(linking in line for line in about(run(config, "check"), "liquid-links"))

    (posts / "2022-01-10-renamed-basics.html").rename(target)
    assert about(run(config, "build"), "liquid-links.md") == []


def test_a_renamed_ref_target_warns_until_it_is_fixed(tmp_path: Path) -> None:
    config = site_config(tmp_path, "hugo", HUGO_FIXTURES / "blog")
    posts = tmp_path / "site" / "content" / "posts"
    linking = "site/content/posts/shortcodes.md:43: ref 'hello-world.md': no such page"
    assert about(run(config, "build"), "no such page") == []

    (posts / "hello-world.md").rename(posts / "hello-again.md")
    assert any(linking in line for line in about(run(config, "build"), "shortcodes.md"))
    other = posts / "markdown-tour.md"
    other.write_text(other.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    assert any(linking in line for line in about(run(config, "build"), "shortcodes.md"))
    assert any(linking in line for line in about(run(config, "check"), "shortcodes.md"))

    (posts / "hello-again.md").rename(posts / "hello-world.md")
    assert about(run(config, "build"), "no such page") == []


def test_a_missing_include_warns_until_it_is_back(tmp_path: Path) -> None:
    config = site_config(tmp_path, "jekyll", JEKYLL_FIXTURES / "kitchen")
    includes = tmp_path / "site" / "_includes"
    post = tmp_path / "site" / "_posts" / "2022-01-26-missing-include.md"
    post.write_text(
        "---\ntitle: Missing include\n---\nFirst.\n\n{% include nowhere.html %} there.\n",
        encoding="utf-8",
    )
    typo = "site/_posts/2022-01-26-missing-include.md:6: include 'nowhere.html'"
    assert any(typo in line for line in about(run(config, "build"), "missing-include"))
    assert any(typo in line for line in about(run(config, "check"), "missing-include"))

    moved = "site/_posts/2022-01-11-liquid-includes.html:5: include 'note.html'"
    assert about(run(config, "build"), "liquid-includes") == []
    (includes / "note.html").rename(includes / "aside.html")
    assert any(moved in line for line in about(run(config, "build"), "liquid-includes"))
    assert any(moved in line for line in about(run(config, "check"), "liquid-includes"))
    (includes / "aside.html").rename(includes / "note.html")
    assert about(run(config, "build"), "liquid-includes") == []
