"""Issue 11 case 6: VERP bounce addresses, and `publisher bounces` reading a Maildir and an
mbox of DSNs, ARF complaints and mailed unsubscribes in the shapes real systems send
(tests/fixtures/bounces), end to end: the next digest skips those readers."""

from __future__ import annotations

import mailbox
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from click.testing import Result as CliResult

from publisher.cli import cli
from publisher.newsletter.bounce_reports import ReturnAddresses, read_report
from tests.conftest import NOW, ROOT
from tests.smtp_sink import SmtpSink
from tests.test_newsletter import parsed

FIXTURES = Path(__file__).parent / "fixtures" / "bounces"
READERS = [f"reader{n:03d}@example.org" for n in range(15)]
LATER = "2024-06-21T12:00:00+09:00"
BOUNCE_TABLE = '[bounces]\n{where} = "{path}"\nsoft_bounce_limit = 3\nsoft_bounce_days = 14\n'


def publisher(config: Path, *args: str, now: str = NOW.isoformat()) -> CliResult:
    return CliRunner().invoke(cli, ["--config", str(config), "--now", now, *args])


def verp_site(
    site_dir: Path,
    sink: SmtpSink,
    where: str,
    path: str,
    template: str | None = "bounces+{token}@news.example.org",
) -> Path:
    """The test site sending through `sink`, reading bounces from `where`, with the bounce
    address `template` (None: no bounce address, mail comes back to From)."""
    config = sink.send_site_through(site_dir / "config.toml", backoff=0.0)
    text = config.read_text(encoding="utf-8")
    if template is not None:
        text = text.replace("[mail]\n", f'[mail]\nbounce_address = "{template}"\n')
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
    "reader009@example.org": "active",  # to the From address, not the VERP mailto: left alone
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
    # measured: 16 messages; 6 hard, 4 soft, 2 complaints, 1 request; 3 left alone
    assert "read 16 messages: 6 hard bounces, 4 soft bounces, 2 complaints, " in result.output
    assert "1 mailed unsubscribe; 7 now bounced, 3 now unsubscribed" in result.output
    assert "3 other messages left alone" in result.output
    assert len(box) == 3  # the human reply, the "delivered" report and mail to From stay
    assert len(box.get_folder("processed")) == 13  # moved, never deleted
    assert "read 3 messages" in again.output and "no reports" in again.output
    logged = events(site_dir)
    assert len(logged) == 13
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
    assert "bounces:      6 hard, 4 soft, 2 complaints, 1 mailed unsubscribe" in status.output

    (site_dir / "content" / "later.md").write_text(
        "---\ntitle: Later\ndate: 2024-06-21 09:00:00 +0900\n---\nNew.\n", encoding="utf-8"
    )
    before = len(smtp_sink.messages)
    assert publisher(config, "digest", now=LATER).exit_code == 0
    second = {m.rcpt_tos[0] for m in smtp_sink.messages[before:]}
    assert second == {a for a, s in EXPECTED.items() if s == "active"}  # measured: 5 of 15


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
    assert (len(kept), len(marked)) == (16, 13)  # measured: all 16 kept, 13 marked


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


FROM_ONLY = ReturnAddresses(None, "digest@news.example.org")
"""A list without a bounce address: reports name readers by address."""

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
    report = read_report(QMAIL_BOUNCE.encode(), FROM_ONLY)

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
    assert read_report(QMAIL_BOUNCE.replace(*change).encode(), FROM_ONLY) is None


# What may name the reader a report is about (docs/security.md) -----------------------


def dsn(to: str, recipient: str, *, sender: str = "MAILER-DAEMON@mail.example.net") -> str:
    """A Postfix-shaped hard bounce from `sender`, delivered to `to`, about `recipient`."""
    return (
        f"Return-Path: <>\r\nFrom: {sender}\r\nTo: {to}\r\nSubject: Undelivered Mail\r\n"
        f"Date: Thu, 20 Jun 2024 10:01:02 +0900\r\nMessage-ID: <{abs(hash(to + recipient))}@x>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;"
        ' boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nnot delivered\r\n'
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n"
    )


def request(to: str, sender: str) -> str:
    """A mailed unsubscribe request, as a mail client's List-Unsubscribe button sends it."""
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: unsubscribe\r\n"
        f"Message-ID: <{abs(hash(to + sender))}@x>\r\n\r\nunsubscribe\r\n"
    )


@pytest.mark.parametrize(
    "template",
    [
        "bounces+{token}@news.example.org",
        "bounces-{token}@news.example.org",
        "{token}@bounces.news.example.org",
    ],
)
def test_every_bounce_address_shape_check_accepts_is_read_back_end_to_end(
    site_dir: Path, smtp_sink: SmtpSink, template: str
) -> None:
    config = verp_site(site_dir, smtp_sink, "maildir", "bounces", template)
    assert publisher(config, "digest").exit_code == 0
    verp = {m.rcpt_tos[0]: m.mail_from for m in smtp_sink.messages}
    before, _, after = template.partition("{token}")
    assert all(
        re.fullmatch(re.escape(before) + r"d1-s\d+-[0-9a-f]{16}" + re.escape(after), sender)
        for sender in verp.values()
    )
    box = mailbox.Maildir(site_dir / "bounces", create=True)
    # Forwarded mail bounced at the address it was forwarded to: only the token says who.
    box.add(dsn(verp["reader000@example.org"], "reader000@forwarded.example.net"))
    box.add(request(verp["reader001@example.org"].upper(), "Reader <other@example.com>"))

    result = publisher(config, "bounces", now=LATER)

    assert result.exit_code == 0, result.output
    statuses = subscriber_statuses(site_dir)
    # measured: both found by token (with bounces-… and {token}@…, both were ignored)
    assert statuses["reader000@example.org"] == "bounced"
    assert statuses["reader001@example.org"] == "unsubscribed"
    assert "0 about nobody on the list" in result.output


