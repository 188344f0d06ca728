"""Where templates are: the built-ins, and a site's own folder that overrides them.

The default templates ship inside the package (`publisher/templates` in a wheel;
the repository's top-level `templates/` in a source checkout). A site's own
[paths] templates folder overrides them file by file: a file it has wins, a file
it lacks comes from the built-ins.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def builtin_templates() -> Path:
    """The folder of the default templates."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "templates"
    if packaged.is_dir():
        return packaged
    return package.parent / "templates"  # a source checkout: the folder the wheel ships


def template_folders(site_templates: Path) -> list[Path]:
    """Where templates are looked up, first match wins: the site's folder, the built-ins."""
    builtin = builtin_templates()
    if site_templates.is_dir() and site_templates.resolve() != builtin.resolve():
        return [site_templates, builtin]
    return [builtin]


def find_template(site_templates: Path, name: str) -> Path:
    """The file `name` (like 'web/style.css') resolves to; the built-in one when the site's
    folder has none (even when neither exists, for the error message)."""
    folders = template_folders(site_templates)
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    return folders[-1] / name
