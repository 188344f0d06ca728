"""`publisher init`: a new site in a folder, written beside what is there, never over it.

What kind of site a folder already holds is found through SCAFFOLDS, first match
wins; the folder of posts is the fallback. Each entry names the function that plans
the files for its kind ("module:function", imported when used). A folder that looks
like a kind publisher cannot read yet (its Source is not in
publisher.sources.SOURCES, or it has no planner) is refused with a clear message
instead of being scaffolded as something else.

A new kind is one planner module and one line here:
    Scaffold("jekyll", "a Jekyll site", jekyll_evidence, "publisher.sources.jekyll.scaffold:plan")
"""

from __future__ import annotations

import importlib
import os
import shlex
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from publisher.core.config import CONFIG_NAMES
from publisher.core.errors import ConfigError, PublisherError
from publisher.scaffold.detect import hugo_evidence, jekyll_evidence
from publisher.scaffold.plan import SitePlan


@dataclass(frozen=True)
class Scaffold:
    kind: str
    """The [source] kind of the sites it makes a config for."""
    looks_like: str
    """What init calls such a folder: "a Jekyll site"."""
    evidence: Callable[[Path], str | None]
    """Why a folder is of this kind ("it has _config.yml"), or None when it is not."""
    planner: str | None
    """"module:function" taking (folder, now) and returning a SitePlan; None until this
    kind can be scaffolded."""


def _always(_folder: Path) -> str:
    return "anything else is a folder of posts"


SCAFFOLDS: tuple[Scaffold, ...] = (
    Scaffold("jekyll", "a Jekyll site", jekyll_evidence, "publisher.sources.jekyll.scaffold:plan"),
    Scaffold("hugo", "a Hugo site", hugo_evidence, "publisher.sources.hugo.scaffold:plan"),
    Scaffold("folder", "a folder of posts", _always, "publisher.scaffold.folder:folder_site"),
)
"""Checked in order; the last one matches every folder."""


@dataclass(frozen=True)
class InitReport:
    folder: Path
    kind: str
    written: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    """(file, why it was not written)."""
    commands: tuple[str, ...]
    """The next commands to run, from where init was run."""

    def lines(self) -> list[str]:
        lines = [f"wrote {name}" for name in self.written]
        lines += [f"skipped {name}: {why}" for name, why in self.skipped]
        lines.append("next:")
        lines += [f"  {command}" for command in self.commands]
        return lines


def choose_scaffold(folder: Path) -> tuple[Scaffold, str]:
    """The first scaffold whose kind `folder` holds, with the evidence."""
    for scaffold in SCAFFOLDS:
        if (evidence := scaffold.evidence(folder)) is not None:
            return scaffold, evidence
    raise AssertionError("the last scaffold matches every folder")


def _planner(scaffold: Scaffold, evidence: str) -> Callable[[Path, datetime], SitePlan]:
    from publisher.sources import SOURCES

    if scaffold.kind not in SOURCES:
        raise ConfigError(
            f"this looks like {scaffold.looks_like} ({evidence}); "
            f'[source] kind = "{scaffold.kind}" is not available in this version',
            hint="run `publisher init` in an empty folder for a folder of posts, "
            "or upgrade publisher",
        )
    if scaffold.planner is None:
        raise ConfigError(
            f"this looks like {scaffold.looks_like} ({evidence}); "
            f"`publisher init` cannot write its config yet",
            hint=f'write config.toml yourself with [source] kind = "{scaffold.kind}" '
            "(see docs/configuration.md)",
        )
    module, _, name = scaffold.planner.partition(":")
    planner: Callable[[Path, datetime], SitePlan] = getattr(importlib.import_module(module), name)
    return planner


def init_site(folder: Path, now: datetime, cwd: Path | None = None) -> InitReport:
    """Write a new site into `folder` (made if missing), skipping every file that exists."""
    cwd = (cwd or Path.cwd()).resolve()
    folder = (cwd / folder).resolve()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} is a file, not a folder", hint="give a folder to init")
    scaffold, evidence = choose_scaffold(folder) if folder.is_dir() else (SCAFFOLDS[-1], "")
    plan = _planner(scaffold, evidence)(folder, now)
    written: list[str] = []
    skipped: list[tuple[str, str]] = []
    for planned in plan.files:
        path = folder / planned.path
        shown = _shown(path, cwd)
        if path.exists() or path.is_symlink():
            skipped.append((shown, "it already exists"))
        elif planned.skip_reason and (why := planned.skip_reason(folder)):
            skipped.append((shown, why))
        elif _create(path, planned.text.encode("utf-8")):
            written.append(shown)
        else:
            skipped.append((shown, "it appeared while init ran"))
    return InitReport(
        folder, scaffold.kind, tuple(written), tuple(skipped), _next_commands(folder, plan, cwd)
    )


def _shown(path: Path, cwd: Path) -> str:
    return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)


def _next_commands(folder: Path, plan: SitePlan, cwd: Path) -> tuple[str, ...]:
    publisher = "publisher"
    if plan.config not in CONFIG_NAMES:  # found without --config
        publisher += f" --config {shlex.quote(plan.config)}"
    first = f"cd {shlex.quote(_shown(folder, cwd))}" if folder != cwd else f"{publisher} check"
    return (first, f"{publisher} build", f"{publisher} digest --preview")


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _create(path: Path, data: bytes) -> bool:
    """Write a new file at `path` whole or not at all; False when one is already there."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as e:
        raise PublisherError(f"cannot write {path}: {e.strerror}") from e
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _file_mode())
        os.link(temporary, path)  # fails if the name exists: never replaces a file
        return True
    except FileExistsError:
        return False
    except OSError as e:
        raise PublisherError(f"cannot write {path}: {e.strerror}") from e
    finally:
        os.unlink(temporary)
