"""The newsletter end to end: the real CLI sending the sample site's digest to a real
aiosmtpd server on 127.0.0.1, read back with Python's email package, lxml and dkimpy."""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import dkim
import lxml.html
import pytest
from click.testing import CliRunner, Result

from publisher.build.pipeline import load_posts
from publisher.cli import cli
from publisher.core.errors import ExitCode
from publisher.core.models import Post
from publisher.newsletter.delivery import send_digests
from publisher.newsletter.smtp import SmtpTransport
from publisher.site_config import load_config
from tests.conftest import NOW, ROOT
from tests.smtp_sink import SmtpSink, free_port

SUBSCRIBERS = [
    ("kim@example.org", "김철수"),
    ("lee@example.org", ""),
    ("ann@example.net", "Ann Example"),
]
SITE_TITLE = "뉴스다오 속보"


SHORT_BACKOFF = 0.01
"""[smtp] backoff where a test retries: the waits are real, but short."""


def smtp_site(site_dir: Path, sink: SmtpSink, **smtp: object) -> Path:
    """The sample config, sending through `sink` instead of writing the outbox."""
    return sink.send_site_through(site_dir / "config.toml", **smtp)


def publisher(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "--now", NOW.isoformat(), *args])


def subscribe_all(config: Path, subscribers: list[tuple[str, str]] = SUBSCRIBERS) -> None:
    for address, name in subscribers:
        result = publisher(config, "subscribers", "add", address, "--name", name)
        assert result.exit_code == 0, result.output


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def part(message: EmailMessage, kind: str) -> str:
    body = message.get_body(preferencelist=(kind,))
    assert body is not None, f"no text/{kind} part"
    content = body.get_content()
    assert isinstance(content, str)
    return content


def statuses(site_dir: Path) -> dict[str, str]:
    with sqlite3.connect(site_dir / "state" / "publisher.sqlite3") as db:
        rows = db.execute(
            "SELECT s.email, d.status FROM deliveries d"
            " JOIN subscribers s ON s.id = d.subscriber_id"
        )
        return dict(rows.fetchall())


@pytest.fixture
def sink(smtp_sink: SmtpSink) -> SmtpSink:
    return smtp_sink


def test_three_subscribers_each_receive_one_complete_message(
    site_dir: Path, sink: SmtpSink
) -> None:
    config = smtp_site(site_dir, sink)
    subscribe_all(config)

    result = publisher(config, "digest")

    assert result.exit_code == 0, result.output
    assert "3 sent, 0 failed" in result.output
    titles = {p.title for p in _sample_posts(config)}
    for address, name in SUBSCRIBERS:
        copies = sink.messages_for(address)
        assert len(copies) == 1, address
        message = parsed(copies[0])
        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        assert all(p.get_content_charset() == "utf-8" for p in message.iter_parts())
        assert all(p["Content-Transfer-Encoding"] == "base64" for p in message.iter_parts())

        subject = str(message["Subject"])
        assert subject.startswith(f"{SITE_TITLE}: ")
        assert subject.removeprefix(f"{SITE_TITLE}: ") in titles  # spaces survive decoding
        assert message["From"].addresses[0].display_name == SITE_TITLE
        assert message["From"].addresses[0].addr_spec == "digest@news.example.org"
        assert message["To"].addresses[0].addr_spec == address
        if name:
            assert message["To"].addresses[0].display_name == name
        assert message["Reply-To"].addresses[0].addr_spec == "editor@news.example.org"
        assert message["Date"].datetime is not None
        assert re.fullmatch(r"<[^<>@\s]+@news\.example\.org>", message["Message-ID"])
        assert "news.example.org" in message["List-Id"]
        https, mailto = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
        assert https.startswith("https://news.example.org/unsubscribe?token=")
        assert mailto.startswith("mailto:digest@news.example.org")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        html = part(message, "html")
        assert https in html.replace("&amp;", "&")
        document = lxml.html.document_fromstring(html)
        for style in document.iter("style"):
            leftover = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", style.text or "")
            assert leftover.strip() == "", "only @media rules may stay in <style>"
        assert len(document.xpath("//*[@style]")) > 20, "the CSS is inlined"
        links = [a.get("href") for a in document.iter("a")]
        assert links and all(h.startswith(("https://", "mailto:")) for h in links)
        images = list(document.iter("img"))
        assert images and all(i.get("src", "").startswith("https://") for i in images)
        assert all(i.get("alt") is not None and i.get("width") for i in images)
        text = part(message, "plain")
        assert https in text
        for title in titles:
            assert title in text and title in html


