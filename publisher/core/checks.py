"""Checks on config values: each returns a complaint, or None when the value is fine."""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import field
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Check = Callable[[Any], str | None]
"""Returns a complaint, or None when the value is fine."""


def setting(
    default: Any,
    doc: str,
    *,
    check: Check | None = None,
    required: bool = False,
    verbatim: bool = False,
) -> Any:
    """A config field; a `verbatim` string keeps its surrounding whitespace."""
    metadata = {"doc": doc, "check": check, "required": required, "verbatim": verbatim}
    if isinstance(default, dict):  # a table of settings, like [feeds] paths
        return field(default_factory=lambda: dict(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def http_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an absolute http(s) URL, like 'https://news.example.org'"
    return None


def optional_http_url(value: str) -> str | None:
    return http_url(value) if value else None


def timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "is not an IANA time zone name, like 'Asia/Seoul' or 'UTC'"
    return None


_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def language(value: str) -> str | None:
    return None if _LANGUAGE_TAG.match(value) else "must be a language tag, like 'ko' or 'en-GB'"


# RFC 4151: taggingEntity = authorityName "," date
_TAGGING_ENTITY = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|[^@\s,]+@[A-Za-z0-9.-]+)"
    r",\d{4}(?:-\d{2}(?:-\d{2})?)?$"
)


def id_authority(value: str) -> str | None:
    if _TAGGING_ENTITY.match(value):
        return None
    return "must be a domain or email you own, a comma and a date, like 'news.example.org,2024'"


def positive(value: int) -> str | None:
    return None if value >= 1 else "must be 1 or more"


def positive_float(value: float) -> str | None:
    return None if value > 0 else "must be more than 0"


def _some_of(value: tuple[str, ...], choices: Collection[str], noun: str) -> str | None:
    """A non-empty list of distinct names, each one of `choices`."""
    allowed = ", ".join(choices)
    if not value:
        return f"must list at least one of {allowed}"
    unknown = [name for name in value if name not in choices]
    if unknown:
        return f"unknown {noun} {unknown[0]!r}; choose from {allowed}"
    if len(set(value)) != len(value):
        return f"lists a {noun} twice"
    return None


def formats(value: tuple[str, ...]) -> str | None:
    from publisher.outputs import FEED_FORMATS  # the registry of feed formats

    return _some_of(value, FEED_FORMATS, "format")


_PLACEHOLDER = re.compile(r":([a-z_]+)")


def permalink_placeholders(known: Sequence[str]) -> Check:
    """A folder-style permalink check: starts with '/', uses only the `known` placeholders."""

    def check(value: str) -> str | None:
        if not value.startswith("/"):
            return "must start with '/', like '/:slug/'"
        unknown = [f":{name}" for name in _PLACEHOLDER.findall(value) if name not in known]
        if unknown:
            names = ", ".join(f":{name}" for name in known)
            return f"has unknown placeholder {', '.join(unknown)} (known: {names})"
        return None

    return check


def feed_paths(value: dict[str, str]) -> str | None:
    """[feeds] paths: format → a path under the output folder."""
    from publisher.outputs import FEED_FORMATS  # the registry of feed formats

    for fmt, path in value.items():
        if fmt not in FEED_FORMATS:
            return f"unknown format {fmt!r}; choose from {', '.join(FEED_FORMATS)}"
        if complaint := _output_path(path):
            return f"{fmt}: {complaint}"
    return None


def category_feed_paths(value: dict[str, str]) -> str | None:
    """[feeds] category_paths: like `feed_paths`, each with a {category} placeholder."""
    if complaint := feed_paths(value):
        return complaint
    for fmt, path in value.items():
        if "{category}" not in path:
            return f"{fmt}: must contain {{category}}, like 'feed/{{category}}.xml'"
    return None


def feed_languages(value: dict[str, str]) -> str | None:
    """[feeds] languages: language tag → a folder under the output folder, or ""."""
    for tag, folder in value.items():
        if not _LANGUAGE_TAG.match(tag):
            return f"{tag!r} is not a language tag, like 'ko' or 'en-GB'"
        if folder and (complaint := _output_path(folder.strip("/"))):
            return f"{tag}: {complaint}"
    folders = [folder.strip("/") for folder in value.values()]
    if len(set(folders)) != len(folders):
        return "two languages share one folder"
    return None


def feed_titles(value: dict[str, str]) -> str | None:
    """[feeds] titles: language tag → a feed title."""
    for tag, title in value.items():
        if not _LANGUAGE_TAG.match(tag):
            return f"{tag!r} is not a language tag, like 'ko' or 'en-GB'"
        if not title:
            return f"{tag}: the title is empty"
    return None


