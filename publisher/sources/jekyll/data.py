"""`site.data`: the site's `_data/` folder (or `data_dir:`), read as Jekyll reads it.

Each `.yml`, `.yaml`, `.json`, `.csv` and `.tsv` file is `site.data.<name>` (a folder
nests: `_data/team/leads.yml` is `site.data.team.leads`); a CSV or TSV file is a list of
rows keyed by its header. Reading is bounded (files, bytes); a file that cannot be read is
a warning naming it and is left out.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from publisher.sources.jekyll.errors import JekyllInputError
from publisher.sources.jekyll.front_matter import MAX_YAML_BYTES, load_yaml

SUFFIXES = (".yml", ".yaml", ".json", ".csv", ".tsv")
MAX_DATA_FILES = 500
MAX_DATA_FILE_BYTES = MAX_YAML_BYTES


def data_files(root: Path, data_dir: str) -> list[Path]:
    """The data files, by name, at most MAX_DATA_FILES of them."""
    folder = root / data_dir
    if not folder.is_dir():
        return []
    found = sorted(
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )
    return found[:MAX_DATA_FILES]


def data_digest(files: list[Path]) -> str:
    """What the data files hold (names and bytes), for the build cache."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.as_posix().encode("utf-8", "surrogateescape") + b"\0")
        try:
            with open(path, "rb") as handle:
                digest.update(handle.read(MAX_DATA_FILE_BYTES + 1))
        except OSError:
            digest.update(b"\0unreadable")
    return digest.hexdigest()


def read_data(root: Path, data_dir: str) -> tuple[dict[str, Any], list[str]]:
    """`site.data`, and a warning ("where: message") for each file left out."""
    folder = root / data_dir
    data: dict[str, Any] = {}
    warnings: list[str] = []
    for path in data_files(root, data_dir):
        relative = path.relative_to(folder)
        where = (Path(data_dir) / relative).as_posix()
        try:
            value = _read(path, where)
        except (OSError, UnicodeDecodeError, ValueError, csv.Error) as error:
            warnings.append(f"{where}: cannot be read ({error}); site.data leaves it out")
            continue
        except JekyllInputError as error:
            message = "; ".join(problem.message for problem in error.problems)
            warnings.append(f"{where}: {message}; site.data leaves it out")
            continue
        holder = data
        for part in relative.parent.parts:
            holder = holder.setdefault(part, {}) if isinstance(holder.get(part, {}), dict) else {}
        holder[relative.stem] = value
    return data, warnings


def _read(path: Path, where: str) -> Any:
    if path.stat().st_size > MAX_DATA_FILE_BYTES:
        raise ValueError(f"larger than {MAX_DATA_FILE_BYTES} bytes")
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return json.loads(text)
    if suffix in (".csv", ".tsv"):
        dialect = "excel-tab" if suffix == ".tsv" else "excel"
        return [dict(row) for row in csv.DictReader(io.StringIO(text), dialect=dialect)]
    return load_yaml(text, where)
