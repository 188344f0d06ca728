"""A Hugo site read as Hugo 0.111.3 would list it: every regular page it builds, with its
front matter, dates, permalink, terms, rendered content and summary.

`load_hugo_site` reads a whole site at once (the conformance tests compare it with Hugo's
own dump); the Hugo source (source.py) reads one page at a time with `page_from_text` and
`render_page`, and posts.py maps a `HugoPage` to a post.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from publisher.core.errors import ContentError, Problem
from publisher.sources.hugo.cascade import Branch, Cascades
from publisher.sources.hugo.content import (
    BuildFlags,
    ContentFile,
    ContentTree,
    find_content,
    is_built,
    main_sections,
)
from publisher.sources.hugo.dates import DateRules, PageDates, date_rules, resolve_dates
from publisher.sources.hugo.frontmatter import Markup, split_front_matter
from publisher.sources.hugo.refs import RefIndex, RefTarget
from publisher.sources.hugo.shortcodes import (
    ShortcodeContext,
    expand_shortcodes,
)
from publisher.sources.hugo.site_config import HugoSiteConfig, load_site_config
from publisher.sources.hugo.summary import (
    SUMMARY_DIVIDER,
    Summary,
    SummarySource,
    hugo_summary,
    is_cjk,
    mark_summary_divider,
)
from publisher.sources.hugo.urls import PageFacts, PathRules, SiteURLs, compile_permalinks

if TYPE_CHECKING:
    from publisher.render.goldmark import GoldmarkOptions

# Goldmark (markdown-it) is imported where a page is rendered: reading a site's settings
# and fingerprinting it for a build with nothing to do need no Markdown.

MAX_CONTENT_BYTES = 4 << 20


@dataclass(frozen=True)
class HugoPage:
    file: ContentFile
    title: str
    params: Mapping[str, Any]
    """Front matter with lower-cased keys."""
    draft: bool
    dates: PageDates
    facts: PageFacts
    permalink: str
    rel_permalink: str
    resource_base: str
    """The absolute URL (ending in "/") a bundle's resources, and relative links, resolve to."""
    terms: Mapping[str, tuple[str, ...]]
    """Taxonomy plural → terms as written, e.g. {"tags": ("Meta",)}."""
    description: str
    authors: tuple[str, ...]
    images: tuple[str, ...]
    cjk: bool
    body: str = field(repr=False)
    body_line: int = 1
    content_html: str = field(default="", repr=False)
    summary: Summary | None = None
    warnings: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    """What was read differently from the file, and why (one line each, no file name)."""
    branch: Branch = field(default_factory=Branch, repr=False)
    """What the list pages above it hand down and allow (see cascade.py)."""

    @property
    def lang(self) -> str:
        return self.file.lang

    @property
    def headless(self) -> bool:
        """A leaf bundle with `headless = true`: Hugo neither renders nor lists it."""
        return self.file.leaf_bundle and truthy(self.params.get("headless"))

    @property
    def listed(self) -> bool:
        """Whether Hugo's lists (`.Site.RegularPages`, its RSS) hold it."""
        return not self.headless and build_option(self.params, "list") != "never"

    def built(self, flags: BuildFlags, now: datetime) -> bool:
        """Whether Hugo builds it at `now`: its own draft and dates, and its list pages'."""
        return is_built(
            flags,
            draft=self.draft or bool(self.branch.draft),
            publish_date=_latest(self.dates.publish_date, self.branch.publish_date),
            expiry_date=_earliest(self.dates.expiry_date, self.branch.expiry_date),
            now=now,
        )

    @property
    def section(self) -> str:
        return self.file.section


@dataclass(frozen=True)
class HugoSite:
    config: HugoSiteConfig
    pages: tuple[HugoPage, ...]
    """Every regular page Hugo builds, all languages."""
    main_sections: Mapping[str, tuple[str, ...]]
    """Per language."""
    urls: Mapping[str, SiteURLs]
    """Per language."""
    notes: tuple[str, ...]
    """What was skipped or read differently, and why (one line each)."""
    problems: tuple[Problem, ...] = ()
    """Pages left out because they could not be read (Hugo would stop the whole build)."""

    def posts(self, lang: str | None = None) -> list[HugoPage]:
        """The pages of the main sections (the site's posts), optionally one language's."""
        return [
            page
            for page in self.pages
            if (lang is None or page.lang == lang) and page.section in self.main_sections[page.lang]
        ]


def site_urls(config: HugoSiteConfig) -> dict[str, SiteURLs]:
    rules = PathRules(config.disable_path_to_lower, config.remove_path_accents)
    patterns = compile_permalinks(config.permalinks)
    return {
        language.code: SiteURLs(
            base_url=language.base_url or config.base_url,
            rules=rules,
            ugly_urls=config.ugly_urls,
            permalinks=patterns,
            language_prefix="" if language.base_url else config.language_prefix(language.code),
        )
        for language in config.languages
    }


