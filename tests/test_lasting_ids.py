"""A post keeps the id it was first published under: renaming its file, changing the
permalink settings or fixing a title a URL is made from moves its link (as the real
Jekyll and Hugo move it) but neither makes it new to feed readers nor mails it again.

Real Jekyll + jekyll-feed and real Hugo build the same files; real SQLite, feedparser and
the outbox's .eml files check what we wrote and mailed."""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner, Result

from publisher.cli import cli
from publisher.state import migrations
from publisher.state.store import open_store
from tests.hugo_peer import read_feeds, run_hugo
from tests.jekyll_peer import JekyllPeer, parse_feed, run_jekyll

NOW = "2024-06-20T09:00:00+00:00"
LATER = "2024-06-21T09:00:00+00:00"
MAIL = '[mail]\nfrom = "News <news@example.org>"\n'


def publisher(config: Path, *args: str, now: str = NOW) -> Result:
    result = CliRunner().invoke(cli, ["--config", str(config), "--now", now, *args])
    assert result.exit_code == 0, result.output
    return result


def mailed_titles(outbox: Path) -> list[list[str]]:
    """Per digest in the outbox, in order: the subjects' post titles (from the text part)."""
    found = []
    for folder in sorted(outbox.glob("digest-*")):
        message = email.message_from_bytes(
            sorted(folder.glob("*.eml"))[0].read_bytes(), policy=email.policy.default
        )
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        found.append(str(body.get_content()))
    return [[line for line in text.splitlines() if line.startswith("Post ")] for text in found]


def atom_ids(path: Path) -> dict[str, str]:
    """Link → id of every entry of a feed, as feedparser (a reader) reads them."""
    return {entry.link: entry.id for entry in feedparser.parse(path.read_bytes()).entries}


# Jekyll ---------------------------------------------------------------------------


def jekyll_site(root: Path, permalink: str) -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(
        "title: Lasting\nurl: https://lasting.example.org\ntimezone: UTC\n"
        f"permalink: {permalink}\nplugins: [jekyll-feed]\n"
        "exclude: [config.toml, public, state, outbox]\n",
        encoding="utf-8",
    )
    for day, name in ((1, "old"), (18, "recent")):
        (root / "_posts" / f"2024-06-{day:02d}-{name}.md").write_text(
            f"---\ntitle: Post {name}\n---\nAbout {name}.\n", encoding="utf-8"
        )
    config = root / "config.toml"
    config.write_text(f'[source]\nkind = "jekyll"\npath = "."\n{MAIL}', encoding="utf-8")
    return config


def jekyll_ids(root: Path) -> dict[str, str]:
    """Link → id of jekyll-feed's feed after a real `jekyll build`."""
    run_jekyll(root, [root / "_config.yml"], drafts=False)
    return {entry.link: entry.id for entry in parse_feed(root / "_site" / "feed.xml")}


def test_a_renamed_jekyll_post_and_a_new_permalink_keep_ids_and_mail_nothing_again(
    jekyll_peer: JekyllPeer, tmp_path: Path
) -> None:
    config = jekyll_site(tmp_path, "/:year/:title/")
    theirs_before = jekyll_ids(tmp_path)
    publisher(config, "build")
    ours_before = atom_ids(tmp_path / "public" / "feed.xml")
    assert ours_before == theirs_before  # the same links and ids as jekyll-feed's at first
    publisher(config, "subscribers", "add", "reader@example.org")
    publisher(config, "digest")
    assert mailed_titles(tmp_path / "outbox") == [["Post recent"]]

    posts = tmp_path / "_posts"
    (posts / "2024-06-18-recent.md").rename(posts / "2024-06-18-recent-post.md")
    theirs_renamed = jekyll_ids(tmp_path)
    new_link = "https://lasting.example.org/2024/recent-post/"
    assert new_link in theirs_renamed  # Jekyll moved it: a new link and a new id
    assert theirs_renamed[new_link] not in theirs_before.values()
    publisher(config, "build", now=LATER)
    ours_renamed = atom_ids(tmp_path / "public" / "feed.xml")
    assert set(ours_renamed) == set(theirs_renamed)  # our link follows Jekyll's
    assert ours_renamed[new_link] == theirs_before["https://lasting.example.org/2024/recent/"]

    config_yml = tmp_path / "_config.yml"
    config_yml.write_text(
        config_yml.read_text(encoding="utf-8").replace("/:year/:title/", "pretty"),
        encoding="utf-8",
    )
    theirs_pretty = jekyll_ids(tmp_path)
    assert not set(theirs_pretty.values()) & set(theirs_before.values())  # every id changed
    publisher(config, "build", now=LATER)
    ours_pretty = atom_ids(tmp_path / "public" / "feed.xml")
    assert set(ours_pretty) == set(theirs_pretty)
    assert sorted(ours_pretty.values()) == sorted(theirs_before.values())  # nothing new to read
    publisher(config, "digest", now=LATER)
    assert mailed_titles(tmp_path / "outbox") == [["Post recent"]]  # and nothing mailed again


