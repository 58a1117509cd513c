"""PLACEHOLDER (being replaced): readers."""
from __future__ import annotations

from pathlib import Path

from presslens.records import RawRecord, Reject

# Files larger than this are rejected unread.
MAX_FILE_BYTES = 50 * 1024 * 1024


def iter_files(root: Path):
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.name.startswith(".") and p.name != "metadata.csv":
            yield p


def load_sidecar(root: Path) -> tuple[dict[str, dict], list[Reject]]:
    return {}, []


def read(path: Path, relpath: str, sidecar_row: dict | None = None) -> tuple[list[RawRecord], list[Reject]]:
    text = path.read_text(encoding="utf-8")
    return [RawRecord(path=relpath, text=text, encoding="utf-8")], []
