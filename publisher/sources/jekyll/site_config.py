"""A Jekyll site's `_config.yml`, read with Jekyll 4.3's defaults and checked all at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from publisher.sources.jekyll.discovery import EntryRules
from publisher.sources.jekyll.errors import JekyllInputError, JekyllProblem
from publisher.sources.jekyll.front_matter import MAX_YAML_BYTES, load_yaml, top_level_lines
from publisher.sources.merging import deep_merge

DEFAULT_MARKDOWN_EXT = "markdown,mkdown,mkdn,mkd,md"
DEFAULT_EXCERPT_SEPARATOR = "\n\n"
DEFAULT_INCLUDE = (".htaccess",)
# Jekyll adds these to every `exclude:` (lib/jekyll/configuration.rb).
DEFAULT_EXCLUDES = (
    ".sass-cache",
    ".jekyll-cache",
    "gemfiles",
    "Gemfile",
    "Gemfile.lock",
    "node_modules",
    "vendor/bundle/",
    "vendor/cache/",
    "vendor/gems/",
    "vendor/ruby/",
)
PERMALINK_STYLES = {
    "none": "/:categories/:title:output_ext",
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
}


@dataclass(frozen=True)
class JekyllAuthor:
    """`author:` as a string (a name) or a hash (name, email, uri)."""

    name: str
    email: str | None = None
    uri: str | None = None


@dataclass(frozen=True)
class FeedSettings:
    """jekyll-feed's settings: where its feeds live and how many posts they hold."""

    path: str = "feed.xml"
    categories: tuple[str, ...] = ()
    posts_limit: int = 10
    excerpt_only: bool = False
    tags: bool = False
    """jekyll-feed's `feed.tags` (feeds at feed/by_tag/<tag>.xml) is set."""


