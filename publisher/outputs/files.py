"""Writing files atomically, only when their bytes change, and removing the ones no longer built.

Which files publisher wrote is kept in a manifest in the state folder (name →
sha256 of the bytes written), not in the build cache, which may be deleted at
any time, and not in the output folder, which is published as it is. A file
leaves the output folder only when the previous build wrote it, this build did
not produce it, and it still holds the bytes publisher wrote: an operator's own
files, and files someone changed since, are never removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

TEMP_MARK = ".publisher-"
"""In the name of every temp file we write: `.<name>.publisher-<pid>-<random>.tmp`."""
_TEMP_NAME = re.compile(r"^\..+\.publisher-(\d+)-[A-Za-z0-9_]+\.tmp$")
LEFTOVER_AGE = 3600.0
"""Seconds after which a temp file of ours is a leftover whatever wrote it: one write never
takes that long."""
DEAD_WRITER_AGE = 60.0
"""Seconds after which a temp file of ours whose writing process is gone is a leftover."""

MANIFEST_NAME = "output-files.json"
"""In the state folder: the files the last build left in the output folder."""
_MANIFEST_FORMAT = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class WriteReport:
    """What writing a set of output files did, by path under the output folder."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...] = ()
    """Files an earlier build wrote that this one did not produce."""


@dataclass(frozen=True)
class Publication:
    """The outcome of publishing a set of files with their manifest."""

    files: WriteReport
    warnings: tuple[str, ...]
    complete: bool
    """False when a file that should have gone is still there; the next build tries again."""


def write_if_changed(path: Path, data: bytes, mode: int = 0o644) -> bool:
    """Write `data` to `path` through a temp file and a rename; False when already identical.

    Skipping identical writes keeps mtimes, so web servers keep their ETag and
    Last-Modified and feed readers get cheap 304s.
    """
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    import tempfile  # only when something is written: a build with nothing to do writes nothing

    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}{TEMP_MARK}{os.getpid()}-"
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return True


def remove_leftovers(folders: Iterable[Path], clock: Callable[[], float] = time.time) -> list[Path]:
    """Remove our temp files that a killed writer left in `folders` (not below them).

    Only names `write_if_changed` makes, only regular files, and only old ones: older
    than LEFTOVER_AGE, or than DEAD_WRITER_AGE when the process named in them is gone.
    A concurrent writer's file is young and its process alive, so it is never touched.
    Ages are measured on the file system's clock, as mtimes are.
    """
    removed: list[Path] = []
    for folder in sorted(set(folders)):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            match = _TEMP_NAME.match(entry.name)
            if match is None:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            age = clock() - info.st_mtime
            gone = age > DEAD_WRITER_AGE and not _process_exists(int(match.group(1)))
            if stat.S_ISREG(info.st_mode) and (age > LEFTOVER_AGE or gone):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or a pid we may not signal: it exists
        return True
    return True


def output_folders(root: Path, names: Iterable[str]) -> set[Path]:
    """The output folder and every folder under it that holds one of `names`."""
    return {root} | {(root / name).parent for name in names if _relative(name)}


def write_tree(root: Path, files: Mapping[str, bytes]) -> WriteReport:
    """Write each relative path under `root`; report which changed."""
    written: list[str] = []
    unchanged: list[str] = []
    for name in sorted(files):
        (written if write_if_changed(root / name, files[name]) else unchanged).append(name)
    return WriteReport(tuple(written), tuple(unchanged))


def digests(files: Mapping[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def publish(
    root: Path,
    files: Mapping[str, bytes],
    manifest: Path,
    fallback: Mapping[str, str] | None = None,
) -> Publication:
    """Write `files` under `root`, then remove what the previous build wrote and this one did not.

    The previous build's files come from `manifest`; when it is missing or
    unreadable, from `fallback` (the build cache's note of the last build), else
    nothing is removed. Before any file is written, the manifest already lists
    both builds' files, so a build that stops halfway leaves nothing unaccounted for.
    """
    warnings: list[str] = []
    previous = read_manifest(manifest)
    if previous is None:
        if manifest.exists():
            warnings.append(
                f"{manifest} is not a list of the files publisher wrote; "
                "it is rewritten, and files dropped from the output may stay this time"
            )
        previous = dict(fallback or {})
    current = digests(files)
    stale = {name: digest for name, digest in previous.items() if name not in current}
    write_manifest(manifest, {**stale, **current})
    report = write_tree(root, files)
    removed, left, failed = remove_stale(root, stale)
    warnings += [f"{root / name}: changed since publisher wrote it; left in place" for name in left]
    warnings += [
        f"cannot remove {root / name}: {reason}; the next build tries again"
        for name, reason in failed.items()
    ]
    write_manifest(manifest, {**{name: stale[name] for name in failed}, **current})
    return Publication(
        WriteReport(report.written, report.unchanged, removed), tuple(warnings), not failed
    )


def read_manifest(path: Path) -> dict[str, str] | None:
    """The files a manifest lists; None when it is missing or not one `write_manifest` wrote."""
    try:
        note = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(note, dict) or note.get("format") != _MANIFEST_FORMAT:
        return None
    files = note.get("files")
    if not isinstance(files, dict):
        return None
    for name, digest in files.items():
        if not (_relative(name) and isinstance(digest, str) and _SHA256.fullmatch(digest)):
            return None
    return files


def write_manifest(path: Path, files: Mapping[str, str]) -> None:
    note = {
        "format": _MANIFEST_FORMAT,
        "about": "Files publisher wrote in its output folder, with their sha256. "
        "Its next build removes those it no longer produces, if unchanged.",
        "files": dict(sorted(files.items())),
    }
    write_if_changed(path, (json.dumps(note, indent=1) + "\n").encode("ascii"), mode=0o600)


def remove_stale(
    root: Path, stale: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, str]]:
    """Remove each file that still has the digest publisher wrote, then its emptied folders.

    Returns the names removed, those left because their bytes changed, and
    those that could not be removed, with why. Missing files count as neither.
    """
    removed: list[str] = []
    left: list[str] = []
    failed: dict[str, str] = {}
    for name in sorted(stale):
        path = root / name
        found = _regular_file_sha256(path)
        if found is None:
            continue
        if found != stale[name]:
            left.append(name)
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as e:
            failed[name] = e.strerror or str(e)
            continue
        removed.append(name)
    _remove_empty_folders(root, removed)
    return tuple(removed), tuple(left), failed


def _relative(name: object) -> bool:
    """Whether `name` is a plain relative path that stays inside the output folder."""
    if not isinstance(name, str) or not name or name.startswith("/") or "\0" in name:
        return False
    return all(part not in ("", ".", "..") and "\\" not in part for part in name.split("/"))


def _regular_file_sha256(path: Path) -> str | None:
    """The file's sha256; None when it is missing or not a regular file (never a link's target)."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(handle, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return None
        return hashlib.file_digest(file, "sha256").hexdigest()


def _remove_empty_folders(root: Path, removed: Collection[str]) -> None:
    folders = {parent for name in removed for parent in Path(name).parents if parent != Path(".")}
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty: files publisher still writes, or others'
            (root / folder).rmdir()
