"""The state (subscribers, signing secret) and the outbox (readers' addresses) are never
published with a Jekyll or Hugo site: `init` puts them where the generator copies nothing,
and `check`/`build` refuse a config that puts them where it would. Proven with the real
`jekyll build` and `hugo`."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from publisher.cli import cli
from publisher.core.errors import ExitCode
from publisher.sources.hugo.publish_dirs import published_reason as hugo_published
from publisher.sources.hugo.site_config import load_site_config as hugo_site_config
from publisher.sources.jekyll.discovery import published_reason as jekyll_published
from publisher.sources.jekyll.site_config import load_site_config as jekyll_site_config
from tests.conftest import NOW
from tests.hugo_peer import FIXTURES as HUGO_FIXTURES
from tests.hugo_peer import run_hugo
from tests.jekyll_peer import FIXTURES as JEKYLL_FIXTURES
from tests.jekyll_peer import require_jekyll, run_jekyll

MARKER = "publisher.sqlite3"


def publisher(*arguments: str, cwd: Path) -> Result:
    config = cwd / "publisher.toml"
    return CliRunner().invoke(cli, ["--config", str(config), "--now", NOW.isoformat(), *arguments])


def published_files(output: Path) -> set[str]:
    return {p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file()}


def test_following_coming_from_jekyll_publishes_nothing_of_state_or_outbox(
    tmp_path: Path,
) -> None:
    require_jekyll()
    site = tmp_path / "site"
    shutil.copytree(JEKYLL_FIXTURES / "blog", site)
    assert CliRunner().invoke(cli, ["init", str(site)]).exit_code == 0
    assert publisher("build", cwd=site).exit_code == 0
    fresh = site / "_posts" / f"{NOW - timedelta(days=2):%Y-%m-%d}-fresh.md"
    fresh.write_text("---\ntitle: Fresh\n---\nNew.\n", encoding="utf-8")
    for step in (("build",), ("digest", "--preview")):
        done = publisher(*step, cwd=site)
        assert done.exit_code == 0, done.output
    kept = [site / "_publisher" / "state", site / "_publisher" / "outbox"]
    private = {p.name for folder in kept for p in folder.rglob("*") if p.is_file()}
    assert MARKER in private and "preview.html" in private  # there is something to leak

    run_jekyll(site, [site / "_config.yml"], drafts=False)

    leaked = {name for name in published_files(site / "_site") if Path(name).name in private}
    assert leaked == set()
    assert not any(name.startswith("_publisher") for name in published_files(site / "_site"))
    assert "feed.xml" in published_files(site / "_site")  # the site was built


def test_check_and_build_refuse_a_state_folder_jekyll_would_publish(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(JEKYLL_FIXTURES / "blog", site)
    (site / "publisher.toml").write_text(
        '[source]\nkind = "jekyll"\npath = "."\n[paths]\nstate = "state"\noutbox = "outbox"\n',
        encoding="utf-8",
    )
    for verb in ("check", "build"):
        refused = publisher(verb, cwd=site)
        assert refused.exit_code == ExitCode.USAGE, refused.output
        assert "[paths] state: state holds the subscriber database" in refused.stderr
        assert "[paths] outbox: outbox holds messages" in refused.stderr
        assert "Jekyll copies it into _site/state/" in refused.stderr
        assert "add it to `exclude:` in _config.yml" in refused.stderr
    assert not (site / "state").exists()  # refused before anything was written

    yml = site / "_config.yml"
    yml.write_text(yml.read_text(encoding="utf-8") + "exclude: [state, outbox]\n", "utf-8")
    accepted = publisher("check", cwd=site)
    assert accepted.exit_code == 0, accepted.output


JEKYLL_LAYOUT = {
    "state": "",
    "_publisher/state": "",
    ".publisher/state": "",
    "excluded/state": "exclude: [excluded]",
    "_included/state": "include: [_included]",
    "assets/private/state": "",
}
"""Folder → what _config.yml adds for it."""


def test_which_folders_jekyll_publishes_is_what_jekyll_build_does(tmp_path: Path) -> None:
    require_jekyll()
    site = tmp_path / "site"
    for folder in JEKYLL_LAYOUT:
        (site / folder).mkdir(parents=True)
        (site / folder / MARKER).write_bytes(b"private")
    extra = "".join(line + "\n" for line in JEKYLL_LAYOUT.values() if line)
    yml = site / "_config.yml"
    yml.write_text("title: Folders\nurl: https://folders.example\n" + extra, encoding="utf-8")
    config = jekyll_site_config(site)

    run_jekyll(site, [yml], drafts=False)

    for folder in JEKYLL_LAYOUT:
        copied = (site / "_site" / folder / MARKER).exists()
        said = jekyll_published(config.entry_rules, folder, config.destination)
        assert (said is not None) == copied, (folder, said)
    assert (site / "_site" / "state" / MARKER).exists()  # the layout shows both outcomes
    assert not (site / "_site" / "_publisher").exists()


HUGO_LAYOUT = {
    "state": "state",
    "outbox": "outbox",
    "_publisher/state": "_publisher/state",
    "static/kept": "kept",
    "content/posts/kept": "posts/kept",
}
"""Folder → where in public/ it would be copied."""


def test_which_folders_hugo_publishes_is_what_hugo_does(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(HUGO_FIXTURES / "blog", site)
    for folder in HUGO_LAYOUT:
        (site / folder).mkdir(parents=True, exist_ok=True)
        (site / folder / MARKER).write_bytes(b"private")
    config = hugo_site_config(site)

    run_hugo(site, site / "public", (), tmp_path / "cache")

    for folder, inner in HUGO_LAYOUT.items():
        copied = (site / "public" / inner / MARKER).exists()
        said = hugo_published(config, folder)
        assert (said is not None) == copied, (folder, said)
    assert (site / "public" / "kept" / MARKER).exists()  # the layout shows both outcomes
    assert hugo_published(config, "state") is None  # the scaffold's folders
    assert hugo_published(config, "public/state") is not None


def test_check_refuses_a_state_folder_hugo_would_publish(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(HUGO_FIXTURES / "blog", site)
    (site / "publisher.toml").write_text(
        '[source]\nkind = "hugo"\npath = "."\n[paths]\nstate = "static/state"\n',
        encoding="utf-8",
    )
    refused = publisher("check", cwd=site)
    assert refused.exit_code == ExitCode.USAGE, refused.output
    assert "[paths] state: static/state holds the subscriber database" in refused.stderr
    assert "Hugo copies static/ into public/" in refused.stderr


@pytest.mark.parametrize("kind", ["jekyll", "hugo"])
def test_init_puts_state_and_outbox_where_the_generator_never_publishes(
    tmp_path: Path, kind: str
) -> None:
    site = tmp_path / "site"
    shutil.copytree((JEKYLL_FIXTURES if kind == "jekyll" else HUGO_FIXTURES) / "blog", site)
    assert CliRunner().invoke(cli, ["init", str(site)]).exit_code == 0
    done = publisher("check", cwd=site)
    assert done.exit_code == 0, done.output
    text = (site / "publisher.toml").read_text(encoding="utf-8")
    if kind == "jekyll":
        assert 'state = "_publisher/state"' in text and 'outbox = "_publisher/outbox"' in text
        assert 'output = "_publisher/public"' in text
    else:
        assert 'state = "state"' in text and 'outbox = "outbox"' in text
