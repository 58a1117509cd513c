"""Readers: corpus files -> RawRecord (one per article) or Reject (with a reason).

In:  a corpus folder. Out, per file: `read(path, relpath, sidecar_row)` ->
     (list[RawRecord], list[Reject]); it never raises.

Public API (the build calls these; see ../shared/DESIGN.md):
- iter_files(root, rejects=None)  every input file under root, sorted, recursive; hidden
                      files and folders and the root's metadata.csv are skipped; links that
                      leave the root are not followed but reported in `rejects` (walk.py).
- load_sidecar(root)  ROOT/metadata.csv -> ({relpath: {url, outlet, published, title}}, rejects)
- read(path, relpath, sidecar_row=None)
- read_batches(path, relpath, sidecar_row=None, batch=BATCH_RECORDS): the same records and
  rejects as read(), in batches of at most `batch` records / BATCH_CHARS of text; exports over STREAM_MIN_BYTES
  (JSONL, CSV/TSV) and every Parquet file are streamed, so memory is bounded by the batch,
  not by the file.
- MAX_FILE_BYTES, MAX_EXPORT_BYTES, size_limit(path): size limits; bigger files are
  rejected unread.

Formats, by extension (case-insensitive):
- .txt .text .md and unknown extensions: plain text in any common encoding (text.py);
  an unknown extension holding binary data is rejected, one holding HTML is read as HTML.
- .html .htm .xhtml .shtml: saved web pages, main text via trafilatura (html.py).
- .jsonl .ndjson, .json, .csv .tsv, .parquet: exports, one record per row (tabular.py).
Sidecar values win over the file's own metadata (sidecar.py).
"""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from presslens.ingest.sidecar import SIDECAR_NAME, apply_sidecar
from presslens.ingest.sidecar import load_sidecar as _load_sidecar
from presslens.ingest.tabular import iter_export, read_csv, read_json, read_jsonl, read_parquet
from presslens.ingest.text import DecodeError, decode
from presslens.ingest.walk import escapes, outside_reason
from presslens.ingest.walk import walk as _walk
from presslens.ingest.walk import walk_str as _walk_str
from presslens.records import RawRecord, Reject

# A single document (text or web page) bigger than this is rejected unread. Real articles
# are tens of KB of text and at most a few MB of saved HTML; a 50 MB "article" is a log
# dump, a database export with the wrong extension or a mistake, and reading it whole
# would stall the build (text analysis of one such file takes minutes) and memory.
MAX_FILE_BYTES = 50 * 1024 * 1024
# Exports (.jsonl/.json/.csv/.tsv/.parquet) hold many articles, so their limit is higher.
# The build reads them with read_batches(), which streams JSONL, CSV/TSV and Parquet in
# batches, so their size is bounded by disk, not memory; this limit only stops mistakes
# (a disk image or a database dump with an export's extension).
MAX_EXPORT_BYTES = 64 * 1024**3
# A .json document (or a JSON array saved as .jsonl) is parsed whole: measured 0.94 GB peak
# memory for a 400 MB file, so 1 GiB of JSON needs ~2.5 GB. Bigger ones: use JSON Lines.
MAX_JSON_BYTES = 1024**3
# Records per batch: a build worker holds one batch of records, their enriched rows and
# mentions at a time. 1,000 news articles are ~2-20 MB of text; with rows and mentions a
# batch stays well under 100 MB, while a batch is still big enough for a Parquet shard.
BATCH_RECORDS = 1000
# ...and at most this much text per batch (characters), so a file of very long documents
# does not make one batch of 1,000 x 1 MB.
BATCH_CHARS = 32 * 1024 * 1024
# Exports at least this big are streamed in batches; smaller ones are read whole (the
# exact whole-file readers, ~2.5x the file size in memory: at most ~160 MB here).
STREAM_MIN_BYTES = 64 * 1024 * 1024

TEXT_EXTENSIONS = frozenset({".txt", ".text", ".md"})
HTML_EXTENSIONS = frozenset({".html", ".htm", ".xhtml", ".shtml"})
EXPORT_EXTENSIONS = frozenset({".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet"})
_SUPPORTED = ".txt, .html/.htm, .jsonl, .json, .csv/.tsv, .parquet and other plain-text files"

__all__ = ["BATCH_RECORDS", "MAX_EXPORT_BYTES", "MAX_FILE_BYTES", "MAX_JSON_BYTES", "STREAM_MIN_BYTES", "iter_files",
           "load_sidecar", "read", "read_batches", "size_limit"]


