"""Preferences benchmark: every reader's digest prepared from one render per issue.

Two lists of N active readers on the same 200-post site, each on a fresh copy of
its state database, each prepared by `send_digests` in a fresh child process
with a transport that takes every message's bytes and sends nothing:

- `one digest`: every reader with the default preferences (every category,
  weekly), which is one issue and one copy for all: the digest as it was before
  readers had preferences;
- `preferences`: the readers spread evenly over 20 category choices (every
  category, and 19 choices of one or two of the site's 16) and 2 cadences
  (weekly, daily): 40 kinds of reader, two issues, a cut per kind.

Preparing is the whole run without the relay: posts loaded, readers grouped,
issues rendered and inlined, the ledger rows written (together, the `issuing`
column), and each reader's message made (cut, filled in, wire bytes). The target:
preferences at most 2 x one digest in the same run, and peak memory flat in the
number of readers.
"""

from __future__ import annotations

import itertools
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.corpus import NOW, Site, make_site
from benchmarks.measure import (
    BenchmarkError,
    Sample,
    Series,
    megabytes,
    run_child,
    seconds_text,
    table,
    verdict,
)
from publisher.build.pipeline import load_posts
from publisher.newsletter.selection import first_digest_cutoff
from publisher.site_config import load_config
from publisher.state.readers import encode_categories
from publisher.state.store import open_store, to_text

SITE_POSTS = 200
CATEGORY_CHOICES = 20
CADENCES = ("weekly", "daily")
RATIO_LIMIT = 2.0
FLAT_MEMORY_GROWTH = 0.10
SCENARIOS = ("one digest", "preferences")


def category_choices(site: Site) -> list[tuple[str, ...] | None]:
    """Every category, then 19 choices of one or two of the categories that have new posts
    (so every reader is due something, as in the one-digest list)."""
    config = load_config(site.config)
    posts = load_posts(config, NOW, content_for=lambda _posts: ()).posts
    recent = [post for post in posts if post.published >= first_digest_cutoff(NOW, config)]
    counted = Counter(category.slug for post in recent for category in post.categories)
    slugs = [name for name, _ in counted.most_common()]
    singles: list[tuple[str, ...]] = [(name,) for name in slugs[:10]]
    pairs = [tuple(sorted(pair)) for pair in itertools.combinations(slugs, 2)]
    chosen = [*singles, *pairs][: CATEGORY_CHOICES - 1]
    if len(chosen) < CATEGORY_CHOICES - 1:
        raise BenchmarkError(f"only {len(slugs)} categories have new posts; need more posts")
    return [None, *chosen]


def make_prefs_site(workdir: Path, seed: int) -> Site:
    folder = workdir / "prefs-site"
    shutil.rmtree(folder, ignore_errors=True)
    site = make_site(folder, SITE_POSTS, seed=seed)
    text = site.config.read_text(encoding="utf-8")
    text = text.replace("[digest]\n", '[digest]\ncadences = ["weekly", "daily"]\n', 1)
    site.config.write_text(text, encoding="utf-8")
    return site


