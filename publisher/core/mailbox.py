"""Mailboxes written in config.toml (`[mail] from`, `reply_to`): one strict parser for all.

A value is read with the email package's RFC 5322 parser and must be exactly one
mailbox with no defects; what would only survive by luck (an unquoted comma or
`@` in the name, two addresses, a domain without a dot) is refused with the reason.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from email.errors import MessageDefect

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_QUOTING_HINT = 'put a name with commas, @ or dots in quotes: "News, Weekly" <news@example.org>'
_PLAIN_ADDRESS = (
    r"[A-Za-z0-9]+(?:[._+-][A-Za-z0-9]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}"
)
PLAINLY_ONE_MAILBOX = re.compile(rf"[^\W_]+(?: [^\W_]+)* <{_PLAIN_ADDRESS}>|{_PLAIN_ADDRESS}")
"""Mailboxes so plain that the parser takes them as they are: words of letters and digits,
then an ASCII address of letters, digits and . _ + - whose domain ends in letters.
`mailbox_problem` needs no parser for these, so loading config.toml does not import the
email package (tests/test_mailbox.py holds the parser to agreeing)."""


@functools.cache
def _registry() -> Any:
    from email.headerregistry import HeaderRegistry

    return HeaderRegistry()


@dataclass(frozen=True)
class Mailbox:
    """A display name and an address, as parsed from a mailbox in the config."""

    name: str
    address: str

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1]


class MailboxError(ValueError):
    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


@functools.lru_cache(maxsize=64)
def parse_mailbox(value: str) -> Mailbox:
    """The one mailbox `value` names; MailboxError with a reason and hint otherwise.

    Cached: a digest asks for the From mailbox's domain once per message, and parsing
    costs about 0.3 ms."""
    if "\n" in value or "\r" in value:
        raise MailboxError("must be one line")
    from email.errors import NonASCIILocalPartDefect, ObsoleteHeaderDefect

    header: Any = _registry()("From", value)  # an AddressHeader; typeshed's stubs disagree
    tolerated = (NonASCIILocalPartDefect, ObsoleteHeaderDefect)  # the latter: 'J. Doe'
    defects = [d for d in header.defects if not isinstance(d, tolerated)]
    if defects or len(header.addresses) != 1:
        raise MailboxError(_describe(defects, len(header.addresses)), _QUOTING_HINT)
    found = header.addresses[0]
    local, domain = found.username, found.domain
    if not local or not domain:
        raise MailboxError("must be an address, like news@example.org")
    if not local.isascii():
        raise MailboxError("the address before @ must be ASCII", "use an ASCII sending address")
    if problem := domain_problem(domain):
        raise MailboxError(f"the domain {domain!r} {problem}")
    return Mailbox(str(found.display_name), f"{local}@{domain}")


def _describe(defects: list[MessageDefect], count: int) -> str:
    if count > 1:
        return f"names {count} addresses; give one"
    if defects:
        return f"is not one valid mailbox ({defects[0]})"
    return "is not a mailbox"


def domain_problem(domain: str) -> str | None:
    """Why `domain` cannot be a mail domain, or None when it can."""
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return "is not a valid domain name"
    labels = ascii_domain.rstrip(".").split(".")
    if len(labels) < 2:
        return "needs a dot, like example.org"
    if not all(_LABEL.match(label) for label in labels):
        return "is not a valid domain name"
    return None


def mailbox_problem(value: str) -> str | None:
    """For config checks: why `value` is not one mailbox, or None when it is."""
    if PLAINLY_ONE_MAILBOX.fullmatch(value):
        return None
    try:
        parse_mailbox(value)
    except MailboxError as e:
        return f"{e.reason}; {e.hint}" if e.hint else e.reason
    return None
