"""Where a warm rebuild's CPU goes, step by step, and how busy the cores are through it.

    nice python benchmarks/profile_rebuild.py [--articles 10000] [--rebuilds 8] [--changed 0.01]
                                              [--cores] [--reuse] [--workers 2] [--texts GLOB]
                                              [--workdir /tmp/presslens-bench]

Makes bench_build.py's real-text corpus (or, with --reuse, keeps the corpus and store of the last
run in --workdir), builds it in full with the workers kept warm, then runs --rebuilds warm
rebuilds, each after changing another --changed share of the files (bench_build.py's `touch`;
--changed 0.0001 changes one file of 10,000: what every version costs whatever changed).

Default: the build process's steps run in line (the threads the build starts run one after the
other in the calling thread, so each step's CPU is its own) and each rebuild prints the CPU
seconds of every step: its own, the steps it calls being counted apart; then the median of each
step over the rebuilds. The wall time of such a rebuild is longer than a real one's.

--cores: the build as it is (threads running), with the CPU time of the build process and of
each worker read from /proc every 5 ms; each rebuild prints, per 50 ms, how many cores (x4:
8 = both of two) the build process and the workers used, and when each step ran. Linux only.

A profiling aid: it replaces functions of presslens.build, stories, store and search in this
process only. Compare runs made together (the machine's speed drifts).
"""
from __future__ import annotations

import argparse
import collections
import functools
import os
import resource
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_build import corpus_arguments, make_real_corpus, touch  # noqa: E402

from presslens import build as b  # noqa: E402
from presslens import search, stories, store  # noqa: E402

# (module, function) of the steps timed; write_table is timed per table
STEPS = [(b, "_plan"), (b, "_run_tasks"), (b, "_assemble"), (b, "_group_stories"), (b, "_build_index"),
         (b, "_entity_tables"), (b, "doc_entities_of"), (b, "_keep"), (stories, "group_features"),
         (stories, "cluster"), (stories, "_attach"), (stories, "_link_delta"), (stories, "_write_links"),
         (store, "write_table"), (store, "publish"), (search, "build"), (stories.StoryState, "save")]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class _InLine:
    """Stands in for build._Background: runs the step at once, in the calling thread."""

    def __init__(self, fn, *args) -> None:
        self._value = self._error = None
        try:
            self._value = fn(*args)
        except BaseException as exc:  # noqa: BLE001  re-raised by result(), as _Background does
            self._error = exc

    def wait(self) -> None:
        pass

    def result(self):
        if self._error is not None:
            raise self._error
        return self._value


def _label(name: str, args: tuple) -> str:
    if name == "save":
        return "story state save"
    return f"write:{args[1]}" if name == "write_table" and len(args) > 1 else name


def steps_in_line(corpus: Path, st: Path, workers: int, fraction: float, rebuilds: int) -> None:
    own: dict[str, float] = collections.defaultdict(float)
    stack: list[float] = []

    def wrap(mod, name) -> None:
        fn = getattr(mod, name)

        @functools.wraps(fn)
        def timed(*args, **kw):
            c0 = _cpu()
            stack.append(0.0)
            try:
                return fn(*args, **kw)
            finally:
                inner, spent = stack.pop(), _cpu() - c0
                own[_label(name, args)] += spent - inner
                if stack:
                    stack[-1] += spent
        setattr(mod, name, timed)

    for mod, name in STEPS:
        wrap(mod, name)
    b._Background = _InLine
    per_step: dict[str, list[float]] = collections.defaultdict(list)
    totals = []
    for k in range(rebuilds):
        touch(corpus, fraction, seed=9000 + k)
        own.clear()
        c0, t0 = _cpu(), time.perf_counter()
        s = b.build(corpus, st, workers=workers, keep_workers=True)
        total, wall = _cpu() - c0, time.perf_counter() - t0
        totals.append(total)
        for name in set(per_step) | set(own):
            per_step[name].append(own.get(name, 0.0))
        top = sorted(own.items(), key=lambda kv: -kv[1])[:6]
        print(f"rebuild {k + 1}: {s['processed_files']} files, {wall:.2f} s in line, build-process CPU {total:.2f} s: "
              + ", ".join(f"{n} {v:.3f}" for n, v in top), flush=True)
    print(f"\nbuild-process CPU a rebuild, median of {rebuilds}: {statistics.median(totals):.3f} s; per step (own CPU):")
    for name, vals in sorted(per_step.items(), key=lambda kv: -statistics.median(kv[1])):
        if statistics.median(vals) >= 0.0005:
            print(f"  {name:22s} {statistics.median(vals):7.3f} s   ({' '.join(f'{v:.2f}' for v in vals)})")


