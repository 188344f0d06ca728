"""Our Liquid (python-liquid + Jekyll's tags and filters) next to real Jekyll's output."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from liquid.exceptions import ResourceLimitError

from publisher.render.kramdown import render_kramdown
from publisher.render.liquid import JekyllSite, jekyll_environment, render_liquid
from publisher.render.liquid_filters import FilterSite
from publisher.sources.jekyll.posts import read_posts
from publisher.sources.jekyll.site_config import load_site_config
from tests.jekyll_peer import JekyllPeer, canonical_html

# Deliberate difference: `<<text>>` is an HTML tag to markdown-it, guillemets to kramdown.
KNOWN_DIFFERENCES = {"_posts/2022-01-18-smart-quotes.md"}


def site_for(root: Path, posts: dict[str, str]) -> JekyllSite:
    config = load_site_config(root)
    return JekyllSite(
        config=config.raw,
        url=config.url,
        baseurl=config.baseurl,
        filters=FilterSite(config.url, config.baseurl, config.zone, render_kramdown),
        includes_dir=root / "_includes",
        post_url=posts.get,
        link={"docs/setup.md": "/docs/setup/"}.get,
    )


def test_kitchen_posts_render_like_jekyll(jekyll_peer: JekyllPeer) -> None:
    build = jekyll_peer.build("kitchen")
    config = load_site_config(build.source)
    posts, _ = read_posts(config, now=datetime.now(UTC))
    names = {p.file.path.name.rsplit(".", 1)[0]: p.url for p in posts}
    env = jekyll_environment(site_for(build.source, names))
    differing, with_liquid = [], 0
    for post in posts:
        page = {**post.data, "title": post.title, "url": post.url, "date": post.date,
                "tags": post.tags, "categories": post.categories}  # fmt: skip
        with_liquid += "{{" in post.body or "{%" in post.body
        out, warnings = render_liquid(env, post.body, page=page, name=post.file.relative_path)
        assert warnings == []
        html = out if post.file.ext == ".html" else render_kramdown(out)
        expected = build.post(post.file.relative_path)["content"]
        if canonical_html(html) != canonical_html(expected):
            differing.append(post.file.relative_path)
    assert with_liquid >= 6
    assert sorted(differing) == sorted(KNOWN_DIFFERENCES)


@pytest.fixture
def env(tmp_path: Path):
    (tmp_path / "_includes").mkdir()
    (tmp_path / "_includes" / "loop.html").write_text("{% include loop.html %}", encoding="utf-8")
    (tmp_path / "_config.yml").write_text("title: T\nurl: https://e.x\n", encoding="utf-8")
    return jekyll_environment(site_for(tmp_path, {}))


def test_unknown_tags_are_warnings_and_unknown_filters_pass_their_value_on(env) -> None:
    source = "a\n{% gist 123 %}\nb {{ 'x' | nope }} c\n{% post_url 2020-01-01-missing %}\nd"
    out, warnings = render_liquid(env, source, page={}, name="_posts/p.md", line_offset=3)
    assert "{%" not in out and "{{" not in out
    assert out.split() == ["a", "b", "x", "c", "d"]  # Jekyll's Liquid: `nope` is skipped
    assert [w.line for w in warnings] == [5, 7]  # the filter is warned of when parsing
    assert all(w.template == "_posts/p.md" for w in warnings)


def test_runaway_templates_are_stopped(env) -> None:
    with pytest.raises(ResourceLimitError):
        render_liquid(env, "{% for i in (1..1000000) %}x{% endfor %}", page={}, name="p")
    with pytest.raises(ResourceLimitError):
        render_liquid(env, "{% include loop.html %}", page={}, name="p")
    big = "{% for i in (1..90000) %}" + "y" * 200 + "{% endfor %}"
    with pytest.raises(ResourceLimitError):
        render_liquid(env, big, page={}, name="p")


def test_highlight_escapes_and_date_filters_use_the_site_zone(env) -> None:
    out, _ = render_liquid(
        env,
        "{% highlight html linenos %}\n<a href='x'>&</a>\n{% endhighlight %}",
        page={},
        name="p",
    )
    assert out == (
        '<figure class="highlight"><pre><code class="language-html" data-lang="html">'
        "&lt;a href='x'&gt;&amp;&lt;/a&gt;</code></pre></figure>"
    )
    when = datetime(2022, 1, 14, 8, 8, 7, tzinfo=UTC)
    out, _ = render_liquid(
        env, "{{ page.date | date_to_xmlschema }}", page={"date": when}, name="p"
    )
    assert out == "2022-01-14T08:08:07+00:00"
    assert ZoneInfo("UTC") == env.site.filters.zone
