"""deploy/: the systemd units pass `systemd-analyze verify`, are hardened, and run real commands."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import cli
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
UNITS = sorted(p for p in DEPLOY.iterdir() if p.suffix in {".service", ".timer"})
SERVICES = [p for p in UNITS if p.suffix == ".service"]
INSTALLED = "/opt/publisher/venv/bin/publisher"


def _settings(unit: Path) -> dict[str, list[str]]:
    """Every `Key=value` of a unit file, in order, keys repeated as systemd allows."""
    settings: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def _publisher_arguments(command_line: str) -> list[str]:
    words = shlex.split(command_line)
    assert words[0] == INSTALLED, command_line
    return words[1:]


COMMANDS = {"run", "build", "schedule", "serve"}


def _assert_is_a_real_command(arguments: list[str]) -> None:
    """The words name a command and options the CLI has: with --help added they parse."""
    command = next(word for word in arguments if word in COMMANDS)
    result = CliRunner().invoke(cli, [*arguments, "--help"], prog_name="publisher")
    assert result.exit_code == 0, result.output
    assert f"Usage: publisher {command} " in result.output


def test_there_are_the_run_timer_and_the_schedule_service() -> None:
    names = {unit.name for unit in UNITS}
    assert {"publisher-run.service", "publisher-run.timer", "publisher-schedule.service"} <= names
    assert (DEPLOY / "crontab.example").is_file()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is missing")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify insists that ExecStart's program exists, and the units name where it is
    # installed on a server (/opt/publisher/venv). Copies pointing at this checkout's
    # entry point are verified instead; nothing else in them changes.
    here = Path(sys.executable).parent / "publisher"
    assert here.is_file()
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8").replace(INSTALLED, str(here))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / unit.name) for unit in UNITS)],
        capture_output=True,
        text=True,
        check=False,
    )
    # verify exits 0 even for unknown keys and bad values; it only warns. Any output is a fault.
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("service", SERVICES, ids=lambda p: p.name)
def test_services_are_hardened_and_write_only_their_folders(service: Path) -> None:
    settings = _settings(service)
    assert settings["User"] == ["publisher"]
    assert settings["NoNewPrivileges"] == ["yes"]
    assert settings["ProtectSystem"] == ["strict"]
    assert settings["ProtectHome"] == ["yes"]
    assert settings["PrivateTmp"] == ["yes"]
    assert settings["CapabilityBoundingSet"] == [""]
    writable = " ".join(settings["ReadWritePaths"]).split()
    assert writable[0] == "/srv/publisher/state"
    assert set(writable) <= {f"/srv/publisher/{name}" for name in ("state", "public", "outbox")}
    if service.name != "publisher-web.service":  # the web endpoint never writes the feeds
        assert "/srv/publisher/public" in writable


@pytest.mark.parametrize("service", SERVICES, ids=lambda p: p.name)
def test_services_have_a_memory_and_a_task_limit(service: Path) -> None:
    """Reproduces issue 12, item 1: the units set no memory limit, so one post that ran the
    parser out of memory took the whole machine with it."""
    settings = _settings(service)
    (memory,) = settings["MemoryMax"]
    (tasks,) = settings["TasksMax"]
    assert re.fullmatch(r"\d+[MG]", memory), memory
    assert 128 <= int(memory[:-1]) * (1024 if memory.endswith("G") else 1) <= 4096
    assert 16 <= int(tasks) <= 256


def test_the_schedule_service_restarts_on_failure_and_stops_with_sigterm() -> None:
    settings = _settings(DEPLOY / "publisher-schedule.service")
    assert settings["Restart"] == ["on-failure"]
    assert settings["KillSignal"] == ["SIGTERM"]
    assert settings["RestartPreventExitStatus"] == ["2"]
    assert settings["Type"] == ["simple"]


def test_the_run_service_is_a_oneshot_started_by_its_timer() -> None:
    assert _settings(DEPLOY / "publisher-run.service")["Type"] == ["oneshot"]
    timer = _settings(DEPLOY / "publisher-run.timer")
    assert timer["OnCalendar"] and timer["Persistent"] == ["yes"]


@pytest.mark.parametrize("service", SERVICES, ids=lambda p: p.name)
def test_service_commands_exist_in_the_cli(service: Path) -> None:
    (command_line,) = _settings(service)["ExecStart"]
    arguments = _publisher_arguments(command_line)
    _assert_is_a_real_command(arguments)


def test_crontab_example_lines_are_five_fields_and_a_real_command() -> None:
    entries = [
        line
        for line in (DEPLOY / "crontab.example").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(entries) == 1
    for entry in entries:
        fields = entry.split(None, 5)
        assert len(fields) == 6, entry
        command = fields[5].split(">", 1)[0]
        _assert_is_a_real_command(_publisher_arguments(command))