def _output_path(path: str) -> str | None:
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        return f"{path!r} must be a relative path like 'feed.xml', without '..' or '//'"
    if path.replace("{category}", "").count("{") or path.replace("{category}", "").count("}"):
        return f"{path!r} may hold no placeholder but {{category}}"
    return None


def optional_mailbox(value: str) -> str | None:
    if not value:
        return None
    from publisher.core.mailbox import mailbox_problem  # the email package, when needed

    return mailbox_problem(value)


def optional_domain(value: str) -> str | None:
    """A mail domain like news.example.org (Message-IDs, List-Id, DKIM d=), or empty."""
    if not value:
        return None
    from publisher.core.mailbox import domain_problem  # the email package, when needed

    if problem := domain_problem(value):
        return f"{problem}; write a domain like 'news.example.org'"
    return None


_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def optional_host_name(value: str) -> str | None:
    """A host name (letters, digits, hyphens and dots) or an IP address, bracketed or not."""
    if not value:
        return None
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(value.removeprefix("[").removesuffix("]"))
        return None
    if not all(_HOST_LABEL.match(label) for label in value.rstrip(".").split(".")):
        return "must be a host name like 'mail.example.org' (letters, digits, - and .)"
    return None


def one_of(*choices: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def env_name(value: str) -> str | None:
    if value and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", value):
        return "must be the name of an environment variable, like PUBLISHER_SECRET"
    return None


def non_negative(value: float) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def port(value: int) -> str | None:
    return None if 0 < value < 65536 else "must be a TCP port, 1 to 65535"


def any_port(value: int) -> str | None:
    return None if 0 <= value < 65536 else "must be a TCP port, 1 to 65535, or 0 for the default"


def unsubscribe_url(value: str) -> str | None:
    if not value:
        return None
    if "{token}" not in value:
        return "must contain {token}, like 'https://news.example.org/unsubscribe?token={token}'"
    if urlsplit(value).scheme != "https":
        return "must be an https URL (RFC 8058 one-click unsubscribe needs https)"
    return None


_BOUNCE_ADDRESS = re.compile(
    r"^[A-Za-z0-9._+-]*\{token\}[A-Za-z0-9._+-]*@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
)


def bounce_address(value: str) -> str | None:
    if not value or _BOUNCE_ADDRESS.match(value):
        return None
    return (
        "must be an ASCII address with {token} in its local part, "
        "like 'bounces+{token}@example.org'"
    )


def imap_folder(value: str) -> str | None:
    if re.match(r"^[\x20-\x7e]{1,200}$", value) and value.strip() == value:
        return None
    return "must be an IMAP folder name in ASCII, like 'INBOX' or 'INBOX/Bounces'"


def folder_name(value: str) -> str | None:
    if re.match(r"^[A-Za-z0-9_-]{1,64}$", value):
        return None
    return "must be a plain folder name of letters, digits, - and _"


_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


def schedule_spec(value: str) -> str | None:
    """An interval, or five crontab fields. What the fields mean is APScheduler's to say
    (publisher/schedule.py, its only home): publisher/site_config.py asks it about a
    value that passes here, and reports its answer with every other problem."""
    if is_interval(value):
        match = _INTERVAL.match(value)
        return None if match and int(match.group(1)) > 0 else "must be longer than 0"
    if len(value.split()) != 5:
        return "must be an interval like '15m' or a crontab expression like '0 8 * * mon'"
    return None


def is_interval(value: str) -> bool:
    """Whether a [schedule] value is an interval ('15m'), not a crontab expression."""
    return _INTERVAL.match(value) is not None


def optional_timezone(value: str) -> str | None:
    return timezone(value) if value else None


_LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def web_url(value: str) -> str | None:
    if not value:
        return None
    if complaint := http_url(value):
        return complaint
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        return "must not have a query or fragment, like 'https://news.example.org/newsletter'"
    if parts.scheme != "https" and parts.netloc.rsplit(":", 1)[0] not in _LOCAL_HOSTS:
        return "must be https (plain http is only allowed for localhost)"
    return None


def source_kind(value: str) -> str | None:
    from publisher.sources import SOURCES  # the registry of source kinds

    if value in SOURCES:
        return None
    return f"must be one of {', '.join(SOURCES)}"


def cadences(value: tuple[str, ...]) -> str | None:
    from publisher.core.models import CADENCES

    return _some_of(value, CADENCES, "cadence")


_FOLDER_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_BUILD_FOLDERS = ("categories",)


def archive_folder(value: str) -> str | None:
    """A folder under [paths] output that no build writes into, or empty (no archive)."""
    if not value:
        return None
    parts = value.strip("/").split("/")
    if not all(_FOLDER_PART.match(part) for part in parts):
        return "must be a folder name under [paths] output, like 'newsletter'"
    if parts[0] in _BUILD_FOLDERS or "." in parts[0]:
        return f"must not be {parts[0]!r}: the build writes there"
    return None
