"""`publisher digest`: mail each active reader the new posts they chose, exactly once.

A run makes one issue per cadence it sends (issuing.py) and a ledger row per
(issue, reader) naming the reader's cut of it. A row is committed as
`sending` just before the final dot of DATA (the moment from which the relay
may keep the message) and as `sent` after the server's 250, so a run killed at
any point resumes without a second copy: rows it finds still `sending` are
reported as ambiguous and not resent unless asked; a row killed before its dot
is still `pending` and goes out once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path

from publisher.build.pipeline import load_posts
from publisher.core.config import Config
from publisher.core.errors import RelayRefused
from publisher.core.models import Post
from publisher.newsletter.archive import publish_issues
from publisher.newsletter.digest import RenderedDigest, render_digest
from publisher.newsletter.digest_envelopes import DigestEnvelopes
from publisher.newsletter.due import job_name
from publisher.newsletter.issuing import make_issues
from publisher.newsletter.ledger_session import LedgerSession, Progress
from publisher.newsletter.message import TEST_COPY, preview_html
from publisher.newsletter.planning import plan_run, pool
from publisher.newsletter.run_report import DigestReport, DigestRun
from publisher.newsletter.sender import Sender, make_sender
from publisher.newsletter.subscribers import ledger
from publisher.newsletter.transports import Envelope, Result, Transport, configured_transports
from publisher.outputs.files import write_if_changed
from publisher.state.store import Store, reading

PREVIEW_FOLDER = "preview"
TEST_FOLDER = "test"


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
    _take_over(store, run, now, resend_ambiguous)
    lock = threading.Lock()
    session = LedgerSession(store, lock, run, now, progress)
    envelopes = DigestEnvelopes(store, lock, sender, digest_id, session)
    folder = digest_folder(sender.config, digest_id)
    if sender.config.mail.transport == "outbox":
        preview = preview_html(envelopes.copy(None), sender.config)
        write_if_changed(folder / "preview.html", preview.encode("utf-8"))
    if progress is not None:
        progress.start(store.delivery_counts(digest_id)["pending"])
    try:
        transport_for(folder).deliver(
            envelopes,
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


def _take_over(store: Store, run: DigestRun, now: datetime, resend_ambiguous: bool) -> None:
    """What an earlier run left: rows still `sending` (it died after their final dot) become
    ambiguous, or go again when asked; rows of readers no longer active are skipped."""
    digest_id = run.digest_id
    run.interrupted = store.mark_interrupted_ambiguous(digest_id, now)
    if resend_ambiguous:
        store.requeue_ambiguous(digest_id, now)
        run.interrupted = 0
    run.skipped_inactive = store.skip_inactive_pending(digest_id, now)


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
    transport_for = transport_for or configured_transports(config)
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
    posts.sort(
        key=lambda post: (-post.arrived.timestamp(), -post.published.timestamp(), post.source_name)
    )
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
    transport = (transport_for or configured_transports(config))(config.paths.outbox / TEST_FOLDER)
    results: list[Result] = []
    transport.deliver(
        [Envelope("test", sender.envelope_from, address.email, data, "test")],
        before_data=lambda _envelope: None,
        on_result=results.append,
    )
    return results[0] if results else None
