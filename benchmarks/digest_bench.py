"""Digest benchmark: `send_digests` to N subscribers against a bare smtplib floor.

Both go to the same aiosmtpd sink, which runs in a process of its own (an
asyncio server in the sender's process would compete with it for the GIL).
The digest runs in a fresh child process per repeat, on a fresh copy of a
state database that holds N active subscribers and no digest yet.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.corpus import NOW, Mail, Site, make_site
from benchmarks.measure import (
    ROOT,
    BenchmarkError,
    Sample,
    Series,
    child_environment,
    megabytes,
    run_child,
    seconds_text,
    table,
    verdict,
)
from publisher.site_config import load_config
from publisher.state.store import open_store, to_text

SITE_POSTS = 200
"""Enough for a full digest: the dateless tenth are new at NOW."""
SEND_SHARE_OF_FLOOR = 0.80
FLAT_MEMORY_GROWTH = 0.10
"""Peak RSS may grow this much from the smallest to the largest list and still be flat."""


class SinkProcess:
    """`python -m benchmarks.sink`, spoken to one JSON line at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.sink"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=child_environment(),
            cwd=ROOT,
        )
        self.port = int(self._read()["port"])

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise BenchmarkError("the SMTP sink process exited")
        data: dict[str, Any] = json.loads(line)
        return data

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    def stats(self) -> dict[str, Any]:
        return self.ask("stats")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Run:
    """One child process sending, and what the sink saw meanwhile."""

    sample: Sample
    received: int
    sink_cpu: float

    @property
    def rate(self) -> float:
        return float(self.sample.data["sent"]) / self.sample.seconds

    @property
    def sink_busy(self) -> float:
        return self.sink_cpu / self.sample.seconds

    @property
    def cpu_per_message(self) -> float:
        return self.sample.cpu_seconds / max(1, int(self.sample.data["sent"]))


@dataclass
class DigestResult:
    subscribers: int
    connections: int
    digests: list[Run] = field(default_factory=list)
    floors: list[Run] = field(default_factory=list)
    message_bytes: int = 0
    setup_seconds: float = 0.0

    def series(self, runs: list[Run], key: str = "seconds") -> Series:
        series = Series(key)
        for run in runs:
            data = dict(run.sample.data, seconds=run.sample.data[key])
            series.samples.append(
                Sample(data, run.sample.wall_seconds, run.sample.peak_rss_bytes, 0.0)
            )
        return series

    @property
    def digest_rate(self) -> float:
        return statistics.median(run.rate for run in self.digests)

    @property
    def floor_rate(self) -> float:
        return statistics.median(run.rate for run in self.floors)

    @property
    def ratio(self) -> float:
        return self.digest_rate / self.floor_rate

    @property
    def paired_ratios(self) -> list[float]:
        """Each repeat's digest against the floor run right after it: on a shared machine
        the two of a pair see much the same load."""
        return [d.rate / f.rate for d, f in zip(self.digests, self.floors, strict=True)]

    @property
    def best_ratio(self) -> float:
        """The fastest digest against the fastest floor: the runs least disturbed."""
        return max(r.rate for r in self.digests) / max(r.rate for r in self.floors)

    @property
    def peak_rss(self) -> int:
        return max(run.sample.peak_rss_bytes for run in self.digests)


def make_digest_site(workdir: Path, seed: int, port: int, connections: int) -> Site:
    folder = workdir / f"digest-site-{connections}"
    shutil.rmtree(folder, ignore_errors=True)
    mail = Mail(
        transport="smtp", host="127.0.0.1", port=port, security="none", connections=connections
    )
    return make_site(folder, SITE_POSTS, seed=seed, mail=mail)


