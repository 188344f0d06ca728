"""Post files on disk: finding them, reading their bytes, decoding their text.

Every source kind finds its files through `scan`, reads them with `read_bytes`
and reports a file's problems through `FileProblems`, so a user sees every
problem of every file in one error.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from publisher.core.errors import ContentError, Problem

_READ_BYTES = 1 << 16


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A post file as found on disk, before it is read."""

    path: str
    """The file's path as found under the content folder."""
    name: str
    """Path under the content folder, with forward slashes."""
    size: int
    """-1 when the file could not be stat'ed."""
    mtime_ns: int


class FileProblems:
    """Collects the problems of one file, named the way a user finds it."""

    def __init__(self, where: Callable[[], str], sink: list[Problem]) -> None:
        self.where = where
        self.sink = sink
        self.count = 0
        self.warnings: list[str] = []
        """Things the post is published despite, like Liquid left out: "where:line: message"."""

    def add(self, message: str, hint: str = "", line: int | None = None) -> None:
        where = self.where()
        self.sink.append(Problem(f"{where}:{line}" if line else where, message, hint))
        self.count += 1

    def warn(self, message: str, line: int | None = None) -> None:
        where = self.where()
        self.warnings.append(f"{where}:{line}: {message}" if line else f"{where}: {message}")


def scan(
    content_dir: Path,
    suffixes: Collection[str],
    *,
    skip_folder: Callable[[str], bool] = lambda _name: False,
) -> list[SourceFile]:
    """Every file below `content_dir` whose suffix is one of `suffixes` (lower case), with its
    size and mtime, ordered by name; dotfiles, dot-folders, other kinds of file, symlinked
    folders and folders `skip_folder` refuses (given their path under `content_dir`,
    ending in '/') are skipped."""
    if not content_dir.is_dir():
        raise ContentError(
            f"no content folder at {content_dir}",
            hint="create it, or set [paths] content in config.toml",
        )
    found: list[SourceFile] = []
    folders = [(str(content_dir), "")]
    while folders:
        folder, prefix = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue  # like os.walk: an unreadable folder is passed over
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                is_folder = entry.is_dir()
            except OSError:
                is_folder = False
            if is_folder:
                inside = f"{prefix}{name}/"
                if not entry.is_symlink() and not skip_folder(inside):
                    folders.append((entry.path, inside))
            elif os.path.splitext(name)[1].lower() in suffixes:
                found.append(_stat(entry, prefix + name))
    found.sort(key=lambda source: source.name)
    return found


def _stat(entry: os.DirEntry[str], name: str) -> SourceFile:
    try:
        stat = entry.stat()
        return SourceFile(entry.path, name, stat.st_size, stat.st_mtime_ns)
    except OSError:
        return SourceFile(entry.path, name, -1, -1)


def read_bytes(path: str | Path, size: int = -1) -> bytes:
    """The file's bytes; `size`, when known, saves a read to find the end."""
    # os.read: cheaper than open()'s buffered file object, and this runs per post.
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = [os.read(fd, size + 1)] if size >= 0 else []
        if chunks and len(chunks[0]) <= size:
            return chunks[0]  # all of it: a read asks for one byte more than there is
        while chunk := os.read(fd, _READ_BYTES):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def content_hash(raw: bytes) -> bytes:
    return hashlib.sha256(raw).digest()


def decode(raw: bytes, problems: FileProblems) -> str | None:
    """The file as text with `\\n` line ends and no BOM; None (with a problem) when it is
    not UTF-8 or holds nothing."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        problems.add(
            f"is not valid UTF-8 (byte {e.start} on this line)", "save the file as UTF-8", line
        )
        return None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        problems.add("is empty", "add front matter with at least a title, or delete the file")
        return None
    return text
