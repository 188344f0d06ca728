"""Hugo's built-in shortcodes rendered to the HTML their templates make, without templates,
network or JavaScript; anything else becomes a warning naming the page and line.

`{{< >}}` output is kept out of the Markdown (a placeholder, swapped back after rendering,
its `<p>` wrapper dropped as Hugo drops it); `{{% %}}` output is put into the Markdown, so
Hugo's raw-HTML rule applies to it as it does in Hugo.

Deliberate differences from Hugo 0.111.3: `tweet`/`twitter`/`x`, `gist`, `instagram` and
`qr` become plain links (Hugo fetches remote HTML or runs a script); `highlight` is a plain
`<pre><code>` (no Chroma colours, no line numbers); `details`, `qr`, `x` and `comment`,
which 0.111.3 lacks, are rendered as newer Hugo documents them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from publisher.core.errors import Problem
from publisher.sources.hugo.shortcode_syntax import Shortcode, parse_shortcodes
from publisher.sources.hugo.summary import strip_html, trim_short_html

MAX_BODY_CHARS = 2_000_000
MAX_WARNINGS = 20
"""Unreadable shortcodes reported one by one per page; the rest are counted."""
_SAFE_SCHEMES = ("http://", "https://", "mailto:", "/", "#", "./", "../")
_PLACEHOLDER = re.compile(r"(<p>)?(XPUBSC(\d+)SCX)(</p>)?")

_BLOCK_TAG = re.compile(r"<(?:p|div|ul|ol|dl|table|pre|blockquote|h[1-6]|figure|hr)[\s>/]", re.I)

NO_SUCH_PAGE = "no such page; link left empty"
"""How a `ref` or `relref` to a missing page is reported (the build goes on; Hugo's stops
with REF_NOT_FOUND)."""


@dataclass(frozen=True)
class ShortcodeContext:
    page: str
    """The page's path, for warnings."""
    render_markdown: Callable[[str], str]
    """Markdown → HTML for captions and inner content (the page's Goldmark settings)."""
    resolve_ref: Callable[[str, bool], str | None] = lambda path, absolute: None
    """`ref`/`relref`: a content path → the page's permalink (absolute) or relative link."""
    param: Callable[[str], object] = lambda name: None
    """`param`: the page's parameter, else the site's; None when neither has it."""
    first_line: int = 1
    """The file line on which the body starts."""
    site_shortcodes: frozenset[str] | None = None
    """Names of the site's (and its themes') own shortcode templates; None: not known."""
    markdown_inner: frozenset[str] = frozenset()
    """The site's own shortcodes whose template renders `.Inner` as Markdown (`markdownify`,
    `.Page.RenderString`): left out, their inner text is kept as Markdown made HTML."""


@dataclass(frozen=True)
class Expansion:
    markdown: str
    """The body with `{{% %}}` output in place and `{{< >}}` output as placeholders."""
    placeholders: Mapping[str, str]
    warnings: tuple[Problem, ...]
    left_out: frozenset[str] = frozenset()
    """Placeholders of shortcodes left out (the site's own) with their inner text kept."""

    def restore(self, rendered: str) -> str:
        """The rendered HTML with every placeholder's output in place."""
        return restore_placeholders(rendered, self.placeholders, self.left_out)


@dataclass
class _Run:
    context: ShortcodeContext
    placeholders: dict[str, str] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)

    def warn(self, line: int, message: str) -> None:
        where = f"{self.context.page}:{self.context.first_line + line - 1}"
        self.warnings.append(Problem(where, message))

    def markdownify(self, text: str) -> str:
        return trim_short_html(self.context.render_markdown(text)).strip()


def expand_shortcodes(body: str, context: ShortcodeContext) -> Expansion:
    """Render every shortcode of a page body (Markdown with shortcodes)."""
    run = _Run(context)
    if len(body) > MAX_BODY_CHARS:
        run.warn(1, f"body larger than {MAX_BODY_CHARS} characters; shortcodes left out")
        return Expansion(_strip_delimiters(body), {}, tuple(run.warnings))
    parsed = parse_shortcodes(body)
    for offset, message in parsed.errors[:MAX_WARNINGS]:
        run.warn(body.count("\n", 0, offset) + 1, f"unreadable shortcode: {message}; left out")
    if len(parsed.errors) > MAX_WARNINGS:
        run.warn(1, f"{len(parsed.errors) - MAX_WARNINGS} more unreadable shortcodes left out")
    out: list[str] = []
    left_out = set()
    for part in parsed.parts:
        if isinstance(part, str):
            out.append(part)
        elif part.markdown:
            out.append(_render(part, run))
        else:
            key = f"XPUBSC{len(run.placeholders)}SCX"
            run.placeholders[key] = _render(part, run)
            out.append(key)
            if part.name not in BUILT_IN:
                left_out.add(key)
    return Expansion("".join(out), run.placeholders, tuple(run.warnings), frozenset(left_out))


