"""The docs hold every command, option, setting and exit code; the README's links lead somewhere.

`mkdocs build --strict` (in `make test` and CI) checks the links between the
docs pages; these tests check that what the code has is in them.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import click
import pytest

from publisher.cli import cli
from publisher.core.config import TABLES, documented_settings
from publisher.core.errors import ExitCode
from tests.conftest import ROOT, SAMPLE

DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS_PAGE = (DOCS / "commands.md").read_text(encoding="utf-8")
CONFIGURATION_PAGE = (DOCS / "configuration.md").read_text(encoding="utf-8")
OPERATIONS_PAGE = (DOCS / "operations.md").read_text(encoding="utf-8")
PUBLISHER = Path(sys.executable).parent / "publisher"
CHROMIUM = Path("/usr/bin/chromium")


def _commands(group: click.Group, prefix: str = "publisher") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


def _section(page: str, heading: str) -> str:
    """The text under a `## heading`, up to the next heading of level 2."""
    return page.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_every_command_has_help_text_and_is_in_the_commands_page() -> None:
    commands = _commands(cli)
    assert len(commands) >= 11
    for path, command in commands:
        assert (command.help or "").strip(), f"{path} has no help text"
        assert f"`{path}" in COMMANDS_PAGE, f"{path} is not in docs/commands.md"


def test_every_option_of_every_command_is_in_the_commands_page() -> None:
    for path, command in [("publisher", cli), *_commands(cli)]:
        for parameter in command.params:
            if isinstance(parameter, click.Option) and parameter.name != "help":
                assert parameter.help, f"{path} {parameter.opts[0]} has no help text"
                flag = max(parameter.opts, key=len)
                assert f"`{flag}" in COMMANDS_PAGE, f"{path} {flag} is not in docs/commands.md"


def test_every_setting_is_in_the_configuration_page_under_its_table() -> None:
    sections = re.split(r"\*\*\[(\w+)\]\*\*", CONFIGURATION_PAGE)
    tables = sections[1::2]
    assert len(tables) == len(set(tables)), "a **[table]** heading appears twice"
    by_table = dict(zip(tables, sections[2::2], strict=True))
    assert set(by_table) >= set(TABLES)
    for table, key, _default, doc in documented_settings():
        assert doc.strip(), f"[{table}] {key} has no documentation"
        assert f"| `{key}` |" in by_table[table], f"[{table}] {key} is not in docs/configuration.md"


def test_every_exit_code_is_in_the_exit_codes_table() -> None:
    table = _section(OPERATIONS_PAGE, "Exit codes")
    for code in ExitCode:
        assert f"| {int(code)} |" in table, f"exit code {int(code)} is not in docs/operations.md"


def test_the_quick_start_has_exactly_the_two_make_commands() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = quick_start.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_the_readme_stays_short_and_points_into_the_docs() -> None:
    assert len(README.splitlines()) <= 200
    for page in ("getting-started", "configuration", "commands", "architecture"):
        assert f"(docs/{page}.md)" in README


def _relative_links(markdown: str) -> list[str]:
    targets = re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", markdown)
    targets += re.findall(r"<img\s[^>]*src=\"([^\"]+)\"", markdown)
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:|#", t)]


def test_the_link_finder_sees_links_images_and_skips_urls() -> None:
    sample = '[a](docs/x.md#part) ![b](img.png) <img src="c.png" alt=""> [d](https://e.org) [f](#g)'
    assert _relative_links(sample) == ["docs/x.md#part", "img.png", "c.png"]


def test_every_relative_link_in_the_readme_leads_to_a_file() -> None:
    links = _relative_links(README)
    assert len(links) >= 10
    for link in links:
        target = (ROOT / link.split("#", 1)[0]).resolve()
        assert target.is_relative_to(ROOT), f"README.md links outside the repository: {link}"
        assert target.is_file(), f"README.md links to {link}, which is not a file"


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_the_committed_screenshots_are_small_pngs() -> None:
    for name in ("index.png", "digest.png"):
        path = DOCS / "images" / name
        assert _png_size(path)[0] == 900
        assert path.stat().st_size < 300_000


@pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("PUBLISHER_REQUIRE_BROWSER"),
    reason="needs Debian's chromium: apt-get install -y chromium",
)
def test_the_screenshot_script_photographs_a_real_build(tmp_path: Path) -> None:
    script = ROOT / "scripts" / "screenshots.py"
    subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path), "--site", str(SAMPLE)],
        check=True,
        capture_output=True,
    )
    for name in ("index.png", "digest.png"):
        width, height = _png_size(tmp_path / name)
        assert width == 900
        assert height > 500
        assert (tmp_path / name).stat().st_size < 300_000


def test_shell_completion_works_as_the_commands_page_says(tmp_path: Path) -> None:
    for shell in ("bash", "zsh", "fish"):
        assert f"_PUBLISHER_COMPLETE={shell}_source publisher" in COMMANDS_PAGE
    script = subprocess.run(
        [str(PUBLISHER)],
        env={**os.environ, "_PUBLISHER_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (tmp_path / "publisher-complete.bash").write_text(script)
    # Complete as bash does on <Tab>: an empty COMPREPLY, the words so far, then the function.
    probe = (
        f". {tmp_path / 'publisher-complete.bash'}\n"
        "COMPREPLY=(); COMP_WORDS=(publisher subscribers list --status a); COMP_CWORD=4\n"
        f"_publisher_completion {PUBLISHER}\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
        "COMPREPLY=(); COMP_WORDS=(publisher dig); COMP_CWORD=1\n"
        f"_publisher_completion {PUBLISHER}\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", probe], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["active", "digest"]


def test_the_docs_build_fails_on_a_broken_anchor(tmp_path: Path) -> None:
    """`make docs` runs mkdocs as written in the Makefile; a link to a missing anchor fails it."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ndocs:", 1)[1].split("\n\t", 1)[1].split("\n", 1)[0]
    argv = recipe.replace("$(BIN)/", f"{Path(sys.executable).parent}/").split()
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path)
    with (tmp_path / "docs" / "index.md").open("a", encoding="utf-8") as index:
        index.write("\nSee [nowhere](configuration.md#no-such-table).\n")
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode != 0
    assert "#no-such-table" in done.stderr
