"""The benchmark scripts keep working: a tiny run of each, and the corpus they build on.

No timing is asserted; only that every figure is printed and the corpus is what it claims.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from benchmarks.corpus import (
    MAX_BODY_BYTES,
    MIN_BODY_BYTES,
    NOW,
    edit_post,
    make_post,
    make_site,
)
from publisher.build.pipeline import build
from publisher.core.models import DateSource
from publisher.site_config import load_config

ROOT = Path(__file__).resolve().parent.parent


def run_benchmarks(*args: str, workdir: Path) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", *args, "--repeats", "1", "--workdir", str(workdir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_a_post_is_the_same_bytes_every_time_and_differs_by_seed() -> None:
    assert make_post(7, seed=1) == make_post(7, seed=1)
    assert make_post(7, seed=1).data != make_post(7, seed=2).data
    assert make_post(7, seed=1).data != make_post(8, seed=1).data


def test_posts_have_bodies_of_two_to_six_kilobytes_in_korean_and_english() -> None:
    posts = [make_post(i, seed=1) for i in range(200)]
    bodies = [p.data.split(b"\n---\n", 1)[1] for p in posts]
    assert all(MIN_BODY_BYTES // 2 <= len(b) <= MAX_BODY_BYTES + 512 for b in bodies)
    assert sum(len(b) for b in bodies) / len(bodies) > MIN_BODY_BYTES
    texts = [p.data.decode("utf-8") for p in posts]
    assert any(re.search("[가-힣]{2}", t) and "lang: en" not in t for t in texts)
    assert any("lang: en" in t for t in texts)
    assert {Path(p.name).suffix for p in posts} == {".md", ".html", ".txt"}
    assert any('src="images/' in t or "](images/" in t for t in texts)


def test_a_generated_site_builds_with_dateless_dated_and_category_posts(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", 60, seed=3)
    report = build(load_config(site.config), NOW)

    posts = report.site.posts
    assert len(posts) + len(report.site.hidden) == 60
    sources = {p.date_source for p in posts}
    assert sources == {DateSource.FRONT_MATTER, DateSource.FILENAME, DateSource.FIRST_SEEN}
    assert any(c.name == "News" or c.name == "속보" for p in posts for c in p.categories)
    assert (site.folder / "public" / "feed.atom").is_file()
    assert any((site.folder / "public" / "categories").iterdir())
    # Relative image URLs were made absolute against the post's URL.
    assert all('src="images/' not in p.content_html for p in posts)


def test_editing_a_post_changes_only_its_body(tmp_path: Path) -> None:
    post = make_post(4, seed=1)
    path = tmp_path / post.name
    path.parent.mkdir(parents=True)
    path.write_bytes(post.data)
    edit_post(path, "once")
    changed = path.read_bytes()
    assert changed.startswith(post.data)
    assert b"Edited: once" in changed


def test_build_benchmark_prints_every_figure(tmp_path: Path) -> None:
    out = run_benchmarks("build", "--posts", "20", workdir=tmp_path)

    assert "build: 20 posts" in out
    for phase in ("floor", "cold", "warm", "incremental"):
        row = re.search(rf"^{phase} +(\S+ m?s) +(\S+ m?s) +(\S+ m?s) +([\d.]+) +.* MB$", out, re.M)
        assert row, f"no {phase} row in:\n{out}"
    assert re.search(r"build/floor: cold [\d.]+, warm [\d.]+, incremental [\d.]+; warm/cold", out)
    assert "machine: " in out and " cores, " in out
    assert not list(tmp_path.iterdir()), "the benchmark left files behind"


def test_digest_benchmark_prints_every_figure(tmp_path: Path) -> None:
    # The run fails unless the sink received exactly the messages each sender reports sent.
    out = run_benchmarks("digest", "--subscribers", "20,30", workdir=tmp_path)

    for subscribers in ("20", "30"):
        assert f"digest: {subscribers} subscribers over 2 connections" in out
    for phase in ("prepare", "render"):
        assert re.search(rf"^{phase} +\S+ m?s +\S+ m?s +\S+ m?s +\d+ MB$", out, re.M), out
    for phase in ("send", "send floor"):
        row = rf"^{phase} +\S+ m?s +\S+ m?s +\S+ m?s +[\d,]+ +[\d.]+ +\d+ MB$"
        assert re.search(row, out, re.M), f"no {phase} row in:\n{out}"
    assert re.search(
        r"digest/floor: [\d.]+ \(medians\); paired by repeat: median [\d.]+, [\d.]+–[\d.]+; "
        r"best/best [\d.]+; sender CPU per message",
        out,
    )
    assert "target sending >= 80% of the floor: " in out
    assert re.search(r"digest peak RSS by subscribers: 20: \d+ MB; 30: \d+ MB", out)
    assert not list(tmp_path.iterdir()), "the benchmark left files behind"


def test_subscribe_benchmark_prints_every_figure(tmp_path: Path) -> None:
    """Issue 12, item 3: the timing of new, pending and active sign-ups, measured (never
    asserted here): the figures are in benchmarks/RESULTS.md."""
    out = run_benchmarks("subscribe", "--requests", "12", workdir=tmp_path)

    assert "subscribe: 12 requests per kind, shuffled, on one kept-alive connection" in out
    for kind in ("floor", "new", "pending", "active"):
        row = rf"^{kind} +\S+ m?s +\S+ m?s +\S+ m?s +[\d.]+$"
        assert re.search(row, out, re.M), f"no {kind} row in:\n{out}"
    assert re.search(r"subscribe/medians: new, pending and active within [\d.]+% of each", out)
    assert re.search(r"p10s within [\d.]+%\nload average during the run: [\d.]+ ", out)
    assert not list(tmp_path.iterdir()), "the benchmark left files behind"


def test_cli_benchmark_prints_every_command_against_the_floor(tmp_path: Path) -> None:
    out = run_benchmarks("cli", "--rounds", "1", "--cli-posts", "20", workdir=tmp_path)

    assert "cli: process wall time of " in out
    for command in (
        "python -c pass",
        "publisher --help",
        "build, 5 posts, nothing changed",
        "build, 20 posts, nothing changed",
        "run, nothing due",
    ):
        row = re.search(rf"^{re.escape(command)} +(\S+ m?s +){{3}}[\d.]+ +\S+ m?s", out, re.M)
        assert row, f"no row for {command} in:\n{out}"
    assert re.search(r"^publisher --help .*<= 0.12 s +(met|NOT met)$", out, re.M)
    assert not list(tmp_path.iterdir()), "the benchmark left files behind"


def test_preferences_benchmark_prints_every_figure(tmp_path: Path) -> None:
    # The run fails unless each scenario made exactly one message per reader.
    out = run_benchmarks("prefs", "--readers", "20,30", workdir=tmp_path)

    for readers in ("20", "30"):
        assert f"preferences: {readers} readers, 200-post site" in out
    for scenario, issues, cuts in (("one digest", "1", "1"), ("preferences", r"\d", r"\d+")):
        figures = r"\S+ m?s +\S+ m?s +\d+ KB +\d+ us +\S+ m?s +\d+ MB$"
        row = rf"^{scenario} +(\S+ m?s +){{3}}{issues} +{cuts} +{figures}"
        assert re.search(row, out, re.M), f"no {scenario} row in:\n{out}"
    assert re.search(r"target preferences <= 2 x one digest: (met|NOT met) \([\d.]+ x; ", out)
    assert re.search(r"preferences peak RSS by readers: 20: \d+ MB; 30: \d+ MB", out)
    assert "target memory flat in readers" in out
    assert not list(tmp_path.iterdir()), "the benchmark left files behind"
