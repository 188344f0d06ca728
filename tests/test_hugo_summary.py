"""Hugo's `.Summary`: agreement with the real Hugo over every fixture page (the target is
95 % after whitespace normalisation), then the algorithm step by step."""

from __future__ import annotations

import html

import pytest

from publisher.sources.hugo.summary import (
    DIVIDER_MARKER,
    SummarySource,
    hugo_summary,
    is_cjk,
    mark_summary_divider,
    split_at_divider,
    strip_html,
    trim_short_html,
    truncate_to_whole_sentence,
    truncate_words_by_rune,
)
from tests.hugo_ours import our_page, our_site
from tests.hugo_peer import ALL_PAGES, SITES, HugoBuilds

KNOWN_DIFFERENCES = {
    ("blog", "posts/shortcodes.md"): (
        "tweet and gist become links (Hugo fetches or scripts them) and highlight has no"
        " line numbers, so the text of this page's automatic summary differs"
    ),
}


def _normalised(text: str) -> str:
    return " ".join(html.unescape(text).split())


def test_summaries_agree_with_hugo_on_95_percent_of_pages(hugo_builds: HugoBuilds) -> None:
    equal, differing = 0, []
    for site in SITES:
        hugo = hugo_builds.get(site, *ALL_PAGES)
        ours = our_site(hugo)
        for lang in hugo.dumps:
            for theirs in hugo.pages(lang):
                page = our_page(ours, lang, theirs["file"]["path"])
                assert page.summary is not None
                same_text = _normalised(page.summary.text) == _normalised(theirs["summary"])
                if same_text and page.summary.truncated == theirs["truncated"]:
                    equal += 1
                else:
                    differing.append((site, theirs["file"]["path"]))
    total = equal + len(differing)
    print(f"summaries: {equal}/{total} equal to Hugo's ({100 * equal / total:.1f} %)")
    assert set(differing) <= set(KNOWN_DIFFERENCES), differing
    assert equal / total >= 0.95


def test_rss_descriptions_are_our_summaries(hugo_builds: HugoBuilds) -> None:
    equal, total = 0, 0
    for site in SITES:
        hugo = hugo_builds.get(site, *ALL_PAGES)
        ours = {page.permalink: page for page in our_site(hugo).pages}
        for feed in hugo.feeds.values():
            for item in feed.items:
                page = ours.get(item.link)
                if page is None or page.summary is None:
                    continue
                total += 1
                known = (site, page.file.relative) in KNOWN_DIFFERENCES
                if _normalised(page.summary.text) == _normalised(item.description):
                    equal += 1
                else:
                    assert known, (feed.path, item.link)
    print(f"RSS descriptions: {equal}/{total} equal to our summaries")
    assert total > 50 and equal / total >= 0.95


def test_each_summary_source_is_exercised_and_matches(hugo_builds: HugoBuilds) -> None:
    blog = our_site(hugo_builds.get("blog"))
    babel = our_site(hugo_builds.get("babel"))
    sources = {
        "front matter": our_page(blog, "en", "posts/json-post.md"),
        "divider": our_page(blog, "en", "posts/second-post.md"),
        "automatic": our_page(blog, "en", "posts/hello-world.md"),
        "cjk": our_page(babel, "ko", "blog/seasons.ko.md"),
    }
    assert sources["front matter"].summary.source is SummarySource.FRONT_MATTER  # type: ignore[union-attr]
    assert sources["divider"].summary.source is SummarySource.DIVIDER  # type: ignore[union-attr]
    assert sources["automatic"].summary.truncated  # type: ignore[union-attr]
    assert sources["cjk"].cjk and sources["cjk"].summary.truncated  # type: ignore[union-attr]
    assert "<!--more-->" not in sources["divider"].content_html
    assert DIVIDER_MARKER not in sources["divider"].content_html


def test_strip_html_keeps_entities_and_paragraph_breaks() -> None:
    assert strip_html("<p>It&rsquo;s <em>here</em>.</p>\n<p>Next</p>") == "It&rsquo;s here.\nNext\n"
    assert strip_html("no tags & no change") == "no tags & no change"
    assert strip_html("<h2>Head</h2>\n<p>Body</p>") == "Head Body\n"


def test_whole_sentence_cut_counts_whitespace() -> None:
    text = "One two three. Four five six seven. Eight nine.\n"
    assert truncate_to_whole_sentence(text, 2) == ("One two three.", True)
    assert truncate_to_whole_sentence(text, 4) == ("One two three. Four five six seven.", True)
    assert truncate_to_whole_sentence(text, 70) == (text.strip(), False)
    assert truncate_to_whole_sentence("no end in sight after", 2) == (
        "no end in sight after",
        False,
    )
    assert truncate_to_whole_sentence("single", 70) == ("single", False)


def test_cjk_cut_counts_runes_and_ascii_words() -> None:
    words = ["Hugo는", "설정이", "English", "words"]
    assert truncate_words_by_rune(words, 4) == ("Hugo", True)
    assert truncate_words_by_rune(words, 6) == ("Hugo는 설", True)
    assert truncate_words_by_rune(["a", "b"], 5) == ("a b", False)
    assert is_cjk("title: 서울") and is_cjk("日本") and is_cjk("カタカナ")
    assert not is_cjk("Café, naïve — English")


def test_divider_split_as_hugo_does() -> None:
    marked, found, after = mark_summary_divider("Intro.\n<!--more-->\nRest.\n")
    assert found and after
    assert marked == f"Intro.\n\n\n{DIVIDER_MARKER}\n\nRest.\n"
    rendered = f"<p>Intro.</p>\n<p>{DIVIDER_MARKER}</p>\n<p>Rest.</p>\n"
    assert split_at_divider(rendered) == ("<p>Intro.</p>", "<p>Intro.</p>\n<p>Rest.</p>")
    _, found, after = mark_summary_divider("All of it.\n<!--more-->\n\n")
    assert found and not after


def test_front_matter_summary_wins_and_is_unwrapped() -> None:
    summary, content = hugo_summary(
        "<p>Body</p>", length=70, cjk=False, front_matter_html="<p>Short <em>one</em>.</p>\n"
    )
    assert summary.text == "Short <em>one</em>."
    assert not summary.truncated
    assert content == "<p>Body</p>"
    assert trim_short_html("<p>a</p><p>b</p>") == "<p>a</p><p>b</p>"


@pytest.mark.parametrize("length", [1, 5, 70])
def test_automatic_summary_never_contains_tags(length: int) -> None:
    summary, _ = hugo_summary(
        "<p>A <a href='x'>link</a> and <code>code</code>. More.</p>", length=length, cjk=False
    )
    assert "<" not in summary.text