def test_with_a_bounce_address_forged_reports_and_spoofed_senders_change_nobody(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    config = verp_site(site_dir, smtp_sink, "maildir", "bounces")
    assert publisher(config, "digest").exit_code == 0
    box = mailbox.Maildir(site_dir / "bounces", create=True)
    box.add(dsn("digest@news.example.org", "reader003@example.org"))  # no token
    box.add(dsn("bounces+d1-s5-0123456789abcdef@news.example.org", "reader004@example.org"))
    box.add(request("digest@news.example.org", "reader005@example.org"))  # spoofed From

    result = publisher(config, "bounces", now=LATER)

    assert result.exit_code == 0, result.output
    # measured: nobody changed (the DSNs bounced reader003 and 004 by the address they
    # named, and the request unsubscribed reader005 by its From:)
    assert set(subscriber_statuses(site_dir).values()) == {"active"}
    assert "2 about nobody on the list, 1 other message left alone" in result.output


def test_without_a_bounce_address_only_a_mail_system_may_report_a_bounce(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    config = verp_site(site_dir, smtp_sink, "maildir", "bounces", template=None)
    assert publisher(config, "digest").exit_code == 0
    box = mailbox.Maildir(site_dir / "bounces", create=True)
    forged = dsn("digest@news.example.org", "reader003@example.org", sender="x@evil.example")
    box.add(forged.replace("Return-Path: <>", "Return-Path: <x@evil.example>"))
    box.add(dsn("digest@news.example.org", "reader004@example.org"))
    box.add(request("digest@news.example.org", "reader005@example.org"))

    result = publisher(config, "bounces", now=LATER)

    assert result.exit_code == 0, result.output
    statuses = subscriber_statuses(site_dir)
    assert statuses["reader003@example.org"] == "active"  # measured: active (was bounced)
    # What is left to trust without VERP, as docs/security.md says:
    assert statuses["reader004@example.org"] == "bounced"  # the null sender's word
    assert statuses["reader005@example.org"] == "unsubscribed"  # the From: of a request


def test_an_mbox_run_killed_before_it_marked_its_messages_counts_nothing_twice(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    config = verp_site(site_dir, smtp_sink, "mbox", "bounces.mbox")
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("soft_bounce_limit = 3", "soft_bounce_limit = 2"), "utf-8")
    assert publisher(config, "digest").exit_code == 0
    soft = dict(fixture_messages(smtp_sink))["04-microsoft-soft.eml"]
    without_id = re.sub(rb"Message-ID: [^\n]*\n", b"", soft)
    box = mailbox.mbox(site_dir / "bounces.mbox", create=True)
    box.add(without_id)
    box.flush()
    box.close()
    # The run dies after recording the bounce and before marking it in the mbox file.
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sys\n"
            "from publisher.newsletter import bounce_mailbox\n"
            "bounce_mailbox.MboxBox.close = lambda self: os._exit(137)\n"
            "from publisher.cli import cli\n"
            "cli(sys.argv[1:])\n",
            *("--config", str(config), "--now", LATER, "bounces"),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        check=False,
    )
    assert killed.returncode == 137, killed.stderr
    soon = publisher(config, "bounces", now=LATER)
    dot_lock = site_dir / "bounces.mbox.lock"  # the dead run's, as a real kill leaves it
    ten_minutes_ago = time.time() - 600
    os.utime(dot_lock, (ten_minutes_ago, ten_minutes_ago))

    rerun = publisher(config, "bounces", now=LATER)

    assert soon.exit_code == 75 and "locked" in soon.output  # a fresh lock: not ours to break
    assert rerun.exit_code == 0, rerun.output
    assert not dot_lock.exists()
    counted = [e for e in events(site_dir) if e[0] == "reader003@example.org"]
    assert len(counted) == 1  # measured: 1 (was 2, and the reader bounced at limit 2)
    assert subscriber_statuses(site_dir)["reader003@example.org"] == "active"


def test_a_bounce_mailbox_not_there_yet_never_stops_the_digest_and_check_says_so(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    """Reproduces a review finding: with [bounces] maildir naming a folder the mail server has
    not created yet (many create it at the first delivery), `check` said ok and every
    `run` exited 2 before the digest, so no reader got mail."""
    config = verp_site(site_dir, smtp_sink, "maildir", "bounces")

    checked = publisher(config, "check")
    result = publisher(config, "run")

    assert checked.exit_code == 0, checked.output
    assert "[bounces] maildir" in checked.output and "is not a Maildir" in checked.output
    assert result.exit_code == 0, result.output
    assert "is not a Maildir" in result.output
    assert "the digest goes out without reading bounces" in result.output
    assert {m.rcpt_tos[0] for m in smtp_sink.messages} == set(READERS)