def _strip_delimiters(text: str) -> str:
    return re.sub(r"\{\{[<%].*?[>%]\}\}", "", text, flags=re.DOTALL)


def restore_placeholders(
    rendered: str, placeholders: Mapping[str, str], left_out: frozenset[str] = frozenset()
) -> str:
    """Swap placeholders for shortcode output; `<p>X</p>` around one loses its `<p>`, but
    for the inline text of a shortcode left out, which keeps its paragraph (a stand-in for
    the block its template would have made)."""

    def swap(found: re.Match[str]) -> str:
        output = placeholders.get(found.group(2))
        if output is None:
            return found.group(0)
        alone = found.group(1) and found.group(4)
        if alone and found.group(2) in left_out and not _BLOCK_TAG.search(output):
            text = output.strip()
            return f"<p>{text}</p>" if text else ""
        if alone:
            return output
        return (found.group(1) or "") + output + (found.group(4) or "")

    return _PLACEHOLDER.sub(swap, rendered)


def _inner(code: Shortcode, run: _Run) -> str:
    """The inner content with nested shortcodes rendered in place."""
    parts = code.inner or []
    return "".join(part if isinstance(part, str) else _render(part, run) for part in parts)


def _render(code: Shortcode, run: _Run) -> str:
    renderer = BUILT_IN.get(code.name)
    own = run.context.site_shortcodes
    if code.name in READS_INNER and code.inner is None and not code.self_closing:
        message = f"shortcode {code.name!r} must be closed or self-closed (Hugo would stop here)"
        run.warn(code.line, f"{message}; left out")
        return ""
    if renderer is not None:
        if own is not None and code.name in own:
            message = f"shortcode {code.name!r}: the site's own replaces Hugo's; rendered as Hugo's"
            run.warn(code.line, message)
        return renderer(code, run)
    if own is None or code.name in own:
        message = f"shortcode {code.name!r} is the site's own; we cannot render it, left out"
    else:
        message = f"shortcode {code.name!r} does not exist (Hugo would stop here); left out"
    run.warn(code.line, message)
    if code.inner is None:
        return ""
    inner = _inner(code, run)
    if code.markdown or code.name not in run.context.markdown_inner:
        return inner  # `{{< >}}`: Hugo hands .Inner to the template as written
    return run.markdownify(inner)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _url(value: str) -> str:
    """An attribute-safe URL; unknown schemes (javascript: …) are dropped, as Go's templates do."""
    cleaned = value.strip()
    if ":" in cleaned.split("/", 1)[0] and not cleaned.lower().startswith(_SAFE_SCHEMES):
        return "#ZgotmplZ"
    return _attr(cleaned)


def _figure(code: Shortcode, run: _Run) -> str:
    get = code.get
    caption = run.markdownify(get("caption")) if get("caption") else ""
    attr = run.markdownify(get("attr")) if get("attr") else ""
    alt = get("alt") or strip_html(caption)
    image = f'<img src="{_url(get("src"))}"'
    if get("alt") or get("caption"):
        image += f' alt="{_attr(alt)}"'
    for name in ("width", "height"):
        if get(name):
            image += f' {name}="{_attr(get(name))}"'
    image += "/>"
    if get("link"):
        extras = "".join(f' {name}="{_attr(get(name))}"' for name in ("target", "rel") if get(name))
        image = f'<a href="{_url(get("link"))}"{extras}>{image}</a>'
    out = f"<figure{_class(get('class'))}>{image}"
    if get("title") or get("caption") or get("attr"):
        out += "<figcaption>"
        if get("title"):
            out += f"<h4>{_attr(get('title'))}</h4>"
        if get("caption") or get("attr"):
            credit = f'\n<a href="{_url(get("attrlink"))}">{attr}</a>' if get("attrlink") else attr
            out += f"<p>{caption}{credit}</p>"
        out += "</figcaption>"
    return out + "</figure>"


def _class(name: str) -> str:
    return f' class="{_attr(name)}"' if name else ""


_EMBED_STYLE = 'style="position: absolute; top: 0; left: 0; width: 100%; height: 100%; border:0;" '
_WRAPPER_STYLE = 'style="position: relative; padding-bottom: 56.25%; height: 0; overflow: hidden;"'


def _wrapper(css_class: str) -> str:
    return f'<div class="{_attr(css_class)}">' if css_class else f"<div {_WRAPPER_STYLE}>"


def _youtube(code: Shortcode, run: _Run) -> str:
    video = code.get("id") or code.get(0)
    css_class = code.get("class") or code.get(1)
    title = code.get("title") or "YouTube Video"
    autoplay = "?autoplay=1" if code.get("autoplay") == "true" else ""
    style = "" if css_class else _EMBED_STYLE
    return (
        f"{_wrapper(css_class)}<iframe "
        f'src="https://www.youtube.com/embed/{_attr(video)}{autoplay}" {style}'
        f'allowfullscreen title="{_attr(title)}"></iframe></div>'
    )


