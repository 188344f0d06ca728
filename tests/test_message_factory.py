"""The fast per-recipient messages are byte for byte what `compose` makes."""

from __future__ import annotations

import dataclasses
import email
import email.message
import email.policy

import pytest

from publisher.core.config import Config
from publisher.newsletter.base64_body import LINE_BYTES, Base64Body
from publisher.newsletter.headers import message_bytes
from publisher.newsletter.markers import Filler, fill
from publisher.newsletter.message import Recipient, compose
from publisher.newsletter.message_factory import MessageFactory
from tests.conftest import NOW
from tests.test_digest import parse, parts, recipient, sample_digest

NAMES = [
    "",
    "Ann Example",
    'Ann "Q" O\'Neil, Jr.',
    "김철수",
    "김철수 " * 14,  # a long Korean name, folded over several encoded words
    "Zoë Ünïcode",
    "x" * 100,
]


def composed(config: Config, factory: MessageFactory, to: Recipient, boundary: str) -> bytes:
    message = compose(
        config, factory.rendered, to, digest_number=factory.digest_number, sent_at=NOW
    )
    message.set_boundary(boundary)
    return message_bytes(message)


@pytest.mark.parametrize("name", NAMES)
def test_fast_messages_equal_composed_ones(config: Config, name: str) -> None:
    _, rendered = sample_digest(config)
    factory = MessageFactory(config, rendered, digest_number=4, sent_at=NOW)
    first = recipient("first@example.org")
    factory.wire_bytes(first)
    assert factory._skeleton is not None, "the fast path checked itself and is in use"
    to = recipient(f"reader{len(name)}@example.org", name)

    fast = factory.wire_bytes(to)

    assert fast == composed(config, factory, to, factory._skeleton.boundary)
    text, html = parts(parse(fast))
    assert to.unsubscribe_url in text and to.unsubscribe_url.replace("&", "&amp;") in html


def test_an_internationalised_address_is_composed_the_slow_way(config: Config) -> None:
    _, rendered = sample_digest(config)
    factory = MessageFactory(config, rendered, digest_number=4, sent_at=NOW)
    factory.wire_bytes(recipient("first@example.org"))
    to = recipient("독자@예시.한국", "독자")

    # SMTPUTF8 headers are UTF-8: read them as text, as an SMTPUTF8 receiver does.
    message = email.message_from_string(
        factory.wire_bytes(to).decode("utf-8"), policy=email.policy.default
    )

    assert message["To"].addresses[0].addr_spec == "독자@예시.한국"
    assert message["To"].addresses[0].display_name == "독자"


def test_when_the_first_recipient_cannot_check_the_fast_path_every_message_is_composed(
    config: Config,
) -> None:
    _, rendered = sample_digest(config)
    factory = MessageFactory(config, rendered, digest_number=4, sent_at=NOW)

    factory.wire_bytes(recipient("독자@예시.한국"))
    later = factory.wire_bytes(recipient("plain@example.org", "Plain"))

    assert factory._skeleton is None
    assert parse(later)["To"].addresses[0].addr_spec == "plain@example.org"


def test_per_recipient_headers_and_bodies_never_leak_between_messages(config: Config) -> None:
    _, rendered = sample_digest(config)
    factory = MessageFactory(config, rendered, digest_number=4, sent_at=NOW)
    readers = [recipient(f"r{n}@example.org", f"독자 {n}") for n in range(5)]

    messages = [parse(factory.wire_bytes(r)) for r in readers]

    assert len({m["Message-ID"] for m in messages}) == len(readers)
    for reader, message in zip(readers, messages, strict=True):
        assert message["To"].addresses[0].addr_spec == reader.email
        text, _ = parts(message)
        assert reader.unsubscribe_url in text
        others = [r.unsubscribe_url for r in readers if r is not reader]
        assert not any(url in text for url in others)


def test_a_marker_in_the_digest_text_is_filled_like_compose_fills_it(config: Config) -> None:
    _, rendered = sample_digest(config)
    rendered = dataclasses.replace(rendered, text=rendered.text + "\r\nlast line without newline")
    factory = MessageFactory(config, rendered, digest_number=9, sent_at=NOW)
    to = recipient("crlf@example.org", "CR LF")
    factory.wire_bytes(recipient("first@example.org"))
    assert factory._skeleton is not None

    assert factory.wire_bytes(to) == composed(config, factory, to, factory._skeleton.boundary)


@pytest.mark.parametrize("escape", [False, True])
def test_filling_is_one_pass_and_escapes_for_html(escape: bool) -> None:
    template = (
        "__publisher_greeting__ <a href='__publisher_unsubscribe_url__'>x</a> & "
        "__publisher_email____publisher_email__ end __publisher_greeting__"
    )
    values = {
        "greeting": "김철수님, <안녕>",
        "unsubscribe_url": "https://x.example/u?a=1&b=__publisher_email__",
        "email": '"q"@example.org',
    }

    filled = Filler(template, escape=escape)(values)

    assert filled == fill(template, values, escape=escape)
    assert "__publisher_email__" in filled, "a value holding a marker is not expanded again"
    assert filled.count('"q"@example.org' if not escape else "&quot;q&quot;@example.org") == 2
    assert ("<안녕>" in filled) != escape


def email_package_body(text: str) -> bytes:
    """The body the email package writes for a base64 text part."""
    part = email.message.EmailMessage(policy=email.policy.SMTP)
    part.set_content(text, cte="base64")
    return part.as_bytes().split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize("escape", [False, True])
def test_reused_base64_stretches_equal_the_email_packages_body_at_every_alignment(
    escape: bool,
) -> None:
    template = (
        "<p>__publisher_greeting__</p>\n"
        + "한국어 posts & <b>more</b>\n" * 300
        + "__publisher_unsubscribe_url__\nwhy: __publisher_email__\n"
    )
    body = Base64Body(template, escape=escape)

    for length in range(2 * LINE_BYTES + 1):  # every place the long stretch can start at
        values = {
            "greeting": "x" * length,
            "unsubscribe_url": f"https://example.org/u?t={'y' * (length % 7)}&a=1",
            "email": "reader@example.org",
        }
        expected = email_package_body(fill(template, values, escape=escape))
        assert body(values) == expected, f"greeting of {length} characters"
    assert len(body.encoded) == LINE_BYTES  # measured: one encoding per place, then reused