@dataclass(frozen=True)
class SiteConfig:
    """What publishing needs from `_config.yml`; every key is also in `raw` for `site.*`."""

    root: Path
    url: str = ""
    baseurl: str = ""
    title: str | None = None
    description: str | None = None
    author: JekyllAuthor | None = None
    lang: str | None = None
    timezone: str | None = None
    permalink: str = "date"
    posts_permalink: str = PERMALINK_STYLES["date"]
    markdown_ext: tuple[str, ...] = tuple(DEFAULT_MARKDOWN_EXT.split(","))
    excerpt_separator: str = DEFAULT_EXCERPT_SEPARATOR
    defaults: tuple[Mapping[str, Any], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    include: tuple[str, ...] = DEFAULT_INCLUDE
    future: bool = False
    unpublished: bool = False
    feed: FeedSettings = field(default_factory=FeedSettings)
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        """The site's time zone; UTC when `timezone:` is unset (Jekyll would use the host's)."""
        return ZoneInfo(self.timezone or "UTC")

    @property
    def entry_rules(self) -> EntryRules:
        """Which entries Jekyll reads and copies: `exclude:` and `include:`."""
        return EntryRules(exclude=self.exclude, include=self.include)

    @property
    def destination(self) -> str:
        """Where `jekyll build` writes the site, from the root (`destination:`, `_site`)."""
        return str(self.raw.get("destination") or "_site")

    @property
    def site_url(self) -> str:
        """`url` + `baseurl` as jekyll-feed writes them: one slash between, the path
        percent-encoded, the host lower-cased, no trailing slash."""
        from publisher.sources.urls import site_base_url

        return site_base_url(self.url, self.baseurl, lower_host=True)


def style_to_template(permalink: str) -> str:
    """A built-in style's pattern, or the pattern itself."""
    return PERMALINK_STYLES.get(permalink, permalink)


def _read_one(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        problem = JekyllProblem(str(path), 0, f"{size} bytes; the limit is {MAX_YAML_BYTES}")
        raise JekyllInputError([problem])
    text = path.read_text(encoding="utf-8-sig")
    data = load_yaml(text, str(path))
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise JekyllInputError([JekyllProblem(str(path), 1, "not a mapping of keys to values")])
    return {str(k): v for k, v in data.items()}, top_level_lines(text)


def read_config_files(
    root: Path, config_files: Sequence[Path] | None = None
) -> tuple[dict[str, Any], dict[str, tuple[str, int]]]:
    """Merge the config files in order, as `jekyll build --config a,b` does (later wins)."""
    files = list(config_files) if config_files else [root / "_config.yml"]
    merged: dict[str, Any] = {}
    where: dict[str, tuple[str, int]] = {}
    for path in files:
        if not path.exists():
            if config_files:
                raise JekyllInputError([JekyllProblem(str(path), 0, "config file not found")])
            continue
        data, lines = _read_one(path)
        merged = deep_merge(merged, data)
        for key in data:
            where[key] = (str(path), lines.get(key, 0))
    return merged, where


def load_site_config(root: Path, config_files: Sequence[Path] | None = None) -> SiteConfig:
    """Read `_config.yml` (or the given files, merged); every problem is reported together."""
    raw, where = read_config_files(root, config_files)
    problems: list[JekyllProblem] = []

    def problem(key: str, message: str, hint: str = "") -> None:
        file, line = where.get(key, (str(root / "_config.yml"), 0))
        problems.append(JekyllProblem(file, line, f"`{key}`: {message}", hint))

    config = _build(root, raw, problem)
    if problems:
        raise JekyllInputError(problems)
    return config


class Report(Protocol):
    def __call__(self, key: str, message: str, hint: str = "") -> None: ...


def _text(raw: Mapping[str, Any], key: str, report: Report, default: str | None = None) -> Any:
    value = raw.get(key, default)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    report(key, f"expected text, found {type(value).__name__}")
    return default


def _strings(raw: Mapping[str, Any], key: str, report: Report) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        report(key, "should be a list", f"write it as [{value!r}]")
        return ()
    return tuple(str(item) for item in value if item is not None)


def _author(raw: Mapping[str, Any], report: Report) -> JekyllAuthor | None:
    value = raw.get("author")
    if value is None:
        return None
    if isinstance(value, str):
        return JekyllAuthor(name=value)
    if isinstance(value, dict):
        name, email, uri = (value.get(k) for k in ("name", "email", "uri"))
        return JekyllAuthor(
            name=str(name or ""),
            email=None if email is None else str(email),
            uri=None if uri is None else str(uri),
        )
    report("author", "should be a name or a hash of name, email and uri")
    return None


def _timezone(raw: Mapping[str, Any], report: Report) -> str | None:
    value = _text(raw, "timezone", report)
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        report("timezone", f"unknown time zone {value!r}", "use an IANA name like Europe/Berlin")
        return None
    return str(value)


def _feed(raw: Mapping[str, Any], report: Report) -> FeedSettings:
    value = raw.get("feed") or {}
    if not isinstance(value, dict):
        report("feed", "should be a hash (path, categories, posts_limit, ...)")
        return FeedSettings()
    path = str(value.get("path") or "feed.xml").lstrip("/")
    categories = value.get("categories") or []
    if not isinstance(categories, list):
        report("feed", "`categories` should be a list")
        categories = []
    limit = value.get("posts_limit", 10)
    if not isinstance(limit, int) or isinstance(limit, bool):
        report("feed", "`posts_limit` should be a whole number")
        limit = 10
    return FeedSettings(
        path=path,
        categories=tuple(str(c) for c in categories),
        posts_limit=limit,
        excerpt_only=bool(value.get("excerpt_only", False)),
        tags=bool(value.get("tags")),
    )


def _posts_permalink(raw: Mapping[str, Any], permalink: str, report: Report) -> str:
    collections = raw.get("collections")
    if isinstance(collections, dict):
        posts = collections.get("posts")
        if isinstance(posts, dict) and posts.get("permalink"):
            return str(posts["permalink"])  # used as written: no style names here
    elif collections is not None and not isinstance(collections, list):
        report("collections", "should be a hash or a list of collection names")
    return style_to_template(permalink)


def _build(root: Path, raw: dict[str, Any], report: Report) -> SiteConfig:
    permalink = _text(raw, "permalink", report, "date") or "date"
    markdown_ext = _text(raw, "markdown_ext", report, DEFAULT_MARKDOWN_EXT) or ""
    separator = raw.get("excerpt_separator", DEFAULT_EXCERPT_SEPARATOR)
    exclude = _strings(raw, "exclude", report)
    include = _strings(raw, "include", report) if "include" in raw else DEFAULT_INCLUDE
    defaults = raw.get("defaults") or []
    if not isinstance(defaults, list):
        report("defaults", "should be a list of {scope, values} sets")
        defaults = []
    return SiteConfig(
        root=root,
        url=_text(raw, "url", report, "") or "",
        baseurl=(_text(raw, "baseurl", report, "") or "").rstrip("/"),
        title=_text(raw, "title", report),
        description=_text(raw, "description", report),
        author=_author(raw, report),
        lang=_text(raw, "lang", report) or _text(raw, "locale", report),
        timezone=_timezone(raw, report),
        permalink=permalink,
        posts_permalink=_posts_permalink(raw, permalink, report),
        markdown_ext=tuple(e.strip().lstrip(".") for e in markdown_ext.split(",") if e.strip()),
        excerpt_separator="" if separator is None else str(separator),
        defaults=tuple(d for d in defaults if isinstance(d, dict)),
        exclude=tuple(dict.fromkeys(exclude + DEFAULT_EXCLUDES)),
        include=include,
        future=bool(raw.get("future", False)),
        unpublished=bool(raw.get("unpublished", False)),
        feed=_feed(raw, report),
        raw=raw,
    )
