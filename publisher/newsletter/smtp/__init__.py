"""The SMTP transport, the only home of smtplib: `transport.py` opens and shares the
connections, `session.py` runs one message's transaction on one of them, `replies.py`
holds what both know about a relay's answers, and `relay_failures.py` tells a refusal
of the whole relay from a refusal of one reader."""

from publisher.newsletter.smtp.transport import LOCAL_HOSTS, SmtpTransport, offers_smtputf8

__all__ = ["LOCAL_HOSTS", "SmtpTransport", "offers_smtputf8"]
