"""Readers' own digests: categories and cadence per reader, cut from one render per issue,
sent through a real aiosmtpd server, read back with the email package and lxml, and
checked against the ledger in the real SQLite state.

The site is tests/fixtures/sections: six posts in Politics, Economy and Tech, four
published before NOW and two in the day after it.
"""

from __future__ import annotations

import csv
import dataclasses
import email
import email.policy
import io
import re
import shutil
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from click.testing import CliRunner, Result

from publisher.build.pipeline import build, load_posts
from publisher.cli import cli
from publisher.core.config import Config
from publisher.core.errors import TemplateError
from publisher.newsletter.delivery import send_digests
from publisher.newsletter.digest import Issue, render_issue
from publisher.newsletter.due import digest_due
from publisher.newsletter.subscribers import (
    SubscriberError,
    add_subscriber,
    export_subscribers,
    find,
    import_subscribers,
    ledger,
    remove_subscriber,
)
from publisher.newsletter.tokens import (
    confirmation_token,
    preferences_token,
    read_confirmation_token,
    read_preferences_token,
    read_unsubscribe_token,
    unsubscribe_token,
)
from publisher.site_config import load_config
from publisher.state.migrations import MIGRATIONS
from publisher.state.store import open_store, reading
from tests.conftest import FIXTURES, NOW, ROOT, SAMPLE
from tests.legacy_digests import legacy_digest
from tests.smtp_sink import SmtpSink

SECTIONS = FIXTURES / "sections"
WEB = "https://news.example.org/newsletter"
SITE_TITLE = "뉴스다오 속보"
TITLES = {
    "p1-assembly": "국회, 예산안 처리 시한 넘겨",
    "p2-rates": "한국은행, 기준금리 동결",
    "p3-chips": "반도체 수출 석 달 연속 증가",
    "p4-batteries": "배터리 업계, 북미 공장 투자 확대",
    "p5-exports": "6월 수출 전망 밝아",
    "p6-summit": "한미 정상회담 일정 확정",
}
LATER = NOW + timedelta(days=1)


def sections_site(folder: Path, **digest: Any) -> Config:
    """The sections fixture with the sample's config and templates, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE / "config.toml", folder / "config.toml")
    shutil.copytree(ROOT / "templates", folder / "templates")
    shutil.copytree(SECTIONS / "content", folder / "content")
    config = load_config(folder / "config.toml")
    settings = {"cadences": ("weekly", "daily", "each"), **digest}
    return dataclasses.replace(
        config,
        digest=dataclasses.replace(config.digest, **settings),
        web=dataclasses.replace(config.web, base_url=WEB),
    )


@pytest.fixture
def site(tmp_path: Path, smtp_sink: SmtpSink) -> Config:
    """The sections site sending through the sink, built once so its categories are known."""
    config = smtp_sink.configure(sections_site(tmp_path / "site"))
    build(config, NOW)
    return config


@dataclass(frozen=True)
class Copy:
    """One message as a reader gets it."""

    subject: str
    text: str
    html: str

    @property
    def document(self) -> lxml.html.HtmlElement:
        return lxml.html.document_fromstring(self.html)

    @property
    def slugs(self) -> list[str]:
        """The posts of the message, from the text part's "read more" links, in order."""
        return re.findall(r"https://news\.example\.org/([a-z0-9-]+)/\n", self.text)

    def html_slugs(self, css_class: str) -> list[str]:
        links = self.document.find_class(css_class)
        return [re.sub(r"^https://news\.example\.org/|/$", "", a.get("href")) for a in links]


def copies(sink: SmtpSink, address: str) -> list[Copy]:
    found = []
    for data in sink.messages_for(address):
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        text, html = (message.get_body((kind,)) for kind in ("plain", "html"))
        assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
        text_part, html_part = (part.get_content().replace("\r\n", "\n") for part in (text, html))
        found.append(Copy(str(message["Subject"]), text_part, html_part))
    return found


