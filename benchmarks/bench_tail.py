"""The serial tail of a full build (assembly, story grouping, indexes), without the workers.

    nice python benchmarks/bench_tail.py [--articles 10000] [--repeat 2] [--top 0] [--workdir /tmp/presslens-tail]

The first run builds bench_build.py's corpus of real news texts with 2 workers and keeps a
copy of the workers' shards. Every timed run then builds a fresh store from that corpus with
the worker pool replaced by a copy of the kept shards, so what is timed is what the build
process does after its workers are done (plus planning: hashing the corpus files), the part
that runs on one core while the other is idle. It prints wall seconds and CPU seconds of the
process (all its threads) per run; --top N profiles the last run under cProfile (own time of
the N costliest functions). --fresh rebuilds the shards (after a change to the workers' code).
Figures on a shared machine are noisy: compare CPU seconds of runs made together.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_build import DEFAULT_TEXTS, make_real_corpus  # noqa: E402

from presslens import build as b  # noqa: E402


class _NoRunner:
    """Stands in for the worker pool: the shards are copied in by `_copy_shards`."""

    n_workers = 2

    def close(self) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--top", type=int, default=0)
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--texts", default=DEFAULT_TEXTS)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/presslens-tail"))
    args = ap.parse_args()
    corpus, kept = args.workdir / f"corpus-{args.articles}", args.workdir / f"shards-{args.articles}"
    if args.fresh or not kept.exists():
        shutil.rmtree(args.workdir, ignore_errors=True)
        make_real_corpus(corpus, args.articles, args.texts)
        run_tasks = b._run_tasks

        def keep_shards(runner, tasks, shards, progress, total):
            run_tasks(runner, tasks, shards, progress, total)
            shutil.copytree(shards, kept)

        b._run_tasks = keep_shards
        t = time.perf_counter()
        b.build(corpus, args.workdir / "store-first", workers=2)
        print(f"first build (2 workers, shards kept): {time.perf_counter() - t:.1f} s", flush=True)
        b._run_tasks = run_tasks

    def copy_shards(runner, tasks, shards, progress, total):  # noqa: ARG001
        shutil.rmtree(shards)
        shutil.copytree(kept, shards, copy_function=os.link)  # hard links: no copy in the timing

    b._run_tasks = copy_shards
    b._runner = lambda *a, **k: _NoRunner()
    for r in range(args.repeat):
        st = args.workdir / "store"
        shutil.rmtree(st, ignore_errors=True)
        prof = cProfile.Profile() if args.top and r == args.repeat - 1 else None
        c0, w0 = time.process_time(), time.perf_counter()
        if prof:
            prof.enable()
        s = b.build(corpus, st, workers=2)
        if prof:
            prof.disable()
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        print(f"run {r + 1}: {s['articles']} articles, tail {wall:.2f} s wall, {cpu:.2f} s CPU "
              f"(stories {s.get('story_seconds')} s, serving index {s.get('index_seconds')} s)"
              f"{' under cProfile' if prof else ''}", flush=True)
        if prof:
            out = io.StringIO()
            st = pstats.Stats(prof, stream=out)
            st.sort_stats("tottime").print_stats(args.top)
            st.sort_stats("cumulative").print_stats("presslens", args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()