# Hugo -----------------------------------------------------------------------------


def hugo_site(root: Path) -> Path:
    (root / "content" / "posts").mkdir(parents=True)
    (root / "hugo.toml").write_text(
        'baseURL = "https://hugo.example.org/"\ntitle = "Lasting"\ntimeZone = "UTC"\n'
        'disableKinds = ["taxonomy", "term"]\n[permalinks]\nposts = "/:year/:title/"\n',
        encoding="utf-8",
    )
    pages = {
        "typo.md": 'title = "Post teh typo"\ndate = 2024-06-18T10:00:00Z',
        "older.md": 'title = "Post older"\ndate = 2024-06-02T10:00:00Z',
    }
    for name, front in pages.items():
        (root / "content" / "posts" / name).write_text(
            f"+++\n{front}\n+++\nText of {name}.\n", encoding="utf-8"
        )
    config = root / "publisher.toml"
    config.write_text(
        f'[source]\nkind = "hugo"\npath = "."\n[paths]\noutput = "feeds"\n{MAIL}',
        encoding="utf-8",
    )
    return config


def hugo_guids(root: Path) -> dict[str, str]:
    """Link → guid of Hugo's own RSS after a real `hugo` build."""
    public = root / "public"
    run_hugo(root, public, (), root.parent / "hugo-cache")
    return {item.link: item.guid for item in read_feeds(public)["index.xml"].items}


def test_fixing_a_title_a_hugo_url_is_made_from_keeps_the_guid_and_mails_nothing_again(
    tmp_path: Path,
) -> None:
    root = tmp_path / "site"
    config = hugo_site(root)
    theirs_before = hugo_guids(root)
    publisher(config, "build")
    rss = root / "feeds" / "index.xml"
    assert atom_ids(rss) == theirs_before
    publisher(config, "subscribers", "add", "reader@example.org")
    publisher(config, "digest")
    assert mailed_titles(root / "outbox") == [["Post teh typo"]]

    page = root / "content" / "posts" / "typo.md"
    page.write_text(page.read_text(encoding="utf-8").replace("teh", "the"), encoding="utf-8")
    theirs_fixed = hugo_guids(root)
    fixed_link = "https://hugo.example.org/2024/post-the-typo/"
    assert fixed_link in theirs_fixed and fixed_link not in theirs_before  # Hugo moved it
    publisher(config, "build", now=LATER)
    ours = atom_ids(rss)
    assert set(ours) == set(theirs_fixed)  # our links follow Hugo's
    assert ours[fixed_link] == theirs_before["https://hugo.example.org/2024/post-teh-typo/"]
    publisher(config, "digest", now=LATER)
    assert mailed_titles(root / "outbox") == [["Post teh typo"]]


def test_a_page_without_a_date_keeps_its_first_seen_date_when_its_url_changes(
    tmp_path: Path,
) -> None:
    root = tmp_path / "site"
    config = hugo_site(root)
    undated = root / "content" / "posts" / "undated.md"
    undated.write_text('+++\ntitle = "Post no dat"\n+++\nNo date.\n', encoding="utf-8")
    publisher(config, "build")
    before = feedparser.parse((root / "feeds" / "feed.atom").read_bytes())
    undated.write_text('+++\ntitle = "Post no date"\n+++\nNo date.\n', encoding="utf-8")
    publisher(config, "build", now=LATER)
    after = feedparser.parse((root / "feeds" / "feed.atom").read_bytes())
    dates = [
        {e.title: (e.id, e.get("published")) for e in feed.entries} for feed in (before, after)
    ]
    assert dates[1]["Post no date"] == dates[0]["Post no dat"]  # same id, same date
    published = json.loads((root / "feeds" / "feed.json").read_text(encoding="utf-8"))
    item = next(i for i in published["items"] if i["title"] == "Post no date")
    assert item["date_published"].startswith("2024-06-20T09:00:00")  # NOW, not LATER