def load_hugo_site(
    root: Path,
    *,
    now: datetime,
    flags: BuildFlags | None = None,
    file_mod_time: bool = False,
    file_time_zone: tzinfo = UTC,
    environment: str = "production",
) -> HugoSite:
    """Read a Hugo site. `flags` add to the site's buildDrafts/buildFuture/buildExpired, as
    Hugo's command-line flags do; `now` decides what is future or expired."""
    config = load_site_config(root, environment)
    flags = flags or BuildFlags()
    flags = BuildFlags(
        drafts=flags.drafts or config.build_drafts,
        future=flags.future or config.build_future,
        expired=flags.expired or config.build_expired,
    )
    rules = date_rules(config.frontmatter, file_mod_time=file_mod_time)
    urls = site_urls(config)
    tree = find_content(config)
    notes = [*rules.notes, *tree.notes]
    problems: list[Problem] = []
    cascades = site_cascades(config, tree)
    read = [
        _read_page(file, config, rules, urls, file_time_zone, notes, problems, cascades)
        for file in tree.pages()
    ]
    built = [page for page in read if page is not None and page.built(flags, now)]
    index = RefIndex(RefTarget(page.file, page.permalink, page.rel_permalink) for page in built)
    from publisher.render.goldmark import GoldmarkOptions

    options = GoldmarkOptions.from_hugo(config.goldmark)
    rendered = tuple(render_page(page, config, index, options) for page in built if page.listed)
    sections = {
        language.code: main_sections(
            config, [page.section for page in rendered if page.lang == language.code]
        )
        for language in config.languages
    }
    return HugoSite(config, rendered, sections, urls, tuple(notes), tuple(problems))


def _read_page(
    file: ContentFile,
    config: HugoSiteConfig,
    rules: DateRules,
    urls: Mapping[str, SiteURLs],
    file_time_zone: tzinfo,
    notes: list[str],
    problems: list[Problem],
    cascades: Cascades,
) -> HugoPage | None:
    where = shown_path(file, config)
    size = file.path.stat().st_size
    if size > MAX_CONTENT_BYTES:
        problems.append(Problem(where, f"larger than {MAX_CONTENT_BYTES} bytes; page left out"))
        return None
    text = file.path.read_text(encoding="utf-8", errors="replace")
    mod_time = datetime.fromtimestamp(file.path.stat().st_mtime, tz=file_time_zone)
    try:
        branch = page_branch(cascades, file, config, rules)
        page = page_from_text(file, text, config, rules, urls, mod_time, branch)
    except ContentError as e:
        problems.extend(e.problems)
        return None
    notes.extend(f"{where}: {note}" for note in page.notes)
    return page


def shown_path(file: ContentFile, config: HugoSiteConfig) -> str:
    """A content file's path from the site's root (a content folder may be outside it)."""
    try:
        return file.path.relative_to(config.root).as_posix()
    except ValueError:
        return str(file.path)


def page_from_text(
    file: ContentFile,
    text: str,
    config: HugoSiteConfig,
    rules: DateRules,
    urls: Mapping[str, SiteURLs],
    mod_time: datetime | None,
    branch: Branch | None = None,
) -> HugoPage:
    """One page read from its text, under what its list pages hand down (`branch`); a
    ContentError (naming file and line) when its front matter cannot be read."""
    matter = split_front_matter(text, shown_path(file, config))
    branch = branch or Branch()
    params = branch.under({key.lower(): value for key, value in matter.data.items()})
    language = config.language(file.lang)
    zone = ZoneInfo(language.time_zone) if language.time_zone else UTC
    dates = resolve_dates(
        params, rules, zone=zone, content_base_name=file.content_base_name, mod_time=mod_time
    )
    notes = list(dates.notes)
    facts = _facts(file, params, dates, notes)
    site = urls[file.lang]
    return HugoPage(
        file=file,
        title=_text(params.get("title")),
        params=params,
        draft=_draft(params),
        dates=dates,
        facts=facts,
        permalink=site.permalink(facts),
        rel_permalink=site.rel_permalink(facts),
        resource_base=site.absolute(site.resource_dir(facts)),
        terms=_terms(params, config),
        description=_text(params.get("description")),
        authors=_strings(params.get("authors")) or _strings(params.get("author")),
        images=_strings(params.get("images")),
        cjk=_cjk(params, config, text),
        body=matter.body,
        body_line=matter.body_line,
        notes=tuple(notes),
        branch=branch,
    )


def site_cascades(config: HugoSiteConfig, tree: ContentTree) -> Cascades:
    """The site's list pages and its config's `cascade`, read when a page asks."""

    def read(file: ContentFile) -> Mapping[str, Any] | None:
        try:
            with open(file.path, "rb") as handle:
                text = handle.read(MAX_CONTENT_BYTES).decode("utf-8", errors="replace")
            data = split_front_matter(text, shown_path(file, config)).data
        except (OSError, ContentError):
            return None  # an unreadable list page hands nothing down (its own build says so)
        return {str(key).lower(): value for key, value in data.items()}

    return Cascades(tree, config.raw.get("cascade"), read)


