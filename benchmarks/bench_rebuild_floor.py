"""Where a warm 1% rebuild's time goes: the same rebuilds with the derived steps taken out.

    nice python benchmarks/bench_rebuild_floor.py [--articles 10000] [--rebuilds 6] [--workers 2]
                                                  [--texts GLOB] [--workdir /tmp/presslens-bench]

A what-if, for deciding what a target on rebuild time can ask of the build. It makes the same
real-text corpus as bench_build.py, builds it in full once, then runs three blocks of
--rebuilds warm 1% rebuilds (workers kept warm, one after the other, each changing another 1%
of the files as bench_build.py does) and prints each block's median as a share of that full
build:

1. the build as it is;
2. without the story step: every article its own story, no story links, no story state (what
   the build does when grouping fails, without trying to group);
3. also without the full-text index, the serving index and the entity table: what is left is
   the work no rebuild can skip under the store's contract: planning (stat every file),
   enriching the changed files, and writing the contract's single-file tables (articles with
   every text, mentions, doc_entities, files, rejects) and publishing the version.

Blocks 2 and 3 replace functions of presslens.build in this process only (never in the
package): the store they leave is incomplete and is deleted at the end. They run after block 1
because they leave no story state and no indexes for the next rebuild to start from. Wall-clock
figures on a shared machine drift: run the script more than once and compare the blocks of one
run; the CPU seconds of every process are printed beside them.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import polars as pl  # noqa: E402

from bench_build import RssSampler, corpus_arguments, make_real_corpus, touch  # noqa: E402
from presslens import build as b  # noqa: E402
from presslens import store  # noqa: E402


def _no_stories(tmp, prev, articles, docs, doc_entities_for=None, new_rows=None, meanwhile=None,
                before_grouping=None, collected=None, collected_state=None) -> dict:
    """build._group_stories without the grouping: every article its own story (the build's
    own fallback when grouping fails), an empty story_links table, no story state; the
    articles table written as the build writes it (collected to be kept in memory, or streamed)."""
    if before_grouping is not None:
        before_grouping()  # starts the full-text index and entity-table threads, as the build does
    ids = docs.select("doc_id", pl.col("doc_id").alias("story_id"))
    store.write_table(tmp, "story_links", store.empty("story_links"))
    table = articles.drop("story_id").join(ids.lazy(), on="doc_id", how="left", maintain_order="left")
    if collected is not None:
        table = store.conform(table.collect(), "articles")
        collected.append(table)
    store.write_table(tmp, "articles", table)
    if meanwhile is not None:
        meanwhile()
    return {"stories": ids.height, "story_links": 0, "story_seconds": 0.0}


class _NoSearch:
    """What build._start_search returns, for a full-text index that is not written."""

    def result(self) -> None:
        return None

    def wait(self) -> None:
        return None


def _no_derived() -> None:
    """Take out the story step, the full-text index, the serving index and the entity table."""
    b._group_stories = _no_stories
    b._start_search = lambda *a, **k: _NoSearch()
    b._build_index = lambda *a, **k: 0.0
    b._entities_table = lambda mentions, articles: store.empty("entities")


def block(label: str, corpus: Path, st: Path, n: int, seed: int, full: float, full_cpu: float,
          rss: RssSampler, workers: int, fraction: float) -> float:
    walls, cpus = [], []
    for k in range(n):
        touch(corpus, fraction, seed=seed + k)
        t, c0 = time.perf_counter(), rss.cpu_seconds()
        b.build(corpus, st, workers=workers, keep_workers=True)
        walls.append(time.perf_counter() - t)
        time.sleep(0.5)  # one more sample of the workers' CPU time
        cpus.append(rss.cpu_seconds() - c0)
    m, c = statistics.median(walls), statistics.median(cpus)
    print(f"{label}: median {m:.2f} s = {100 * m / full:.1f}% of the full build; CPU {c:.2f} s = "
          f"{100 * c / full_cpu:.1f}% of its CPU  (each: {' '.join(f'{w:.2f}' for w in walls)} s)", flush=True)
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    corpus_arguments(ap)
    ap.add_argument("--rebuilds", type=int, default=6, help="warm rebuilds per block (median reported)")
    args = ap.parse_args()
    corpus = args.workdir / f"floor-{args.articles}"
    st = args.workdir / f"floor-store-{args.articles}"
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.rmtree(st, ignore_errors=True)
    n_src = make_real_corpus(corpus, args.articles, args.texts)
    print(f"corpus: {args.articles} articles from {n_src} real texts; {args.workers} workers", flush=True)
    try:
        with RssSampler() as rss:
            t, c0 = time.perf_counter(), rss.cpu_seconds()
            s = b.build(corpus, st, workers=args.workers, keep_workers=True)
            full = time.perf_counter() - t
            time.sleep(0.5)
            full_cpu = rss.cpu_seconds() - c0
            print(f"full build: {s['articles']} articles in {full:.1f} s (CPU {full_cpu:.0f} s)", flush=True)
            kw = dict(corpus=corpus, st=st, n=args.rebuilds, full=full, full_cpu=full_cpu, rss=rss,
                      workers=args.workers, fraction=args.changed)
            block("1. the build as it is", seed=5000, **kw)
            b._group_stories = _no_stories
            block("2. without the story step", seed=6000, **kw)
            _no_derived()
            block("3. also without the full-text index, serving index and entity table", seed=7000, **kw)
            target = 0.03 * full
            print(f"3% of this full build: {target:.2f} s", flush=True)
    finally:
        b.shutdown_workers()
        shutil.rmtree(st, ignore_errors=True)  # incomplete (blocks 2 and 3): never to be served


if __name__ == "__main__":
    main()
