"""Stop builds with a signal at random points and check each ends cleanly (round 16).

    python benchmarks/fuzz_stop.py [--runs 40] [--mode watch|build] [--signal TERM|INT] [--max-delay 2.0]

Builds the seed corpus into a store, adds 40 new files, then runs `python -m presslens build`
(`--watch` or a one-shot build, `--workers 1`) again and again on copies of that store, each
time sending the signal at a random delay after the build has begun writing its version (the
`.tmp-` folder appears). A run is clean when:
- nothing is left half-written in the store (no `.tmp-` folder) and nothing printed a traceback;
- `--watch`: it exits 0 with "stopped watching" last; the live version is the old one unless a
  build finished ("built:" printed) before the signal;
- a one-shot build: it exits 130 with "stopped: the build published nothing" and the old
  version is live, or the signal came after it published (its summary printed, then exit 0 or
  -2, as Ctrl-C ends any program).
Prints each outcome with how often and at which delays it was seen; exits 1 if any run was not
clean or did not end within 60 s of the signal. This is how round 15's CI failure (an exit by
SIGINT after a clean stop, when the KeyboardInterrupt landed inside a string exec) was found:
a test sends one signal at one point, this sends many at many.
"""
from __future__ import annotations

import argparse
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from presslens import build as b  # noqa: E402
from presslens import store  # noqa: E402


def one_run(corpus: Path, store_dir: Path, mode: str, sig: int, delay: float) -> tuple[str, bool]:
    """Run one build, signal it `delay` s after its version folder appears; (outcome, clean)."""
    live = store.current(store_dir).directory
    args = [sys.executable, "-m", "presslens", "build", "--corpus", str(corpus), "--store", str(store_dir),
            "--workers", "1", "--quiet"] + (["--watch"] if mode == "watch" else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    end = time.monotonic() + 60
    while not any(p.name.startswith(".tmp-") for p in store_dir.iterdir()) and time.monotonic() < end:
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    time.sleep(delay)
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return "no end within 60 s of the signal", False
    left = any(p.name.startswith(".tmp-") for p in store_dir.iterdir())
    published = store.current(store_dir).directory != live
    code = proc.returncode
    if mode == "watch":
        built = "built:" in out
        outcome = f"exit {code}, {'a build finished first' if built else 'stopped mid-build'}"
        clean = (code == 0 and out.strip().endswith("stopped watching") and published == built)
    else:
        stopped = "stopped: the build published nothing" in err
        summary = "presslens store" in out
        outcome = f"exit {code}, {'stopped, nothing published' if stopped else 'published first' if summary else '?'}"
        clean = (code == 130 and stopped and not published) or (summary and published and code in (0, -2))
    if left:
        outcome += ", a .tmp- folder left"
    if "Traceback" in err:
        outcome += ", a traceback"
    return outcome, clean and not left and "Traceback" not in err


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--mode", choices=["watch", "build"], default="watch")
    ap.add_argument("--signal", choices=["TERM", "INT"], default="TERM")
    ap.add_argument("--max-delay", type=float, default=2.0, help="largest delay after the version folder appears (s)")
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args()
    sig = signal.SIGTERM if args.signal == "TERM" else signal.SIGINT
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="presslens-fuzz-stop-"))
    try:
        corpus = work / "corpus"
        shutil.copytree(ROOT / "data" / "corpus", corpus)
        base = work / "base"
        b.build(corpus, base, workers=1)
        for k in range(40):
            (corpus / f"new{k:02d}.txt").write_text(f"Новость {k}\n\nПутин прилетел в Пхеньян {k % 28 + 1} июня.\n",
                                                    encoding="utf-8")
        seen: dict[tuple[str, bool], list[float]] = defaultdict(list)
        for i in range(args.runs):
            st = work / f"s{i}"
            shutil.copytree(base, st)
            delay = rng.uniform(0, args.max_delay)
            seen[one_run(corpus, st, args.mode, sig, delay)].append(round(delay, 2))
            shutil.rmtree(st, ignore_errors=True)
        bad = 0
        for (outcome, clean), delays in sorted(seen.items(), key=lambda kv: -len(kv[1])):
            bad += 0 if clean else len(delays)
            print(f"{'ok ' if clean else 'BAD'} {len(delays):3d} x {outcome}  (delays {min(delays):.2f}-{max(delays):.2f} s)")
        print(f"{args.runs} runs ({args.mode}, SIG{args.signal}): {bad} not clean")
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
