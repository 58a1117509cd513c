"""Exports (JSONL, JSON, CSV/TSV, Parquet) -> one RawRecord per row.

In:  the file's bytes (Parquet: its path) and its path relative to the corpus root.
Out: `(records, rejects)`. Each row with a text becomes a RawRecord with `record` =
     1-based line number (JSONL) or row number (JSON array, CSV/TSV data rows after the
     header, Parquet), metadata from the title/url/published/outlet/language columns (see
     fields.ALIASES, matched case-insensitively) with provenance "field".
     Bad rows are rejected one by one (malformed JSON line, empty text) and the rest is
     kept; a file without any text column is rejected once, naming the columns it has.

Text cells are stored exactly as in the file (no trimming): offsets index them.
"""
from __future__ import annotations

import codecs
import csv
import gc
import io
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from presslens.ingest.fields import (
    clean_language,
    clean_str,
    first_value,
    match_columns,
    parse_date,
    valid_unicode,
)
from presslens.ingest.text import DecodeError, _bom, decode, open_text
from presslens.records import RawRecord, Reject

# csv refuses fields over 128 KiB by default; a long article with its HTML can exceed it.
# The file-size limit in presslens.ingest bounds the real size.
csv.field_size_limit(2**31 - 1)

_TEXT_NAMES = "text, full_text, content, body, article"
# How many column names a "no text column" reason lists before "...".
_MAX_NAMES_SHOWN = 20


