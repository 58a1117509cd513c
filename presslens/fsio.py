"""Corpus and store locations: local paths or fsspec URLs (s3://, gs://, memory://, file://).

In:  a path or URL string. Out: a Location with the few operations the build needs.

The build reads a corpus and writes a store; on a cluster both must be reachable from
every worker, so they may be object-storage URLs. Local paths keep the exact behaviour of
the local readers (links, permissions, hidden files); URLs are listed with fsspec and each
file is copied to a local temporary file before it is read, so every reader (including
Parquet and the streaming export readers) works on a real file and memory stays bounded.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Streaming hash block: large enough for throughput, small enough to keep memory flat.
_HASH_BLOCK = 1 << 20


def is_url(location: str | os.PathLike) -> bool:
    """True for "scheme://..." strings other than file://."""
    s = str(location)
    return "://" in s and not s.startswith("file://")


def _local_path(location: str | os.PathLike) -> Path:
    s = str(location)
    return Path(s[len("file://"):]) if s.startswith("file://") else Path(s)


@dataclass(frozen=True)
class Location:
    """A folder given as a local path or an fsspec URL."""

    url: str

    @property
    def local(self) -> bool:
        return not is_url(self.url)

    @property
    def path(self) -> Path:
        """The local folder (only for local locations)."""
        return _local_path(self.url)

    @property
    def fs(self) -> Any:
        import fsspec

        return fsspec.core.url_to_fs(self.url)[0]

    @property
    def root(self) -> str:
        """The location as the filesystem names it (no protocol), without a trailing slash."""
        import fsspec

        return fsspec.core.url_to_fs(self.url)[1].rstrip("/")

    def join(self, rel: str) -> str:
        """URL or path of a file under this location."""
        if self.local:
            return str(self.path / rel)
        return self.url.rstrip("/") + "/" + rel

    def exists(self) -> bool:
        if self.local:
            return self.path.is_dir()
        fs = self.fs
        return fs.isdir(self.root) or (fs.exists(self.root) and not fs.isfile(self.root))


def mtime_ns(info: dict) -> int:
    """Modification time from an fsspec info dict, in ns; -1 when the filesystem has none."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "created", "modified"):
        v = info.get(key)
        if v is None:
            continue
        if isinstance(v, dt.datetime):
            return int(v.timestamp() * 1e9)
        if isinstance(v, (int, float)):
            return int(v * 1e9)
        try:
            return int(dt.datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp() * 1e9)
        except ValueError:
            continue
    return -1


def list_files(loc: Location, skip_root_names: frozenset[str]) -> list[tuple[str, int, int]]:
    """(relpath, size, mtime_ns) for every file under a URL location, sorted; hidden files
    and folders (a name starting with ".") and root-level `skip_root_names` are left out."""
    fs, root = loc.fs, loc.root
    out = []
    for name, info in fs.find(root, detail=True).items():
        rel = name[len(root):].lstrip("/")
        parts = rel.split("/")
        if not rel or any(p.startswith(".") for p in parts) or (len(parts) == 1 and rel in skip_root_names):
            continue
        if info.get("type") == "directory":
            continue
        out.append((rel, int(info.get("size") or 0), mtime_ns(info)))
    return sorted(out)


def sha1(loc: Location, rel: str) -> str:
    """Content hash of a file under a URL location, read in blocks."""
    h = hashlib.sha1()
    with loc.fs.open(loc.root + "/" + rel, "rb") as f:
        for block in iter(lambda: f.read(_HASH_BLOCK), b""):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def local_copy(loc: Location, rel: str) -> Iterator[Path]:
    """A local path holding the file: the file itself for a local corpus, else a temporary
    copy (deleted afterwards). Copying streams to disk, so a 1 GiB export is never in memory."""
    if loc.local:
        yield loc.path / rel
        return
    tmpdir = Path(tempfile.mkdtemp(prefix="presslens-in-"))
    try:
        target = tmpdir / Path(rel).name
        loc.fs.get_file(loc.root + "/" + rel, str(target))
        yield target
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _local_target(target: str) -> Path | None:
    """The local path to write `target` at, its parent folders created; None for a URL."""
    if is_url(target):
        return None
    p = _local_path(target)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def write_atomic(path: Path, data: bytes) -> None:
    """Write a local file so that no reader ever sees half of it: a temporary file in the same
    folder (parents created), renamed over `path`; removed again if writing fails. Two
    processes writing the same file race harmlessly (the last rename wins)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(target: str, data: bytes) -> None:
    """Write a file at a local path or URL (parents created for local paths)."""
    p = _local_target(target)
    if p is not None:
        p.write_bytes(data)
        return
    import fsspec

    fs, path = fsspec.core.url_to_fs(target)
    fs.pipe_file(path, data)


def write_parquet(df: Any, target: str) -> None:
    """Write a polars DataFrame as Parquet at a local path or URL."""
    p = _local_target(target)
    if p is not None:
        df.write_parquet(p)
        return
    buf = io.BytesIO()
    df.write_parquet(buf)
    write_bytes(target, buf.getvalue())


def hardlink_tree(src: Path, dst: Path, skip: Callable[[str], bool] | None = None,
                  copy: frozenset[str] = frozenset()) -> None:
    """`dst` (made here) gets a hard link of every file under `src`, folders recreated: a store
    version shares its unchanged files with the one before (nothing in a version is written in
    place). Files named in `copy` are copied instead (tantivy rewrites its meta.json and
    .managed.json), as are files that cannot be linked (another file system). Lock files and
    the names for which skip(name) is true are left out (a lock taken on one link would hold
    the other)."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(src):
        name = entry.name
        if name.endswith(".lock") or (skip is not None and skip(name)):
            continue
        target = dst / name
        if entry.is_dir(follow_symlinks=False):
            hardlink_tree(Path(entry.path), target, skip, copy)
        elif name in copy:
            shutil.copy2(entry.path, target)
        else:
            try:
                os.link(entry.path, target)
            except OSError:
                shutil.copy2(entry.path, target)
