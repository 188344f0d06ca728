"""Command-line benchmark: how long a person or cron waits, as process wall time.

Each figure is the median wall time of a fresh `publisher` process, started as a
person starts it (the installed script), against `python -c pass` from the same
interpreter in the same run. Rounds interleave the floor and every command, so
load from elsewhere on the machine falls on all of them alike. The targets of
issue 9 are absolute (a 2-core machine): `publisher --help` <= 0.12 s, a build
with nothing to do <= 0.15 s for the 5-post sample and <= 0.3 s for 10,000 posts,
and `publisher run` with nothing due <= 0.3 s.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.corpus import NOW, make_site
from benchmarks.measure import ROOT, BenchmarkError, seconds_text, table
from benchmarks.measure import verdict as verdict_text

SAMPLE = ROOT / "tests" / "fixtures" / "sample"
"""The five sample posts and their config (the tests' copy, which users do not edit)."""
FLOOR = "python -c pass"


@dataclass
class Command:
    name: str
    argv: list[str]
    target: float | None = None
    expect: str = ""
    """Text the command must print, or the figure is not what it claims to be."""
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    """User plus system time of each process: what the machine's other work moves less."""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _sample_site(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy(SAMPLE / "config.toml", folder / "config.toml")
    shutil.copytree(SAMPLE / "content", folder / "content")
    return folder / "config.toml"


def environment() -> dict[str, str]:
    """As a person runs publisher: no PYTHONPATH (it would shadow the installation
    measured), and bytecode caches written and used (some shells turn them off)."""
    drop = ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    return {key: value for key, value in os.environ.items() if key not in drop}


def _run(argv: Sequence[str], cwd: Path, expect: str = "") -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process, which must exit 0 printing `expect`."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=environment(), stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if code != 0 or expect not in stdout:
        raise BenchmarkError(
            f"{' '.join(argv)} exited {code}"
            + (f", without printing {expect!r}" if expect not in stdout else "")
            + f":\n{stdout}{stderr}"
        )
    return wall, usage.ru_utime + usage.ru_stime


def commands(python: Path, sample: Path, big: Path, posts: int) -> list[Command]:
    publisher = str(python.parent / "publisher")
    at = ["--now", NOW.isoformat()]
    return [
        Command(FLOOR, [str(python), "-c", "pass"]),
        Command("publisher --help", [publisher, "--help"], 0.12, "Usage: publisher"),
        Command(
            "build, 5 posts, nothing changed",
            [publisher, "--config", str(sample), *at, "build"],
            0.15,
            " 0 files written",
        ),
        Command(
            f"build, {posts:,} posts, nothing changed",
            [publisher, "--config", str(big), *at, "build"],
            0.30 if posts == 10_000 else None,
            " 0 files written",
        ),
        Command(
            "run, nothing due",
            [publisher, "--config", str(sample), *at, "run"],
            0.30,
            "digest not due",
        ),
    ]


def prepare(python: Path, folder: Path, corpus: Path, posts: int) -> list[Command]:
    """This installation's copies of the two sites built, the sample's digest sent, and
    every command run once (which also settles its caches)."""
    sample = _sample_site(folder / "sample")
    big = folder / "big"
    shutil.rmtree(big, ignore_errors=True)
    shutil.copytree(corpus, big)
    found = commands(python, sample, big / "config.toml", posts)
    publisher = str(python.parent / "publisher")
    for argv in (
        [publisher, "--config", str(sample), "subscribers", "add", "reader@example.org"],
        [publisher, "--config", str(sample), "--now", NOW.isoformat(), "run"],
        # The run's digest made the archive's first issue: this build links it in index.html.
        [publisher, "--config", str(sample), "--now", NOW.isoformat(), "build"],
        [publisher, "--config", str(big / "config.toml"), "--now", NOW.isoformat(), "build"],
    ):
        _run(argv, folder)
    for command in found:
        _run(command.argv, folder, command.expect)
    return found


def report(found: list[Command], python: Path, repeats: int) -> str:
    floor = found[0].median
    rows = []
    for command in found:
        met = "" if command.target is None else verdict_text(command.median <= command.target)
        rows.append(
            [
                command.name,
                seconds_text(command.median),
                seconds_text(min(command.seconds)),
                seconds_text(max(command.seconds)),
                f"{command.median / floor:.2f}",
                seconds_text(max(0.0, command.median - floor)),
                seconds_text(statistics.median(command.cpu)),
                f"<= {command.target:g} s" if command.target else "",
                met,
            ]
        )
    headers = [
        "command", "median", "min", "max", "x floor", "- floor", "cpu", "target", "verdict"
    ]  # fmt: skip
    lines = [
        f"cli: process wall time of {python.parent / 'publisher'}; {repeats} rounds",
        table(headers, rows),
    ]
    return "\n".join(lines)


def run(
    repeats: int,
    workdir: Path,
    *,
    posts: int = 10_000,
    seed: int = 1,
    pythons: Sequence[Path] = (),
    keep: bool = False,
) -> dict[Path, list[Command]]:
    """Every command of every installation (the Pythons whose `publisher` script is timed;
    default this one), interleaved round by round so that they share the machine's mood."""
    # Absolute, not resolved: a virtualenv's python is a link out of it.
    pythons = [Path(os.path.abspath(python)) for python in pythons or [sys.executable]]
    for python in pythons:
        if not (python.parent / "publisher").exists():
            raise BenchmarkError(f"no publisher script beside {python}")
    corpus = make_site(workdir / "cli-corpus", posts, seed=seed).folder
    found = {
        python: prepare(python, workdir / f"cli-{number}", corpus, posts)
        for number, python in enumerate(pythons)
    }
    for _ in range(repeats):
        for each in found.values():
            for command in each:
                wall, cpu = _run(command.argv, workdir, command.expect)
                command.seconds.append(wall)
                command.cpu.append(cpu)
    for python, each in found.items():
        print(report(each, python, repeats), end="\n\n", flush=True)
    if not keep:
        for name in ["cli-corpus", *(f"cli-{n}" for n in range(len(pythons)))]:
            shutil.rmtree(workdir / name, ignore_errors=True)
    return found
