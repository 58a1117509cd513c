"""Exports of the articles in view, made only when the analyst asks for one.

Nothing is written on an ordinary rerun. "Prepare" streams the view's rows (presslens.export,
batch by batch, with a progress bar) into a file in the temp folder; the download button then
hands that file to the browser, read from disk only when it is clicked (deferred data). A
prepared file belongs to one view: change a filter and it has to be prepared again.
"""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import streamlit as st

from presslens import export
from presslens.ui.data import data, index, value
from presslens.ui.state import _state, current_filters
from presslens.ui.storage import info

MIME = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
# Prepared exports live here (one file per session, view and format; rewritten, not piled up).
EXPORT_DIR = Path(tempfile.gettempdir()) / "presslens-exports"


def _target(fmt: str) -> Path:
    key = f"{info().directory}|{current_filters()!r}|{fmt}|{id(_state())}"
    return EXPORT_DIR / f"presslens-{hashlib.sha1(key.encode()).hexdigest()[:16]}.{fmt}"


def exports() -> None:
    """Format choice, a Prepare button (with progress), then the download of the prepared file."""
    total = value(data("summary"), "articles", 0) + (value(data("summary"), "duplicates", 0)
                                                    if current_filters().duplicates else 0)
    with st.expander(f"Export the {total:,} article{'s' if total != 1 else ''} in view", icon="📥"):
        st.caption("Metadata and entity lists of every article listed for this view (not only the first rows "
                   "shown). In CSV, cells that a spreadsheet would run as a formula start with an apostrophe; "
                   "Parquet keeps the exact text.")
        fmt = st.radio("Format", ["csv", "parquet"], format_func=str.upper, horizontal=True, key="export-format")
        target = _target(fmt)
        prepared = _state().get("export_ready")
        if st.button(f"Prepare {fmt.upper()}", key=f"export-go-{fmt}"):
            EXPORT_DIR.mkdir(parents=True, exist_ok=True)
            bar = st.progress(0.0, text="Exporting …")

            def progress(done: int, n: int) -> None:
                bar.progress(min(1.0, done / n) if n else 1.0, text=f"Exporting: {done:,} of {n:,} articles")

            try:
                n = export.export_view(index(), current_filters(), target, fmt, progress=progress)
            except OSError as exc:
                bar.empty()
                st.error(f"The export could not be written to the temp folder: {exc.strerror or exc}.")
                return
            bar.empty()
            prepared = _state()["export_ready"] = (str(target), n)
        if prepared and prepared[0] == str(target) and target.exists():
            path, n = Path(prepared[0]), prepared[1]
            size = path.stat().st_size
            st.download_button(
                f"Download {fmt.upper()} ({n:,} articles, {size / 1e6:,.1f} MB)", data=path.read_bytes,
                file_name=f"presslens-articles.{fmt}", mime=MIME[fmt], icon="📥", on_click="ignore",
                key=f"dl-{fmt}", type="primary")
