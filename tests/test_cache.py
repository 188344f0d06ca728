"""The build cache is never wrong: after every change, a build writes what a cold build writes.

A "cold" build is the same site copied into another folder without its build
cache (state/cache.sqlite3) or its output, keeping only the state database's
first-seen dates, then built at the same `now`.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from publisher.build.cache import cache_path
from publisher.build.pipeline import BuildReport, build, load_posts
from publisher.core.config import Config
from publisher.core.errors import ContentError
from publisher.core.parallel import shared_map
from publisher.render.template_files import builtin_templates
from publisher.site_config import load_config
from publisher.sources import base as content
from publisher.state.cache_db import CACHE_FORMAT
from tests.conftest import NOW, ROOT

CONFIG = """\
[site]
title = "Cache test"
base_url = "https://example.org"
id_authority = "example.org,2024"
timezone = "Asia/Seoul"
language = "en"
author = "Editor"
permalink = "/:year/:slug/"

[feeds]
limit = 3
"""


def post(title: str, body: str = "<p>Body.</p>", **fields: str) -> str:
    lines = [f"title: {title}"] + [f"{key}: {value}" for key, value in fields.items()]
    return "---\n" + "\n".join(lines) + "\n---\n" + body + "\n"


POSTS = {
    "a.md": post(
        "Alpha one",
        "Some *Markdown* with [a link](../other/) and ![a picture](img/a.png).",
        date="2024-06-01",
        categories="[Alpha]",
        image="pics/a.png",
    ),
    "b.html": post("Beta", "<p>HTML <img src='/b.png'></p>", date="2024-06-02", category="Beta"),
    "2024-05-01-named.md": post("Named by its file", "First paragraph.\n\nSecond."),
    "sub/undated.md": post("Dated when first seen", "Found late.", categories="[Alpha, Beta]"),
    "future.md": post("Not yet", date="2024-07-01T09:00:00+09:00", categories="[Alpha]"),
    "draft.md": post("Draft", draft="true"),
    **{
        f"old/{n}.md": post(
            f"Old {n}", f"Old post {n}.", date=f"2023-01-0{n}", categories="[Alpha]"
        )
        for n in range(1, 7)
    },
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "content").mkdir(parents=True)
    (root / "config.toml").write_text(CONFIG, encoding="utf-8")
    shutil.copytree(builtin_templates(), root / "templates")
    for name, text in POSTS.items():
        write(root, name, text)
    return root


def write(root: Path, name: str, text: str) -> Path:
    path = root / "content" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def config_of(root: Path) -> Config:
    return load_config(root / "config.toml")


def produced(root: Path, report: BuildReport) -> dict[str, bytes]:
    """Every file the build wrote or found already right, with its bytes."""
    names = report.files.written + report.files.unchanged
    return {name: (root / "public" / name).read_bytes() for name in sorted(names)}


def cold_copy(root: Path) -> Path:
    """The site copied without its cache or output, first-seen dates kept."""
    copies = sorted(root.parent.glob("cold-*"))
    copy = root.parent / f"cold-{len(copies)}"
    copy.mkdir()
    shutil.copy(root / "config.toml", copy / "config.toml")
    shutil.copytree(root / "content", copy / "content")
    shutil.copytree(root / "templates", copy / "templates")
    state = root / "state" / "publisher.sqlite3"
    if state.exists():
        (copy / "state").mkdir()
        with (
            closing(sqlite3.connect(state)) as source,
            closing(sqlite3.connect(copy / "state" / "publisher.sqlite3")) as target,
        ):
            source.backup(target)
    return copy


def build_like_cold(root: Path, now: datetime = NOW) -> BuildReport:
    """Build `root` and check that it produced what a cold build of the same site does."""
    copy = cold_copy(root)
    cold = build(config_of(copy), now)
    assert cold.site.cache_update.stats.stat_hits + cold.site.cache_update.stats.hash_hits == 0
    report = build(config_of(root), now)
    assert produced(root, report) == produced(copy, cold)
    assert report.posts == cold.posts
    return report


def stats(report: BuildReport) -> content.CacheStats:
    return report.site.cache_update.stats


# the cache gives the same output as no cache ---------------------------------------


def test_a_rebuild_with_nothing_changed_reads_no_post_and_writes_nothing(site: Path) -> None:
    first = build_like_cold(site)
    assert not first.nothing_changed
    assert stats(first).parsed == len(POSTS)

    again = build_like_cold(site)
    assert again.nothing_changed
    assert again.files.written == ()
    assert again.summary().startswith(
        f"built {first.posts} posts: 0 files written, {len(first.files.written)} unchanged"
    )
    assert [p.id for p in again.site.posts] == [p.id for p in first.site.posts]


def test_edits_renames_deletions_and_additions(site: Path) -> None:
    build_like_cold(site)

    write(site, "a.md", POSTS["a.md"].replace("Some *Markdown*", "Edited *Markdown*"))
    edited = build_like_cold(site)
    assert not edited.nothing_changed
    assert stats(edited).parsed == 1
    assert stats(edited).stat_hits + stats(edited).hash_hits == len(POSTS) - 1
    assert "Edited <em>Markdown</em>" in (site / "public" / "feed.json").read_text("utf-8")

    write(site, "b.html", POSTS["b.html"].replace("category: Beta", "category: Gamma"))
    build_like_cold(site)
    assert (site / "public" / "categories" / "gamma" / "feed.atom").exists()

    (site / "content" / "old" / "1.md").rename(site / "content" / "old" / "renamed.md")
    build_like_cold(site)

    # Same bytes, other kind: Markdown no more.
    (site / "content" / "a.md").rename(site / "content" / "a.html")
    as_html = build_like_cold(site)
    assert "Edited *Markdown*" in (site / "public" / "feed.json").read_text("utf-8")
    assert stats(as_html).parsed == 1

    (site / "content" / "b.html").unlink()
    build_like_cold(site)

    write(site, "new/undated-too.md", post("Another undated post"))
    added = build_like_cold(site, NOW + timedelta(hours=1))
    assert stats(added).parsed == 1
    build_like_cold(site, NOW + timedelta(hours=2))


def test_touching_a_file_without_changing_it_rehashes_it_but_parses_nothing(site: Path) -> None:
    build_like_cold(site)
    path = site / "content" / "a.md"
    later = path.stat().st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(later, later))

    touched = build_like_cold(site)
    assert not touched.nothing_changed  # the mtime is an input
    assert stats(touched).parsed == 0
    assert stats(touched).hash_hits >= 1
    assert build_like_cold(site).nothing_changed


def test_an_edit_that_keeps_size_and_mtime_right_after_a_build_is_seen(site: Path) -> None:
    """A second change within the same clock tick keeps the mtime: recent files are rehashed."""
    path = write(site, "a.md", POSTS["a.md"])
    build_like_cold(site)
    stat = path.stat()
    path.write_text(POSTS["a.md"].replace("Alpha one", "Alpha uno"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size

    report = build_like_cold(site)
    assert not report.nothing_changed
    assert "Alpha uno" in (site / "public" / "feed.atom").read_text("utf-8")


def test_settings_templates_output_and_time_are_inputs_too(site: Path) -> None:
    build_like_cold(site)

    config = site / "config.toml"
    config.write_text(CONFIG.replace("https://example.org", "https://news.example.net"), "utf-8")
    moved = build_like_cold(site)
    assert stats(moved).parsed == len(POSTS)  # [site] changed: the cache started over
    assert "https://news.example.net/2024/alpha-one/" in (site / "public" / "feed.rss").read_text(
        "utf-8"
    )

    index = site / "templates" / "site" / "index.html.j2"
    index.write_text(index.read_text("utf-8").replace("</body>", "<!-- new --></body>"), "utf-8")
    assert not build_like_cold(site).nothing_changed
    assert b"<!-- new -->" in (site / "public" / "index.html").read_bytes()

    feed = site / "public" / "feed.atom"
    feed.write_bytes(b"someone else's feed")
    rewritten = build_like_cold(site)
    assert "feed.atom" in rewritten.files.written

    (site / "public" / "feed.json").unlink()
    assert "feed.json" in build_like_cold(site).files.written

    published = build_like_cold(site, NOW + timedelta(days=12))
    assert not published.nothing_changed
    assert "Not yet" in [p.title for p in published.site.posts]
    assert build_like_cold(site, NOW + timedelta(days=12, hours=1)).nothing_changed
    assert not build_like_cold(site, NOW).nothing_changed  # back before that date


# a damaged or foreign cache is not trusted -------------------------------------------


def _tamper_titles(root: Path) -> None:
    """Change every cached title: a build that trusted the cache would show them."""
    with closing(sqlite3.connect(cache_path(config_of(root)))) as db, db:
        for name, record in db.execute("SELECT name, record FROM sources").fetchall():
            fields = json.loads(record)
            fields[0] = "TAMPERED"
            db.execute("UPDATE sources SET record = ? WHERE name = ?", (json.dumps(fields), name))
        db.execute("UPDATE rendered SET html = '<p>TAMPERED</p>'")
        db.execute("DELETE FROM meta WHERE key LIKE 'note:%'")


def test_a_cache_of_another_format_is_rebuilt_not_trusted(site: Path) -> None:
    build_like_cold(site)
    _tamper_titles(site)
    with closing(sqlite3.connect(cache_path(config_of(site)))) as db:
        db.execute(f"PRAGMA user_version = {CACHE_FORMAT - 1}")

    report = build_like_cold(site)
    assert stats(report).parsed == len(POSTS)
    assert b"TAMPERED" not in (site / "public" / "feed.json").read_bytes()
    assert build_like_cold(site).nothing_changed


def test_a_cache_made_by_other_code_or_settings_is_rebuilt_not_trusted(site: Path) -> None:
    build_like_cold(site)
    _tamper_titles(site)
    with closing(sqlite3.connect(cache_path(config_of(site)))) as db, db:
        db.execute("UPDATE meta SET value = 'another' WHERE key = 'fingerprint'")

    assert stats(build_like_cold(site)).parsed == len(POSTS)


def test_garbage_in_place_of_the_cache_is_replaced_without_a_word(site: Path) -> None:
    build_like_cold(site)
    path = cache_path(config_of(site))
    for side in path.parent.glob(path.name + "-*"):
        side.unlink()
    path.write_bytes(os.urandom(4096))

    report = build_like_cold(site)
    assert report.warnings == ()
    assert stats(report).parsed == len(POSTS)
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == len(POSTS)


def test_an_unreadable_record_is_parsed_again(site: Path) -> None:
    build_like_cold(site)
    with closing(sqlite3.connect(cache_path(config_of(site)))) as db, db:
        db.execute("UPDATE sources SET record = '[\"not\", \"a post\"]' WHERE name = 'a.md'")
        db.execute("DELETE FROM meta WHERE key LIKE 'note:%'")
    assert stats(build_like_cold(site)).parsed == 1


def test_a_cache_that_cannot_be_opened_means_a_cold_build_and_a_warning(site: Path) -> None:
    path = cache_path(config_of(site))
    path.mkdir(parents=True)  # not a file SQLite can open, even for root

    report = build_like_cold(site)
    assert stats(report).parsed == len(POSTS)
    assert any("cache" in warning for warning in report.warnings)
    assert not build_like_cold(site).nothing_changed


# what the cache must not change -------------------------------------------------------


def test_a_bad_post_outside_every_feed_fails_the_build_listing_every_problem(site: Path) -> None:
    build_like_cold(site)
    write(site, "old/2.md", "---\ntitle: [unclosed\n---\nBody\n")
    write(site, "old/3.md", post("Old 3", date="2023-02-30"))
    with pytest.raises(ContentError) as caught:
        build(config_of(site), NOW)
    wheres = sorted(problem.where for problem in caught.value.problems)
    assert wheres[0].startswith("content/old/2.md") and wheres[1] == "content/old/3.md"

    write(site, "old/2.md", POSTS["old/2.md"])
    write(site, "old/3.md", POSTS["old/3.md"])
    build_like_cold(site)


def test_only_posts_a_feed_or_the_index_shows_are_rendered(site: Path) -> None:
    for n in range(1, 10):
        write(site, f"older/{n}.md", post(f"Older {n}", date=f"2020-01-0{n}", categories="[Alpha]"))
    report = build_like_cold(site)
    assert report.site.with_content is not None
    assert stats(report).rendered == len(report.site.with_content) < len(report.site.posts)
    unrendered = [p for p in report.site.posts if not report.site.has_content(p)]
    assert {p.source_name for p in unrendered} >= {"older/1.md", "older/2.md"}
    assert all(p.content_html == p.summary == "" for p in unrendered)


def test_load_posts_reads_the_cache_but_never_writes_it(site: Path) -> None:
    config = config_of(site)
    first = load_posts(config, NOW)
    assert not cache_path(config).exists()
    build(config, NOW)
    before = cache_path(config).read_bytes()

    cached = load_posts(config, NOW)
    assert stats_of(cached).stat_hits + stats_of(cached).hash_hits == len(POSTS)
    assert cache_path(config).read_bytes() == before
    assert [(p.id, p.content_html, p.summary) for p in cached.posts] == [
        (p.id, p.content_html, p.summary) for p in first.posts
    ]


def stats_of(site: content.LoadedSite) -> content.CacheStats:
    return site.cache_update.stats


# sharing the work with forked helpers ---------------------------------------------


def _build_in_a_process(root: Path, parallel_from: int) -> dict[str, Any]:
    """`build` in a fresh single-threaded process, helpers from `parallel_from` files."""
    script = textwrap.dedent(
        """
        import hashlib, json, sys
        from datetime import datetime
        from pathlib import Path
        from publisher.sources import loading
        from publisher.build.pipeline import build
        from publisher.site_config import load_config
        from publisher.core.errors import ContentError
        loading.PARALLEL_FROM = int(sys.argv[1])
        root, now = Path(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
        try:
            report = build(load_config(root / "config.toml"), now)
        except ContentError as e:
            print(json.dumps({"problems": [str(problem) for problem in e.problems]}))
            sys.exit()
        names = report.files.written + report.files.unchanged
        files = {n: hashlib.sha256((root / "public" / n).read_bytes()).hexdigest() for n in names}
        print(json.dumps({"helpers": report.site.cache_update.stats.helpers, "files": files}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(parallel_from), str(root), NOW.isoformat()],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return dict(json.loads(result.stdout))


def test_helpers_build_exactly_what_one_process_builds(site: Path) -> None:
    for n in range(150):
        moment = f"2024-06-{n % 17 + 3:02d}T{n % 24:02d}:{n % 60:02d}:00+09:00"
        fields = {"date": moment, "categories": f"[Group {n % 5}]"}
        write(site, f"many/{n:03d}.md", post(f"Post {n}", f"Text *{n}*.", **fields))
    write(site, "many/bad.md", "---\ntitle: ''\n---\n")
    alone = cold_copy(site)
    assert (
        _build_in_a_process(site, 50)
        == _build_in_a_process(alone, 10**9)
        == {"problems": ["content/many/bad.md: `title` is missing or empty"]}
    )

    (site / "content" / "many" / "bad.md").unlink()
    (alone / "content" / "many" / "bad.md").unlink()
    with_helpers = _build_in_a_process(site, 50)
    without = _build_in_a_process(alone, 10**9)
    assert with_helpers["helpers"] >= 1
    assert without["helpers"] == 0
    assert with_helpers["files"] == without["files"]
    assert len(with_helpers["files"]) == 3 * 8 + 1  # the site, Alpha, Beta and 5 groups


def _children() -> set[str]:
    """This process's children (Linux)."""
    tasks = Path("/proc/self/task")
    return {pid for task in tasks.iterdir() for pid in (task / "children").read_text().split()}


def _double_unless_helper(parent: int, job: int) -> int:
    if os.getpid() != parent:
        os._exit(1)  # a helper that dies before sending anything
    return job * 2


def test_a_helper_that_dies_costs_time_not_results() -> None:
    before = _children()
    jobs = list(range(500))
    parent = os.getpid()
    doubled = shared_map(jobs, lambda job: _double_unless_helper(parent, job), helpers=2)
    assert doubled == [job * 2 for job in jobs]
    assert _children() == before


def test_an_error_in_a_job_is_raised_as_without_helpers() -> None:
    before = _children()

    def fails_at_300(job: int) -> int:
        if job == 300:
            raise ValueError("job 300")
        return job

    with pytest.raises(ValueError, match="job 300"):
        shared_map(list(range(500)), fails_at_300, helpers=1)
    assert _children() == before


def test_what_helpers_do_is_absorbed_here_in_order(tmp_path: Path) -> None:
    started = tmp_path / "a helper started"

    def here(job: int) -> tuple[str, int]:
        if job == 0:  # wait for the helper (30 s at most), so that it surely takes a chunk
            for _ in range(3000):
                if started.exists():
                    break
                time.sleep(0.01)
        return ("here", job)

    def there(job: int) -> int:
        started.touch()
        return job

    results = shared_map(
        list(range(1000)),
        here,
        helpers=1,
        remote=there,
        absorb=lambda job, result: ("absorbed", result),
    )
    assert {kind for kind, _ in results} == {"here", "absorbed"}
    assert [job for _, job in results] == list(range(1000))
