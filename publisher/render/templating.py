"""Jinja2's only home: loading and rendering templates with errors that name the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from publisher.core.errors import TemplateError


def environment(folder: Path, *, html: bool) -> jinja2.Environment:
    """An environment over `folder`; `html` turns autoescaping on."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=html,  # noqa: S701 (plain-text templates are not HTML)
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    folder = getattr(env.loader, "searchpath", ["?"])[0]
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateNotFound as e:
        raise TemplateError(
            f"template {name} not found in {folder}",
            hint="set [paths] templates to the folder that holds it",
        ) from e
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(
            f"{e.filename or name}:{e.lineno}: {e.message}", hint="fix the template syntax"
        ) from e
    except jinja2.UndefinedError as e:
        line = _template_line(e, name)
        raise TemplateError(
            f"{folder}/{name}:{line}: {e.message}",
            hint="the template uses a name the renderer does not provide",
        ) from e


def _template_line(error: BaseException, name: str) -> str:
    """The line of `name` where the error happened, from Jinja's rewritten traceback."""
    traceback = error.__traceback__
    line = "?"
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_code.co_filename.endswith(name):
            line = str(traceback.tb_lineno)
        traceback = traceback.tb_next
    return line