def read_jsonl(data: bytes, relpath: str, array_ok: bool = True) -> tuple[list[RawRecord], list[Reject]]:
    """One JSON object per line; a malformed line is rejected alone."""
    if array_ok and data[:4096].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")[:1] == b"[":
        array = _whole_json(data)  # a JSON array saved as .jsonl?
        if array is not None:
            return _json_document(array[0], relpath, array[1])
    try:
        # LF only: JSON strings cannot hold a raw CR or LF, but may hold a raw U+2028.
        stream, encoding = open_text(data, newline="\n")
    except DecodeError as err:
        return [], [Reject(relpath, f"This JSON Lines file {err}.")]
    rejects: list[Reject] = []
    rows = _jsonl_rows(stream, relpath, rejects)
    records, row_rejects, seen_text, names = _rows_to_records(rows, relpath, encoding, "Line")
    if not seen_text and names:
        return [], [_no_text_column(relpath, names, "fields")] + rejects
    return records, _by_record(rejects + row_rejects)


def _jsonl_rows(lines: Iterable[str], relpath: str, rejects: list[Reject]) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each JSON object line; bad lines go to `rejects`.
    A line that cannot be decoded (streamed files) ends the file with one reject."""
    number = 0
    it = iter(lines)
    while True:
        try:
            line = next(it)
        except StopIteration:
            return
        except UnicodeDecodeError as err:
            rejects.append(Reject(relpath, f"Line {number + 1} onwards could not be decoded as {err.encoding.upper()}; "
                                           "the lines from there on were not read.", number + 1))
            return
        number += 1
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as err:
            detail = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
            where = f" at column {err.colno}" if isinstance(err, json.JSONDecodeError) else ""
            rejects.append(
                Reject(relpath, f"Line {number} is not valid JSON ({detail}{where}); the other lines were read.", number)
            )
            continue
        if not isinstance(obj, dict):
            rejects.append(
                Reject(relpath, f"Line {number} is JSON but not an object with fields (it is a {_json_type(obj)}).", number)
            )
            continue
        yield number, obj


def read_json(data: bytes, relpath: str) -> tuple[list[RawRecord], list[Reject]]:
    """A JSON array of objects, one object, or an object holding one such array."""
    try:
        decoded = decode(data)
    except DecodeError as err:
        return [], [Reject(relpath, f"This JSON file {err}.")]
    try:
        with _gc_paused():
            parsed = json.loads(decoded.text)
    except json.JSONDecodeError as err:
        if err.msg == "Extra data":  # one object per line, saved as .json
            return read_jsonl(data, relpath, array_ok=False)
        return [], [
            Reject(relpath, f"This JSON file is malformed ({err.msg} at line {err.lineno}, column {err.colno}).")
        ]
    except (ValueError, RecursionError) as err:
        return [], [Reject(relpath, f"This JSON file is malformed ({err}).")]
    return _json_document(parsed, relpath, decoded.encoding)


def _whole_json(data: bytes) -> tuple[object, str] | None:
    """(parsed document, encoding) if the whole file is one JSON document, else None."""
    try:
        decoded = decode(data)
        with _gc_paused():
            return json.loads(decoded.text), decoded.encoding
    except (DecodeError, ValueError, RecursionError):
        return None


def _json_document(parsed: object, relpath: str, encoding: str) -> tuple[list[RawRecord], list[Reject]]:
    if isinstance(parsed, dict):
        if "text" in match_columns(list(parsed)):
            records, rejects, _, _ = _rows_to_records([(1, parsed)], relpath, encoding, "Object")
            for record in records:
                record.record = None  # one document, like a .txt file
            for reject in rejects:
                reject.record = None
                reject.reason = reject.reason.replace("Object 1 has", "The object has")
            return records, rejects
        lists = [v for v in parsed.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if len(lists) != 1:
            return [], [_no_text_column(relpath, list(parsed), "fields")]
        parsed = lists[0]  # {"articles": [...]}, {"data": [...]}: API response dumps
    if not isinstance(parsed, list):
        return [], [
            Reject(relpath, f"This JSON file holds a {_json_type(parsed)}, not articles (an array of objects with a text field).")
        ]
    rejects: list[Reject] = []

    def rows() -> Iterator[tuple[int, dict]]:
        for number, obj in enumerate(parsed, 1):
            if isinstance(obj, dict):
                yield number, obj
            else:
                rejects.append(Reject(relpath, f"Row {number} is not an object with fields (it is a {_json_type(obj)}).", number))

    records, row_rejects, seen_text, names = _rows_to_records(rows(), relpath, encoding, "Row")
    if not seen_text and names:
        return [], [_no_text_column(relpath, names, "fields")]
    return records, _by_record(rejects + row_rejects)


def read_csv(data: bytes, relpath: str, delimiter: str | None = None) -> tuple[list[RawRecord], list[Reject]]:
    """A CSV/TSV with a header row; the delimiter (, ; tab |) is taken from the header."""
    try:
        stream, encoding = open_text(data, newline="")
    except DecodeError as err:
        return [], [Reject(relpath, f"This CSV file {err}.")]
    setup = _csv_setup(stream, relpath, delimiter)
    if isinstance(setup, Reject):
        return [], [setup]
    reader, header, columns, delimiter = setup
    rejects: list[Reject] = []
    rows = _csv_rows(reader, header, delimiter, relpath, rejects)
    records, row_rejects, _, _ = _rows_to_records(rows, relpath, encoding, "Row", columns)
    return records, _by_record(rejects + row_rejects)


def _csv_setup(stream, relpath: str, delimiter: str | None):
    """(csv reader, header, column mapping, delimiter) positioned after the header, or a Reject."""
    first_line = stream.readline()
    if not first_line.strip():
        return Reject(relpath, "This CSV file has no header line (the first line is empty).")
    stream.seek(0)
    delimiter = delimiter or sniff_delimiter(first_line)
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as err:
        return Reject(relpath, f"This CSV file's header could not be read ({err}).")
    columns = match_columns(header)
    if "text" not in columns:
        return _no_text_column(relpath, header, "columns")
    return reader, header, columns, delimiter


def _csv_rows(reader, header: list[str], delimiter: str, relpath: str,
              rejects: list[Reject]) -> Iterator[tuple[int, dict]]:
    """(row number, {column: value}) per data row; malformed rows go to `rejects`."""
    number = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            rejects.append(
                Reject(
                    relpath,
                    f"The CSV is malformed at line {reader.line_num} ({err}); the rows from there on were not read.",
                    number + 1,
                )
            )
            return
        except UnicodeDecodeError as err:
            rejects.append(Reject(relpath, f"Row {number + 1} onwards could not be decoded as {err.encoding.upper()}; "
                                           "the rows from there on were not read.", number + 1))
            return
        if not values:
            continue  # a blank line is not a row
        number += 1
        if len(values) > len(header):
            rejects.append(
                Reject(
                    relpath,
                    f"Row {number} (line {reader.line_num}) has {len(values)} fields but the header has "
                    f"{len(header)}: a {_delimiter_name(delimiter)} inside an unquoted field?",
                    number,
                )
            )
            continue
        yield number, dict(zip(header, values))


def read_parquet(path: Path, relpath: str) -> tuple[list[RawRecord], list[Reject]]:
    """A Parquet file, read with polars: only the columns we use are loaded."""
    try:
        schema = pl.read_parquet_schema(path)
    except (pl.exceptions.PolarsError, OSError, ValueError) as err:
        return [], [Reject(relpath, f"This file is not a readable Parquet file ({_first_line(err)}).")]
    names = list(schema)
    columns = match_columns(names)
    if "text" not in columns:
        return [], [_no_text_column(relpath, names, "columns")]
    needed = list(dict.fromkeys(c for cols in columns.values() for c in cols))
    try:
        frame = pl.read_parquet(path, columns=needed, glob=False)
    except (pl.exceptions.PolarsError, OSError, ValueError) as err:
        return [], [Reject(relpath, f"This Parquet file could not be read ({_first_line(err)}).")]
    rows = enumerate(frame.iter_rows(named=True), 1)
    records, rejects, _, _ = _rows_to_records(rows, relpath, "utf-8", "Row", columns)
    return records, rejects


def sniff_delimiter(text: str) -> str:
    """The delimiter used in the header line: the most frequent of , ; tab |."""
    end = text.find("\n")
    header = text[: end if end >= 0 else 10_000]
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _rows_to_records(
    rows: Iterable[tuple[int, dict]],
    relpath: str,
    encoding: str,
    unit: str,
    columns: dict[str, list[str]] | None = None,
) -> tuple[list[RawRecord], list[Reject], bool, list[str]]:
    """Rows -> records and per-row rejects; also whether any row had a text column at all,
    and the field names seen (for a 'no text column' reason). `columns` fixes the column
    mapping (CSV, Parquet); without it each row's own keys are matched (JSON)."""
    with _gc_paused():
        return _rows_to_records_inner(rows, relpath, encoding, unit, columns)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many records.

    Records form no reference cycles, but every few hundred new objects the collector
    re-scans all of them: measured 8.8 s -> 2.8 s for a 100,000-line JSONL file."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _rows_to_records_inner(
    rows: Iterable[tuple[int, dict]],
    relpath: str,
    encoding: str,
    unit: str,
    columns: dict[str, list[str]] | None,
) -> tuple[list[RawRecord], list[Reject], bool, list[str]]:
    records: list[RawRecord] = []
    rejects: list[Reject] = []
    seen_text = columns is not None and "text" in columns
    names: dict[str, None] = {}
    cache: dict[tuple, dict[str, list[str]]] = {}
    for number, row in rows:
        cols = columns
        if cols is None:
            keys = tuple(row)
            cols = cache.get(keys)
            if cols is None:
                cols = cache[keys] = match_columns(list(keys))
                if len(names) < 1000:
                    names.update(dict.fromkeys(keys))
            seen_text = seen_text or "text" in cols
        text = first_value(row, cols.get("text"))
        if text is None:
            where = " or ".join(f'"{c}"' for c in cols["text"]) if "text" in cols else f"none of {_TEXT_NAMES}"
            rejects.append(Reject(relpath, f"{unit} {number} has no text: its text field ({where}) is empty.", number))
            continue
        if not isinstance(text, str):
            rejects.append(
                Reject(relpath, f"{unit} {number} has no text: its text field holds a {_json_type(text)}, not a string.", number)
            )
            continue
        record = RawRecord(path=relpath, text=valid_unicode(text), record=number, encoding=encoding)
        for field in ("title", "url", "outlet"):
            value = clean_str(first_value(row, cols.get(field)))
            if value is not None:
                setattr(record, field, value)
                record.provenance[field] = "field"
        if "published" in cols:
            # The first column holding a readable date wins (a "date" column may hold junk).
            for col in cols["published"]:
                day = parse_date(row.get(col))
                if day is not None:
                    record.published = day
                    record.provenance["published"] = "field"
                    break
        language = clean_language(first_value(row, cols.get("language")))
        if language is not None:
            record.language = language
            record.provenance["language"] = "field"
        records.append(record)
    return records, rejects, seen_text, list(names)


