"""`publisher digest`: mail each active reader the new posts they chose, exactly once.

A run makes one issue per cadence it sends (issuing.py) and a ledger row per
(issue, reader) naming the reader's cut of it. A row is committed as
`sending` before DATA and as `sent` after the server's 250, so a run killed at
any point resumes without a second copy: rows it finds still `sending` are
reported as ambiguous and not resent unless asked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from publisher.build.pipeline import load_posts
from publisher.core.config import Config
from publisher.core.errors import RelayRefused
from publisher.core.models import Post
from publisher.newsletter.archive import publish_issues
from publisher.newsletter.credentials import signing_secret, smtp_password
from publisher.newsletter.digest import RenderedDigest, render_digest
from publisher.newsletter.due import job_name
from publisher.newsletter.headers import message_bytes
from publisher.newsletter.issuing import copies_of, make_issues
from publisher.newsletter.ledger_session import LedgerSession, Progress
from publisher.newsletter.message import (
    TEST_COPY,
    Recipient,
    compose,
    preferences_url,
    preview_html,
    sender,
    unsubscribe_url,
)
from publisher.newsletter.message_factory import MessageFactory
from publisher.newsletter.planning import plan_run, pool
from publisher.newsletter.run_report import DigestReport, DigestRun
from publisher.newsletter.signing import DkimSigner, dkim_signer
from publisher.newsletter.subscribers import ledger
from publisher.newsletter.tokens import bounce_token, preferences_token, unsubscribe_token
from publisher.newsletter.transports import Envelope, Result, Transport, open_transport
from publisher.newsletter.verp import bounce_address
from publisher.outputs.files import write_if_changed
from publisher.state.store import PendingDelivery, Store, reading

PREVIEW_FOLDER = "preview"
TEST_FOLDER = "test"


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

    def recipient(
        self, subscriber_id: int, email: str, email_key: str, name: str, digest_id: int = 0
    ) -> Recipient:
        return Recipient(
            email=email,
            name=name,
            unsubscribe_url=self.unsubscribe_url(subscriber_id, email_key),
            unsubscribe_mailto=f"mailto:{self.envelope_sender(subscriber_id, digest_id)}"
            "?subject=unsubscribe",
            preferences_url=self.preferences_url(subscriber_id, email_key),
        )

    def preferences_url(self, subscriber_id: int, email_key: str) -> str:
        """The reader's preference page; empty when there is no web endpoint to serve it."""
        if not self.config.web.base_url:
            return ""
        token = preferences_token(self.secret, subscriber_id, email_key)
        return preferences_url(self.config, token)

    def envelope_sender(self, subscriber_id: int, digest_id: int) -> str:
        """MAIL FROM (Return-Path): [mail] bounce_address with this reader's token, else From."""
        verp = bounce_address(self.config.mail.bounce_address)
        if verp is None:
            return self.envelope_from
        return verp.address(bounce_token(self.secret, digest_id, subscriber_id))

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
    config = sender.config
    copy = copies_of(config, store, digest_id)
    lock = threading.Lock()
    session = LedgerSession(store, lock, run, now, progress)
    factories: dict[int | None, MessageFactory] = {}

    def messages(cut: int | None) -> MessageFactory:
        """One factory per cut: each reader's copy differs from their group's only in their
        own values."""
        if cut not in factories:
            factories[cut] = MessageFactory(
                config, copy(cut), digest_number=digest_id, sent_at=row.created_at
            )
        return factories[cut]

    def envelopes() -> Iterator[Envelope]:
        """Streamed a page at a time, so memory stays flat in the number of subscribers."""
        last = 0
        while True:
            with lock:
                page = store.pending_deliveries(digest_id, after_subscriber=last)
            if not page:
                return
            last = page[-1].subscriber_id
            for delivery in page:
                envelope = _envelope(delivery)
                if envelope is not None:
                    session.envelope_made(envelope)
                    yield envelope

    def _envelope(delivery: PendingDelivery) -> Envelope | None:
        """None when this reader's message cannot be made: they fail, the others go on."""
        try:
            recipient = sender.recipient(
                delivery.subscriber_id,
                delivery.email,
                delivery.email_key,
                delivery.name,
                digest_id,
            )
            message = sender.signed(messages(delivery.cut).wire_bytes(recipient))
        except Exception as e:  # anything about one reader's message must not stop the run
            session.unbuildable(delivery.subscriber_id, delivery.email, f"{type(e).__name__}: {e}")
            return None
        return Envelope(
            key=str(delivery.subscriber_id),
            sender=sender.envelope_sender(delivery.subscriber_id, digest_id),
            recipient=delivery.email,
            message=message,
            filename=f"{delivery.subscriber_id:08d}",
        )

    folder = digest_folder(config, digest_id)
    if config.mail.transport == "outbox":
        write_if_changed(folder / "preview.html", preview_html(copy(None), config).encode("utf-8"))
    if progress is not None:
        progress.start(store.delivery_counts(digest_id)["pending"])
    transport = transport_for(folder)
    try:
        transport.deliver(
            envelopes(),
            before_data=session.before_data,
            on_result=session.on_result,
            on_held=session.on_held,
            should_stop=should_stop,
        )
    except RelayRefused as e:
        run.relay_error = e
    finally:
        session.finish()
        # Whoever unsubscribed or bounced while this ran was passed over: a skip, not a deferral.
        run.skipped_inactive += store.skip_inactive_pending(digest_id, now)
        run.left_pending = store.delivery_counts(digest_id)["pending"] - run.temporary
    store.finish_digest_if_done(digest_id, now)
    return run


