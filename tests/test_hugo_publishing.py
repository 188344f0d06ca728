"""A Hugo site published through publisher: config, feeds per language, dates, warnings,
the build cache and bad input."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from publisher.build.pipeline import build
from publisher.cli import cli
from publisher.core.config import Config
from publisher.core.errors import ConfigError, ContentError
from publisher.site_config import load_config
from tests.hugo_peer import FIXTURES

NOW = "2024-06-20T09:00:00+00:00"
MOMENT = datetime.fromisoformat(NOW)


def hugo_site(tmp_path: Path, fixture: str = "blog", extra: str = "") -> Path:
    """A copy of a fixture site in tmp_path/site, and a config.toml beside it."""
    shutil.copytree(FIXTURES / fixture, tmp_path / "site")
    config = tmp_path / "config.toml"
    config.write_text(f'[source]\nkind = "hugo"\npath = "site"\n{extra}', encoding="utf-8")
    return config


def publisher(config: Path, *args: str, now: str = NOW) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "--now", now, *args])


def rss(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot().find("channel")


def links(path: Path) -> list[str]:
    return [str(item.findtext("link")) for item in rss(path).iterfind("item")]


def item(path: Path, title: str) -> etree._Element:
    return next(i for i in rss(path).iterfind("item") if i.findtext("title") == title)


def test_a_hugo_site_needs_no_site_settings_of_its_own(tmp_path: Path) -> None:
    config = load_config(hugo_site(tmp_path))
    site = config.site
    assert (site.title, site.base_url) == ("Field Notes", "https://example.org/blog")
    assert (site.timezone, site.language) == ("America/New_York", "en-us")
    assert (site.author, site.author_email, site.id_authority) == ("Ada Quill", "", "")
    assert site.description == "Notes from the field, mostly about tools."
    assert config.feeds.limit == 0  # Hugo's RSS without services.rss.limit holds every page
    assert config.feeds.paths == {"rss": "index.xml"}
    assert config.feeds.category_paths == {"rss": "categories/{category}/index.xml"}
    assert config.feeds.languages == {}


def test_a_multilingual_site_gets_one_set_of_feeds_per_language_at_hugos_paths(
    tmp_path: Path,
) -> None:
    config = load_config(hugo_site(tmp_path, "babel"))
    assert config.feeds.languages == {"en": "", "ko-KR": "ko"}
    assert config.feeds.titles == {"en": "Babel", "ko-KR": "바벨"}
    assert config.feeds.limit == 50
    assert config.site.description == "A site in two languages (production)."  # config/production/
    assert publisher(hugo_site(tmp_path / "b", "babel"), "build").exit_code == 0
    public = tmp_path / "b" / "public"
    korean = rss(public / "ko" / "index.xml")
    assert (korean.findtext("title"), korean.findtext("language")) == ("바벨", "ko-KR")
    assert korean.findtext("link") == "https://babel.example.com/ko/"
    assert all("/ko/" in link for link in links(public / "ko" / "index.xml"))
    assert not any("/ko/" in link for link in links(public / "index.xml"))
    assert (public / "ko" / "categories" / "노트" / "index.xml").is_file()
    assert (
        rss(public / "ko" / "categories" / "노트" / "index.xml").findtext("title") == "바벨 · 노트"
    )
    atom = etree.parse(str(public / "ko" / "feed.atom")).getroot()
    assert atom.get("{http://www.w3.org/XML/1998/namespace}lang") == "ko-KR"
    almanac = load_config(hugo_site(tmp_path / "a", "almanac"))
    assert almanac.feeds.languages == {"en-GB": "en", "fr-FR": "fr"}
    assert (almanac.site.language, almanac.feeds.limit) == ("en-GB", 3)


def test_config_toml_wins_over_the_hugo_config(tmp_path: Path) -> None:
    extra = '[site]\ntitle = "Ours"\nbase_url = "https://news.example.net"\n[feeds]\nlimit = 2\n'
    config = hugo_site(tmp_path, extra=extra)
    assert publisher(config, "build").exit_code == 0
    channel = rss(tmp_path / "public" / "index.xml")
    assert channel.findtext("title") == "Ours"
    found = links(tmp_path / "public" / "index.xml")
    assert len(found) == 2 and all(link.startswith("https://news.example.net/") for link in found)


def test_not_a_hugo_site_and_bad_hugo_config_are_config_errors_listing_each(
    tmp_path: Path,
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "config.toml").write_text('[source]\nkind = "hugo"\npath = "empty"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config.toml")
    assert "not the root of a Hugo site" in str(caught.value.problems)
    config = hugo_site(tmp_path / "bad")
    hugo = tmp_path / "bad" / "site" / "hugo.toml"
    text = hugo.read_text(encoding="utf-8")
    hugo.write_text(
        text.replace('timeZone = "America/New_York"', 'timeZone = "Mars/Base"\nuglyURLs = 3')
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    problems = " ".join(str(problem) for problem in caught.value.problems)
    assert "hugo.toml: timeZone: unknown time zone 'Mars/Base'" in problems
    assert "hugo.toml: uglyURLs: must be true or false" in problems
    hugo.write_text(text.replace(":slugorfilename", ":nonsense"))
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "unknown token :nonsense" in str(caught.value.problems)


def test_broken_front_matter_fails_the_build_naming_every_file_and_line(tmp_path: Path) -> None:
    config = hugo_site(tmp_path)
    posts = tmp_path / "site" / "content" / "posts"
    (posts / "broken.md").write_text('+++\ntitle = "x"\ndate = \n+++\nbody\n', encoding="utf-8")
    (posts / "also.md").write_text("---\ntitle: x: y\n---\nbody\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(load_config(config), MOMENT)
    wheres = sorted(problem.where for problem in caught.value.problems)
    assert wheres == ["site/content/posts/also.md:2", "site/content/posts/broken.md:3"]
    assert not (tmp_path / "public").exists()


def test_warnings_name_the_page_and_line_and_nothing_unrendered_reaches_a_reader(
    tmp_path: Path,
) -> None:
    config = hugo_site(tmp_path)
    content = tmp_path / "site" / "content"
    (content / "posts" / "notes.adoc").write_text("= AsciiDoc\n", encoding="utf-8")
    (content / "posts" / "bad-date.md").write_text(
        '+++\ntitle = "Bad date"\ndate = 2023-01-01\nlastmod = "soon"\n+++\n'
        '{{< ref "nowhere.md" >}} and {{< param missing >}}\n',
        encoding="utf-8",
    )
    report = build(load_config(config), MOMENT)
    warnings = "\n".join(report.warnings)
    assert "site/content/posts/shortcodes.md:45: shortcode 'aside' is the site's own" in warnings
    assert "site/content/posts/bad-date.md:6: ref 'nowhere.md': no such page" in warnings
    assert "site/content/posts/bad-date.md:6: param 'missing' is not set" in warnings
    assert "site/content/posts/bad-date.md: lastmod: 'soon' is not a date Hugo reads" in warnings
    assert "site/content/posts/notes.adoc: AsciiDoc content is not supported" in warnings
    for name in ("index.xml", "feed.atom", "feed.json", "index.html"):
        text = (tmp_path / "public" / name).read_text(encoding="utf-8")
        assert "aside kind" not in text and "{{&lt; param" not in text and "{{< ref" not in text


def test_dates_publish_dates_and_expiry_dates_decide_when_a_page_is_in_the_feeds(
    tmp_path: Path,
) -> None:
    config = hugo_site(tmp_path)
    posts = tmp_path / "site" / "content" / "posts"
    (posts / "fading.md").write_text(
        '+++\ntitle = "Fading"\ndate = 2024-06-01T00:00:00Z\n'
        "expiryDate = 2024-07-01T00:00:00Z\n+++\nGone in July.\n",
        encoding="utf-8",
    )
    loaded = load_config(config)
    june = build(loaded, MOMENT)
    assert june.site.next_publication == datetime.fromisoformat("2024-07-01T00:00:00+00:00")
    assert "Fading" in {post.title for post in june.site.posts}
    hidden = dict(june.site.hidden)
    assert hidden["content/posts/publish-later.md"].startswith("dated in the future (2999-06-01")
    assert hidden["content/posts/old-offer.md"].startswith("expired (2001-01-01")
    assert hidden["content/posts/draft-ideas.md"] == "draft"
    july = build(loaded, MOMENT + timedelta(days=12))
    assert dict(july.site.hidden)["content/posts/fading.md"].startswith("expired (2024-07-01")
    hugo = tmp_path / "site" / "hugo.toml"  # a site that builds expired and future pages
    hugo.write_text("buildExpired = true\nbuildFuture = true\n" + hugo.read_text("utf-8"))
    everything = {post.title for post in build(load_config(config), MOMENT).site.posts}
    assert {"Fading", "Published Later Than Written"} <= everything
    assert any("Offer" in title for title in everything)


def _rendered(report_config: Config) -> tuple[int, int]:
    stats = build(report_config, MOMENT).site.cache_update.stats
    return stats.parsed, stats.rendered


def test_editing_the_config_a_shortcode_or_a_linked_page_renders_again(tmp_path: Path) -> None:
    config = hugo_site(tmp_path, extra='pages = "all"\n')
    site, public = tmp_path / "site", tmp_path / "public"
    loaded = load_config(config)
    cold = _rendered(loaded)
    assert cold[0] > 20 and cold[1] > 20
    assert build(loaded, MOMENT).nothing_changed
    hugo = site / "hugo.toml"
    hugo.write_text("summaryLength = 5\n" + hugo.read_text("utf-8"), encoding="utf-8")
    assert _rendered(load_config(config)) == cold
    short = item(public / "index.xml", "Hello, World!").findtext("description")
    assert short == (
        "This is the first post on the new site, and it is written mostly to see how the "
        "pieces fit."
    )

    shortcode = site / "layouts" / "shortcodes" / "aside.html"
    shortcode.write_text(shortcode.read_text("utf-8") + "\n", encoding="utf-8")
    assert _rendered(load_config(config)) == cold

    tour = site / "content" / "posts" / "markdown-tour.md"
    tour.write_text(tour.read_text("utf-8").replace("+++\n", '+++\nslug = "moved-tour"\n', 1))
    parsed, rendered = _rendered(load_config(config))
    assert parsed == 1 and rendered == 2  # the tour itself, and the page whose relref names it
    content = json.loads((public / "feed.json").read_text("utf-8"))
    shortcodes = next(i for i in content["items"] if i["title"] == "Shortcodes Everywhere")
    assert "/2023/06/01/moved-tour/" in shortcodes["content_html"]

    index = site / "content" / "journal" / "2023" / "_index.md"
    index.unlink()  # journal/2023/ is no longer a section: :sections changes
    assert _rendered(load_config(config))[0] == cold[0]
    assert any("/journal/2023/spring-is-here/" in link for link in links(public / "index.xml"))


def test_file_times_date_pages_only_when_opted_in_and_a_touch_is_read(tmp_path: Path) -> None:
    config = hugo_site(tmp_path, "almanac", "file_mod_time = true\n")
    entry = tmp_path / "site" / "content" / "en" / "entries" / "undated-entry.md"
    stamp = datetime.fromisoformat("2024-05-01T10:00:00+00:00").timestamp()
    os.utime(entry, (stamp, stamp))
    assert publisher(config, "build").exit_code == 0
    feed = tmp_path / "public" / "en" / "feed.atom"

    def updated() -> str:
        root = etree.parse(str(feed)).getroot()
        entry_element = next(
            e
            for e in root.iter("{http://www.w3.org/2005/Atom}entry")
            if e.findtext("{http://www.w3.org/2005/Atom}title") == "An Undated Entry"
        )
        return str(entry_element.findtext("{http://www.w3.org/2005/Atom}updated"))

    assert updated() == "2024-05-01T10:00:00+00:00"
    os.utime(entry, (stamp + 86400, stamp + 86400))  # same bytes, a day later
    assert publisher(config, "build").exit_code == 0
    assert updated() == "2024-05-02T10:00:00+00:00"

    without = hugo_site(tmp_path / "off", "almanac")
    result = publisher(without, "build")
    assert result.exit_code == 0
    assert "site/config.yaml: frontmatter.lastmod: :fileModTime skipped" in result.output


def test_hostile_terms_stay_inside_the_output_folder(tmp_path: Path) -> None:
    config = hugo_site(tmp_path)
    (tmp_path / "site" / "content" / "posts" / "escape.md").write_text(
        '+++\ntitle = "Escape"\ndate = 2023-01-01\n'
        'categories = ["../../../../tmp/x", "..", "a/./b"]\n+++\nx\n',
        encoding="utf-8",
    )
    assert publisher(config, "build").exit_code == 0
    public = (tmp_path / "public").resolve()
    written = [p.resolve() for p in public.rglob("index.xml")]
    assert all(public in p.parents for p in written)
    assert (public / "categories" / "tmp" / "x" / "index.xml").is_file()
    assert (public / "categories" / "a" / "b" / "index.xml").is_file()


def test_the_init_config_names_the_hugo_source_and_the_sender(tmp_path: Path) -> None:
    from publisher.sources.hugo.scaffold import plan

    shutil.copytree(FIXTURES / "blog", tmp_path / "site")
    text = plan(tmp_path / "site", MOMENT).files[0].text
    assert 'kind = "hugo"' in text and 'from = "Field Notes <news@example.org>"' in text
    assert 'output = "feeds"' in text  # never Hugo's own public/
    (tmp_path / "site" / "config.toml").write_text(text, encoding="utf-8")
    config = load_config(tmp_path / "site" / "config.toml")
    assert config.paths.output == (tmp_path / "site" / "feeds").resolve()
    assert build(config, MOMENT).posts == 16


def test_language_tags_are_each_languages_own_and_never_shared(tmp_path: Path) -> None:
    from publisher.sources.hugo.posts import language_tags
    from publisher.sources.hugo.site_config import load_site_config

    site = tmp_path / "site"
    site.mkdir()
    (site / "hugo.toml").write_text(
        'languageCode = "en-us"\n[languages.en]\nweight = 1\n[languages.fr]\nweight = 2\n'
        '[languages.de]\nlanguageCode = "de-AT"\nweight = 3\n[languages.en-gb]\nweight = 4\n',
        encoding="utf-8",
    )
    tags = language_tags(load_site_config(site))
    assert tags == {"en": "en-us", "fr": "fr", "de": "de-AT", "en-gb": "en-gb"}
    (site / "hugo.toml").write_text('languageCode = "ko-kr"\n', encoding="utf-8")
    assert language_tags(load_site_config(site)) == {"en": "ko-kr"}  # one language: its code


def test_editing_a_file_of_the_config_folder_renders_again(tmp_path: Path) -> None:
    config = hugo_site(tmp_path, "babel")
    loaded = load_config(config)
    cold = _rendered(loaded)
    assert build(loaded, MOMENT).nothing_changed
    before = item(tmp_path / "public" / "index.xml", "First Steps").findtext("description")
    folder = tmp_path / "site" / "config" / "_default" / "hugo.toml"
    folder.write_text("summaryLength = 3\n" + folder.read_text("utf-8"), encoding="utf-8")
    assert _rendered(load_config(config)) == cold
    after = item(tmp_path / "public" / "index.xml", "First Steps").findtext("description")
    assert len(str(after)) < len(str(before)) and str(before).startswith(str(after))


def test_shortcodes_the_site_lacks_or_replaces_are_named_as_such(tmp_path: Path) -> None:
    config = hugo_site(tmp_path, extra='pages = "all"\n')
    site = tmp_path / "site"
    (site / "themes" / "plain" / "layouts" / "shortcodes").mkdir(parents=True)
    (site / "themes" / "plain" / "layouts" / "shortcodes" / "figure.html").write_text("<img>")
    hugo = site / "hugo.toml"
    hugo.write_text('theme = "plain"\n' + hugo.read_text("utf-8"), encoding="utf-8")
    (site / "content" / "posts" / "more.md").write_text(
        '+++\ntitle = "More"\ndate = 2023-01-01\n+++\n'
        '{{< nosuch >}}\n\n{{< figure src="a.png" >}}\n',
        encoding="utf-8",
    )
    warnings = "\n".join(build(load_config(config), MOMENT).warnings)
    assert "more.md:5: shortcode 'nosuch' does not exist (Hugo would stop here)" in warnings
    assert "more.md:7: shortcode 'figure': the site's own replaces Hugo's" in warnings
    assert "shortcodes.md:45: shortcode 'aside' is the site's own" in warnings


def test_rss_guids_are_permalinks_as_hugos_are(tmp_path: Path) -> None:
    assert publisher(hugo_site(tmp_path), "build").exit_code == 0
    for element in rss(tmp_path / "public" / "index.xml").iterfind("item"):
        guid = element.find("guid")
        assert guid is not None and guid.text == element.findtext("link")
        assert guid.get("isPermaLink") == "true"


def test_dates_in_a_languages_own_time_zone_survive_the_cache(tmp_path: Path) -> None:
    config = load_config(hugo_site(tmp_path, "almanac", "file_mod_time = true\n"))
    cold = {post.url: post.published for post in build(config, MOMENT).site.posts}
    warm = build(config, MOMENT + timedelta(days=1)).site
    assert warm.cache_update.stats.parsed == 0 and warm.cache_update.stats.stat_hits > 0
    assert {post.url: post.published for post in warm.posts} == cold
    armistice = "https://almanac.example.net/fr/2022/armistice/"
    assert cold[armistice].isoformat() == "2022-11-11T00:00:00-05:00"  # Montreal, not Paris
