"""No leftovers (issue 12, item 9): a build killed mid-write leaves a temp file, and the
next build removes it, but only our own names, only old ones, never a live writer's."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from publisher.build.pipeline import build
from publisher.core.config import Config
from publisher.outputs.files import DEAD_WRITER_AGE, LEFTOVER_AGE, remove_leftovers
from tests.conftest import NOW, ROOT

KILLED_WHILE_RENAMING = textwrap.dedent(
    """
    import os, signal, sys
    rename = os.replace
    def killed_before_feed_atom_lands(source, target, *args, **kwargs):
        if str(target).endswith("feed.atom"):
            os.kill(os.getpid(), signal.SIGKILL)  # kill -9 between writing and renaming
        return rename(source, target, *args, **kwargs)
    os.replace = killed_before_feed_atom_lands
    from publisher.cli import main
    sys.argv = ["publisher", "--config", sys.argv[1], "--now", sys.argv[2], "build"]
    main()
    """
)


def temp_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob(".*") if p.name.endswith(".tmp"))


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_build_killed_mid_write_leaves_a_temp_file_the_next_build_removes(
    config: Config,
) -> None:
    """Reproduces item 9: `kill -9` during `build` left `public/.feed.atom.*.tmp` in the web
    root, and later builds never removed it."""
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_RENAMING, str(config.file), NOW.isoformat()],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert killed.returncode == -9, killed.stderr
    public = config.paths.output
    (leftover,) = temp_files(public)
    age(leftover, DEAD_WRITER_AGE + 5)  # the next build comes a little later

    build(config, NOW)

    assert temp_files(public) == []
    assert (public / "feed.atom").is_file()
    assert leftover.name.startswith(".feed.atom.publisher-")  # a name we recognise


def test_only_our_old_temp_files_go_never_a_live_writers_or_anyone_elses(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "public"
    (folder / "sub").mkdir(parents=True)
    live = folder / f".feed.rss.publisher-{os.getpid()}-abc123.tmp"  # this process: alive
    live_but_ancient = folder / f".feed.json.publisher-{os.getpid()}-def456.tmp"
    operators = folder / ".feed.atom.backup.tmp"  # not a name we make
    too_deep = folder / "sub" / ".feed.atom.publisher-999999999-x.tmp"  # not a folder asked
    symlink = folder / ".index.html.publisher-999999999-y.tmp"
    young_dead = folder / ".feed.atom.publisher-999999999-z.tmp"  # a writer gone a moment ago
    for path in (live, live_but_ancient, operators, too_deep):
        path.write_bytes(b"x")
        age(path, LEFTOVER_AGE - 5)
    age(live_but_ancient, LEFTOVER_AGE + 5)
    symlink.symlink_to(operators)
    young_dead.write_bytes(b"x")

    removed = remove_leftovers([folder])

    assert removed == [live_but_ancient]
    assert live.exists() and operators.exists() and too_deep.exists() and symlink.is_symlink()
    assert young_dead.exists()
