"""`publisher init`: a working site in a new or existing folder, never a file overwritten."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from publisher import scaffold
from publisher.cli import cli
from publisher.core.config import documented_settings, parse_config
from publisher.core.errors import ExitCode
from publisher.scaffold.plan import PlannedFile, SitePlan
from publisher.site_config import load_config
from publisher.sources import SOURCES
from tests.conftest import FIXTURES, NOW

BIN = Path(sys.executable).parent


def publisher(*arguments: str, cwd: Path | None = None) -> Result:
    """The command in this process, from `cwd` (init resolves its folder against it)."""
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, ["--now", NOW.isoformat(), *arguments])
    finally:
        os.chdir(previous)


def files_below(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_init_makes_a_site_that_builds_and_previews_at_once(tmp_path: Path) -> None:
    made = publisher("init", "news", cwd=tmp_path)

    assert made.exit_code == 0, made.output
    assert made.stdout.splitlines() == [
        "wrote news/config.toml",
        "wrote news/content/welcome.md",
        "wrote news/.gitignore",
        "next:",
        "  cd news",
        "  publisher build",
        "  publisher digest --preview",
    ]
    site = tmp_path / "news"
    config = site / "config.toml"
    for command in (["check"], ["build"], ["digest", "--preview"]):
        done = publisher("--config", str(config), *command)
        assert done.exit_code == 0, done.output
    assert "built 1 post:" in publisher("--config", str(config), "build").stdout
    for output in ("public/index.html", "public/feed.atom", "outbox/preview/preview.html"):
        assert (site / output).is_file(), output
    atom = (site / "public" / "feed.atom").read_text(encoding="utf-8")
    assert "Welcome to news" in atom and "<updated>2024-06-20T00:00:00+00:00</updated>" in atom


def test_the_example_post_is_markdown_dated_when_init_ran(tmp_path: Path) -> None:
    publisher("init", str(tmp_path / "site"))
    post = (tmp_path / "site" / "content" / "welcome.md").read_text(encoding="utf-8")
    front, body = post.split("\n---\n", 1)
    assert front.splitlines()[1:] == [
        'title: "Welcome to site"',
        "date: 2024-06-20T00:00:00+00:00",
        "categories: [News]",
    ]
    assert "`publisher build`" in body


def test_the_config_holds_every_table_and_key_with_what_it_does(tmp_path: Path) -> None:
    publisher("init", str(tmp_path / "site"))
    text = (tmp_path / "site" / "config.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    for table, key, _default, doc in documented_settings():
        assert f"[{table}]" in lines, table
        (index,) = [
            i
            for i, line in enumerate(lines)
            if re.match(rf"(# )?{key} = ", line) and _table_of(lines, i) == table
        ]
        assert _comment_above(lines, index) == " ".join(doc.split()), f"[{table}] {key}"
    # What is set, and that the rest are comments that would parse when uncommented.
    data = tomllib.loads(text)
    assert data["site"]["id_authority"] == "example.org,2024"
    assert data["mail"] == {"transport": "outbox", "from": "site <newsletter@example.org>"}
    assert data["source"] == {"kind": "folder"}
    uncommented = tomllib.loads(re.sub(r"(?m)^# (\w+ = )", r"\1", text))
    every = parse_config(uncommented, tmp_path / "site" / "config.toml")
    assert every.smtp.password_env == "PUBLISHER_SMTP_PASSWORD"


def _comment_above(lines: list[str], index: int) -> str:
    """The comment lines right above a setting, as one line of text."""
    start = index
    while start > 0 and lines[start - 1].startswith("# ") and not KEY_LINE.match(lines[start - 1]):
        start -= 1
    return " ".join(line.removeprefix("# ") for line in lines[start:index])


KEY_LINE = re.compile(r"^(# )?\w+ = ")


def _table_of(lines: list[str], index: int) -> str:
    headers = [line for line in lines[:index] if re.fullmatch(r"\[\w+\]", line)]
    return headers[-1].strip("[]")


def test_secrets_are_only_ever_named_never_written(tmp_path: Path) -> None:
    publisher("init", str(tmp_path))
    text = (tmp_path / "config.toml").read_text(encoding="utf-8")
    for line in text.splitlines():
        if re.match(r"(# )?\w*(password|secret|key)\w* = ", line) and "_env" not in line:
            assert line.startswith("# dkim_key_file = "), line  # a path, not a key
    for match in re.finditer(r"(?m)^(?:# )?\w+_env = \"(.*)\"$", text):
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", match[1]), match[0]


def test_a_name_with_quotes_commas_and_colons_still_makes_a_valid_site(tmp_path: Path) -> None:
    folder = tmp_path / 'News, "Weekly": #1'
    made = publisher("init", str(folder))
    assert made.exit_code == 0, made.output
    config = load_config(folder / "config.toml")
    assert config.site.title == 'News, "Weekly": #1'
    built = publisher("--config", str(folder / "config.toml"), "build")
    assert built.exit_code == 0, built.output
    index = (folder / "public" / "index.html").read_text(encoding="utf-8")
    assert "Welcome to News, “Weekly”: #1" in index  # quotes made typographic, as titles are


def test_init_in_an_existing_site_writes_only_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "mine.md").write_text("---\ntitle: Mine\n---\n", encoding="utf-8")
    (tmp_path / "config.toml").write_text("# my own\n", encoding="utf-8")
    before = files_below(tmp_path)

    made = publisher("init", cwd=tmp_path)

    assert made.exit_code == 0, made.output
    assert made.stdout.splitlines() == [
        "wrote .gitignore",
        "skipped config.toml: it already exists",
        "skipped content/welcome.md: content/ already holds files, so no example post was added",
        "next:",
        "  publisher check",
        "  publisher build",
        "  publisher digest --preview",
    ]
    after = files_below(tmp_path)
    assert set(after) == {*before, ".gitignore"}
    assert all(after[name] == before[name] for name in before)


def test_a_second_init_changes_nothing(tmp_path: Path) -> None:
    publisher("init", str(tmp_path))
    before = files_below(tmp_path)
    again = publisher("init", str(tmp_path))
    assert again.exit_code == 0
    assert [line for line in again.stdout.splitlines() if line.startswith("skipped")] == [
        f"skipped {tmp_path / name}: it already exists"
        for name in ("config.toml", "content/welcome.md", ".gitignore")
    ]
    assert files_below(tmp_path) == before
    assert not [p for p in tmp_path.rglob(".*") if p.name != ".gitignore"], "temp files left"


def test_init_into_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    made = publisher("init", str(tmp_path / "file"))
    assert made.exit_code == ExitCode.USAGE
    assert "is a file, not a folder" in made.stderr


PEER_SITES = {
    "jekyll _config.yml": ("_config.yml", "title: Mine\n", "a Jekyll site (it has _config.yml)"),
    "hugo hugo.toml": ("hugo.toml", 'title = "Mine"\n', "a Hugo site (it has hugo.toml)"),
    "hugo config/_default": (
        "config/_default/hugo.toml",
        'title = "Mine"\n',
        "a Hugo site (it has config/_default/)",
    ),
    "hugo config.toml with baseURL": (
        "config.toml",
        'baseURL = "https://example.org/"\n',
        "a Hugo site (its config.toml sets baseURL)",
    ),
    "hugo config.yaml with baseURL": (
        "config.yaml",
        "baseURL: https://example.org/\n",
        "a Hugo site (its config.yaml sets baseURL)",
    ),
}


@pytest.mark.parametrize("case", list(PEER_SITES))
def test_a_jekyll_or_hugo_site_is_refused_while_its_source_is_not_available(
    tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, text, looks_like = PEER_SITES[case]
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text, encoding="utf-8")
    kind = "jekyll" if "jekyll" in case else "hugo"
    monkeypatch.delitem(SOURCES, kind, raising=False)  # as in a version without that source
    before = files_below(tmp_path)

    made = publisher("init", str(tmp_path))

    assert made.exit_code == ExitCode.USAGE
    assert (
        f'error: this looks like {looks_like}; [source] kind = "{kind}" is not available '
        "in this version" in made.stderr
    )
    assert files_below(tmp_path) == before


def plan_for_a_test(folder: Path, now: datetime) -> SitePlan:
    """A stand-in planner, registered by the tests below as another engineer would."""
    return SitePlan(
        (PlannedFile("site.toml", f'# made {now:%Y}\n[source]\nkind = "folder"\n'),),
        config="site.toml",
    )


def _register(monkeypatch: pytest.MonkeyPatch, kind: str, planner: str | None) -> None:
    monkeypatch.setitem(SOURCES, kind, SOURCES["folder"])  # a source of that kind exists
    monkeypatch.setattr(
        scaffold,
        "SCAFFOLDS",
        tuple(
            dataclasses.replace(entry, planner=planner) if entry.kind == kind else entry
            for entry in scaffold.SCAFFOLDS
        ),
    )


def test_a_registered_scaffold_is_used_for_its_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "_config.yml").write_text("title: Mine\n", encoding="utf-8")
    _register(monkeypatch, "jekyll", "tests.test_init:plan_for_a_test")

    made = publisher("init", cwd=tmp_path)

    assert made.exit_code == 0, made.output
    assert made.stdout.splitlines() == [
        "wrote site.toml",
        "next:",
        "  publisher --config site.toml check",
        "  publisher --config site.toml build",
        "  publisher --config site.toml digest --preview",
    ]
    assert (tmp_path / "site.toml").read_text() == '# made 2024\n[source]\nkind = "folder"\n'


def test_a_kind_without_a_planner_is_refused_with_what_to_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hugo.toml").write_text('title = "Mine"\n', encoding="utf-8")
    _register(monkeypatch, "hugo", None)

    made = publisher("init", str(tmp_path))

    assert made.exit_code == ExitCode.USAGE
    assert "`publisher init` cannot write its config yet" in made.stderr
    assert 'hint: write config.toml yourself with [source] kind = "hugo"' in made.stderr
    assert files_below(tmp_path) == {"hugo.toml": files_below(tmp_path)["hugo.toml"]}


def test_the_printed_next_commands_work_in_a_shell(tmp_path: Path) -> None:
    made = subprocess.run(
        [BIN / "publisher", "init", "my site"], cwd=tmp_path, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    commands = made.stdout.split("next:\n", 1)[1].split("\n")
    script = " && ".join(command.strip() for command in commands if command.strip())
    assert script == "cd 'my site' && publisher build && publisher digest --preview"
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["sh", "-c", script], cwd=tmp_path, capture_output=True, text=True, env=environment
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "built 1 post: 7 files written, 0 unchanged, 0 warnings",
        f"preview written to {tmp_path / 'my site' / 'outbox' / 'preview'}",
    ]


@pytest.mark.parametrize(
    ("kind", "fixture", "feed"), [("jekyll", "blog", "feed.xml"), ("hugo", "blog", "index.xml")]
)
def test_init_in_a_jekyll_or_hugo_site_writes_a_config_that_builds(
    tmp_path: Path, kind: str, fixture: str, feed: str
) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / kind / fixture, site)
    before = files_below(site)

    made = publisher("init", str(site))

    assert made.exit_code == 0, made.output
    assert made.stdout.splitlines() == [
        f"wrote {site / 'publisher.toml'}",
        "next:",
        f"  cd {site}",
        "  publisher build",
        "  publisher digest --preview",
    ]
    written = tomllib.loads((site / "publisher.toml").read_text(encoding="utf-8"))
    assert written["source"] == {
        "kind": kind,
        "path": ".",
        **({"pages": "main"} if kind == "hugo" else {}),
    }
    assert {name: data for name, data in files_below(site).items() if name in before} == before
    config = load_config(site / "publisher.toml")
    built = publisher("--config", str(site / "publisher.toml"), "build")
    assert built.exit_code == 0, built.output
    assert (config.paths.output / feed).is_file()
