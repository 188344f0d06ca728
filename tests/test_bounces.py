"""Issue 11 case 6: VERP bounce addresses, and `publisher bounces` reading a Maildir and an
mbox of DSNs, ARF complaints and mailed unsubscribes in the shapes real systems send
(tests/fixtures/bounces), end to end: the next digest skips those readers."""

from __future__ import annotations

import mailbox
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from click.testing import Result as CliResult

from publisher.cli import cli
from publisher.newsletter.bounce_reports import parse_message, read_report
from tests.conftest import NOW
from tests.smtp_sink import SmtpSink
from tests.test_newsletter import parsed

FIXTURES = Path(__file__).parent / "fixtures" / "bounces"
READERS = [f"reader{n:03d}@example.org" for n in range(15)]
LATER = "2024-06-21T12:00:00+09:00"
BOUNCE_TABLE = '[bounces]\n{where} = "{path}"\nsoft_bounce_limit = 3\nsoft_bounce_days = 14\n'


def publisher(config: Path, *args: str, now: str = NOW.isoformat()) -> CliResult:
    return CliRunner().invoke(cli, ["--config", str(config), "--now", now, *args])


def verp_site(site_dir: Path, sink: SmtpSink, where: str, path: str) -> Path:
    config = sink.send_site_through(site_dir / "config.toml", backoff=0.0)
    text = config.read_text(encoding="utf-8").replace(
        "[mail]\n", '[mail]\nbounce_address = "bounces+{token}@news.example.org"\n'
    )
    config.write_text(text + BOUNCE_TABLE.format(where=where, path=path), encoding="utf-8")
    rows = site_dir / "readers.csv"
    rows.write_text("".join(f"{a},\n" for a in READERS), encoding="utf-8")
    assert publisher(config, "subscribers", "import", str(rows)).exit_code == 0
    return config


def fixture_messages(sink: SmtpSink) -> list[tuple[str, bytes]]:
    """The fixtures with each reader's real VERP address from the digest just sent."""
    verp = {m.rcpt_tos[0]: m.mail_from for m in sink.messages}

    def fill(match: re.Match[str]) -> str:
        return verp[match.group(1)]

    return [
        (path.name, re.sub(r"\{\{VERP ([^}]+)\}\}", fill, path.read_text()).encode())
        for path in sorted(FIXTURES.glob("*.eml"))
    ]


def subscriber_statuses(site_dir: Path) -> dict[str, str]:
    with sqlite3.connect(site_dir / "state" / "publisher.sqlite3") as db:
        return dict(db.execute("SELECT email, status FROM subscribers").fetchall())


