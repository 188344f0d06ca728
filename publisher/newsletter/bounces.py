"""`publisher bounces`: act on what came back by mail.

A hard bounce (5.x.x) makes the reader `bounced`; soft bounces (4.x.x) do once there are
[bounces] soft_bounce_limit of them within soft_bounce_days; a complaint (an ARF report)
or a mailed unsubscribe request makes them `unsubscribed`. Every action is in the
mail_events ledger with the message's date and reason; processing a message twice
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from publisher.core.config import Config
from publisher.core.plural import counted
from publisher.newsletter.addresses import AddressError, parse_address
from publisher.newsletter.bounce_mailbox import open_bounce_mailbox
from publisher.newsletter.bounce_reports import Finding, Report, ReturnAddresses, read_report
from publisher.newsletter.credentials import signing_keys
from publisher.newsletter.message import sender
from publisher.newsletter.subscribers import ledger
from publisher.newsletter.tokens import Keys, read_bounce_token
from publisher.newsletter.verp import bounce_address
from publisher.state.mail_events import MailEvent
from publisher.state.rows import SubscriberRow
from publisher.state.store import Store

_NEW_STATUS = {
    "hard_bounce": "bounced",
    "soft_bounce": "bounced",
    "complaint": "unsubscribed",
    "unsubscribe_request": "unsubscribed",
}
_INACTIVE = ("unsubscribed", "bounced")
LABELS = {
    "hard_bounce": "hard bounce",
    "soft_bounce": "soft bounce",
    "complaint": "complaint",
    "unsubscribe_request": "mailed unsubscribe",
}
"""Each kind of mail event, counted in a summary (singular)."""


@dataclass
class BounceReport:
    read: int = 0
    left_alone: int = 0
    """Not a report or a request: never touched."""
    unmatched: int = 0
    """Reports about nobody on the list (already forgotten, or forged): marked processed."""
    events: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    """New subscriber status → how many readers got it."""

    def summary(self) -> str:
        kinds = ", ".join(  # in LABELS' order, whatever order the messages came in
            counted(self.events[kind], label)
            for kind, label in LABELS.items()
            if kind in self.events
        )
        changed = ", ".join(f"{count} now {status}" for status, count in self.changed.items())
        return (
            f"bounces: read {counted(self.read, 'message')}: {kinds or 'no reports'}"
            f"{'; ' + changed if changed else ''}; {self.unmatched} about nobody on the list, "
            f"{counted(self.left_alone, 'other message')} left alone"
        )


def process_bounces(config: Config, now: datetime) -> BounceReport:
    keys = signing_keys(config, now).ring
    addresses = ReturnAddresses(
        bounce_address(config.mail.bounce_address), sender(config).address.lower()
    )
    report = BounceReport()
    box = open_bounce_mailbox(config)
    try:
        with ledger(config) as store:
            for key, data in box.messages():
                report.read += 1
                found = read_report(data, addresses)
                if found is None:
                    report.left_alone += 1
                    continue
                outcome = _apply(store, config, _Trust(keys, addresses), found, now, report)
                box.processed(key, outcome, now)
    finally:
        box.close()
    return report


@dataclass(frozen=True)
class _Trust:
    """What may name the reader a report is about (see docs/security.md)."""

    keys: Keys
    addresses: ReturnAddresses

    def subscriber(
        self, store: Store, report: Report, finding: Finding
    ) -> tuple[SubscriberRow, int | None] | None:
        """With a bounce address, only a valid VERP token of ours: anyone can write any
        address into a report. Without one, the address a report names, and for bounces
        only when the report comes from a mail system (the null sender, a MAILER-DAEMON)."""
        for token in finding.verp_tokens:
            if (claim := read_bounce_token(self.keys, token)) is not None:
                subscriber = store.subscriber_by_id(claim[1])
                if subscriber is not None:
                    return subscriber, claim[0] or None
        if self.addresses.verp is not None:
            return None
        if finding.kind in ("hard_bounce", "soft_bounce") and not report.from_mail_system:
            return None
        for address in finding.addresses:
            try:
                key = parse_address(address).key
            except AddressError:
                continue
            if (subscriber := store.find_subscriber(key)) is not None:
                return subscriber, None
        return None


def _apply(
    store: Store, config: Config, trust: _Trust, found: Report, now: datetime, report: BounceReport
) -> str:
    outcomes = []
    for finding in found.findings:
        target = trust.subscriber(store, found, finding)
        if target is None:
            report.unmatched += 1
            outcomes.append(f"{finding.kind}: nobody on the list")
            continue
        subscriber, digest_id = target
        action = _act(store, config, subscriber, finding, found.date or now, now)
        event = MailEvent(
            subscriber.id,
            digest_id,
            finding.kind,
            finding.status,
            finding.reason,
            found.message_id,
            found.date or now,
            action,
        )
        if store.record_mail_event(event, now):
            report.events[finding.kind] = report.events.get(finding.kind, 0) + 1
            if action in _INACTIVE:
                store.set_subscriber_status(subscriber.id, action, now)
                report.changed[action] = report.changed.get(action, 0) + 1
        outcomes.append(f"{finding.kind}: {subscriber.email} {action}")
    return "; ".join(outcomes)


def _act(
    store: Store,
    config: Config,
    subscriber: SubscriberRow,
    finding: Finding,
    dated: datetime,
    now: datetime,
) -> str:
    """What this finding does to the reader: the new status, or counted / none."""
    if subscriber.status in _INACTIVE or subscriber.status == "pending":
        return "none"
    if finding.kind == "soft_bounce":
        since = now - timedelta(days=config.bounces.soft_bounce_days)
        earlier = store.soft_bounces_since(subscriber.id, since)
        if dated < since or earlier + 1 < config.bounces.soft_bounce_limit:
            return "counted"
    return _NEW_STATUS[finding.kind]