READERS = {
    # address: (categories, cadence)
    "all@example.org": ((), "weekly"),
    "eco@example.org": (("economy",), "daily"),
    "pt@example.org": (("politics", "tech"), "each"),
}


def subscribe_readers(config: Config) -> None:
    for address, (categories, cadence) in READERS.items():
        joined = NOW - timedelta(days=3)
        add_subscriber(config, address, "", joined, categories=categories, cadence=cadence)


def check_copy(copy: Copy, slugs: list[str]) -> None:
    """A reader's copy holds exactly `slugs`, newest first, and says so everywhere."""
    assert copy.slugs == slugs
    assert copy.html_slugs("post-link") == slugs
    assert copy.subject == f"{SITE_TITLE}: {TITLES[slugs[0]]}", "the subject names their newest"
    if len(slugs) > 1:
        assert copy.html_slugs("toc-link") == slugs
        assert f"새 글 {len(slugs)}편을 모았습니다" in copy.text
        assert copy.text.count("\n- ") == len(slugs)
    else:
        assert copy.html_slugs("toc-link") == []
        assert "이번 호 소식" not in copy.text and "새 글을 전해 드립니다" in copy.text
    others = set(TITLES) - set(slugs)
    assert not any(TITLES[other] in copy.text or TITLES[other] in copy.html for other in others)
    assert copy.document.xpath("//title/text()") == [copy.subject]
    assert "__publisher_" not in copy.text + copy.html


def test_three_readers_get_their_own_digests_and_each_post_once_across_two_runs(
    site: Config, smtp_sink: SmtpSink
) -> None:
    subscribe_readers(site)

    first = send_digests(site, NOW)

    # weekly: one issue; daily: one; each: one per post, oldest first
    assert [run.sent for run in first.runs] == [1, 1, 1, 1, 1]
    (everything,) = copies(smtp_sink, "all@example.org")
    check_copy(everything, ["p4-batteries", "p3-chips", "p2-rates", "p1-assembly"])
    (economy,) = copies(smtp_sink, "eco@example.org")
    check_copy(economy, ["p4-batteries", "p2-rates"])
    each = ["p1-assembly", "p3-chips", "p4-batteries"]
    for copy, slug in zip(copies(smtp_sink, "pt@example.org"), each, strict=True):
        check_copy(copy, [slug])

    second = send_digests(site, LATER)
    third = send_digests(site, LATER + timedelta(hours=1))

    assert [run.sent for run in second.runs] == [1, 1, 1]
    assert third.runs == [] and "nothing sent" in third.summary()
    expected = {
        "all@example.org": [["p4-batteries", "p3-chips", "p2-rates", "p1-assembly"],
                            ["p6-summit", "p5-exports"]],
        "eco@example.org": [["p4-batteries", "p2-rates"], ["p5-exports"]],
        "pt@example.org": [["p1-assembly"], ["p3-chips"], ["p4-batteries"], ["p6-summit"]],
    }  # fmt: skip
    for address, issues in expected.items():
        got = copies(smtp_sink, address)
        assert [copy.slugs for copy in got] == issues, address
        for copy, slugs in zip(got, issues, strict=True):
            check_copy(copy, slugs)
        counted = Counter(slug for copy in got for slug in copy.slugs)
        assert set(counted.values()) == {1}, f"{address} got a post twice: {counted}"
        wanted = {slug for slug, post in posts_by_slug(site).items() if wanted_by(address, post)}
        assert set(counted) == wanted, "every post in their categories, and only those"
        assert ledger_posts(site, address) == [slug for copy in got for slug in copy.slugs]


def posts_by_slug(config: Config) -> dict[str, set[str]]:
    """slug → category slugs, of every post published by LATER."""
    posts = load_posts(config, LATER).posts
    return {post.slug: {c.slug for c in post.categories} for post in posts}


def wanted_by(address: str, categories: set[str]) -> bool:
    chosen = READERS[address][0]
    return not chosen or bool(categories & set(chosen))


