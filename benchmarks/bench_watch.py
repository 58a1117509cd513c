"""1% rebuilds as a user runs them: fresh `build` processes against one `build --watch`.

    python benchmarks/bench_watch.py [--articles 10000] [--rebuilds 5] [--workdir /tmp/presslens-bench]

Makes the real-text corpus of bench_build.py (the public BSNLP texts, repeated with shuffled
sentences), builds it once, then changes 1% of the files (a sentence appended) --rebuilds
times for each of the two ways, one after the other:
- cold: `python -m presslens build` run afresh after each change (a new process: imports, model
  loading, then the rebuild; the process's wall time is what the user waits);
- watch: one `python -m presslens build --watch --interval 0.5 --min-gap 1` kept running; each change is
  picked up at its next look, and the build time it prints is taken (the wait for the next
  look, at most the interval, is not counted: it is a setting, not work).
Each figure is also given as a share of the full build's time (the full build is a fresh
process too). Compare runs made together: this machine's speed drifts.
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_build import DEFAULT_TEXTS, make_real_corpus, touch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "presslens", "build", *args]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--rebuilds", type=int, default=5)
    ap.add_argument("--texts", default=DEFAULT_TEXTS)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/presslens-bench"))
    args = ap.parse_args()
    corpus, st = args.workdir / f"watch-{args.articles}", args.workdir / f"watch-store-{args.articles}"
    import shutil

    shutil.rmtree(corpus, ignore_errors=True)
    shutil.rmtree(st, ignore_errors=True)
    make_real_corpus(corpus, args.articles, args.texts)
    common = ["--corpus", str(corpus), "--store", str(st), "--quiet"]
    t = time.perf_counter()
    subprocess.run(cli(*common), check=True, cwd=ROOT, capture_output=True)
    full = time.perf_counter() - t
    print(f"full build (fresh process): {full:.1f} s = {args.articles / full:.0f} articles/s", flush=True)

    cold = []
    for k in range(args.rebuilds):
        n = touch(corpus, 0.01, seed=7000 + k)
        t = time.perf_counter()
        subprocess.run(cli(*common), check=True, cwd=ROOT, capture_output=True)
        cold.append(time.perf_counter() - t)
        print(f"  cold rebuild {k + 1}: {n} files, {cold[-1]:.2f} s = {100 * cold[-1] / full:.1f}%", flush=True)

    proc = subprocess.Popen(cli(*common, "--watch", "--interval", "0.5", "--min-gap", "1"), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()

    def wait_line(pred, timeout=600.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for ln in lines:
                if pred(ln):
                    return ln
            time.sleep(0.05)
        raise SystemExit(f"no expected line from --watch within {timeout:.0f} s: {lines}")

    wait_line(lambda ln: ln.startswith("watching "))
    time.sleep(15)  # its two workers load their models in the background first (~5 s each)
    warm = []
    try:
        for k in range(args.rebuilds):
            before = len(lines)
            n = touch(corpus, 0.01, seed=8000 + k)
            ln = wait_line(lambda ln: " built: " in ln and lines.index(ln) >= before)
            warm.append(float(re.search(r" in ([0-9.]+) s", ln).group(1)))
            print(f"  --watch rebuild {k + 1}: {n} files, {warm[-1]:.2f} s = {100 * warm[-1] / full:.1f}%", flush=True)
    finally:
        proc.send_signal(2)
        proc.wait(60)
    c, w = statistics.median(cold), statistics.median(warm)
    print(f"1% rebuild, median of {args.rebuilds}: fresh process {c:.2f} s = {100 * c / full:.1f}% of the full build; "
          f"--watch {w:.2f} s = {100 * w / full:.1f}% ({c / w:.1f}x faster)", flush=True)


if __name__ == "__main__":
    main()
