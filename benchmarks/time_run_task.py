"""CPU time of a build worker's own work: build.run_task over real files, in this process.

    nice python benchmarks/time_run_task.py [--corpus DIR] [--files 1000] [--skip 3000] [--task-files 200]

Warms the models (enrich.warm, as a worker does before its first file), then runs the
files (sorted paths, after skipping --skip of them) as tasks of --task-files files, as
the build's pool or Dask workers would, writing their shards to a temporary folder, and
prints the CPU seconds (this process only: on a shared machine wall time mostly measures
the others) and articles per CPU second. The corpus is only read.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from presslens import build, ingest  # noqa: E402
from presslens.enrich import warm  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="/tmp/presslens-bench/real-10000")
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--task-files", type=int, default=build.CHUNK_FILES)
    args = ap.parse_args()
    root = Path(args.corpus)
    rels = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    rels = rels[args.skip : args.skip + args.files]
    if not rels:
        sys.exit(f"no files under {root}")
    warm()
    articles = 0
    with tempfile.TemporaryDirectory() as tmp:
        t = time.process_time()
        for k in range(0, len(rels), args.task_files):
            items = tuple((r, None) for r in rels[k : k + args.task_files])
            articles += build.run_task(build.Task(f"t{k:06d}", str(root), items, tmp, ingest.BATCH_RECORDS))["articles"]
        cpu = time.process_time() - t
    print(f"{articles} articles from {len(rels)} files: {cpu:.2f} s CPU = {articles / cpu:.1f} articles/s per core")


if __name__ == "__main__":
    main()