def _sample_posts(config: Path) -> list[Post]:
    return list(load_posts(load_config(config), NOW).posts)


def test_a_second_digest_sends_nothing_and_exits_0(site_dir: Path, sink: SmtpSink) -> None:
    config = smtp_site(site_dir, sink)
    subscribe_all(config)
    assert publisher(config, "digest").exit_code == 0

    again = publisher(config, "digest")

    assert again.exit_code == 0, again.output
    assert "nothing sent" in again.output
    assert len(sink.messages) == len(SUBSCRIBERS)


def test_the_dkim_signature_of_the_sent_bytes_verifies(
    site_dir: Path, sink: SmtpSink, dkim_key: tuple[Path, bytes]
) -> None:
    key_path, record = dkim_key
    config = smtp_site(site_dir, sink)
    text = config.read_text(encoding="utf-8").replace(
        "[digest]\n",
        f'[digest]\ndkim_selector = "mail2024"\ndkim_key_file = "{key_path}"\n',
        1,
    )
    config.write_text(text, encoding="utf-8")
    subscribe_all(config)

    assert publisher(config, "digest").exit_code == 0

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mail2024._domainkey.news.example.org."
        return record

    for address, _ in SUBSCRIBERS:
        (data,) = sink.messages_for(address)
        assert dkim.verify(data, dnsfunc=dns), address
        signed = parsed(data)["DKIM-Signature"].replace("\r\n", "").replace(" ", "").lower()
        for header in ("from", "to", "subject", "date", "message-id", "list-unsubscribe"):
            assert header in signed


def test_a_token_from_the_message_unsubscribes_only_its_own_reader(
    site_dir: Path, sink: SmtpSink
) -> None:
    config = smtp_site(site_dir, sink)
    subscribe_all(config)
    assert publisher(config, "digest").exit_code == 0
    (data,) = sink.messages_for("lee@example.org")
    token = re.findall(r"token=([^>&\s]+)>", parsed(data)["List-Unsubscribe"])[0]

    result = publisher(config, "unsubscribe", token)

    assert result.exit_code == 0, result.output
    listed = publisher(config, "subscribers", "list", "--status", "active").output
    assert "lee@example.org" not in listed
    assert "kim@example.org" in listed and "ann@example.net" in listed


def test_451_on_some_recipients_is_retried_and_delivered(site_dir: Path, sink: SmtpSink) -> None:
    config = smtp_site(site_dir, sink, backoff=SHORT_BACKOFF)
    subscribe_all(config)
    sink.fail("lee@example.org", (451, "4.7.1 greylisted, try again later"))

    result = publisher(config, "digest")

    assert result.exit_code == 0, result.output
    assert all(len(sink.messages_for(a)) == 1 for a, _ in SUBSCRIBERS)
    assert set(statuses(site_dir).values()) == {"sent"}


def test_550_fails_that_recipient_marks_it_bounced_and_the_others_are_delivered(
    site_dir: Path, sink: SmtpSink
) -> None:
    config = smtp_site(site_dir, sink)
    subscribe_all(config)
    sink.fail("lee@example.org", (550, "5.1.1 no such user"), forever=True)

    result = publisher(config, "digest")

    assert result.exit_code == 3, result.output
    assert "2 sent, 1 failed" in result.output and "1 bounced" in result.output
    assert sink.messages_for("lee@example.org") == []
    assert len(sink.messages_for("kim@example.org")) == 1
    assert statuses(site_dir)["lee@example.org"] == "failed"
    bounced = publisher(config, "subscribers", "list", "--status", "bounced").output
    assert "lee@example.org" in bounced
    status = publisher(config, "digest", "status")
    assert status.exit_code == 0 and "failed" in status.output
    # The failure is permanent: the next run does not try again.
    again = publisher(config, "digest")
    assert again.exit_code == 0, again.output
    assert len(sink.messages) == 2


def test_a_dropped_connection_is_reopened_and_everyone_gets_one_copy(
    site_dir: Path, sink: SmtpSink
) -> None:
    config = smtp_site(site_dir, sink, connections=1)
    subscribe_all(config)
    sink.drop_after = 1

    result = publisher(config, "digest")

    assert result.exit_code == 0, result.output
    assert [len(sink.messages_for(a)) for a, _ in SUBSCRIBERS] == [1, 1, 1]
    assert len({e.peer_port for e in sink.events}) >= 2, "a second connection was opened"


