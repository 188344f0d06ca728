"""Digests: post selection, render once, compose per subscriber, parse back, sign and verify.

Every message is parsed back with the email package and every HTML part with lxml.
"""

from __future__ import annotations

import base64
import dataclasses
import email
import email.header
import email.policy
import logging
import re
from datetime import datetime, timedelta
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dkim
import lxml.html
import pytest

from publisher.build.pipeline import load_posts
from publisher.core.config import Config
from publisher.core.errors import ConfigError, TemplateError
from publisher.core.models import Category, DateSource, Post
from publisher.newsletter.digest import RenderedDigest, render_digest
from publisher.newsletter.headers import message_bytes
from publisher.newsletter.message import Recipient, compose, preview_html, unsubscribe_url
from publisher.newsletter.selection import select_posts
from publisher.newsletter.signing import dkim_sign, load_dkim_key
from publisher.state.store import open_store
from tests.conftest import NOW, ROOT, openssl
from tests.legacy_digests import legacy_digest

GOLDEN = ROOT / "tests" / "golden" / "digest"
KB90 = 90_000


def make_post(
    number: int,
    published: datetime,
    *,
    title: str | None = None,
    summary: str = "",
    content_html: str = "<p>본문입니다.</p>",
    image: str | None = None,
    url: str | None = None,
    post_id: str | None = None,
) -> Post:
    return Post(
        source=Path(f"/site/content/{number:03d}.md"),
        source_name=f"{number:03d}.md",
        id=post_id or f"tag:news.example.org,2024:{number:03d}",
        title=title if title is not None else f"글 {number}",
        url=url or f"https://news.example.org/posts/{number}/",
        slug=str(number),
        published=published,
        updated=published,
        date_source=DateSource.FRONT_MATTER,
        categories=(Category("News", "news"),),
        tags=(),
        author="편집부",
        summary=summary,
        content_html=content_html,
        image=image,
        lang=None,
    )


def with_digest(config: Config, **changes: Any) -> Config:
    return dataclasses.replace(config, digest=dataclasses.replace(config.digest, **changes))


def recipient(email_address: str = "reader@example.org", name: str = "") -> Recipient:
    token = base64.urlsafe_b64encode(email_address.encode()).decode().rstrip("=")
    return Recipient(
        email=email_address,
        name=name,
        unsubscribe_url=f"https://news.example.org/unsubscribe?token={token}",
        unsubscribe_mailto="mailto:digest@news.example.org?subject=unsubscribe",
    )


