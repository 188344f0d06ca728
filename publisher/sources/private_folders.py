"""The folders publisher keeps to itself, which a site generator must never publish.

[paths] state holds the subscriber database and the secret that signs links;
[paths] outbox holds messages with readers' addresses. When either lies inside a Jekyll
or Hugo site where that generator would copy it into the site it serves, the source
refuses the config (`check`, `build` and `run` stop with the reason and a way out).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from publisher.core.config import Config
from publisher.core.errors import ConfigError, Problem, many

PRIVATE_FOLDERS = (
    ("state", "the subscriber database and the signing secret"),
    ("outbox", "messages with readers' addresses"),
)


def inside(folder: Path, root: Path) -> str | None:
    """`folder`'s path from `root` ("" for the root itself), or None when outside it."""
    try:
        relative = folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
    return "" if relative == "." else relative


def refuse_published(
    config: Config, root: Path, published: Callable[[str], str | None], hint: str
) -> None:
    """ConfigError when a private folder is one the site's build would publish.

    `published(relative)` says why the folder at that path from `root` ("" for the root)
    would be published, or None when it would not."""
    problems = []
    for key, holds in PRIVATE_FOLDERS:
        folder: Path = getattr(config.paths, key)
        relative = inside(folder, root)
        if relative is None:
            continue
        reason = published(relative)
        if reason is not None:
            shown = relative or "."
            message = f"{shown} holds {holds}, and {reason}"
            problems.append(Problem(f"[paths] {key}", message, hint))
    if problems:
        raise many(ConfigError, f"private folders inside the site in {root}", problems)
