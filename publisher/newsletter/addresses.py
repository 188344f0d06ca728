"""Subscriber addresses and names: the only importer of email-validator."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

_HEADER_BREAKING = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


@dataclass(frozen=True)
class Address:
    email: str
    """The address as we send to it: the local part kept, the domain normalised."""
    key: str
    """What two addresses are compared by: the whole address in Unicode NFC, lower-cased.
    Mail systems treat local parts case-insensitively in practice, so `Alice@` and `alice@`
    are one mailbox (and one subscriber)."""
    needs_smtputf8: bool


class AddressError(ValueError):
    pass


def parse_address(raw: str) -> Address:
    """A syntactically valid address, with no DNS lookup; AddressError says why not."""
    if _HEADER_BREAKING.search(raw):
        raise AddressError("contains a line break or control character")
    text = raw.strip()
    if not text:
        raise AddressError("is empty")
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as e:
        raise AddressError(str(e)) from None
    return Address(
        email=f"{result.local_part}@{result.domain}",
        key=address_key(f"{result.local_part}@{result.domain}"),
        needs_smtputf8=bool(result.smtputf8),
    )


def address_key(address: str) -> str:
    """The comparison key of an already valid address (see Address.key)."""
    return unicodedata.normalize("NFC", address).lower()


MAX_NAME_LENGTH = 100


def clean_name(raw: str) -> str:
    """A display name safe for a header: AddressError on line breaks or controls."""
    if _HEADER_BREAKING.search(raw):
        raise AddressError("name contains a line break or control character")
    name = " ".join(raw.split())
    if len(name) > MAX_NAME_LENGTH:
        raise AddressError(f"name is longer than {MAX_NAME_LENGTH} characters")
    return name
