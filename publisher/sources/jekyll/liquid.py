"""Liquid as Jekyll renders it, through python-liquid (its only home in publisher).

Jekyll's objects (`site.*`, `page.*`), tags (`include` with parameters from `_includes/`,
`link`, `post_url`, `highlight`) and filters (see liquid_filters.py) on top of standard
Liquid. Rendering is bounded (loop iterations, output size, include depth). Whatever
cannot be rendered (an unknown tag, a missing include or post) is dropped from the
output and reported as a warning with the template's name and line, so no `{% %}` or
`{{ }}` text of ours reaches a reader; an unknown filter passes its value on, as in Jekyll.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, ClassVar, TextIO

from liquid import BoundTemplate, Environment, Mode, RenderContext, Tag
from liquid.ast import BlockNode, Node
from liquid.exceptions import LiquidError, ResourceLimitError
from liquid.parser import get_parser
from liquid.stream import TokenStream
from liquid.token import TOKEN_EOF, TOKEN_EXPRESSION, TOKEN_TAG, Token

from publisher.sources.jekyll.liquid_filters import JEKYLL_FILTERS, SITE_GLOBAL, FilterSite
from publisher.sources.jekyll.permalinks import relative_url

INCLUDE_PARAM = re.compile(r"([\w-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([\w.\[\]-]+))")
MAX_INCLUDE_BYTES = 512 * 1024


@dataclass(frozen=True)
class LiquidWarning:
    """Something in a template we could not render; its output was dropped."""

    template: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.template}:{self.line}: {self.message}"


@dataclass(frozen=True)
class JekyllSite:
    """What the caller tells the renderer about the site."""

    config: Mapping[str, Any]
    url: str
    baseurl: str
    filters: FilterSite
    includes_dir: Path | None = None
    post_url: Callable[[str], str | None] = lambda _name: None
    link: Callable[[str], str | None] = lambda _path: None
    posts: list[Mapping[str, Any]] = field(default_factory=list)


class UnrenderableError(LiquidError):
    """A Jekyll tag whose target is missing (include file, post, linked document)."""


class JekyllEnvironment(Environment):
    """python-liquid with Jekyll's extras, limits, and warnings instead of failures."""

    loop_iteration_limit: ClassVar[int | None] = 100_000
    output_stream_limit: ClassVar[int | None] = 8 * 1024 * 1024
    context_depth_limit: ClassVar[int] = 30
    local_namespace_limit: ClassVar[int | None] = 8 * 1024 * 1024

    def __init__(self, site: JekyllSite) -> None:
        super().__init__(tolerance=Mode.LAX, strict_filters=False)  # as Jekyll: passed on
        self.site = site
        self.collected: list[LiquidWarning] = []
        self.include_cache: dict[str, BoundTemplate] = {}
        for tag in (IncludeTag, LinkTag, PostUrlTag, HighlightTag):
            self.add_tag(tag)
        for name, function in JEKYLL_FILTERS.items():
            self.add_filter(name, function)

    def error(
        self,
        exc: type[LiquidError] | LiquidError,
        msg: str | None = None,
        token: Token | None = None,
    ) -> None:
        if not isinstance(exc, LiquidError):
            exc = exc(msg, token=token)
        if isinstance(exc, ResourceLimitError):
            raise exc
        where = exc.token or token
        line = 0  # unknown, or the end of the template
        if where is not None and where.start_index >= 0:
            line = where.source.count("\n", 0, where.start_index) + 1
        name = str(exc.template_name or "") if hasattr(exc, "template_name") else ""
        message = getattr(exc, "message", None) or str(exc).splitlines()[0]
        self.collected.append(LiquidWarning(name, line, str(message)))


def _raw_markup(stream: TokenStream) -> str:
    """The text after the tag name, left as written (Jekyll tags parse it themselves)."""
    if stream.peek.kind == TOKEN_EXPRESSION:
        next(stream)
        return stream.current.value.strip()
    return ""


class _MarkupNode(Node):
    __slots__ = ("markup",)

    def __init__(self, token: Token, markup: str) -> None:
        super().__init__(token)
        self.markup = markup
        self.blank = False

    def _render_markup(self, context: RenderContext) -> str:
        if "{{" not in self.markup:
            return self.markup
        return context.env.from_string(self.markup).render(**dict(context.globals))


class IncludeNode(_MarkupNode):
    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        env = context.env
        assert isinstance(env, JekyllEnvironment)
        markup = self._render_markup(context)
        name, _, params_text = markup.partition(" ")
        template = _include_template(env, name)
        params = {key: _param(context, quoted, single, path) for key, quoted, single, path in (
            INCLUDE_PARAM.findall(params_text)
        )}  # fmt: skip
        with context.extend({"include": params}, template=template):
            template.render_with_context(context, buffer, partial=True)
        return True