def size_limit(path: Path) -> int:
    """The size limit that applies to this file: MAX_EXPORT_BYTES for exports (and at most
    MAX_JSON_BYTES for a .json document, parsed whole), else MAX_FILE_BYTES."""
    ext = Path(path).suffix.lower()
    if ext == ".json":
        return min(MAX_EXPORT_BYTES, MAX_JSON_BYTES)
    return MAX_EXPORT_BYTES if ext in EXPORT_EXTENSIONS else MAX_FILE_BYTES


def iter_files(root: Path, rejects: list[Reject] | None = None) -> Iterator[Path]:
    """Every input file under `root`, recursively, in sorted order (see walk.walk).

    Skips hidden files and folders (names starting with "."), and ROOT/metadata.csv (the
    sidecar; a metadata.csv in a subfolder is an ordinary input). Follows symbolic links
    that stay inside the root, once (a link loop is not entered twice); links that
    resolve outside the root are neither read nor entered but appended to `rejects`
    (when given) with the reason. Broken links and folders that cannot be listed are
    yielded too, so that read() reports them instead of losing them silently.
    """
    return _walk(root, rejects)


def iter_file_strs(root: str | os.PathLike, rejects: list[Reject] | None = None) -> Iterator[str]:
    """`iter_files`, each path a string (the build's planning lists every file of a corpus)."""
    return _walk_str(root, rejects)


def load_sidecar(root: Path) -> tuple[dict[str, dict], list[Reject]]:
    """ROOT/metadata.csv -> ({relpath: {field: value}}, rejects); see sidecar.py.

    Values are cleaned: strings stripped, `published` a datetime.date. Missing sidecar:
    ({}, []). An unreadable sidecar: ({}, [one Reject for metadata.csv]).
    """
    return _load_sidecar(Path(root))


def read(path: Path, relpath: str, sidecar_row: dict | None = None) -> tuple[list[RawRecord], list[Reject]]:
    """Read one corpus file into records; never raises.

    Holds the whole file's records at once: for big exports use read_batches().
    `relpath` (POSIX, relative to the corpus root) is stored on every record and reject.
    `sidecar_row` (from load_sidecar) overwrites url/outlet/published/title on every
    record with provenance "sidecar". Any failure is a Reject whose reason says what is
    wrong in words a person understands; problems in one row of an export reject that row
    only.
    """
    try:
        records, rejects = _read(Path(path), relpath)
        apply_sidecar(records, sidecar_row)
        return records, rejects
    except Exception as err:  # the contract: a file never stops the build
        return [], [
            Reject(relpath, f"An unexpected error stopped the reading of this file ({type(err).__name__}: {err}).")
        ]


def read_batches(path: Path, relpath: str, sidecar_row: dict | None = None, batch: int = BATCH_RECORDS,
                 stream_min_bytes: int = STREAM_MIN_BYTES,
                 batch_chars: int = BATCH_CHARS) -> Iterator[tuple[list[RawRecord], list[Reject]]]:
    """Like read(), in batches of at most `batch` records; a batch also ends as soon as its
    rows hold `batch_chars` characters (so it holds at most batch_chars + one record's
    text). Concatenated, the batches hold
    exactly read()'s records and rejects. Never raises: an error part-way through a
    streamed file ends it with one reject (the batches before it stay valid).

    JSONL/CSV/TSV exports of at least `stream_min_bytes` and all Parquet files are read
    as a stream, so memory is bounded by the batch, not by the file; every other file is
    read whole (they are at most MAX_FILE_BYTES, or a .json document) and cut into batches.
    """
    path = Path(path)
    ext = path.suffix.lower()
    try:
        streamable = ext == ".parquet" or (
            ext in (".jsonl", ".ndjson", ".csv", ".tsv") and path.stat().st_size >= stream_min_bytes)
    except OSError:
        streamable = False
    problem = _check(path, relpath) if streamable else None
    if not streamable or problem is not None:
        records, rejects = read(path, relpath, sidecar_row)
        if not records:
            yield [], rejects
            return
        first = True
        while records:
            n, chars = 0, 0
            while n < len(records) and n < batch and chars < batch_chars:
                chars += len(records[n].text)
                n += 1
            yield records[:n], (rejects if first else [])
            records, first = records[n:], False
        return
    number = 0
    try:
        for records, rejects in iter_export(path, relpath, ext, batch, batch_chars, MAX_JSON_BYTES):
            apply_sidecar(records, sidecar_row)
            number = records[-1].record if records and records[-1].record else number
            yield records, rejects
    except Exception as err:  # the contract: a file never stops the build
        yield [], [Reject(relpath, f"An unexpected error stopped the reading of this file after record {number} "
                                   f"({type(err).__name__}: {err}).", number + 1)]