# folder sites ---------------------------------------------------------------------


def folder_site(root: Path, extra: str = "") -> Path:
    (root / "content").mkdir(parents=True)
    config = root / "config.toml"
    config.write_text(
        '[site]\ntitle = "Folder"\nbase_url = "https://folder.example.org"\n'
        f'id_authority = "folder.example.org,2024"\n{extra}{MAIL}',
        encoding="utf-8",
    )
    return config


def write_post(root: Path, name: str, front: str) -> None:
    (root / "content" / name).write_text(f"---\n{front}\n---\nText.\n", encoding="utf-8")


def test_a_renamed_file_keeps_its_id_but_a_changed_id_in_front_matter_wins(
    tmp_path: Path,
) -> None:
    config = folder_site(tmp_path)
    write_post(tmp_path, "a.md", "title: Post a\ndate: 2024-06-18")
    write_post(
        tmp_path, "b.md", "title: Post b\ndate: 2024-06-17\nid: tag:folder.example.org,2024:b"
    )
    publisher(config, "build")
    feed = tmp_path / "public" / "feed.atom"
    before = {e.title: e.id for e in feedparser.parse(feed.read_bytes()).entries}
    (tmp_path / "content" / "a.md").rename(tmp_path / "content" / "renamed.md")
    write_post(
        tmp_path, "b.md", "title: Post b\ndate: 2024-06-17\nid: tag:folder.example.org,2024:bb"
    )
    publisher(config, "build", now=LATER)
    after = {e.title: e.id for e in feedparser.parse(feed.read_bytes()).entries}
    assert after["Post a"] == before["Post a"]  # found by its bytes under its new name
    assert after["Post b"] == "tag:folder.example.org,2024:bb"  # the author said so


def test_a_new_post_at_the_url_another_post_left_gets_an_id_of_its_own(tmp_path: Path) -> None:
    config = folder_site(tmp_path, '[source]\nids = "link"\n')
    write_post(tmp_path, "a.md", "title: Post a\ndate: 2024-06-18\nslug: here")
    publisher(config, "build")
    feed = tmp_path / "public" / "feed.atom"
    write_post(tmp_path, "a.md", "title: Post a\ndate: 2024-06-18\nslug: moved")
    write_post(tmp_path, "b.md", "title: Post b\ndate: 2024-06-19\nslug: here")
    publisher(config, "build", now=LATER)
    entries = {e.title: (e.link, e.id) for e in feedparser.parse(feed.read_bytes()).entries}
    assert entries["Post a"] == (
        "https://folder.example.org/moved/",
        "https://folder.example.org/here/",
    )
    link, entry_id = entries["Post b"]
    assert link == "https://folder.example.org/here/" and entry_id != entries["Post a"][1]


def test_a_state_database_from_before_kept_ids_upgrades_and_mails_no_old_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = folder_site(tmp_path)
    write_post(tmp_path, "old.md", "title: Post old\ndate: 2024-06-01")
    state = tmp_path / "state" / "publisher.sqlite3"
    state.parent.mkdir()
    with monkeypatch.context() as patch:  # the schema as the release before this one left it
        names = [name for name, _ in migrations.MIGRATIONS]
        kept_ids = names.index(
            "the id each post file was published under, and when it was first published"
        )
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:kept_ids])
        with open_store(state) as store:
            assert store.schema_version() == len(migrations.MIGRATIONS)
    publisher(config, "subscribers", "add", "reader@example.org")
    publisher(config, "build")
    with sqlite3.connect(state) as db:
        rows = db.execute("SELECT source_name, entry_id, visible_since FROM post_files").fetchall()
    # the first build keeps what it publishes; an old post became visible when it was dated
    assert rows == [("old.md", "tag:folder.example.org,2024:old", "2024-06-01T00:00:00+00:00")]
    assert "nothing sent" in publisher(config, "digest").output
