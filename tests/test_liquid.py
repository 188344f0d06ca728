"""Our Liquid (python-liquid + Jekyll's tags and filters) next to real Jekyll's output."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from liquid.exceptions import ResourceLimitError

from publisher.build.pipeline import load_posts
from publisher.render.kramdown import render_kramdown
from publisher.site_config import load_config
from publisher.sources.jekyll.liquid import JekyllSite, jekyll_environment, render_liquid
from publisher.sources.jekyll.liquid_filters import FilterSite
from publisher.sources.jekyll.parsing import post_file_for, read_text
from publisher.sources.jekyll.site_config import load_site_config
from publisher.sources.jekyll.source import JekyllSource
from tests.jekyll_peer import FIXTURES, JekyllPeer, canonical_html

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


def test_kitchen_posts_render_like_jekyll(jekyll_peer: JekyllPeer, tmp_path: Path) -> None:
    """Every kitchen post through JekyllSource's renderer (Liquid with the site's posts,
    includes and data, then kramdown), before the syndication pass, next to Jekyll's."""
    build = jekyll_peer.build("kitchen")
    shutil.copytree(FIXTURES / "kitchen", tmp_path / "site")
    toml = tmp_path / "config.toml"
    toml.write_text('[source]\nkind = "jekyll"\npath = "site"\n', encoding="utf-8")
    config = load_config(toml)
    source = JekyllSource(config)
    loaded = load_posts(config, datetime.now(UTC))
    source.link_posts(loaded.posts)  # what a build does before it renders
    renderer = source.renderer()
    differing, with_liquid = [], 0
    for post in loaded.posts:
        name = post.source_name
        post_file = post_file_for(name)
        assert post_file is not None
        split = read_text((source.root / name).read_text(encoding="utf-8"), post_file, source.site)
        with_liquid += "{{" in split.body or "{%" in split.body
        reader = "html" if post_file.ext == ".html" else "kramdown"
        page = renderer.page(split, post_file, post.url)
        html = renderer.body_html(split.body, reader, page, name, split.body_line)
        if canonical_html(html) != canonical_html(build.post(name)["content"]):
            differing.append(name)
    assert with_liquid >= 7
    assert sorted(differing) == sorted(KNOWN_DIFFERENCES)
    assert not [w for w in loaded.warnings if "kitchen" in w or "_posts" in w]


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


def test_a_block_never_closed_is_warned_of_at_its_own_line(tmp_path: Path) -> None:
    """Jekyll stops with "'if' tag was never closed (line N)"; we leave it out and say where."""
    shutil.copytree(FIXTURES / "kitchen", tmp_path / "site")
    (tmp_path / "site" / "_posts" / "2022-02-01-unclosed.md").write_text(
        "---\ntitle: Unclosed\n---\nFirst.\n\n{% for x in site.numbers %}{{ x }}{% endfor %}\n"
        "Then {% if page.title %} open.\n\n{% raw %} also open\n",
        encoding="utf-8",
    )
    toml = tmp_path / "config.toml"
    toml.write_text('[source]\nkind = "jekyll"\npath = "site"\n', encoding="utf-8")
    loaded = load_posts(load_config(toml), datetime.now(UTC))
    about = [w.split("unclosed.md:")[1] for w in loaded.warnings if "unclosed.md" in w]
    assert [w.split(":")[0] for w in about] == ["7", "9"], about
    assert "'if' is never closed" in about[0] and "'raw' is never closed" in about[1], about
