"""Time of a view's export (the app's "Prepare" and `python -m presslens export`) and of the
Stories page's label file, on a built or generated store.

    python benchmarks/bench_export.py --store /tmp/pl-1m [--runs 3]

Prints, median and worst of --runs (wall and CPU of this process, the index loaded once):
- the whole store exported to CSV and to Parquet (`export.export_view`, every article with its
  entity lists, streamed in batches), and the peak RSS after it;
- one language's articles to CSV;
- the label file of the largest story (`query.story_labels`, what the Stories page offers to
  download when at most `query.LABEL_MAX` articles are in view), skipped by code without it.
Run it from an old tree and a new one in turn to compare (ratios are between such runs).
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from presslens import export, index, query, store  # noqa: E402
from presslens.links import Filters  # noqa: E402


def timed(fn, runs: int) -> tuple[list[float], list[float], object]:
    wall, cpu, out = [], [], None
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu, out


def show(name: str, wall: list[float], cpu: list[float], extra: str = "") -> None:
    print(f"{name:38s} wall {1000 * statistics.median(wall):8.0f} ms (worst {1000 * max(wall):8.0f})  "
          f"cpu {1000 * statistics.median(cpu):8.0f} ms  {extra}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True, type=Path)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    info = store.current(args.store)
    if info is None:
        print(f"error: no store in {args.store}", file=sys.stderr)
        return 2
    ix = index.load(info.directory)
    n = int(query.selected_rows(ix, Filters()).size)
    print(f"store {info.version}: {n:,} articles listed")
    with tempfile.TemporaryDirectory(prefix="presslens-bench-export-") as tmp:
        for fmt in ("csv", "parquet"):
            out = Path(tmp) / f"all.{fmt}"
            wall, cpu, rows = timed(lambda: export.export_view(ix, Filters(), out, fmt), args.runs)
            show(f"whole store -> {fmt}", wall, cpu, f"{rows:,} rows, {out.stat().st_size / 1e6:,.0f} MB")
        lang = query.language_counts(ix, Filters())["language"][0]
        out = Path(tmp) / "lang.csv"
        wall, cpu, rows = timed(lambda: export.export_view(ix, Filters.make(languages=(lang,)), out, "csv"), args.runs)
        show(f"language {lang} -> csv", wall, cpu, f"{rows:,} rows")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    if hasattr(query, "story_labels"):
        sizes = np.bincount(np.asarray(ix.story).astype(np.int64))
        story = ix.stories[int(np.argmax(sizes))]
        f = Filters.make(story=story)
        wall, cpu, labels = timed(lambda: query.story_labels(ix, f), args.runs)
        show("largest story's label file", wall, cpu, f"{labels.height:,} articles")
    else:
        print("largest story's label file: not in this code")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
