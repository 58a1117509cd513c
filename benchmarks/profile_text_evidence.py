"""CPU cost of the story text evidence a build worker computes per shard, on real news text.

    nice python benchmarks/profile_text_evidence.py [--articles 540] [--texts GLOB] [--repeat 5]

Reads real articles (default: the public BSNLP ru/uk dev texts under
/work/shared/eval-dev/bsnlp/raw, read by path, never copied), finds their boilerplate and
language with presslens.enrich (as the build does before), then times
presslens.stories.text_evidence over all of them as one batch (a worker's shard) and its
parts one by one. Prints the best of --repeat runs in CPU ms per article (CPU time of this
process: on a shared machine wall-clock time mostly measures the others).
"""
from __future__ import annotations

import argparse
import glob
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_TEXTS = "/work/shared/eval-dev/bsnlp/raw/*/*/*.txt"


def best_ms(fn, n: int, repeat: int) -> float:
    """Best CPU ms per article of `repeat` calls of fn() over n articles."""
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return 1000 * best / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=540)
    ap.add_argument("--texts", default=DEFAULT_TEXTS)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from presslens import stories
    from presslens.enrich import boilerplate, language

    texts = [Path(p).read_text(encoding="utf-8") for p in sorted(glob.glob(args.texts))[:args.articles]]
    if not texts:
        sys.exit(f"no texts match {args.texts}")
    bps = [boilerplate.find(t) for t in texts]
    langs = [language.detect(t, bp).language for t, bp in zip(texts, bps)]
    bps = [[list(s) for s in bp] for bp in bps]
    n = len(texts)
    stories.text_evidence(texts, bps, langs)  # lemma dictionaries loaded, caches filled (a warm worker)
    cores = [stories.core_text(t, bp) for t, bp in zip(texts, bps)]
    news = [stories.news_text(c) for c in cores]
    parts = {
        "text_evidence (all)": lambda: stories.text_evidence(texts, bps, langs),
        "  news_sentences": lambda: [stories.news_sentences(c) for c in cores],
        "  numbers_and_dates(news)": lambda: [stories.numbers_and_dates(x) for x in news],
        "  numbers_and_dates(lead)": lambda: [stories.numbers_and_dates(c[:stories.LEAD_CHARS]) for c in cores],
        "  event_date_feature": lambda: [stories.event_date_feature(c) for c in cores],
        "  lead_words": lambda: [stories.lead_words(c, lang) for c, lang in zip(cores, langs)],
        "  shingles+minhash": lambda: stories.minhash(*stories.shingle_batch(cores), stories._TEXT_A, stories._TEXT_B),
    }
    chars = sum(map(len, texts)) / n
    print(f"{n} articles, {chars:.0f} chars on average, one batch; CPU ms per article (best of {args.repeat}):")
    for name, fn in parts.items():
        print(f"  {name:<28} {best_ms(fn, n, args.repeat):7.3f} ms", flush=True)
    print("(the parts overlap: event_date_feature splits the sentences again, text_evidence shares them)")


if __name__ == "__main__":
    main()
