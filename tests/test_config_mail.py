"""Config that `check` passes works (issue 12, item 10): mailboxes and domains in [mail],
[digest] and [smtp] are checked as strictly as the mail they end up in."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import cli
from publisher.core.errors import ConfigError
from publisher.newsletter.delivery import send_digests
from publisher.newsletter.subscribers import add_subscriber
from publisher.site_config import load_config
from tests.conftest import NOW

SAMPLE_FROM = 'from = "뉴스다오 속보 <digest@news.example.org>"'


def with_mail(site_dir: Path, from_line: str = SAMPLE_FROM, **extra: str) -> Path:
    """The sample config with [mail] from replaced and `table__key=value` settings made."""
    path = site_dir / "config.toml"
    text = path.read_text(encoding="utf-8")
    assert SAMPLE_FROM in text
    text = text.replace(SAMPLE_FROM, from_line)
    for dotted, value in extra.items():
        table, key = dotted.split("__")
        lines = [line for line in text.splitlines() if not line.startswith(f"{key} = ")]
        text = "\n".join(lines) + "\n"
        text = text.replace(f"[{table}]\n", f"[{table}]\n{key} = {value}\n", 1)
    path.write_text(text, encoding="utf-8")
    return path


def check(config: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), "--now", NOW.isoformat(), "check"])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("from_line", "extra", "where", "reason"),
    [
        (
            'from = "News @ Acme <news@acme.example>"',
            {},
            "[mail] from",
            'put a name with commas, @ or dots in quotes: "News, Weekly"',
        ),
        ('from = "News, Weekly <news@acme.example>"', {}, "[mail] from", "names 2 addresses"),
        (
            SAMPLE_FROM,
            {"mail__message_id_domain": '"news.example.org\\nBcc: victim@example.net"'},
            "[mail] message_id_domain",
            "is not a valid domain name",
        ),
        (
            SAMPLE_FROM,
            {"mail__message_id_domain": '"Acme"'},
            "[mail] message_id_domain",
            "needs a dot",
        ),
        (
            SAMPLE_FROM,
            {"digest__dkim_domain": '"news example org"'},
            "[digest] dkim_domain",
            "write a domain like",
        ),
        (
            SAMPLE_FROM,
            {"smtp__helo_name": '"mail.example.org\\r\\nMAIL FROM:<x@y.example>"'},
            "[smtp] helo_name",
            "must be a host name",
        ),
    ],
)
def test_each_value_that_would_break_mail_later_fails_check_and_config_load(
    site_dir: Path, from_line: str, extra: dict[str, str], where: str, reason: str
) -> None:
    """Reproduces item 10: these passed `check`; the first two sent `From: News@Acme` or left
    the digest unfinished (the lead's strict mailbox parser now refuses them, and this pins
    it), and a message_id_domain with a line break passed and crashed the digest."""
    config = with_mail(site_dir, from_line, **extra)
    code, output = check(config)
    assert code == 2, output
    assert where in output and reason in output, output
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert any(where in str(problem) for problem in caught.value.problems)


def test_a_quoted_display_name_with_specials_goes_out_quoted_and_whole(site_dir: Path) -> None:
    config_path = with_mail(
        site_dir,
        'from = "\\"News @ Acme, Weekly\\" <news@acme.example>"',
        mail__reply_to='"\\"Desk (night)\\" <desk@acme.example>"',
    )
    assert check(config_path)[0] == 0
    config = load_config(config_path)
    add_subscriber(config, "reader@example.org", "Reader, Dear", NOW)
    report = send_digests(config, NOW)
    assert report.exit_code == 0, report.summary()
    (path,) = config.paths.outbox.glob("digest-*/*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    (origin,) = message["From"].addresses
    assert (origin.display_name, origin.addr_spec) == ("News @ Acme, Weekly", "news@acme.example")
    assert message["From"].defects == ()
    (answer,) = message["Reply-To"].addresses
    assert (answer.display_name, answer.addr_spec) == ("Desk (night)", "desk@acme.example")
    (to,) = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Reader, Dear", "reader@example.org")
    assert str(message["Message-ID"]).endswith("@acme.example>")
