"""`python -m benchmarks [build|digest|kill|subscribe|cli|prefs] …`: the figures of issues
6, 9, 11, 12 and 14, as tables.

With no arguments (what `make bench` runs) every benchmark runs at sizes that
finish in a few minutes; --posts and --subscribers reach the large sizes. `cli`
times whole `publisher` processes against `python -c pass` (issue 9).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks import (
    build_bench,
    cli_bench,
    digest_bench,
    kill_bench,
    prefs_bench,
    subscribe_bench,
)

DEFAULT_POSTS = (1_000, 10_000)
DEFAULT_SUBSCRIBERS = (1_000, 10_000)
DEFAULT_REPEATS = 3
DEFAULT_REQUESTS = 200
DEFAULT_ROUNDS = 15
DEFAULT_CLI_POSTS = 10_000


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return (
        f"{os.cpu_count()} cores, {memory / 2**30:.1f} GiB RAM, "
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}"
    )


def sizes(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give sizes like 1000,10000") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: sizes must be 1 or more")
    return values


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument(
        "which",
        nargs="?",
        choices=("all", "build", "digest", "kill", "subscribe", "cli", "prefs"),
        default="all",
        help="which benchmark to run (default: all)",
    )
    p.add_argument(
        "--posts",
        type=sizes,
        default=list(DEFAULT_POSTS),
        help="build sizes, comma-separated (default 1000,10000; try 100000)",
    )
    p.add_argument(
        "--subscribers",
        type=sizes,
        default=list(DEFAULT_SUBSCRIBERS),
        help="digest sizes, comma-separated (default 1000,10000; try 10000,100000)",
    )
    p.add_argument(
        "--readers",
        type=sizes,
        default=list(DEFAULT_SUBSCRIBERS),
        help="preferences sizes, comma-separated (default 1000,10000; try 10000,100000)",
    )
    p.add_argument(
        "--repeats", type=int, default=DEFAULT_REPEATS, help="repeats per figure (default 3)"
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"cli: processes timed per command (default {DEFAULT_ROUNDS})",
    )
    p.add_argument(
        "--cli-posts",
        type=int,
        default=DEFAULT_CLI_POSTS,
        help=f"cli: posts of the big site (default {DEFAULT_CLI_POSTS:,})",
    )
    p.add_argument(
        "--python",
        type=Path,
        action="append",
        default=[],
        help="cli: a Python whose `publisher` script is timed (default: this one); give it "
        "twice to compare two installations in the same rounds",
    )
    p.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    p.add_argument(
        "--requests",
        type=int,
        default=DEFAULT_REQUESTS,
        help="subscribe requests per kind of address (default 200)",
    )
    p.add_argument(
        "--connections", type=int, default=2, help="SMTP connections for the digest (default 2)"
    )
    p.add_argument(
        "--kills", type=int, default=10, help="SIGKILLs per connection count (kill; default 10)"
    )
    p.add_argument(
        "--kill-connections",
        type=sizes,
        default=[2, 4],
        help="connection counts the kill benchmark runs (default 2,4)",
    )
    p.add_argument("--workdir", type=Path, help="where sites are written (default: a temp folder)")
    p.add_argument("--keep", action="store_true", help="keep the generated sites")
    p.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="also write cProfile stats of one build and one digest per size here",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.repeats < 1 or args.rounds < 1 or args.cli_posts < 1:
        parser().error("--repeats, --rounds and --cli-posts must be 1 or more")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="publisher-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    print(f"workdir: {workdir}\n", flush=True)
    try:
        if args.which in ("all", "build"):
            build_bench.run(
                args.posts, args.repeats, args.seed, workdir, args.profile, keep=args.keep
            )
        if args.which == "kill":  # slow: not part of `all`
            kill_bench.run(
                args.subscribers[0], args.kills, args.kill_connections, workdir, args.seed
            )
        if args.which in ("all", "digest"):
            digest_bench.run(
                args.subscribers,
                args.repeats,
                args.seed,
                workdir,
                connections=args.connections,
                profile_dir=args.profile,
                keep=args.keep,
            )
        if args.which in ("all", "subscribe"):
            subscribe_bench.run(args.requests, workdir, keep=args.keep)
        if args.which in ("all", "cli"):
            cli_bench.run(
                args.rounds,
                workdir,
                posts=args.cli_posts,
                seed=args.seed,
                pythons=args.python,
                keep=args.keep,
            )
        if args.which in ("all", "prefs"):
            prefs_bench.run(args.readers, args.repeats, args.seed, workdir, keep=args.keep)
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
