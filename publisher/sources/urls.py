"""URLs and ids of posts: permalinks, slugs, tag: URIs; the only user of python-slugify."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit

_URI_SAFE = "/:@!$&'()*+,;=-._~%?#[]"
PERMALINK_PLACEHOLDERS = (":slug", ":year", ":month", ":day")


def uri(url: str) -> str:
    """Percent-encode what may not stand in a URI (spaces, non-ASCII); keep what is there."""
    return quote(url.strip(), safe=_URI_SAFE)


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
