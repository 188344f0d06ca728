"""Shared fixtures: a copy of the test site in a temporary folder, and a fixed clock.

The tests own their sites: they are built from tests/fixtures/, never from the
repository's own sample (its top-level config.toml, content/ and examples/), which
stays the user's to edit. A guard below fails any test that reads the sample.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from publisher.core.config import Config
from publisher.render.template_files import builtin_templates
from publisher.site_config import load_config

pytest_plugins = ["tests.smtp_sink", "tests.jekyll_peer", "tests.hugo_peer", "tests.imap_server"]

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE = FIXTURES / "sample"
"""The test site: the sample's config.toml and its five posts, byte for byte, and the
sample's subscriber list; the goldens under tests/golden/ are built from it."""
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2024, 6, 20, 9, 0, tzinfo=SEOUL)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files under tests/golden from the current output",
    )


USER_SAMPLE = tuple(os.fspath(ROOT / name) for name in ("config.toml", "content", "examples"))
"""The repository's own sample site: the user's to edit, so no test may read it."""
SAMPLE_READS: list[str] = []
"""What this process read of USER_SAMPLE since the last test ended."""
_INSIDE_USER_SAMPLE = tuple(path + os.sep for path in USER_SAMPLE)
_WATCHED_EVENTS = frozenset({"open", "os.listdir", "os.scandir"})


def _notice_sample_reads(event: str, args: tuple[object, ...]) -> None:
    if event not in _WATCHED_EVENTS or not args or isinstance(args[0], int) or args[0] is None:
        return
    try:
        path = os.path.abspath(os.fsdecode(args[0]))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return
    if path in USER_SAMPLE or path.startswith(_INSIDE_USER_SAMPLE):
        SAMPLE_READS.append(f"{event} {path}")


sys.addaudithook(_notice_sample_reads)


@pytest.fixture(autouse=True)
def _tests_never_read_the_sample() -> Iterator[None]:
    """Fails a test (at teardown) that opened or listed the repository's sample site."""
    SAMPLE_READS.clear()
    yield
    if SAMPLE_READS:
        found, SAMPLE_READS[:] = list(SAMPLE_READS), []
        pytest.fail(
            "the test read the repository's sample site, which users edit; "
            f"use the fixtures under tests/fixtures/ instead: {found[:3]}"
        )


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    """The test site copied into tmp_path: config.toml and content/ from
    tests/fixtures/sample, and templates/ holding a copy of the built-in templates."""
    shutil.copy(SAMPLE / "config.toml", tmp_path / "config.toml")
    shutil.copytree(SAMPLE / "content", tmp_path / "content")
    shutil.copytree(builtin_templates(), tmp_path / "templates")
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
