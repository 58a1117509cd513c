"""Exports of a view: the articles a link shows, streamed to a CSV or Parquet file.

In:  an iterable of article frames (one batch of rows at a time, already in the order the
     export should have) and an output path. Out: the file, written batch by batch, so a
     million-row export never holds the whole table in memory (one batch, plus the writer's
     buffer); `progress(done, total)` is called after every batch.

CSV has no lists and is opened by spreadsheet programs, so for CSV:
- list columns are joined with "; ";
- every text cell that starts with a character a spreadsheet treats as a formula
  (=, +, -, @, and the tab / carriage return that can precede one) gets a leading
  apostrophe: `'=HYPERLINK(...)` is shown as text instead of being run. This is the
  OWASP "CSV injection" advice. Parquet keeps the exact text (it is read by programs).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable

import polars as pl

FORMATS = ("csv", "parquet")
# First characters that make a spreadsheet cell a formula (OWASP CSV injection list).
FORMULA_START = r"^[=+\-@\t\r]"
# Rows per batch: large enough to keep Arrow/Polars efficient, small enough that one batch
# (light columns, no article text) stays a few tens of MB.
BATCH_ROWS = 50_000

Progress = Callable[[int, int], None]


def neutralise(df: pl.DataFrame) -> pl.DataFrame:
    """For CSV: list columns joined with '; ', formula-looking text cells prefixed with "'"."""
    lists = [c for c, t in df.schema.items() if isinstance(t, pl.List)]
    df = df.with_columns(pl.col(c).cast(pl.List(pl.String)).list.join("; ") for c in lists)
    texts = [c for c, t in df.schema.items() if t == pl.String]
    return df.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in texts
    )


def write(frames: Iterable[pl.DataFrame], out: str | os.PathLike, fmt: str, total: int | None = None,
          progress: Progress | None = None) -> int:
    """Stream `frames` into `out` as `fmt` (csv or parquet); returns the number of rows written.

    The file is written under a temporary name and moved into place at the end, so a failed
    export never leaves a truncated file that looks complete. An empty view still gives a
    valid file with the right columns when `frames` yields one empty frame (producers do).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    out = Path(out)
    tmp = out.with_name(f".{out.name}.part")
    done = 0
    writer = None
    try:
        with open(tmp, "wb") as fh:
            for df in frames:
                if fmt == "csv":
                    neutralise(df).write_csv(fh, include_header=done == 0)
                else:
                    import pyarrow.parquet as pq

                    table = df.to_arrow()
                    if writer is None:
                        writer = pq.ParquetWriter(fh, table.schema, compression="zstd")
                    writer.write_table(table)
                done += df.height
                if progress is not None:
                    progress(done, total if total is not None else done)
            if writer is not None:
                writer.close()
                writer = None
        os.replace(tmp, out)
    finally:
        if writer is not None:
            writer.close()
        if tmp.exists():
            tmp.unlink()
    return done


def view_frames(ix, f, batch: int = BATCH_ROWS):
    """The rows a view lists (query.selected_rows), as export frames of `batch` articles each.

    Always yields at least one frame (an empty view gives one empty frame with every column),
    so every export file is valid. Returns a (total, generator) pair.
    """
    import numpy as np

    from presslens import query

    rows = query.selected_rows(ix, f)

    def gen():
        if rows.size == 0:
            yield query.export_frame(ix, f, np.zeros(0, np.int64))
            return
        for start in range(0, rows.size, batch):
            yield query.export_frame(ix, f, rows[start:start + batch])

    return int(rows.size), gen()


def export_view(ix, f, out: str | os.PathLike, fmt: str, progress: Progress | None = None,
                batch: int = BATCH_ROWS) -> int:
    """Write the articles of view `f` (every listed row, with entity lists) to `out`."""
    total, frames = view_frames(ix, f, batch)
    return write(frames, out, fmt, total=total, progress=progress)


def link_state(ix, view: str | None, version: str | None = None):
    """The LinkState (Filters, ignored-parameter notices, stale version) of a shared link or
    its query string, checked against the store exactly as the app checks a URL."""
    from urllib.parse import parse_qs, urlsplit

    from presslens import links, query

    view = (view or "").strip()
    qs = urlsplit(view).query if ("?" in view or "://" in view) else view.lstrip("?")
    params = {k: v for k, v in parse_qs(qs, keep_blank_values=True).items() if k not in links.STREAMLIT_OWN}
    ents, docs = links.requested_ids(params)
    voc = query.vocabulary(ix)
    vocab = links.Vocabulary(
        languages=frozenset(voc["languages"][0]), outlets=frozenset(voc["outlets"][0]),
        sources=frozenset(voc["sources"][0]),
        entities=frozenset(query.existing(ix, "entity_id", ents)["entity_id"].to_list()) if ents else frozenset(),
        docs=frozenset(query.existing(ix, "doc_id", docs)["doc_id"].to_list()) if docs else frozenset(),
        version=version,
    )
    return links.parse(params, vocab)
