"""How far the incremental story clustering drifts from clustering again in full.

    python benchmarks/story_attach_agreement.py [--store /tmp/presslens-bench/store-local-10000]
                                                [--corpus /tmp/presslens-bench/real-10000] [--rebuilds 4]
                                                [--shares 0.05,0.25] [--no-exact] [--no-full]

Needs a corpus and a store built from it (bench_build.py leaves both in its workdir). The
corpus is changed (1% of its files get a sentence appended per rebuild, as bench_build.py
does); the store is copied, never modified. Two copies of the store are rebuilt after each
change: one with the default incremental clustering (large components that changed little
take new articles in place: stories._attach) and one that clusters every changed component
again from all its links (ATTACH_MIN_LINKS set out of reach). At the end a third store is
built from scratch. Prints the time of each rebuild and the pairwise precision, recall and
F1 between the story partitions (stories.pairwise_prf), so the cost of attaching in place
is measured against the exact incremental run and against a full build. With --shares, one
attaching store per stories.RECLUSTER_SHARE given (the share of a component attached in place
past which it is clustered again in full), so its effect on the drift is measured in one run;
--no-exact and --no-full leave out the exact store and the build from scratch (at 100,000
articles that build takes ~7 minutes: the rebuild times alone are then compared).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import polars as pl  # noqa: E402

from bench_build import touch  # noqa: E402
from presslens import build as b  # noqa: E402
from presslens import stories, store  # noqa: E402


def story_ids(st: Path) -> pl.DataFrame:
    return pl.read_parquet(store.current(st).directory / "articles.parquet", columns=["doc_id", "story_id"]).sort("doc_id")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=Path("/tmp/presslens-bench/store-local-10000"))
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/presslens-bench/real-10000"))
    ap.add_argument("--rebuilds", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--shares", default=str(stories.RECLUSTER_SHARE),
                    help="comma-separated RECLUSTER_SHARE values, one attaching store each")
    ap.add_argument("--no-exact", action="store_true", help="no exact incremental store")
    ap.add_argument("--no-full", action="store_true", help="no build from scratch at the end")
    args = ap.parse_args()
    shares = [float(x) for x in args.shares.split(",")]
    if store.current(args.store) is None:
        raise SystemExit(f"no store at {args.store}: run benchmarks/bench_build.py --engines local first")
    work = Path(tempfile.mkdtemp(prefix="presslens-attach-"))
    attaching = {(f"attach@{x:g}" if len(shares) > 1 else "attach"): x for x in shares}
    exact, full = work / "exact", work / "full"
    variants = [(work / name, stories.ATTACH_MIN_LINKS, share) for name, share in attaching.items()]
    if not args.no_exact:
        variants.append((exact, 10**15, stories.RECLUSTER_SHARE))
    for st, _, _ in variants:
        shutil.copytree(args.store, st)
    default_min, default_share = stories.ATTACH_MIN_LINKS, stories.RECLUSTER_SHARE
    seconds: dict[str, list[float]] = {st.name: [] for st, _, _ in variants}
    try:
        for i in range(args.rebuilds):
            n = touch(args.corpus, 0.01, seed=7000 + i)
            for st, limit, share in variants:
                stories.ATTACH_MIN_LINKS, stories.RECLUSTER_SHARE = limit, share
                t = time.perf_counter()
                s = b.build(args.corpus, st, workers=args.workers, keep_workers=True)
                seconds[st.name].append(time.perf_counter() - t)
                print(f"rebuild {i + 1} ({n} files changed), {st.name:12s}: {seconds[st.name][-1]:.2f} s, "
                      f"story step {s['story_seconds']:.2f} s", flush=True)
        stories.ATTACH_MIN_LINKS, stories.RECLUSTER_SHARE = default_min, default_share
        for name, xs in seconds.items():
            print(f"{name:12s} rebuilds: mean {sum(xs) / len(xs):.2f} s, max {max(xs):.2f} s", flush=True)
        refs = [name for name, skip in (("exact", args.no_exact), ("full", args.no_full)) if not skip]
        if "full" in refs:
            t = time.perf_counter()
            b.build(args.corpus, full, workers=args.workers, keep_workers=True)
            print(f"full build from scratch: {time.perf_counter() - t:.1f} s", flush=True)
        b.shutdown_workers()
        got = {st.name: story_ids(st) for st, _, _ in variants}
        if "full" in refs:
            got["full"] = story_ids(full)
        pairs = [(a, ref) for a in attaching for ref in refs] + ([("exact", "full")] if len(refs) == 2 else [])
        if len(attaching) > 1 and not refs:  # the attaching stores against each other
            names = list(attaching)
            pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
        for a, ref in pairs:
            x, y = got[a], got[ref]
            assert x["doc_id"].equals(y["doc_id"])
            p, r, f, *_ = stories.pairwise_prf(x["story_id"].to_list(), y["story_id"].to_list())
            print(f"{a} incremental vs {ref}{' build' if ref == 'full' else ' incremental'}: "
                  f"P {p:.4f} R {r:.4f} F1 {f:.4f} ({x['story_id'].n_unique()} vs {y['story_id'].n_unique()} stories)")
    finally:
        stories.ATTACH_MIN_LINKS, stories.RECLUSTER_SHARE = default_min, default_share
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