def ledger_posts(config: Config, address: str) -> list[str]:
    """What the ledger says this reader was sent, as post slugs, in order."""
    with ledger(config) as store:
        subscriber = find(store, address)
        ids = store.posts_sent_to(subscriber.id)
    return [post_id.rsplit(":", 1)[1] for post_id in ids]


def test_each_copy_links_to_its_issue_page_and_its_readers_preference_page(
    site: Config, smtp_sink: SmtpSink
) -> None:
    subscribe_readers(site)
    send_digests(site, NOW)

    (economy,) = copies(smtp_sink, "eco@example.org")
    page = economy.document
    (browser,) = page.xpath("//a[@class='browser-link']/@href")
    assert browser == "https://news.example.org/newsletter/2/"  # the daily issue, whole
    preferences = [a for a in page.xpath("//a/@href") if "/preferences?token=" in a]
    assert len(preferences) == 1 and preferences[0].startswith(f"{WEB}/preferences?token=")
    assert f"구독 설정 바꾸기: {preferences[0]}" in economy.text
    (everything,) = copies(smtp_sink, "all@example.org")
    assert preferences[0] not in everything.html, "each reader has their own token"
    issue_page = site.paths.output / "newsletter" / "2" / "index.html"
    assert issue_page.is_file()


def test_a_reader_whose_categories_have_nothing_new_gets_nothing_and_nothing_is_lost(
    site: Config, smtp_sink: SmtpSink
) -> None:
    add_subscriber(site, "tech@example.org", "", NOW - timedelta(days=3), categories=["tech"])
    early = datetime(2024, 6, 18, 12, 0, tzinfo=NOW.tzinfo)  # only p1 (politics) is out

    quiet = send_digests(site, early)
    assert quiet.runs == [] and smtp_sink.messages_for("tech@example.org") == []
    later = send_digests(site, NOW)

    (copy,) = copies(smtp_sink, "tech@example.org")
    check_copy(copy, ["p4-batteries", "p3-chips"])
    assert [run.sent for run in later.runs] == [1]


def test_changing_cadence_neither_loses_nor_repeats_a_post(
    site: Config, smtp_sink: SmtpSink
) -> None:
    add_subscriber(site, "moving@example.org", "", NOW - timedelta(days=3), cadence="daily")
    send_digests(site, NOW, cadences=["daily"])
    with ledger(site) as store:
        store.set_preferences(find(store, "moving@example.org").id, None, "weekly", NOW)

    send_digests(site, LATER, cadences=["daily"])  # no longer theirs: nothing for them
    send_digests(site, LATER, cadences=["weekly"])

    got = [copy.slugs for copy in copies(smtp_sink, "moving@example.org")]
    assert got == [["p4-batteries", "p3-chips", "p2-rates", "p1-assembly"],
                   ["p6-summit", "p5-exports"]]  # fmt: skip


def waiting_site(folder: Path, sink: SmtpSink) -> Config:
    """The sections site with posts waiting 3 days, weekly only, a new post on 24 June,
    and one reader who got p1–p4 on NOW, and five days later the new post and p5–p6 (dated
    after NOW: the second run is the first to see them published)."""
    config = sink.configure(sections_site(folder, cadences=("weekly",), wait_days=3))
    (config.paths.content / "p7-new.md").write_text(
        '---\ntitle: "New"\ndate: 2024-06-24 10:00:00 +0900\ncategories: [Tech]\n---\n\nBody.\n',
        encoding="utf-8",
    )
    build(config, NOW)
    add_subscriber(config, "reader@example.org", "", NOW - timedelta(days=1))
    send_digests(config, NOW)
    send_digests(config, NOW + timedelta(days=5))  # p1–p4 are now past wait_days
    return config


