"""Issue 11 case 8: SpamAssassin (Debian's `spamassassin`, local rules only: no network
tests, no Bayes, no auto-welcomelist) gives the digest as we send it 0 points, and
through a relay without reverse DNS it scores no worse than a hand-made newsletter of the
same posts (tests/fixtures/spam) carrying the same headers.

One spamassassin run scores all three messages (its start-up takes seconds). Without
spamassassin the test skips, or fails under PUBLISHER_REQUIRE_PEERS=1 (CI sets it).
"""

from __future__ import annotations

import email.message
import email.policy
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import cli
from tests.conftest import NOW

FIXTURES = Path(__file__).parent / "fixtures" / "spam"
RELAY_WITHOUT_RDNS = (
    # The relay that handed the message to the reader's server had no reverse DNS
    # ("unknown"). The address is only text here: -L makes no DNS or network lookups.
    b"Received: from news.example.org (unknown [192.88.99.25])\r\n"
    b"\tby mx.example.net (Postfix) with ESMTPS id 4W4X1Y2Z3Q\r\n"
    b"\tfor <reader@example.org>; Thu, 20 Jun 2024 09:00:02 +0900 (KST)\r\n"
)
_BODY_HEADERS = ("content-type", "content-transfer-encoding", "mime-version")
_TESTS = re.compile(rb"^X-Spam-Tests: (.*(?:\r?\n[ \t].*)*)", re.MULTILINE)


def spamassassin() -> str:
    found = shutil.which("spamassassin")
    if found:
        return found
    message = (
        "spamassassin is not installed; install the Debian package `spamassassin` "
        "(apt-get install -y --no-install-recommends spamassassin) to score the digest"
    )
    if os.environ.get("PUBLISHER_REQUIRE_PEERS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def scores(messages: list[bytes], folder: Path) -> list[dict[str, float]]:
    """Each message's rules that fired, with their points, from one spamassassin run."""
    paths = []
    for number, data in enumerate(messages):
        path = folder / f"message-{number}.eml"
        path.write_bytes(data)
        paths.append(str(path))
    home = folder / "home"  # its user preferences, never the real home's
    home.mkdir()
    result = subprocess.run(
        [
            spamassassin(),
            "--local",
            "--nocreate-prefs",
            "--cf=use_bayes 0",
            "--cf=use_auto_welcomelist 0",
            "--cf=add_header all Tests _TESTSSCORES(,)_",
            *paths,
        ],
        capture_output=True,
        env={**os.environ, "HOME": str(home)},
        timeout=300,
        check=True,
    )
    found = [b" ".join(value.split()).decode() for value in _TESTS.findall(result.stdout)]
    assert len(found) == len(messages), result.stderr.decode(errors="replace")
    return [
        {} if value == "none" else {rule: float(points) for rule, points in _pairs(value)}
        for value in found
    ]


def _pairs(value: str) -> list[tuple[str, str]]:
    return [tuple(item.split("=", 1)) for item in value.split(",")]  # type: ignore[misc]


def total(rules: dict[str, float]) -> float:
    return round(sum(rules.values()), 1)


def sample_digest(site_dir: Path) -> bytes:
    config = site_dir / "config.toml"
    subscribers = site_dir / "readers.csv"
    subscribers.write_text("reader@example.org,Reader\n", encoding="utf-8")
    for args in (["subscribers", "import", str(subscribers)], ["digest"]):
        result = CliRunner().invoke(cli, ["--config", str(config), "--now", NOW.isoformat(), *args])
        assert result.exit_code == 0, result.output
    [message] = (site_dir / "outbox").glob("digest-*/*.eml")
    return message.read_bytes()


def handmade_with_the_headers_of(digest: bytes) -> bytes:
    """The hand-made newsletter as a multipart/alternative message with the digest's own
    headers (From, To, Subject, Date, Message-ID, List-*), so only the content differs."""
    made = email.message.EmailMessage(policy=email.policy.SMTP)
    made.set_content((FIXTURES / "handmade.txt").read_text(encoding="utf-8"))
    made.add_alternative((FIXTURES / "handmade.html").read_text(encoding="utf-8"), subtype="html")
    body = made.as_bytes()
    headers = digest.split(b"\r\n\r\n", 1)[0]
    shared = re.split(rb"\r\n(?![ \t])", headers)
    kept = [line for line in shared if line.split(b":", 1)[0].lower().decode() not in _BODY_HEADERS]
    return b"\r\n".join(kept) + b"\r\n" + body


def test_the_digest_scores_0_and_no_worse_than_a_handmade_newsletter_through_a_bare_relay(
    site_dir: Path, tmp_path: Path
) -> None:
    digest = sample_digest(site_dir)
    handmade = handmade_with_the_headers_of(digest)

    own, relayed, handmade_relayed = scores(
        [digest, RELAY_WITHOUT_RDNS + digest, RELAY_WITHOUT_RDNS + handmade], tmp_path
    )

    # measured: HTML_MESSAGE 0.001, NO_RECEIVED -0.001, NO_RELAYS -0.001: 0.0 points
    assert {rule: points for rule, points in own.items() if points > 0.01} == {}, own
    assert total(own) <= 0
    # measured: digest 2.4 (RDNS_NONE 2.399, HTML_MESSAGE 0.001); hand-made 2.4, the same
    assert "RDNS_NONE" in relayed and "RDNS_NONE" in handmade_relayed  # the bare relay counts
    assert total(relayed) <= total(handmade_relayed), (relayed, handmade_relayed)
    content_rules = set(relayed) - {"RDNS_NONE", "HTML_MESSAGE"}
    assert {rule for rule in content_rules if relayed[rule] > 0.01} == set(), relayed
