"""Command line: python -m presslens build | info | rejects.

  build   --corpus DIR --store DIR [--engine local|dask] [--scheduler ADDRESS]
          [--workers N] [--batch N] [--quiet] [--force]      build or update the store
          [--watch [--interval S] [--min-gap S]]             ... and keep it up to date
          (DIR may be a local folder or an fsspec URL: s3://, gs://, file://; a store built
          from another corpus is not replaced unless --force)
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
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

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
    pb.add_argument("--force", action="store_true",
                    help="replace a store built from another corpus (or a damaged one)")
    pb.add_argument("--watch", action="store_true",
                    help="keep running: rebuild whenever a file of the corpus is added, removed or changed, with "
                         "the workers and their models kept warm between builds (stop with Ctrl-C)")
    pb.add_argument("--interval", type=float, default=b.WATCH_INTERVAL_S,
                    help=f"with --watch, seconds between looks at the corpus (default: {b.WATCH_INTERVAL_S:g})")
    pb.add_argument("--min-gap", type=float, default=b.WATCH_MIN_GAP_S,
                    help="with --watch, fewest seconds from one build's start to the next (changes arriving meanwhile "
                         "are built together; each build keeps its replaced version on disk for 10 minutes; "
                         f"default: {b.WATCH_MIN_GAP_S:g})")
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
        if args.engine not in b.ENGINES:
            print(f"error: unknown --engine {args.engine!r}: choose one of {', '.join(b.ENGINES)}.", file=sys.stderr)
            return 2
        if args.scheduler and args.engine != "dask":
            print("error: --scheduler needs --engine dask.", file=sys.stderr)
            return 2
        from presslens import guard

        refusal = guard.check_build(args.store, args.corpus, force=args.force)
        if refusal:
            print(f"error: {refusal}", file=sys.stderr)
            return 2
        kwargs = {"batch_records": args.batch} if args.batch else {}
        kwargs["on_wait"] = lambda: print(f"waiting for another build of {args.store} to finish (the app's "
                                          "refresh or another build command)…", file=sys.stderr, flush=True)
        if args.watch:
            return _watch(args, kwargs)
        progress, close = (None, None) if args.quiet else _progress()
        try:
            with _stop_on_signals() as stop:
                summary = b.build(args.corpus, args.store, progress=progress, workers=args.workers,
                                  engine=args.engine, scheduler=args.scheduler, stop=stop, **kwargs)
        except (FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"error: the scheduler or a storage location could not be reached ({exc}).", file=sys.stderr)
            return 2
        except (b.BuildStopped, KeyboardInterrupt):
            if close is not None:
                close()
                close = None
            print("stopped: the build published nothing; the store keeps the version it had.", file=sys.stderr)
            return 130
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


def _watch(args, kwargs: dict) -> int:
    """python -m presslens build --watch: build, then rebuild on every change until Ctrl-C
    (or SIGTERM). One line per build on stdout; a failed build is reported on stderr and the
    live version stays as it was. Stopped during a build, that build is abandoned (its
    half-written version removed, the live one kept)."""
    from presslens import build as b

    if args.interval <= 0:
        print("error: --interval must be a positive number of seconds.", file=sys.stderr)
        return 2
    if args.min_gap < 0:
        print("error: --min-gap must be zero or a positive number of seconds.", file=sys.stderr)
        return 2

    first = [True]

    def on_build(summary: dict) -> None:
        when = time.strftime("%H:%M:%S")
        if summary.get("unchanged"):
            note = b.restat_note(summary)
            print(f"{when} the store is up to date: {summary.get('articles', 0):,} articles"
                  + (f" ({note})" if note else ""), flush=True)
        else:
            print(f"{when} built: {summary.get('processed_files', 0):,} new or changed files of "
                  f"{summary.get('files', 0):,} in {summary.get('seconds', 0):.2f} s; {summary.get('articles', 0):,} "
                  f"articles, {summary.get('rejects', 0):,} rejects, {summary.get('stories', 0):,} stories", flush=True)
        if first[0]:
            first[0] = False
            print(f"watching {args.corpus} every {args.interval:g} s (Ctrl-C stops)", flush=True)

    def on_error(exc: BaseException) -> None:
        print(f"{time.strftime('%H:%M:%S')} error: the build failed ({type(exc).__name__}: {exc}); the store keeps "
              "its previous version, and the next change is tried again", file=sys.stderr, flush=True)

    progress, close = (None, None) if args.quiet else _progress()
    try:
        with _stop_on_signals() as stop:
            b.watch(args.corpus, args.store, interval=args.interval, min_gap=args.min_gap, workers=args.workers,
                    engine=args.engine, scheduler=args.scheduler, stop=stop, on_build=on_build, on_error=on_error,
                    progress=progress, **kwargs)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # (_StopNow: a second signal)
        pass
    finally:
        if close is not None:
            close()
    # (a build it stopped removed its half-written version: the live one is the last published)
    print("stopped watching", flush=True)
    return 0


class _StopNow(KeyboardInterrupt):
    """A second Ctrl-C or SIGTERM during a build: stop at once. A subclass, so that Python
    does not take it for an unhandled Ctrl-C (which it records when a KeyboardInterrupt passes
    through a string exec, and then ends the process with SIGINT)."""


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """Within the block, Ctrl-C and SIGTERM set the event it yields (a build given it stops at
    its next step boundary, its half-written version removed, the live one kept: build(stop=)).
    The handler only sets the event: a KeyboardInterrupt raised wherever the signal lands
    could be swallowed by a library (the build would publish, a watch go on), make Polars
    panic inside a callback, or (raised inside a string exec, as scipy's imports do) make
    Python end with SIGINT after the program handled it. A second signal stops at once
    (_StopNow). Outside the main thread (no signals there) the event is only yielded."""
    import signal

    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_signal(signum, frame) -> None:
        if stop.is_set():
            raise _StopNow
        stop.set()

    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


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
