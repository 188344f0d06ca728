"""What one benchmark measurement runs, in a fresh process: `python -m benchmarks.child KIND …`.

Each kind prints one JSON object on its last stdout line. The parent adds the
process's wall time and peak RSS (from wait4), so every measurement starts
with a cold interpreter and nothing left over from the one before.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402 (the clock starts before any import)
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

POST_SUFFIXES = frozenset({".md", ".markdown", ".html", ".htm", ".txt"})


def build(config_path: Path, now: datetime, profile: Path | None) -> dict[str, Any]:
    from publisher.commands.build import build as run_build
    from publisher.config import load_config

    imported = time.perf_counter()
    config = load_config(config_path)
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        report = profiler.runcall(run_build, config, now)
        profiler.dump_stats(profile)
    else:
        report = run_build(config, now)
    done = time.perf_counter()
    return {
        "seconds": done - imported,
        "import_seconds": imported - STARTED,
        "posts": len(report.site.posts),
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.child")
    kinds = parser.add_subparsers(dest="kind", required=True)
    build_parser = kinds.add_parser("build")
    build_parser.add_argument("config", type=Path)
    build_parser.add_argument("now", type=datetime.fromisoformat)
    build_parser.add_argument("--profile", type=Path)
    floor_parser = kinds.add_parser("floor")
    floor_parser.add_argument("content", type=Path)
    args = parser.parse_args(argv)
    if args.kind == "build":
        result = build(args.config, args.now, args.profile)
    else:
        result = floor(args.content)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