def reader_database(
    path: Path, count: int, choices: Sequence[tuple[str, ...] | None] | None
) -> Path:
    """A state database with `count` active readers; with `choices`, spread evenly over
    them and the cadences. Made once per size and scenario, then copied."""
    if path.exists():
        return path
    store = open_store(path)
    try:
        created = to_text(NOW)
        with store.transaction() as db:
            db.executemany(
                "INSERT INTO subscribers (id, email, email_key, name, status, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, 'active', ?, ?)",
                (
                    (n + 1, f"reader{n:06d}@example.org", f"reader{n:06d}@example.org",
                     f"독자 {n}" if n % 3 else "", created, created)
                    for n in range(count)
                ),
            )  # fmt: skip
            if choices:
                db.executemany(
                    "INSERT INTO preferences (subscriber_id, categories, cadence, updated_at) "
                    "VALUES (?, ?, ?, ?)",
                    (
                        (
                            n + 1,
                            encode_categories(choices[n % len(choices)]),
                            CADENCES[(n // len(choices)) % len(CADENCES)],
                            created,
                        )
                        for n in range(count)
                    ),
                )
    finally:
        store.close()
    return path


def fresh_state(site: Site, template: Path) -> None:
    state = load_config(site.config).paths.state
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    shutil.copyfile(template, state / "publisher.sqlite3")


@dataclass
class PrefsResult:
    readers: int
    series: dict[str, Series] = field(default_factory=dict)
    setup_seconds: float = 0.0

    def median(self, scenario: str) -> float:
        return self.series[scenario].median

    @property
    def ratio(self) -> float:
        return self.median("preferences") / self.median("one digest")

    @property
    def cpu_ratio(self) -> float:
        cpu = {
            scenario: statistics.median(s.cpu_seconds for s in self.series[scenario].samples)
            for scenario in SCENARIOS
        }
        return cpu["preferences"] / cpu["one digest"]

    def last(self, scenario: str) -> Sample:
        return self.series[scenario].samples[-1]


def bench_size(site: Site, readers: int, repeats: int, workdir: Path) -> PrefsResult:
    started = time.perf_counter()
    choices = category_choices(site)
    templates = {
        scenario: reader_database(
            workdir / f"readers-{readers}-{scenario.replace(' ', '-')}.sqlite3",
            readers,
            choices if scenario == "preferences" else None,
        )
        for scenario in SCENARIOS
    }
    result = PrefsResult(readers, {s: Series(s) for s in SCENARIOS})
    result.setup_seconds = time.perf_counter() - started
    for _ in range(repeats):
        for scenario in SCENARIOS:  # alternated, so a slow spell hits both
            fresh_state(site, templates[scenario])
            sample = run_child("prepare", str(site.config), NOW.isoformat())
            if sample.data["messages"] != readers:
                raise BenchmarkError(
                    f"{scenario}: {sample.data['messages']} messages made for {readers} readers"
                )
            result.series[scenario].samples.append(sample)
    return result


def report(result: PrefsResult) -> str:
    lines = [
        f"preferences: {result.readers:,} readers, {SITE_POSTS}-post site, every message made "
        f"and none sent; {len(result.series['one digest'].samples)} repeats (readers stored "
        f"in {seconds_text(result.setup_seconds)})"
    ]
    rows = []
    for scenario in SCENARIOS:
        s = result.series[scenario]
        last = result.last(scenario).data
        rows.append(
            [
                scenario,
                seconds_text(s.median),
                seconds_text(s.low),
                seconds_text(s.high),
                str(last["issues"]),
                str(last["cuts"]),
                seconds_text(float(last["issue_seconds"])),
                seconds_text(float(last["render_seconds"])),
                f"{int(last['message_bytes']) / int(last['messages']) / 1024:.0f} KB",
                f"{s.median / result.readers * 1e6:.0f} us",
                seconds_text(statistics.median(x.cpu_seconds for x in s.samples)),
                megabytes(s.peak_rss),
            ]
        )
    headers = [
        "scenario", "median", "min", "max", "issues", "cuts", "issuing", "render", "message",
        "per reader", "CPU", "peak RSS",
    ]  # fmt: skip
    lines.append(table(headers, rows))
    lines.append(
        f"target preferences <= {RATIO_LIMIT:g} x one digest: "
        f"{verdict(result.ratio <= RATIO_LIMIT)} ({result.ratio:.2f} x; "
        f"{result.cpu_ratio:.2f} x in CPU time)"
    )
    return "\n".join(lines)


def memory_report(results: Sequence[PrefsResult]) -> str:
    ordered = sorted(results, key=lambda r: r.readers)
    smallest, largest = ordered[0], ordered[-1]
    peak = {r.readers: r.series["preferences"].peak_rss for r in ordered}
    growth = peak[largest.readers] / peak[smallest.readers] - 1
    steps = "; ".join(f"{n:,}: {megabytes(rss)}" for n, rss in peak.items())
    return (
        f"preferences peak RSS by readers: {steps}\n"
        f"target memory flat in readers (<= {FLAT_MEMORY_GROWTH:.0%} growth): "
        f"{verdict(growth <= FLAT_MEMORY_GROWTH)} ({growth:+.0%} from {smallest.readers:,} "
        f"to {largest.readers:,})"
    )


def run(
    sizes: Sequence[int], repeats: int, seed: int, workdir: Path, *, keep: bool = False
) -> list[PrefsResult]:
    _remove_leftovers(workdir)
    results = []
    site: Site | None = None
    try:
        site = make_prefs_site(workdir, seed)
        for readers in sizes:
            result = bench_size(site, readers, repeats, workdir)
            print(report(result), end="\n\n", flush=True)
            results.append(result)
        if len(results) > 1:
            print(memory_report(results), end="\n\n", flush=True)
    finally:
        if not keep:
            _remove_leftovers(workdir)
            if site is not None:
                shutil.rmtree(site.folder, ignore_errors=True)
    return results


def _remove_leftovers(workdir: Path) -> None:
    for path in workdir.glob("readers-*.sqlite3*"):
        path.unlink()
