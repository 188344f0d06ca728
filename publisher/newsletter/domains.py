"""Internationalised domain names: the only importer of idna (IDNA 2008, UTS #46).

Python's built-in "idna" codec is IDNA 2003, which maps `faß.de` to `fass.de`,
another domain. Every domain we write in a header or an envelope goes through here.
"""

from __future__ import annotations

import idna


class DomainError(ValueError):
    pass


def ascii_domain(domain: str) -> str:
    """The A-label form of `domain` (IDNA 2008 with UTS #46 mapping); ASCII passes through."""
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as e:
        raise DomainError(f"{domain!r} is not a valid internationalised domain: {e}") from None
