"""Build throughput on real news text: full build and 1% rebuild, local and on Dask.

    nice python benchmarks/bench_build.py [--articles 10000] [--engines local,dask] [--workers 2] [--rebuilds 5]
                                          [--rounds 1] [--compact-between]
                                          [--texts GLOB] [--workdir /tmp/presslens-bench]

The corpus is made of real articles (default: the public BSNLP ru/uk news texts under
/work/shared/eval-dev/bsnlp/raw, read by path, never copied into the repository), repeated
and varied up to --articles: copy k of an article keeps its first line (the title) and
shuffles the sentences of its body with seed k, so texts differ (and are not marked as
duplicates) while staying real prose. Files go in subfolders of 1,000.

For each engine ("local": worker processes; "dask": a LocalCluster of --workers
processes) it prints:
- full build: articles/s (models loaded in each worker before its first file, included);
- 1% rebuilds with the workers kept warm from the full build (keep_workers=True: a
  long-lived process or a running Dask cluster), --rebuilds of them one after the other (each
  changes another 1% of the files: later ones carry what earlier ones left, e.g. a growing
  story-links delta), each and their median and mean as a share of the full build's time;
  with --compact-between, each is followed by the story-links compaction `build --watch` runs
  while it waits for changes (timed apart): the next rebuild then starts from one links file;
- with --rounds R, the full build and its warm rebuilds R times (fresh workers and an empty
  store each time), each round's ratio and their median;
- 1% rebuild with cold workers (as a fresh `python -m presslens build` process does);
- peak RSS of the build process and of its largest child process (sampled every 0.2 s): a
  worker, or with --compact-between possibly the compaction process.
Wall-clock figures on a shared machine are noisy: compare runs made together. The CPU
seconds of every process (the build's and its workers') are printed too: on a busy machine
their ratio (rebuild CPU / full build CPU) says more than the wall-clock ratio.
"""
from __future__ import annotations

import argparse
import glob
import random
import re
import resource
import shutil
import statistics
import sys
import threading
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from presslens import build as b  # noqa: E402

DEFAULT_TEXTS = "/work/shared/eval-dev/bsnlp/raw/*/*/*.txt"


def make_real_corpus(out: Path, n: int, pattern: str) -> int:
    """Write n articles built from the real texts matching `pattern` (see module doc)."""
    sources = [Path(p).read_text(encoding="utf-8") for p in sorted(glob.glob(pattern))]
    if not sources:
        raise SystemExit(f"no texts match {pattern}")
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        k, text = divmod(i, len(sources))
        text = sources[text]
        if k:
            head, _, body = text.partition("\n")
            sentences = re.split(r"(?<=[.!?»])\s+", body.strip())
            random.Random(k * 7919 + i).shuffle(sentences)
            text = head + "\n\n" + " ".join(sentences) + "\n"
        d = out / f"{i // 1000:03d}"
        d.mkdir(exist_ok=True)
        (d / f"a{i:06d}.txt").write_text(text, encoding="utf-8")
    return len(sources)


def touch(corpus: Path, fraction: float, seed: int) -> int:
    """Change `fraction` of the files (a sentence appended); returns how many."""
    rng = random.Random(seed)
    files = sorted(corpus.rglob("*.txt"))
    chosen = rng.sample(files, max(1, int(len(files) * fraction)))
    for p in chosen:
        with open(p, "a", encoding="utf-8") as f:
            f.write(f"\n\nОбновлено {rng.randint(0, 10**9)}.")
    return len(chosen)


