"""URLs and ids of posts: permalinks, slugs, tag: URIs; the only user of python-slugify."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

_URI_SAFE = "/:@!$&'()*+,;=-._~%?#[]"
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def uri(url: str) -> str:
    """Percent-encode what may not stand in a URI (spaces, non-ASCII); keep what is there."""
    return quote(url.strip(), safe=_URI_SAFE)


def site_base_url(url: str, path: str = "", *, lower_host: bool = False) -> str:
    """A site's base URL as its generator writes it in links and ids: `url` and `path`
    (Jekyll's `url` and `baseurl`, with or without slashes; Hugo's baseURL alone) joined by
    one slash, the path percent-encoded where a URI needs it (spaces, non-ASCII; escapes
    already there kept), without a trailing slash. Jekyll (through Addressable) also
    lower-cases the host: `lower_host`."""
    parts = urlsplit(url.strip())
    joined = "/".join(part for part in (parts.path.strip("/"), path.strip().strip("/")) if part)
    encoded = _LONE_PERCENT.sub("%25", quote(joined, safe=_PATH_SAFE))
    host = parts.netloc.lower() if lower_host else parts.netloc
    return urlunsplit((parts.scheme, host, f"/{encoded}" if encoded else "", "", ""))


def slug(text: str, *, allow_unicode: bool = True) -> str:
    from slugify import slugify  # imported when a post is parsed, not on every build

    return str(slugify(text, allow_unicode=allow_unicode))


@lru_cache(maxsize=4096)
def category_slug(name: str) -> str:
    """A folder name for the category's feeds; never '.' or '..', which would escape it."""
    return slug(name) or quote(name, safe="").replace(".", "%2E")


def expand_permalink(pattern: str, post_slug: str, published: datetime) -> str:
    return (
        pattern.replace(":slug", quote(post_slug))
        .replace(":year", f"{published.year:04d}")
        .replace(":month", f"{published.month:02d}")
        .replace(":day", f"{published.day:02d}")
    )


def tag_uri(authority: str, source_name: str) -> str:
    """RFC 4151 id from the file's place under content/, without its suffix."""
    specific = quote(source_name.rsplit(".", 1)[0], safe="/-._~!$&'()*+,;=:@")
    return f"tag:{authority}:{specific}"


@lru_cache(maxsize=64)
def _origin(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}/"


@lru_cache(maxsize=4096)
def _from_origin(path: str, origin: str) -> str:
    return urljoin(origin, path.strip())


def absolute(url: str, page_url: str, base_url: str) -> str:
    """`url` made absolute against `page_url`, remembered for a path from the root of the site's
    host (like /assets/a.png), where the result depends only on that host."""
    origin, url = _origin(base_url), url.strip()
    if page_url.startswith(origin) and url.startswith("/") and not url.startswith("//"):
        return _from_origin(url, origin)
    return urljoin(page_url, url)
