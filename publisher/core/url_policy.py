"""The one URL policy: which URLs we ever write into a feed, a page or an email.

Posts come from many authors, so every URL taken from a post (a link or image
in its body, its `image`, its permalink) passes here before it is emitted. A URL
is allowed when, after being made absolute against the page it appears on, its
scheme is on an allow-list: http and https everywhere, and for links in a
post's body also mailto and tel. `javascript:`, `data:`, `vbscript:`, `file:`
and every other scheme are refused, as is any URL holding a control character
(browsers drop some of them, so "java\\tscript:" would run).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

WEB_SCHEMES = frozenset({"http", "https"})
"""Where a post's own URL, its image and every feed-level URL may point."""
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
"""What a link or image in a post's body may use."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def allowed_url(url: str, base: str = "", *, schemes: frozenset[str] = WEB_SCHEMES) -> str | None:
    """`url` made absolute against `base` (a site-relative path becomes a full URL), or None
    when its scheme is not one of `schemes`, or it is an http(s) URL without a host."""
    value = url.strip()
    if not value or _CONTROL.search(value):
        return None
    absolute = urljoin(base, value) if base else value
    parts = urlsplit(absolute)
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        return None
    if scheme in WEB_SCHEMES and not parts.netloc:
        return None
    return absolute


def web_url(url: str | None) -> str | None:
    """An absolute http(s) URL as it is, else None: the check at every place we emit one."""
    return allowed_url(url) if url else None