def _param(context: RenderContext, quoted: str, single: str, path: str) -> object:
    if not path:
        return quoted or single
    keys: list[object] = [int(k) if k.isdigit() else k for k in re.split(r"[.\[\]]+", path) if k]
    value = context.get(keys, token=None, default=None)
    return value


def _include_template(env: JekyllEnvironment, name: str) -> BoundTemplate:
    folder = env.site.includes_dir
    if folder is None:
        raise UnrenderableError(f"include {name!r}: the site has no _includes folder", token=None)
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise UnrenderableError(f"include {name!r} not found in _includes/", token=None)
    if name not in env.include_cache:
        if path.stat().st_size > MAX_INCLUDE_BYTES:
            raise UnrenderableError(f"include {name!r} is too large", token=None)
        source = path.read_text(encoding="utf-8")
        env.include_cache[name] = env.from_string(source, name=name, path=f"_includes/{name}")
    return env.include_cache[name]


class LinkNode(_MarkupNode):
    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        env = context.env
        assert isinstance(env, JekyllEnvironment)
        target = self._render_markup(context)
        url = env.site.link(target.lstrip("/"))
        if url is None:
            raise UnrenderableError(f"link: no document at {target!r}", token=self.token)
        return buffer.write(relative_url(env.site.baseurl, url))


class PostUrlNode(_MarkupNode):
    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        env = context.env
        assert isinstance(env, JekyllEnvironment)
        url = env.site.post_url(self.markup)
        if url is None:
            raise UnrenderableError(f"post_url: no post named {self.markup!r}", token=self.token)
        return buffer.write(relative_url(env.site.baseurl, url))


class _MarkupTag(Tag):
    node_class: ClassVar[type[_MarkupNode]]

    def parse(self, stream: TokenStream) -> Node:
        token = stream.current
        return self.node_class(token, _raw_markup(stream))


class IncludeTag(_MarkupTag):
    name = "include"
    node_class = IncludeNode


class LinkTag(_MarkupTag):
    name = "link"
    node_class = LinkNode


class PostUrlTag(_MarkupTag):
    name = "post_url"
    node_class = PostUrlNode


class HighlightNode(Node):
    __slots__ = ("block", "language")

    def __init__(self, token: Token, language: str, block: BlockNode) -> None:
        super().__init__(token)
        self.language = language
        self.block = block
        self.blank = False

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        inner = context.get_buffer(buffer)
        self.block.render(context, inner)
        code = re.sub(r"\A[\r\n]+|[\r\n]+\Z", "", inner.getvalue())
        language = escape(self.language)
        # Rouge's token spans and line-number table are left out; the code is the same.
        return buffer.write(
            f'<figure class="highlight"><pre><code class="language-{language.replace("+", "-")}"'
            f' data-lang="{language}">{escape(code, quote=False)}</code></pre></figure>'
        )


class HighlightTag(Tag):
    name = "highlight"
    end = "endhighlight"

    def parse(self, stream: TokenStream) -> Node:
        token = stream.current
        markup = _raw_markup(stream)
        match = re.match(r"^([a-zA-Z0-9.+#_-]+)", markup)
        if match is None:
            raise UnrenderableError("highlight needs a language: {% highlight LANG %}", token=token)
        next(stream)
        block = get_parser(self.env).parse_block(stream, {"endhighlight", TOKEN_EOF})
        stream.expect(TOKEN_TAG, value="endhighlight")
        return HighlightNode(token, match.group(1).lower(), block)


LIQUID_MARKUP = re.compile(r"{%-?\s*(\w+)|{{")


def render_liquid(
    env: JekyllEnvironment,
    source: str,
    *,
    page: Mapping[str, Any],
    name: str,
    line_offset: int = 0,
) -> tuple[str, list[LiquidWarning]]:
    """Render `source` (a post body); warnings name `name` and the line in the file."""
    env.collected = []
    if "{{" not in source and "{%" not in source:
        return source, []
    scope = {
        "site": {**env.site.config, "url": env.site.url, "baseurl": env.site.baseurl,
                 "posts": env.site.posts},
        "page": dict(page),
        SITE_GLOBAL: env.site.filters,
    }  # fmt: skip
    template = env.from_string(source, name=name, path=name)
    output = template.render(**scope)
    return output, [_located(w, name, line_offset) for w in env.collected]


def _located(warning: LiquidWarning, name: str, line_offset: int) -> LiquidWarning:
    """Lines in the post body become lines in the post file; include lines stay as they are."""
    if warning.template not in ("", name):
        return warning
    return LiquidWarning(name, warning.line + line_offset, warning.message)


def jekyll_environment(site: JekyllSite) -> JekyllEnvironment:
    """An environment for one site (includes are cached in it)."""
    return JekyllEnvironment(site)