def _no_text_column(relpath: str, names: Iterable[object], kind: str) -> Reject:
    shown = [str(n) for n in names]
    listed = ", ".join(shown[:_MAX_NAMES_SHOWN]) + (", ..." if len(shown) > _MAX_NAMES_SHOWN else "")
    return Reject(
        relpath,
        f"No text column found: expected one of {_TEXT_NAMES} (any case), "
        f"but the file has the {kind}: {listed or '(none)'}.",
    )


def _by_record(rejects: list[Reject]) -> list[Reject]:
    return sorted(rejects, key=lambda r: r.record or 0)


def _json_type(value: object) -> str:
    return {
        dict: "object", list: "list", str: "string", int: "number", float: "number", bool: "true/false value",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}.get(delimiter, repr(delimiter))


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]



# ------------------------------------------------------------------ streaming (big exports)

# Bytes read from the start of a streamed file to settle its encoding (BOM, UTF-8 or a
# legacy code page): the same sample size the whole-file decoder scores.
_HEAD_BYTES = 256 * 1024


def _open_stream(path: Path, newline: str) -> tuple[io.TextIOBase, str]:
    """A text stream over a file, decoding lazily; the encoding is decided from its head.
    Raises DecodeError for binary data."""
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    bom = _bom(head)
    if bom is not None:
        codec, label, skip = bom
    else:
        skip = 0
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            codec = label = "utf-8"
        except UnicodeDecodeError:
            codec = label = decode(head).encoding
    raw = open(path, "rb")  # noqa: SIM115  closed with the text stream
    raw.seek(skip)
    return io.TextIOWrapper(raw, encoding=codec, newline=newline), label