def subscriber_database(site: Site, count: int, workdir: Path) -> Path:
    """A state database with `count` active subscribers, made once per size and copied."""
    path = workdir / f"subscribers-{count}.sqlite3"
    if path.exists():
        return path
    store = open_store(path)
    try:
        created = to_text(NOW)
        rows = (
            (
                f"reader{number:06d}@example.org",
                f"reader{number:06d}@example.org",
                f"독자 {number}" if number % 3 else "",
                "active",
                created,
                created,
            )
            for number in range(count)
        )
        with store.transaction() as db:
            db.executemany(
                "INSERT INTO subscribers (email, email_key, name, status, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
    finally:
        store.close()
    return path


def fresh_state(site: Site, template: Path) -> None:
    state = load_config(site.config).paths.state
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    shutil.copyfile(template, state / "publisher.sqlite3")


def _measured(sink: SinkProcess, *args: str) -> Run:
    before = sink.stats()
    sample = run_child(*args)
    after = sink.stats()
    run = Run(
        sample,
        int(after["messages"] - before["messages"]),
        float(after["cpu_seconds"] - before["cpu_seconds"]),
    )
    if sample.data.get("failed") or run.received != int(sample.data["sent"]):
        raise BenchmarkError(
            f"{args[0]}: the sink received {run.received} messages, the sender reports "
            f"{sample.data['sent']} sent and {sample.data.get('failed', 0)} not sent"
        )
    return run


def bench_size(
    sink: SinkProcess,
    site: Site,
    subscribers: int,
    repeats: int,
    workdir: Path,
    connections: int,
    profile_dir: Path | None = None,
) -> DigestResult:
    started = time.perf_counter()
    template = subscriber_database(site, subscribers, workdir)
    result = DigestResult(subscribers, connections, setup_seconds=time.perf_counter() - started)
    message = workdir / "digest-message.eml"
    for _ in range(repeats):
        fresh_state(site, template)
        result.digests.append(_measured(sink, "digest", str(site.config), NOW.isoformat()))
        if not message.exists():
            sink.ask(f"save {message}")
        result.floors.append(
            _measured(
                sink, "sendfloor", str(sink.port), str(connections), str(subscribers), str(message)
            )
        )
    result.message_bytes = message.stat().st_size
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
        fresh_state(site, template)
        profile = profile_dir / f"digest-{subscribers}.prof"
        _measured(sink, "digest", str(site.config), NOW.isoformat(), "--profile", str(profile))
    return result


def report(result: DigestResult) -> str:
    lines = [
        f"digest: {result.subscribers:,} subscribers over {result.connections} connections, "
        f"{result.message_bytes / 1024:.0f} KB per message, sink in its own process; "
        f"{len(result.digests)} repeats (subscribers stored in "
        f"{seconds_text(result.setup_seconds)})"
    ]
    rows = []
    for name, runs, key in (
        ("prepare", result.digests, "prepare_seconds"),
        ("render", result.digests, "render_seconds"),
        ("send", result.digests, "seconds"),
        ("send floor", result.floors, "seconds"),
    ):
        s = result.series(runs, key)
        sending = key == "seconds"
        rate = statistics.median(run.rate for run in runs) if sending else None
        rows.append(
            [
                name,
                seconds_text(s.median),
                seconds_text(s.low),
                seconds_text(s.high),
                f"{rate:,.0f}" if rate else "",
                f"{rate / result.floor_rate:.2f}" if rate else "",
                megabytes(s.peak_rss),
            ]
        )
    headers = ["phase", "median", "min", "max", "msg/s", "x floor", "peak RSS"]
    lines.append(table(headers, rows))
    digest_cpu = statistics.median(run.cpu_per_message for run in result.digests)
    floor_cpu = statistics.median(run.cpu_per_message for run in result.floors)
    paired = result.paired_ratios
    lines.append(
        f"digest/floor: {result.ratio:.2f} (medians); paired by repeat: median "
        f"{statistics.median(paired):.2f}, {min(paired):.2f}–{max(paired):.2f}; best/best "
        f"{result.best_ratio:.2f}; sender CPU per message: digest "
        f"{seconds_text(digest_cpu)}, floor {seconds_text(floor_cpu)}; sink CPU busy: "
        f"{statistics.median(r.sink_busy for r in result.digests):.0%} during the digest, "
        f"{statistics.median(r.sink_busy for r in result.floors):.0%} during the floor"
    )
    lines.append(
        f"target sending >= {SEND_SHARE_OF_FLOOR:.0%} of the floor: "
        f"{verdict(result.ratio >= SEND_SHARE_OF_FLOOR)} ({result.ratio:.0%})"
    )
    return "\n".join(lines)


def memory_report(results: Sequence[DigestResult]) -> str:
    ordered = sorted(results, key=lambda r: r.subscribers)
    smallest, largest = ordered[0], ordered[-1]
    growth = largest.peak_rss / smallest.peak_rss - 1
    steps = "; ".join(f"{r.subscribers:,}: {megabytes(r.peak_rss)}" for r in ordered)
    flat = growth <= FLAT_MEMORY_GROWTH
    return (
        f"digest peak RSS by subscribers: {steps}\n"
        f"target memory flat in subscribers (<= {FLAT_MEMORY_GROWTH:.0%} growth): "
        f"{verdict(flat)} ({'no growth' if abs(growth) < 0.005 else f'{growth:+.0%}'} "
        f"from {smallest.subscribers:,} to {largest.subscribers:,})"
    )


def run(
    sizes: Sequence[int],
    repeats: int,
    seed: int,
    workdir: Path,
    *,
    connections: int = 2,
    profile_dir: Path | None = None,
    keep: bool = False,
) -> list[DigestResult]:
    _remove_leftovers(workdir)
    sink = SinkProcess()
    results = []
    site: Site | None = None
    try:
        site = make_digest_site(workdir, seed, sink.port, connections)
        for subscribers in sizes:
            result = bench_size(sink, site, subscribers, repeats, workdir, connections, profile_dir)
            print(report(result), end="\n\n", flush=True)
            results.append(result)
        if len(results) > 1:
            print(memory_report(results), end="\n\n", flush=True)
    finally:
        sink.close()
        if not keep:
            _remove_leftovers(workdir)
            if site is not None:
                shutil.rmtree(site.folder, ignore_errors=True)
    return results


def _remove_leftovers(workdir: Path) -> None:
    for path in workdir.glob("subscribers-*.sqlite3*"):
        path.unlink()
    (workdir / "digest-message.eml").unlink(missing_ok=True)
