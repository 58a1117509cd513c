"""Command line: python -m presslens build | info | rejects.

  build   --corpus DIR --store DIR [--engine local|dask] [--scheduler ADDRESS]
          [--workers N] [--batch N] [--quiet]                build or update the store
          (DIR may be a local folder or an fsspec URL: s3://, gs://, file://)
  info    --store DIR                                        what the live store holds
  rejects --store DIR                                        every input that was not ingested
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import polars as pl


def main(argv: list[str] | None = None) -> int:
    from presslens import build as b
    from presslens import store

    ap = argparse.ArgumentParser(prog="python -m presslens", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    pb = sub.add_parser("build", help="build or update the store from a corpus folder")
    pb.add_argument("--corpus", default=os.environ.get("PRESSLENS_CORPUS", "data/corpus"))
    pb.add_argument("--store", default=os.environ.get("PRESSLENS_STORE", "data/store"))
    pb.add_argument("--engine", default="local",
                    help="where files are processed: local (worker processes on this machine, the default) "
                         "or dask (a Dask cluster; see docs/SCALE.md)")
    pb.add_argument("--scheduler", default=None,
                    help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    pb.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    pb.add_argument("--batch", type=int, default=None,
                    help=f"most records a worker holds at once (default: {b.ingest.BATCH_RECORDS})")
    pb.add_argument("--quiet", action="store_true", help="no progress output")
    for name in ("info", "rejects"):
        p = sub.add_parser(name)
        p.add_argument("--store", default=os.environ.get("PRESSLENS_STORE", "data/store"))
    args = ap.parse_args(argv)

    if args.cmd == "build":
        if args.engine not in b.ENGINES:
            print(f"error: unknown --engine {args.engine!r}: choose one of {', '.join(b.ENGINES)}.", file=sys.stderr)
            return 2
        if args.scheduler and args.engine != "dask":
            print("error: --scheduler needs --engine dask.", file=sys.stderr)
            return 2
        progress, close = (None, None) if args.quiet else _progress()
        kwargs = {"batch_records": args.batch} if args.batch else {}
        try:
            summary = b.build(args.corpus, args.store, progress=progress, workers=args.workers,
                              engine=args.engine, scheduler=args.scheduler, **kwargs)
        except (FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"error: the scheduler or a storage location could not be reached ({exc}).", file=sys.stderr)
            return 2
        finally:
            if close is not None:
                close()
        rejects = _read_rejects(args.store)
        print(b.format_summary(summary, rejects))
        return 0
    info = store.current(args.store)
    if info is None:
        print(f"No store at {args.store}: run python -m presslens build first.", file=sys.stderr)
        return 1
    if args.cmd == "info":
        print(b.format_summary(dict(info.manifest, store=str(info.directory))))
    else:
        rej = pl.read_parquet(store.table_path(info, "rejects"))
        for r in rej.iter_rows(named=True):
            where = r["path"] + (f" (record {r['record']})" if r["record"] is not None else "")
            print(f"{where}: {r['reason']}")
        print(f"{rej.height} rejected")
    return 0


def _read_rejects(store_dir: str) -> pl.DataFrame | None:
    """The live version's rejects table (local store or URL)."""
    from presslens import build as b
    from presslens import store

    with b._local_store(store_dir, tables=("rejects",)) as local:
        info = store.current(local)
        return pl.read_parquet(store.table_path(info, "rejects")) if info else None


# Non-interactive progress (logs, CI, a cluster job): one line at most this often.
PROGRESS_EVERY_S = 10.0


def _progress():
    """(progress callback, close) showing files done / total, rate and time left: a tqdm
    bar on a terminal, else a plain line every PROGRESS_EVERY_S seconds on stderr."""
    if sys.stderr.isatty() or os.environ.get("PRESSLENS_PROGRESS"):
        from tqdm import tqdm

        bar = tqdm(total=0, unit="file", desc="building", file=sys.stderr)

        def tick(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        return tick, bar.close
    start = time.monotonic()
    last = [0.0]

    def line(done: int, total: int) -> None:
        now = time.monotonic()
        if total and (now - last[0] >= PROGRESS_EVERY_S or done == total):
            last[0] = now
            print(format_progress(done, total, now - start), file=sys.stderr, flush=True)

    return line, None


def format_progress(done: int, total: int, elapsed: float) -> str:
    """'files 1,200/10,000 (12%), 35.2 files/s, about 4 min 10 s left'."""
    rate = done / elapsed if elapsed > 0 else 0.0
    if done >= total:
        left = "done"
    elif rate > 0:
        secs = int((total - done) / rate)
        left = f"about {secs // 60} min {secs % 60} s left" if secs >= 60 else f"about {secs} s left"
    else:
        left = "time left unknown"
    return f"files {done:,}/{total:,} ({100 * done / total:.0f}%), {rate:.1f} files/s, {left}"


if __name__ == "__main__":
    sys.exit(main())
