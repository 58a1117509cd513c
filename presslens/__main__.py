"""Command line: python -m presslens build | info | rejects.

  build   --corpus DIR --store DIR [--workers N] [--quiet] [--force]
                                                             build or update the store (refuses to
                                                             replace a store of another corpus
                                                             unless --force)
  info    --store DIR                                        what the live store holds
  rejects --store DIR                                        every input that was not ingested
"""
from __future__ import annotations

import argparse
import os
import sys

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
    pb.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    pb.add_argument("--quiet", action="store_true", help="no progress bar")
    pb.add_argument("--force", action="store_true",
                    help="replace a store built from another corpus (or a damaged one)")
    for name in ("info", "rejects"):
        p = sub.add_parser(name)
        p.add_argument("--store", default=os.environ.get("PRESSLENS_STORE", "data/store"))
    args = ap.parse_args(argv)

    if args.cmd == "build":
        from presslens import guard

        refusal = guard.check_build(args.store, args.corpus, force=args.force)
        if refusal:
            print(f"error: {refusal}", file=sys.stderr)
            return 2
        bar = None
        if not args.quiet and sys.stderr.isatty() or os.environ.get("PRESSLENS_PROGRESS"):
            from tqdm import tqdm

            bar = tqdm(total=0, unit="file", desc="building", file=sys.stderr)

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()
        else:
            progress = None
        try:
            summary = b.build(args.corpus, args.store, progress=progress, workers=args.workers)
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        finally:
            if bar is not None:
                bar.close()
        info = store.current(args.store)
        print(b.format_summary(summary, pl.read_parquet(store.table_path(info, "rejects"))))
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


if __name__ == "__main__":
    sys.exit(main())
