"""`publisher digest`: mail new posts to every active subscriber exactly once.

The ledger holds one row per (digest, subscriber). A row is committed as
`sending` before DATA and as `sent` after the server's 250, so a run killed at
any point resumes without a second copy: rows it finds still `sending` are
reported as ambiguous and not resent unless asked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Protocol

from publisher.build.pipeline import load_posts
from publisher.core.config import Config
from publisher.core.errors import ExitCode
from publisher.core.models import Post
from publisher.newsletter.credentials import signing_secret, smtp_password
from publisher.newsletter.digest import RenderedDigest, render_digest
from publisher.newsletter.due import DIGEST_JOB
from publisher.newsletter.headers import message_bytes
from publisher.newsletter.message import (
    TEST_COPY,
    Recipient,
    compose,
    preview_html,
    sender,
    unsubscribe_url,
)
from publisher.newsletter.message_factory import MessageFactory
from publisher.newsletter.selection import archive, select_posts
from publisher.newsletter.signing import DkimSigner, dkim_signer
from publisher.newsletter.subscribers import ledger
from publisher.newsletter.tokens import unsubscribe_token
from publisher.newsletter.transports import (
    Envelope,
    Outcome,
    Result,
    Transport,
    is_no_such_user,
    open_transport,
)
from publisher.outputs.files import write_if_changed
from publisher.state.store import PendingDelivery, Store, reading

PREVIEW_FOLDER = "preview"
TEST_FOLDER = "test"


@dataclass
class DigestRun:
    digest_id: int
    new: bool
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    temporary: int = 0
    ambiguous: int = 0
    interrupted: int = 0
    """Rows a previous run left `sending`: now ambiguous, not resent."""
    skipped_inactive: int = 0
    """Pending rows of people who unsubscribed or bounced since the digest was made."""
    left_pending: int = 0
    """Rows still pending when the run ended (relay unreachable, or asked to stop)."""


@dataclass
class DigestReport:
    runs: list[DigestRun] = field(default_factory=list)
    note: str = ""

    stopped: bool = False
    """Asked to stop (SIGTERM/SIGINT): what is left waits for the next run, by design."""

    @property
    def lost(self) -> bool:
        """Some recipient failed for good, or may or may not have the message."""
        return any(r.failed or r.ambiguous or r.interrupted for r in self.runs)

    @property
    def deferred(self) -> bool:
        """Some recipient waits for the next run because the relay said "later" or was down."""
        return any(r.temporary or (r.left_pending and not self.stopped) for r in self.runs)

    @property
    def partial(self) -> bool:
        return self.lost or self.deferred

    @property
    def exit_code(self) -> ExitCode:
        if self.lost:
            return ExitCode.PARTIAL
        return ExitCode.TEMPFAIL if self.deferred else ExitCode.OK

    def summary(self) -> str:
        if not self.runs:
            return self.note or "nothing to send"
        parts = []
        for run in self.runs:
            text = (
                f"digest {run.digest_id}{' (new)' if run.new else ' (resumed)'}: "
                f"{run.sent} sent, {run.failed} failed, {run.temporary} deferred, "
                f"{run.ambiguous + run.interrupted} ambiguous"
            )
            if run.bounced:
                text += f", {run.bounced} bounced"
            if run.skipped_inactive:
                text += f", {run.skipped_inactive} skipped (no longer subscribed)"
            if run.left_pending:
                text += f", {run.left_pending} left for the next run"
            parts.append(text)
        if self.note:
            parts.append(self.note)
        if self.stopped:
            parts.append("stopped on request; the rest goes out on the next run")
        return "; ".join(parts)


class Progress(Protocol):
    """Told how many messages a digest run will try, then of each result."""

    def start(self, total: int) -> None: ...

    def advance(self, result: Result) -> None: ...


@dataclass(frozen=True)
class Sender:
    """What every message of a run shares: identity, signing and links."""

    config: Config
    secret: bytes
    envelope_from: str
    signer: DkimSigner | None

    def unsubscribe_url(self, subscriber_id: int, email_key: str) -> str:
        return unsubscribe_url(
            self.config, unsubscribe_token(self.secret, subscriber_id, email_key)
        )

    def recipient(self, subscriber_id: int, email: str, email_key: str, name: str) -> Recipient:
        return Recipient(
            email=email,
            name=name,
            unsubscribe_url=self.unsubscribe_url(subscriber_id, email_key),
            unsubscribe_mailto=f"mailto:{self.envelope_from}?subject=unsubscribe",
        )

    def wire_bytes(
        self, rendered: RenderedDigest, recipient: Recipient, number: int, sent_at: datetime
    ) -> bytes:
        message = compose(self.config, rendered, recipient, digest_number=number, sent_at=sent_at)
        return self.signed(message_bytes(message))

    def signed(self, data: bytes) -> bytes:
        """`data` with a DKIM signature when [digest] asks for one."""
        return self.signer.sign(data) if self.signer is not None else data


def make_sender(config: Config) -> Sender:
    origin = sender(config)
    signer = dkim_signer(config, origin.domain)
    return Sender(config, signing_secret(config), origin.address, signer)


def _stored_digest(store: Store, digest_id: int) -> RenderedDigest:
    row = store.digest(digest_id)
    return RenderedDigest(
        subject=row.subject, html=row.html, text=row.text, post_ids=store.digest_post_ids(digest_id)
    )


def digest_folder(config: Config, digest_id: int) -> Path:
    return config.paths.outbox / f"digest-{digest_id:05d}"


def _deliver(
    store: Store,
    sender: Sender,
    transport_for: Callable[[Path], Transport],
    digest_id: int,
    *,
    now: datetime,
    new: bool,
    resend_ambiguous: bool,
    should_stop: Callable[[], bool],
    progress: Progress | None,
) -> DigestRun:
    run = DigestRun(digest_id, new)
    run.interrupted = store.mark_interrupted_ambiguous(digest_id, now)
    if resend_ambiguous:
        store.requeue_ambiguous(digest_id, now)
        run.interrupted = 0
    run.skipped_inactive = store.skip_inactive_pending(digest_id, now)
    row = store.digest(digest_id)
    rendered = _stored_digest(store, digest_id)
    config = sender.config
    lock = threading.Lock()

    def envelopes() -> Iterator[Envelope]:
        """Streamed a page at a time, so memory stays flat in the number of subscribers."""
        last = 0
        while True:
            with lock:
                page = store.pending_deliveries(digest_id, after_subscriber=last)
            if not page:
                return
            last = page[-1].subscriber_id
            yield from (_envelope(delivery) for delivery in page)

    messages = MessageFactory(config, rendered, digest_number=digest_id, sent_at=row.created_at)

    def _envelope(delivery: PendingDelivery) -> Envelope:
        recipient = sender.recipient(
            delivery.subscriber_id, delivery.email, delivery.email_key, delivery.name
        )
        return Envelope(
            key=str(delivery.subscriber_id),
            sender=sender.envelope_from,
            recipient=delivery.email,
            message=sender.signed(messages.wire_bytes(recipient)),
            filename=f"{delivery.subscriber_id:08d}",
        )

    def before_data(envelope: Envelope) -> None:
        with lock:
            store.mark_sending(digest_id, int(envelope.key), now)

    def on_result(result: Result) -> None:
        subscriber_id = int(result.key)
        with lock:
            if result.outcome is Outcome.SENT:
                status = "sent"
                run.sent += 1
            elif result.outcome is Outcome.TEMPORARY:
                status = "pending"
                run.temporary += 1
            elif result.outcome is Outcome.AMBIGUOUS:
                status = "ambiguous"
                run.ambiguous += 1
            else:
                status = "failed"
                run.failed += 1
                if is_no_such_user(result):
                    store.set_subscriber_status(subscriber_id, "bounced", now)
                    run.bounced += 1
            store.mark_delivery(digest_id, subscriber_id, status, result.code, result.text, now)
        if progress is not None:
            progress.advance(result)

    folder = digest_folder(config, digest_id)
    if config.mail.transport == "outbox":
        write_if_changed(folder / "preview.html", preview_html(rendered, config).encode("utf-8"))
    if progress is not None:
        progress.start(store.delivery_counts(digest_id)["pending"])
    transport = transport_for(folder)
    transport.deliver(
        envelopes(), before_data=before_data, on_result=on_result, should_stop=should_stop
    )
    run.left_pending = store.delivery_counts(digest_id)["pending"] - run.temporary
    store.finish_digest_if_done(digest_id, now)
    return run


def send_digests(
    config: Config,
    now: datetime,
    *,
    resend_ambiguous: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Progress | None = None,
    transport_for: Callable[[Path], Transport] | None = None,
) -> DigestReport:
    """Finish every unfinished digest, then send a new one if there are new posts."""
    sender = make_sender(config)
    if transport_for is None:
        password = smtp_password(config) if config.mail.transport == "smtp" else None

        def transport_for(folder: Path) -> Transport:
            return open_transport(config, password, folder)

    report = DigestReport()
    with ledger(config) as store:
        deliver = partial(
            _deliver,
            store,
            sender,
            transport_for,
            now=now,
            should_stop=should_stop,
            progress=progress,
        )
        if resend_ambiguous:  # also in digests finished with ambiguous rows
            for digest_id in store.digests_with_ambiguous():
                store.requeue_ambiguous(digest_id, now)
        for digest_id in store.unfinished_digest_ids():
            if should_stop():
                break
            report.runs.append(deliver(digest_id, new=False, resend_ambiguous=resend_ambiguous))
        if should_stop():
            report.stopped = True
            return report
        first_digest = not store.has_mailed_anything()
        mailed = store.mailed_post_ids()

        def new_posts(posts: Sequence[Post]) -> list[Post]:
            return select_posts(posts, mailed, first_digest=first_digest, now=now, config=config)

        site = load_posts(config, now, content_for=new_posts)  # renders only what is mailed
        posts = new_posts(site.posts)
        if not posts:
            report.note = "no new posts since the last digest; nothing sent"
        elif store.subscriber_counts()["active"] == 0:
            report.note = f"{len(posts)} new posts but no active subscribers; nothing sent"
        else:
            rendered = render_digest(config, posts, now=now)
            if first_digest:
                store.mark_posts_mailed(
                    (p.id for p in archive(site.posts, now=now, config=config)), now
                )
            digest_id = store.create_digest(
                now, rendered.subject, rendered.html, rendered.text, rendered.post_ids
            )
            report.runs.append(deliver(digest_id, new=True, resend_ambiguous=False))
        report.stopped = should_stop()
        if not report.stopped:
            store.record_job_run(DIGEST_JOB, now)
    return report


def mark_all_sent(config: Config, now: datetime) -> int:
    """Record every published post as already mailed, so the next digest starts from here."""
    site = load_posts(config, now, content_for=lambda _posts: ())
    with ledger(config) as store:
        return store.mark_posts_mailed((post.id for post in site.posts), now)


def _next_digest(config: Config, now: datetime) -> RenderedDigest | None:
    with reading(config.state_db) as store:
        mailed = store.mailed_post_ids() if store else set()
        first = not store.has_mailed_anything() if store else True

    def new_posts(posts: Sequence[Post]) -> list[Post]:
        return select_posts(posts, mailed, first_digest=first, now=now, config=config)

    posts = new_posts(load_posts(config, now, content_for=new_posts).posts)
    return render_digest(config, posts, now=now) if posts else None


SAMPLE_RECIPIENT_ID = 0


def preview_digest(config: Config, now: datetime) -> Path | None:
    """Render the next digest into outbox/preview/ (HTML and .eml); records nothing."""
    rendered = _next_digest(config, now)
    if rendered is None:
        return None
    sender = make_sender(config)
    recipient = sender.recipient(
        SAMPLE_RECIPIENT_ID, "subscriber@example.org", "subscriber@example.org", ""
    )
    folder = config.paths.outbox / PREVIEW_FOLDER
    write_if_changed(folder / "preview.html", preview_html(rendered, config).encode("utf-8"))
    write_if_changed(folder / "preview.eml", sender.wire_bytes(rendered, recipient, TEST_COPY, now))
    return folder


def send_test_copy(
    config: Config,
    now: datetime,
    email: str,
    *,
    transport_for: Callable[[Path], Transport] | None = None,
) -> Result | None:
    """Send the next digest to one address through the configured transport; records nothing."""
    from publisher.newsletter.addresses import parse_address

    rendered = _next_digest(config, now)
    if rendered is None:
        return None
    address = parse_address(email)
    sender = make_sender(config)
    recipient = sender.recipient(SAMPLE_RECIPIENT_ID, address.email, address.key, "")
    data = sender.wire_bytes(rendered, recipient, TEST_COPY, now)
    folder = config.paths.outbox / TEST_FOLDER
    if transport_for is None:
        password = smtp_password(config) if config.mail.transport == "smtp" else None
        transport = open_transport(config, password, folder)
    else:
        transport = transport_for(folder)
    results: list[Result] = []
    transport.deliver(
        [Envelope("test", sender.envelope_from, address.email, data, "test")],
        before_data=lambda _envelope: None,
        on_result=results.append,
    )
    return results[0] if results else None
