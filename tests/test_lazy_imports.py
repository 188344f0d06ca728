"""Commands import only what they use: `--help`, a build with nothing to do and a `run`
with nothing due stay fast because the heavy libraries are never loaded.

Each command runs in a fresh process (imports cannot be undone in this one), which
reports every module it ended up with. No timing is measured here: see
benchmarks/cli_bench.py for the figures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from publisher.build.process import MEMO_NAME
from tests.conftest import FIXTURES, NOW, SAMPLE

PROBE = """
import json, os, sys
from publisher.cli import main
sys.argv = ["publisher", *json.loads(os.environ["PROBE_ARGUMENTS"])]
try:
    main()
    code = 0
except SystemExit as stop:
    code = stop.code or 0
with open(os.environ["PROBE_REPORT"], "w") as report:
    json.dump({"code": code, "modules": sorted(sys.modules)}, report)
"""
HEAVY_FOR_HELP = ("premailer", "apscheduler", "starlette", "dkim", "feedgen")
ALSO_NEVER_FOR_HELP = ("jinja2", "lxml", "yaml", "uvicorn", "markdown_it", "nh3")
RENDERING = ("feedgen", "jinja2", "premailer", "markdown_it", "nh3", "liquid", "dkim")
"""What writing feeds, pages and mail needs: never loaded when nothing changed."""
FINGERPRINTING = ("lxml", "yaml", "frontmatter", "slugify", "importlib.metadata")
"""What working out the build cache's fingerprint takes, once remembered."""


def imported(cwd: Path, *arguments: str) -> set[str]:
    """The modules a `publisher ARGUMENTS` process imported (it must exit 0)."""
    report = cwd / "probe.json"
    environment = {
        **os.environ,
        "PROBE_ARGUMENTS": json.dumps(arguments),
        "PROBE_REPORT": str(report),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=cwd, env=environment, capture_output=True, text=True
    )
    found = json.loads(report.read_text())
    report.unlink()
    assert found["code"] == 0, done.stdout + done.stderr
    return set(found["modules"])


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in names or m in names)


def test_help_imports_no_command_work(tmp_path: Path) -> None:
    modules = imported(tmp_path, "--help")
    assert "publisher.cli.digest" in modules, "the probe did not list the commands"
    assert loaded(modules, HEAVY_FOR_HELP + ALSO_NEVER_FOR_HELP) == []
    assert not [m for m in modules if m.startswith(("publisher.newsletter", "publisher.build"))]


@pytest.fixture(scope="module")
def settled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test site after a first `run` (built, digest sent) and with the fingerprint
    remembered: a note is not written while publisher's files are less than two seconds
    old, as right after an edit."""
    site = tmp_path_factory.mktemp("settled")
    shutil.copy(SAMPLE / "config.toml", site / "config.toml")
    shutil.copytree(SAMPLE / "content", site / "content")
    first = imported(site, *_at(site), "run")
    assert "publisher.newsletter.delivery" in first, "the first run sends the first digest"
    for _ in range(5):
        if (site / "state" / MEMO_NAME).exists():
            break
        time.sleep(1)
        imported(site, *_at(site), "build")
    assert (site / "state" / MEMO_NAME).exists(), "the fingerprint was never remembered"
    return site


def _at(site: Path) -> list[str]:
    return ["--config", str(site / "config.toml"), "--now", NOW.isoformat()]


RENDERERS = ("markdown_it", "mdit_py_plugins", "liquid", "nh3", "lxml", "feedgen", "jinja2")
"""What reading and rendering a Jekyll or Hugo site's posts needs (yaml and tomllib read
the site's own config, which every build does)."""


@pytest.fixture(scope="module", params=["jekyll", "hugo"])
def settled_site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Jekyll or Hugo fixture site built, with the fingerprint remembered."""
    kind = str(request.param)
    site = tmp_path_factory.mktemp(f"settled-{kind}")
    fixture = {"jekyll": FIXTURES / "jekyll" / "kitchen", "hugo": FIXTURES / "hugo" / "blog"}
    shutil.copytree(fixture[kind], site / "site")
    (site / "config.toml").write_text(
        f'[source]\nkind = "{kind}"\npath = "site"\n', encoding="utf-8"
    )
    first = imported(site, *_at(site), "build")
    assert "publisher.sources.loading" in first and "markdown_it" in first
    for _ in range(5):
        if (site / "state" / MEMO_NAME).exists():
            break
        time.sleep(1)
        imported(site, *_at(site), "build")
    assert (site / "state" / MEMO_NAME).exists(), "the fingerprint was never remembered"
    return site


def test_a_jekyll_or_hugo_build_with_nothing_to_do_imports_no_renderer(
    settled_site: Path,
) -> None:
    modules = imported(settled_site, *_at(settled_site), "build")
    assert "publisher.build.pipeline" in modules and "publisher.sources" in modules
    assert loaded(modules, RENDERERS) == []
    assert "publisher.sources.loading" not in modules


def test_a_build_with_nothing_to_do_imports_no_renderer_or_parser(settled: Path) -> None:
    modules = imported(settled, *_at(settled), "build")
    assert "publisher.build.pipeline" in modules
    assert loaded(modules, RENDERING) == []
    assert loaded(modules, FINGERPRINTING) == []
    assert "publisher.sources.loading" not in modules


def test_a_run_with_nothing_due_sends_and_renders_nothing(settled: Path) -> None:
    modules = imported(settled, *_at(settled), "run")
    assert "apscheduler" in modules, "the probe did not see the schedule being read"
    # apscheduler itself imports importlib.metadata (for its version)
    parsing = tuple(name for name in FINGERPRINTING if name != "importlib.metadata")
    assert loaded(modules, RENDERING + parsing + ("starlette", "uvicorn")) == []
    assert "publisher.newsletter.delivery" not in modules


def test_a_changed_post_still_loads_what_it_needs(settled: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(settled, site)
    post = site / "content" / "000_33ead81f7d4f35ee.txt"
    post.write_bytes(post.read_bytes() + b"\n<p>An edit.</p>\n")
    modules = imported(site, *_at(site), "build")
    assert {"publisher.sources.loading", "feedgen", "jinja2", "yaml"} <= modules
