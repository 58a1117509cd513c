"""The store behind the app: PRESSLENS_STORE, built from PRESSLENS_CORPUS when missing or stale.

`ensure_store()` -> StoreInfo (with a visible progress bar when it has to build);
`info()` -> the StoreInfo this run resolved; `start()` runs first on every run.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import streamlit as st

from presslens import store
from presslens.ui.state import _state, sync_from_url


log = logging.getLogger("presslens.ui")
_BUILD_LOCK = threading.Lock()  # one build at a time per server process


def store_root() -> Path:
    return Path(os.environ.get("PRESSLENS_STORE", "data/store"))


def corpus_root() -> Path:
    return Path(os.environ.get("PRESSLENS_CORPUS", "data/corpus"))


def ensure_store() -> store.StoreInfo:
    """The live store; built first (with a visible progress bar) when missing or stale."""
    s = _state()
    root, corpus = store_root(), corpus_root()
    info = store.current(root)
    need = info is None
    if info is not None and not s["checked"]:
        # Checking staleness stats every corpus file: once per session, not per page.
        s["checked"] = True
        try:
            from presslens import build
            need = bool(build.is_stale(str(corpus), str(root)))
        except ImportError:
            need = False
        except Exception as exc:  # a broken check must not hide the data we have
            st.warning(f"Could not check whether the store is up to date: {exc}")
    if need:
        if not corpus.is_dir():
            if info is None:
                st.error(f"No store at `{root}` and no corpus folder at `{corpus}`. "
                         "Set PRESSLENS_CORPUS to a folder of articles (or PRESSLENS_STORE to a built store).")
                st.stop()
        else:
            try:
                from presslens import build
            except ImportError:
                if info is None:
                    st.error(f"No store at `{root}` yet. Build it with "
                             f"`python -m presslens build --corpus {corpus} --store {root}`.")
                    st.stop()
            else:
                with _BUILD_LOCK:
                    bar = st.progress(0.0, text=f"Building the store from {corpus} …")

                    def progress(done: int, total: int) -> None:
                        frac = min(1.0, done / total) if total else 1.0
                        bar.progress(frac, text=f"Building the store from {corpus}: {done:,} of {total:,} files")

                    started = time.perf_counter()
                    summary = build.build(str(corpus), str(root), progress=progress)
                    bar.empty()
                    log.info("built store in %.1fs: %s", time.perf_counter() - started, summary)
                st.toast(f"Store built from {corpus} ({time.perf_counter() - started:.1f}s).")
                info = store.current(root)
    if info is None:
        st.error(f"The store at `{root}` could not be read (no CURRENT version).")
        st.stop()
    return info


def info() -> store.StoreInfo:
    s = _state()
    if "info" not in s:  # a page run without app.py (should not happen): still work
        start()
    return s["info"]


def start() -> None:
    """First thing every run: the store (built if needed), then the state from the URL."""
    _state()["info"] = ensure_store()
    sync_from_url()