def test_an_unreachable_relay_leaves_the_rest_for_the_next_run(
    site_dir: Path, sink: SmtpSink
) -> None:
    config_path = smtp_site(site_dir, sink, connections=1)
    subscribe_all(config_path)
    config = load_config(config_path)
    dead = sink.configure(config, port=free_port(), connections=1)
    no_wait: list[float] = []

    def transport_for(_folder: Path) -> SmtpTransport:
        return SmtpTransport(dead.smtp, None, sleep=no_wait.append)

    report = send_digests(dead, NOW, transport_for=transport_for)

    assert report.partial and report.exit_code == ExitCode.TEMPFAIL  # deferred, not lost
    assert "left for the next run" in report.summary()
    assert no_wait, "connection errors were retried with backoff"
    assert sink.messages == []
    assert set(statuses(site_dir).values()) == {"pending"}

    result = publisher(config_path, "digest")

    assert result.exit_code == 0, result.output
    assert "(resumed)" in result.output
    assert [len(sink.messages_for(a)) for a, _ in SUBSCRIBERS] == [1, 1, 1]


def test_a_title_with_a_line_break_adds_no_header(site_dir: Path, sink: SmtpSink) -> None:
    config = smtp_site(site_dir, sink)
    for sample in (site_dir / "content").iterdir():
        sample.unlink()
    (site_dir / "content" / "injected.md").write_text(
        '---\ntitle: "속보\\r\\nBcc: victim@example.com\\nX-Injected: yes"\n'
        "date: 2024-06-20 08:00:00 +0900\n---\nbody\n",
        encoding="utf-8",
    )
    subscribe_all(config, SUBSCRIBERS[:1])

    result = publisher(config, "digest")

    assert result.exit_code == 0, result.output
    (received,) = sink.messages
    assert received.rcpt_tos == ("kim@example.org",)
    message = parsed(received.data)
    assert message["Bcc"] is None and message["X-Injected"] is None
    header_block = received.data.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in header_block and b"\nX-Injected" not in header_block
    assert "Bcc: victim@example.com" in str(message["Subject"])


def test_bad_csv_rows_are_reported_by_line_and_good_rows_imported(site_dir: Path) -> None:
    config = site_dir / "config.toml"
    rows = site_dir / "list.csv"
    rows.write_text(
        "email,name\n"
        "good@example.org,Good\n"
        "not-an-address,Bad\n"
        "second@example.org,둘째\n"
        '"evil@example.org\r\nBcc: x@example.com",Evil\n',
        encoding="utf-8",
    )

    result = publisher(config, "subscribers", "import", str(rows))

    assert result.exit_code == 3, result.output
    assert re.search(r"list.csv:3: .not-an-address", result.output)
    assert re.search(r"list.csv:5: .*line break", result.output)
    listed = publisher(config, "subscribers", "list").output
    assert "good@example.org" in listed and "second@example.org" in listed
    assert "evil" not in listed


