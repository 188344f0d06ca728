"""VERP bounce addresses: [mail] bounce_address with a signed token in its local part.

One `BounceAddress`, made from the configured template, both writes each message's
envelope sender (and List-Unsubscribe's mailto:) and finds those addresses in what
comes back, whatever the template's shape (`bounces+{token}@…`, `bounces-{token}@…`,
`{token}@bounces.…`): the reader can never look for another shape than the writer wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CLAIM = r"d\d{1,12}-s\d{1,12}-[0-9a-f]{16}"
"""What tokens.bounce_token makes."""
_LOCAL_CHARACTER = r"A-Za-z0-9._+=-"


@dataclass(frozen=True)
class BounceAddress:
    template: str
    """Holds {token} once, in its local part (core/checks.py checks that)."""
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        before, _, after = self.template.partition("{token}")
        pattern = (
            rf"(?<![{_LOCAL_CHARACTER}]){re.escape(before)}({_CLAIM}){re.escape(after)}"
            r"(?![A-Za-z0-9.-])"
        )
        # Some mail systems lower-case a bounce's recipient; domains ignore case anyway.
        object.__setattr__(self, "_pattern", re.compile(pattern, re.IGNORECASE))

    def address(self, token: str) -> str:
        return self.template.replace("{token}", token)

    def tokens_in(self, text: str) -> tuple[str, ...]:
        """Every token of an address of this shape in `text`, lower case, each once."""
        return tuple(dict.fromkeys(token.lower() for token in self._pattern.findall(text)))


def bounce_address(template: str) -> BounceAddress | None:
    """The configured bounce address, or None when [mail] bounce_address is empty."""
    return BounceAddress(template) if template else None
