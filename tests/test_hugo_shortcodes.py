"""Hugo shortcodes: the built-ins against what the real Hugo renders for the fixture page
that uses them all, the newer ones against the HTML Hugo documents, then syntax, warnings
and bounds."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html

from publisher.cli import cli
from publisher.render.goldmark import RAW_HTML_OMITTED, render_goldmark
from publisher.sources.hugo.shortcode_syntax import MAX_NESTING, parse_shortcodes
from publisher.sources.hugo.shortcodes import (
    ShortcodeContext,
    expand_shortcodes,
)
from tests.conftest import NOW
from tests.hugo_html import canonical_blocks, canonical_html
from tests.hugo_ours import our_page, our_site
from tests.hugo_peer import HugoBuilds, run_hugo

SHORTCODES_PAGE = "posts/shortcodes.md"


def _render(body: str, **context: object) -> tuple[str, list[str]]:
    ctx = ShortcodeContext(page="content/p.md", render_markdown=render_goldmark, **context)  # type: ignore[arg-type]
    expansion = expand_shortcodes(body, ctx)
    html = expansion.restore(render_goldmark(expansion.markdown))
    return html, [str(problem) for problem in expansion.warnings]


def test_built_in_shortcodes_render_as_hugo_renders_them(hugo_builds: HugoBuilds) -> None:
    hugo = hugo_builds.get("blog")
    ours = canonical_blocks(our_page(our_site(hugo), "en", SHORTCODES_PAGE).content_html)
    theirs = canonical_blocks(hugo.page(SHORTCODES_PAGE)["content"])
    only_hugo = [block for block in theirs if block not in ours]
    only_ours = [block for block in ours if block not in theirs]
    # Hugo's gist is a script, ours a link; the site's own `aside` needs its template.
    assert [b[:40] for b in only_hugo] == [
        '<script src="https://gist.github.com/spf',
        '<script src="https://gist.github.com/spf',
        '<aside class="aside aside-warning">A sit',
    ]
    # Hugo (offline, privacy.twitter.disable) renders no tweet; we link to it.
    assert any("https://twitter.com/SanDiegoZoo/status/1453110110599868418" in b for b in only_ours)
    assert sum("https://gist.github.com/spf13/7896402" in b for b in only_ours) == 2
    matched = [b for b in theirs if b in ours]
    names = ("<figure", "youtube.com/embed", "player.vimeo.com", '<pre><code class="language-go">')
    for name in names:
        assert any(name in block for block in matched), name
    print(f"shortcodes: {len(matched)}/{len(theirs)} of Hugo's blocks rendered identically")


def test_site_shortcodes_are_warnings_with_page_and_line(hugo_builds: HugoBuilds) -> None:
    page = our_page(our_site(hugo_builds.get("blog")), "en", SHORTCODES_PAGE)
    warnings = [str(problem) for problem in page.warnings]
    assert warnings == [
        "content/posts/shortcodes.md:45: shortcode 'aside' is the site's own;"
        " we cannot render it, left out",
        "content/posts/shortcodes.md:47: shortcode 'aside' is the site's own;"
        " we cannot render it, left out",
    ]
    assert "{{<" not in page.content_html.replace("{{&lt; figure", "")
    assert "{{%" not in page.content_html


def test_ref_and_param_resolve_through_callbacks() -> None:
    html, warnings = _render(
        'See [it]({{< relref "posts/a.md#part" >}}) by {{< param author >}},'
        ' {{< ref "/missing" >}}.',
        resolve_ref=lambda path, absolute: "/a/#part" if path.startswith("posts/a") else None,
        param=lambda name: "Ada" if name == "author" else None,
    )
    assert '<a href="/a/#part">it</a> by Ada' in html
    assert warnings == ["content/p.md:1: ref '/missing': no such page; link left empty"]


def test_x_is_a_link_to_the_post_hugo_would_embed() -> None:
    # Newer Hugo's x shortcode embeds the oEmbed HTML of https://x.com/<user>/status/<id>.
    html, _ = _render('{{< x user="SanDiegoZoo" id="1453110110599868418" >}}')
    link = lxml_html.fragment_fromstring(html).xpath("//a")[0]
    assert link.get("href") == "https://x.com/SanDiegoZoo/status/1453110110599868418"


def test_details_renders_the_html_hugo_documents() -> None:
    # Hugo's docs: <details><summary>See the details</summary>
    #   <p>This is a <strong>bold</strong> word.</p></details>
    html, _ = _render(
        '{{< details summary="See the details" >}}\nThis is a **bold** word.\n{{< /details >}}'
    )
    assert canonical_blocks(html) == [
        "<details><summary>See the details</summary>"
        "<p>This is a<strong>bold</strong>word.</p></details>"
    ]
    opened, _ = _render('{{< details summary="Open" open=true class="c" >}}x{{< /details >}}')
    element = lxml_html.fragment_fromstring(opened)
    assert element.get("open") is not None and element.get("class") == "c"


def test_qr_is_a_link_to_its_text() -> None:
    # Hugo's qr encodes its text in an image; a reader can follow the text itself.
    html, _ = _render('{{< qr text="https://gohugo.io" />}}')
    assert lxml_html.fragment_fromstring(html).xpath("//a/@href") == ["https://gohugo.io"]
    inner, _ = _render("{{< qr >}}\nhttps://example.org/x\n{{< /qr >}}")
    assert "https://example.org/x" in inner


@pytest.mark.parametrize(
    ("source", "positional", "named"),
    [
        ('{{< s a "b c" `d "e"` >}}', ["a", "b c", 'd "e"'], {}),
        ('{{< s k=v q="x \\"y\\"" r=`raw` >}}', [], {"k": "v", "q": 'x "y"', "r": "raw"}),
        ("{{% s a /%}}", ["a"], {}),
        ("{{<s>}}", [], {}),
    ],
)
def test_parameters_as_hugo_reads_them(
    source: str, positional: list[str], named: dict[str, str]
) -> None:
    parsed = parse_shortcodes(source)
    assert parsed.errors == []
    (code,) = parsed.parts
    assert not isinstance(code, str)
    assert (code.positional, code.named) == (positional, named)


def test_pairs_nesting_and_standalone_tags() -> None:
    parsed = parse_shortcodes("{{< a >}}x{{< b >}}y{{< /b >}}{{< c >}}{{< /a >}} {{< c >}}")
    outer, space, last = parsed.parts
    assert not isinstance(outer, str) and not isinstance(last, str)
    assert outer.name == "a" and outer.inner is not None
    assert [getattr(p, "name", p) for p in outer.inner] == ["x", "b", "c"]
    assert last.inner is None and space == " "


def test_markdown_form_html_is_omitted_as_hugo_omits_it() -> None:
    # Hugo 0.111.3 puts {{% %}} output into the Markdown, where raw HTML is omitted by default.
    html, _ = _render('{{% figure src="a.png" %}}')
    assert html.strip() == RAW_HTML_OMITTED


def test_markdown_form_output_goes_through_markdown() -> None:
    html, _ = _render("{{% param title %}}", param=lambda name: "*Emphasis*")
    assert html.strip() == "<p><em>Emphasis</em></p>"
    angle, _ = _render("{{< param title >}}", param=lambda name: "*Emphasis*")
    assert angle.strip() == "*Emphasis*"


def test_comment_form_prints_the_shortcode() -> None:
    html, warnings = _render('{{</* figure src="x.png" */>}}')
    assert "{{&lt; figure src=" in html and warnings == []


def test_broken_tags_never_leak_delimiters() -> None:
    html, warnings = _render('Before {{< figure src="a.png" and never closed\nAfter {{% /nope %}}')
    assert "{{" not in html and "}}" not in html
    assert "Before" in html and "After" in html
    assert len(warnings) == 2
    assert warnings[0].startswith("content/p.md:1: unreadable shortcode")


def test_random_shortcode_soup_never_leaks_delimiters() -> None:
    pieces = ["{{<", "{{%", ">}}", "%}}", "/", "x", " ", '"', "`", "=", "a", "\n", "-"]
    generator = random.Random(1234)
    for _ in range(500):
        body = "".join(generator.choice(pieces) for _ in range(40))
        html, _ = _render(body)
        text = lxml_html.fragment_fromstring(f"<div>{html}</div>").text_content()
        assert "{{<" not in text and "{{%" not in text, body


def test_nesting_is_bounded() -> None:
    deep = "{{< a >}}" * (MAX_NESTING + 5) + "core" + "{{< /a >}}" * (MAX_NESTING + 5)
    html, warnings = _render(deep)
    assert any("nested deeper" in warning for warning in warnings)
    assert "{{" not in html


def test_many_broken_tags_are_counted_not_listed() -> None:
    _, warnings = _render("{{</* x\n" * 100 + "{{< y\n" * 100)
    assert len(warnings) == 21
    assert warnings[-1].endswith("more unreadable shortcodes left out")


def test_lines_count_from_the_body_start() -> None:
    ctx = ShortcodeContext(page="content/p.md", render_markdown=render_goldmark, first_line=7)
    expansion = expand_shortcodes("one\ntwo {{< mine >}}\n", ctx)
    assert [problem.where for problem in expansion.warnings] == ["content/p.md:8"]


def test_a_site_shortcodes_inner_is_kept_as_hugo_passes_it(tmp_path: Path) -> None:
    """`{{< >}}` hands its inner text to the template as it is, `{{% %}}` as Markdown: with
    a template that only prints `.Inner`, our page (the shortcode left out, its inner kept)
    is Hugo's, paragraph for paragraph and inside code too."""
    site = tmp_path / "site"
    (site / "content" / "posts").mkdir(parents=True)
    (site / "layouts" / "shortcodes").mkdir(parents=True)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "layouts" / "shortcodes" / "plain.html").write_text("{{ .Inner }}", "utf-8")
    (site / "layouts" / "shortcodes" / "md.html").write_text("{{ .Inner | markdownify }}", "utf-8")
    (site / "layouts" / "_default" / "single.html").write_text("{{ .Content }}", "utf-8")
    (site / "layouts" / "_default" / "list.html").write_text("", "utf-8")
    (site / "hugo.toml").write_text('baseURL = "https://sc.example/"\ntitle = "S"\n', "utf-8")
    (site / "content" / "posts" / "p.md").write_text(
        "---\ntitle: P\ndate: 2024-01-01\n---\n"
        "Intro {{< plain >}}inner *text*{{< /plain >}} and {{% plain %}}*md inner*{{% /plain %}}"
        ' end.\n\n```go\nx := "{{< plain >}}in code{{< /plain >}}"\n```\n\n'
        "Then {{< md >}}**bold** words{{< /md >}}.\n",
        encoding="utf-8",
    )
    run_hugo(site, tmp_path / "hugo", (), tmp_path / "cache")
    theirs = (tmp_path / "hugo" / "posts" / "p" / "index.html").read_text(encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text('[source]\nkind = "hugo"\npath = "site"\n', encoding="utf-8")
    done = CliRunner().invoke(cli, ["--config", str(config), "--now", NOW.isoformat(), "build"])
    assert done.exit_code == 0, done.output
    (item,) = json.loads((tmp_path / "public" / "feed.json").read_text("utf-8"))["items"]
    ours = item["content_html"]
    assert "<p>Intro inner *text* and <em>md inner</em> end.</p>" in ours
    assert "<p>Then <strong>bold</strong> words.</p>" in ours  # its template: markdownify
    assert canonical_html(ours) == canonical_html(theirs)
    alone, _ = _render("{{< mine >}}\nA block of its own.\n{{< /mine >}}\n")
    assert alone.strip() == "<p>A block of its own.</p>"  # its template's block, as a paragraph


def test_an_unclosed_highlight_is_a_warning_where_hugo_stops(tmp_path: Path) -> None:
    """Hugo refuses a built-in that reads .Inner with neither a closing tag nor `/>`; we
    leave it out with a warning naming the line, and render nothing half-made."""
    body = 'Before.\n\n{{< highlight go >}}\nfmt.Println("x")\n\nAfter.\n'
    site = tmp_path / "site"
    (site / "content" / "posts").mkdir(parents=True)
    (site / "hugo.toml").write_text('baseURL = "https://sc.example/"\ntitle = "S"\n', "utf-8")
    (site / "content" / "posts" / "p.md").write_text(
        f"---\ntitle: P\ndate: 2024-01-01\n---\n{body}", encoding="utf-8"
    )
    with pytest.raises(pytest.fail.Exception, match="must be closed or self-closed"):
        run_hugo(site, tmp_path / "hugo", (), tmp_path / "cache")

    html, warnings = _render(body)
    assert warnings == [
        "content/p.md:3: shortcode 'highlight' must be closed or self-closed"
        " (Hugo would stop here); left out"
    ]
    assert "<pre" not in html and "<p></p>" not in html
    assert "<p>Before.</p>" in html and "<p>After.</p>" in html
    closed, closed_warnings = _render("{{< highlight go />}}\n")
    assert closed_warnings == [] and "<pre" in closed


def test_a_left_out_shortcode_on_a_line_of_its_own_leaves_no_empty_paragraph() -> None:
    html, warnings = _render("Before.\n\n{{< mine >}}\n\nAfter.\n", site_shortcodes=frozenset())
    assert "<p></p>" not in html
    assert canonical_blocks(html) == ["<p>Before.</p>", "<p>After.</p>"]
    assert len(warnings) == 1 and "'mine' does not exist" in warnings[0]