def digest_in_a_subprocess(config: Path) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a real `publisher digest` process."""
    command = [sys.executable, "-m", "publisher", "--config", str(config)]
    command += ["--now", NOW.isoformat(), "digest"]
    return command, {**os.environ, "PYTHONPATH": str(ROOT)}


KILL_SUBSCRIBERS = [(f"reader{n:02d}@example.org", "") for n in range(8)]


def test_sigkill_mid_send_then_a_second_run_leaves_everyone_exactly_one_copy(
    site_dir: Path,
) -> None:
    with SmtpSink(data_delay=0.4) as sink:
        config = smtp_site(site_dir, sink, connections=1)
        subscribe_all(config, KILL_SUBSCRIBERS)
        command, environment = digest_in_a_subprocess(config)
        first = subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert sink.wait_for_messages(3, timeout=30), "the first run never got going"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed_after = len(sink.messages)
        assert killed_after < len(KILL_SUBSCRIBERS), "killed too late to test anything"
        time.sleep(0.5)  # let the sink finish the reply the dead client never read

        second = subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=60, check=False
        )

        assert second.returncode in (0, 3), second.stderr
        assert "(resumed)" in second.stdout
        for address, _ in KILL_SUBSCRIBERS:
            assert len(sink.messages_for(address)) == 1, address
        ambiguous = [a for a, s in statuses(site_dir).items() if s == "ambiguous"]
        assert set(statuses(site_dir).values()) <= {"sent", "ambiguous"}
        # An ambiguous row is one the server did take before the kill: reported, not resent.
        assert (second.returncode == 3) == bool(ambiguous)


def test_preview_writes_html_and_eml_and_records_nothing(site_dir: Path, sink: SmtpSink) -> None:
    config = smtp_site(site_dir, sink)
    subscribe_all(config)

    result = publisher(config, "digest", "--preview")

    assert result.exit_code == 0, result.output
    preview = site_dir / "outbox" / "preview"
    html = (preview / "preview.html").read_text(encoding="utf-8")
    message = parsed((preview / "preview.eml").read_bytes())
    assert message.get_content_type() == "multipart/alternative"
    assert part(message, "html").count("<a ") == html.count("<a ")
    assert "__publisher_" not in html, "every per-subscriber marker is filled in"
    assert sink.messages == []
    real = publisher(config, "digest")
    assert real.exit_code == 0 and "3 sent" in real.output, "the preview recorded nothing"


def test_a_test_copy_goes_to_one_address_and_records_nothing(
    site_dir: Path, sink: SmtpSink
) -> None:
    config = smtp_site(site_dir, sink)
    subscribe_all(config)

    result = publisher(config, "digest", "--to", "editor@example.com")

    assert result.exit_code == 0, result.output
    assert [m.rcpt_tos for m in sink.messages] == [("editor@example.com",)]
    assert parsed(sink.messages[0].data)["To"].addresses[0].addr_spec == "editor@example.com"
    real = publisher(config, "digest")
    assert real.exit_code == 0 and "3 sent" in real.output, "the test copy recorded nothing"
    assert len(sink.messages) == 4


def test_mark_sent_starts_the_next_digest_from_now(site_dir: Path, sink: SmtpSink) -> None:
    config = smtp_site(site_dir, sink)
    subscribe_all(config)

    marked = publisher(config, "digest", "--mark-sent")

    assert marked.exit_code == 0 and "marked 5 posts" in marked.output
    result = publisher(config, "digest")
    assert result.exit_code == 0, result.output
    assert "no new posts" in result.output
    assert sink.messages == []


def test_an_ambiguous_send_is_reported_and_resent_only_when_asked(
    site_dir: Path, sink: SmtpSink
) -> None:
    config = smtp_site(site_dir, sink, connections=1)
    subscribe_all(config)
    sink.drop_data_for = {"lee@example.org"}  # content read, then no reply: did it arrive?

    first = publisher(config, "digest")

    assert first.exit_code == 3, first.output
    assert "1 ambiguous" in first.output
    assert statuses(site_dir)["lee@example.org"] == "ambiguous"
    again = publisher(config, "digest")
    assert again.exit_code == 0, again.output
    assert sink.messages_for("lee@example.org") == []
    resent = publisher(config, "digest", "--resend-ambiguous")
    assert resent.exit_code == 0, resent.output
    assert len(sink.messages_for("lee@example.org")) == 1
    assert [len(sink.messages_for(a)) for a, _ in SUBSCRIBERS] == [1, 1, 1]


def test_the_archive_left_out_of_the_first_digest_is_never_mailed_later(
    site_dir: Path, sink: SmtpSink
) -> None:
    config = smtp_site(site_dir, sink)
    content = site_dir / "content"
    for month in range(1, 6):
        (content / f"old-{month}.md").write_text(
            f"---\ntitle: Old {month}\ndate: 2024-0{month}-01\n---\nArchive.\n", encoding="utf-8"
        )
    subscribe_all(config, SUBSCRIBERS[:1])
    assert publisher(config, "digest").exit_code == 0
    (content / "next.md").write_text(
        "---\ntitle: Next week\ndate: 2024-06-25 09:00:00 +0900\n---\nNew.\n", encoding="utf-8"
    )

    later = CliRunner().invoke(
        cli, ["--config", str(config), "--now", "2024-06-27T09:00:00+09:00", "digest"]
    )

    assert later.exit_code == 0, later.output
    first, second = (parsed(m.data) for m in sink.messages)
    assert not any(f"Old {m}" in part(first, "plain") for m in range(1, 6))
    second_text = part(second, "plain")
    assert "Next week" in second_text
    assert not any(f"Old {m}" in second_text for m in range(1, 6))
    with sqlite3.connect(site_dir / "state" / "publisher.sqlite3") as db:
        by_digest = dict(db.execute("SELECT post_id, digest_id FROM mailed_posts").fetchall())
    assert by_digest["tag:news.example.org,2024:next"] == 2
    assert by_digest["tag:news.example.org,2024:old-1"] is None  # the recorded baseline


def test_sigterm_mid_send_finishes_the_message_in_flight_and_exits_0(site_dir: Path) -> None:
    with SmtpSink(data_delay=0.3) as sink:
        config = smtp_site(site_dir, sink, connections=1)
        subscribe_all(config, KILL_SUBSCRIBERS)
        command, environment = digest_in_a_subprocess(config)
        first = subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert sink.wait_for_messages(2, timeout=30), "the first run never got going"
        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=30)

        assert first.returncode == 0, err
        assert "stopped on request" in out
        assert "finishing the message in flight" in err
        stopped_after = len(sink.messages)
        assert stopped_after < len(KILL_SUBSCRIBERS)
        assert set(statuses(site_dir).values()) == {"sent", "pending"}, "nothing left in flight"

        second = subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=60, check=False
        )

        assert second.returncode == 0, second.stderr
        for address, _ in KILL_SUBSCRIBERS:
            assert len(sink.messages_for(address)) == 1, address


def test_the_relay_hears_the_configured_helo_name(site_dir: Path, sink: SmtpSink) -> None:
    config = smtp_site(site_dir, sink, helo_name="mail.news.example.org")
    subscribe_all(config, SUBSCRIBERS[:1])

    assert publisher(config, "digest").exit_code == 0

    assert sink.hello_names == ["mail.news.example.org"]


def test_each_test_copy_has_its_own_message_id_and_digests_keep_theirs(
    site_dir: Path, sink: SmtpSink
) -> None:
    config = smtp_site(site_dir, sink)
    for minute in (1, 2):
        moment = NOW.replace(minute=minute).isoformat()
        result = CliRunner().invoke(
            cli, ["--config", str(config), "--now", moment, "digest", "--to", "me@example.com"]
        )
        assert result.exit_code == 0, result.output
    first, second = (parsed(m.data)["Message-ID"] for m in sink.messages)
    assert first != second
    subscribe_all(config, SUBSCRIBERS[:1])
    assert publisher(config, "digest").exit_code == 0
    digest_id = parsed(sink.messages[-1].data)["Message-ID"]
    assert digest_id.startswith("<digest-1.")


def test_check_finds_what_would_stop_the_next_digest(site_dir: Path) -> None:
    config = site_dir / "config.toml"
    template = site_dir / "templates" / "email" / "digest.html.j2"
    template.write_text(
        template.read_text(encoding="utf-8").replace("{{ site.title }}", "{{ site.titel }}", 1),
        encoding="utf-8",
    )
    text = config.read_text(encoding="utf-8").replace('transport = "outbox"', 'transport = "smtp"')
    text = text.replace('host = "localhost"', 'host = "smtp.example.com"')
    text = text.replace('security = "starttls"', 'security = "none"')
    text = text.replace("[digest]\n", '[digest]\ndkim_selector = "s1"\ndkim_key_file = "no.pem"\n')
    config.write_text(text, encoding="utf-8")

    result = publisher(config, "check")

    assert result.exit_code == 1
    assert "the newsletter cannot be sent as configured: 3 problems" in result.output
    assert re.search(r"templates/email: .*digest\.html\.j2:\d+: .*titel", result.output)
    assert "[smtp]: [smtp] security = 'none' would send mail to smtp.example.com" in result.output
    assert "[digest] DKIM: " in result.output and "no.pem" in result.output
    assert not (site_dir / "state").exists() and not (site_dir / "public").exists()


def test_check_only_notes_a_missing_sender_while_nobody_subscribed(site_dir: Path) -> None:
    config = site_dir / "config.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"(?m)^from = .*\n", "", text), encoding="utf-8")

    quiet = publisher(config, "check")

    assert quiet.exit_code == 0, quiet.output
    assert "note: [mail] from is not set" in quiet.output
    subscribe_all(config, SUBSCRIBERS[:1])
    loud = publisher(config, "check")
    assert loud.exit_code == 1
    assert "[mail] from: [mail] from is not set" in loud.output


def test_a_reader_who_unsubscribes_before_the_retry_is_skipped(
    site_dir: Path, sink: SmtpSink
) -> None:
    config = smtp_site(site_dir, sink, backoff=SHORT_BACKOFF)
    subscribe_all(config)
    sink.fail("lee@example.org", (451, "4.7.1 try later"), forever=True)
    first = publisher(config, "digest")  # retried [smtp] retries times, then deferred
    assert first.exit_code == 75, first.output
    assert statuses(site_dir)["lee@example.org"] == "pending"
    assert publisher(config, "unsubscribe", "lee@example.org").exit_code == 0

    retry = publisher(config, "digest")

    assert retry.exit_code == 0, retry.output
    assert "1 skipped (no longer subscribed)" in retry.output
    assert sink.messages_for("lee@example.org") == []
    assert statuses(site_dir)["lee@example.org"] == "failed"
