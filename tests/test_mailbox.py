"""Config mailboxes: one strict parser, and the plain shapes it needs not be asked about.

`mailbox_problem` answers "fine" for PLAINLY_ONE_MAILBOX without the email package
(so loading config.toml stays cheap); these tests hold the parser to agreeing with it.
"""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from publisher.core.mailbox import (
    PLAINLY_ONE_MAILBOX,
    MailboxError,
    mailbox_problem,
    parse_mailbox,
)

PLAIN = [
    "news@example.org",
    "뉴스다오 속보 <digest@news.example.org>",
    "News Weekly <news+weekly@mail.example.co.uk>",
    "2024 <a@b.co>",
    "Ünïcödé Ñame <first.last-x@x-y.example>",
    "Новости <n_1@example.org>".replace("_", "."),
]
NOT_PLAIN_BUT_FINE = [
    '"News, Weekly" <news@example.org>',
    "J. Doe <j@example.org>",
    "<news@example.org>",
    "news@bücher.example",
]
NOT_PLAIN_AND_REFUSED = [
    "News, Weekly <news@example.org>",
    "a@example.org, b@example.org",
    "news@localhost",
    "news@example.org\nBcc: x@example.org",
    "",
    "News <news@-example.org>",
    "News <news..x@example.org>",
]


@pytest.mark.parametrize("value", PLAIN)
def test_plain_mailboxes_are_what_the_parser_reads_them_as(value: str) -> None:
    assert PLAINLY_ONE_MAILBOX.fullmatch(value)
    name, _, address = value.rpartition(" <")
    found = parse_mailbox(value)
    assert (found.name, found.address) == (name, address.rstrip(">")) if name else value


@pytest.mark.parametrize("value", NOT_PLAIN_BUT_FINE)
def test_other_valid_mailboxes_still_go_to_the_parser(value: str) -> None:
    assert not PLAINLY_ONE_MAILBOX.fullmatch(value)
    assert mailbox_problem(value) is None


@pytest.mark.parametrize("value", NOT_PLAIN_AND_REFUSED)
def test_what_the_parser_refuses_is_never_plain(value: str) -> None:
    assert not PLAINLY_ONE_MAILBOX.fullmatch(value)
    assert mailbox_problem(value) is not None
    with pytest.raises(MailboxError):
        parse_mailbox(value)


def _candidate(rng: random.Random) -> str:
    """Strings near the plain shape: words and an address of the characters it allows, and
    one time in ten a character it must refuse."""

    def text(allowed: str, longest: int) -> str:
        odd = "_.,@<>\"'() -+\t;:[]\\"
        return "".join(
            rng.choice(odd) if rng.random() < 0.1 else rng.choice(allowed)
            for _ in range(rng.randint(1, longest))
        )

    word = text("abcXYZ09가나다ÄéжΩ²", 6)
    local = text("ab9", 4) + rng.choice(["", ".", "+", "-", "..", "_"]) + text("ab9", 3)
    labels = [text("ab9", 3) + rng.choice(["", "-", "--"]) + text("ab9", 3) for _ in "ab"]
    domain = ".".join(labels[: rng.randint(1, 2)]) + rng.choice([".org", ".co", ".x9", "", ".O"])
    address = f"{local}@{domain}"
    return rng.choice([address, f"{word} <{address}>", f"{word} {word} <{address}>"])


def test_the_parser_accepts_everything_the_shortcut_accepts() -> None:
    rng = random.Random(9)
    plain = 0
    for _ in range(20_000):
        value = _candidate(rng)
        if PLAINLY_ONE_MAILBOX.fullmatch(value):
            plain += 1
            parse_mailbox(value)  # raises if the shortcut let through what the parser refuses
    assert plain > 1_000, "the generator hardly made plain mailboxes; it tests nothing"


def test_loading_a_config_with_a_plain_sender_does_not_import_the_email_package() -> None:
    probe = (
        "import sys\n"
        "from publisher.core.checks import optional_mailbox\n"
        "assert optional_mailbox('뉴스다오 속보 <digest@news.example.org>') is None\n"
        "assert optional_mailbox('News, Weekly <n@example.org>')\n"
        "print(sorted(m for m in sys.modules if m == 'email' or m.startswith('email.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() != "[]", "the refused mailbox went to the parser"
    quiet = probe.replace("assert optional_mailbox('News, Weekly <n@example.org>')\n", "")
    done = subprocess.run([sys.executable, "-c", quiet], capture_output=True, text=True)
    assert done.stdout.strip() == "[]"
