"""Shared fixtures: a copy of the sample site in a temporary folder, and a fixed clock."""

from __future__ import annotations

import base64
import logging
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from publisher.core.config import Config, load_config

pytest_plugins = ["tests.smtp_sink", "tests.jekyll_peer", "tests.hugo_peer"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2024, 6, 20, 9, 0, tzinfo=SEOUL)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files under tests/golden from the current output",
    )


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    """The sample site (config.toml, content/, templates/) copied into tmp_path."""
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return tmp_path


@pytest.fixture
def config(site_dir: Path) -> Config:
    return load_config(site_dir / "config.toml")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`publisher` commands configure the root logger; undo that after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def openssl(*args: str) -> bytes:
    return subprocess.run(["openssl", *args], check=True, capture_output=True).stdout


@pytest.fixture(scope="session")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A throwaway 2048-bit key made for this test run, and its DNS TXT record."""
    if shutil.which("openssl") is None:
        pytest.fail("the DKIM tests need the openssl command to make a throwaway key")
    path = tmp_path_factory.mktemp("dkim") / "test-only-dkim.pem"
    openssl("genrsa", "-out", str(path), "2048")
    public = openssl("rsa", "-in", str(path), "-pubout", "-outform", "DER")
    return path, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
