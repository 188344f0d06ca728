"""Running a measurement in a child process, and summarising repeats into a table."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class BenchmarkError(RuntimeError):
    pass


@dataclass(frozen=True)
class Sample:
    """One child process: what it reported, its wall time and its peak RSS."""

    data: dict[str, Any]
    wall_seconds: float
    peak_rss_bytes: int
    cpu_seconds: float
    """User plus system time of the whole process."""

    @property
    def seconds(self) -> float:
        return float(self.data["seconds"])


def child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.setdefault("PUBLISHER_BENCH_SECRET", "benchmark-signing-secret")
    return env


def run_child(*args: str) -> Sample:
    """`python -m benchmarks.child ARGS` in a fresh interpreter; its peak RSS comes from wait4."""
    command = [sys.executable, "-m", "benchmarks.child", *args]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_environment(),
        cwd=ROOT,
    )
    stdout, stderr = _drain(process)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        output = stderr.decode(errors="replace")
        raise BenchmarkError(f"{' '.join(command[2:])} exited {process.returncode}:\n{output}")
    lines = stdout.decode().strip().splitlines()
    if not lines:
        raise BenchmarkError(f"{' '.join(command[2:])} printed nothing")
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(json.loads(lines[-1]), wall, usage.ru_maxrss * 1024, cpu)  # Linux: KiB


def _drain(process: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """Both pipes read to the end without reaping the child (wait4 does that)."""
    assert process.stdout is not None and process.stderr is not None
    chunks: dict[str, bytes] = {}

    def read_err() -> None:
        assert process.stderr is not None
        chunks["err"] = process.stderr.read()

    reader = threading.Thread(target=read_err)
    reader.start()
    out = process.stdout.read()
    reader.join()
    return out, chunks["err"]


@dataclass
class Series:
    """Repeats of one measurement."""

    name: str
    samples: list[Sample] = field(default_factory=list)

    def seconds(self) -> list[float]:
        return [s.seconds for s in self.samples]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds())

    @property
    def low(self) -> float:
        return min(self.seconds())

    @property
    def high(self) -> float:
        return max(self.seconds())

    @property
    def wall_median(self) -> float:
        return statistics.median(s.wall_seconds for s in self.samples)

    @property
    def peak_rss(self) -> int:
        return max(s.peak_rss_bytes for s in self.samples)


def seconds_text(value: float) -> str:
    """About three significant digits: 0.49 ms, 12.3 ms, 543 ms, 1.13 s, 10.1 s, 137 s."""
    unit, value = (" s", value) if value >= 0.9995 else (" ms", value * 1000)
    if value >= 99.95:
        return f"{value:.0f}{unit}"
    if value >= 9.995:
        return f"{value:.1f}{unit}"
    return f"{value:.2f}{unit}"


def megabytes(value: int) -> str:
    return f"{value / 2**20:.0f} MB"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table, first column left-aligned, the rest right-aligned."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"