def events(site_dir: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(site_dir / "state" / "publisher.sqlite3") as db:
        return db.execute(
            "SELECT s.email, e.kind, e.action, e.message_date FROM mail_events e "
            "JOIN subscribers s ON s.id = e.subscriber_id ORDER BY e.id"
        ).fetchall()


EXPECTED = {
    "reader000@example.org": "bounced",  # Postfix 5.1.1, by VERP
    "reader001@example.org": "bounced",  # Exim 5.0.0
    "reader002@example.org": "bounced",  # Gmail 5.1.1
    "reader003@example.org": "active",  # one Microsoft 4.4.7 delay: counted only
    "reader004@example.org": "bounced",  # three Microsoft 4.2.2 in three days
    "reader005@example.org": "bounced",  # Microsoft 5.5.0
    "reader006@example.org": "unsubscribed",  # Yahoo ARF complaint
    "reader007@example.org": "unsubscribed",  # Microsoft JMRP complaint
    "reader008@example.org": "unsubscribed",  # mailto: unsubscribe to the VERP address
    "reader009@example.org": "unsubscribed",  # mailto: to the From address, by sender
    "reader010@example.org": "bounced",  # Yahoo 554
    "reader011@example.org": "active",  # a human reply and a "delivered" DSN: left alone
    "reader012@example.org": "active",
    "reader013@example.org": "active",
    "reader014@example.org": "bounced",  # Yahoo's old plain-text bounce (qmail format)
}


def test_each_message_goes_out_with_its_own_signed_bounce_address(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    config = verp_site(site_dir, smtp_sink, "maildir", "bounces")

    assert publisher(config, "digest").exit_code == 0

    senders = [m.mail_from for m in smtp_sink.messages]
    assert len(set(senders)) == len(READERS)  # measured: 15 readers, 15 bounce addresses
    assert all(
        re.fullmatch(r"bounces\+d1-s\d+-[0-9a-f]{16}@news\.example\.org", s) for s in senders
    )
    for received in smtp_sink.messages:
        unsubscribe = parsed(received.data)["List-Unsubscribe"]
        assert f"<mailto:{received.mail_from}?subject=unsubscribe>" in unsubscribe


def test_a_maildir_of_dsns_complaints_and_requests_is_processed_and_the_next_digest_skips_them(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    config = verp_site(site_dir, smtp_sink, "maildir", "bounces")
    assert publisher(config, "digest").exit_code == 0
    box = mailbox.Maildir(site_dir / "bounces", create=True)
    for _, data in fixture_messages(smtp_sink):
        box.add(data)

    result = publisher(config, "bounces", now=LATER)
    again = publisher(config, "bounces", now=LATER)

    assert result.exit_code == 0, result.output
    assert subscriber_statuses(site_dir) == EXPECTED
    # measured: 16 messages; 6 hard, 4 soft, 2 complaints, 2 requests; 2 left alone
    assert "read 16 messages: 6 hard bounces, 4 soft bounces, 2 complaints, " in result.output
    assert "2 mailed unsubscribes; 7 now bounced, 4 now unsubscribed" in result.output
    assert "2 other messages left alone" in result.output
    assert len(box) == 2  # the human reply and the "delivered" report stay in the inbox
    assert len(box.get_folder("processed")) == 14  # moved, never deleted
    assert "read 2 messages" in again.output and "no reports" in again.output
    logged = events(site_dir)
    assert len(logged) == 14
    assert (
        "reader000@example.org",
        "hard_bounce",
        "bounced",
        "2024-06-20T01:01:02+00:00",
    ) in logged
    assert [e[2] for e in logged if e[0] == "reader004@example.org"] == [
        "counted",
        "counted",
        "bounced",
    ]
    status = publisher(config, "status", now=LATER)
    assert "bounces:      6 hard, 4 soft, 2 complaints, 2 mailed unsubscribes" in status.output

    (site_dir / "content" / "later.md").write_text(
        "---\ntitle: Later\ndate: 2024-06-21 09:00:00 +0900\n---\nNew.\n", encoding="utf-8"
    )
    before = len(smtp_sink.messages)
    assert publisher(config, "digest", now=LATER).exit_code == 0
    second = {m.rcpt_tos[0] for m in smtp_sink.messages[before:]}
    assert second == {a for a, s in EXPECTED.items() if s == "active"}  # measured: 4 of 15


def test_an_mbox_is_processed_and_its_messages_marked_not_deleted(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    config = verp_site(site_dir, smtp_sink, "mbox", "bounces.mbox")
    assert publisher(config, "digest").exit_code == 0
    box = mailbox.mbox(site_dir / "bounces.mbox", create=True)
    for _, data in fixture_messages(smtp_sink):
        box.add(data)
    box.flush()
    box.close()

    result = publisher(config, "bounces", now=LATER)

    assert result.exit_code == 0, result.output
    assert subscriber_statuses(site_dir) == EXPECTED
    kept = mailbox.mbox(site_dir / "bounces.mbox", create=False)
    marked = [m for m in kept if m["X-Publisher-Processed"]]
    assert (len(kept), len(marked)) == (16, 14)  # measured: all 16 kept, 14 marked


@pytest.mark.parametrize("forged", ["bounces+d1-s1-0000000000000000@news.example.org"])
def test_a_forged_verp_token_names_nobody(site_dir: Path, smtp_sink: SmtpSink, forged: str) -> None:
    config = verp_site(site_dir, smtp_sink, "maildir", "bounces")
    box = mailbox.Maildir(site_dir / "bounces", create=True)
    box.add(
        f"From: x@example.com\r\nTo: {forged}\r\nSubject: unsubscribe\r\n"
        "Message-ID: <forged@example.com>\r\n\r\nbye\r\n"
    )

    result = publisher(config, "bounces", now=LATER)

    assert "1 about nobody on the list" in result.output
    assert set(subscriber_statuses(site_dir).values()) == {"active"}


QMAIL_BOUNCE = (
    "Return-Path: <>\r\nFrom: MAILER-DAEMON@mail.example.net\r\n"
    "To: digest@news.example.org\r\nSubject: failure notice\r\n"
    "Message-ID: <qmail-1@mail.example.net>\r\n\r\n"
    "Hi. This is the qmail-send program at mail.example.net.\r\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
    "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
    "<gone@example.net>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
    "<full@example.net>:\r\n192.0.2.7 does not like recipient.\r\n"
    "Remote host said: 452 mailbox full\r\nGiving up on 192.0.2.7.\r\n\r\n"
    "<unsure@example.net>:\r\nThe mail system gave up. No code is given here.\r\n\r\n"
    "--- Enclosed are the original headers of the message.\r\n\r\n"
    "From: digest@news.example.org\r\nSubject: digest\r\n"
)


def test_a_qmail_plain_text_bounce_gives_each_coded_recipient_and_nothing_more() -> None:
    message = parse_message(QMAIL_BOUNCE.encode())
    assert message is not None

    report = read_report(message, ("digest@news.example.org",))

    assert report is not None
    assert [(f.kind, f.status, f.addresses) for f in report.findings] == [
        ("hard_bounce", "5.1.1", ("gone@example.net",)),
        ("soft_bounce", "4.0.0", ("full@example.net",)),
    ]  # the paragraph without a code says nothing about how final it is: left out


@pytest.mark.parametrize(
    "change",
    [
        ("Return-Path: <>\r\nFrom: MAILER-DAEMON@mail.example.net", "From: Kim <kim@example.net>"),
        ("--- Enclosed are the original headers of the message.", "Regards,"),
        ("Hi. This is the qmail-send program at", "Hi. This is Kim at"),
    ],
)
def test_text_that_only_looks_like_a_qmail_bounce_is_left_alone(change: tuple[str, str]) -> None:
    message = parse_message(QMAIL_BOUNCE.replace(*change).encode())
    assert message is not None

    assert read_report(message, ("digest@news.example.org",)) is None
