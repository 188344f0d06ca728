"""The tests own their sites: the repository's sample is the user's to edit.

Two checks, either of which fails when a test starts reading the sample again:
the guard in tests/conftest.py (an audit hook on file opens and folder listings
in this process), and a run of tests in a copy of the repository whose sample
was broken on purpose (which also sees what subprocesses read).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SAMPLE, SAMPLE_READS

NOT_COPIED_ANYWHERE = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
NOT_COPIED_AT_THE_TOP = {".git", ".venv", "publisher.egg-info", "public", "state", "outbox", "site"}
NOT_COPIED_AT_THE_TOP |= {"build", "dist", "config.toml", "content", "examples"}
"""Generated files, and the sample itself: the copy gets an edited one instead."""


def _not_copied(folder: str, names: list[str]) -> set[str]:
    skipped = NOT_COPIED_AT_THE_TOP if Path(folder) == ROOT else set()
    return {name for name in names if name in NOT_COPIED_ANYWHERE or name in skipped}


TESTS_THAT_BUILD_THE_SAMPLE = [
    "tests/test_config.py",
    "tests/test_html.py",
    "tests/test_feeds.py::test_sample_output_matches_the_golden_files",
    "tests/test_feeds.py::test_sample_site_writes_every_feed_and_the_index",
    "tests/test_run.py::test_run_builds_the_feeds_and_writes_the_digest_to_the_outbox",
    "tests/test_fixtures.py::test_the_guard_notices_reads_of_the_repository_sample",
]
"""A fast subset that loads, builds, mails and compares the test site with its goldens."""


def test_the_guard_notices_reads_of_the_repository_sample() -> None:
    (ROOT / "config.toml").read_bytes()
    sorted((ROOT / "content").iterdir())
    os.listdir(ROOT / "examples")
    (SAMPLE / "config.toml").read_bytes()  # the test site is fine
    noticed, SAMPLE_READS[:] = list(SAMPLE_READS), []
    assert noticed == [
        f"open {ROOT / 'config.toml'}",
        f"os.listdir {ROOT / 'content'}",
        f"os.listdir {ROOT / 'examples'}",
    ]


def test_the_test_site_starts_as_the_sample_and_templates_are_the_built_ins(
    site_dir: Path,
) -> None:
    names = sorted(p.name for p in (SAMPLE / "content").iterdir())
    assert names == [f"00{n}_{suffix}.txt" for n, suffix in enumerate(SEED_SUFFIXES)]
    assert sorted(p.name for p in (site_dir / "content").iterdir()) == names
    assert (site_dir / "templates" / "site" / "index.html.j2").is_file()
    assert not (SAMPLE / "templates").exists(), "templates come from the built-ins"


SEED_SUFFIXES = (
    "33ead81f7d4f35ee",
    "40ba9e1f7efbd4e6",
    "11b916df22095a78",
    "18c479dca78b9d3b",
    "5bc091069e92d6b7",
)


def _write_an_edited_sample(root: Path) -> None:
    """What a user might make of the sample: other posts, another config, other readers."""
    (root / "content").mkdir()
    (root / "examples").mkdir()
    (root / "content" / "mine.md").write_text(
        "---\ntitle: My own post\ndate: 2030-01-01\n", encoding="utf-8"
    )  # its front matter is not even closed
    (root / "config.toml").write_text(
        '[site]\ntitle = "Mine"\nbase_url = "not a url"\nlanguage = "xx-"\n[mystery]\n',
        encoding="utf-8",
    )
    (root / "examples" / "subscribers.csv").write_text("nobody\n", encoding="utf-8")


def test_editing_the_sample_site_breaks_no_test(tmp_path: Path) -> None:
    copy = tmp_path / "repository"
    shutil.copytree(ROOT, copy, ignore=_not_copied, symlinks=True)
    _write_an_edited_sample(copy)
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    broken = subprocess.run(
        [sys.executable, "-m", "publisher", "check"],
        cwd=copy,
        capture_output=True,
        text=True,
        env=environment,
    )
    assert broken.returncode == 2, "the edited sample should be unusable"

    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"]
    run = subprocess.run(
        pytest + TESTS_THAT_BUILD_THE_SAMPLE,
        cwd=copy,
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout and " failed" not in run.stdout
