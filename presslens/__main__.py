"""Command line: python -m presslens build | info | rejects.

  build   --corpus DIR --store DIR [--workers N] [--quiet] [--force]
                                                             build or update the store (refuses to
                                                             replace a store of another corpus
                                                             unless --force)
  info    --store DIR                                        what the live store holds
  rejects --store DIR                                        every input that was not ingested
  import-tables DIR --store DIR                              a store from contract tables enriched elsewhere
  export  --store DIR [--view URL_OR_QUERY] --format csv|parquet --out FILE
                                                             the articles a shared link shows
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
    pi = sub.add_parser("import-tables", help="a store from articles.parquet + mentions.parquet (+ entities.parquet)")
    pi.add_argument("dir", help="folder with articles.parquet, mentions.parquet and optionally entities.parquet")
    pi.add_argument("--store", default=os.environ.get("PRESSLENS_STORE", "data/store"))
    pe = sub.add_parser("export", help="write the articles a view (shared link) lists as CSV or Parquet")
    pe.add_argument("--store", default=os.environ.get("PRESSLENS_STORE", "data/store"))
    pe.add_argument("--view", default="", help="a link copied from the app, or its query string (default: everything)")
    pe.add_argument("--format", choices=("csv", "parquet"), required=True)
    pe.add_argument("--out", required=True, help="the file to write")
    args = ap.parse_args(argv)

    if args.cmd == "export":
        return _export(args)

    if args.cmd == "import-tables":
        from presslens import tables_import

        try:
            summary = tables_import.import_tables(args.dir, args.store)
        except tables_import.TableError as exc:
            print(f"error: {exc}\nNothing was written; the store at {args.store} is unchanged.", file=sys.stderr)
            return 2
        print(b.format_summary(summary))
        print(f"  validation {summary['validate_seconds']:.2f} s, tables {summary['tables_seconds']:.2f} s, "
              f"full-text index {summary.get('search_seconds', 0):.2f} s, serving index {summary['index_seconds']:.2f} s")
        return 0

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


def _export(args) -> int:
    """python -m presslens export: exactly the rows the view's link lists, streamed to a file."""
    from presslens import export, index, store

    info = store.current(args.store)
    if info is None:
        print(f"No store at {args.store}: run python -m presslens build first.", file=sys.stderr)
        return 1
    ix = index.load(info.directory)
    state = export.link_state(ix, args.view, info.version)
    for notice in state.ignored:
        print(f"ignored: {notice}", file=sys.stderr)
    if state.stale:
        print(f"note: the link was made on corpus version {state.link_version}; the store is now at "
              f"{info.version}, so the rows may differ from what the sender saw.", file=sys.stderr)
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=0, unit="article", desc="exporting", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.n = done
            bar.refresh()
    try:
        n = export.export_view(ix, state.filters, args.out, args.format, progress=progress)
    except OSError as exc:
        print(f"error: could not write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    finally:
        if bar is not None:
            bar.close()
    print(f"{n:,} articles written to {args.out} ({args.format})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
