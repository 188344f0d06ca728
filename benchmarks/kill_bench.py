"""Kill benchmark: `publisher digest` killed with SIGKILL at random moments mid-send.

For each number of connections: a list of N subscribers, K kills, each after a random
number of messages the sink has accepted from that run, then runs to the end. Counted
against what the sink (its own process) received: duplicates, readers missing that are
not marked ambiguous, and ambiguous rows per kill. Targets (issue 11): 0 duplicates,
0 missing except ambiguous rows, at most one ambiguous row per open connection per kill.

    python -m benchmarks kill --subscribers 2000 --kills 10 --connections 2,4
"""

from __future__ import annotations

import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.corpus import NOW
from benchmarks.digest_bench import SinkProcess, fresh_state, make_digest_site, subscriber_database
from benchmarks.measure import ROOT, BenchmarkError, child_environment, verdict
from publisher.site_config import load_config


@dataclass
class KillResult:
    connections: int
    subscribers: int
    kills: int = 0
    ambiguous_per_kill: list[int] = field(default_factory=list)
    duplicates: int = 0
    missing_not_ambiguous: int = 0
    missing_ambiguous: int = 0
    ambiguous: int = 0
    runs_to_finish: int = 0

    def report(self) -> str:
        most = max(self.ambiguous_per_kill, default=0)
        ok = self.duplicates == 0 and self.missing_not_ambiguous == 0 and most <= self.connections
        return (
            f"kill: {self.subscribers:,} subscribers, {self.connections} connections, "
            f"{self.kills} SIGKILLs mid-send, then {self.runs_to_finish} run(s) to the end\n"
            f"  duplicates {self.duplicates}; missing and not ambiguous "
            f"{self.missing_not_ambiguous}; ambiguous {self.ambiguous} "
            f"({self.missing_ambiguous} of them never reached the relay); ambiguous per kill "
            f"{self.ambiguous_per_kill} (at most {most}, limit {self.connections})\n"
            f"  target 0 duplicates, 0 missing except ambiguous, ambiguous <= 1 per open "
            f"connection per kill: {verdict(ok)}"
        )


def _command(config: Path) -> list[str]:
    return [sys.executable, "-m", "publisher", "--config", str(config), "--now", NOW.isoformat()]


def _ledger(config: Path, query: str) -> list[tuple[object, ...]]:
    state = load_config(config).state_db
    with sqlite3.connect(state) as db:
        return db.execute(query).fetchall()


def _kill_once(sink: SinkProcess, config: Path, rng: random.Random) -> int:
    """Start a digest, SIGKILL it after a random number of messages; rows left sending."""
    start = int(sink.stats()["messages"])
    wanted = start + rng.randint(20, 150)
    process = subprocess.Popen(
        [*_command(config), "digest"],
        env=child_environment(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while int(sink.stats()["messages"]) < wanted:
        if process.poll() is not None or time.monotonic() > deadline:
            raise BenchmarkError(
                "the digest finished before it could be killed: use more subscribers"
            )
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return int(_ledger(config, "SELECT count(*) FROM deliveries WHERE status = 'sending'")[0][0])


def bench_kills(
    sink: SinkProcess, subscribers: int, kills: int, connections: int, workdir: Path, seed: int
) -> KillResult:
    site = make_digest_site(workdir, seed, sink.port, connections)
    # One digest holds every new post, so the runs after the kills only finish that one.
    text = site.config.read_text(encoding="utf-8")
    site.config.write_text(re.sub(r"max_posts = \d+", "max_posts = 1000", text), encoding="utf-8")
    fresh_state(site, subscriber_database(site, subscribers, workdir))
    before = dict(sink.ask("copies")["copies"])
    rng = random.Random(seed * 1000 + connections)
    result = KillResult(connections, subscribers)
    for _ in range(kills):
        result.ambiguous_per_kill.append(_kill_once(sink, site.config, rng))
        result.kills += 1
    while True:
        result.runs_to_finish += 1
        subprocess.run(
            [*_command(site.config), "digest"],
            env=child_environment(),
            cwd=ROOT,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pending = _ledger(site.config, "SELECT count(*) FROM deliveries WHERE status = 'pending'")
        if pending[0][0] == 0 or result.runs_to_finish >= 5:
            break
    after = sink.ask("copies")["copies"]
    rows = dict(
        _ledger(
            site.config,
            "SELECT s.email, d.status FROM deliveries d "
            "JOIN subscribers s ON s.id = d.subscriber_id",
        )
    )
    for email, status in rows.items():
        got = int(after.get(email, 0)) - int(before.get(email, 0))
        result.duplicates += max(0, got - 1)
        result.ambiguous += status == "ambiguous"
        if got == 0:
            if status == "ambiguous":
                result.missing_ambiguous += 1
            else:
                result.missing_not_ambiguous += 1
    return result


def run(subscribers: int, kills: int, connections: list[int], workdir: Path, seed: int) -> None:
    sink = SinkProcess()
    try:
        for count in connections:
            print(bench_kills(sink, subscribers, kills, count, workdir, seed).report(), flush=True)
    finally:
        sink.close()
