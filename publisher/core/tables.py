"""The tables of `config.toml`: one frozen dataclass each, every field with its doc and check.

core/config.py reads a file into these; a new setting is one field here (with its doc
string) and one row in docs/configuration.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from publisher.core import checks
from publisher.core.checks import setting


@dataclass(frozen=True)
class SiteConfig:
    """[site]: who publishes, and where the site lives."""

    title: str = setting("", "The site's name, used as the feed title.", required=True)
    description: str = setting("", "One line about the site; the feed subtitle.")
    base_url: str = setting(
        "",
        "Absolute URL where the site (and public/) is served.",
        check=checks.http_url,
        required=True,
    )
    language: str = setting("en", "Language tag of the site, like 'ko'.", check=checks.language)
    timezone: str = setting(
        "UTC", "IANA time zone for dates written without one.", check=checks.timezone
    )
    author: str = setting("", "Default author name of every post.")
    author_email: str = setting("", "The default author's email address.")
    id_authority: str = setting(
        "",
        "RFC 4151 tagging entity for permanent entry ids, like 'news.example.org,2024'. "
        "Never change it once feeds are public.",
        check=checks.id_authority,
        required=True,
    )
    permalink: str = setting(
        "/:slug/",
        "URL path of a post without a `permalink` of its own; placeholders :slug, :year, "
        ":month, :day (a Jekyll source: Jekyll's styles and placeholders, from _config.yml).",
    )
    excerpt_separator: str = setting(
        "",
        "Text that ends a post's summary where a post has it (a post may set its own "
        "`excerpt_separator`); without it the summary is the first paragraph, whole.",
        verbatim=True,
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class FeedsConfig:
    """[feeds]: what the feeds hold."""

    limit: int = setting(
        20,
        "How many of the newest posts each feed holds; 0: every post (a Hugo source: "
        "services.rss.limit, else 0, as Hugo's RSS).",
        check=checks.non_negative,
    )
    full_content: bool = setting(True, "Put whole posts in the feeds; false gives summaries only.")
    formats: tuple[str, ...] = setting(
        ("atom", "rss", "json"),
        "Which feeds to write: any of atom, rss, json.",
        check=checks.formats,
    )
    categories: bool = setting(True, "Also write one set of feeds per category.")
    category_feeds: tuple[str, ...] = setting(
        (),
        "With `categories`, the categories (by name) that get feeds; empty: every category "
        "(a Jekyll source: jekyll-feed's `feed.categories`).",
    )
    hub: str = setting(
        "", "WebSub hub URL to announce in every feed.", check=checks.optional_http_url
    )
    paths: dict[str, str] = setting(
        {},
        'Where each format\'s site feed is written, like { atom = "feed.xml" }; '
        "a format not listed is feed.<format> (a Jekyll source: Atom at jekyll-feed's "
        "`feed.path`, feed.xml).",
        check=checks.feed_paths,
    )
    category_paths: dict[str, str] = setting(
        {},
        "Where each format's category feeds are written, with {category}, like "
        '{ atom = "feed/{category}.xml" }; a format not listed is '
        "categories/{category}/feed.<format> (a Jekyll source: Atom at feed/{category}.xml).",
        check=checks.category_feed_paths,
    )
    languages: dict[str, str] = setting(
        {},
        "One set of feeds per language: language tag → the folder its feeds are written "
        'under, like { ko = "ko" } ("" is the output folder itself). A post in a language '
        "not listed is in the feeds of [site] language, which are at the top unless listed "
        "(a Hugo source: one set per language, where Hugo writes its feeds).",
        check=checks.feed_languages,
    )
    titles: dict[str, str] = setting(
        {},
        "Feed titles by language tag, for the sets of `languages`; a language not listed "
        "has [site] title (a Hugo source: each language's `title`).",
        check=checks.feed_titles,
    )


@dataclass(frozen=True)
class MailConfig:
    """[mail]: who digests come from, and how they leave."""

    transport: str = setting(
        "outbox",
        "'outbox' writes .eml files under [paths] outbox; 'smtp' sends through [smtp].",
        check=checks.one_of("outbox", "smtp"),
    )
    sender: str = setting(
        "",
        "The From mailbox, with a display name: 'News <news@example.org>'. "
        "Written `from` in config.toml.",
        check=checks.optional_mailbox,
    )
    reply_to: str = setting("", "Optional Reply-To mailbox.", check=checks.optional_mailbox)
    message_id_domain: str = setting(
        "",
        "Domain of Message-IDs and List-Id; defaults to the From address's domain.",
        check=checks.optional_domain,
    )
    contact: str = setting(
        "", "The sender's contact line printed in every digest footer (postal address, email)."
    )
    bounce_address: str = setting(
        "",
        "Envelope sender (Return-Path) with {token}, like 'bounces+{token}@example.org': each "
        "message gets a signed token naming its digest and reader (VERP), so a bounce or a "
        "mailed unsubscribe names who it is about, and only such a token is believed. "
        "Empty: the From address.",
        check=checks.bounce_address,
    )


@dataclass(frozen=True)
class SmtpConfig:
    """[smtp]: the mail relay used when [mail] transport = 'smtp'."""

    host: str = setting("localhost", "Relay host name.", check=checks.optional_host_name)
    port: int = setting(587, "Relay port.", check=checks.port)
    security: str = setting(
        "starttls",
        "'starttls', 'ssl' (implicit TLS) or 'none' (only for a localhost relay).",
        check=checks.one_of("starttls", "ssl", "none"),
    )
    username: str = setting("", "Login name; empty means no login.")
    password_env: str = setting(
        "", "Name of the environment variable holding the password.", check=checks.env_name
    )
    helo_name: str = setting(
        "",
        "Name this host gives in EHLO; defaults to the machine's fully qualified name. "
        "Set it to a name that resolves to this host if the relay or its filters are picky.",
        check=checks.optional_host_name,
    )
    timeout: float = setting(30.0, "Seconds to wait for the relay.", check=checks.positive_float)
    connections: int = setting(2, "Parallel connections to the relay.", check=checks.positive)
    rate: float = setting(
        0.0, "Messages per second at most; 0 means unlimited.", check=checks.non_negative
    )
    retries: int = setting(
        3,
        "Times a recipient the relay refused temporarily (4xx) is retried within one run.",
        check=checks.non_negative,
    )
    backoff: float = setting(
        1.0,
        "Seconds before the first retry; each further retry waits twice as long (with jitter).",
        check=checks.non_negative,
    )
    relay_failure_threshold: int = setting(
        10,
        "Recipients in a row, at two or more domains, that the relay refused permanently "
        "with the same reply code and status: the run stops as a relay failure (exit 75, "
        "everyone not yet sent left pending); 0 turns it off.",
        check=checks.non_negative,
    )


@dataclass(frozen=True)
class DigestConfig:
    """[digest]: what a digest holds and how it unsubscribes."""

    subject: str = setting(
        "{site}: {title}",
        "Subject template; placeholders {site}, {title} (newest post), {count}, {date}.",
    )
    max_posts: int = setting(10, "Most posts in one digest, newest first.", check=checks.positive)
    first_digest_days: int = setting(
        7, "The first digest only holds posts from this many days back.", check=checks.positive
    )
    unsubscribe_url: str = setting(
        "",
        "https URL with {token}; defaults to <[web] base_url, else [site] base_url>"
        "/unsubscribe?token={token}.",
        check=checks.unsubscribe_url,
    )
    secret_env: str = setting(
        "PUBLISHER_SECRET",
        "Environment variable with the token-signing secret; if unset, one is generated "
        "into the state folder (mode 0600).",
        check=checks.env_name,
    )
    dkim_selector: str = setting("", "DKIM selector; DKIM signing is on when this is set.")
    dkim_domain: str = setting(
        "", "DKIM d= domain; defaults to the From address's domain.", check=checks.optional_domain
    )
    dkim_key_file: str = setting("", "Path of the PEM private key (keep it out of the repository).")
    cadences: tuple[str, ...] = setting(
        ("weekly",),
        "Which cadences readers may choose: any of weekly, daily and each (a mail per new "
        "post). The first is what new readers get.",
        check=checks.cadences,
    )
    wait_days: int = setting(
        30,
        "How many days a new post waits for the readers who have not had it yet; "
        "older posts are never mailed, and raising it never reaches back past posts a "
        "shorter setting already let go.",
        check=checks.positive,
    )
    archive: str = setting(
        "newsletter",
        "Folder under [paths] output where every issue is published, with an index page "
        "and feeds of past issues; empty turns the archive off.",
        check=checks.archive_folder,
    )


@dataclass(frozen=True)
class BouncesConfig:
    """[bounces]: the mailbox where bounces, complaints and mailed unsubscribes arrive."""

    maildir: str = setting(
        "", "A Maildir folder to read, relative to the config file; empty: none."
    )
    mbox: str = setting("", "An mbox file to read (when no maildir is set); empty: none.")
    imap_host: str = setting(
        "", "An IMAP server to read (when no maildir or mbox is set); empty: none."
    )
    imap_port: int = setting(
        0, "IMAP port; 0 means 993 with imap_security 'ssl', else 143.", check=checks.any_port
    )
    imap_security: str = setting(
        "ssl",
        "'ssl' (implicit TLS), 'starttls' or 'none' (only for a server on 127.0.0.1).",
        check=checks.one_of("ssl", "starttls", "none"),
    )
    imap_user: str = setting("", "IMAP login name.")
    imap_password_env: str = setting(
        "PUBLISHER_IMAP_PASSWORD",
        "Name of the environment variable holding the IMAP password.",
        check=checks.env_name,
    )
    imap_folder: str = setting(
        "INBOX", "The IMAP folder bounces arrive in.", check=checks.imap_folder
    )
    processed_folder: str = setting(
        "processed",
        "Maildir subfolder or IMAP folder processed messages are moved into (an mbox "
        "message is marked instead, with an X-Publisher-Processed header).",
        check=checks.folder_name,
    )
    delete_processed: bool = setting(
        False, "Delete processed messages instead of moving or marking them."
    )
    soft_bounce_limit: int = setting(
        3,
        "Soft bounces (4.x.x) within soft_bounce_days that make a reader `bounced`.",
        check=checks.positive,
    )
    soft_bounce_days: int = setting(
        14, "Days over which soft bounces are counted.", check=checks.positive
    )

    @property
    def configured(self) -> bool:
        return bool(self.maildir or self.mbox or self.imap_host)


@dataclass(frozen=True)
class ScheduleConfig:
    """[schedule]: when `publisher schedule` runs the jobs."""

    build: str = setting(
        "15m",
        "When to rebuild the feeds: an interval ('15m', '1h') or a crontab expression.",
        check=checks.schedule_spec,
    )
    digest: str = setting(
        "0 8 * * mon",
        "When to send the weekly digest: a crontab expression (or an interval).",
        check=checks.schedule_spec,
    )
    daily: str = setting(
        "0 7 * * *",
        "When to send the daily digest, if [digest] cadences offers it: a crontab expression "
        "(or an interval).",
        check=checks.schedule_spec,
    )
    timezone: str = setting(
        "",
        "IANA time zone of the crontab expressions; defaults to [site] timezone.",
        check=checks.optional_timezone,
    )
    misfire_grace_time: int = setting(
        3600,
        "Seconds a missed run may be late and still run (once) when the process comes back.",
        check=checks.positive,
    )
    lock_timeout: float = setting(
        60.0,
        "Seconds a command waits for another publisher's lock before exit 75.",
        check=checks.positive_float,
    )


@dataclass(frozen=True)
class WebConfig:
    """[web]: the subscriber web endpoint run by `publisher serve`."""

    base_url: str = setting(
        "",
        "Public URL of the endpoint, with any path prefix, like "
        "'https://news.example.org/newsletter'. When set, index.html gets a subscribe form "
        "and digests' List-Unsubscribe points here.",
        check=checks.web_url,
    )
    confirm_hours: int = setting(
        48, "Hours a subscription confirmation link stays valid.", check=checks.positive
    )
    rate_window: int = setting(
        3600, "Seconds over which the subscribe rate limits are counted.", check=checks.positive
    )
    rate_per_ip: int = setting(
        10, "Subscribe requests one client IP may make per rate window.", check=checks.positive
    )
    rate_per_address: int = setting(
        3, "Confirmation emails one address may be sent per rate window.", check=checks.positive
    )
    trusted_proxies: str = setting(
        "127.0.0.1",
        "Comma-separated IPs of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto "
        "`publisher serve` believes; '*' trusts every peer.",
    )
    request_timeout: float = setting(
        10.0,
        "Seconds a client has to send a whole request (headers and body) once it starts, "
        "and a new connection to start one; slower clients are disconnected.",
        check=checks.positive_float,
    )
    max_connections: int = setting(
        100,
        "Connections `publisher serve` handles at once; more are answered 503 until some end.",
        check=checks.positive,
    )


@dataclass(frozen=True)
class SourceConfig:
    """[source]: what kind of site the posts come from."""

    kind: str = setting(
        "folder",
        "'folder': a folder of posts with YAML front matter ([paths] content); "
        "'jekyll': a Jekyll site (its _config.yml fills [site]); 'hugo': a Hugo site (its "
        "hugo.toml, config.toml or config/ fills [site] and [feeds]).",
        check=checks.source_kind,
    )
    path: Path = setting(
        Path("."),
        "The site's root folder for a Jekyll or Hugo source (where _config.yml, hugo.toml "
        "or config.toml is), relative to the config file. The folder kind reads [paths] "
        "content instead.",
    )
    pages: str = setting(
        "main",
        "Which pages of a Hugo site are posts: 'main', the regular pages of its main "
        "sections (params.mainSections, else the section with the most pages: what themes "
        "list as posts), or 'all', every regular page, as Hugo's own RSS template lists them.",
        check=checks.one_of("main", "all"),
    )
    file_mod_time: bool = setting(
        False,
        "Let a Hugo site's `frontmatter` date settings use :fileModTime (files' modification "
        "times change on every checkout, so they are skipped unless this is set).",
    )
    drafts: bool = setting(
        False,
        "Also read drafts (a Jekyll site's _drafts/) to check them; a draft is never in a "
        "feed or a digest. `publisher build --drafts` sets it for one build.",
    )
    ids: str = setting(
        "auto",
        "Entry ids of posts no adopted feed gave one: 'source' (the kind's own: tag: URIs "
        "from [site] id_authority, or jekyll-feed's for a Jekyll source), 'link' (the post's "
        "URL), or 'auto' (the scheme of the feed `publisher adopt` read, else 'source').",
        check=checks.one_of("auto", "source", "link"),
    )
    max_post_bytes: int = setting(
        5_000_000,
        "Largest post file read, in bytes (default 5 MB); a bigger one is an error naming it.",
        check=checks.positive,
    )


@dataclass(frozen=True)
class PathsConfig:
    """[paths]: folders, relative to the config file."""

    content: Path = setting(Path("content"), "Where the posts are.")
    output: Path = setting(Path("public"), "Where feeds and index.html are written.")
    state: Path = setting(Path("state"), "Where the SQLite state and lock live.")
    templates: Path = setting(
        Path("templates"),
        "A folder of your own templates: a file there overrides the built-in one of the same "
        "name; the folder need not exist.",
    )
    outbox: Path = setting(Path("outbox"), "Where the outbox transport writes messages.")


@dataclass(frozen=True)
class Config:
    """The whole configuration, one frozen table per [section], checked when read."""

    site: SiteConfig
    feeds: FeedsConfig
    paths: PathsConfig
    mail: MailConfig
    smtp: SmtpConfig
    digest: DigestConfig
    schedule: ScheduleConfig
    file: Path
    """The config file this came from."""
    web: WebConfig = field(default_factory=WebConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    bounces: BouncesConfig = field(default_factory=BouncesConfig)

    @property
    def state_db(self) -> Path:
        return self.paths.state / "publisher.sqlite3"


TABLES: dict[str, type] = {
    "site": SiteConfig,
    "feeds": FeedsConfig,
    "paths": PathsConfig,
    "mail": MailConfig,
    "smtp": SmtpConfig,
    "digest": DigestConfig,
    "schedule": ScheduleConfig,
    "web": WebConfig,
    "source": SourceConfig,
    "bounces": BouncesConfig,
}
KEY_ALIASES = {("mail", "from"): "sender"}
"""TOML keys that are Python keywords, and the field each maps to."""