def iter_export(path: Path, relpath: str, ext: str, batch: int, batch_chars: int = 32 * 1024 * 1024,
                max_json_bytes: int = 1024**3) -> Iterator[tuple[list[RawRecord], list[Reject]]]:
    """Stream a JSONL, CSV/TSV or Parquet export in batches of at most `batch` records.

    Same records and rejects as read_jsonl / read_csv / read_parquet on the whole file
    (record numbers, reasons), but at most one batch of rows is held at a time, so a 1 GiB
    export is read in bounded memory. A batch also ends once its rows hold `batch_chars`
    characters of strings (Parquet: one row batch of the file). A JSON Lines file that is really one JSON array is
    parsed whole (JSON arrays have no streaming reader here)."""
    if ext == ".parquet":
        yield from _iter_parquet(path, relpath, batch)
        return
    newline = "\n" if ext in (".jsonl", ".ndjson") else ""
    if ext in (".jsonl", ".ndjson"):
        with open(path, "rb") as fh:
            start = fh.read(4096)
        if start.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")[:1] == b"[":
            if path.stat().st_size > max_json_bytes:
                yield [], [Reject(relpath, f"This file holds one JSON array of {path.stat().st_size:,} bytes, over the "
                                           f"limit of {max_json_bytes:,} bytes for a document read whole: save it as "
                                           "JSON Lines (one object per line), which is read in batches.")]
                return
            yield read_jsonl(path.read_bytes(), relpath)
            return
    what = "JSON Lines" if newline == "\n" else "CSV"
    try:
        stream, encoding = _open_stream(path, newline)
    except DecodeError as err:
        yield [], [Reject(relpath, f"This {what} file {err}.")]
        return
    with stream:
        parse_rejects: list[Reject] = []
        if newline == "\n":
            rows = _jsonl_rows(stream, relpath, parse_rejects)
            yield from _batches(rows, relpath, encoding, "Line", None, batch, batch_chars, parse_rejects)
            return
        setup = _csv_setup(stream, relpath, "\t" if ext == ".tsv" else None)
        if isinstance(setup, Reject):
            yield [], [setup]
            return
        reader, header, columns, delimiter = setup
        rows = _csv_rows(reader, header, delimiter, relpath, parse_rejects)
        yield from _batches(rows, relpath, encoding, "Row", columns, batch, batch_chars, parse_rejects)


def _batches(rows: Iterator[tuple[int, dict]], relpath: str, encoding: str, unit: str,
             columns: dict[str, list[str]] | None, batch: int, batch_chars: int,
             parse_rejects: list[Reject]) -> Iterator[tuple[list[RawRecord], list[Reject]]]:
    """Cut a row stream into record batches. Until a row with a text field is seen, "no
    text" rejects are held back: a file with no text field at all gets the one file-level
    reason the whole-file reader gives, naming the fields it has."""
    seen_text = columns is not None
    names: dict[str, None] = {}
    pending: list[Reject] = []
    while True:
        chunk = _take(rows, batch, batch_chars)
        parsed = parse_rejects[:]
        parse_rejects.clear()
        if not chunk and not parsed:
            break
        records, row_rejects, seen, seen_names = _rows_to_records(chunk, relpath, encoding, unit, columns)
        if len(names) < 1000:
            names.update(dict.fromkeys(seen_names))
        if not seen_text and not seen:
            pending.extend(row_rejects)
            if parsed:
                yield [], _by_record(parsed)
            continue
        seen_text = True
        yield records, _by_record(parsed + pending + row_rejects)
        pending = []
        if not chunk:
            break
    if not seen_text and names:
        yield [], [_no_text_column(relpath, list(names), "fields")]
    elif pending:
        yield [], _by_record(pending)


def _take(rows: Iterator[tuple[int, dict]], most: int, chars: int) -> list[tuple[int, dict]]:
    """The next rows, up to `most` rows or until they hold `chars` characters of strings."""
    out: list[tuple[int, dict]] = []
    held = 0
    for item in rows:
        out.append(item)
        held += sum(len(v) for v in item[1].values() if isinstance(v, str))
        if len(out) >= most or held >= chars:
            break
    return out


def _iter_parquet(path: Path, relpath: str, batch: int) -> Iterator[tuple[list[RawRecord], list[Reject]]]:
    """A Parquet file in row batches (pyarrow), only the columns we use."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
    except Exception as err:  # pyarrow raises several types for a damaged file
        yield [], [Reject(relpath, f"This file is not a readable Parquet file ({_first_line(err)}).")]
        return
    columns = match_columns(names)
    if "text" not in columns:
        yield [], [_no_text_column(relpath, names, "columns")]
        return
    needed = list(dict.fromkeys(c for cols in columns.values() for c in cols))
    number = 0
    try:
        for rb in pf.iter_batches(batch_size=batch, columns=needed):
            frame = pl.from_arrow(rb)
            rows = enumerate(frame.iter_rows(named=True), number + 1)
            records, rejects, _, _ = _rows_to_records(rows, relpath, "utf-8", "Row", columns)
            number += frame.height
            yield records, rejects
    except Exception as err:
        yield [], [Reject(relpath, f"This Parquet file could not be read from row {number + 1} on "
                                   f"({_first_line(err)}).", number + 1)]
