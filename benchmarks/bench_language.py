"""Article language: CPU milliseconds per article and article accuracy on real news text.

    python benchmarks/bench_language.py [--bsnlp /work/shared/eval-dev/bsnlp] [--seeds data/corpus]
                                        [--repeat 1]

Reads every BSNLP raw article (the folder name is its language: ru or uk) and the seed
articles (their expected languages are the ones the test suite asserts), finds the
boilerplate spans first (not timed), warms the detectors up (models loaded once, as a build
worker does before its first article), then times `presslens.enrich.language.detect` alone
with CPU time (time.process_time: less disturbed than wall time on a shared machine).
Prints ms/article and accuracy per language, and the mean article length.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from presslens.enrich import boilerplate, language  # noqa: E402

# The seed articles and their languages (tests/test_enrich.py::test_seed_languages).
SEED_LANGUAGES = {"000": "ru", "001": "en", "002": "ru", "003": "ro", "004": "uk"}


def load(bsnlp: Path, seeds: Path) -> list[tuple[str, str, str]]:
    """(source, gold language, text) for every BSNLP raw article and seed article."""
    out = []
    for txt in sorted((bsnlp / "raw").glob("*/*/*.txt")):
        out.append(("bsnlp", txt.parent.name, txt.read_text(encoding="utf-8")))
    for prefix, lang in SEED_LANGUAGES.items():
        for path in sorted(seeds.glob(f"{prefix}_*.txt")):
            out.append(("seeds", lang, path.read_text(encoding="utf-8")))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bsnlp", type=Path, default=Path("/work/shared/eval-dev/bsnlp"))
    ap.add_argument("--seeds", type=Path, default=ROOT / "data" / "corpus")
    ap.add_argument("--repeat", type=int, default=1, help="time each article this many times")
    args = ap.parse_args(argv)
    docs = load(args.bsnlp, args.seeds)
    if not docs:
        print("error: no articles found", file=sys.stderr)
        return 2
    spans = [boilerplate.find(text) for _s, _l, text in docs]
    warm = getattr(language, "warm_up", None)
    t0 = time.process_time()
    if warm:
        warm()
    language.detect("Warm up: это короткий текст для загрузки профилей.", [])
    print(f"warm-up (models loaded once per worker): {(time.process_time() - t0) * 1000:.0f} ms CPU")
    stats: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0, 0])
    for (source, gold, text), sp in zip(docs, spans):
        t0 = time.process_time()
        for _ in range(args.repeat):
            got = language.detect(text, sp).language
        ms = (time.process_time() - t0) * 1000 / args.repeat
        s = stats[(source, gold)]
        s[0] += 1
        s[1] += got == gold
        s[2] += ms
        s[3] += len(text)
    total = [0, 0, 0.0, 0]
    print(f"{'source':6} {'lang':4} {'articles':>8} {'accuracy':>8} {'ms/article':>10} {'chars':>6}")
    for (source, gold), s in sorted(stats.items()):
        print(f"{source:6} {gold:4} {s[0]:8d} {s[1] / s[0]:8.4f} {s[2] / s[0]:10.2f} {s[3] // s[0]:6d}")
        for i in range(4):
            total[i] += s[i]
    print(f"{'all':6} {'':4} {total[0]:8d} {total[1] / total[0]:8.4f} {total[2] / total[0]:10.2f} "
          f"{total[3] // total[0]:6d}")
    print("(ms/article: CPU time of language.detect only, boilerplate found beforehand; "
          "shared 2-core machine, compare runs made together)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
