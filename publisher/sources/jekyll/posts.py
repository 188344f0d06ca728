"""One Jekyll post read end to end: front matter + defaults, date, URL, id, fields, excerpt.

This is what a Jekyll Source does per file; rendering (Liquid, kramdown) is separate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from publisher.sources.jekyll import fields
from publisher.sources.jekyll.dates import DateError, post_date, read_date
from publisher.sources.jekyll.defaults import apply_defaults, defaults_for
from publisher.sources.jekyll.discovery import EntryRules, PostFile, find_posts, is_published
from publisher.sources.jekyll.discovery import output_ext as output_ext_for
from publisher.sources.jekyll.errors import JekyllInputError, JekyllProblem
from publisher.sources.jekyll.excerpts import Excerpt, excerpt_source
from publisher.sources.jekyll.front_matter import read_front_matter
from publisher.sources.jekyll.permalinks import PostUrlParts, pattern_problem, post_id, post_url
from publisher.sources.jekyll.site_config import SiteConfig

MAX_POST_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class JekyllPost:
    """A post as Jekyll knows it, before rendering."""

    file: PostFile
    data: dict[str, Any]
    body: str
    body_line: int
    date: datetime
    url: str
    id: str
    title: str
    categories: list[str]
    tags: list[str]
    author: fields.Author | None
    image: str | None
    last_modified_at: datetime | None
    excerpt: Excerpt | None
    output_ext: str
    published: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def draft(self) -> bool:
        return self.file.draft


def rules_for(config: SiteConfig) -> EntryRules:
    return EntryRules(exclude=config.exclude, include=config.include)


def _problem(post: PostFile, message: str, line: int = 0) -> JekyllInputError:
    return JekyllInputError([JekyllProblem(post.relative_path, line, message)])


def _read_text(post: PostFile) -> str:
    size = post.path.stat().st_size
    if size > MAX_POST_BYTES:
        raise _problem(post, f"{size} bytes; the limit is {MAX_POST_BYTES}")
    try:
        return post.path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _problem(post, f"not UTF-8 ({error.reason} at byte {error.start})") from error


def _url(config: SiteConfig, post: PostFile, data: dict[str, Any], date: datetime) -> str:
    permalink = data.get("permalink")
    pattern = str(permalink) if permalink else config.posts_permalink
    problem = pattern_problem(pattern)
    if problem:
        raise _problem(post, problem)
    parts = PostUrlParts(
        date=date,
        basename_without_ext=post.basename_without_ext,
        slug=str(data["slug"]) if data.get("slug") else post.slug,
        categories=fields.categories(post.folder_categories, data),
        cleaned_relative_path=post.cleaned_relative_path,
        output_ext=output_ext_for(post.ext, config.markdown_ext),
    )
    return post_url(config.posts_permalink, parts, str(permalink) if permalink else None)


def _last_modified(post: PostFile, value: Any, config: SiteConfig) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return read_date(value, config.zone)
    except DateError as error:
        raise _problem(post, f"`last_modified_at`: {error}") from error


def read_post(config: SiteConfig, post: PostFile, *, now: datetime) -> JekyllPost:
    """Read one post file as Jekyll would; `now` is the build time (`site.time`)."""
    front_matter, body, body_line = read_front_matter(_read_text(post), post.relative_path)
    defaults = defaults_for(config.defaults, post.relative_path, "posts", config.root)
    data = apply_defaults(front_matter, defaults)
    fallback = datetime.fromtimestamp(post.path.stat().st_mtime, UTC) if post.draft else now
    try:
        date = post_date(data.get("date"), post.name_date, config.zone, fallback=fallback)
    except DateError as error:
        raise _problem(post, f"`date`: {error}", 2 if front_matter else 0) from error
    url = _url(config, post, data, date)
    slug = str(data["slug"]) if data.get("slug") else post.slug
    return JekyllPost(
        file=post,
        data=data,
        body=body,
        body_line=body_line,
        date=date,
        url=url,
        id=post_id(url, slug),
        title=fields.title(data, post.slug),
        categories=fields.categories(post.folder_categories, data),
        tags=fields.tags(data),
        author=fields.author(data.get("author")),
        image=fields.image(data.get("image")),
        last_modified_at=_last_modified(post, data.get("last_modified_at"), config),
        excerpt=excerpt_source(data, body, config.excerpt_separator),
        output_ext=output_ext_for(post.ext, config.markdown_ext),
        published=is_published(
            data, date, now=now, future=config.future, unpublished=config.unpublished
        ),
    )


def read_posts(
    config: SiteConfig, *, now: datetime, drafts: bool = False
) -> tuple[list[JekyllPost], list[JekyllProblem]]:
    """Every published post (and draft when asked), plus every problem found on the way."""
    posts: list[JekyllPost] = []
    problems: list[JekyllProblem] = []
    for post_file in find_posts(config.root, rules_for(config), drafts=drafts):
        try:
            post = read_post(config, post_file, now=now)
        except JekyllInputError as error:
            problems.extend(error.problems)
            continue
        if post.published:
            posts.append(post)
    return posts, problems