def send_digests(
    config: Config,
    now: datetime,
    *,
    cadences: Sequence[str] | None = None,
    resend_ambiguous: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Progress | None = None,
    transport_for: Callable[[Path], Transport] | None = None,
) -> DigestReport:
    """Finish every unfinished digest, then make and send the issues of `cadences` (default:
    every cadence the site offers) that some reader is due."""
    sender = make_sender(config)
    if transport_for is None:
        password = smtp_password(config) if config.mail.transport == "smtp" else None

        def transport_for(folder: Path) -> Transport:
            return open_transport(config, password, folder)

    wanted = tuple(cadences if cadences is not None else config.digest.cadences)
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
            if should_stop() or report.relay_error:
                break
            report.runs.append(deliver(digest_id, new=False, resend_ambiguous=resend_ambiguous))
        if report.relay_error:
            return report
        if should_stop():
            report.stopped = True
            return report
        made = make_issues(store, config, now=now, cadences=wanted)
        report.note = made.note
        if (published := publish_issues(config, store)) is not None:
            report.archive_warnings = published.warnings
        for digest_id in made.digest_ids:
            if should_stop() or report.relay_error:
                break
            report.runs.append(deliver(digest_id, new=True, resend_ambiguous=False))
        report.stopped = should_stop()
        if not report.stopped and not report.relay_error:
            for cadence in wanted:
                store.record_job_run(job_name(cadence), now)
    return report


def mark_all_sent(config: Config, now: datetime) -> int:
    """Record every published post as already mailed, so the next digest starts from here."""
    site = load_posts(config, now, content_for=lambda _posts: ())
    with ledger(config) as store:
        return store.mark_posts_mailed((post.id for post in site.posts), now)


def _next_digest(config: Config, now: datetime) -> RenderedDigest | None:
    """The whole next issue of the default cadence, as `send_digests` would make it now;
    for a site with nobody to send it to, what a new reader would get."""
    cadence = config.digest.cadences[0]
    chosen: list[list[Post]] = []
    with reading(config.state_db) as store:
        excluded = store.baseline_post_ids() if store else set()
        first = not store.has_mailed_anything() if store else True
        readers = bool(store.subscriber_counts()["active"]) if store else False

        def planned(posts: Sequence[Post]) -> list[Post]:
            if store is not None and readers:
                plan = plan_run(
                    store, config, posts, excluded, now=now, cadences=(cadence,), first=first
                )
                chosen.append(plan.posts)
            else:
                horizon = store.sent_horizon() if store else None
                fresh = pool(posts, excluded, now=now, config=config, first=first, horizon=horizon)
                chosen.append(fresh[: config.digest.max_posts])
            return chosen[-1]

        site = load_posts(config, now, content_for=planned)
    ids = {post.id for post in chosen[-1]}
    posts = [post for post in site.posts if post.id in ids]
    posts.sort(key=lambda post: (-post.published.timestamp(), post.source_name))
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
