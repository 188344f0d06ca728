"""The remembered fingerprint of publisher's code and libraries (build/process.py): used only
while every file and folder it was made from is unchanged."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

import publisher
from publisher.build import process
from publisher.build.process import MEMO_ENTRIES, MEMO_NAME, compute, remembered


class Counting:
    """A stand-in for the long way: a fingerprint of the watched files' bytes."""

    def __init__(self, watched: list[Path]) -> None:
        self.watched = watched
        self.calls = 0

    def __call__(self) -> tuple[dict[str, Any], list[str]]:
        self.calls += 1
        seen = {str(p): p.read_text() if p.is_file() else None for p in self.watched}
        return {"seen": seen}, [str(p) for p in self.watched]


@pytest.fixture
def watched(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "package"
    folder.mkdir()
    (folder / "a.py").write_text("A = 1\n")
    (folder / "b.py").write_text("B = 2\n")
    return [folder, folder / "a.py", folder / "b.py", tmp_path / "absent.py"]


def test_a_fingerprint_is_worked_out_once_then_remembered(
    tmp_path: Path, watched: list[Path]
) -> None:
    memo = tmp_path / "state" / MEMO_NAME
    long_way = Counting(watched)
    first = remembered(memo, long_way, write=True, racy_ns=0)
    again = remembered(memo, long_way, write=True, racy_ns=0)
    assert long_way.calls == 1
    assert again == first == long_way()[0]


@pytest.mark.parametrize("change", ["edit", "new file", "removed file", "appears"])
def test_any_change_to_what_it_was_made_from_works_it_out_again(
    tmp_path: Path, watched: list[Path], change: str
) -> None:
    memo = tmp_path / MEMO_NAME
    long_way = Counting(watched)
    remembered(memo, long_way, write=True, racy_ns=0)
    folder = watched[0]
    if change == "edit":
        (folder / "a.py").write_text("A = 3\n")  # same size
    elif change == "new file":
        (folder / "c.py").write_text("C = 1\n")
    elif change == "removed file":
        (folder / "b.py").unlink()
    else:
        (tmp_path / "absent.py").write_text("")
    found = remembered(memo, long_way, write=True, racy_ns=0)
    assert long_way.calls == 2
    assert found == long_way()[0]


def test_a_note_is_not_written_while_what_it_is_made_from_is_fresh(
    tmp_path: Path, watched: list[Path]
) -> None:
    memo = tmp_path / MEMO_NAME
    long_way = Counting(watched)
    remembered(memo, long_way, write=True)  # the files were written a moment ago
    assert not memo.exists()
    os.utime(watched[1], ns=(10**18, 10**18))  # mtime far away does not make ctime old
    remembered(memo, long_way, write=True)
    assert not memo.exists()


def test_read_only_callers_never_write_a_note(tmp_path: Path, watched: list[Path]) -> None:
    memo = tmp_path / MEMO_NAME
    remembered(memo, Counting(watched), write=False, racy_ns=0)
    assert not memo.exists()


def test_a_note_from_another_python_is_kept_but_not_used(
    tmp_path: Path, watched: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    memo = tmp_path / MEMO_NAME
    long_way = Counting(watched)
    remembered(memo, long_way, write=True, racy_ns=0)
    monkeypatch.setattr(sys, "path", ["/somewhere/else", *sys.path])  # `python -m` from a folder
    remembered(memo, long_way, write=True, racy_ns=0)
    assert long_way.calls == 2
    remembered(memo, long_way, write=True, racy_ns=0)
    assert long_way.calls == 2
    assert len(json.loads(memo.read_text())["notes"]) == 2
    for number in range(MEMO_ENTRIES + 2):
        monkeypatch.setattr(sys, "path", [f"/more/{number}", *sys.path])
        remembered(memo, long_way, write=True, racy_ns=0)
    assert len(json.loads(memo.read_text())["notes"]) == MEMO_ENTRIES


@pytest.mark.parametrize(
    "garbage", [b"", b"not json", b"[]", b'{"format": 99, "notes": []}', b'{"format": 1}']
)
def test_a_damaged_note_is_worked_out_again_and_replaced(
    tmp_path: Path, watched: list[Path], garbage: bytes
) -> None:
    memo = tmp_path / MEMO_NAME
    memo.write_bytes(garbage)
    long_way = Counting(watched)
    assert remembered(memo, long_way, write=True, racy_ns=0) == long_way()[0]
    assert json.loads(memo.read_text())["format"] == process.MEMO_FORMAT


def test_the_real_fingerprint_watches_the_code_the_libraries_and_libxml2() -> None:
    fingerprint, paths = compute()
    package = Path(publisher.__file__).parent
    code = {str(p) for p in package.rglob("*.py")}
    assert code <= set(paths), "a module of publisher is not watched"
    assert {str(p.parent) for p in package.rglob("*.py")} <= set(paths)
    import lxml.etree

    assert lxml.etree.__file__ in paths
    assert any(p.endswith(".dist-info") and "lxml" in p for p in paths)
    assert any(p.endswith(".dist-info") and "feedgen" in p for p in paths)
    assert fingerprint["post libraries"]["lxml"] == lxml.etree.__version__
    assert fingerprint["libxml2"] == list(lxml.etree.LIBXML_VERSION)
    assert fingerprint["yaml_loader"] in ("CSafeLoader", "SafeLoader")


def test_the_real_fingerprint_remembered_is_the_one_worked_out(tmp_path: Path) -> None:
    memo = tmp_path / MEMO_NAME
    worked_out = remembered(memo, write=True, racy_ns=0)
    assert memo.exists()
    assert remembered(memo, write=True, racy_ns=0) == worked_out == compute()[0]
