"""The state folder holds readers' addresses, the ledger and the signing secret: one
publisher creates is for its owner only, whatever the umask; one that exists keeps its mode."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import cli
from tests.conftest import NOW


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run(site_dir: Path, *arguments: str) -> None:
    config = str(site_dir / "config.toml")
    result = CliRunner().invoke(cli, ["--config", config, "--now", NOW.isoformat(), *arguments])
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("open_umask")
def test_the_state_folder_a_build_and_a_digest_create_is_readable_by_its_owner_only(
    site_dir: Path,
) -> None:
    state = site_dir / "state"
    assert not state.exists()
    _run(site_dir, "build")
    assert _mode(state) == 0o700
    _run(site_dir, "digest")
    assert (state / "publisher.sqlite3").is_file()
    assert _mode(state) == 0o700


@pytest.mark.usefixtures("open_umask")
def test_a_state_folder_that_exists_keeps_the_mode_its_operator_gave_it(site_dir: Path) -> None:
    state = site_dir / "state"
    state.mkdir(mode=0o750)
    _run(site_dir, "build")
    assert _mode(state) == 0o750
