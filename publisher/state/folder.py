"""The state folder: created readable by its owner only, since it holds readers'
addresses, the ledger and the signing secret."""

from __future__ import annotations

from pathlib import Path


def make_state_folder(path: Path) -> None:
    """`path` and its parents exist; `path` itself, when created here, is mode 0700 (a folder
    that already exists keeps the mode its operator gave it)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
