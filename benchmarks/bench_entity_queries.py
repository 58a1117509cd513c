"""Time each query function the Entities page calls, per filter case, on a store.

    python benchmarks/bench_entity_queries.py --store /tmp/pl-1m [--runs 3]

For each filter case (none, a language, an entity, a date range, a search word — the
cases of bench_pages.py) the counted mask is computed once ("mask", shared by every
page), then each query is timed with the mask memoised but its own memoised results
dropped (median of --runs): the cost of a rerun whose st.cache_data entry is missing.
Printed per query: wall/CPU ms (CPU is steadier on a shared machine).
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from presslens import index, query as q, store
from presslens.query import Filters

SEARCH_WORD = "drones"  # as in bench_pages.py
MATRIX_ROWS = 20  # presslens.ui.data.MATRIX_ROWS
KEEP = {"base", "counted", "search", "src_rows", "entity_types"}  # memo shared across queries


def _ms(fn, ix, runs: int) -> tuple[float, float]:
    """Median (wall, process CPU) milliseconds of `fn` over `runs` (CPU time is the steadier
    figure on a shared machine; the numpy work here is single-threaded)."""
    wall, cpu = [], []
    for _ in range(runs):
        for k in [k for k in ix._memo if k[0] not in KEEP]:
            ix._memo.pop(k, None)
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cases", default="none,language,entity,dates,search")
    args = ap.parse_args()
    info = store.current(args.store)
    if info is None:
        raise SystemExit(f"no store at {args.store}")
    ix = index.load(info.directory)
    top = ix.entities.with_row_index("code").sort(["mention_count", "entity_id"], descending=[True, False])
    eid, mid = top["entity_id"][0], top["entity_id"][2]
    lang = ix.languages.to_list()[int(pl.Series(ix.lang).value_counts(sort=True)[0, 0])]
    cases = {
        "none": Filters(),
        "language": Filters.make(languages=(lang,)),
        "entity": Filters.make(entities=(mid,)),
        "dates": Filters.make(date_from=dt.date(2022, 3, 1), date_to=dt.date(2022, 8, 31)),
        "search": Filters.make(search=SEARCH_WORD),
    }
    for name in args.cases.split(","):
        f = cases[name]
        ix._memo.clear()
        t = time.perf_counter()
        n = int(q.counted_mask(ix, f).sum())
        mask_ms = (time.perf_counter() - t) * 1000
        top25 = q.top_entities(ix, f, None, 25)
        top12 = tuple(top25["entity_id"].to_list()[:12])
        focus = f.entities[0] if f.entities else (top25["entity_id"][0] if top25.height else eid)
        every = "1mo"
        calls = {
            "entity_types": lambda: q.entity_type_counts(ix, f),
            "top_entities": lambda: q.top_entities(ix, f, None, 25),
            "split_language": lambda: q.entity_split(ix, f, top12, "language", MATRIX_ROWS),
            "split_outlet": lambda: q.entity_split(ix, f, top12, "outlet", MATRIX_ROWS),
            "stats_split": lambda: q.entity_split(ix, f, (focus,), "language", MATRIX_ROWS),
            "over_time": lambda: q.entity_over_time(ix, f, focus, every),
            "surface_forms": lambda: q.surface_forms(ix, f, focus),
            "cooccurring": lambda: q.cooccurring(ix, f, focus),
        }
        times = {k: _ms(fn, ix, args.runs) for k, fn in calls.items()}
        print(f"{name:9s} articles={n:>8,} mask={mask_ms:.0f} ms | wall/cpu ms: "
              + " ".join(f"{k}={w:.0f}/{c:.0f}" for k, (w, c) in times.items())
              + f" | sum={sum(w for w, _ in times.values()):.0f}/{sum(c for _, c in times.values()):.0f}", flush=True)


if __name__ == "__main__":
    main()
