"""The newsletter archive: each issue's web copy, a page of past issues, and feeds of them.

Everything is made from what the state store froze when each issue was
created, so the same issues give the same bytes, and editing a post later
changes no past issue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from publisher.core import i18n
from publisher.core.config import Config
from publisher.core.models import Category, DateSource, Post
from publisher.outputs import FEED_FORMATS
from publisher.outputs.feeds import FeedSpec, feed_links

ARCHIVE_TEMPLATE = "site/archive.html.j2"


@dataclass(frozen=True)
class ArchivedIssue:
    number: int
    cadence: str
    created_at: datetime
    subject: str
    html: str
    """The issue's web copy: a whole HTML document, as frozen when the issue was made."""
    titles: tuple[str, ...]
    """The titles of its posts, newest first."""


def folder(config: Config) -> str:
    """The archive's folder under [paths] output; empty when there is no archive."""
    return config.digest.archive.strip("/")


def issue_path(config: Config, number: int) -> str:
    return f"{folder(config)}/{number}/index.html"


def issue_url(config: Config, number: int) -> str:
    """The web copy's address; empty when there is no archive."""
    if not folder(config):
        return ""
    return f"{config.site.base_url}/{folder(config)}/{number}/"


def index_url(config: Config) -> str:
    return f"{config.site.base_url}/{folder(config)}/" if folder(config) else ""


def _body(document: str) -> str:
    """What is inside <body>: a feed entry's content is a fragment, not a document."""
    start = document.find("<body")
    end = document.rfind("</body>")
    if start < 0 or end < start:
        return document
    return document[document.index(">", start) + 1 : end].strip()


def _permanent_id(config: Config, specific: str, url: str) -> str:
    """A tag: URI from [site] id_authority; without one, the address (as the feeds do)."""
    authority = config.site.id_authority
    return f"tag:{authority}:{specific}" if authority else url


def _entry(config: Config, issue: ArchivedIssue, cadence_labels: dict[str, str]) -> Post:
    created = issue.created_at.astimezone(config.site.zone)
    label = cadence_labels.get(f"cadence_{issue.cadence}", issue.cadence)
    url = issue_url(config, issue.number)
    return Post(
        source=Path(issue_path(config, issue.number)),
        source_name=issue_path(config, issue.number),
        id=_permanent_id(config, f"{folder(config)}/{issue.number}", url),
        title=issue.subject,
        url=url,
        slug=str(issue.number),
        published=created,
        updated=created,
        date_source=DateSource.FRONT_MATTER,
        categories=(Category(label, issue.cadence),),
        tags=(),
        author="",
        summary=" · ".join(issue.titles),
        content_html=_body(issue.html),
        image=None,
        lang=None,
    )


def feed_spec(config: Config, issues: Sequence[ArchivedIssue]) -> FeedSpec:
    """The feed of past issues, newest first, as many as [feeds] limit."""
    words = i18n.labels(config.site.language, "archive")
    newest = sorted(issues, key=lambda issue: issue.number, reverse=True)[: config.feeds.limit]
    paths = {fmt: f"{folder(config)}/feed.{fmt}" for fmt in config.feeds.formats}
    first = f"{config.site.base_url}/{paths[config.feeds.formats[0]]}"
    return FeedSpec(
        title=words["feed_title"].format(site=config.site.title),
        id=_permanent_id(config, folder(config), first),
        posts=tuple(_entry(config, issue, words) for issue in newest),
        paths=paths,
    )


def _index_page(config: Config, issues: Sequence[ArchivedIssue], spec: FeedSpec) -> bytes:
    from publisher.render.templating import environment, render

    words = i18n.labels(config.site.language, "archive")
    listed = [
        {
            "number": issue.number,
            "label": words["issue"].format(number=issue.number),
            "url": f"{issue.number}/",
            "subject": issue.subject,
            "cadence": words.get(f"cadence_{issue.cadence}", issue.cadence),
            "date": i18n.long_date(
                issue.created_at.astimezone(config.site.zone), config.site.language
            ),
            "datetime": issue.created_at.astimezone(config.site.zone).isoformat(),
        }
        for issue in sorted(issues, key=lambda issue: issue.number, reverse=True)
    ]
    context = {
        "site": config.site,
        "labels": words,
        "lang": i18n.language(config.site.language),
        "issues": listed,
        "feeds": feed_links(config, [spec]),
        "subscribe_url": f"{config.web.base_url}/subscribe" if config.web.base_url else "",
    }
    env = environment(config.paths.templates, html=True)
    return render(env, ARCHIVE_TEMPLATE, context).encode("utf-8")


def archive_files(config: Config, issues: Sequence[ArchivedIssue]) -> dict[str, bytes]:
    """Every file of the archive, by its path under [paths] output."""
    if not folder(config):
        return {}
    files = {issue_path(config, issue.number): issue.html.encode("utf-8") for issue in issues}
    spec = feed_spec(config, issues)
    files[f"{folder(config)}/index.html"] = _index_page(config, issues, spec)
    # An issue is its whole HTML, whatever [feeds] full_content says of posts.
    feed_config = dataclasses.replace(
        config, feeds=dataclasses.replace(config.feeds, full_content=True)
    )
    for fmt in config.feeds.formats:
        files[spec.filename(fmt)] = FEED_FORMATS[fmt].render(feed_config, spec)
    return files
