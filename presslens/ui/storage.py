"""The store behind the app: PRESSLENS_STORE, served as it is, built only when missing and
refreshed only from the corpus it was built from (presslens.guard decides).

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

from presslens import guard, store
from presslens.ui.state import _state, sync_from_url


log = logging.getLogger("presslens.ui")
_BUILD_LOCK = threading.Lock()  # one build at a time per server process


def md(text) -> str:
    """Markdown-escaped text (late import: labels imports data, which imports this module)."""
    from presslens.ui.labels import md as _md

    return _md(text)


# The corpus used when neither a store nor PRESSLENS_CORPUS says otherwise.
DEFAULT_CORPUS = Path("data/corpus")


def store_root() -> Path:
    return Path(os.environ.get("PRESSLENS_STORE", "data/store"))


def corpus_root() -> Path:
    """The corpus the app may build from: PRESSLENS_CORPUS, else the default corpus (see
    guard.plan_store for when it is actually used)."""
    return Path(os.environ.get("PRESSLENS_CORPUS") or DEFAULT_CORPUS)


def _build(corpus: Path, root: Path) -> None:
    """Build or refresh the store from `corpus` with a progress bar (one build at a time)."""
    from presslens import build

    bar = st.progress(0.0, text=f"Building the store from {md(corpus)} …")

    def progress(done: int, total: int) -> None:
        frac = min(1.0, done / total) if total else 1.0
        bar.progress(frac, text=f"Building the store from {md(corpus)}: {done:,} of {total:,} files")

    started = time.perf_counter()
    summary = build.build(str(corpus), str(root), progress=progress)
    bar.empty()
    log.info("built store in %.1fs: %s", time.perf_counter() - started, summary)
    if summary.get("unchanged"):  # nothing to process (files only touched get their new time recorded)
        note = build.restat_note(summary)
        st.toast(f"The store is up to date with {md(corpus)}" + (f": {note}." if note else "."))
    else:
        st.toast(f"Store built from {md(corpus)} ({time.perf_counter() - started:.1f}s).")


def _plan() -> guard.Decision:
    return guard.plan_store(store_root(), os.environ.get("PRESSLENS_CORPUS") or None, DEFAULT_CORPUS)


def ensure_store() -> store.StoreInfo:
    """The live store, as guard.plan_store decides: served as it is; built when there is
    none; refreshed (once per session) only from the corpus it was built from; never
    replaced by another corpus's articles. A refusal is explained and stops the page."""
    s = _state()
    root = store_root()
    decision = _plan()
    if decision.action == "refuse":
        st.error(md(decision.message), icon="🛑")
        st.stop()
    if decision.action == "build":
        with _BUILD_LOCK:
            decision = _plan()  # another session may have built it meanwhile
            if decision.action == "build":
                _build(decision.corpus, root)
    elif decision.corpus is not None and not s["checked"]:
        # Checking staleness stats every corpus file: once per session, not per page.
        s["checked"] = True
        try:
            from presslens import build

            stale = bool(build.is_stale(str(decision.corpus), str(root)))
        except Exception as exc:  # a broken check must not hide the data we have
            st.warning(f"Could not check whether the store is up to date: {md(exc)}")
            stale = False
        if stale:
            with _BUILD_LOCK:
                again = _plan()
                if again.action == "serve" and again.corpus is not None:  # still its own corpus
                    _build(again.corpus, root)
    s["store_note"] = (decision.level, decision.message) if decision.message and decision.action == "serve" else None
    info = store.current(root)
    if info is None:
        st.error(f"The store at {md(root)} could not be read (no CURRENT version).")
        st.stop()
    return info


def info() -> store.StoreInfo:
    s = _state()
    if "info" not in s:  # a page run without app.py (should not happen): still work
        start()
    return s["info"]


def start() -> None:
    """First thing every run: the password gate, the store (built if needed), then the state
    from the URL. The run reads the version resolved here from start to end; when it differs
    from the one this session's previous run read, the page says the corpus was updated."""
    from presslens.ui.auth import stop_if_locked

    stop_if_locked()
    s = _state()
    before = s.get("info")
    now = ensure_store()
    s["updated_from"] = before.version if before is not None and before.directory != now.directory else None
    s["info"] = now
    sync_from_url()
