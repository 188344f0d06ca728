"""What one benchmark measurement runs, in a fresh process: `python -m benchmarks.child KIND …`.

Each kind prints one JSON object on its last stdout line. The parent adds the
process's wall time and peak RSS (from wait4), so every measurement starts
with a cold interpreter and nothing left over from the one before.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402 (the clock starts before any import)
import functools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

T = TypeVar("T")

POST_SUFFIXES = frozenset({".md", ".markdown", ".html", ".htm", ".txt"})


def profiled(profile: Path | None, function: Callable[..., T], *args: Any) -> T:
    """`function(*args)`, under cProfile in every thread it starts when `profile` is a path."""
    if profile is None:
        return function(*args)
    import cProfile
    import pstats
    import threading

    profilers = [cProfile.Profile()]
    thread_run = threading.Thread.run

    def run_profiled(thread: threading.Thread) -> None:
        profilers.append(cProfile.Profile())
        profilers[-1].runcall(thread_run, thread)

    threading.Thread.run = run_profiled  # type: ignore[method-assign,assignment]
    try:
        result = profilers[0].runcall(function, *args)
    finally:
        threading.Thread.run = thread_run  # type: ignore[method-assign]
    stats = pstats.Stats(profilers[0])
    for profiler in profilers[1:]:
        stats.add(profiler)
    stats.dump_stats(profile)
    return result


def build(config_path: Path, now: datetime, profile: Path | None) -> dict[str, Any]:
    from publisher.build.pipeline import build as run_build
    from publisher.site_config import load_config

    imported = time.perf_counter()
    config = load_config(config_path)
    report = profiled(profile, run_build, config, now)
    done = time.perf_counter()
    return {
        "seconds": done - imported,
        "import_seconds": imported - STARTED,
        "posts": report.posts,
        "written": len(report.files.written),
        "unchanged": len(report.files.unchanged),
    }


def floor(content: Path) -> dict[str, Any]:
    """Read every post and parse its front matter with PyYAML's C loader; nothing else."""
    import yaml

    imported = time.perf_counter()
    files = 0
    fields = 0
    for folder, subfolders, names in os.walk(content):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in POST_SUFFIXES:
                continue
            with open(os.path.join(folder, name), "rb") as handle:
                text = handle.read().decode("utf-8")
            end = text.find("\n---", 3)
            front = yaml.load(text[3:end], Loader=yaml.CSafeLoader)
            files += 1
            fields += len(front)
    return {
        "seconds": time.perf_counter() - imported,
        "import_seconds": imported - STARTED,
        "files": files,
        "fields": fields,
    }


def digest(config_path: Path, now: datetime, profile: Path | None) -> dict[str, Any]:
    """`send_digests` as `publisher digest` runs it, with the render call timed in place."""
    from publisher.newsletter import delivery as command
    from publisher.newsletter import issuing
    from publisher.newsletter.digest import render_issue as real_render
    from publisher.site_config import load_config

    imported = time.perf_counter()
    config = load_config(config_path)
    rendering: list[float] = []

    def timed_render(*args: Any, **kwargs: Any) -> Any:
        rendering.append(time.perf_counter())
        rendered = real_render(*args, **kwargs)
        rendering.append(time.perf_counter())
        return rendered

    vars(issuing)["render_issue"] = timed_render  # the real function, only timed
    report = profiled(profile, command.send_digests, config, now)
    done = time.perf_counter()
    if len(rendering) != 2:
        raise SystemExit(f"expected one new digest, got: {report.summary()}")
    sent = sum(run.sent for run in report.runs)
    return {
        "prepare_seconds": rendering[1] - imported,
        "render_seconds": rendering[1] - rendering[0],
        "seconds": done - rendering[1],
        "sent": sent,
        "failed": sum(run.failed + run.temporary + run.ambiguous for run in report.runs),
        "import_seconds": imported - STARTED,
        "summary": report.summary(),
    }