def _check(path: Path, relpath: str) -> list[Reject] | None:
    """The checks read() makes before opening a file (exists, regular, size, readable);
    None when the file can be read."""
    if escapes(path, relpath) is not None:
        return [Reject(relpath, "outside the corpus")]  # read() gives the precise reason
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size == 0 or info.st_size > size_limit(path):
            return [Reject(relpath, "not readable")]  # read() gives the precise reason
        with open(path, "rb"):
            pass
    except OSError as err:
        return [Reject(relpath, str(err))]
    return None


def _read(path: Path, relpath: str) -> tuple[list[RawRecord], list[Reject]]:
    def reject(reason: str) -> tuple[list[RawRecord], list[Reject]]:
        return [], [Reject(relpath, reason)]

    # Checked again here (walk() already refuses such links): a link swapped for one that
    # leaves the corpus between listing and reading must still not be read.
    target = escapes(path, relpath)
    if target is not None:
        return reject(outside_reason(path, target, os.path.isdir(target)))

    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return reject("This is a broken link: the file it points to does not exist.")
        return reject("The file could not be found (was it moved or deleted during the build?).")
    except OSError as err:
        return reject(f"The file could not be read ({_os_reason(err)}).")
    if stat.S_ISDIR(info.st_mode):
        return reject("This is a folder, not a file (if it holds articles, its contents could not be listed: check its permissions).")
    if not stat.S_ISREG(info.st_mode):
        return reject("This is not a regular file (a pipe, socket or device), so it was not read.")
    ext = path.suffix.lower()
    limit = size_limit(path)
    if info.st_size > limit:
        return reject(
            f"The file is too big to read: {_size(info.st_size)}, over the limit of {_size(limit)} "
            f"for {'an export' if ext in EXPORT_EXTENSIONS else 'one document'}."
        )
    if info.st_size == 0:
        return reject("The file is empty.")
    if ext == ".parquet":
        try:
            with open(path, "rb"):
                pass  # polars reports a permission problem less clearly
        except OSError as err:
            return reject(f"The file could not be read ({_os_reason(err)}).")
        return read_parquet(path, relpath)
    try:
        with open(path, "rb") as handle:
            # read(n) allocates n bytes up front: ask for the size seen, then check for growth.
            data = handle.read(min(limit, info.st_size) + 1)
            while len(data) <= limit:
                more = handle.read(min(1 << 24, limit + 1 - len(data)))
                if not more:
                    break
                data += more
    except OSError as err:
        return reject(f"The file could not be read ({_os_reason(err)}).")
    if len(data) > limit:
        return reject(f"The file is too big to read: over the limit of {_size(limit)} (it grew while being read).")
    if not data:
        return reject("The file is empty.")
    if ext in HTML_EXTENSIONS:
        from presslens.ingest.html import read_html  # trafilatura: imported for HTML only

        return read_html(data, relpath)
    if ext in (".jsonl", ".ndjson"):
        return read_jsonl(data, relpath)
    if ext == ".json":
        return read_json(data, relpath)
    if ext == ".csv":
        return read_csv(data, relpath)
    if ext == ".tsv":
        return read_csv(data, relpath, delimiter="\t")
    return _read_text(data, relpath, known=ext in TEXT_EXTENSIONS)


def _read_text(data: bytes, relpath: str, known: bool) -> tuple[list[RawRecord], list[Reject]]:
    """Plain text; for an unknown extension, HTML content goes to the HTML reader."""
    try:
        decoded = decode(data)
    except DecodeError as err:
        hint = "" if known else f" Supported files: {_SUPPORTED}."
        return [], [Reject(relpath, f"This file {err}.{hint}")]
    text = decoded.text
    if not text.strip():
        return [], [Reject(relpath, "The file holds only white space, no text.")]
    if not known and _looks_like_html(text):
        from presslens.ingest.html import extract

        return extract(text, relpath, decoded.encoding)
    return [RawRecord(path=relpath, text=text, encoding=decoded.encoding)], []


def _looks_like_html(text: str) -> bool:
    start = text[:1024].lstrip().lower()
    return start.startswith("<!doctype html") or start.startswith("<html")


def _os_reason(err: OSError) -> str:
    if isinstance(err, PermissionError):
        return "permission denied: check the file's permissions"
    return err.strerror or str(err)


def _size(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"