def test_raising_wait_days_never_mails_a_post_again(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    config = waiting_site(tmp_path / "site", smtp_sink)
    longer = dataclasses.replace(config, digest=dataclasses.replace(config.digest, wait_days=30))

    raised = send_digests(longer, NOW + timedelta(days=5, hours=1))

    got = Counter(slug for copy in copies(smtp_sink, "reader@example.org") for slug in copy.slugs)
    assert raised.runs == [] and "nothing sent" in raised.summary()
    # measured: each post once (was p1–p4 twice after raising wait_days from 3 to 30); p5
    # and p6, dated after NOW, first appeared at the second run (no build had published
    # them), so they arrived then and went out with "new"
    every = ["p1-assembly", "p2-rates", "p3-chips", "p4-batteries", "p5-exports", "p6-summit"]
    assert got == Counter([*every, "new"])


def test_a_post_re_dated_after_it_was_mailed_and_forgotten_is_not_mailed_again(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    config = waiting_site(tmp_path / "site", smtp_sink)
    post = config.paths.content / "p3-chips.md"
    text = post.read_text(encoding="utf-8")
    post.write_text(text.replace("2024-06-19 09:00:00", "2024-06-25 08:00:00"), encoding="utf-8")

    again = send_digests(config, NOW + timedelta(days=5, hours=1))

    got = [copy.slugs for copy in copies(smtp_sink, "reader@example.org")]
    assert again.runs == [] and "nothing sent" in again.summary()
    assert sum(slugs.count("p3-chips") for slugs in got) == 1  # measured: 1 (was 2)


def test_a_cut_is_the_same_html_and_text_as_rendering_only_its_posts(site: Config) -> None:
    posts = load_posts(site, NOW).posts  # p4, p3, p2, p1
    issue = Issue(site, render_issue(site, posts, now=NOW, archive_url=f"{WEB}/9/"))
    for positions in ([1, 3], [0], [0, 1, 2, 3]):
        chosen = [posts[i] for i in positions]
        alone = Issue(site, render_issue(site, chosen, now=NOW, archive_url=f"{WEB}/9/"))
        cut, rendered = issue.cut(positions), alone.cut(range(len(chosen)))
        assert (cut.subject, cut.html, cut.text) == (rendered.subject, rendered.html, rendered.text)
        assert cut.post_ids == tuple(post.id for post in chosen)


def test_a_template_that_does_not_mark_its_posts_cannot_be_cut(site: Config) -> None:
    template = site.paths.templates / "email" / "digest.txt.j2"
    template.write_text(
        "{{ greeting }}\n{% for post in posts %}{{ post.title }}\n{% endfor %}"
        "{{ unsubscribe_url }}\n",
        encoding="utf-8",
    )
    posts = load_posts(site, NOW).posts
    issue = Issue(site, render_issue(site, posts, now=NOW))

    assert len(issue.cut(range(len(posts))).post_ids) == 4, "one copy for all needs no marks"
    with pytest.raises(TemplateError, match=r"digest\.txt\.j2: block post 1 is not marked"):
        issue.cut([0, 2])


def test_the_cli_adds_readers_with_categories_and_a_cadence_the_site_has(site: Config) -> None:
    add_subscriber(site, "a@example.org", "", NOW, categories=["economy", "tech"], cadence="daily")
    with pytest.raises(SubscriberError, match="no category 'sports'") as caught:
        add_subscriber(site, "b@example.org", "", NOW, categories=["sports"])
    assert "economy, politics, tech" in caught.value.hint
    weekly_only = dataclasses.replace(
        site, digest=dataclasses.replace(site.digest, cadences=("weekly",))
    )
    with pytest.raises(SubscriberError, match="cadence 'daily' is not offered"):
        add_subscriber(weekly_only, "c@example.org", "", NOW, cadence="daily")
    with reading(site.state_db) as store:
        assert store is not None
        row = store.preferences_of(find(store, "a@example.org").id)
        assert row is not None and (row.categories, row.cadence) == (("economy", "tech"), "daily")
        assert store.find_subscriber("b@example.org") is None


def test_digests_made_before_preferences_are_never_sent_again(
    site: Config, smtp_sink: SmtpSink
) -> None:
    """A store from before issues: its digests went to everyone, so their posts are done."""
    add_subscriber(site, "old@example.org", "", NOW - timedelta(days=30))
    digest_id = legacy_digest(  # as the digest of an older publisher made it
        site.state_db,
        NOW - timedelta(hours=1),
        "old",
        "<p>old</p>",
        "old",
        ["tag:news.example.org,2024:p1-assembly"],
    )
    with open_store(site.state_db) as store:
        store.finish_digest_if_done(digest_id, NOW)
    with sqlite3.connect(site.state_db) as db:
        db.execute("UPDATE deliveries SET status = 'sent'")

    send_digests(site, NOW)

    (copy,) = copies(smtp_sink, "old@example.org")
    assert copy.slugs == ["p4-batteries", "p3-chips", "p2-rates"]


def test_each_cadence_is_due_on_its_own_schedule_and_each_on_every_run(site: Config) -> None:
    assert digest_due(site, NOW).cadences == ("weekly", "daily", "each")
    send_digests(site, NOW)

    def due(moment: str) -> tuple[str, ...]:
        return digest_due(site, datetime.fromisoformat(moment)).cadences

    assert due("2024-06-20T10:00:00+09:00") == ("each",)
    assert due("2024-06-21T07:05:00+09:00") == ("daily", "each")  # [schedule] daily 0 7 * * *
    assert due("2024-06-24T08:05:00+09:00") == ("weekly", "daily", "each")
    weekly_only = dataclasses.replace(
        site, digest=dataclasses.replace(site.digest, cadences=("weekly",))
    )
    quiet = digest_due(weekly_only, datetime.fromisoformat("2024-06-21T07:05:00+09:00"))
    assert not quiet.due
    assert "weekly digest not due until 2024-06-24T08:00:00+09:00" in quiet.reason


def test_each_token_kind_opens_only_its_own_door_and_a_choice_rides_the_confirmation() -> None:
    secret = b"test-secret"
    preferences = preferences_token(secret, 7, "reader@example.org")
    unsubscribe = unsubscribe_token(secret, 7, "reader@example.org")
    assert read_preferences_token(secret, preferences) == read_unsubscribe_token(
        secret, unsubscribe
    )
    assert read_unsubscribe_token(secret, preferences) is None
    assert read_preferences_token(secret, unsubscribe) is None
    link = confirmation_token(
        secret, 7, "reader@example.org", NOW, revision=2, choice=(["economy"], "daily")
    )
    claim = read_confirmation_token(secret, link, now=NOW, max_age=timedelta(hours=1))
    assert (claim.choice, claim.revision) == ((["economy"], "daily"), 2)
    plain = confirmation_token(secret, 7, "reader@example.org", NOW)
    assert (
        read_confirmation_token(secret, plain, now=NOW, max_age=timedelta(hours=1)).choice is None
    )


def test_a_state_database_from_before_preferences_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # what the last three migrations' publisher left
        db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT)")
        for version, (name, script) in enumerate(MIGRATIONS[:3], start=1):
            assert isinstance(script, str)
            for statement in script.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, name))
        db.execute(
            "INSERT INTO subscribers (email, email_key, name, status, created_at, updated_at) "
            "VALUES ('old@example.org', 'old@example.org', '', 'active', ?, ?)",
            (NOW.isoformat(), NOW.isoformat()),
        )

    with open_store(path) as store:
        assert store.schema_version() == len(MIGRATIONS)
        (old,) = store.subscribers()
        assert old.email == "old@example.org" and store.preferences_of(old.id) is None
        store.set_preferences(old.id, ["tech"], "daily", NOW)
        row = store.preferences_of(old.id)
        assert row is not None and row.categories == ("tech",)
        assert store.pending_deliveries(1, 0) == []