class Discard:
    """A relay that takes every message at once and keeps none: what is left of a digest
    run without the network. It answers `sent` for each message, settling the ledger in
    batches (one durable commit per BATCH messages), so the sender's bookkeeping of
    messages awaiting their answer stays as small as in a real send."""

    BATCH = 500

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    def deliver(
        self,
        envelopes: Any,
        *,
        before_data: Callable[..., None],
        on_result: Callable[..., None],
        on_held: Callable[..., None] = lambda _result: None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        keys: list[str] = []
        for envelope in envelopes:
            self.messages += 1
            self.bytes += len(envelope.message)
            keys.append(envelope.key)  # not the message: a real relay keeps no bytes either
            if len(keys) == self.BATCH or should_stop():
                self._settle(envelope, keys, before_data, on_result)
                keys = []
            if should_stop():
                return
        if keys:
            self._settle(envelope, keys, before_data, on_result)

    @staticmethod
    def _settle(
        last: Any, keys: list[str], before_data: Callable[..., None], on_result: Callable[..., None]
    ) -> None:
        from publisher.newsletter.transports import Outcome, Result

        before_data(last)
        for key in keys:
            on_result(Result(key, Outcome.SENT, 250, "discarded", 1, "message"))


def prepare(config_path: Path, now: datetime, profile: Path | None) -> dict[str, Any]:
    """`send_digests` as `publisher digest` runs it, every message made, none sent (see
    Discard); the issue renders are timed in place."""
    import sqlite3

    from publisher.newsletter import delivery, issuing
    from publisher.site_config import load_config

    imported = time.perf_counter()
    config = load_config(config_path)
    real_render = issuing.render_issue
    rendering: list[float] = []

    def timed_render(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        rendered = real_render(*args, **kwargs)
        rendering.append(time.perf_counter() - started)
        return rendered

    vars(issuing)["render_issue"] = timed_render  # the real function, only timed
    real_make = delivery.make_issues
    making: list[float] = []

    def timed_make(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        made = real_make(*args, **kwargs)
        making.append(time.perf_counter() - started)
        return made

    vars(delivery)["make_issues"] = timed_make
    discard = Discard()
    send = functools.partial(delivery.send_digests, transport_for=lambda _folder: discard)
    report = profiled(profile, send, config, now)
    done = time.perf_counter()
    with sqlite3.connect(config.state_db) as db:
        cuts = db.execute("SELECT count(*) FROM issue_cuts").fetchone()[0]
        groups = db.execute("SELECT count(DISTINCT sent_set) FROM reader_sent").fetchone()[0]
    return {
        "seconds": done - imported,
        "render_seconds": sum(rendering),
        "issue_seconds": sum(making),
        "renders": len(rendering),
        "issues": len(report.runs),
        "cuts": cuts,
        "histories": groups,
        "messages": discard.messages,
        "message_bytes": discard.bytes,
        "import_seconds": imported - STARTED,
    }


def send_floor(port: int, connections: int, count: int, message_file: Path) -> dict[str, Any]:
    """A bare smtplib loop: one prebuilt message, `connections` reused connections in threads."""
    import itertools
    import smtplib
    import threading

    message = message_file.read_bytes()
    numbers = itertools.count()
    take = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
            smtp.ehlo()
            while True:
                with take:
                    number = next(numbers)
                if number >= count:
                    break
                smtp.sendmail("digest@news.example.org", [f"floor{number}@example.org"], message)
            smtp.quit()
        except BaseException as e:
            errors.append(e)

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return {
        "seconds": time.perf_counter() - started,
        "sent": count,
        "message_bytes": len(message),
        "import_seconds": started - STARTED,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.child")
    kinds = parser.add_subparsers(dest="kind", required=True)
    build_parser = kinds.add_parser("build")
    build_parser.add_argument("config", type=Path)
    build_parser.add_argument("now", type=datetime.fromisoformat)
    build_parser.add_argument("--profile", type=Path)
    floor_parser = kinds.add_parser("floor")
    floor_parser.add_argument("content", type=Path)
    digest_parser = kinds.add_parser("digest")
    digest_parser.add_argument("config", type=Path)
    digest_parser.add_argument("now", type=datetime.fromisoformat)
    digest_parser.add_argument("--profile", type=Path)
    prepare_parser = kinds.add_parser("prepare")
    prepare_parser.add_argument("config", type=Path)
    prepare_parser.add_argument("now", type=datetime.fromisoformat)
    prepare_parser.add_argument("--profile", type=Path)
    send_parser = kinds.add_parser("sendfloor")
    send_parser.add_argument("port", type=int)
    send_parser.add_argument("connections", type=int)
    send_parser.add_argument("count", type=int)
    send_parser.add_argument("message", type=Path)
    args = parser.parse_args(argv)
    if args.kind == "build":
        result = build(args.config, args.now, args.profile)
    elif args.kind == "floor":
        result = floor(args.content)
    elif args.kind == "digest":
        result = digest(args.config, args.now, args.profile)
    elif args.kind == "prepare":
        result = prepare(args.config, args.now, args.profile)
    else:
        result = send_floor(args.port, args.connections, args.count, args.message)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