class RssSampler:
    """Peak RSS of this process and of its largest descendant, sampled in a thread."""

    def __init__(self, every: float = 0.2) -> None:
        import psutil

        self.proc = psutil.Process()
        self.every = every
        self.peak_self = 0
        self.peak_child = 0
        self.cpu: dict[int, float] = {}  # pid -> user+system seconds, last seen
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                self.peak_self = max(self.peak_self, self.proc.memory_info().rss)
                for c in self.proc.children(recursive=True):
                    try:
                        self.peak_child = max(self.peak_child, c.memory_info().rss)
                        t = c.cpu_times()
                        self.cpu[c.pid] = t.user + t.system
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            time.sleep(self.every)

    def __enter__(self) -> RssSampler:
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()

    def own_cpu_seconds(self) -> float:
        """CPU seconds of this (the client's) process alone."""
        t = self.proc.cpu_times()
        return t.user + t.system

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by this process and every worker seen."""
        t = self.proc.cpu_times()
        return t.user + t.system + sum(self.cpu.values())


def run_engine(engine: str, corpus: Path, st: Path, workers: int, fraction: float, rebuilds: int,
               compact: bool = False, rounds: int = 1) -> None:
    ratios: list[float] = []
    with RssSampler() as rss:
        for r in range(rounds):
            if rounds > 1:
                print(f"[{engine}] round {r + 1} of {rounds}", flush=True)
            full, cpu, ratio = _full_and_warm(engine, corpus, st, workers, fraction, rebuilds, compact, rss,
                                              seed_shift=100 * r)
            ratios.append(ratio)
        if rounds > 1:
            print(f"[{engine}] 1% rebuild, warm workers, each round's median as a share of its own full build: "
                  + ", ".join(f"{100 * x:.1f}%" for x in ratios)
                  + f"; median of the {rounds} rounds {100 * statistics.median(ratios):.1f}%", flush=True)
        seed = zlib.crc32(engine.encode()) % 1000
        n = touch(corpus, fraction, seed=seed + 2)
        t, c0 = time.perf_counter(), rss.cpu_seconds()
        s = b.build(corpus, st, workers=workers, engine=engine)
        cold = time.perf_counter() - t
        time.sleep(0.5)
        ccpu = rss.cpu_seconds() - c0
        print(f"[{engine}] 1% rebuild, cold workers: {s['processed_files']} changed files in {cold:.1f} s = "
              f"{100 * cold / full:.1f}% of the (last) full build; CPU {ccpu:.1f} s = {100 * ccpu / cpu:.1f}% "
              "(workers' CPU sampled every 0.2 s: a worker that exits between samples is undercounted)",
              flush=True)
        assert n == s["processed_files"]
    print(f"[{engine}] peak RSS: build process {rss.peak_self / 2**20:.0f} MB, largest child (worker"
          f"{' or compaction' if compact else ''}) "
          f"{rss.peak_child / 2**20:.0f} MB (getrusage self: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)", flush=True)


def _full_and_warm(engine: str, corpus: Path, st: Path, workers: int, fraction: float, rebuilds: int,
                   compact: bool, rss: RssSampler, seed_shift: int = 0) -> tuple[float, float, float]:
    """A full build into an empty store with workers started for it, then `rebuilds` warm 1%
    rebuilds; the workers are stopped after. Returns (full build seconds, its CPU seconds,
    median rebuild / full build)."""
    shutil.rmtree(st, ignore_errors=True)
    t = time.perf_counter()
    c0, own0 = rss.cpu_seconds(), rss.own_cpu_seconds()
    s = b.build(corpus, st, workers=workers, engine=engine, keep_workers=True)
    full = time.perf_counter() - t
    own = rss.own_cpu_seconds() - own0
    time.sleep(0.5)  # one more sample of the workers' CPU time
    cpu = rss.cpu_seconds() - c0
    print(f"[{engine}] full build: {s['articles']} articles in {full:.1f} s = {s['articles'] / full:.1f} articles/s "
          f"({s['mentions']} mentions, {s['duplicates']} duplicates, {s['rejects']} rejects)", flush=True)
    print(f"[{engine}]   CPU: {cpu:.0f} s = {1000 * cpu / s['articles']:.1f} ms per article (all processes, "
          f"model loading included) -> {workers * s['articles'] / cpu:.0f} articles/s on {workers} idle cores",
          flush=True)
    print(f"[{engine}]   of which the build process (planning, assembly, story grouping, indexes): {own:.1f} s "
          f"= {1000 * own / s['articles']:.1f} ms per article", flush=True)

    seed = zlib.crc32(engine.encode()) % 1000 + seed_shift
    walls, cpus = [], []
    for k in range(rebuilds):
        n = touch(corpus, fraction, seed=seed + 10 + k)
        t, c0 = time.perf_counter(), rss.cpu_seconds()
        s = b.build(corpus, st, workers=workers, engine=engine, keep_workers=True)
        walls.append(time.perf_counter() - t)
        time.sleep(0.5)
        cpus.append(rss.cpu_seconds() - c0)
        print(f"[{engine}]   warm rebuild {k + 1}: {s['processed_files']} changed files of {s['files']} in "
              f"{walls[-1]:.2f} s = {100 * walls[-1] / full:.1f}%, CPU {cpus[-1]:.1f} s", flush=True)
        if compact:  # what `build --watch` does while it waits for the next change
            t = time.perf_counter()
            job = b._Compaction.start(st)
            if job is not None:
                job.proc.join()
                print(f"[{engine}]     then, between rebuilds (not counted above), the story links "
                      f"compacted: {time.perf_counter() - t:.1f} s", flush=True)
    warm, wcpu = statistics.median(walls), statistics.median(cpus)
    print(f"[{engine}] 1% rebuild, warm workers, median of {rebuilds} one after the other: {warm:.2f} s = "
          f"{100 * warm / full:.1f}% of the full build (first {100 * walls[0] / full:.1f}%, range "
          f"{100 * min(walls) / full:.1f}-{100 * max(walls) / full:.1f}%, mean {statistics.mean(walls):.2f} s = "
          f"{100 * statistics.mean(walls) / full:.1f}%: the periodic full re-clusters and link rewrites "
          f"count there); CPU {wcpu:.1f} s = "
          f"{100 * wcpu / cpu:.1f}% of the full build's CPU", flush=True)
    b.shutdown_workers()
    return full, cpu, warm / full


def corpus_arguments(ap: argparse.ArgumentParser) -> None:
    """The options of the benchmarks that build this real-text corpus and change 1% of it."""
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--changed", type=float, default=0.01)
    ap.add_argument("--texts", default=DEFAULT_TEXTS)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/presslens-bench"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    corpus_arguments(ap)
    ap.add_argument("--engines", default="local,dask")
    ap.add_argument("--rebuilds", type=int, default=5, help="warm 1%% rebuilds one after the other (median reported)")
    ap.add_argument("--compact-between", action="store_true",
                    help="after each warm rebuild, compact the story links as `build --watch` does while it waits "
                         "(timed apart; large stores only: stories.COMPACT_MIN_LINKS)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="full build + warm rebuilds this many times (each with fresh workers and an empty store): "
                         "each round's ratio pairs a full build with rebuilds run right after it, so a machine "
                         "that slows down or speeds up between them moves one round, not the result")
    args = ap.parse_args()
    corpus = args.workdir / f"real-{args.articles}"
    shutil.rmtree(corpus, ignore_errors=True)
    t = time.perf_counter()
    n_src = make_real_corpus(corpus, args.articles, args.texts)
    print(f"corpus: {args.articles} articles from {n_src} real texts in {time.perf_counter() - t:.1f} s; "
          f"{args.workers} workers", flush=True)
    for engine in args.engines.split(","):
        run_engine(engine, corpus, args.workdir / f"store-{engine}-{args.articles}", args.workers, args.changed,
                   args.rebuilds, args.compact_between, args.rounds)


if __name__ == "__main__":
    main()
