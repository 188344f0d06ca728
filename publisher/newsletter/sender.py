"""What every message of a run shares: who sends it, how it is signed, and each reader's
own links and envelope sender."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from publisher.core.config import Config
from publisher.newsletter.credentials import signing_secret
from publisher.newsletter.digest import RenderedDigest
from publisher.newsletter.headers import message_bytes
from publisher.newsletter.message import Recipient, compose, preferences_url, unsubscribe_url
from publisher.newsletter.message import sender as from_mailbox
from publisher.newsletter.signing import DkimSigner, dkim_signer
from publisher.newsletter.tokens import bounce_token, preferences_token, unsubscribe_token
from publisher.newsletter.verp import BounceAddress, bounce_address


@dataclass(frozen=True)
class Sender:
    config: Config
    secret: bytes
    envelope_from: str
    """The From address: the envelope sender when there is no bounce address."""
    signer: DkimSigner | None
    verp: BounceAddress | None

    def recipient(
        self, subscriber_id: int, email: str, email_key: str, name: str, digest_id: int = 0
    ) -> Recipient:
        """A reader's own values: their links, and the envelope sender (VERP) that
        List-Unsubscribe's mailto: shares, made once."""
        return_path = self.envelope_sender(subscriber_id, digest_id)
        return Recipient(
            email=email,
            name=name,
            unsubscribe_url=self.unsubscribe_url(subscriber_id, email_key),
            unsubscribe_mailto=f"mailto:{return_path}?subject=unsubscribe",
            preferences_url=self.preferences_url(subscriber_id, email_key),
            return_path=return_path,
        )

    def unsubscribe_url(self, subscriber_id: int, email_key: str) -> str:
        return unsubscribe_url(
            self.config, unsubscribe_token(self.secret, subscriber_id, email_key)
        )

    def preferences_url(self, subscriber_id: int, email_key: str) -> str:
        """The reader's preference page; empty when there is no web endpoint to serve it."""
        if not self.config.web.base_url:
            return ""
        token = preferences_token(self.secret, subscriber_id, email_key)
        return preferences_url(self.config, token)

    def envelope_sender(self, subscriber_id: int, digest_id: int) -> str:
        """MAIL FROM (Return-Path): [mail] bounce_address with this reader's token, else From."""
        if self.verp is None:
            return self.envelope_from
        return self.verp.address(bounce_token(self.secret, digest_id, subscriber_id))

    def wire_bytes(
        self, rendered: RenderedDigest, recipient: Recipient, number: int, sent_at: datetime
    ) -> bytes:
        message = compose(self.config, rendered, recipient, digest_number=number, sent_at=sent_at)
        return self.signed(message_bytes(message))

    def signed(self, data: bytes) -> bytes:
        """`data` with a DKIM signature when [digest] asks for one."""
        return self.signer.sign(data) if self.signer is not None else data


def make_sender(config: Config) -> Sender:
    origin = from_mailbox(config)
    signer = dkim_signer(config, origin.domain)
    verp = bounce_address(config.mail.bounce_address)
    return Sender(config, signing_secret(config), origin.address, signer, verp)
