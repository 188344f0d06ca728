"""Subscribe timing benchmark: does the answer to `POST /subscribe` tell who is subscribed?

The endpoint runs in a process of its own (`python -m benchmarks.subscribe_bench serve
CONFIG`, uvicorn on 127.0.0.1, confirmation emails into the outbox folder). One
kept-alive HTTP connection posts the subscribe form for a new address, a pending one
and an active one, `requests` times each, in a shuffled order; after each, it waits
until the work done after the answer is over (the confirmation email is in the
outbox) and a moment more, so each request meets an idle server, as a prober's one
request would.
The floor is the same form with the honeypot field filled: the same page, answered
with no sign-up at all (and without checking the address, which the others do).
Issue 12 asks the three medians to be within 10 % of each other.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.measure import ROOT, BenchmarkError, child_environment, seconds_text, table

KINDS = ("floor", "new", "pending", "active")
SETTLE_SECONDS = 0.05
SPREAD_TARGET = 0.10
PREFIX = "/newsletter"


@dataclass
class SubscribeResult:
    requests: int
    times: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    load: float = 0.0
    """The 1-minute load average when the run ended."""

    def median(self, kind: str) -> float:
        return statistics.median(self.times[kind])

    def quantile(self, kind: str, part: int) -> float:
        return statistics.quantiles(self.times[kind], n=10)[part - 1]

    @property
    def low_spread(self) -> float:
        """As `spread`, for the tenth percentiles: the time when nothing else ran."""
        lows = [self.quantile(kind, 1) for kind in ("new", "pending", "active")]
        return max(lows) / min(lows) - 1

    @property
    def spread(self) -> float:
        """Largest median of new, pending and active over the smallest, less one."""
        medians = [self.median(kind) for kind in ("new", "pending", "active")]
        return max(medians) / min(medians) - 1


def make_site(folder: Path, known: int) -> Path:
    """The sample site with `known` pending and `known` active subscribers; the config."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copytree(ROOT / "templates", folder / "templates")
    (folder / "content").mkdir()
    # The tests' copy of the sample: the top-level one is the user's (and has a [web]).
    text = (ROOT / "tests" / "fixtures" / "sample" / "config.toml").read_text(encoding="utf-8")
    text += (
        f'\n[web]\nbase_url = "http://127.0.0.1:8080{PREFIX}"\n'
        "rate_per_ip = 1000000\nrate_per_address = 1000000\n"
    )
    config_path = folder / "config.toml"
    config_path.write_text(text, encoding="utf-8")
    from publisher.site_config import load_config
    from publisher.state.store import open_store

    config = load_config(config_path)
    with open_store(config.state_db) as store:
        now = _now()
        for number in range(known):
            for kind in ("pending", "active"):
                address = f"{kind}{number}@example.org"
                store.add_subscriber(address, address, "", kind, now)
    return config_path


def _now() -> datetime:
    return datetime.now(UTC)


class Server:
    """The endpoint in a child process; `port` once it listens."""

    def __init__(self, config_path: Path) -> None:
        command = [sys.executable, *(["-S"] if sys.flags.no_site else [])]
        command += ["-m", "benchmarks.subscribe_bench", "serve", str(config_path)]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_environment(),
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise BenchmarkError("the endpoint did not start")
        self.port = int(json.loads(line)["port"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def serve(config_path: str) -> None:
    """The child: serve the endpoint until stdin closes."""
    import socket
    import threading

    from publisher.site_config import load_config
    from publisher.web import create_app
    from publisher.web.server import make_server

    config = load_config(Path(config_path))
    # A TCP socket of its own (TCP_NODELAY on every connection), so that a run against an
    # older publisher measures its app, not the 40 ms delayed-ACK stall of its socket.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = make_server(create_app(config), config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    while not server.started:
        time.sleep(0.01)
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    sys.stdin.read()
    server.should_exit = True
    thread.join()


class Prober:
    """One kept-alive connection posting the subscribe form, as a timing prober would."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.connection.request("GET", f"{PREFIX}/subscribe")
        response = self.connection.getresponse()
        page = response.read().decode()
        self.cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
        marker = 'name="csrf_token" value="'
        start = page.index(marker) + len(marker)
        self.token = page[start : page.index('"', start)]

    def post(self, email: str, honeypot: str = "") -> float:
        fields = {"email": email, "csrf_token": self.token, "website": honeypot}
        body = urllib.parse.urlencode(fields).encode("ascii")  # one send with the headers
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": self.cookie,
        }
        started = time.perf_counter()
        self.connection.request("POST", f"{PREFIX}/subscribe", body, headers)
        response = self.connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise BenchmarkError(f"POST /subscribe answered {response.status}")
        return elapsed


def measure(requests: int, workdir: Path, seed: int = 1) -> SubscribeResult:
    config_path = make_site(workdir / "subscribe-site", requests)
    mails = Mails(config_path.parent / "outbox" / "confirmations")
    server = Server(config_path)
    result = SubscribeResult(requests)
    order = random.Random(seed)
    try:
        prober = Prober(server.port)
        for number in range(requests):
            kinds = list(KINDS)
            order.shuffle(kinds)  # each kind follows each other one as often
            for kind in kinds:
                if kind == "floor":
                    elapsed = prober.post(f"new{number}@example.org", honeypot="x")
                else:
                    elapsed = prober.post(f"{kind}{number}@example.org")
                result.times[kind].append(elapsed)
                if kind in ("new", "pending"):
                    mails.wait_for_one_more()
                time.sleep(SETTLE_SECONDS)
    finally:
        server.close()
    result.load = os.getloadavg()[0]
    return result


class Mails:
    """The confirmation emails the outbox transport wrote: a sign-up's work ends with one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.expected = 0

    def wait_for_one_more(self) -> None:
        """Wait until the server is done with the last sign-up, so the next request meets an
        idle server: its time is its own, not the one before's."""
        self.expected += 1
        deadline = time.monotonic() + 30
        while len(list(self.folder.glob("*.eml"))) < self.expected:
            if time.monotonic() > deadline:
                raise BenchmarkError("a confirmation email never arrived in the outbox")
            time.sleep(0.002)


def report(result: SubscribeResult) -> str:
    floor = result.median("floor")
    rows = [
        [
            kind,
            seconds_text(result.median(kind)),
            seconds_text(result.quantile(kind, 1)),
            seconds_text(result.quantile(kind, 9)),
            f"{result.median(kind) / floor:.2f}",
        ]
        for kind in KINDS
    ]
    headers = ["address", "median", "p10", "p90", "x floor"]
    verdict = "met" if result.spread <= SPREAD_TARGET else "NOT met"
    return "\n".join(
        [
            f"subscribe: {result.requests} requests per kind, shuffled, on one "
            "kept-alive connection",
            table(headers, rows),
            f"subscribe/medians: new, pending and active within {result.spread:.1%} of each "
            f"other (target {SPREAD_TARGET:.0%}: {verdict}); p10s within {result.low_spread:.1%}",
            f"load average during the run: {result.load:.2f} (other work on the machine "
            "widens the medians, not the p10s)",
        ]
    )


def run(requests: int, workdir: Path, *, keep: bool = False) -> SubscribeResult:
    result = measure(requests, workdir)
    print(report(result) + "\n", flush=True)
    if not keep:
        shutil.rmtree(workdir / "subscribe-site", ignore_errors=True)
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2])
    else:
        sys.exit("usage: python -m benchmarks.subscribe_bench serve CONFIG")
