"""A post file renamed and edited in one build is the same post when readers would say
so: the same link, else the same title and date. It keeps its id, its dates and its place
in what was mailed; its content is the new one. Anything less than a one-to-one match is
a new post, with a warning naming the files.

Real builds and digests through the CLI, real SQLite, feedparser on our feeds, the
outbox's .eml files; the real Jekyll and Hugo say where the renamed file's URL is."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import feedparser
from click.testing import CliRunner

from publisher.cli import cli
from tests.jekyll_peer import JekyllPeer
from tests.test_lasting_ids import (
    LATER,
    folder_site,
    hugo_guids,
    hugo_site,
    jekyll_ids,
    jekyll_site,
    mailed_titles,
    publisher,
    write_post,
)

LATEST = "2024-06-22T09:00:00+00:00"


def entries(feed: Path) -> dict[str, tuple[str, str, str]]:
    """Title → (id, link, content) of every entry of a feed, as feedparser reads them."""
    return {
        e.title: (e.id, e.link, e.content[0].value)
        for e in feedparser.parse(feed.read_bytes()).entries
    }


def mailed_once(config: Path, outbox: Path, *titles: str) -> None:
    """Subscribe a reader and send the first digest: it holds `titles`."""
    publisher(config, "subscribers", "add", "reader@example.org")
    publisher(config, "digest")
    assert mailed_titles(outbox) == [list(titles)]


def rename_and_edit(old: Path, new: Path, edit: tuple[str, str] = ("", "")) -> None:
    text = old.read_text(encoding="utf-8").replace(*edit) if edit[0] else old.read_text("utf-8")
    new.write_text(text + "A line added while renaming.\n", encoding="utf-8")
    old.unlink()


# the same link ----------------------------------------------------------------------


def test_folder_post_renamed_and_edited_at_its_link_keeps_its_id_and_is_not_mailed_again(
    tmp_path: Path,
) -> None:
    config = folder_site(tmp_path)
    write_post(tmp_path, "later2.md", "title: Post later\ndate: 2024-06-19")
    publisher(config, "build")
    feed = tmp_path / "public" / "feed.atom"
    before = entries(feed)
    mailed_once(config, tmp_path / "outbox", "Post later")

    content = tmp_path / "content"
    rename_and_edit(content / "later2.md", content / "later-two.md")
    result = publisher(config, "build", now=LATER)
    assert "warning:" not in result.output
    after = entries(feed)
    assert after["Post later"][:2] == before["Post later"][:2]  # same id, same link
    assert "A line added while renaming." in after["Post later"][2]  # the new content
    assert "nothing sent" in publisher(config, "digest", now=LATER).output
    assert mailed_titles(tmp_path / "outbox") == [["Post later"]]


def test_jekyll_post_renamed_and_edited_at_its_link_keeps_its_id_and_is_not_mailed_again(
    jekyll_peer: JekyllPeer, tmp_path: Path
) -> None:
    config = jekyll_site(tmp_path, "/:year/:title/")
    theirs_before = jekyll_ids(tmp_path)
    publisher(config, "build")
    feed = tmp_path / "public" / "feed.xml"
    before = entries(feed)
    mailed_once(config, tmp_path / "outbox", "Post recent")

    posts = tmp_path / "_posts"
    # A permalink keeps the URL the file's old name gave it; jekyll-feed's id follows the
    # new name (a new post to its readers), ours stays.
    rename_and_edit(
        posts / "2024-06-18-recent.md",
        posts / "2024-06-18-recent-post.md",
        ("title: Post recent\n", "title: Post recent\npermalink: /2024/recent/\n"),
    )
    link = "https://lasting.example.org/2024/recent/"
    theirs_after = jekyll_ids(tmp_path)
    assert theirs_after[link] != theirs_before[link] == before["Post recent"][0]
    publisher(config, "build", now=LATER)
    after = entries(feed)
    assert after["Post recent"][:2] == (before["Post recent"][0], link)
    assert "A line added while renaming." in after["Post recent"][2]
    publisher(config, "digest", now=LATER)
    assert mailed_titles(tmp_path / "outbox") == [["Post recent"]]


def test_hugo_page_renamed_and_edited_at_its_link_keeps_its_guid_and_is_not_mailed_again(
    tmp_path: Path,
) -> None:
    root = tmp_path / "site"
    config = hugo_site(root)  # permalinks /:year/:title/: renaming the file keeps the URL
    publisher(config, "build")
    rss = root / "feeds" / "index.xml"
    kept = entries(rss)["Post teh typo"][0]
    mailed_once(config, root / "outbox", "Post teh typo")
    pages = root / "content" / "posts"
    typo = pages / "typo.md"
    typo.write_text(typo.read_text(encoding="utf-8").replace("teh", "the"), encoding="utf-8")
    publisher(config, "build", now=LATER)  # its URL moved; it keeps its guid

    rename_and_edit(typo, pages / "typo-two.md")
    link = "https://hugo.example.org/2024/post-the-typo/"
    assert hugo_guids(root)[link] == link  # the real Hugo's guid is the URL
    publisher(config, "build", now=LATEST)
    after = entries(rss)
    assert after["Post the typo"][:2] == (kept, link) and kept != link
    assert "A line added while renaming." in after["Post the typo"][2]
    publisher(config, "digest", now=LATEST)
    assert mailed_titles(root / "outbox") == [["Post teh typo"]]


# the same title and date --------------------------------------------------------------


def test_a_post_moved_to_another_link_with_its_title_and_date_keeps_its_id(
    tmp_path: Path,
) -> None:
    config = folder_site(tmp_path)
    write_post(tmp_path, "a.md", "title: Post a\ndate: 2024-06-19")
    write_post(tmp_path, "b.md", "title: Post b\ndate: 2024-06-18")
    publisher(config, "build")
    feed = tmp_path / "public" / "feed.atom"
    before = entries(feed)
    mailed_once(config, tmp_path / "outbox", "Post a", "Post b")

    content = tmp_path / "content"
    rename_and_edit(content / "a.md", content / "moved.md", ("date:", "slug: elsewhere\ndate:"))
    publisher(config, "build", now=LATER)
    after = entries(feed)
    assert after["Post a"][:2] == (before["Post a"][0], "https://folder.example.org/elsewhere/")
    assert after["Post b"] == before["Post b"]
    assert "nothing sent" in publisher(config, "digest", now=LATER).output


def test_a_new_post_with_a_deleted_posts_title_but_another_date_is_new(tmp_path: Path) -> None:
    config = folder_site(tmp_path)
    write_post(tmp_path, "weekly.md", "title: Post weekly\ndate: 2024-06-18\nslug: weekly-24")
    publisher(config, "build")
    feed = tmp_path / "public" / "feed.atom"
    before = entries(feed)
    mailed_once(config, tmp_path / "outbox", "Post weekly")

    (tmp_path / "content" / "weekly.md").unlink()
    write_post(tmp_path, "weekly-25.md", "title: Post weekly\ndate: 2024-06-21\nslug: weekly-25")
    publisher(config, "build", now=LATER)
    assert entries(feed)["Post weekly"][0] != before["Post weekly"][0]
    publisher(config, "digest", now=LATER)
    assert mailed_titles(tmp_path / "outbox") == [["Post weekly"], ["Post weekly"]]


def test_a_new_post_like_one_still_there_or_one_gone_before_is_new(tmp_path: Path) -> None:
    config = folder_site(tmp_path)
    write_post(tmp_path, "a.md", "title: Post a\ndate: 2024-06-19")
    write_post(tmp_path, "b.md", "title: Post b\ndate: 2024-06-19")
    publisher(config, "build")
    feed = tmp_path / "public" / "feed.atom"
    before = entries(feed)
    write_post(tmp_path, "a-again.md", "title: Post a\ndate: 2024-06-19\nslug: a-again")
    (tmp_path / "content" / "b.md").unlink()
    publisher(config, "build", now=LATER)  # b.md went away in this build...
    write_post(tmp_path, "b-again.md", "title: Post b\ndate: 2024-06-19\nslug: b-again")
    publisher(config, "build", now=LATEST)  # ...and b-again.md came in the next
    feeds = feedparser.parse(feed.read_bytes()).entries
    ids = {e.link.rstrip("/").rsplit("/", 1)[1]: e.id for e in feeds}
    assert ids["post-a"] == before["Post a"][0]
    assert ids["a-again"] != before["Post a"][0]  # a.md is still there: not a rename
    assert ids["b-again"] != before["Post b"][0]


# no one-to-one match ------------------------------------------------------------------


def test_a_new_file_like_two_that_went_away_is_new_with_a_warning(tmp_path: Path) -> None:
    config = folder_site(tmp_path)
    for name in ("x", "y"):
        write_post(tmp_path, f"{name}.md", f"title: Post same\ndate: 2024-06-19\nslug: {name}")
    publisher(config, "build")
    feed = tmp_path / "public" / "feed.atom"
    before = {e.id for e in feedparser.parse(feed.read_bytes()).entries}
    mailed_once(config, tmp_path / "outbox", "Post same", "Post same")

    for name in ("x", "y"):
        (tmp_path / "content" / f"{name}.md").unlink()
    write_post(tmp_path, "z.md", "title: Post same\ndate: 2024-06-19\nslug: z")
    result = CliRunner().invoke(cli, ["--config", str(config), "--now", LATER, "build"])
    assert result.exit_code == 0, result.output
    assert "warning: z.md: published as a new post: it has the title and date of x.md and y.md" in (
        result.stderr
    )
    (entry,) = feedparser.parse(feed.read_bytes()).entries
    assert entry.id not in before


def test_two_new_files_like_one_that_went_away_are_both_new_with_a_warning(tmp_path: Path) -> None:
    config = folder_site(tmp_path)
    write_post(tmp_path, "x.md", "title: Post same\ndate: 2024-06-19\nslug: x")
    publisher(config, "build")
    feed = tmp_path / "public" / "feed.atom"
    (old,) = (e.id for e in feedparser.parse(feed.read_bytes()).entries)

    (tmp_path / "content" / "x.md").unlink()
    for name in ("y", "z"):
        write_post(tmp_path, f"{name}.md", f"title: Post same\ndate: 2024-06-19\nslug: {name}")
    result = CliRunner().invoke(cli, ["--config", str(config), "--now", LATER, "build"])
    assert result.exit_code == 0, result.output
    assert (
        "warning: y.md and z.md: each published as a new post: each has the title and date "
        "of x.md, which went away" in result.stderr
    )
    ids = [e.id for e in feedparser.parse(feed.read_bytes()).entries]
    assert len(ids) == 2 and old not in ids


# a state from before links were kept ----------------------------------------------------


def test_a_state_from_before_links_were_kept_matches_by_bytes_then_keeps_links(
    tmp_path: Path,
) -> None:
    config = folder_site(tmp_path)
    write_post(tmp_path, "same.md", "title: Post same\ndate: 2024-06-19")
    write_post(tmp_path, "edited.md", "title: Post edited\ndate: 2024-06-18")
    publisher(config, "build")
    feed = tmp_path / "public" / "feed.atom"
    before = entries(feed)
    mailed_once(config, tmp_path / "outbox", "Post same", "Post edited")
    state = tmp_path / "state" / "publisher.sqlite3"
    with sqlite3.connect(state) as db:  # back to the schema the release before left
        (version,) = db.execute("SELECT max(version) FROM schema_migrations").fetchone()
        db.execute("DELETE FROM schema_migrations WHERE version = ?", (version,))
        for column in ("link", "title", "published", "gone"):
            db.execute(f"ALTER TABLE post_files DROP COLUMN {column}")
    db.close()

    content = tmp_path / "content"
    (content / "same.md").rename(content / "same-renamed.md")
    publisher(config, "build", now=LATER)  # migrates, matches by bytes, keeps the links
    assert entries(feed) == before
    with sqlite3.connect(state) as db:
        links = db.execute("SELECT source_name, link FROM post_files ORDER BY 1").fetchall()
    db.close()
    assert links == [
        ("edited.md", "https://folder.example.org/post-edited/"),
        ("same-renamed.md", "https://folder.example.org/post-same/"),
    ]
    rename_and_edit(content / "edited.md", content / "edited-renamed.md")
    publisher(config, "build", now=LATEST)
    assert entries(feed)["Post edited"][0] == before["Post edited"][0]
    assert "nothing sent" in publisher(config, "digest", now=LATEST).output