def wire(config: Config, rendered: RenderedDigest, to: Recipient, number: int = 7) -> bytes:
    return message_bytes(compose(config, rendered, to, digest_number=number, sent_at=NOW))


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text, html) of a multipart/alternative digest, checking its shape on the way."""
    assert message.get_content_type() == "multipart/alternative"
    subparts = [part for part in message.iter_parts() if isinstance(part, Message)]
    assert [p.get_content_type() for p in subparts] == ["text/plain", "text/html"]
    texts = []
    for part in subparts:
        assert isinstance(part, EmailMessage)
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "base64"
        texts.append(part.get_content().replace("\r\n", "\n"))  # canonical CRLF inside base64
    return texts[0], texts[1]


def sample_digest(config: Config) -> tuple[list[Post], RenderedDigest]:
    posts = select_posts(
        load_posts(config, NOW).posts, set(), first_digest=True, now=NOW, config=config
    )
    return posts, render_digest(config, posts, now=NOW)


# Which posts


def test_select_posts_takes_only_new_posts_newest_first_up_to_max_posts(config: Config) -> None:
    posts = [make_post(n, NOW - timedelta(days=n)) for n in range(6)]
    mailed = {posts[0].id, posts[3].id}
    chosen = select_posts(
        list(reversed(posts)),
        mailed,
        first_digest=False,
        now=NOW,
        config=with_digest(config, max_posts=3),
    )
    assert [p.id for p in chosen] == [posts[1].id, posts[2].id, posts[4].id]


def test_first_digest_reaches_back_only_first_digest_days(config: Config) -> None:
    posts = [make_post(n, NOW - timedelta(days=n, hours=1)) for n in range(10)]
    config = with_digest(config, first_digest_days=3, max_posts=50)
    first = select_posts(posts, set(), first_digest=True, now=NOW, config=config)
    later = select_posts(posts, set(), first_digest=False, now=NOW, config=config)
    assert [p.id for p in first] == [p.id for p in posts[:3]]
    assert len(later) == 10


def test_an_edited_post_that_was_mailed_is_never_mailed_again(config: Config) -> None:
    original = make_post(1, NOW - timedelta(days=2))
    edited = dataclasses.replace(original, title="고친 제목", updated=NOW - timedelta(minutes=5))
    assert select_posts([edited], {original.id}, first_digest=False, now=NOW, config=config) == []


def test_posts_dated_after_now_wait(config: Config) -> None:
    future = make_post(1, NOW + timedelta(hours=1))
    past = make_post(2, NOW - timedelta(hours=1))
    chosen = select_posts([future, past], set(), first_digest=False, now=NOW, config=config)
    assert chosen == [past]


# Rendering once, composing per subscriber


def test_render_once_then_compose_for_several_subscribers(config: Config) -> None:
    posts, rendered = sample_digest(config)
    assert rendered.post_ids == tuple(p.id for p in posts)
    assert len(posts) == 5
    readers = [
        recipient("kim@example.org", "김철수"),
        recipient("lee@example.net", ""),
        recipient("park@example.com", "Park & Sons <CEO>"),
    ]
    seen_ids = set()
    for reader in readers:
        message = parse(wire(config, rendered, reader))
        text, html_part = parts(message)
        assert message["To"].addresses[0].addr_spec == reader.email
        assert message["To"].addresses[0].display_name == reader.name
        assert reader.unsubscribe_url in text
        assert reader.email in text
        root = lxml.html.fromstring(html_part)
        hrefs = root.xpath("//a/@href")
        assert reader.unsubscribe_url in hrefs
        assert reader.email in root.text_content()
        assert "__publisher_" not in text + html_part
        seen_ids.add(message["Message-ID"])
        for post in posts:
            assert post.title in text and post.url in text
            assert post.url in hrefs
    assert len(seen_ids) == len(readers)


def test_the_greeting_names_the_reader_only_when_there_is_a_name(config: Config) -> None:
    _, rendered = sample_digest(config)
    named_text, named_html = parts(parse(wire(config, rendered, recipient(name="김철수"))))
    plain_text, plain_html = parts(parse(wire(config, rendered, recipient(name=""))))
    assert named_text.startswith("김철수님, 안녕하세요.\n")
    assert "김철수님, 안녕하세요." in lxml.html.fromstring(named_html).text_content()
    assert plain_text.startswith("안녕하세요.\n")
    assert "님," not in plain_text
    assert "님," not in lxml.html.fromstring(plain_html).text_content()


def test_english_sites_get_english_labels(config: Config) -> None:
    config = dataclasses.replace(
        config, site=dataclasses.replace(config.site, language="en", title="The Daily")
    )
    rendered = render_digest(config, [make_post(1, NOW)], now=NOW)
    text, html_part = parts(parse(wire(config, rendered, recipient(name="Ann"))))
    assert text.startswith("Hello Ann,\n")
    assert "Read more: https://news.example.org/posts/1/" in text
    assert "Read more" in lxml.html.fromstring(html_part).text_content()
    assert "Here is the new post from The Daily." in text


def test_the_message_is_utf8_base64_text_then_html_with_crlf_lines(config: Config) -> None:
    _, rendered = sample_digest(config)
    data = wire(config, rendered, recipient())
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert data.isascii()
    text, html_part = parts(parse(data))
    assert "계속 읽기" in text and "계속 읽기" in html_part


def test_all_headers_are_present(config: Config) -> None:
    _, rendered = sample_digest(config)
    reader = recipient("kim@example.org", "김철수")
    message = parse(wire(config, rendered, reader))
    for name in (
        "From",
        "To",
        "Reply-To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Id",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "MIME-Version",
    ):
        assert len(message.get_all(name) or []) == 1, name
    sender = message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("뉴스다오 속보", "digest@news.example.org")
    assert message["Reply-To"].addresses[0].addr_spec == "editor@news.example.org"
    assert message["Date"].datetime == NOW
    assert re.fullmatch(r"<digest-7\.[0-9a-f]{24}@news\.example\.org>", message["Message-ID"])
    assert message["List-Id"] == "뉴스다오 속보 <digest.news.example.org>"
    assert message["List-Unsubscribe"] == (
        f"<{reader.unsubscribe_url}>, <mailto:digest@news.example.org?subject=unsubscribe>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["MIME-Version"] == "1.0"


def test_message_id_is_deterministic_per_digest_and_recipient(config: Config) -> None:
    _, rendered = sample_digest(config)
    kim, lee = recipient("kim@example.org"), recipient("lee@example.org")

    def message_id(reader: Recipient, number: int) -> str:
        return str(
            compose(config, rendered, reader, digest_number=number, sent_at=NOW)["Message-ID"]
        )

    assert message_id(kim, 3) == message_id(kim, 3)
    assert message_id(kim, 3) != message_id(lee, 3)
    assert message_id(kim, 3) != message_id(kim, 4)
    assert message_id(recipient("kim@EXAMPLE.org"), 3) == message_id(kim, 3)


def test_message_id_domain_from_config(config: Config) -> None:
    config = dataclasses.replace(
        config, mail=dataclasses.replace(config.mail, message_id_domain="mid.example.net")
    )
    message = compose(config, sample_digest(config)[1], recipient(), digest_number=1, sent_at=NOW)
    assert str(message["Message-ID"]).endswith("@mid.example.net>")


def test_composing_is_byte_identical_for_the_same_inputs(config: Config) -> None:
    _, rendered = sample_digest(config)
    first = wire(config, rendered, recipient(name="김철수"))
    second = wire(config, rendered, recipient(name="김철수"))
    boundary = re.compile(rb"=+\d+==")
    assert boundary.sub(b"B", first) == boundary.sub(b"B", second)


def test_a_digest_rebuilt_from_the_store_composes_the_same_message(
    config: Config, tmp_path: Path
) -> None:
    _, rendered = sample_digest(config)
    path = tmp_path / "state.sqlite3"
    open_store(path).close()
    digest_id = legacy_digest(
        path, NOW, rendered.subject, rendered.html, rendered.text, rendered.post_ids
    )
    store = open_store(path)
    try:
        row = store.digest(digest_id)
        stored = RenderedDigest(row.subject, row.html, row.text, store.digest_post_ids(digest_id))
    finally:
        store.close()
    assert stored == rendered
    reader = recipient(name="김철수")
    assert parts(parse(wire(config, stored, reader))) == parts(
        parse(wire(config, rendered, reader))
    )


# Headers that must decode exactly


KOREAN_TEXT = (
    "푸틴 방북 북러 정상회담 포괄적 전략 동반자 협정 서명, 한반도 정세 급변 전망과 "
    "미국 일본 반응 정리 (속보) 24년 만의 평양 방문 의미는 무엇인가 "
)


def korean_subjects(config: Config) -> list[str]:
    seeds = [post.title for post in load_posts(config, NOW).posts]
    sliced = [KOREAN_TEXT[:length].strip() for length in range(1, len(KOREAN_TEXT) + 1)]
    shifted = [KOREAN_TEXT[start : start + 60].strip() for start in range(0, 40)]
    mixed = [
        "[속보] 푸틴 방북 - Breaking: Putin in Pyongyang",
        "푸틴 방북",
        "뉴스 " * 40,
        "Résumé 2024: 한국어 와 English mixed, 이모지 🇰🇷 포함",
        "=?utf-8?q?not_an_encoded_word?= 그대로",
    ]
    return [s.strip() for s in seeds + sliced + shifted + mixed if s.strip()]


def test_korean_subjects_decode_exactly_every_space_kept(config: Config) -> None:
    rendered = render_digest(config, [make_post(1, NOW)], now=NOW)
    subjects = korean_subjects(config)
    assert len(subjects) > 120
    for subject in subjects:
        data = wire(config, dataclasses.replace(rendered, subject=subject), recipient())
        assert parse(data)["Subject"] == subject
        legacy = email.header.make_header(
            email.header.decode_header(str(email.message_from_bytes(data)["Subject"]))
        )
        assert str(legacy) == subject


def test_subject_from_the_config_template(config: Config) -> None:
    config = with_digest(config, subject="[{site}] {count}편: {title} ({date})")
    posts, rendered = sample_digest(config)
    expected = f"[뉴스다오 속보] 5편: {posts[0].title} (2024년 6월 20일)"
    assert rendered.subject == expected
    assert parse(wire(config, rendered, recipient()))["Subject"] == expected


@pytest.mark.parametrize("template", ["{site}: {titel}", "{title", "{0} news", "{title.upper}"])
def test_a_bad_subject_placeholder_is_a_config_error(config: Config, template: str) -> None:
    with pytest.raises(ConfigError, match=r"\[digest\] subject") as caught:
        render_digest(with_digest(config, subject=template), [make_post(1, NOW)], now=NOW)
    assert "{title}" in caught.value.hint


def test_from_and_to_names_decode_exactly(config: Config) -> None:
    _, rendered = sample_digest(config)
    for name in ["김철수", "독자 한 분", "Ann O'Neil", 'Kim "Editor" Lee', "Zoë, Jr."]:
        message = parse(wire(config, rendered, recipient(name=name)))
        assert message["To"].addresses[0].display_name == name
        assert message["From"].addresses[0].display_name == "뉴스다오 속보"


def test_a_long_korean_name_decodes_exactly_by_rfc_2047_rules(config: Config) -> None:
    # Longer than one encoded word: RFC 2047 decoders (mail clients, email.header) ignore the
    # folding space between words; no word boundary falls on a real space.
    _, rendered = sample_digest(config)
    name = "아주 긴 이름을 가진 독자님 여러 단어로 된 이름 공백 포함"
    raw = email.message_from_bytes(wire(config, rendered, recipient(name=name)))["To"]
    decoded = str(email.header.make_header(email.header.decode_header(str(raw))))
    assert decoded == f"{name} <reader@example.org>"


def test_an_internationalised_address_is_sent_as_utf8_headers(config: Config) -> None:
    _, rendered = sample_digest(config)
    data = wire(config, rendered, recipient("독자@예시.한국", "독자"))
    message = email.message_from_string(data.decode("utf-8"), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["To"].addresses[0].addr_spec == "독자@예시.한국"
    assert message["Subject"] == rendered.subject


@pytest.mark.parametrize(
    "title",
    [
        "Breaking\r\nBcc: victim@example.org",
        "속보\nX-Injected: yes",
        "속보\rReply-To: evil@example.org",
        "title\u2028Bcc: a@example.org",
        "\x00\x1b제목\x7f\x85",
    ],
)
def test_a_title_with_line_breaks_adds_no_header(config: Config, title: str) -> None:
    rendered = render_digest(config, [make_post(1, NOW, title=title)], now=NOW)
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028]", rendered.subject)
    message = parse(wire(config, rendered, recipient()))
    names = [name.lower() for name in message]
    assert "bcc" not in names and "x-injected" not in names
    assert names.count("reply-to") == 1 and names.count("subject") == 1
    assert message["Reply-To"].addresses[0].addr_spec == "editor@news.example.org"
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]


# Placeholders


def test_post_content_cannot_inject_per_subscriber_values(config: Config) -> None:
    hostile = make_post(
        1,
        NOW,
        title="__publisher_unsubscribe_url__ 제목 __publisher___publisher_email__email__",
        summary="요약 __publisher_greeting__ __PUBLISHER_EMAIL__ __publisher_unsubscribe_url_",
        url="https://news.example.org/__publisher_unsubscribe_url__/",
        image="https://news.example.org/__publisher_email__.png",
    )
    rendered = render_digest(config, [hostile], now=NOW)
    clean = render_digest(config, [make_post(1, NOW)], now=NOW)
    for marker in (
        "__publisher_greeting__",
        "__publisher_unsubscribe_url__",
        "__publisher_email__",
    ):
        assert rendered.html.count(marker) == clean.html.count(marker) >= 1
        assert rendered.text.count(marker) == clean.text.count(marker) >= 1
    reader = recipient("kim@example.org", "김철수")
    text, html_part = parts(parse(wire(config, rendered, reader)))
    assert text.count(reader.unsubscribe_url) == 1
    assert lxml.html.fromstring(html_part).xpath("//a/@href").count(reader.unsubscribe_url) == 1
    assert text.count("kim@example.org") == 1


def test_a_value_holding_a_marker_is_not_expanded_again(config: Config) -> None:
    _, rendered = sample_digest(config)
    reader = recipient(name="__publisher_unsubscribe_url__")
    text, _ = parts(parse(wire(config, rendered, reader)))
    assert text.startswith("__publisher_unsubscribe_url__님, 안녕하세요.")
    assert text.count(reader.unsubscribe_url) == 1


def test_unsubscribe_url_and_name_are_html_escaped_in_html_and_plain_in_text(
    config: Config,
) -> None:
    _, rendered = sample_digest(config)
    reader = Recipient(
        email="kim@example.org",
        name='<b>Kim</b> & "Lee"',
        unsubscribe_url='https://news.example.org/unsubscribe?token=a"b&x=<1>',
        unsubscribe_mailto="mailto:digest@news.example.org",
    )
    message = compose(config, rendered, reader, digest_number=1, sent_at=NOW)
    text, html_part = parts(parse(message_bytes(message)))
    assert '<b>Kim</b> & "Lee"님' in text
    assert 'token=a"b&x=<1>' in text
    assert "&lt;b&gt;Kim&lt;/b&gt; &amp; &quot;Lee&quot;님" in html_part
    assert "<b>" not in html_part
    root = lxml.html.fromstring(html_part)
    assert reader.unsubscribe_url in root.xpath("//a/@href")
    assert '<b>Kim</b> & "Lee"님, 안녕하세요.' in root.text_content()


def test_preview_fills_sample_values(config: Config) -> None:
    _, rendered = sample_digest(config)
    page = preview_html(rendered, config)
    assert "__publisher_" not in page
    root = lxml.html.fromstring(page)
    assert "https://news.example.org/unsubscribe?token=preview" in root.xpath("//a/@href")
    assert "안녕하세요." in root.text_content()


# The HTML


def outside_media_rules(css: str) -> str:
    """`css` with every @media block removed."""
    rest = []
    index = 0
    while index < len(css):
        if css.startswith("@media", index):
            depth = 0
            end = css.index("{", index)
            while True:
                depth += {"{": 1, "}": -1}.get(css[end], 0)
                if depth == 0:
                    break
                end += 1
            index = end + 1
        else:
            rest.append(css[index])
            index += 1
    return "".join(rest).strip()


def test_css_is_inlined_and_only_media_rules_stay_in_style(config: Config) -> None:
    _, rendered = sample_digest(config)
    _, html_part = parts(parse(wire(config, rendered, recipient())))
    root = lxml.html.fromstring(html_part)
    styles = root.xpath("//style")
    assert len(styles) == 1
    css = styles[0].text
    assert "@media" in css and "max-width: 620px" in css
    assert outside_media_rules(css) == ""
    assert "!important" in css  # premailer must not strip it, or phones never get it
    classed = root.xpath("//body//*[@class]")
    assert classed and all(element.get("style") for element in classed)
    cells = root.xpath("//td[@class='post']")
    assert cells and all("word-break:keep-all" in cell.get("style") for cell in cells)
    assert all("Apple SD Gothic Neo" in cell.get("style") for cell in cells)
    container = root.xpath("//table[@class='container']")[0]
    assert container.get("width") == "600"
    assert not re.search(r"display:\s*(flex|grid)", html_part)


def test_links_and_images_are_absolute_https_and_images_have_alt_and_width(
    config: Config,
) -> None:
    _, rendered = sample_digest(config)
    _, html_part = parts(parse(wire(config, rendered, recipient())))
    root = lxml.html.fromstring(html_part)
    urls = root.xpath("//a/@href") + root.xpath("//img/@src")
    assert len(urls) > 10
    for url in urls:
        parts_ = urlsplit(url)
        assert parts_.scheme == "https" and parts_.netloc, url
    images = root.xpath("//img")
    assert len(images) == 5
    for image in images:
        assert image.get("alt")
        assert image.get("width") == "560"
        assert image.get("height") is None


def test_the_headline_list_appears_only_with_several_posts(config: Config) -> None:
    posts = [make_post(n, NOW - timedelta(hours=n)) for n in range(3)]
    several = lxml.html.fromstring(render_digest(config, posts, now=NOW).html)
    single = lxml.html.fromstring(render_digest(config, posts[:1], now=NOW).html)
    assert [a.text for a in several.xpath("//ol//a")] == [p.title for p in posts]
    assert single.xpath("//ol") == []


def test_the_preheader_is_the_first_excerpt_hidden_without_hidden_text_tricks(
    config: Config,
) -> None:
    posts, rendered = sample_digest(config)
    root = lxml.html.fromstring(rendered.html)
    preheader = root.xpath("//body/div")[0]
    style = preheader.get("style").replace(" ", "")
    assert {"display:none", "max-height:0", "overflow:hidden", "mso-hide:all"} <= set(
        style.rstrip(";").split(";")
    )
    # No text the colour of the background and no tiny font: SpamAssassin's
    # HTML_FONT_LOW_CONTRAST (0.7 points) fired on those; 0 points now (docs/newsletter.md).
    assert not any(word in style for word in ("color", "font-size", "opacity", "line-height"))
    assert preheader.text_content()[:40] == posts[0].summary[:40]
    assert preheader.text_content().endswith("\u200c\u00a0" * 40)  # zero-width padding


def test_the_text_part_carries_what_the_html_says(config: Config) -> None:
    _, rendered = sample_digest(config)
    text, html_part = parts(parse(wire(config, rendered, recipient(name="김철수"))))
    body = lxml.html.fromstring(html_part).xpath("//body")[0]
    html_words = set(re.findall(r"\w+", body.text_content()))
    text_words = set(re.findall(r"\w+", text))
    assert html_words - text_words == set()
    assert len(text) > 0.8 * len(body.text_content().strip())


def test_footer_says_why_and_gives_the_contact_line(config: Config) -> None:
    _, rendered = sample_digest(config)
    text, html_part = parts(parse(wire(config, rendered, recipient("kim@example.org"))))
    footer = lxml.html.fromstring(html_part).xpath("//td[@class='footer']")[0].text_content()
    for part in (text, footer):
        assert "kim@example.org 주소로 뉴스다오 속보 소식을 구독하셔서" in part
        assert config.mail.contact in part
        assert "수신 거부" in part


def big_posts(count: int) -> list[Post]:
    body = "<p>" + "아주 긴 본문 문단입니다. " * 400 + "</p>"
    return [
        make_post(
            n,
            NOW - timedelta(minutes=n),
            title="아주 긴 제목 " * 30,
            content_html=body * 20,
            image=f"https://cdn.example.org/{'x' * 300}/{n}.jpg",
            url=f"https://news.example.org/{'긴-주소-' * 10}{n}/",
        )
        for n in range(count)
    ]


def test_html_stays_under_90_kb_at_max_posts_with_big_posts(config: Config) -> None:
    posts = big_posts(config.digest.max_posts)
    rendered = render_digest(config, posts, now=NOW)
    assert rendered.post_ids == tuple(p.id for p in posts)
    _, html_part = parts(parse(wire(config, rendered, recipient(name="김" * 200))))
    assert len(html_part.encode("utf-8")) < KB90


def test_posts_past_the_size_budget_wait_for_the_next_digest(config: Config) -> None:
    posts = big_posts(60)
    rendered = render_digest(config, posts, now=NOW)
    assert 10 < len(rendered.post_ids) < 60
    assert rendered.post_ids == tuple(p.id for p in posts[: len(rendered.post_ids)])
    assert len(rendered.html.encode("utf-8")) < KB90


# Template and CSS errors


def write_template(config: Config, name: str, text: str) -> None:
    (config.paths.templates / "email" / name).write_text(text, encoding="utf-8")


def test_a_template_syntax_error_names_the_template_and_line(config: Config) -> None:
    write_template(config, "digest.html.j2", "<html>\n<body>\n{% for post in posts %}\n</body>")
    with pytest.raises(TemplateError, match=r"digest\.html\.j2:\d+"):
        render_digest(config, [make_post(1, NOW)], now=NOW)


def test_an_undefined_name_names_the_template_and_line(config: Config) -> None:
    write_template(config, "digest.txt.j2", "{{ greeting }}\n\n{{ no_such_thing }}\n")
    with pytest.raises(TemplateError, match=r"digest\.txt\.j2:3: 'no_such_thing' is undefined"):
        render_digest(config, [make_post(1, NOW)], now=NOW)


def test_a_template_too_big_for_one_post_is_an_error(config: Config) -> None:
    template = config.paths.templates / "email" / "digest.html.j2"
    bloated = template.read_text(encoding="utf-8").replace(
        "</body>", '<p>{{ "뉴스" * 20000 }}</p>\n</body>', 1
    )
    template.write_text(bloated, encoding="utf-8")
    with pytest.raises(TemplateError, match="even with one post") as caught:
        render_digest(config, [make_post(1, NOW), make_post(2, NOW)], now=NOW)
    assert "digest.html.j2" in caught.value.hint


def test_cssutils_noise_goes_to_logging_not_stderr(
    config: Config, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    template = config.paths.templates / "email" / "digest.html.j2"
    noisy = template.read_text(encoding="utf-8").replace(
        "<style>", "<style>\n@keyframes fade { from { opacity: 0; } }\np { color: ; }\n", 1
    )
    template.write_text(noisy, encoding="utf-8")
    with caplog.at_level(logging.DEBUG, logger="publisher.newsletter.digest.css"):
        render_digest(config, [make_post(1, NOW)], now=NOW)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
    css = [r for r in caplog.records if r.name == "publisher.newsletter.digest.css"]
    assert any(r.levelno == logging.ERROR and "color" in r.getMessage() for r in css)
    warnings = [r for r in css if "@keyframes" in r.getMessage()]
    assert warnings and all(r.levelno == logging.DEBUG for r in warnings)


def test_the_sample_template_logs_nothing_above_debug(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        sample_digest(config)
    assert [
        r.getMessage() for r in caplog.records if r.name.startswith("publisher.newsletter.digest")
    ] == []


def test_stylesheet_links_are_never_fetched(config: Config) -> None:
    # Nothing listens on port 9 (discard); a fetch attempt would raise a connection error.
    template = config.paths.templates / "email" / "digest.html.j2"
    linked = template.read_text(encoding="utf-8").replace(
        "</head>", '<link rel="stylesheet" href="http://127.0.0.1:9/remote.css">\n</head>', 1
    )
    template.write_text(linked, encoding="utf-8")
    rendered = render_digest(config, [make_post(1, NOW)], now=NOW)
    assert "https://news.example.org/posts/1/" in lxml.html.fromstring(rendered.html).xpath(
        "//a/@href"
    )


# DKIM


def signed_sample(config: Config, key_path: Path) -> bytes:
    _, rendered = sample_digest(config)
    return dkim_sign(
        wire(config, rendered, recipient("kim@example.org", "김철수")),
        selector="mail2024",
        domain="news.example.org",
        private_key=load_dkim_key(key_path),
    )


def test_the_dkim_signature_verifies_and_covers_the_headers(
    config: Config, dkim_key: tuple[Path, bytes]
) -> None:
    path, record = dkim_key
    asked: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        asked.append(name)
        return record

    signed = signed_sample(config, path)
    assert dkim.verify(signed, dnsfunc=dns)
    assert asked == [b"mail2024._domainkey.news.example.org."]
    signature = parse(signed)["DKIM-Signature"]
    tags = dict(tag.strip().split("=", 1) for tag in re.sub(r"\s+", "", str(signature)).split(";"))
    assert tags["c"] == "relaxed/relaxed" and tags["d"] == "news.example.org"
    signed_headers = set(tags["h"].split(":"))
    assert {
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
    } <= signed_headers


def test_a_changed_subject_or_body_breaks_the_dkim_signature(
    config: Config, dkim_key: tuple[Path, bytes]
) -> None:
    path, record = dkim_key
    signed = signed_sample(config, path)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return record

    head, _, body = signed.partition(b"\r\n\r\n")
    subject = re.search(rb"\r\nSubject: [^\r]*", head)
    assert subject is not None
    forged_subject = head.replace(subject.group(0), b"\r\nSubject: =?utf-8?b?7Iqk7Yyo?=")
    assert not dkim.verify(forged_subject + b"\r\n\r\n" + body, dnsfunc=dns)
    forged_body = head + b"\r\n\r\n" + body.replace(b"A", b"B", 1)
    assert not dkim.verify(forged_body, dnsfunc=dns)
    for added in (b"Reply-To: evil@example.org", b"Subject: =?utf-8?b?7Iqk7Yyo?="):
        assert not dkim.verify(added + b"\r\n" + signed, dnsfunc=dns)


def test_load_dkim_key_accepts_pkcs1_and_crlf(tmp_path: Path, dkim_key: tuple[Path, bytes]) -> None:
    path, _ = dkim_key
    traditional = tmp_path / "rsa.pem"
    openssl("rsa", "-in", str(path), "-traditional", "-out", str(traditional))
    assert traditional.read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    crlf = tmp_path / "crlf.pem"
    crlf.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    for key_file in (path, traditional, crlf):
        assert b"PRIVATE KEY-----\n" in load_dkim_key(key_file)


def test_bad_dkim_key_files_are_config_errors_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    public = tmp_path / "public.pem"
    public.write_text("ssh-rsa AAAAB3NzaC1yc2E test@example\n")
    encrypted = tmp_path / "encrypted.pem"
    encrypted.write_text("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED...\n")
    folder = tmp_path / "folder.pem"
    folder.mkdir()
    for bad in (missing, garbage, public, encrypted, folder):
        with pytest.raises(ConfigError) as caught:
            load_dkim_key(bad)
        assert str(bad) in caught.value.message
        assert caught.value.hint


def test_a_short_dkim_key_is_refused(tmp_path: Path) -> None:
    short = tmp_path / "short.pem"
    openssl("genrsa", "-out", str(short), "768")
    with pytest.raises(ConfigError, match="768 bits"):
        load_dkim_key(short)


# Golden


def normalised_headers(data: bytes) -> str:
    head = data.partition(b"\r\n\r\n")[0].decode("ascii")
    return re.sub(r"=+\d+==", "BOUNDARY", head).replace("\r\n", "\n") + "\n"


def compare_golden(request: pytest.FixtureRequest, name: str, actual: str) -> None:
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
    assert path.read_text(encoding="utf-8") == actual, f"{name} differs; see --update-golden"


def test_the_sample_digest_matches_the_golden_files(
    config: Config, request: pytest.FixtureRequest
) -> None:
    posts, rendered = sample_digest(config)
    assert len(posts) == 5
    reader = Recipient(
        email="reader@example.org",
        name="독자",
        unsubscribe_url="https://news.example.org/unsubscribe?token=TOKEN",
        unsubscribe_mailto="mailto:digest@news.example.org?subject=unsubscribe",
    )
    data = wire(config, rendered, reader, number=1)
    text, html_part = parts(parse(data))
    compare_golden(request, "digest.html", html_part)
    compare_golden(request, "digest.txt", text)
    compare_golden(request, "headers.txt", normalised_headers(data))


def test_the_unsubscribe_link_follows_the_web_endpoint_unless_set(config: Config) -> None:
    assert unsubscribe_url(config, "t0k") == "https://news.example.org/unsubscribe?token=t0k"
    web = dataclasses.replace(config.web, base_url="https://news.example.org/newsletter")
    behind_proxy = dataclasses.replace(config, web=web)
    assert (
        unsubscribe_url(behind_proxy, "t0k")
        == "https://news.example.org/newsletter/unsubscribe?token=t0k"
    )
    digest = dataclasses.replace(config.digest, unsubscribe_url="https://x.example/u/{token}")
    assert unsubscribe_url(dataclasses.replace(behind_proxy, digest=digest), "t0k") == (
        "https://x.example/u/t0k"
    )
