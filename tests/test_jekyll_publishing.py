"""A Jekyll site published through publisher: config, builds, cache, drafts, warnings."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from publisher.build.pipeline import build
from publisher.cli import cli
from publisher.core.errors import ConfigError, ContentError
from publisher.site_config import load_config
from tests.jekyll_peer import FIXTURES

ATOM = "{http://www.w3.org/2005/Atom}"
NOW = "2024-06-20T09:00:00+00:00"
MOMENT = datetime.fromisoformat(NOW)


def jekyll_site(tmp_path: Path, fixture: str = "blog", extra: str = "") -> Path:
    """A copy of a fixture site in tmp_path/site, and a config.toml beside it."""
    shutil.copytree(FIXTURES / fixture, tmp_path / "site")
    config = tmp_path / "config.toml"
    config.write_text(f'[source]\nkind = "jekyll"\npath = "site"\n{extra}', encoding="utf-8")
    return config


def publisher(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "--now", NOW, *args])


def entries(path: Path) -> list[etree._Element]:
    return list(etree.parse(str(path)).getroot().iter(f"{ATOM}entry"))


def test_a_jekyll_site_needs_no_site_settings_of_its_own(tmp_path: Path) -> None:
    config = load_config(jekyll_site(tmp_path))
    assert config.site.title == "Notes & Field Reports"  # smartify | strip_html, decoded
    assert config.site.base_url == "https://blog.example.org/notes"
    assert config.site.timezone == "America/New_York"
    assert config.site.language == "en-US"
    assert (config.site.author, config.site.author_email) == ("Ada Example", "ada@example.org")
    assert config.site.id_authority == ""
    assert config.feeds.limit == 1000 and config.feeds.categories
    assert config.feeds.paths == {"atom": "feed.xml"}


def test_config_toml_wins_over_config_yml(tmp_path: Path) -> None:
    extra = '[site]\ntitle = "Ours"\n[feeds]\nlimit = 5\npaths = { atom = "news.atom" }\n'
    config = load_config(jekyll_site(tmp_path, extra=extra))
    assert (config.site.title, config.feeds.limit) == ("Ours", 5)
    assert config.feeds.paths == {"atom": "news.atom"}
    assert config.site.base_url == "https://blog.example.org/notes"


def test_feeds_keep_jekyll_feeds_urls_and_ids(tmp_path: Path) -> None:
    result = publisher(jekyll_site(tmp_path), "build")
    assert result.exit_code == 0, result.output
    public = tmp_path / "public"
    for name in ("feed.xml", "feed/news.xml", "feed/release.xml", "feed.rss", "feed.json"):
        assert (public / name).is_file(), name
    root = etree.parse(str(public / "feed.xml")).getroot()
    assert root.findtext(f"{ATOM}id") == "https://blog.example.org/notes/feed.xml"
    ids = [entry.findtext(f"{ATOM}id") for entry in entries(public / "feed.xml")]
    assert "https://blog.example.org/notes/2021/03/04/Dots.In.Name" in ids
    assert all(i.startswith("https://blog.example.org/notes/") for i in ids)
    assert not any("draft" in i for i in ids)


def test_a_missing_config_yml_and_unknown_placeholders_are_config_errors(tmp_path: Path) -> None:
    config = jekyll_site(tmp_path)
    (tmp_path / "site" / "_config.yml").unlink()
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "no _config.yml" in str(caught.value.problems[0])
    (tmp_path / "site" / "_config.yml").write_text(
        "title: T\nurl: https://e.x\npermalink: /:year/:titel/\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert ":titel" in caught.value.problems[0].message


@pytest.mark.parametrize("pattern", ["/:titel/", "/:year/:slugs/"])
def test_unknown_placeholders_are_config_errors_for_a_folder_site_too(
    site_dir: Path, pattern: str
) -> None:
    config = site_dir / "config.toml"
    text = config.read_text(encoding="utf-8").replace(
        "[site]\n", f'[site]\npermalink = "{pattern}"\n'
    )
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    (problem,) = caught.value.problems
    assert problem.where.endswith("[site] permalink") and "unknown placeholder" in problem.message


def test_a_post_permalink_with_an_unknown_placeholder_names_the_file_and_line(
    tmp_path: Path,
) -> None:
    config = jekyll_site(tmp_path)
    post = tmp_path / "site" / "_posts" / "2021-05-05-bad.md"
    post.write_text("---\ntitle: Bad\npermalink: /:titel/\n---\nText\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(load_config(config), MOMENT)
    (problem,) = caught.value.problems
    assert problem.where == "site/_posts/2021-05-05-bad.md:3" and ":titel" in problem.message


def test_liquid_we_cannot_render_is_a_warning_by_line_and_never_reaches_a_reader(
    tmp_path: Path,
) -> None:
    config = jekyll_site(tmp_path, "kitchen")
    post = tmp_path / "site" / "_posts" / "2022-02-01-unknown.md"
    post.write_text(
        "---\ntitle: Unknown\n---\nBefore.\n\n{% gist 123 %}\n\nAnd {{ 'x' | nope }} after.\n"
        "{% post_url 2020-01-01-missing %}\n",
        encoding="utf-8",
    )
    result = publisher(config, "build")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "2022-02-01-unknown.md" in line]
    assert [w.split(":")[2] for w in warnings] == ["6", "8", "9"], warnings
    for name in ("atom.xml", "feed.rss", "feed.json"):
        text = (tmp_path / "public" / name).read_text(encoding="utf-8")
        assert "gist" not in text and "nope" not in text and "post_url" not in text
    built = json.loads((tmp_path / "public" / "feed.json").read_text(encoding="utf-8"))
    item = next(i for i in built["items"] if i["title"] == "Unknown")
    assert "Before." in item["content_html"] and "after." in item["content_html"]

    checked = publisher(config, "check")
    assert checked.exit_code == 0, checked.output
    said = [line for line in checked.stderr.splitlines() if "2022-02-01-unknown.md" in line]
    assert [w.split(":")[2] for w in said] == ["6", "8", "9"], checked.stderr
    assert checked.stdout.splitlines()[-1].endswith("0 with fallback dates, 3 other warnings")


def content_of(public: Path, title: str) -> str:
    items = json.loads((public / "feed.json").read_text(encoding="utf-8"))["items"]
    return str(next(i for i in items if i["title"] == title)["content_html"])


def test_editing_an_include_the_config_or_a_linked_post_renders_again(tmp_path: Path) -> None:
    config = jekyll_site(tmp_path, "kitchen")
    site, public = tmp_path / "site", tmp_path / "public"
    assert publisher(config, "build").exit_code == 0
    assert "<aside>Plain note</aside>" in content_of(public, "Includes with parameters")
    note = site / "_includes" / "note.html"
    note.write_text(
        note.read_text(encoding="utf-8").replace("{{ include", "Note: {{ include"), "utf-8"
    )
    assert publisher(config, "build").exit_code == 0
    assert "<aside>Note: Plain note</aside>" in content_of(public, "Includes with parameters")

    yml = site / "_config.yml"
    yml.write_text(yml.read_text(encoding="utf-8").replace("example/kitchen", "x/y"), "utf-8")
    assert publisher(config, "build").exit_code == 0
    assert "x/y" in json.dumps(json.loads((public / "feed.json").read_text(encoding="utf-8")))

    basics = site / "_posts" / "2022-01-10-liquid-basics.html"
    text = basics.read_text(encoding="utf-8").replace("---\n", "---\npermalink: /moved/\n", 1)
    basics.write_text(text, encoding="utf-8")
    assert publisher(config, "build").exit_code == 0
    assert 'href="https://kitchen.example.com/moved/"' in content_of(public, "Links from Liquid")


def test_drafts_are_read_only_when_asked_and_never_published(tmp_path: Path) -> None:
    config = jekyll_site(tmp_path)
    assert publisher(config, "build").exit_code == 0
    checked = publisher(config, "check")
    assert "_drafts/" not in checked.output
    result = publisher(config, "build", "--drafts")
    assert result.exit_code == 0, result.output
    for name in ("feed.xml", "feed.rss", "feed.json", "index.html"):
        assert "Only with --drafts" not in (tmp_path / "public" / name).read_text("utf-8")
        assert "A draft" not in (tmp_path / "public" / name).read_text("utf-8")
    loaded = load_config(config)
    drafted = dataclasses.replace(loaded, source=dataclasses.replace(loaded.source, drafts=True))
    hidden = dict(build(drafted, MOMENT).site.hidden)
    assert hidden["_drafts/a-draft.md"] == "draft"
    assert hidden["_drafts/draft-without-date.md"] == "draft"
    assert "_drafts/a-draft.md" not in dict(build(loaded, MOMENT).site.hidden)


def test_a_config_written_for_a_jekyll_folder_builds_its_feeds(tmp_path: Path) -> None:
    from publisher.sources.jekyll.scaffold import plan

    shutil.copytree(FIXTURES / "kitchen", tmp_path / "site")
    text = plan(tmp_path / "site", MOMENT).files[0].text
    assert 'kind = "jekyll"' in text and "Kitchen Sink <news@kitchen.example.com>" in text
    (tmp_path / "site" / "config.toml").write_text(text, encoding="utf-8")
    config = load_config(tmp_path / "site" / "config.toml")
    assert config.site.title == "Kitchen Sink"
    assert build(config, MOMENT).posts == 16
    assert (tmp_path / "site" / "_publisher" / "public" / "atom.xml").is_file()


def test_kramdown_syntax_we_do_not_follow_is_a_warning_by_line_and_never_printed(
    tmp_path: Path,
) -> None:
    config = jekyll_site(tmp_path, "kitchen")
    post = tmp_path / "site" / "_posts" / "2022-02-02-odd-kramdown.md"
    post.write_text(
        "---\ntitle: Odd kramdown\n---\nBefore.\n\n{::details}\nInside.\n{:/details}\n\n"
        "Text {: .after-text} more.\n",
        encoding="utf-8",
    )
    result = publisher(config, "build")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "odd-kramdown.md" in line]
    assert [w.split(":")[2] for w in warnings] == ["6", "8", "10"], warnings
    assert "{::details} is not supported" in warnings[0]
    html = content_of(tmp_path / "public", "Odd kramdown")
    assert "Inside." in html and "more." in html and "{:" not in html


def test_site_data_is_read_and_an_edit_to_it_renders_again(tmp_path: Path) -> None:
    config = jekyll_site(tmp_path, "kitchen")
    data = tmp_path / "site" / "_data"
    assert publisher(config, "build").exit_code == 0
    assert "led by Kim Lead (since 2019)" in content_of(tmp_path / "public", "Site data")
    (data / "team" / "lead.yml").write_text("name: Noa Next\nsince: 2024\n", encoding="utf-8")
    (data / "broken.json").write_text("{not json", encoding="utf-8")
    result = publisher(config, "build")
    assert result.exit_code == 0, result.output
    assert "led by Noa Next (since 2024)" in content_of(tmp_path / "public", "Site data")
    assert "site/_data/broken.json: cannot be read" in result.stderr
