"""`publisher bounces` reading an IMAP folder on a real server (Dovecot, tests/imap_server.py):
the same DSNs, ARF reports and mailed unsubscribes as the Maildir test, end to end; TLS
(implicit and STARTTLS) with a verified certificate; processed messages moved, never
deleted unless configured, and nothing else in the folder touched."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from publisher.core.config import BouncesConfig
from publisher.core.errors import ConfigError
from publisher.newsletter.bounce_imap import PROCESSED_KEYWORD, open_imap_box
from publisher.newsletter.bounce_reports import MAX_MESSAGE_BYTES, parse_message
from publisher.site_config import load_config
from tests.conftest import NOW
from tests.imap_server import PASSWORD, USER, Dovecot, require_dovecot
from tests.smtp_sink import HOST, SmtpSink
from tests.test_bounces import (
    EXPECTED,
    LATER,
    fixture_messages,
    publisher,
    subscriber_statuses,
    verp_site,
)

PASSWORD_ENV = "PUBLISHER_TEST_IMAP_PASSWORD"


def imap_site(
    site_dir: Path,
    sink: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
    port: int,
    security: str = "none",
    extra: str = "",
) -> Path:
    config = verp_site(site_dir, sink, "imap_host", HOST)
    with config.open("a", encoding="utf-8") as file:
        file.write(
            f'imap_port = {port}\nimap_security = "{security}"\nimap_user = "{USER}"\n'
            f'imap_password_env = "{PASSWORD_ENV}"\n{extra}'
        )
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return config


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def test_an_imap_folder_of_dsns_complaints_and_requests_is_processed_and_the_next_digest_skips_them(
    site_dir: Path, smtp_sink: SmtpSink, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = imap_site(site_dir, smtp_sink, monkeypatch, dovecot.port)
    assert publisher(config, "digest").exit_code == 0
    dovecot.append("INBOX", [crlf(data) for _, data in fixture_messages(smtp_sink)])

    result = publisher(config, "bounces", now=LATER)
    again = publisher(config, "bounces", now=LATER)

    assert result.exit_code == 0, result.output + dovecot.log()
    assert subscriber_statuses(site_dir) == EXPECTED
    # measured: the same 16 messages as the Maildir test, the same findings
    assert "read 16 messages: 6 hard bounces, 4 soft bounces, 2 complaints, " in result.output
    assert "1 mailed unsubscribe; 7 now bounced, 3 now unsubscribed" in result.output
    inbox, processed = dovecot.folder("INBOX"), dovecot.folder("processed")
    assert len(inbox) == 3  # the human reply, the "delivered" report, mail to From: untouched,
    assert not any("\\Seen" in flags for flags, _ in inbox)  # not even marked seen
    assert len(processed) == 13 and all("\\Seen" in flags for flags, _ in processed)
    assert {b"Subject: Re: " in data for _, data in inbox} == {True, False}
    assert again.exit_code == 0
    assert "read 3 messages" in again.output and "no reports" in again.output

    (site_dir / "content" / "later.md").write_text(
        "---\ntitle: Later\ndate: 2024-06-21 09:00:00 +0900\n---\nNew.\n", encoding="utf-8"
    )
    before = len(smtp_sink.messages)
    assert publisher(config, "digest", now=LATER).exit_code == 0
    second = {m.rcpt_tos[0] for m in smtp_sink.messages[before:]}
    assert second == {a for a, s in EXPECTED.items() if s == "active"}  # measured: 5 of 15


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_imap_over_tls_verifies_the_servers_certificate(
    site_dir: Path,
    smtp_sink: SmtpSink,
    dovecot: Dovecot,
    monkeypatch: pytest.MonkeyPatch,
    security: str,
) -> None:
    port = dovecot.tls_port if security == "ssl" else dovecot.port
    config = imap_site(site_dir, smtp_sink, monkeypatch, port, security)
    assert publisher(config, "digest").exit_code == 0
    dovecot.append("INBOX", [crlf(data) for _, data in fixture_messages(smtp_sink)[:1]])

    untrusted = publisher(config, "bounces", now=LATER)
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cert.cert))  # trust the throwaway cert
    trusted = publisher(config, "bounces", now=LATER)

    assert untrusted.exit_code == 2
    assert f"the TLS certificate of the IMAP server {HOST}:{port} did not verify" in (
        untrusted.output
    )
    assert trusted.exit_code == 0, trusted.output + dovecot.log()
    assert "read 1 message: 1 hard bounce" in trusted.output
    assert subscriber_statuses(site_dir)["reader000@example.org"] == "bounced"
    assert "TLS" in dovecot.log()  # the login was over TLS


def test_plain_text_imap_is_refused_unless_the_server_is_on_this_machine(
    site_dir: Path, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = imap_site(site_dir, smtp_sink, monkeypatch, 143)
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(f'imap_host = "{HOST}"', 'imap_host = "imap.example.org"'), encoding="utf-8"
    )

    result = publisher(config, "bounces", now=LATER)

    assert result.exit_code == 2
    assert "imap_security = 'none' would send the IMAP password to imap.example.org:143" in (
        result.output
    )


def test_a_wrong_imap_password_names_the_login_and_the_variable(
    site_dir: Path,
    smtp_sink: SmtpSink,
    dovecot_of_its_own: Dovecot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dovecot = dovecot_of_its_own
    config = imap_site(site_dir, smtp_sink, monkeypatch, dovecot.port)
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")

    result = publisher(config, "bounces", now=LATER)

    assert result.exit_code == 2
    assert f"the IMAP server {HOST}:{dovecot.port} refused the login of '{USER}'" in result.output
    assert PASSWORD_ENV in result.output


def test_an_unreachable_imap_server_exits_75_and_run_still_sends_the_digest(
    site_dir: Path, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:
        closed.bind((HOST, 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        config = imap_site(site_dir, smtp_sink, monkeypatch, port)

        bounces = publisher(config, "bounces", now=NOW.isoformat())
        run = publisher(config, "run", now=NOW.isoformat())

    assert bounces.exit_code == 75
    assert f"cannot read the bounce mailbox on {HOST}:{port}" in bounces.output
    assert run.exit_code == 0, run.output
    assert "the digest goes out without reading bounces" in run.output
    assert len(smtp_sink.messages) == len(EXPECTED)  # measured: 15 readers mailed


def inbox_with(dovecot: Dovecot, messages: list[bytes]) -> None:
    """The messages, the first already marked deleted by someone else (not expunged)."""
    dovecot.append("INBOX", messages)
    imap = dovecot.client()
    imap.select("INBOX")
    imap.store("1", "+FLAGS", r"(\Deleted)")
    imap.logout()


def settings_for(site_dir: Path, dovecot: Dovecot, extra: str = "") -> BouncesConfig:
    (site_dir / "config.toml").write_text(
        (site_dir / "config.toml").read_text(encoding="utf-8")
        + f'\n[bounces]\nimap_host = "{HOST}"\nimap_port = {dovecot.port}\n'
        f'imap_security = "none"\nimap_user = "{USER}"\n{extra}',
        encoding="utf-8",
    )
    return load_config(site_dir / "config.toml").bounces


MESSAGES = [f"Subject: {n}\r\nMessage-ID: <{n}@example.org>\r\n\r\n{n}\r\n".encode() for n in "abc"]


@pytest.mark.parametrize(
    ("dropped", "inbox_after", "kept_flags"),
    [
        ({"MOVE"}, 2, set()),  # UID COPY, \Deleted, UID EXPUNGE of that message alone
        ({"MOVE", "UIDPLUS"}, 3, {PROCESSED_KEYWORD}),  # copied, the original flagged
    ],
)
def test_without_move_messages_are_copied_and_nothing_else_is_expunged(
    site_dir: Path, dovecot: Dovecot, dropped: set[str], inbox_after: int, kept_flags: set[str]
) -> None:
    inbox_with(dovecot, MESSAGES)
    box = open_imap_box(settings_for(site_dir, dovecot), PASSWORD)
    box.capabilities -= dropped
    try:
        read = list(box.messages())
        box.processed(read[0][0], "hard_bounce", NOW)
        unread_next_time = [key for key, _ in box.messages()]
    finally:
        box.close()

    assert [data.split(b"\r\n")[0] for _, data in read] == [b"Subject: b", b"Subject: c"]
    assert unread_next_time == [read[1][0]]
    inbox = dovecot.folder("INBOX")
    assert len(inbox) == inbox_after  # the message someone else deleted is still there
    assert "\\Deleted" in inbox[0][0]
    assert [data.split(b"\r\n")[0] for _, data in dovecot.folder("processed")] == [b"Subject: b"]
    for flag in kept_flags:
        assert flag in inbox[1][0]


def test_delete_processed_expunges_only_the_processed_message(
    site_dir: Path, dovecot: Dovecot
) -> None:
    inbox_with(dovecot, MESSAGES)
    settings = settings_for(site_dir, dovecot, "delete_processed = true\n")
    box = open_imap_box(settings, PASSWORD)
    try:
        key = next(box.messages())[0]
        box.processed(key, "hard_bounce", NOW)
    finally:
        box.close()

    subjects = [data.split(b"\r\n")[0] for _, data in dovecot.folder("INBOX")]
    assert subjects == [b"Subject: a", b"Subject: c"]  # b deleted; a (someone's \Deleted) kept
    assert dovecot.folder("processed") == []


def test_a_missing_imap_folder_is_a_clear_error(site_dir: Path, dovecot: Dovecot) -> None:
    settings = settings_for(site_dir, dovecot, 'imap_folder = "Bounces"\n')

    with pytest.raises(ConfigError, match="has no folder 'Bounces'"):
        open_imap_box(settings, PASSWORD)


def test_missing_dovecot_skips_or_fails_when_peers_are_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PUBLISHER_REQUIRE_PEERS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Dovecot is not installed"):
        require_dovecot(str(tmp_path))
    monkeypatch.setenv("PUBLISHER_REQUIRE_PEERS", "1")
    with pytest.raises(pytest.fail.Exception, match="Dovecot is not installed"):
        require_dovecot(str(tmp_path))


def test_a_message_bigger_than_any_report_is_fetched_no_further_than_the_bound(
    site_dir: Path, dovecot: Dovecot
) -> None:
    big = b"Subject: big\r\n\r\n" + b"x" * 76 + b"\r\n"
    dovecot.append("INBOX", [big * (MAX_MESSAGE_BYTES // len(big) + 2)])
    box = open_imap_box(settings_for(site_dir, dovecot), PASSWORD)
    try:
        [(_, data)] = list(box.messages())
    finally:
        box.close()

    assert len(data) == MAX_MESSAGE_BYTES + 1  # enough to know it is too big to be a report
    assert parse_message(data) is None


def test_an_unset_password_variable_is_named_before_connecting(
    site_dir: Path, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = imap_site(site_dir, smtp_sink, monkeypatch, 143)
    monkeypatch.delenv(PASSWORD_ENV)

    result = publisher(config, "bounces", now=LATER)

    assert result.exit_code == 2
    assert f"the password variable {PASSWORD_ENV} is not" in result.output
