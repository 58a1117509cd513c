"""Peak memory of reading and building a 1 GiB JSONL export: bounded by the batch, not the file.

    nice python benchmarks/bench_memory.py [--gib 1.0] [--texts GLOB] [--workdir /tmp/presslens-mem]
                                           [--build-seconds 180] [--batch 1000]

Generates two JSONL exports of --gib GiB from real news texts (default: the public BSNLP
ru/uk texts, read by path), then measures each step in a fresh subprocess (so each peak
RSS is its own, from getrusage):

1. whole:   ingest.read() of the all-article file (the whole-file reader, for comparison);
2. stream:  ingest.read_batches() over the same file, every batch dropped after use;
3. build-1%: a complete build (one worker, every enrichment on) of the second file, whose
   rows are 99% rows without a text field (rejected one by one) and 1% articles, so the
   whole 1 GiB goes through the streaming reader, batching, enrichment, shards, rejects
   and assembly in minutes rather than the hours that enriching 1 GiB of text takes here;
4. build-timed: a build of the all-article file stopped after --build-seconds, with its
   RSS sampled every few seconds: it stays flat while the articles processed grow.
"""
from __future__ import annotations

import argparse
import glob
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_TEXTS = "/work/shared/eval-dev/bsnlp/raw/*/*/*.txt"


def generate(out: Path, gib: float, pattern: str, text_every: int) -> int:
    """A JSONL file of `gib` GiB; every `text_every`-th row has a text field, the others
    carry the same bulk in a field the readers ignore. Returns the number of rows."""
    texts = [Path(p).read_text(encoding="utf-8") for p in sorted(glob.glob(pattern))]
    if not texts:
        raise SystemExit(f"no texts match {pattern}")
    target = int(gib * 2**30)
    rng = random.Random(1)
    n = size = 0
    with open(out, "w", encoding="utf-8") as f:
        while size < target:
            text = texts[n % len(texts)]
            lines = text.split("\n")
            body = lines[1:]
            rng.shuffle(body)
            text = "\n".join(lines[:1] + body)
            row = {"title": lines[0][:200], "url": f"https://example.org/{n}", "published": "2019-03-01"}
            if n % text_every == 0:
                row["text"] = text
            else:
                row["raw_html"] = text
            line = json.dumps(row, ensure_ascii=False) + "\n"
            f.write(line)
            size += len(line.encode("utf-8"))
            n += 1
    return n


def child(mode: str, path: str, store: str, batch: int, seconds: float) -> None:
    """Runs in a subprocess: one measurement, printed as one JSON line."""
    from presslens import build as b
    from presslens import ingest

    t = time.perf_counter()
    out: dict = {"mode": mode}
    if mode == "whole":
        records, rejects = ingest.read(Path(path), Path(path).name)
        out.update(records=len(records), rejects=len(rejects))
    elif mode == "stream":
        n = r = 0
        for records, rejects in ingest.read_batches(Path(path), Path(path).name, batch=batch):
            n += len(records)
            r += len(rejects)
        out.update(records=n, rejects=r)
    else:
        corpus = Path(path).parent
        s = b.build(corpus, store, workers=1, batch_records=batch)
        out.update(articles=s["articles"], rejects=s["rejects"], mentions=s["mentions"])
    out["seconds"] = round(time.perf_counter() - t, 1)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out), flush=True)


def measure(mode: str, path: Path, store: Path, batch: int, seconds: float) -> None:
    cmd = [sys.executable, __file__, "--child", mode, str(path), str(store), str(batch), str(seconds)]
    if mode != "build-timed":
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        line = [x for x in res.stdout.splitlines() if x.startswith("{")]
        print(f"{mode:<12} {line[-1] if line else res.stderr[-2000:]}", flush=True)
        return
    import psutil

    cmd[3] = "build"
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    p = psutil.Process(proc.pid)
    start = time.time()
    peak = 0
    samples = []
    while proc.poll() is None and time.time() - start < seconds:
        try:
            rss = p.memory_info().rss
        except psutil.Error:
            break
        peak = max(peak, rss)
        shards = list(Path(store).glob(".tmp-*/shards/articles-*.parquet"))
        samples.append((round(time.time() - start), round(rss / 2**20), len(shards)))
        time.sleep(5)
    proc.kill()
    proc.wait()
    print(f"{'build-timed':<12} stopped after {seconds:.0f} s; (seconds, RSS MB, article shards of "
          f"{batch} written) every ~5 s: {samples}", flush=True)
    print(f"{'build-timed':<12} peak RSS {peak / 2**20:.0f} MB", flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, path, store, batch, seconds = sys.argv[2:7]
        child(mode, path, store, int(batch), float(seconds))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--texts", default=DEFAULT_TEXTS)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/presslens-mem"))
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--build-seconds", type=float, default=180)
    ap.add_argument("--steps", default="whole,stream,build-1%,build-timed")
    args = ap.parse_args()
    full, sparse = args.workdir / "full" / "export.jsonl", args.workdir / "sparse" / "export.jsonl"
    for path, every in ((full, 1), (sparse, 100)):
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.stat().st_size < args.gib * 2**30:
            t = time.perf_counter()
            n = generate(path, args.gib, args.texts, every)
            print(f"generated {path} ({path.stat().st_size / 2**30:.2f} GiB, {n} rows, text in 1 of {every}) "
                  f"in {time.perf_counter() - t:.0f} s", flush=True)
    import shutil

    for step in args.steps.split(","):
        store = args.workdir / f"store-{step}"
        shutil.rmtree(store, ignore_errors=True)
        path = sparse if step == "build-1%" else full
        measure("build" if step == "build-1%" else step, path, store, args.batch, args.build_seconds)


if __name__ == "__main__":
    main()
