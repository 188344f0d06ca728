"""Jinja2's only home: loading and rendering templates with errors that name the line.

Templates are looked up in the site's [paths] templates folder, then in the
built-ins (see template_files.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from publisher.core.errors import TemplateError
from publisher.render.template_files import template_folders


def environment(site_templates: Path, *, html: bool) -> jinja2.Environment:
    """An environment over the site's templates and the built-ins; `html` turns on
    autoescaping. Template names are relative to the templates root: 'email/digest.html.j2'."""
    loaders = [jinja2.FileSystemLoader(folder) for folder in template_folders(site_templates)]
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=html,  # noqa: S701 (plain-text templates are not HTML)
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound as e:
        raise TemplateError(
            f"template {name} not found",
            hint="the built-in templates are missing: reinstall publisher",
        ) from e
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(
            f"{e.filename or name}:{e.lineno}: {e.message}", hint="fix the template syntax"
        ) from e
    try:
        return template.render(context)
    except jinja2.UndefinedError as e:
        line = _template_line(e, name)
        raise TemplateError(
            f"{template.filename or name}:{line}: {e.message}",
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
