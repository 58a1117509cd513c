"""Do enrichment outputs stay identical across a code change? (speed work must not move them)

    nice python benchmarks/check_outputs.py --save BEFORE.pkl      # on the old code
    nice python benchmarks/check_outputs.py --compare BEFORE.pkl   # on the new code
    python benchmarks/check_outputs.py --stores STORE_BEFORE STORE_AFTER  # two builds of one corpus

Runs, with the shipped models, on real text read by path from the shared data (never
copied into the repository):
- presslens.enrich.enrich on every BSNLP raw article (ru, uk): the whole article row
  (language, paragraphs, title, outlet, date, cited sources, ...) and every mention;
- presslens.enrich.entities.extract on the NER test splits of each language (NEREL test
  ru, NER-UK TEST uk, RONEC v2 valid odd half ro, CoNLL-2003 test en);
- presslens.enrich.language.detect on every sentence of the langid dev set (16 languages).
The enrich and NER parts are computed a second time through the batch API the build's
workers use (enrich_many, entities.extract_many; "<part>-batched"), compared with the
baseline's one-at-a-time part. --save pickles the outputs; --compare recomputes them and prints the first differences
(exit status 1 when any output differs), so "same accuracy" is shown by equality, not by a
score. CPU seconds of each part are printed too.

--stores compares every table of two stores' live versions (rows sorted; story_links as its
base, dropped and delta files make it; the files
table without modification times; build timings and paths in the manifest ignored).
"""
from __future__ import annotations

import argparse
import glob
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SHARED = Path("/work/shared")
# Suffix of the parts computed through the batch API (enrich_many, entities.extract_many,
# as the build's workers call them): compared with the one-at-a-time part of the baseline.
BATCHED = "-batched"


def _mention_rows(ms) -> list[tuple]:
    return [(m.start, m.end, m.surface, m.lemma, m.entity_id, m.entity_type, m.name) for m in ms]


def outputs(shared: Path, batched: bool = True) -> dict[str, dict]:
    """{part: {key: output}} for every part named in the module doc (with `batched`, the
    enrich and NER parts a second time through the batch API, under "<part>-batched")."""
    from presslens.eval import NER_TEST_SPLITS
    from presslens.eval_langid import read_langid
    from presslens.enrich import enrich, entities, language, warm
    from presslens.records import RawRecord

    warm()
    out: dict[str, dict] = {}
    t = time.process_time()
    part = out.setdefault("bsnlp-enrich", {})
    for p in sorted(glob.glob(str(shared / "eval-dev/bsnlp/raw/*/*/*.txt"))):
        rec = RawRecord(path=p, text=Path(p).read_text(encoding="utf-8"), encoding="utf-8")
        row, ms = enrich(rec)
        part[p] = (row, _mention_rows(ms))
    print(f"bsnlp-enrich: {len(part)} articles, {time.process_time() - t:.1f} s CPU", flush=True)
    if batched:
        from presslens.build import GATHER_RECORDS
        from presslens.enrich import enrich_many

        t = time.process_time()
        part = out.setdefault("bsnlp-enrich" + BATCHED, {})
        paths = sorted(glob.glob(str(shared / "eval-dev/bsnlp/raw/*/*/*.txt")))
        for k in range(0, len(paths), GATHER_RECORDS):
            recs = [RawRecord(path=p, text=Path(p).read_text(encoding="utf-8"), encoding="utf-8")
                    for p in paths[k : k + GATHER_RECORDS]]
            for rec, res in zip(recs, enrich_many(recs)):
                part[rec.path] = repr(res) if isinstance(res, Exception) else (res[0], _mention_rows(res[1]))
        print(f"bsnlp-enrich{BATCHED} (enrich_many): {len(part)} articles, {time.process_time() - t:.1f} s CPU",
              flush=True)
    for lang, (name, reader) in NER_TEST_SPLITS.items():
        t = time.process_time()
        part = out.setdefault(f"ner-{lang}", {})
        docs = list(reader(shared))
        for d in docs:
            part[d.doc_id] = _mention_rows(entities.extract(d.text, lang, []))
        print(f"ner-{lang} ({name}): {len(part)} docs, {time.process_time() - t:.1f} s CPU", flush=True)
        if batched:
            t = time.process_time()
            part = out.setdefault(f"ner-{lang}{BATCHED}", {})
            for k in range(0, len(docs), 128):
                chunk = docs[k : k + 128]
                for d, res in zip(chunk, entities.extract_many([(d.text, lang, []) for d in chunk])):
                    part[d.doc_id] = repr(res) if isinstance(res, Exception) else _mention_rows(res)
            print(f"ner-{lang}{BATCHED} (extract_many): {len(part)} docs, {time.process_time() - t:.1f} s CPU",
                  flush=True)
    t = time.process_time()
    part = out.setdefault("langid", {})
    for lang, lines in read_langid(shared / "eval-dev/langid").items():
        for k, line in enumerate(lines):
            r = language.detect(line, [])
            part[(lang, k)] = (r.language, r.confidence, r.mixed, r.languages,
                               [(p.start, p.end, p.language, p.confidence) for p in r.paragraphs])
    print(f"langid: {len(part)} sentences, {time.process_time() - t:.1f} s CPU", flush=True)
    return out


