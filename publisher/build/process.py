"""What this process runs, as the build cache hashes it: publisher's code, Python, and the
libraries that parse and render posts and write feeds.

Working that out imports lxml, PyYAML and importlib.metadata and reads every module
of the package: more than a build with nothing to do costs otherwise. So the result is
remembered in the state folder (state/cache-process.json) together with the files and
folders it was made from, by inode, size, mtime and ctime: publisher's package (a new,
removed or edited module changes a folder or a file), each folder on sys.path (an
install, upgrade or removal changes its listing), the metadata of each library hashed,
and every shared object the process had loaded (the interpreter, lxml's libxml2). The
note is used only when all of them are as they were and Python and sys.path are the
same; it is not written while any of them changed less than RACY_NS before. Deleting
it is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import publisher

MEMO_NAME = "cache-process.json"
MEMO_FORMAT = 1
MEMO_ENTRIES = 4
"""Notes kept, one per way of starting Python (the `publisher` script, `python -m`, ...)."""
RACY_NS = 2_000_000_000
"""A file changed this recently may change again within its mtime's clock tick."""
POST_LIBRARIES = (
    "markdown-it-py",
    "mdurl",
    "nh3",
    "lxml",
    "PyYAML",
    "python-frontmatter",
    "python-slugify",
    "text-unidecode",
    "Unidecode",
)
POST_CODE = ("sources", "render", "core")
"""The folders of publisher's code that parsing and rendering a post run."""
OUTPUT_LIBRARIES = ("feedgen", "python-dateutil", "Jinja2", "MarkupSafe", "tzdata")

Compute = Callable[[], tuple[dict[str, Any], list[str]]]
"""Makes the fingerprint, and lists the paths it was made from."""


def sha256(*chunks: bytes) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(len(chunk).to_bytes(8, "big"))
        digest.update(chunk)
    return digest.hexdigest()


def files_below(folder: Path) -> list[Path]:
    found = []
    for root, folders, names in os.walk(folder):
        folders.sort()
        found += [Path(root) / name for name in sorted(names)]
    return found


def _package() -> Path:
    return Path(publisher.__file__).parent


def compute() -> tuple[dict[str, Any], list[str]]:
    """The fingerprint, worked out the long way, and what it was made from."""
    from importlib.metadata import PackageNotFoundError, distribution

    from lxml import etree

    from publisher.sources.frontmatter import loader_name

    package = _package()
    code = [p for p in files_below(package) if p.suffix == ".py"]
    post_code = [p for p in code if p.relative_to(package).parts[0] in POST_CODE]
    versions: dict[str, str] = {}
    watched = [str(package), *(str(p.parent) for p in code), *map(str, code)]
    for name in ("publisher", *POST_LIBRARIES, *OUTPUT_LIBRARIES):
        try:
            found = distribution(name)
        except PackageNotFoundError:
            versions[name] = ""
            continue
        versions[name] = found.version
        where = getattr(found, "_path", None)  # the .dist-info folder, for a stat to vouch
        if isinstance(where, Path):
            watched += [str(where), *(str(where / n) for n in ("METADATA", "PKG-INFO"))]
            # (a file that is absent is watched too: it must stay absent)
    watched += [entry for entry in sys.path if entry and os.path.isdir(entry)]
    watched += _loaded_objects()
    fingerprint = {
        "publisher": versions["publisher"] or "0.0.0",
        "post code": sha256(*(p.read_bytes() for p in post_code)),
        "code": sha256(*(p.read_bytes() for p in code)),
        "python": sys.version,
        "post libraries": {name: versions[name] for name in POST_LIBRARIES},
        "libraries": {name: versions[name] for name in OUTPUT_LIBRARIES},
        "libxml2": list(etree.LIBXML_VERSION),  # as JSON keeps it
        "yaml_loader": loader_name(),
    }
    return fingerprint, sorted(set(watched))


def _loaded_objects() -> list[str]:
    """The interpreter and every shared object loaded into this process (C libraries)."""
    found = {os.path.realpath(sys.executable)}
    with contextlib.suppress(OSError), open("/proc/self/maps", encoding="utf-8") as maps:
        for line in maps:
            path = line.split(maxsplit=5)[-1].strip()
            if path.startswith("/") and ".so" in path:
                found.add(path)
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.endswith((".so", ".pyd")):  # where no /proc
            found.add(file)
    return sorted(p for p in found if os.path.exists(p))


def _stat(path: str) -> list[int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return [found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns]


def _this_python() -> str:
    """Which Python, started how: `python -m` and the `publisher` script differ in sys.path."""
    return json.dumps([sys.version, sys.executable, sys.path])


def remembered(
    memo: Path | None, compute: Compute = compute, *, write: bool, racy_ns: int = RACY_NS
) -> dict[str, Any]:
    """The fingerprint from `memo` when everything it was made from is unchanged, else
    computed (and remembered when `write`, and nothing it was made from is too new)."""
    notes = _notes(memo) if memo is not None else []
    python = _this_python()
    for note in notes:
        if note["python"] == python and _unchanged(note["watched"]):
            return dict(note["fingerprint"])
    started = time.time_ns()
    fingerprint, paths = compute()
    if memo is not None and write:
        stats = {path: _stat(path) for path in paths}
        settled = all(
            stat is None or max(stat[2], stat[3]) < started - racy_ns for stat in stats.values()
        )
        if settled:
            note = {"python": python, "fingerprint": fingerprint, "watched": stats}
            others = [n for n in notes if n["python"] != python][: MEMO_ENTRIES - 1]
            _write(memo, {"format": MEMO_FORMAT, "notes": [note, *others]})
    return fingerprint


def _notes(memo: Path) -> list[dict[str, Any]]:
    """The notes in `memo`, newest first; none when it is missing or not ours."""
    try:
        data = json.loads(memo.read_bytes())
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict) or data.get("format") != MEMO_FORMAT:
        return []
    notes = data.get("notes")
    if not isinstance(notes, list):
        return []
    return [
        note
        for note in notes
        if isinstance(note, dict)
        and isinstance(note.get("python"), str)
        and isinstance(note.get("fingerprint"), dict)
        and isinstance(note.get("watched"), dict)
        and note["watched"]
    ]


def _unchanged(watched: dict[str, Any]) -> bool:
    return all(_stat(path) == stat for path, stat in watched.items())


def _write(memo: Path, note: dict[str, Any]) -> None:
    """Atomically; a note that cannot be written is only a slower next build."""
    import tempfile

    from publisher.state.folder import make_state_folder

    with contextlib.suppress(OSError):
        make_state_folder(memo.parent)
        descriptor, temporary = tempfile.mkstemp(dir=memo.parent, prefix=f".{memo.name}.")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(note, file, sort_keys=True)
            os.replace(temporary, memo)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


class _OncePerProcess:
    """The first answer this process got: a newer version installed while a long-running
    `publisher schedule` works must not be taken for the one it runs."""

    def __init__(self) -> None:
        self.value: dict[str, Any] | None = None

    def __call__(self, state: Path | None, *, write: bool) -> dict[str, Any]:
        if self.value is None:
            memo = state / MEMO_NAME if state is not None else None
            self.value = remembered(memo, write=write)
        return self.value


this_process = _OncePerProcess()
