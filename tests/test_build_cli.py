"""`publisher build` and `publisher check` as a person runs them: output, exit codes, and
bad input that never costs the existing output."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from publisher import __version__
from publisher.cli import cli
from publisher.core.errors import ExitCode
from publisher.core.plural import counted
from tests.conftest import NOW
from tests.test_content import make_site, post

OLD_NS = 1_000_000_000_000_000_000


def run(config: Path, *args: str, now: str = NOW.isoformat()) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "--now", now, *args])


def snapshot(public: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(public).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(public.rglob("*"))
        if p.is_file()
    }


def built_site(tmp_path: Path) -> tuple[Path, dict[str, tuple[bytes, int]]]:
    """A site with two good posts built once; its output files aged to a known mtime."""
    make_site(
        tmp_path,
        {
            "good.md": post("Good", date="2024-06-01", categories="[News]"),
            "also.html": post("Also good"),
        },
    )
    first = run(tmp_path / "config.toml", "build")
    assert first.exit_code == 0, first.output
    public = tmp_path / "public"
    for path in public.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(OLD_NS, OLD_NS))
    return tmp_path / "config.toml", snapshot(public)


def test_build_prints_a_one_line_summary_and_warns_once_about_first_seen_dates(
    site_dir: Path,
) -> None:
    result = run(site_dir / "config.toml", "build")
    assert result.exit_code == 0, result.output
    assert result.stdout == "built 5 posts: 7 files written, 0 unchanged, 5 warnings\n"
    warnings = result.stderr.splitlines()
    assert len(warnings) == 5
    assert all(
        re.match(r"warning: 00\d_\w+\.txt: no date; recording 2024-06-20T09:00:00\+09:00 ", w)
        for w in warnings
    )

    # The dates are kept; a cron job rebuilding every few minutes stays quiet.
    again = run(site_dir / "config.toml", "build", now=(NOW + timedelta(days=1)).isoformat())
    assert again.exit_code == 0
    assert again.stdout == "built 5 posts: 0 files written, 7 unchanged, 0 warnings\n"
    assert again.stderr == ""


def test_check_lists_posts_whose_date_is_a_fallback_and_writes_nothing(tmp_path: Path) -> None:
    make_site(
        tmp_path,
        {
            "dated.md": post("Dated", date="2024-06-01"),
            "2024-05-01-named.md": post("Named"),
            "sub/unseen.md": post("Unseen"),
            "draft.md": post("Draft", draft="true"),
        },
    )
    result = run(tmp_path / "config.toml", "check")
    assert result.exit_code == 0, result.output
    warnings = result.stderr.splitlines()
    assert (
        "warning: 2024-05-01-named.md: no date; using the filename date 2024-05-01T00:00:00+09:00"
        in warnings
    )
    assert any(
        line.startswith("warning: sub/unseen.md: no date; using the first seen")
        for line in warnings
    )
    assert len(warnings) == 2
    report = result.stdout.splitlines()
    assert report[0] == "skipped: draft.md: draft"
    assert "note: [mail] from is not set: digests cannot be sent until it is" in report
    assert report[-1] == "ok: 3 posts, 2 with fallback dates"
    assert not [line for line in report if line.startswith("warning")]
    assert not (tmp_path / "public").exists()
    assert not (tmp_path / "state" / "publisher.sqlite3").exists()


def test_check_warnings_follow_the_log_format_as_builds_do(tmp_path: Path) -> None:
    make_site(
        tmp_path, {"2024-05-01-named.md": post("Named"), "dated.md": post("D", date="2024-06-01")}
    )
    config = str(tmp_path / "config.toml")
    result = CliRunner().invoke(
        cli, ["--config", config, "--now", NOW.isoformat(), "--log-format", "json", "check"]
    )
    assert result.exit_code == 0, result.output
    (line,) = result.stderr.splitlines()
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "publisher"
    assert entry["message"].startswith("2024-05-01-named.md: no date; using the filename date")
    assert result.stdout.splitlines()[-1] == "ok: 2 posts, 1 with fallback dates"
    assert not [line for line in result.stdout.splitlines() if line.startswith("warning")]


def test_check_exits_non_zero_and_lists_every_problem(tmp_path: Path) -> None:
    make_site(tmp_path, {"a.md": "", "b.md": "---\ndate: 2024-06-01\n---\n", "ok.md": post()})
    result = run(tmp_path / "config.toml", "check")
    assert result.exit_code == ExitCode.ERROR
    assert "content/a.md: is empty" in result.stderr
    assert "content/b.md: `title` is missing or empty" in result.stderr
    assert not (tmp_path / "public").exists()


BAD_POSTS: dict[str, tuple[str | bytes, str]] = {
    "bad UTF-8": (b"---\ntitle: ok\n---\n<p>caf\xe9</p>\n", "content/bad.md:4: is not valid UTF-8"),
    "bad YAML": (
        "---\ntitle: ok\nwhen: [1, 2\n---\n",
        "content/bad.md:3: front matter is not valid YAML",
    ),
    "missing title": ("---\ndate: 2024-06-01\n---\nbody\n", "content/bad.md: `title` is missing"),
    "bad date": ("---\ntitle: t\ndate: 32/13/2024\n---\n", "content/bad.md: `date`: cannot read"),
    "impossible date": (
        "---\ntitle: t\ndate: 2024-02-30\n---\n",
        "content/bad.md: `date`: cannot read '2024-02-30'",
    ),
    "duplicate id": (
        post("Dup", id="tag:example.org,2024:good"),
        "content/good.md: has the same id as content/bad.md",
    ),
    "empty file": ("", "content/bad.md: is empty"),
    "non-dict front matter": ("---\n- one\n- two\n---\n", "content/bad.md:2: front matter must be"),
    "no front matter": ("<p>just html</p>\n", "content/bad.md:1: has no front matter"),
    "front matter not closed": (
        "---\ntitle: Opened but never closed\ndate: 2024-06-01\n\n<p>The body.</p>\n",
        "content/bad.md:1: front matter is not closed",
    ),
}


@pytest.mark.parametrize("case", list(BAD_POSTS))
def test_bad_input_is_a_clear_error_and_keeps_the_old_output(tmp_path: Path, case: str) -> None:
    config, before = built_site(tmp_path)
    text, expected = BAD_POSTS[case]
    bad = tmp_path / "content" / "bad.md"
    if isinstance(text, bytes):
        bad.write_bytes(text)
    else:
        bad.write_text(text, encoding="utf-8")
    if case == "duplicate id":
        good = tmp_path / "content" / "good.md"
        good.write_text(post("Good", date="2024-06-01", id="tag:example.org,2024:good"))

    result = run(config, "build", now=(NOW + timedelta(days=1)).isoformat())

    assert result.exit_code == ExitCode.ERROR, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: content in ") and lines[0].endswith(": 1 problem")
    assert lines[1].strip().startswith(expected), lines
    assert lines[2].strip().startswith("hint: ")
    assert "Traceback" not in result.output
    assert snapshot(tmp_path / "public") == before


def test_several_bad_files_are_all_reported_in_one_run(tmp_path: Path) -> None:
    config, before = built_site(tmp_path)
    content = tmp_path / "content"
    (content / "good.md").write_text(post("Good, edited", date="2024-06-01"), encoding="utf-8")
    (content / "new.md").write_text(post("A new good post"), encoding="utf-8")
    (content / "e1.md").write_text("", encoding="utf-8")
    (content / "e2.html").write_bytes(b"---\ntitle: \xff\n---\n")
    (content / "deep" / "e3.md").parent.mkdir()
    (content / "deep" / "e3.md").write_text("---\ntitle: t\ndate: soon\n---\n", encoding="utf-8")
    (content / "e4.txt").write_text("---\ntitle: [\n---\n", encoding="utf-8")

    result = run(config, "build")

    assert result.exit_code == ExitCode.ERROR
    assert result.stderr.startswith("error: content in ")
    assert ": 4 problems\n" in result.stderr
    for name in ("content/e1.md", "content/e2.html:2", "content/deep/e3.md", "content/e4.txt:"):
        assert f"  {name}" in result.stderr, name
    assert snapshot(tmp_path / "public") == before  # nothing half-written: no edit, no new post

    for name in ("e1.md", "e2.html", "deep/e3.md", "e4.txt"):
        (content / name).unlink()
    fixed = run(config, "build", now=(NOW + timedelta(days=2)).isoformat())
    assert fixed.exit_code == 0, fixed.output
    atom = (tmp_path / "public" / "feed.atom").read_text(encoding="utf-8")
    assert "Good, edited" in atom and "A new good post" in atom


def test_a_template_error_keeps_the_old_output(tmp_path: Path) -> None:
    config, before = built_site(tmp_path)
    template = tmp_path / "templates" / "site" / "index.html.j2"
    template.write_text("{{ site.title }}\n{{ no_such_name }}\n", encoding="utf-8")
    (tmp_path / "content" / "new.md").write_text(post("New"), encoding="utf-8")
    result = run(config, "build")
    assert result.exit_code == ExitCode.ERROR
    assert "index.html.j2:2" in result.stderr
    assert snapshot(tmp_path / "public") == before


def test_config_errors_exit_2_with_every_problem_at_once(tmp_path: Path) -> None:
    config, before = built_site(tmp_path)
    config.write_text(
        '[site]\ntitel = "x"\nbase_url = "example.org"\nid_authority = "example.org,2024"\n'
        '[feeds]\nlimit = -1\nformat = ["atom"]\n',
        encoding="utf-8",
    )
    for command in ("build", "check"):
        result = run(config, command)
        assert result.exit_code == ExitCode.USAGE
        err = result.stderr
        assert "error: invalid configuration in" in err and "5 problems" in err
        assert "[site]: unknown key 'titel'" in err and "did you mean 'title'?" in err
        assert "[site] base_url: must be an absolute http(s) URL" in err
        assert "[site] title: is required" in err
        assert "[feeds] limit: must be 0 or more (got -1)" in err
        assert "[feeds]: unknown key 'format'" in err and "did you mean 'formats'?" in err
    assert snapshot(tmp_path / "public") == before


def test_a_missing_config_file_exits_2_with_a_hint(tmp_path: Path) -> None:
    result = run(tmp_path / "nowhere.toml", "build")
    assert result.exit_code == ExitCode.USAGE
    assert "error: no config file at" in result.stderr
    assert "hint: run from the site folder, or pass --config PATH" in result.stderr


def test_now_needs_a_utc_offset(site_dir: Path) -> None:
    result = run(site_dir / "config.toml", "build", now="2024-06-20T09:00:00")
    assert result.exit_code == ExitCode.USAGE
    assert "UTC offset" in result.stderr
    assert not (site_dir / "public").exists()


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"publisher, version {__version__}\n"


def test_one_of_anything_is_counted_in_the_singular_everywhere(tmp_path: Path) -> None:
    make_site(tmp_path, {"only.md": post("Only", body="<p>One.</p>")})  # no date: 1 warning
    config = tmp_path / "config.toml"
    built = run(config, "build")
    assert built.stdout == "built 1 post: 4 files written, 0 unchanged, 1 warning\n"
    checked = run(config, "check")
    assert checked.stdout.splitlines()[-1] == "ok: 1 post, 1 with fallback dates"
    status = run(config, "status")
    (last_build,) = [line for line in status.stdout.splitlines() if line.startswith("last build")]
    assert last_build.endswith(": 1 post, 4 files written, 1 warning")
    (item,) = json.loads((tmp_path / "public" / "feed.json").read_bytes())["items"]
    feed = tmp_path / "old.json"
    old = {"items": [{"id": "urn:old:1", "url": item["url"], "title": "Only"}]}
    feed.write_text(json.dumps(old), encoding="utf-8")
    adopted = run(config, "adopt", str(feed))
    assert adopted.stdout.startswith(f"adopted 1 of 1 entry of {feed}; ")
    assert "; 1 post recorded as already mailed" in adopted.stdout
    shutil.rmtree(tmp_path / "state")  # a site that never mailed anything, nor adopted
    marked = run(config, "--new-state", "digest", "--mark-sent")
    assert marked.stdout == "marked 1 post as already mailed\n", marked.output


def test_counted_nouns() -> None:
    assert [counted(n, "post") for n in (0, 1, 2)] == ["0 posts", "1 post", "2 posts"]
    assert counted(1, "entry", "entries") == "1 entry"
    assert counted(3, "entry", "entries") == "3 entries"
