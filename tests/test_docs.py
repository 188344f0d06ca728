"""The README documents every command, setting and exit code, and its commands are real."""

from __future__ import annotations

import re

import click

from publisher.cli import cli
from publisher.core.config import TABLES, documented_settings
from publisher.core.errors import ExitCode
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


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


def test_every_command_has_help_text_and_is_in_the_readme() -> None:
    commands = _commands(cli)
    assert len(commands) >= 11
    for path, command in commands:
        assert (command.help or "").strip(), f"{path} has no help text"
        assert f"`{path}" in README, f"{path} is not in README.md"


def test_every_option_of_every_command_is_in_the_readme() -> None:
    for path, command in [("publisher", cli), *_commands(cli)]:
        for parameter in command.params:
            if isinstance(parameter, click.Option) and parameter.name != "help":
                assert parameter.help, f"{path} {parameter.opts[0]} has no help text"
                flag = max(parameter.opts, key=len)
                assert flag in README, f"{path} {flag} is not in README.md"


def test_every_setting_is_in_the_readme_under_its_table() -> None:
    sections = re.split(r"\*\*\[(\w+)\]\*\*", README)
    by_table = dict(zip(sections[1::2], sections[2::2], strict=True))
    assert set(by_table) >= set(TABLES)
    for table, key, _default, doc in documented_settings():
        assert doc.strip(), f"[{table}] {key} has no documentation"
        assert f"| `{key}` |" in by_table[table], f"[{table}] {key} is not in README.md"


def test_every_exit_code_is_in_the_readme() -> None:
    table = README.split("## Exit codes", 1)[1].split("##", 1)[0]
    for code in ExitCode:
        assert f"| {int(code)} |" in table, f"exit code {int(code)} is not in README.md"


def test_the_quick_start_has_exactly_the_two_make_commands() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = quick_start.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
