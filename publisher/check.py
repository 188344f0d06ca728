"""`publisher check`: validate config, content and templates, for feeds and for mail;
write nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from publisher.build.pipeline import fallback_date_warnings, load_posts, render_site
from publisher.core.config import Config
from publisher.core.errors import Problem, PublisherError, many
from publisher.newsletter.credentials import check_signing_secret, smtp_password
from publisher.newsletter.digest import render_digest
from publisher.newsletter.mail_checks import mail_notes
from publisher.newsletter.message import sender
from publisher.newsletter.selection import select_posts
from publisher.newsletter.signing import dkim_signer
from publisher.newsletter.smtp import SmtpTransport
from publisher.sources.base import LoadedSite
from publisher.state.store import reading


@dataclass(frozen=True)
class CheckReport:
    site: LoadedSite
    warnings: tuple[str, ...]
    """Posts whose date is a fallback."""
    source_warnings: tuple[str, ...] = ()
    """What the source could not render (an unknown Liquid tag, a site shortcode, ...)."""
    notes: tuple[str, ...] = ()
    """What is not an error yet but will stop a digest."""


def check(config: Config, now: datetime) -> CheckReport:
    site = load_posts(config, now)
    render_site(config, site)  # templates and feeds must render too
    problems: list[Problem] = []

    def attempt(where: str, step: Callable[[], object]) -> None:
        try:
            step()
        except PublisherError as e:
            problems.append(Problem(where, e.message, e.hint))

    notes: list[str] = []
    if not config.mail.sender and not _has_subscribers(config):
        notes.append("[mail] from is not set: digests cannot be sent until it is")
    else:
        attempt("[mail] from", lambda: sender(config))
    domain = config.mail.sender.rpartition("@")[2].rstrip(">") or "example.org"
    attempt("[digest] DKIM", lambda: dkim_signer(config, domain))
    attempt("[digest] secret", lambda: check_signing_secret(config))
    if site.posts:
        newest = select_posts(site.posts, (), first_digest=False, now=now, config=config)
        attempt("templates/email", lambda: render_digest(config, newest, now=now))
    if config.mail.transport == "smtp":
        attempt("[smtp]", lambda: SmtpTransport(config.smtp, smtp_password(config)))
    if problems:
        raise many(PublisherError, "the newsletter cannot be sent as configured", problems)
    notes += mail_notes(config)
    fallbacks = fallback_date_warnings(site, filename_dates=config.source.kind == "folder")
    return CheckReport(site, fallbacks, notes=tuple(notes), source_warnings=site.warnings)


def _has_subscribers(config: Config) -> bool:
    with reading(config.state_db) as store:
        if store is None:
            return False
        return any(store.subscriber_counts().values())