def page_branch(
    cascades: Cascades, file: ContentFile, config: HugoSiteConfig, rules: DateRules
) -> Branch:
    """What `file` inherits from the list pages above it, their dates read by `rules`."""

    def dates(
        params: Mapping[str, Any], node: ContentFile
    ) -> tuple[datetime | None, datetime | None]:
        language = config.language(node.lang)
        zone = ZoneInfo(language.time_zone) if language.time_zone else UTC
        found = resolve_dates(
            params, rules, zone=zone, content_base_name=node.content_base_name, mod_time=None
        )
        return found.publish_date, found.expiry_date

    return cascades.branch(file, dates)


def _latest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def _earliest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return min(known) if known else None


def _facts(
    file: ContentFile, params: Mapping[str, Any], dates: PageDates, notes: list[str]
) -> PageFacts:
    slug = _text(params.get("slug")).strip("-") if "slug" in params else dates.filename_slug or ""
    url = _text(params.get("url"))
    if url.startswith(("http://", "https://")):
        notes.append(f"url {url!r} has a protocol, which Hugo refuses; ignored")
        url = ""
    return PageFacts(
        title=_text(params.get("title")),
        slug=slug,
        url=url,
        date=dates.date,
        dir=file.dir,
        translation_base_name=file.translation_base_name,
        content_base_name=file.content_base_name,
        section=file.section,
        sections=file.sections,
    )


def _text(value: Any) -> str:
    if value is None or isinstance(value, Mapping | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _strings(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, list):
        return tuple(str(item) for item in value if not isinstance(item, Mapping | list))
    return (str(value),)


def _draft(params: Mapping[str, Any]) -> bool:
    if "draft" in params:
        return truthy(params["draft"])
    if "published" in params and isinstance(params["published"], bool | str):
        return not truthy(params["published"])
    return False


def build_option(params: Mapping[str, Any], name: str) -> str:
    """`_build.<name>` as Hugo reads it: a word ("always" when unset), true/false for
    always/never."""
    options = params.get("_build", params.get("build"))
    if not isinstance(options, Mapping):
        return "always"
    value = {str(key).lower(): item for key, item in options.items()}.get(name)
    if isinstance(value, bool):
        return "always" if value else "never"
    return str(value).strip().lower() if value is not None else "always"


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def _terms(params: Mapping[str, Any], config: HugoSiteConfig) -> dict[str, tuple[str, ...]]:
    return {
        plural: _strings(params.get(plural.lower()))
        for plural in config.taxonomies.values()
        if _strings(params.get(plural.lower()))
    }


def _cjk(params: Mapping[str, Any], config: HugoSiteConfig, text: str) -> bool:
    if "iscjklanguage" in params:
        return truthy(params["iscjklanguage"])
    return config.has_cjk_language and is_cjk(text)


def render_page(
    page: HugoPage,
    config: HugoSiteConfig,
    index: RefIndex,
    options: GoldmarkOptions,
    markdown_inner: frozenset[str] = frozenset(),
) -> HugoPage:
    """The page with its content HTML, summary and shortcode warnings."""

    from publisher.render.goldmark import render_goldmark

    def render_markdown(text: str) -> str:
        return render_goldmark(text, options)

    def resolve(target: str, absolute: bool) -> str | None:
        return index.link(target, page.file, absolute)

    def param(name: str) -> object:
        value = dotted(page.params, name)
        return value if value is not None else dotted(config.language(page.lang).params, name)

    context = ShortcodeContext(
        page=shown_path(page.file, config),
        render_markdown=render_markdown,
        resolve_ref=resolve,
        param=param,
        first_line=page.body_line,
        markdown_inner=markdown_inner,
    )
    if page.file.markup is Markup.HTML:
        return _render_html(page, config, context)
    marked, divider, after = mark_summary_divider(page.body)
    expansion = expand_shortcodes(marked, context)
    html = expansion.restore(render_markdown(expansion.markdown))
    summary_source = page.params.get("summary")
    summary, content = hugo_summary(
        html,
        length=config.summary_length,
        cjk=page.cjk,
        front_matter_html=render_markdown(str(summary_source)) if summary_source else None,
        divider=divider,
        after_divider=after,
    )
    return _replace(page, content, summary, expansion.warnings)


def _render_html(page: HugoPage, config: HugoSiteConfig, context: ShortcodeContext) -> HugoPage:
    """An HTML content file: shortcodes rendered, no Markdown. A divider splits it as written;
    as in Hugo, the content is then only what follows the divider."""
    expansion = expand_shortcodes(page.body, context)
    html = expansion.restore(expansion.markdown)
    before, divider, after = html.partition(SUMMARY_DIVIDER)
    if divider:
        summary = Summary(before.strip(), bool(after.strip()), SummarySource.DIVIDER)
        return _replace(page, after.strip(), summary, expansion.warnings)
    summary, content = hugo_summary(html, length=config.summary_length, cjk=page.cjk)
    return _replace(page, content, summary, expansion.warnings)


def dotted(mapping: Mapping[str, Any], name: str) -> object:
    value: Any = mapping
    for part in name.lower().split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _replace(
    page: HugoPage, content: str, summary: Summary, warnings: tuple[Problem, ...]
) -> HugoPage:
    return replace(page, content_html=content, summary=summary, warnings=warnings)
