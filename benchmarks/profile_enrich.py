"""Per-article cost of each enrichment step on real news text, on one core.

    nice python benchmarks/profile_enrich.py [--articles 540] [--texts GLOB] [--cprofile 25] [--passes 2] [--batch 128]

Reads real articles (default: the public BSNLP ru/uk dev texts under
/work/shared/eval-dev/bsnlp/raw, read by path, never copied), warms every model first
(presslens.enrich.warm, as a build worker does before its first file), then times each
step (CPU time) of presslens.enrich.enrich separately over all articles and prints the mean
milliseconds per article per step: the first pass with the per-word caches empty (every
word form new to the worker), the later passes with them filled (a worker deep into a
corpus: news vocabulary repeats), and optionally the top functions of a cProfile run
(cumulative time) so costs inside a step can be seen.
"""
from __future__ import annotations

import argparse
import cProfile
import glob
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from presslens import build as b  # noqa: E402
from presslens.records import RawRecord  # noqa: E402

DEFAULT_TEXTS = "/work/shared/eval-dev/bsnlp/raw/*/*/*.txt"
# CPU time of this process: on a shared machine wall-clock time mostly measures the others.
CLOCK = time.process_time


def load(pattern: str, n: int) -> list[RawRecord]:
    """Up to n records from the files matching pattern (sorted, so runs compare)."""
    paths = sorted(glob.glob(pattern))[:n]
    return [RawRecord(path=Path(p).name, text=Path(p).read_text(encoding="utf-8"), encoding="utf-8") for p in paths]


def step_times(records: list[RawRecord], batch: int = 0) -> dict[str, float]:
    """Mean CPU ms per article of each enrichment step (same calls as enrich()); with
    `batch`, the entities step runs as the build's workers run it, on `batch` records at a
    time (entities.extract_many, as enrich_many)."""
    from presslens.enrich import boilerplate, entities, language, metadata, sources

    acc: dict[str, float] = {}

    def timed(name, fn, *a):
        t = CLOCK()
        out = fn(*a)
        acc[name] = acc.get(name, 0.0) + CLOCK() - t
        return out

    pending = []
    for k, rec in enumerate(records):
        text = rec.text
        spans = timed("boilerplate", boilerplate.find, text)
        lang = timed("language", language.detect, text, spans).language
        timed("metadata.title", metadata.title, rec, text, spans, lang)
        timed("metadata.outlet", metadata.outlet, rec, text, spans, lang)
        timed("metadata.published", metadata.published, rec, text, spans, lang)
        timed("sources", sources.cited, text, lang, spans)
        if batch:
            pending.append((text, lang, spans))
            if len(pending) == batch or k == len(records) - 1:
                timed("entities", entities.extract_many, pending)
                pending = []
        else:
            timed("entities", entities.extract, text, lang, spans)
        timed("ids+dedup", lambda: (b.doc_id_for(rec.path, rec.record, text),
                                    b.dedup_key(text, [list(s) for s in spans])))
    return {k: 1000 * v / len(records) for k, v in acc.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=540)
    ap.add_argument("--texts", default=DEFAULT_TEXTS)
    ap.add_argument("--cprofile", type=int, default=0, help="print this many top functions of a cProfile run")
    ap.add_argument("--passes", type=int, default=2, help="passes over the articles (the first with empty caches)")
    ap.add_argument("--batch", type=int, default=0,
                    help="time the entities step on this many articles at a time (extract_many, as the build's "
                         "workers: build.GATHER_RECORDS); 0: one at a time (extract)")
    args = ap.parse_args()
    records = load(args.texts, args.articles)
    if not records:
        sys.exit(f"no texts match {args.texts}")
    chars = sum(len(r.text) for r in records) / len(records)
    from presslens.enrich import enrich

    try:
        from presslens.enrich import warm
    except ImportError:  # an older checkout: warm up on the first articles instead
        def warm():
            for rec in records[:20]:
                enrich(rec)

    t = CLOCK()
    warm()
    print(f"warm-up (models loaded once per worker): {CLOCK() - t:.2f} s CPU")
    for k in range(args.passes):
        times = step_times(records, args.batch)
        total = sum(times.values())
        what = "first pass, per-word caches empty" if k == 0 else f"pass {k + 1}, caches filled"
        if args.batch:
            what += f"; entities {args.batch} articles at a time"
        print(f"{len(records)} articles, {chars:.0f} chars on average; CPU ms per article, one core ({what}):")
        for name, ms in sorted(times.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<20} {ms:7.2f} ms  {100 * ms / total:5.1f}%")
        print(f"  {'total':<20} {total:7.2f} ms  = {1000 / total:.0f} articles/s per core", flush=True)
    if args.cprofile:
        prof = cProfile.Profile()
        prof.enable()
        for rec in records:
            enrich(rec)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(args.cprofile)
        print(out.getvalue())


if __name__ == "__main__":
    main()
