"""Do the text rules (boilerplate, metadata, sources, story text evidence) give identical
outputs across a code change? A wider check than check_outputs.py for these steps alone.

    nice python benchmarks/check_text_steps.py --save BEFORE.pkl      # on the old code
    nice python benchmarks/check_text_steps.py --compare BEFORE.pkl   # on the new code

Texts are read by path from the shared data (never copied into the repository): the BSNLP
raw ru/uk news, every NEREL v1.1 text (ru), every NER-UK 2.0 text (uk), the seeds, and the
RONEC v2 valid (ro) and CoNLL-2003 test (en) documents (one text per document). For each
text it records:
- boilerplate.find(text), metadata.is_date_line of each line;
- metadata.title / outlet / published / date_candidates with the text's boilerplate and
  language, and again with no boilerplate and language "und";
- sources.cited and sources.relay_outlets, both ways too;
- stories.text_evidence over batches of 100 texts (evidence lists and MinHash signatures),
  with the boilerplate and languages, and without either;
- stories._scan, numbers_and_dates, news_sentences and event_date of the text.
Languages come from presslens.enrich.language.detect on --save and are stored in the file,
so --compare reuses them (the language step is not under test here). --compare prints the
first differences and exits 1 when any output differs. CPU seconds are printed.
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
BATCH = 100


def texts(shared: Path) -> dict[str, str]:
    """{key: text} for every text named in the module doc."""
    out: dict[str, str] = {}
    pats = ["eval-dev/bsnlp/raw/*/*/*.txt", "ner-train/nerel/NEREL-v1.1/*/*.txt",
            "ner-train/ner-uk/v2.0/data/*/*.txt", "seeds/*.txt"]
    for pat in pats:
        for p in sorted(glob.glob(str(shared / pat))):
            out[p] = Path(p).read_text(encoding="utf-8")
    from presslens.enrich.ner import corpora

    for d in corpora.read_ronec_json(shared / "ner-train/ronec/v2_valid.json"):
        out[f"ronec:{d.doc_id}"] = d.text
    for d in corpora.read_conll(shared / "ner-train/conll2003-en/data/conll/en/test.conllu"):
        out[f"conll:{d.doc_id}"] = d.text
    return out


def _ev(e) -> tuple:
    return (e.value, e.source, e.evidence)


def outputs(items: dict[str, str], langs: dict[str, str]) -> dict[str, dict]:
    """{part: {key: output}} for the parts named in the module doc."""
    from presslens import stories
    from presslens.enrich import boilerplate, metadata, sources
    from presslens.records import RawRecord

    out: dict[str, dict] = {}

    def timed(part: str, fn) -> None:
        t = time.process_time()
        res = out.setdefault(part, {})
        fn(res)
        print(f"{part}: {len(res)} outputs, {time.process_time() - t:.2f} s CPU", flush=True)

    bps: dict[str, list] = {}

    def do_bp(res):
        for k, text in items.items():
            bps[k] = res[k] = boilerplate.find(text)
    timed("boilerplate", do_bp)

    def do_date_lines(res):
        for k, text in items.items():
            res[k] = [metadata.is_date_line(ln) for ln in text.split("\n")]
    timed("is_date_line", do_date_lines)

    for way in ("given", "bare"):
        def bl(k):
            return (bps[k], langs[k]) if way == "given" else ([], "und")

        def do_meta(res):
            for k, text in items.items():
                bp, lang = bl(k)
                rec = RawRecord(path=k, text=text, encoding="utf-8")
                res[k] = (_ev(metadata.title(rec, text, bp, lang)), _ev(metadata.outlet(rec, text, bp, lang)),
                          _ev(metadata.published(rec, text, bp, lang)),
                          metadata.date_candidates(rec, text, bp, lang))
        timed(f"metadata-{way}", do_meta)

        def do_sources(res):
            for k, text in items.items():
                bp, lang = bl(k)
                res[k] = ([(c.name, c.start, c.end, c.evidence) for c in sources.cited(text, lang, bp)],
                          sources.relay_outlets(text, bp))
        timed(f"sources-{way}", do_sources)

        def do_te(res):
            keys = list(items)
            for i in range(0, len(keys), BATCH):
                ks = keys[i:i + BATCH]
                if way == "given":
                    ev, sig = stories.text_evidence([items[k] for k in ks], [[list(s) for s in bps[k]] for k in ks],
                                                    [langs[k] for k in ks])
                else:
                    ev, sig = stories.text_evidence([items[k] for k in ks])
                for k, e, s in zip(ks, ev, sig.tolist()):
                    res[k] = (e, s)
        timed(f"text_evidence-{way}", do_te)

    def do_story_parts(res):
        for k, text in items.items():
            res[k] = (stories._scan(text), sorted(stories.numbers_and_dates(text)), stories.news_sentences(text),
                      stories.event_date(text), stories.event_date_feature(text[:3000]))
    timed("stories-parts", do_story_parts)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--save")
    g.add_argument("--compare")
    ap.add_argument("--shared", default=str(SHARED))
    args = ap.parse_args()
    items = texts(Path(args.shared))
    print(f"{len(items)} texts, {sum(map(len, items.values())):,} characters", flush=True)
    if args.save:
        from presslens.enrich import language

        t = time.process_time()
        langs = {k: language.detect(v, []).language for k, v in items.items()}
        print(f"languages: {time.process_time() - t:.1f} s CPU", flush=True)
    else:
        with open(args.compare, "rb") as fh:
            base = pickle.load(fh)
        langs = base["languages"]
    out = outputs(items, langs)
    if args.save:
        out["languages"] = langs
        with open(args.save, "wb") as fh:
            pickle.dump(out, fh)
        print(f"saved {args.save}")
        return 0
    bad = 0
    for part, res in out.items():
        old = base.get(part, {})
        diff = [k for k in res.keys() | old.keys() if res.get(k) != old.get(k)]
        print(f"{part}: {len(diff)} of {len(res)} differ")
        for k in sorted(diff)[:3]:
            print(f"  {k}\n    before: {str(old.get(k))[:600]}\n    after:  {str(res.get(k))[:600]}")
        bad += len(diff)
    print("IDENTICAL" if not bad else f"DIFFERENT: {bad} outputs")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
