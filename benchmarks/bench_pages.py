"""Server-side time of each dashboard page, cold (empty cache) and warm, on a given store.

    python benchmarks/bench_pages.py --store data/store [--runs 3]
    python benchmarks/bench_pages.py --store /tmp/presslens-100k --query "lang=ru"

Runs the real app script through streamlit.testing.v1.AppTest (no browser: this is the
Python time a page costs the server per rerun, which is what grows with the corpus).
PRESSLENS_CORPUS is pointed at a folder that does not exist so a prebuilt store is used as
it is. Prints one line per page: cold run (first render in a fresh session and cache),
then the median of warm reruns.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--query", default="", help="URL query string applied to every page, e.g. lang=ru")
    args = ap.parse_args()
    os.environ["PRESSLENS_STORE"] = str(Path(args.store).resolve())
    os.environ["PRESSLENS_CORPUS"] = "/nonexistent-presslens-corpus"
    os.chdir(ROOT)

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from presslens import store

    info = store.current(args.store)
    if info is None:
        raise SystemExit(f"no store at {args.store}")
    print(f"store {info.version}: {info.manifest.get('articles')} articles, {info.manifest.get('mentions')} mentions")
    pages = sorted(p.name for p in (ROOT / "pages").glob("*.py"))
    params = dict(parse_qsl(args.query))
    for page in pages:
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        for k, v in params.items():
            at.query_params[k] = v
        at.switch_page(f"pages/{page}")
        t = time.perf_counter()
        at.run()
        cold = time.perf_counter() - t
        if at.exception:
            print(f"{page}: EXCEPTION {at.exception[0].message}")
            continue
        warm = []
        for _ in range(args.runs):
            t = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - t)
        print(f"{page:16s} cold {cold * 1000:8.0f} ms   warm median {statistics.median(warm) * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
