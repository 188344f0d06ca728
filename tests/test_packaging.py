"""The wheel is complete: built from the repository and installed in a fresh virtualenv, it
makes, builds and previews a new site with nothing from the source tree.

No network: the wheel is built without build isolation (setuptools is in the test
extra), installed with `--no-deps --no-index`, and the new virtualenv finds the
third-party libraries in this one's site-packages through a .pth file, while
publisher itself can only come from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
WHEEL_SOURCES = ("pyproject.toml", "README.md", "LICENSE", "publisher", "templates")


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {
        ".".join(folder.relative_to(ROOT).parts)
        for folder in (ROOT / "publisher").rglob("*")
        if folder.is_dir() and any(folder.glob("*.py"))
    } | {"publisher"}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - found == {"publisher.templates"}, "pyproject lists a package that is gone"
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"publisher.templates": "templates"}


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of what it is made of (the build writes beside it)."""
    source = tmp_path_factory.mktemp("source")
    for name in WHEEL_SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "--quiet", "--wheel-dir", out, source, cwd=out,
    )  # fmt: skip
    (built,) = out.glob("publisher-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding only the wheel, and this one's libraries on its path."""
    folder = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--without-pip", folder, cwd=folder)
    python = folder / "bin" / "python"
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
        "--quiet", wheel, cwd=folder,
    )  # fmt: skip
    purelib = _run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=folder
    )
    libraries = sysconfig.get_paths()["purelib"]
    Path(purelib.strip(), "libraries-of-the-test-venv.pth").write_text(libraries + "\n")
    return folder


def _clean_environment(venv: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL"))}
    environment["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    return environment


def test_publisher_comes_from_the_wheel_with_its_templates(venv: Path, tmp_path: Path) -> None:
    probe = (
        "import publisher, publisher.sources.jekyll, publisher.sources.hugo, publisher.scaffold\n"
        "from publisher.render.template_files import builtin_templates\n"
        "print(publisher.__file__); print(builtin_templates()); print(publisher.__version__)\n"
    )
    where, templates, version = _run(
        venv / "bin" / "python", "-c", probe, cwd=tmp_path, env=_clean_environment(venv)
    ).splitlines()
    assert Path(where).is_relative_to(venv), where
    assert Path(templates) == Path(where).parent / "templates"
    assert version == PYPROJECT["project"]["version"]
    shipped = {p.relative_to(templates).as_posix() for p in Path(templates).rglob("*.*")}
    in_repository = {
        p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.*")
    }
    assert shipped == in_repository


def test_the_wheel_runs_init_build_and_preview_outside_the_repository(
    venv: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = _clean_environment(venv)
    publisher = venv / "bin" / "publisher"
    site = tmp_path / "x"

    made = _run(publisher, "init", site, cwd=elsewhere, env=environment)
    assert f"wrote {site / 'config.toml'}" in made
    built = _run(publisher, "build", cwd=site, env=environment)
    preview = _run(publisher, "digest", "--preview", cwd=site, env=environment)

    assert built.startswith("built 1 post: 7 files written")
    assert preview.strip() == f"preview written to {site / 'outbox' / 'preview'}"
    for output in ("public/index.html", "public/feed.atom", "public/feed.json",
                   "outbox/preview/preview.html", "outbox/preview/preview.eml"):  # fmt: skip
        assert (site / output).is_file(), output
    assert "Welcome to x" in (site / "public" / "index.html").read_text(encoding="utf-8")
    assert not list(elsewhere.iterdir()), "init wrote where it was run, not into its folder"
