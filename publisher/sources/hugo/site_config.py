"""A Hugo site's configuration, read the way Hugo 0.111.3 reads it.

Hugo reads the first of `hugo.{toml,yaml,yml,json}` / `config.{…}` in the site root, then
merges `config/_default/` and `config/<environment>/` over it (later wins, maps merged
key by key). In the config folder, `hugo.*`/`config.*` hold root keys and any other file
holds the key it is named after (`params.toml` → `params`, `menus.en.toml` →
`languages.en.menus`). Keys are case-insensitive: we lower-case every map key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from publisher.core.errors import ConfigError, ContentError, Problem, many
from publisher.sources.hugo.frontmatter import DATA_FORMAT_BY_EXTENSION, parse_data
from publisher.sources.merging import deep_merge

CONFIG_NAMES = ("hugo", "config")
CONFIG_EXTENSIONS = ("toml", "yaml", "yml", "json")
DEFAULT_TAXONOMIES = {"tag": "tags", "category": "categories"}
DEFAULT_SUMMARY_LENGTH = 70
MAX_CONFIG_FILES = 200


@dataclass(frozen=True)
class HugoLanguage:
    code: str
    name: str
    weight: int
    title: str
    language_code: str
    time_zone: str
    """IANA name; "" means UTC, as in Hugo."""
    content_dir: str
    """Relative to the site root, with forward slashes."""
    params: Mapping[str, Any]
    base_url: str


@dataclass(frozen=True)
class HugoSiteConfig:
    root: Path
    files: tuple[Path, ...]
    """The files read, in merge order."""
    base_url: str
    title: str
    language_code: str
    default_content_language: str
    default_content_language_in_subdir: bool
    languages: tuple[HugoLanguage, ...]
    """Enabled languages sorted as Hugo sorts them (weight, then code; weight 0 last)."""
    time_zone: str
    content_dir: str
    permalinks: Mapping[str, str]
    """Pattern per root section (lower-cased key; "" for pages at the content root)."""
    taxonomies: Mapping[str, str]
    """Singular → plural, e.g. {"tag": "tags"}."""
    params: Mapping[str, Any]
    description: str
    author: str
    author_email: str
    summary_length: int
    has_cjk_language: bool
    frontmatter: Mapping[str, tuple[str, ...]]
    """Lower-cased date handler lists per date (`date`, `lastmod`, `publishdate`, `expirydate`)."""
    build_drafts: bool
    build_future: bool
    build_expired: bool
    main_sections: tuple[str, ...] | None
    """`params.mainSections` (or Hugo 0.112+'s top-level `mainSections`) when set; None means
    Hugo's default (the biggest section)."""
    ugly_urls: bool
    disable_path_to_lower: bool
    remove_path_accents: bool
    rss_limit: int
    """Items per RSS feed; -1 (or 0) means no limit."""
    goldmark: Mapping[str, Any]
    """`markup.goldmark`, lower-cased, for the Markdown renderer."""
    raw: Mapping[str, Any] = field(repr=False)
    notes: tuple[str, ...] = ()

    def language(self, code: str) -> HugoLanguage:
        for language in self.languages:
            if language.code == code:
                return language
        raise KeyError(code)

    def language_prefix(self, code: str) -> str:
        """The path prefix of a language's pages: "" or e.g. "ko"."""
        if len(self.languages) < 2:
            return ""
        if code == self.default_content_language and not self.default_content_language_in_subdir:
            return ""
        return code


def lower_keys(value: Any) -> Any:
    """Hugo's case-insensitive keys: every mapping key lower-cased, recursively."""
    if isinstance(value, Mapping):
        return {str(key).lower(): lower_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [lower_keys(item) for item in value]
    return value


@dataclass(frozen=True)
class RawConfig:
    data: dict[str, Any]
    """Merged and lower-cased."""
    files: tuple[Path, ...]
    origins: Mapping[str, Path]
    """The file that last set each top-level key, for error messages."""


def read_raw_config(root: Path, environment: str = "production") -> RawConfig:
    """The merged, lower-cased config mapping and the files it came from."""
    merged: dict[str, Any] = {}
    files: list[Path] = []
    origins: dict[str, Path] = {}
    sources = [_main_config_file(root)]
    for folder in (root / "config" / "_default", root / "config" / environment):
        sources.extend(_config_dir_files(folder))
    for path in sources:
        if path is None:
            continue
        data = _read_file(path, root)
        if path.parent != root:
            data = _keyed_by_file_name(path, data)
        merged = deep_merge(merged, data)
        files.append(path)
        origins.update(dict.fromkeys(data, path))
    if not files:
        raise ConfigError(
            f"{root}: no Hugo config found",
            hint="a Hugo site has hugo.toml, config.toml (or .yaml/.json) or config/_default/",
        )
    return RawConfig(merged, tuple(files), origins)


def _main_config_file(root: Path) -> Path | None:
    for name in CONFIG_NAMES:
        for extension in CONFIG_EXTENSIONS:
            candidate = root / f"{name}.{extension}"
            if candidate.is_file():
                return candidate
    return None


def _config_dir_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    found = sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and path.suffix.lstrip(".").lower() in CONFIG_EXTENSIONS
    )
    if len(found) > MAX_CONFIG_FILES:
        raise ConfigError(f"{folder}: more than {MAX_CONFIG_FILES} config files")
    return found


def _read_file(path: Path, root: Path) -> dict[str, Any]:
    where = str(path.relative_to(root))
    fmt = DATA_FORMAT_BY_EXTENSION[path.suffix.lstrip(".").lower()]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{where}: cannot read: {e}") from e
    try:
        data = parse_data(text, fmt, where)
    except ContentError as e:
        raise ConfigError(e.message, hint=e.hint, problems=e.problems) from e
    renamed: dict[str, Any] = lower_keys(data)
    if "menu" in renamed:
        renamed["menus"] = deep_merge(renamed.get("menus") or {}, renamed.pop("menu"))
    return renamed


def _keyed_by_file_name(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """`params.toml` holds `params`; `menus.en.toml` holds `languages.en.menus`;
    `foo.ko.toml` holds `languages.ko` itself, as in Hugo's config-folder loader."""
    name, _, lang = path.stem.lower().rpartition(".") if "." in path.stem else ("", "", "")
    if not name:
        name, lang = path.stem.lower(), ""
    if name in CONFIG_NAMES and not lang:
        return data
    if not lang:
        return {"menus" if name == "menu" else name: data}
    if name in ("menu", "menus"):
        return {"languages": {lang: {"menus": data}}}
    if name == "params":
        return {"languages": {lang: {"params": data}}}
    return {"languages": {lang: data}}


def load_site_config(root: Path, environment: str = "production") -> HugoSiteConfig:
    """Read and check a Hugo site's config; every problem is reported at once."""
    root = root.resolve()
    raw = read_raw_config(root, environment)
    problems: list[Problem] = []
    reader = _Reader(raw.data, raw, root, problems)
    config = reader.site_config()
    if problems:
        raise many(ConfigError, f"{root}: Hugo config", problems)
    return config


@dataclass
class _Reader:
    raw: dict[str, Any]
    source: RawConfig
    root: Path
    problems: list[Problem]

    def where(self, key: str) -> str:
        top = key.split(".", 1)[0].lower()
        path = self.source.origins.get(top, self.source.files[0])
        return f"{path.relative_to(self.root)}: {key}"

    def text(self, mapping: Mapping[str, Any], key: str, default: str = "") -> str:
        value = mapping.get(key.lower(), default)
        if value is None:
            return default
        if isinstance(value, Mapping | list):
            self.problems.append(Problem(self.where(key), "must be a single value"))
            return default
        return str(value)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.raw.get(key.lower(), default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.problems.append(Problem(self.where(key), f"must be true or false, not {value!r}"))
        return default

    def number(self, mapping: Mapping[str, Any], key: str, default: int) -> int:
        value = mapping.get(key.lower(), default)
        try:
            return int(value)
        except (TypeError, ValueError):
            self.problems.append(Problem(self.where(key), f"must be a whole number, not {value!r}"))
            return default

    def zone(self, name: str, key: str) -> str:
        if name:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                self.problems.append(
                    Problem(self.where(key), f"unknown time zone {name!r}", "use an IANA name")
                )
                return ""
        return name

    def site_config(self) -> HugoSiteConfig:
        raw = self.raw
        params = _mapping(raw.get("params"))
        author, email = _author(raw, params)
        default_language = self.text(raw, "defaultContentLanguage", "en") or "en"
        time_zone = self.zone(self.text(raw, "timeZone"), "timeZone")
        languages, in_subdir = self.languages(default_language, time_zone, params)
        permalinks, notes = self.permalinks()
        return HugoSiteConfig(
            root=self.root,
            files=self.source.files,
            base_url=_base_url(self.text(raw, "baseURL")),
            title=self.text(raw, "title"),
            language_code=self.text(raw, "languageCode"),
            default_content_language=default_language,
            default_content_language_in_subdir=in_subdir,
            languages=languages,
            time_zone=time_zone,
            content_dir=self.text(raw, "contentDir", "content").strip("/") or "content",
            permalinks=permalinks,
            taxonomies=self.taxonomies(),
            params=params,
            description=self.text(params, "description"),
            author=author,
            author_email=email,
            summary_length=self.number(raw, "summaryLength", DEFAULT_SUMMARY_LENGTH),
            has_cjk_language=self.flag("hasCJKLanguage"),
            frontmatter=self.frontmatter(),
            build_drafts=self.flag("buildDrafts"),
            build_future=self.flag("buildFuture"),
            build_expired=self.flag("buildExpired"),
            main_sections=self.main_sections(params),
            ugly_urls=self.flag("uglyURLs"),
            disable_path_to_lower=self.flag("disablePathToLower"),
            remove_path_accents=self.flag("removePathAccents"),
            rss_limit=self.rss_limit(),
            goldmark=_mapping(_mapping(raw.get("markup")).get("goldmark")),
            raw=raw,
            notes=notes,
        )

    def languages(
        self, default: str, site_zone: str, site_params: Mapping[str, Any]
    ) -> tuple[tuple[HugoLanguage, ...], bool]:
        configured = _mapping(self.raw.get("languages"))
        disabled = {str(code).lower() for code in _strings(self.raw.get("disablelanguages"))}
        if default in disabled:
            self.problems.append(
                Problem(self.where("disableLanguages"), f"cannot disable the default {default!r}")
            )
        entries = configured or {default: {}}
        found = []
        for code, entry in entries.items():
            settings = _mapping(entry)
            if code in disabled or settings.get("disabled") is True:
                continue
            found.append(self.language(code, settings, site_zone, site_params))
        found.sort(key=lambda lang: (lang.weight == 0, lang.weight, lang.code))
        if default not in {lang.code for lang in found}:
            self.problems.append(
                Problem(
                    self.where("defaultContentLanguage"),
                    f"{default!r} does not match any language in languages",
                )
            )
        per_language_hosts = any(lang.base_url for lang in found)
        in_subdir = self.flag("defaultContentLanguageInSubdir") or per_language_hosts
        return tuple(found), in_subdir

    def language(
        self, code: str, settings: Mapping[str, Any], site_zone: str, site_params: Mapping[str, Any]
    ) -> HugoLanguage:
        zone = site_zone
        if "timezone" in settings:
            zone = self.zone(self.text(settings, "timeZone"), f"languages.{code}.timeZone")
        content_dir = self.text(settings, "contentDir") or self.text(self.raw, "contentDir")
        return HugoLanguage(
            code=code,
            name=self.text(settings, "languageName", code),
            weight=self.number(settings, "weight", 0),
            title=self.text(settings, "title") or self.text(self.raw, "title"),
            language_code=self.text(settings, "languageCode")
            or self.text(self.raw, "languageCode"),
            time_zone=zone,
            content_dir=(content_dir or "content").strip("/").removeprefix("./"),
            params=deep_merge(site_params, _mapping(settings.get("params"))),
            base_url=_base_url(self.text(settings, "baseURL")),
        )

    def permalinks(self) -> tuple[dict[str, str], tuple[str, ...]]:
        patterns: dict[str, str] = {}
        notes: list[str] = []
        for key, value in _mapping(self.raw.get("permalinks")).items():
            if isinstance(value, Mapping):
                if key == "page":
                    notes.append(
                        "permalinks.page is the per-kind form of Hugo 0.112+; read as sections"
                    )
                    patterns.update({_section_key(k): str(v) for k, v in value.items()})
                continue
            patterns[_section_key(key)] = str(value)
        return patterns, tuple(notes)

    def taxonomies(self) -> dict[str, str]:
        if "taxonomies" not in self.raw:
            return dict(DEFAULT_TAXONOMIES)
        return {str(k): str(v) for k, v in _mapping(self.raw.get("taxonomies")).items() if v}

    def frontmatter(self) -> dict[str, tuple[str, ...]]:
        configured = _mapping(self.raw.get("frontmatter"))
        return {key: tuple(s.lower() for s in _strings(value)) for key, value in configured.items()}

    def main_sections(self, params: Mapping[str, Any]) -> tuple[str, ...] | None:
        """`params.mainSections`, else the top-level `mainSections` of Hugo 0.112+."""
        for holder in (params, self.raw):
            if "mainsections" in holder:
                return tuple(_strings(holder["mainsections"]))
        return None

    def rss_limit(self) -> int:
        rss = _mapping(_mapping(self.raw.get("services")).get("rss"))
        limit = self.number(rss, "limit", 0)
        if limit == 0:
            limit = self.number(self.raw, "rssLimit", -1)
        return limit


def _base_url(value: str) -> str:
    """An absolute baseURL as Hugo writes it in links (its path percent-encoded), ending in
    "/"; anything else as written."""
    if not value.strip().startswith(("http://", "https://")):
        return value
    from publisher.sources.urls import site_base_url

    return site_base_url(value) + "/"


def _section_key(key: str) -> str:
    return key.strip(" /\\").lower()


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [str(item) for item in value]
    return [str(value)]


def _author(raw: Mapping[str, Any], params: Mapping[str, Any]) -> tuple[str, str]:
    """`params.author` (a name or a map with name/email), else the old top-level `author`."""
    for candidate in (params.get("author"), raw.get("author")):
        if isinstance(candidate, Mapping):
            return str(candidate.get("name", "")), str(candidate.get("email", ""))
        if isinstance(candidate, str) and candidate:
            return candidate, ""
    return "", ""
