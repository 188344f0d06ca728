"""What `publisher check` notes about mail: links nothing answers, a missing postal
contact, a secret with no backup, whether the relay takes non-ASCII addresses, a
bounce mailbox that is not there, and an archive the web endpoint's path covers."""

from __future__ import annotations

import dataclasses

from publisher.core.config import Config
from publisher.core.errors import PublisherError
from publisher.newsletter.credentials import secret_backup_note, smtp_password
from publisher.newsletter.message import unsubscribe_url


def mail_notes(config: Config) -> list[str]:
    notes = [note for note in (_unsubscribe_note(config), _contact_note(config)) if note]
    if (backup := secret_backup_note(config)) is not None:
        notes.append(backup)
    if config.mail.transport == "smtp":
        notes.append(_smtputf8_note(config))
    if (mailbox := _bounce_mailbox_note(config)) is not None:
        notes.append(mailbox)
    if (archive := _hidden_archive_note(config)) is not None:
        notes.append(archive)
    return notes


def _hidden_archive_note(config: Config) -> str | None:
    from publisher.outputs.archive import index_url

    archive, endpoint = index_url(config), config.web.base_url.rstrip("/")
    if not archive or not endpoint or not archive.startswith(endpoint + "/"):
        return None
    return (
        f"the newsletter archive ({archive}) is under [web] base_url ({endpoint}): a proxy "
        "that sends all of that path to `publisher serve` hides it (serve answers the "
        'archive\'s pages and every "view in browser" link with 404); proxy only the '
        "endpoint's routes (see the web endpoint docs), or set [digest] archive to another "
        "folder"
    )


def _bounce_mailbox_note(config: Config) -> str | None:
    from publisher.newsletter.bounce_mailbox import local_mailbox_problem

    if not config.bounces.configured or (problem := local_mailbox_problem(config)) is None:
        return None
    return (
        f"{problem.message}: `publisher bounces` fails, and `run` and `schedule` send digests "
        f"without reading bounces, until it is there ({problem.hint})"
    )


def _unsubscribe_note(config: Config) -> str | None:
    link = unsubscribe_url(config, "TOKEN")
    if not config.web.base_url:
        return (
            f"digests' unsubscribe link is {link}, which nothing here answers: set [web] "
            "base_url and run `publisher serve` there (or set [digest] unsubscribe_url to a "
            "page of yours that accepts the RFC 8058 one-click POST)"
        )
    if not link.startswith(f"{config.web.base_url}/unsubscribe?"):
        return (
            f"[digest] unsubscribe_url ({link}) is not `publisher serve`'s {config.web.base_url}"
            "/unsubscribe: make sure it answers, including the RFC 8058 one-click POST"
        )
    return None


def _contact_note(config: Config) -> str | None:
    if config.mail.contact:
        return None
    return (
        "[mail] contact is empty: Gmail, Yahoo and CAN-SPAM expect the sender's postal "
        "address in every bulk message; it is printed in the digest footer"
    )


def _smtputf8_note(config: Config) -> str:
    from publisher.newsletter.smtp import SmtpTransport, offers_smtputf8

    settings = dataclasses.replace(config.smtp, timeout=min(config.smtp.timeout, 5.0))
    try:
        answer = offers_smtputf8(SmtpTransport(settings, smtp_password(config)))
    except PublisherError as e:
        answer = e.message
    if answer is True:
        return f"the relay {settings.host} offers SMTPUTF8: non-ASCII local parts can be sent"
    if answer is False:
        return (
            f"the relay {settings.host} does not offer SMTPUTF8: subscribers whose address has "
            "a non-ASCII local part will fail (each with that reason)"
        )
    return f"could not ask the relay whether it offers SMTPUTF8: {answer}"