def compare(old: dict, new: dict, show: int = 5) -> int:
    """Number of differing outputs (printing the first `show` of each part)."""
    bad = 0
    for part in sorted(set(old) | set(new)):
        base = part.removesuffix(BATCHED) if part not in old else part
        a, b = old.get(base, {}), new.get(part, {})
        diff = [k for k in sorted(set(a) | set(b), key=str) if a.get(k) != b.get(k)]
        print(f"{part}: {len(b)} outputs, {len(diff)} differ", flush=True)
        for k in diff[:show]:
            print(f"  {k}:\n    before {a.get(k)!r:.600}\n    after  {b.get(k)!r:.600}")
        bad += len(diff)
    return bad


def compare_stores(a: Path, b: Path) -> int:
    """Number of tables that differ between the live versions of stores a and b."""
    import polars as pl
    from polars.testing import assert_frame_equal

    from presslens import store

    va, vb = (d / (d / "CURRENT").read_text().strip() for d in (a, b))
    bad = 0
    parts = {store.STORY_LINKS_DELTA, store.STORY_LINKS_DROPPED}  # compared as the story_links table
    for t in sorted(({p.name for p in va.glob("*.parquet")} | {p.name for p in vb.glob("*.parquet")}) - parts):
        try:
            if t == "story_links.parquet":  # base - dropped + delta
                x, y = store.scan_story_links(va).collect(), store.scan_story_links(vb).collect()
            else:
                x, y = pl.read_parquet(va / t), pl.read_parquet(vb / t)
            if t == "files.parquet":
                x, y = (f.drop([c for c in f.columns if "mtime" in c]) for f in (x, y))
            cols = [c for c in x.columns if x.schema[c].is_numeric() or x.schema[c] == pl.String]
            assert_frame_equal(x.sort(cols), y.sort(cols))
            print(f"{t}: {x.height} rows, identical")
        except (AssertionError, FileNotFoundError) as exc:
            bad += 1
            print(f"{t}: DIFFERS: {str(exc)[:500]}")
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--save", type=Path)
    g.add_argument("--compare", type=Path)
    g.add_argument("--stores", type=Path, nargs=2)
    ap.add_argument("--shared", type=Path, default=SHARED)
    args = ap.parse_args()
    if args.stores:
        bad = compare_stores(*args.stores)
        print("IDENTICAL" if not bad else f"{bad} tables differ")
        sys.exit(1 if bad else 0)
    res = outputs(args.shared)
    if args.save:
        args.save.write_bytes(pickle.dumps(res))
        print(f"saved to {args.save}")
        return
    bad = compare(pickle.loads(args.compare.read_bytes()), res)
    print("IDENTICAL" if not bad else f"{bad} outputs differ")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
