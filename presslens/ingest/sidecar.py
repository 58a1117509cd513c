"""The corpus's metadata sidecar (ROOT/metadata.csv) -> per-file metadata that wins.

In:  the corpus root. metadata.csv has a `path` column (relative to the root, "/" or
     "\\" separators) and any of url, outlet, published, title (case-insensitive; the
     same aliases as exports, e.g. source/publisher for outlet, date for published).
Out: `load_sidecar(root) -> ({relpath: row}, rejects)` where row holds only the values
     given ({"outlet": "Reuters", "published": date(2024, 6, 19)}); and
     `apply_sidecar(records, row)`, which overwrites those fields on every record with
     provenance "sidecar".

A sidecar that cannot be read at all is one Reject for metadata.csv and is ignored;
a bad row (no path, path not in the corpus, repeated path, unreadable date) is a Reject
for metadata.csv with that row number, and the other rows still apply.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from presslens.ingest.fields import clean_str, match_columns, normalise_name, parse_date
from presslens.ingest.tabular import sniff_delimiter
from presslens.ingest.text import DecodeError, decode
from presslens.records import RawRecord, Reject

SIDECAR_NAME = "metadata.csv"
# The sidecar's own size limit: a million rows of path + four short fields is ~200 MB.
MAX_SIDECAR_BYTES = 512 * 1024 * 1024
SIDECAR_FIELDS = ("url", "outlet", "published", "title")
_PATH_NAMES = ("path", "file", "filename", "filepath", "relpath")


def load_sidecar(root: Path) -> tuple[dict[str, dict], list[Reject]]:
    """Read ROOT/metadata.csv if present; see the module docstring."""
    path = Path(root) / SIDECAR_NAME
    try:
        if not path.exists() and not path.is_symlink():
            return {}, []
        size = path.stat().st_size
        if size > MAX_SIDECAR_BYTES:
            return {}, [_whole(f"is {size:,} bytes, over the {MAX_SIDECAR_BYTES:,}-byte limit for a sidecar")]
        data = path.read_bytes()
    except OSError as err:
        return {}, [_whole(f"could not be read ({err.strerror or err})")]
    try:
        text = decode(data).text
    except DecodeError as err:
        return {}, [_whole(str(err))]
    if not text.strip():
        return {}, [_whole("is empty")]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        header = next(reader)
    except csv.Error as err:
        return {}, [_whole(f"is not a readable CSV file ({err})")]
    keys = [normalise_name(h) for h in header]
    path_col = next((keys.index(n) for n in _PATH_NAMES if n in keys), None)
    if path_col is None:
        found = ", ".join(header) or "(none)"
        return {}, [_whole(f"has no path column (the file each row describes); its columns are: {found}")]
    columns = {f: cols for f, cols in match_columns(header).items() if f in SIDECAR_FIELDS}
    if not columns:
        return {}, [_whole(f"has none of the columns url, outlet, published, title; its columns are: {', '.join(header)}")]
    index = {name: i for i, name in reversed(list(enumerate(header)))}

    rows: dict[str, dict] = {}
    first_row: dict[str, int] = {}
    rejects: list[Reject] = []
    number = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            rejects.append(
                Reject(SIDECAR_NAME, f"The metadata sidecar is malformed at line {reader.line_num} ({err}); "
                       "the rows from there on were not used.", number + 1)
            )
            break
        if not values:
            continue
        number += 1
        raw_path = values[path_col].strip() if path_col < len(values) else ""
        rel = _relpath(raw_path)
        if rel is None:
            why = "has no path" if not raw_path else f"has a path outside the corpus ({raw_path!r})"
            rejects.append(Reject(SIDECAR_NAME, f"Row {number} of the metadata sidecar {why}; it was not used.", number))
            continue
        if rel in first_row:
            rejects.append(
                Reject(SIDECAR_NAME, f"Row {number} of the metadata sidecar repeats the path {rel!r} of row "
                       f"{first_row[rel]}; only the first row is used.", number)
            )
            continue
        if not (Path(root) / rel).is_file():
            rejects.append(
                Reject(SIDECAR_NAME, f"Row {number} of the metadata sidecar names {rel!r}, which is not a file "
                       "in the corpus; its metadata was not used.", number)
            )
            continue
        first_row[rel] = number
        row: dict = {}
        for field, cols in columns.items():
            for col in cols:
                i = index[col]
                value = clean_str(values[i]) if i < len(values) else None
                if value is None:
                    continue
                if field == "published":
                    day = parse_date(value)
                    if day is None:
                        rejects.append(
                            Reject(SIDECAR_NAME, f"Row {number} of the metadata sidecar has a published value "
                                   f"{value!r} that is not a date (or is a placeholder day such as 1970-01-01 or a year "
                                   "before 1800); the row's other values are used.", number)
                        )
                        continue
                    value = day
                row[field] = value
                break
        if row:
            rows[rel] = row
    return rows, rejects


def apply_sidecar(records: list[RawRecord], row: dict | None) -> None:
    """Overwrite the sidecar's fields on every record (sidecar values win)."""
    if not row:
        return
    values = {}
    for field in SIDECAR_FIELDS:
        value = row.get(field)
        if field == "published":
            value = parse_date(value)
        else:
            value = clean_str(value)
        if value is not None:
            values[field] = value
    for record in records:
        for field, value in values.items():
            setattr(record, field, value)
            record.provenance[field] = "sidecar"


def _relpath(raw: str) -> str | None:
    """A sidecar path -> the POSIX relative path iter_files yields, or None if unusable."""
    rel = raw.replace("\\", "/")
    while rel.startswith("./"):
        rel = rel[2:]
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts or rel.startswith("/") or ".." in parts or ":" in parts[0]:
        return None
    return "/".join(parts)


def _whole(problem: str) -> Reject:
    return Reject(SIDECAR_NAME, f"The metadata sidecar (metadata.csv) {problem}; it was ignored.")
