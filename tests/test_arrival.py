"""A post is mailed when readers could first see it, not by its date alone: a Hugo page
whose `publishDate` comes weeks after its `date`, or a draft published weeks after its
date, arrives then, and the digest (which mails posts of the last [digest] wait_days,
30 by default) carries it.

Real Hugo says what the feed shows (its RSS dates the page by `date`, and leaves a draft
out); real SQLite and the outbox's .eml files show what we mailed."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from click.testing import CliRunner, Result

from publisher.cli import cli
from tests.hugo_peer import read_feeds, run_hugo

MAIL = '[mail]\nfrom = "News <news@example.org>"\n'


def publisher(config: Path, now: str, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--config", str(config), "--now", now, *args])
    assert result.exit_code == 0, result.output
    return result


def mailed(outbox: Path) -> list[str]:
    """The text part of the first message of every digest in the outbox, in order."""
    texts = []
    for folder in sorted(outbox.glob("digest-*")):
        message = email.message_from_bytes(
            sorted(folder.glob("*.eml"))[0].read_bytes(), policy=email.policy.default
        )
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        texts.append(str(body.get_content()))
    return texts


def hugo_site(root: Path, pages: dict[str, str]) -> Path:
    (root / "content" / "posts").mkdir(parents=True)
    (root / "hugo.toml").write_text(
        'baseURL = "https://arrival.example.org/"\ntitle = "Arrival"\ntimeZone = "UTC"\n'
        'disableKinds = ["taxonomy", "term"]\n',
        encoding="utf-8",
    )
    for name, front in pages.items():
        write_page(root, name, front)
    config = root / "publisher.toml"
    config.write_text(
        f'[source]\nkind = "hugo"\npath = "."\n[paths]\noutput = "feeds"\n{MAIL}',
        encoding="utf-8",
    )
    return config


def write_page(root: Path, name: str, front: str) -> None:
    (root / "content" / "posts" / name).write_text(
        f"+++\n{front}\n+++\nText of {name}.\n", encoding="utf-8"
    )


def hugo_dates(root: Path) -> dict[str, str]:
    """Title → pubDate in Hugo's own RSS, after a real `hugo` build (at today's clock)."""
    public = root / "public"
    run_hugo(root, public, (), root.parent / "hugo-cache")
    return {item.title: item.pub_date for item in read_feeds(public)["index.xml"].items}


OLD = "date = 2024-05-01T10:00:00Z"
"""Fifty days before the digest below: past [digest] wait_days."""


def test_a_page_whose_publish_date_comes_weeks_after_its_date_is_mailed_when_published(
    tmp_path: Path,
) -> None:
    root = tmp_path / "site"
    later = f'title = "Post published late"\n{OLD}\npublishDate = 2024-06-19T10:00:00Z'
    config = hugo_site(root, {"late.md": later, "old.md": f'title = "Post old"\n{OLD}'})
    # Hugo's feed dates the page by `date`, as ours does: the date alone says "old"
    assert hugo_dates(root)["Post published late"] == "Wed, 01 May 2024 10:00:00 +0000"
    publisher(config, "2024-06-10T09:00:00+00:00", "build")  # not published yet
    publisher(config, "2024-06-10T09:00:00+00:00", "subscribers", "add", "reader@example.org")
    publisher(config, "2024-06-20T09:00:00+00:00", "build")
    publisher(config, "2024-06-20T09:00:00+00:00", "digest")
    (text,) = mailed(root / "outbox")
    assert "Post published late" in text and "Post old" not in text
    publisher(config, "2024-06-27T09:00:00+00:00", "digest")
    assert len(mailed(root / "outbox")) == 1  # once


def test_a_draft_published_weeks_after_its_date_is_mailed_once(tmp_path: Path) -> None:
    root = tmp_path / "site"
    config = hugo_site(root, {"draft.md": f'title = "Post long drafted"\n{OLD}\ndraft = true'})
    assert "Post long drafted" not in hugo_dates(root)
    publisher(config, "2024-05-02T09:00:00+00:00", "build")
    publisher(config, "2024-05-02T09:00:00+00:00", "subscribers", "add", "reader@example.org")
    write_page(root, "draft.md", f'title = "Post long drafted"\n{OLD}\ndraft = false')
    assert hugo_dates(root)["Post long drafted"] == "Wed, 01 May 2024 10:00:00 +0000"
    for moment in ("2024-06-20T09:00:00+00:00", "2024-06-27T09:00:00+00:00"):
        publisher(config, moment, "build")
        publisher(config, moment, "digest")
    (text,) = mailed(root / "outbox")  # the site's first digest, and only once
    assert "Post long drafted" in text


def test_a_first_build_long_after_a_sites_posts_mails_none_of_them(tmp_path: Path) -> None:
    # Without an earlier build, a post arrived at its date (or publishDate): switching an
    # old site to publisher does not make its archive new.
    root = tmp_path / "site"
    pages = {
        "a.md": f'title = "Post a"\n{OLD}',
        "b.md": f'title = "Post b"\n{OLD}\npublishDate = 2024-05-03T10:00:00Z',
        "c.md": 'title = "Post c"\ndate = 2024-06-18T10:00:00Z',
    }
    config = hugo_site(root, pages)
    publisher(config, "2024-06-20T09:00:00+00:00", "subscribers", "add", "reader@example.org")
    publisher(config, "2024-06-20T09:00:00+00:00", "build")
    publisher(config, "2024-06-20T09:00:00+00:00", "digest")
    (text,) = mailed(root / "outbox")
    assert "Post c" in text and "Post a" not in text and "Post b" not in text


def test_a_reader_who_subscribes_after_a_late_page_arrived_still_gets_it(tmp_path: Path) -> None:
    # What readers were sent is remembered by when each post arrived: a post dated fifty
    # days back, mailed to one reader, is not forgotten (and so kept from the others) at once
    root = tmp_path / "site"
    later = f'title = "Post published late"\n{OLD}\npublishDate = 2024-06-19T10:00:00Z'
    config = hugo_site(root, {"late.md": later, "old.md": f'title = "Post old"\n{OLD}'})
    publisher(config, "2024-06-10T09:00:00+00:00", "build")
    publisher(config, "2024-06-10T09:00:00+00:00", "subscribers", "add", "first@example.org")
    publisher(config, "2024-06-20T09:00:00+00:00", "build")
    publisher(config, "2024-06-20T09:00:00+00:00", "digest")
    publisher(config, "2024-06-21T09:00:00+00:00", "subscribers", "add", "second@example.org")
    publisher(config, "2024-06-21T09:00:00+00:00", "digest")
    _, second = sorted((root / "outbox").glob("digest-*"))
    assert [path.name for path in second.glob("*.eml")] == ["00000002.eml"]  # the new reader
    (text,) = mailed(root / "outbox")[1:]
    assert "Post published late" in text
