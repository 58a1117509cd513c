"""Build throughput: articles per second for a full build and for a rebuild with 1% changed.

    python benchmarks/bench_build.py --articles 10000 [--workers 2] [--workdir /tmp/presslens-bench]

Prints one line per phase. Figures are wall-clock on this machine; compare runs made
together (the machines are shared and noisy), not against a fixed threshold.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import make_corpus, touch_fraction  # noqa: E402

from presslens.build import build  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/presslens-bench"))
    ap.add_argument("--changed", type=float, default=0.01)
    args = ap.parse_args()
    corpus, st = args.workdir / f"corpus-{args.articles}", args.workdir / f"store-{args.articles}"
    if not corpus.exists():
        t = time.perf_counter()
        make_corpus(corpus, args.articles)
        print(f"generated {args.articles} articles in {time.perf_counter() - t:.1f} s")
    shutil.rmtree(st, ignore_errors=True)

    t = time.perf_counter()
    s = build(corpus, st, workers=args.workers)
    full = time.perf_counter() - t
    print(f"full build: {s['articles']} articles in {full:.1f} s = {s['articles'] / full:.1f} articles/s "
          f"({s['mentions']} mentions, {s['rejects']} rejects)")

    n = touch_fraction(corpus, args.changed)
    t = time.perf_counter()
    s = build(corpus, st, workers=args.workers)
    re = time.perf_counter() - t
    print(f"rebuild, {n} files changed ({args.changed:.0%}): {s['processed_files']} processed, "
          f"{s['reused_files']} reused in {re:.1f} s = {s['articles'] / re:.1f} articles/s of corpus "
          f"({n / re:.1f} changed articles/s)")
    print(f"speed-up of rebuild over full build: {full / re:.1f}x")
    print(f"peak RSS: build process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, "
          f"largest worker {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