def cores(corpus: Path, st: Path, workers: int, fraction: float, rebuilds: int) -> None:
    tick = os.sysconf("SC_CLK_TCK")
    events: list[tuple[str, str, float, float]] = []
    t_zero = [0.0]

    def wrap(mod, name) -> None:
        fn = getattr(mod, name)

        @functools.wraps(fn)
        def timed(*args, **kw):
            t = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                events.append((_label(name, args), threading.current_thread().name[:10], t - t_zero[0],
                               time.perf_counter() - t_zero[0]))
        setattr(mod, name, timed)

    for mod, name in STEPS:
        wrap(mod, name)

    def ticks(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        except OSError:
            return 0

    pool = b._POOLS.get(workers)
    pids = [os.getpid()] + (list(pool._processes) if pool is not None else [])
    step = 0.05
    for k in range(rebuilds):
        touch(corpus, fraction, seed=9500 + k)
        samples: list[tuple[float, list[int]]] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                samples.append((time.perf_counter(), [ticks(p) for p in pids]))
                time.sleep(0.005)
        th = threading.Thread(target=sample, daemon=True)
        th.start()
        events.clear()
        t_zero[0] = time.perf_counter()
        b.build(corpus, st, workers=workers, keep_workers=True)
        wall = time.perf_counter() - t_zero[0]
        done.set()
        th.join()
        main_row, work_row, busy = [], [], []
        for i in range(int(wall / step) + 1):
            lo, hi = t_zero[0] + i * step, t_zero[0] + (i + 1) * step
            inside = [s for s in samples if lo <= s[0] <= hi]
            if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
                main_row.append("?")
                work_row.append("?")
                continue
            a, z = inside[0], inside[-1]
            dt = z[0] - a[0]
            m = (z[1][0] - a[1][0]) / tick / dt
            w = sum(z[1][j] - a[1][j] for j in range(1, len(pids))) / tick / dt
            main_row.append(str(min(9, round(4 * m))))
            work_row.append(str(min(9, round(4 * w))))
            busy.append(min(1.0, (m + w) / max(1, workers)))
        print(f"rebuild {k + 1}: {wall:.2f} s; cores used per {int(1000 * step)} ms (x4), "
              f"mean {100 * statistics.mean(busy or [0]):.0f}% of {workers}:")
        print("  build process " + "".join(main_row))
        print("  workers       " + "".join(work_row))
        for label, thread, a, e in sorted(events, key=lambda ev: ev[2]):
            if e - a >= 0.005:
                print(f"  {a:5.2f}-{e:5.2f} s  [{int(a / step):3d}-{int(e / step):3d}]  {thread:10s} {label}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    corpus_arguments(ap)
    ap.add_argument("--rebuilds", type=int, default=8)
    ap.add_argument("--cores", action="store_true", help="sample the cores' use instead of timing steps in line")
    ap.add_argument("--reuse", action="store_true", help="keep the corpus and store of the last run in --workdir")
    args = ap.parse_args()
    corpus = args.workdir / f"profile-rebuild-{args.articles}"
    st = args.workdir / f"profile-rebuild-store-{args.articles}"
    if not (args.reuse and corpus.exists() and st.exists()):
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.rmtree(st, ignore_errors=True)
        make_real_corpus(corpus, args.articles, args.texts)
    b.start_workers(args.workers)
    try:
        t = time.perf_counter()
        s = b.build(corpus, st, workers=args.workers, keep_workers=True)  # full build, or catching up
        print(f"{'built' if s.get('processed_files') else 'kept'}: {s['articles']} articles, "
              f"{s.get('processed_files', 0)} files processed in {time.perf_counter() - t:.1f} s", flush=True)
        touch(corpus, args.changed, seed=8999)
        b.build(corpus, st, workers=args.workers, keep_workers=True)  # one rebuild before timing
        if args.cores:
            cores(corpus, st, args.workers, args.changed, args.rebuilds)
        else:
            steps_in_line(corpus, st, args.workers, args.changed, args.rebuilds)
    finally:
        b.shutdown_workers()


if __name__ == "__main__":
    main()
