"""The serving index after a small change: a from-scratch `index.write` against the
incremental one that reuses the previous version's index, on the tables of a real store.

    python benchmarks/bench_index_incremental.py --store /tmp/my-100k-copy --work /tmp/bench-idx [--change 0.01]

The store is only read (its live version and that version's index). Into `--work` the
script writes the tables of a next version (articles without text, mentions, entities):
`--change` of the articles, picked at random (seeded), replaced by changed copies (a new
doc_id, as a changed file's article gets, and their mention rows moved to the end of the
mention table, as a rebuild appends the rows of processed files). Then it times, one after
the other: the full index of the next version, and the incremental one with the live
version's index as `prev`; and checks that both are equal, array for array and table for
table (a benchmark of a wrong index would be worthless). Peak RSS is the process maximum.
Figures are wall-clock on a shared 2-core machine: compare runs made together; with
`--repeat N` both are timed N times, alternately, and the fastest of each is reported
(the least disturbed by other work on the machine).
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from presslens import index, store  # noqa: E402


def next_version(d: Path, work: Path, change: float, seed: int = 7) -> int:
    """Write the next version's tables into `work`; returns how many articles changed."""
    work.mkdir(parents=True, exist_ok=True)
    cols = [c for c in pl.read_parquet_schema(d / "articles.parquet") if c != "text"]
    a = pl.read_parquet(d / "articles.parquet", columns=cols)
    ids = a["doc_id"]
    rng = np.random.default_rng(seed)
    picked = ids.gather(rng.choice(ids.len(), size=max(1, int(ids.len() * change)), replace=False))
    is_changed = pl.col("doc_id").is_in(picked.implode())
    a.with_columns(pl.when(is_changed).then(pl.col("doc_id") + "-v2").otherwise("doc_id").alias("doc_id")) \
        .write_parquet(work / "articles.parquet")
    m = pl.scan_parquet(d / "mentions.parquet")
    pl.concat([m.filter(~is_changed), m.filter(is_changed).with_columns(pl.col("doc_id") + "-v2")]) \
        .sink_parquet(work / "mentions.parquet")
    pl.read_parquet(d / "entities.parquet").write_parquet(work / "entities.parquet")
    return picked.len()


def same(x: Path, y: Path) -> bool:
    """Every array and Arrow table of two index directories equal (dtype included)."""
    for name in index.ARRAYS:
        a, z = np.load(x / f"{name}.npy", mmap_mode="r"), np.load(y / f"{name}.npy", mmap_mode="r")
        if a.dtype != z.dtype or not np.array_equal(a, z):
            print(f"differs: {name}")
            return False
    for table in ("articles", "entities", "forms", "dicts", "doc_sorted"):
        if not pl.read_ipc(x / f"{table}.arrow").equals(pl.read_ipc(y / f"{table}.arrow")):
            print(f"differs: {table}")
            return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True, help="a store with an index (only read)")
    ap.add_argument("--work", required=True, help="a directory for the next version's tables and indexes")
    ap.add_argument("--change", type=float, default=0.01, help="share of articles changed (default 0.01)")
    ap.add_argument("--repeat", type=int, default=1, help="time each build this many times, report the fastest")
    args = ap.parse_args()
    info = store.current(args.store)
    if info is None or not index.exists(info.directory):
        sys.exit(f"{args.store}: no store version with an index of format {index.FORMAT}")
    work = Path(args.work)
    t = time.perf_counter()
    n_changed = next_version(info.directory, work / "tables", args.change)
    print(f"next version: {n_changed} articles changed of {info.manifest.get('articles')} "
          f"(tables written in {time.perf_counter() - t:.1f} s)")

    def tables():
        tb = work / "tables"
        return (pl.scan_parquet(tb / "articles.parquet"), pl.scan_parquet(tb / "mentions.parquet"),
                pl.scan_parquet(tb / "entities.parquet"))

    fulls, incs = [], []
    for _ in range(max(args.repeat, 1)):
        t = time.perf_counter()
        full = index.write(*tables(), work / "full")
        fulls.append(time.perf_counter() - t)
        t = time.perf_counter()
        inc = index.write(*tables(), work / "inc", prev=info.directory / index.INDEX_DIR)
        incs.append(time.perf_counter() - t)
    t_full, t_inc = min(fulls), min(incs)
    if args.repeat > 1:
        print("full runs:        ", " ".join(f"{x:.2f}" for x in fulls))
        print("incremental runs: ", " ".join(f"{x:.2f}" for x in incs))
    ok = same(work / "full", work / "inc")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"full index:        {t_full:7.2f} s  ({full['articles']} articles, {full['mentions']} mentions)")
    print(f"incremental index: {t_inc:7.2f} s  ({inc['reused_articles']} articles reused)  "
          f"= {t_inc / t_full:.0%} of full; updated from the previous index: {', '.join(inc.get('updated', []))}")
    print(f"identical: {ok}; peak RSS {rss:.0f} MB")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
