"""The envelopes of one digest, made as the transport asks for them.

Pending rows are read a page at a time, so memory stays flat in the number of
readers. Each reader's copy is cut from the stored issue by the cut the ledger names
(one message factory per cut), filled with their own values and signed. A reader
whose message cannot be made fails alone, with the reason, and the run goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from publisher.newsletter.issuing import copies_of
from publisher.newsletter.ledger_session import LedgerSession
from publisher.newsletter.message_factory import MessageFactory
from publisher.newsletter.sender import Sender
from publisher.newsletter.transports import Envelope
from publisher.state.store import PendingDelivery, Store


class DigestEnvelopes:
    def __init__(
        self,
        store: Store,
        lock: threading.Lock,
        sender: Sender,
        digest_id: int,
        session: LedgerSession,
    ) -> None:
        self.store = store
        self.lock = lock
        """Guards the store's connection, which the ledger session writes from other threads."""
        self.sender = sender
        self.digest_id = digest_id
        self.session = session
        self.copy = copies_of(sender.config, store, digest_id)
        """Each cut's copy of the issue, by cut number (None: the whole issue)."""
        self.sent_at = store.digest(digest_id).created_at
        self._factories: dict[int | None, MessageFactory] = {}

    def __iter__(self) -> Iterator[Envelope]:
        last = 0
        while True:
            with self.lock:
                page = self.store.pending_deliveries(self.digest_id, after_subscriber=last)
            if not page:
                return
            last = page[-1].subscriber_id
            for delivery in page:
                if (envelope := self._envelope(delivery)) is not None:
                    self.session.envelope_made(envelope)
                    yield envelope

    def _factory(self, cut: int | None) -> MessageFactory:
        """One per cut: each reader's copy differs from their group's only in their values."""
        if cut not in self._factories:
            self._factories[cut] = MessageFactory(
                self.sender.config,
                self.copy(cut),
                digest_number=self.digest_id,
                sent_at=self.sent_at,
            )
        return self._factories[cut]

    def _envelope(self, delivery: PendingDelivery) -> Envelope | None:
        """None when this reader's message cannot be made: they fail, the others go on."""
        try:
            recipient = self.sender.recipient(
                delivery.subscriber_id,
                delivery.email,
                delivery.email_key,
                delivery.name,
                self.digest_id,
            )
            message = self.sender.signed(self._factory(delivery.cut).wire_bytes(recipient))
        except Exception as e:  # anything about one reader's message must not stop the run
            reason = f"{type(e).__name__}: {e}"
            self.session.unbuildable(delivery.subscriber_id, delivery.email, reason)
            return None
        return Envelope(
            key=str(delivery.subscriber_id),
            sender=recipient.return_path,
            recipient=delivery.email,
            message=message,
            filename=f"{delivery.subscriber_id:08d}",
        )