def test_digest_cadence_sends_only_that_cadence_and_refuses_what_is_not_sending(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    path = sections_site(tmp_path / "site").file
    text = path.read_text(encoding="utf-8")
    assert "[digest]\n" in text
    text = text.replace("[digest]\n", '[digest]\ncadences = ["weekly", "daily", "each"]\n', 1)
    path.write_text(text, encoding="utf-8")
    smtp_sink.send_site_through(path)
    config = load_config(path)
    build(config, NOW)
    subscribe_readers(config)

    def publisher(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(path), "--now", NOW.isoformat(), *args])

    refused = publisher("digest", "--cadence", "daily", "--preview")
    unknown = publisher("digest", "--cadence", "hourly")
    daily = publisher("digest", "--cadence", "daily")

    assert refused.exit_code == 2 and "--cadence applies to sending" in refused.output
    assert unknown.exit_code == 2 and "hourly" in unknown.output
    assert daily.exit_code == 0, daily.output
    assert [len(copies(smtp_sink, address)) for address in READERS] == [0, 1, 0]


def test_an_edited_export_imported_back_changes_existing_readers_preferences(
    site: Config, tmp_path: Path
) -> None:
    """An export, preferences edited in a spreadsheet, imported back: the readers already on
    the list get the preferences the file names; statuses follow the usual rules (an
    unsubscribed reader stays unsubscribed), and unedited rows store nothing new."""
    subscribe_readers(site)
    add_subscriber(site, "plain@example.org", "", NOW)
    add_subscriber(site, "gone@example.org", "", NOW, cadence="daily")
    remove_subscriber(site, "gone@example.org", NOW)
    rows = list(csv.reader(io.StringIO(export_subscribers(site), newline="")))
    edits = {
        "all@example.org": ["tech", "daily"],
        "eco@example.org": ["", "weekly"],
        "gone@example.org": ["economy", "weekly"],
    }
    for row in rows[1:]:
        row[3:5] = edits.get(row[0], row[3:5])
        if row[0] == "gone@example.org":
            row[2] = "active"
    path = tmp_path / "edited.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)

    report = import_subscribers(site, path, NOW)

    assert report.bad_rows == []
    assert sorted(report.preferences_changed) == sorted(edits)
    assert report.kept_inactive == ["gone@example.org"]
    with reading(site.state_db) as store:
        assert store is not None

        def stored(address: str) -> tuple[tuple[str, ...] | None, str] | None:
            row = store.preferences_of(find(store, address).id)
            return None if row is None else (row.categories, row.cadence)

        assert stored("all@example.org") == (("tech",), "daily")
        assert stored("eco@example.org") == (None, "weekly")
        assert stored("pt@example.org") == (("politics", "tech"), "each")
        assert stored("plain@example.org") is None, "an unedited default row stores nothing"
        assert stored("gone@example.org") == (("economy",), "weekly")
        assert find(store, "gone@example.org").status == "unsubscribed"
    assert import_subscribers(site, path, NOW).preferences_changed == [], "nothing left to do"


def test_an_import_without_preference_columns_leaves_existing_preferences_alone(
    site: Config, tmp_path: Path
) -> None:
    subscribe_readers(site)
    path = tmp_path / "short.csv"
    path.write_text(
        "email,name,status,categories\neco@example.org,,active\npt@example.org,,active,tech\n",
        encoding="utf-8",
    )
    report = import_subscribers(site, path, NOW)
    assert report.bad_rows == [] and report.preferences_changed == ["pt@example.org"]
    with reading(site.state_db) as store:
        assert store is not None
        eco = store.preferences_of(find(store, "eco@example.org").id)
        pt = store.preferences_of(find(store, "pt@example.org").id)
        assert eco is not None and (eco.categories, eco.cadence) == (("economy",), "daily")
        assert pt is not None and (pt.categories, pt.cadence) == (("tech",), "each"), (
            "a categories column without a cadence column keeps the cadence"
        )