def _vimeo(code: Shortcode, run: _Run) -> str:
    if code.named:
        video, css_class, title = code.get("id"), code.get("class"), code.get("title")
        style = "" if css_class else _EMBED_STYLE
    else:
        video, css_class, title = code.get(0), code.get(1), code.get(2)
        style = _EMBED_STYLE if len(code.positional) == 1 else ""
    return (
        f'{_wrapper(css_class)}<iframe src="https://player.vimeo.com/video/{_attr(video)}" '
        f'{style}title="{_attr(title or "vimeo video")}" '
        "webkitallowfullscreen mozallowfullscreen allowfullscreen></iframe></div>"
    )


def _link(url: str, text: str) -> str:
    return f'<a href="{_url(url)}">{html.escape(text)}</a>'


def _post_link(host: str) -> Callable[[Shortcode, _Run], str]:
    def render(code: Shortcode, run: _Run) -> str:
        user, post = code.get("user"), code.get("id")
        if not code.named:
            user, post = (
                (code.get(0), code.get(1)) if len(code.positional) > 1 else ("x", code.get(0))
            )
        url = f"https://{host}/{user}/status/{post}"
        return f"<p>{_link(url, url)}</p>"

    return render


def _gist(code: Shortcode, run: _Run) -> str:
    url = f"https://gist.github.com/{code.get(0)}/{code.get(1)}"
    label = f"gist {code.get(0)}/{code.get(1)}"
    if code.get(2):
        url += "#file-" + re.sub(r"[^\w-]", "-", code.get(2)).lower()
        label += f" ({code.get(2)})"
    return f"<p>{_link(url, label)}</p>"


def _instagram(code: Shortcode, run: _Run) -> str:
    url = f"https://www.instagram.com/p/{code.get(0)}/"
    return f"<p>{_link(url, url)}</p>"


def _highlight(code: Shortcode, run: _Run) -> str:
    language = code.get(0)
    text = _deindent(_inner(code, run)).strip("\n\r")
    lang_attrs = (
        f' class="language-{_attr(language)}" data-lang="{_attr(language)}"' if language else ""
    )
    code_html = f"<code{lang_attrs}>{html.escape(text)}\n</code>"
    return f'<div class="highlight"><pre tabindex="0">{code_html}</pre></div>'


def _deindent(text: str) -> str:
    lines = text.split("\n")
    indents = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return "\n".join(line[cut:] for line in lines)


def _param(code: Shortcode, run: _Run) -> str:
    name = code.get(0)
    value = run.context.param(name) if name else None
    if value is None:
        run.warn(code.line, f"param {name!r} is not set on the page or the site; left out")
        return ""
    return html.escape(str(value))


def _ref(absolute: bool) -> Callable[[Shortcode, _Run], str]:
    def render(code: Shortcode, run: _Run) -> str:
        target = code.get("path") or code.get(0)
        resolved = run.context.resolve_ref(target, absolute)
        if resolved is None:
            run.warn(code.line, f"{code.name} {target!r}: {NO_SUCH_PAGE}")
            return ""
        return _attr(resolved)

    return render


def _details(code: Shortcode, run: _Run) -> str:
    attributes = "".join(
        f' {name}="{_attr(code.get(name))}"' for name in ("class", "name") if code.get(name)
    )
    if code.get("open") in ("true", "1"):
        attributes += " open"
    if code.get("title"):
        attributes += f' title="{_attr(code.get("title"))}"'
    summary = run.markdownify(code.get("summary") or "Details")
    inner = run.context.render_markdown(_inner(code, run))
    return f"<details{attributes}><summary>{summary}</summary>{inner}</details>"


def _qr(code: Shortcode, run: _Run) -> str:
    text = code.get("text") or _inner(code, run).strip()
    if text.lower().startswith(("http://", "https://", "mailto:")):
        return _link(text, code.get("alt") or text)
    return html.escape(text)


READS_INNER = frozenset({"highlight", "details", "qr", "comment"})
"""Built-ins whose template reads .Inner: Hugo refuses them with neither a closing tag nor
`/>`."""

BUILT_IN: Mapping[str, Callable[[Shortcode, _Run], str]] = {
    "figure": _figure,
    "youtube": _youtube,
    "vimeo": _vimeo,
    "tweet": _post_link("twitter.com"),
    "twitter": _post_link("twitter.com"),
    "x": _post_link("x.com"),
    "gist": _gist,
    "instagram": _instagram,
    "highlight": _highlight,
    "param": _param,
    "ref": _ref(True),
    "relref": _ref(False),
    "details": _details,
    "qr": _qr,
    "comment": lambda code, run: "",
}
