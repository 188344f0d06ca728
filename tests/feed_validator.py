"""The W3C Feed Validator on local files, through ../shared/tools/feedvalidator/validate.py.

The validator's own source is never in this repository: it is unpacked at
FEEDVALIDATOR_HOME (default /opt/feedvalidator). Tests that need it skip when the
script or the validator is absent (PUBLISHER_SHARED names another shared/ folder).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED

DEFAULT_HOME = Path("/opt/feedvalidator")
_ERRORS = re.compile(r"\): (\d+) error\(s\)")


def _script() -> Path:
    shared = Path(os.environ.get("PUBLISHER_SHARED", SHARED))
    return shared / "tools" / "feedvalidator" / "validate.py"


def _home() -> Path:
    return Path(os.environ.get("FEEDVALIDATOR_HOME", DEFAULT_HOME))


def require_validator() -> None:
    if not _script().is_file():
        pytest.skip(f"the feed validator script is not at {_script()}")
    if not (_home() / "src").is_dir():
        pytest.skip(f"the W3C Feed Validator is not unpacked at {_home()}")


def validate(path: Path, url: str) -> tuple[int, str]:
    """(errors, report) for one feed file served at `url`."""
    done = subprocess.run(
        [sys.executable, str(_script()), "--base", url, str(path)],
        env={**os.environ, "FEEDVALIDATOR_HOME": str(_home())},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode == 2:
        pytest.fail(f"the feed validator could not run: {done.stdout}{done.stderr}")
    errors = sum(int(n) for n in _ERRORS.findall(done.stdout))
    return errors, done.stdout + done.stderr
