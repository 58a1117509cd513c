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

import csv
import gc
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
)
from presslens.ingest.text import DecodeError, decode, open_text
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

    def rows() -> Iterator[tuple[int, dict]]:
        for number, line in enumerate(stream, 1):
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

    records, row_rejects, seen_text, names = _rows_to_records(rows(), relpath, encoding, "Line")
    if not seen_text and names:
        return [], [_no_text_column(relpath, names, "fields")] + rejects
    return records, _by_record(rejects + row_rejects)


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
    first_line = stream.readline()
    if not first_line.strip():
        return [], [Reject(relpath, "This CSV file has no header line (the first line is empty).")]
    stream.seek(0)
    delimiter = delimiter or sniff_delimiter(first_line)
    reader = csv.reader(stream, delimiter=delimiter)
    rejects: list[Reject] = []
    try:
        header = next(reader)
    except csv.Error as err:
        return [], [Reject(relpath, f"This CSV file's header could not be read ({err}).")]
    columns = match_columns(header)
    if "text" not in columns:
        return [], [_no_text_column(relpath, header, "columns")]

    def rows() -> Iterator[tuple[int, dict]]:
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

    records, row_rejects, _, _ = _rows_to_records(rows(), relpath, encoding, "Row", columns)
    return records, _by_record(rejects + row_rejects)


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
        record = RawRecord(path=relpath, text=text, record=number, encoding=encoding)
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

