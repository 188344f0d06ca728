"""config.toml: typed defaults, paths against the file, and every problem reported at once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from publisher.core.config import TABLES, FeedsConfig, documented_settings
from publisher.core.errors import ConfigError, ExitCode
from publisher.site_config import load_config
from tests.conftest import SAMPLE
from tests.hugo_peer import run_hugo

MINIMAL = (
    '[site]\ntitle = "T"\nbase_url = "https://example.org/"\nid_authority = "example.org,2024"\n'
)


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "site" / "config.toml"
    path.parent.mkdir(exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.exit_code == ExitCode.USAGE
    return [f"{p} | {p.hint}" for p in caught.value.problems]


def test_the_sample_config_loads() -> None:
    config = load_config(SAMPLE / "config.toml")
    assert config.site.title == "뉴스다오 속보"
    assert config.site.base_url == "https://news.example.org"
    assert config.site.zone.key == "Asia/Seoul"
    assert config.feeds.formats == ("atom", "rss", "json")
    assert config.paths.content == SAMPLE / "content"


def test_a_minimal_config_gets_the_documented_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    folder = tmp_path / "site"
    assert config.site.base_url == "https://example.org"  # the trailing slash is dropped
    assert (config.site.language, config.site.timezone) == ("en", "UTC")
    assert config.site.permalink == "/:slug/"
    assert config.feeds.limit == 20
    assert config.feeds.full_content is True
    assert config.feeds.formats == ("atom", "rss", "json")
    assert config.feeds.categories is True
    assert config.feeds.hub == ""
    assert config.paths.content == folder / "content"
    assert config.paths.output == folder / "public"
    assert config.paths.state == folder / "state"
    assert config.state_db == folder / "state" / "publisher.sqlite3"
    assert config.file == folder / "config.toml"


def test_paths_are_relative_to_the_config_file_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        MINIMAL + f'[paths]\ncontent = "posts"\noutput = "../www"\nstate = "{tmp_path}/st"\n',
    )
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("site/config.toml"))
    assert config.paths.content == tmp_path / "site" / "posts"
    assert config.paths.output == tmp_path / "www"
    assert config.paths.state == tmp_path / "st"


def test_settings_are_frozen(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.feeds.limit = 3  # type: ignore[misc]


def test_feeds_settings_are_read(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            MINIMAL + "[feeds]\nlimit = 5\nfull_content = false\nformats = ['json']\n"
            "categories = false\nhub = 'https://hub.example.com/'\n",
        )
    )
    assert config.feeds == FeedsConfig(
        limit=5,
        full_content=False,
        formats=("json",),
        categories=False,
        hub="https://hub.example.com/",
    )


def test_unknown_keys_and_tables_get_a_did_you_mean(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        MINIMAL + "base_ulr = 'x'\n[feeds]\nfull_contents = true\n[feed]\nlimit = 1\n",
    )
    assert "config.toml: unknown table [feed] | did you mean 'feeds'?" in found
    assert "config.toml [site]: unknown key 'base_ulr' | did you mean 'base_url'?" in found
    assert (
        "config.toml [feeds]: unknown key 'full_contents' | did you mean 'full_content'?" in found
    )
    assert len(found) == 3


def test_an_unknown_key_far_from_any_setting_has_no_guess(tmp_path: Path) -> None:
    assert problems(tmp_path, MINIMAL + "zzz = 1\n") == ["config.toml [site]: unknown key 'zzz' | "]


@pytest.mark.parametrize(
    ("table", "setting", "expected"),
    [
        ("site", "base_url = 'news.example.org'", "base_url: must be an absolute http(s) URL"),
        ("site", "base_url = 'ftp://example.org'", "base_url: must be an absolute http(s) URL"),
        ("site", "timezone = 'Mars/Olympus'", "timezone: is not an IANA time zone name"),
        ("site", "language = 'korean'", "language: must be a language tag"),
        ("site", "id_authority = 'example.org'", "id_authority: must be a domain or email"),
        ("site", "permalink = ':slug/'", "permalink: must start with '/'"),
        ("site", "title = 5", "title: must be a string (got 5)"),
        ("feeds", "limit = -1", "limit: must be 0 or more (got -1)"),
        ("feeds", "limit = true", "limit: must be a whole number"),
        ("feeds", "limit = '20'", "limit: must be a whole number"),
        ("feeds", "full_content = 'yes'", "full_content: must be true or false"),
        ("feeds", "formats = 'atom'", "formats: must be a list of strings"),
        ("feeds", "formats = ['atom', 'rss2']", "formats: unknown format 'rss2'"),
        ("feeds", "formats = ['atom', 'atom']", "formats: lists a format twice"),
        ("feeds", "formats = []", "formats: must list at least one of atom, rss, json"),
        ("feeds", "hub = 'hub.example.com'", "hub: must be an absolute http(s) URL"),
        ("paths", "content = 5", "content: must be a folder path string"),
        ("paths", "output = ''", "output: must be a folder path string"),
        ("schedule", "digest = '99 8 * * mon'", "digest: is not a valid crontab expression"),
        ("schedule", "build = '0 8 * * funday'", "build: is not a valid crontab expression"),
        ("schedule", "build = 'often'", "build: must be an interval like '15m'"),
        ("schedule", "timezone = 'Seoul'", "timezone: is not an IANA time zone name"),
        ("smtp", "security = 'tls'", "security: must be one of starttls, ssl, none"),
        ("digest", "unsubscribe_url = 'http://x.org/u?t={token}'", "unsubscribe_url: must be"),
    ],
)
def test_each_bad_value_is_named_with_its_table(
    tmp_path: Path, table: str, setting: str, expected: str
) -> None:
    site = {"title": "'T'", "base_url": "'https://example.org'", "id_authority": "'x.org,2024'"}
    key, value = setting.split(" = ")
    tables = {"site": dict(site), table: {}} | (
        {"site": site | {key: value}} if table == "site" else {}
    )
    if table != "site":
        tables[table] = {key: value}
    text = "".join(
        f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())
        for name, values in tables.items()
    )
    (found,) = problems(tmp_path, text)
    assert found.startswith(f"config.toml [{table}] {expected}"), found


def test_a_table_written_as_a_value_is_an_error(tmp_path: Path) -> None:
    found = problems(tmp_path, "feeds = 3\n" + MINIMAL)
    assert found == ["config.toml: feeds must be a table, written [feeds] | "]


def test_missing_required_settings_each_get_a_hint(tmp_path: Path) -> None:
    found = problems(tmp_path, "[site]\ntitle = '   '\n")
    assert found == [
        "config.toml [site] title: is required | add `title = …` to [site]",
        "config.toml [site] base_url: is required | add `base_url = …` to [site]",
        "config.toml [site] id_authority: is required | add `id_authority = …` to [site]",
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(
            write(
                tmp_path,
                "[site]\ntitel = 'x'\nbase_url = 'nope'\n[feeds]\nlimit = -1\nhub = 'x'\n[bogus]\n",
            )
        )
    assert caught.value.message.endswith(": 7 problems")
    assert [p.where for p in caught.value.problems] == [
        "config.toml",
        "config.toml [site]",
        "config.toml [site] base_url",
        "config.toml [site] title",
        "config.toml [site] id_authority",
        "config.toml [feeds] limit",
        "config.toml [feeds] hub",
    ]
    assert str(tmp_path / "site" / "config.toml") in caught.value.message


def test_an_empty_file_reports_every_required_setting(tmp_path: Path) -> None:
    assert len(problems(tmp_path, "")) == 3


def test_toml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, MINIMAL + "[feeds]\nlimit = = 3\n"))
    assert "not valid TOML" in caught.value.message and "line 6" in caught.value.message
    assert caught.value.hint


def test_a_config_that_is_not_utf8_is_an_error_and_a_bom_is_fine(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(write(tmp_path, MINIMAL.replace('"T"', '"caf\xe9"').encode("latin-1")))
    config = load_config(write(tmp_path, b"\xef\xbb\xbf" + MINIMAL.encode()))
    assert config.site.title == "T"


def test_a_missing_file_is_an_error_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config.toml")
    assert "no config file" in caught.value.message and "--config" in caught.value.hint


def test_every_setting_has_documentation() -> None:
    rows = documented_settings()
    assert {table for table, *_ in rows} == set(TABLES)
    assert all(doc.strip() for *_, doc in rows)
    site_keys = {key for table, key, *_ in rows if table == "site"}
    assert site_keys >= {
        "title", "description", "base_url", "language", "timezone", "author",
        "author_email", "id_authority",
    }  # fmt: skip
    feeds_keys = {key for table, key, *_ in rows if table == "feeds"}
    assert feeds_keys == {
        "limit", "full_content", "formats", "categories", "category_feeds", "hub", "paths",
        "category_paths",
        "languages", "titles",
    }  # fmt: skip


def test_a_bad_crontab_expression_is_reported_with_every_other_problem(tmp_path: Path) -> None:
    # core checks the shape; APScheduler (publisher/schedule.py) what the fields mean
    found = problems(
        tmp_path, MINIMAL + "bogus_key = 1\n[schedule]\ndigest = '0 8 * * funday'\nbuild = '0m'\n"
    )
    assert sorted(line.split(":")[0] for line in found) == [
        "config.toml [schedule] build",
        "config.toml [schedule] digest",
        "config.toml [site]",
    ]
    assert any("digest: is not a valid crontab expression" in line for line in found)


HUGO_CONFIG = 'baseURL = "https://example.org/"\ntitle = "My Hugo"\n[params]\nauthor = "A"\n'


def test_a_hugo_sites_own_config_is_named_as_such_with_publisher_init_as_the_hint(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, HUGO_CONFIG)
    (path.parent / "content" / "posts").mkdir(parents=True)
    (path.parent / "content" / "posts" / "a.md").write_text(
        "+++\ntitle = 'A'\ndate = 2024-06-01\n+++\nA.\n", encoding="utf-8"
    )
    run_hugo(path.parent, tmp_path / "hugo-public", (), tmp_path / "hugo-cache")  # Hugo's own
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.message == (
        f"{path} looks like the Hugo site's own config, not publisher's "
        "(its config.toml sets baseURL; top-level baseURL, title, params)"
    )
    assert caught.value.hint.startswith(f"run `publisher init` in {path.parent}: it writes")
    assert caught.value.problems == ()  # not eight unknown tables and missing settings


def test_a_config_toml_beside_a_jekyll_config_yml_is_named_as_such(tmp_path: Path) -> None:
    path = write(tmp_path, 'title = "My blog"\n')
    (path.parent / "_config.yml").write_text("title: My blog\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "looks like the Jekyll site's own config" in caught.value.message
    assert "it has _config.yml" in caught.value.message
    assert "`publisher init`" in caught.value.hint


def test_keys_outside_tables_elsewhere_are_not_publishers_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, 'title = "x"\nurl = "https://example.org"\n'))
    assert "is not publisher's config: its top-level title, url are not in tables" in str(
        caught.value
    )


def test_a_mistyped_table_beside_ours_is_still_one_problem_among_others(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "[mial]\nfrom = 'x'\n")
    (path.parent / "_config.yml").write_text("title: My blog\n", encoding="utf-8")
    assert problems(tmp_path, MINIMAL + "[mial]\nfrom = 'x'\n") == [
        "config.toml: unknown table [mial] | did you mean 'mail'?"
    ]
