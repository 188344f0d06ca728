"""A Hugo site's config as Hugo reads it: compared with `hugo config` and the dump of each
fixture, then file formats, the config folder, case-insensitive keys and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from publisher.core.errors import ConfigError
from publisher.sources.hugo.site_config import HugoSiteConfig, load_site_config
from tests.hugo_peer import SITES, HugoBuilds, copy_fixture, hugo_config


def _as_hugo_prints(config: HugoSiteConfig) -> dict[str, str]:
    def flag(value: bool) -> str:
        return "true" if value else "false"

    return {
        "baseurl": config.base_url,
        "title": config.title,
        "languagecode": config.language_code,
        "timezone": config.time_zone,
        "summarylength": str(config.summary_length),
        "hascjklanguage": flag(config.has_cjk_language),
        "uglyurls": flag(config.ugly_urls),
        "builddrafts": flag(config.build_drafts),
        "buildfuture": flag(config.build_future),
        "buildexpired": flag(config.build_expired),
        "disablepathtolower": flag(config.disable_path_to_lower),
        "removepathaccents": flag(config.remove_path_accents),
        "defaultcontentlanguage": config.default_content_language,
        "defaultcontentlanguageinsubdir": flag(config.default_content_language_in_subdir),
    }


@pytest.mark.parametrize("site", SITES)
def test_config_values_equal_what_hugo_reads(
    site: str, hugo_builds: HugoBuilds, tmp_path: Path
) -> None:
    hugo = hugo_builds.get(site)
    printed = hugo_config(hugo.source, tmp_path)
    ours = load_site_config(hugo.source)
    expected = {key: printed.get(key, "") for key in _as_hugo_prints(ours)}
    assert _as_hugo_prints(ours) == expected
    for language in ours.languages:
        dump = hugo.dumps[language.code]
        assert language.title == dump["title"]
        assert language.language_code == dump["languageCode"]
        assert language.weight == dump["weight"]
        assert ours.rss_limit == dump["rssLimit"]
        assert language.params.get("description") == dump["params"].get("description")
        if ours.main_sections is not None:
            assert list(ours.main_sections) == dump["mainSections"]
        prefix = ours.language_prefix(language.code)
        assert ("/" + prefix if prefix else "") == dump["languagePrefix"]


def test_config_folder_merges_files_and_environment(hugo_builds: HugoBuilds) -> None:
    config = load_site_config(hugo_builds.get("babel").source)
    assert config.description == "A site in two languages (production)."
    assert config.language("ko").params["description"] == "두 언어로 된 사이트."
    assert config.language("en").params["description"] == config.description
    assert config.raw["languages"]["en"]["menus"]["main"][0]["name"] == "Blog"
    assert config.permalinks == {"blog": "/:section/:year/:slug"}
    assert config.rss_limit == 50
    development = load_site_config(hugo_builds.get("babel").source, environment="development")
    assert development.description == "A site in two languages."


def test_json_config_and_hugo_before_config(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    (site / "hugo.json").write_text(
        json.dumps(
            {
                "baseURL": "https://j.example/",
                "Title": "J",
                "SummaryLength": 12,
                "uglyurls": True,
                "timeZone": "Europe/Berlin",
                "Services": {"RSS": {"Limit": 7}},
                "Params": {"Author": {"Name": "Jo", "Email": "jo@j.example"}},
            }
        )
    )
    (site / "config.toml").write_text('baseURL = "https://ignored.example/"\n')
    ours = load_site_config(site)
    printed = hugo_config(site, tmp_path)
    assert {
        key: printed[key] for key in ("baseurl", "title", "summarylength", "uglyurls", "timezone")
    } == {
        "baseurl": ours.base_url,
        "title": ours.title,
        "summarylength": str(ours.summary_length),
        "uglyurls": "true",
        "timezone": ours.time_zone,
    }
    assert ours.rss_limit == 7
    assert (ours.author, ours.author_email) == ("Jo", "jo@j.example")
    assert ours.files == (site.resolve() / "hugo.json",)


def test_defaults_without_settings(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('baseURL = "https://d.example/"\n')
    config = load_site_config(tmp_path)
    assert config.summary_length == 70
    assert config.taxonomies == {"tag": "tags", "category": "categories"}
    assert config.main_sections is None
    assert config.rss_limit == -1
    assert [lang.code for lang in config.languages] == ["en"]
    assert config.language_prefix("en") == ""


def test_main_sections_in_params_or_at_the_top_as_newer_hugo_has_them(tmp_path: Path) -> None:
    (tmp_path / "hugo.toml").write_text('mainSections = ["notes"]\n')
    assert load_site_config(tmp_path).main_sections == ("notes",)
    (tmp_path / "hugo.toml").write_text(
        'mainSections = ["notes"]\n[params]\nmainSections = ["posts", "news"]\n'
    )
    assert load_site_config(tmp_path).main_sections == ("posts", "news")


def test_every_problem_is_reported_with_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "hugo.toml").write_text(
        'baseURL = "https://x.example/"\ntimeZone = "Mars/Olympus"\nuglyURLs = "sometimes"\n'
        'summaryLength = "long"\n'
    )
    with pytest.raises(ConfigError) as raised:
        load_site_config(tmp_path)
    located = [problem.where for problem in raised.value.problems]
    assert located == ["hugo.toml: timeZone", "hugo.toml: summaryLength", "hugo.toml: uglyURLs"]


def test_syntax_errors_name_the_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "config" / "_default"
    folder.mkdir(parents=True)
    (folder / "params.yaml").write_text("description: fine\nauthor: [unclosed\n")
    with pytest.raises(ConfigError) as raised:
        load_site_config(tmp_path)
    assert raised.value.problems[0].where.startswith("config/_default/params.yaml:")


def test_yaml_alias_bombs_are_refused(tmp_path: Path) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for depth in range(1, 9):
        previous = chr(ord("a") + depth - 1)
        name = chr(ord("a") + depth)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 10) + "]")
    (tmp_path / "config.yaml").write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as raised:
        load_site_config(tmp_path)
    assert "too large" in raised.value.message


def test_no_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_site_config(tmp_path)
    assert "no Hugo config" in raised.value.message


def test_keys_are_case_insensitive(tmp_path: Path) -> None:
    copy_fixture("blog", tmp_path / "blog")
    path = tmp_path / "blog" / "hugo.toml"
    path.write_text(
        path.read_text().replace("timeZone", "TIMEZONE").replace("[params]", "[Params]")
    )
    config = load_site_config(tmp_path / "blog")
    assert config.time_zone == "America/New_York"
    assert config.description.startswith("Notes from the field")
