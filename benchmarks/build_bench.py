"""Build benchmark: cold, warm and incremental builds against the front-matter floor.

Every build runs `publisher.build.pipeline.build` in a fresh child process
(see child.py); the figure is the time of the build call itself, and the
`process` column adds interpreter start-up and imports.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.corpus import NOW, Site, edit_post, make_post, make_site, write_post
from benchmarks.measure import Sample, Series, megabytes, run_child, seconds_text, table, verdict

PHASES = ("floor", "cold", "warm", "incremental")
WARM_LIMIT_SECONDS = 0.5
WARM_SHARE_OF_COLD = 0.10
COLD_FLOOR_RATIO = 2.0
INCREMENTAL_LIMIT_SECONDS = 1.0
RSS_LIMIT_BYTES = 2**30


@dataclass
class BuildResult:
    site: Site
    corpus_seconds: float
    series: dict[str, Series] = field(default_factory=dict)
    posts_built: int = 0

    def ratio(self, phase: str) -> float:
        return self.series[phase].median / self.series["floor"].median


def _clear_state(site: Site) -> None:
    for name in ("state", "public"):
        shutil.rmtree(site.folder / name, ignore_errors=True)


def _build(site: Site, profile: Path | None = None) -> Sample:
    args = ["build", str(site.config), NOW.isoformat()]
    if profile is not None:
        args += ["--profile", str(profile)]
    return run_child(*args)


def bench_size(
    posts: int, repeats: int, seed: int, workdir: Path, profile_dir: Path | None = None
) -> BuildResult:
    folder = workdir / f"site-{posts}"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    site = make_site(folder, posts, seed=seed)
    result = BuildResult(site, time.perf_counter() - started)
    series = {phase: Series(phase) for phase in PHASES}
    result.series = series

    for _ in range(repeats):
        series["floor"].samples.append(run_child("floor", str(site.content)))
    for _ in range(repeats):
        _clear_state(site)
        series["cold"].samples.append(_build(site))
    result.posts_built = int(series["cold"].samples[-1].data["posts"])
    for _ in range(repeats):
        series["warm"].samples.append(_build(site))
    for repeat in range(repeats):
        edited = make_post((repeat * 7919 + 17) % posts, seed).name
        edit_post(site.content / edited, f"repeat {repeat}")
        write_post(site.content, make_post(posts + repeat, seed))
        series["incremental"].samples.append(_build(site))

    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
        _clear_state(site)
        _build(site, profile_dir / f"cold-{posts}.prof")
        _build(site, profile_dir / f"warm-{posts}.prof")
    return result


def report(result: BuildResult) -> str:
    site = result.site
    lines = [
        f"build: {site.posts:,} posts ({result.posts_built:,} published), "
        f"{site.content_bytes / 2**20:.0f} MB of content, corpus written in "
        f"{seconds_text(result.corpus_seconds)}; {len(result.series['floor'].samples)} repeats",
    ]
    rows = []
    for phase in PHASES:
        s = result.series[phase]
        rows.append(
            [
                phase,
                seconds_text(s.median),
                seconds_text(s.low),
                seconds_text(s.high),
                f"{result.ratio(phase):.2f}",
                seconds_text(s.wall_median),
                megabytes(s.peak_rss),
            ]
        )
    headers = ["phase", "median", "min", "max", "x floor", "process", "peak RSS"]
    lines.append(table(headers, rows))
    warm_share = result.series["warm"].median / result.series["cold"].median
    lines.append(
        f"build/floor: cold {result.ratio('cold'):.2f}, warm {result.ratio('warm'):.2f}, "
        f"incremental {result.ratio('incremental'):.2f}; warm/cold {warm_share:.2f}"
    )
    lines.extend(targets(result))
    return "\n".join(lines)


def targets(result: BuildResult) -> list[str]:
    """The issue's targets that apply at this size, each with its verdict."""
    s = result.series
    lines = []
    if result.site.posts == 10_000:
        warm, cold = s["warm"].median, s["cold"].median
        lines += [
            f"target warm <= {WARM_LIMIT_SECONDS} s and <= 10% of cold: "
            f"{verdict(warm <= WARM_LIMIT_SECONDS and warm <= WARM_SHARE_OF_COLD * cold)} "
            f"({seconds_text(warm)}, {warm / cold:.0%} of cold)",
            f"target cold <= {COLD_FLOOR_RATIO:g} x floor: "
            f"{verdict(result.ratio('cold') <= COLD_FLOOR_RATIO)} ({result.ratio('cold'):.1f} x)",
            f"target incremental <= {INCREMENTAL_LIMIT_SECONDS:g} s: "
            f"{verdict(s['incremental'].median <= INCREMENTAL_LIMIT_SECONDS)} "
            f"({seconds_text(s['incremental'].median)})",
        ]
    if result.site.posts == 100_000:
        peak = max(s[phase].peak_rss for phase in ("cold", "warm", "incremental"))
        lines.append(
            f"target RSS < 1 GB at 100,000 posts: {verdict(peak < RSS_LIMIT_BYTES)} "
            f"({megabytes(peak)})"
        )
    return lines


def run(
    sizes: Sequence[int],
    repeats: int,
    seed: int,
    workdir: Path,
    profile_dir: Path | None = None,
    keep: bool = False,
) -> list[BuildResult]:
    results = []
    for posts in sizes:
        result = bench_size(posts, repeats, seed, workdir, profile_dir)
        print(report(result), end="\n\n", flush=True)
        if not keep:
            shutil.rmtree(result.site.folder, ignore_errors=True)
        results.append(result)
    return results
