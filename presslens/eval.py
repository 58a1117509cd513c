"""Evaluate entity extraction against annotated gold data.

Usage::

    python -m presslens.eval bsnlp /work/shared/eval-dev/bsnlp [--holdout TOPIC] [--topics a,b]
    python -m presslens.eval langid /work/shared/eval-dev/langid     (presslens.eval_langid)
    python -m presslens.eval dates /work/shared/eval-dev/htmldate    (presslens.eval_dates)

Input: a BSNLP/SlavicNER-style folder, ``raw/<topic>/<lang>/<name>.txt`` (the article) and
``ner/<topic>/<lang>/<name>.tsv`` (one gold mention a line:
``start<TAB>end<TAB>mention<TAB>lemma<TAB>type<TAB>cross-lingual-id``, end exclusive).

Output (stdout): per language mention precision/recall/F1 on exact spans (type-insensitive
and typed), base-form accuracy on span-matched mentions (exact string compare, and the
case-insensitive figure labelled as such), milliseconds per article; then B-cubed
precision/recall/F1 of predicted entity ids against the gold cross-lingual ids over all
span-matched mentions of all languages together.

The scoring functions (`prf`, `bcubed`) are pure and tested on hand-made examples.
The gold data is read by path and never copied anywhere.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GoldMention:
    doc: str
    start: int
    end: int
    surface: str
    lemma: str
    entity_type: str
    entity_id: str


def prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    """Precision, recall, F1 from counts (0.0 where undefined)."""
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def bcubed(pred: list[str], gold: list[str]) -> tuple[float, float, float]:
    """B-cubed precision, recall, F1 of a clustering.

    `pred[i]` and `gold[i]` are the predicted and gold cluster labels of item i.
    Precision of item i: share of items in i's predicted cluster that share its gold
    label; recall: share of items with i's gold label that share its predicted cluster.
    Both are averaged over items.
    """
    if len(pred) != len(gold):
        raise ValueError("pred and gold must label the same items")
    n = len(pred)
    if n == 0:
        return 0.0, 0.0, 0.0
    pair = defaultdict(int)
    pc = defaultdict(int)
    gc = defaultdict(int)
    for p, g in zip(pred, gold):
        pair[(p, g)] += 1
        pc[p] += 1
        gc[g] += 1
    precision = sum(pair[(p, g)] / pc[p] for p, g in zip(pred, gold)) / n
    recall = sum(pair[(p, g)] / gc[g] for p, g in zip(pred, gold)) / n
    f = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f


def read_gold(tsv: Path, doc: str) -> list[GoldMention]:
    """Gold mentions of one document; malformed lines are skipped with a warning."""
    out = []
    for i, line in enumerate(tsv.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 6:
            print(f"warning: {tsv}:{i}: expected 6 tab-separated fields, skipped", file=sys.stderr)
            continue
        out.append(GoldMention(doc, int(parts[0]), int(parts[1]), parts[2], parts[3], parts[4], parts[5]))
    return out


def iter_bsnlp(root: Path, topics: set[str] | None = None):
    """Yield (topic, lang, doc key, text, gold mentions) for every raw file with a gold file."""
    for txt in sorted((root / "raw").glob("*/*/*.txt")):
        topic, lang = txt.parent.parent.name, txt.parent.name
        if topics is not None and topic not in topics:
            continue
        tsv = root / "ner" / topic / lang / (txt.stem + ".tsv")
        if not tsv.exists():
            continue
        doc = f"{topic}/{lang}/{txt.stem}"
        yield topic, lang, doc, txt.read_text(encoding="utf-8"), read_gold(tsv, doc)


def evaluate(root: Path, topics: set[str] | None = None, extract=None, out=sys.stdout) -> dict:
    """Run `extract` (default presslens.enrich.entities.extract) on every document; print scores."""
    if extract is None:
        from presslens.enrich.entities import extract
    stats: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    cluster_pred: list[str] = []
    cluster_gold: list[str] = []
    errors: list[tuple] = []
    # Warm-up so that model loading is not counted as per-article time.
    extract("Warm up.", "ru", [])
    extract("Warm up.", "uk", [])
    for topic, lang, doc, text, gold in iter_bsnlp(root, topics):
        t0, c0 = time.perf_counter(), time.process_time()
        mentions = extract(text, lang, [])
        stats[lang]["ms"] += (time.perf_counter() - t0) * 1000
        stats[lang]["cpu_ms"] += (time.process_time() - c0) * 1000
        s = stats[lang]
        s["docs"] += 1
        gold_spans = {(g.start, g.end): g for g in gold}
        pred_spans = {}
        for m in mentions:
            pred_spans.setdefault((m.start, m.end), m)
        s["n_gold"] += len(gold_spans)
        s["n_pred"] += len(pred_spans)
        for span, m in pred_spans.items():
            g = gold_spans.get(span)
            if g is None:
                errors.append(("FP", doc, m.surface, m.entity_type))
                continue
            s["tp"] += 1
            s["tp_typed"] += m.entity_type == g.entity_type
            if m.entity_type != g.entity_type:
                errors.append(("TYPE", doc, g.surface, m.entity_type, g.entity_type))
            s["lemma_exact"] += m.lemma == g.lemma
            s["lemma_ci"] += m.lemma.casefold() == g.lemma.casefold()
            if m.lemma != g.lemma:
                errors.append(("LEMMA", doc, g.surface, m.lemma, g.lemma))
            cluster_pred.append(m.entity_id)
            cluster_gold.append(g.entity_id)
        for span, g in gold_spans.items():
            if span not in pred_spans:
                errors.append(("FN", doc, g.surface, g.entity_type))
    result = {}
    print(f"{'lang':4} {'docs':>5} {'P':>6} {'R':>6} {'F1':>6} {'tP':>6} {'tR':>6} {'tF1':>6} "
          f"{'lemma':>6} {'lem-ci':>6} {'ms/art':>7} {'cpu-ms':>7}", file=out)
    for lang in sorted(stats):
        s = stats[lang]
        p, r, f = prf(int(s["tp"]), int(s["n_pred"]), int(s["n_gold"]))
        tp_, tr_, tf_ = prf(int(s["tp_typed"]), int(s["n_pred"]), int(s["n_gold"]))
        lem = s["lemma_exact"] / s["tp"] if s["tp"] else 0.0
        lem_ci = s["lemma_ci"] / s["tp"] if s["tp"] else 0.0
        ms = s["ms"] / s["docs"] if s["docs"] else 0.0
        cpu = s["cpu_ms"] / s["docs"] if s["docs"] else 0.0
        result[lang] = {"P": p, "R": r, "F1": f, "typed_P": tp_, "typed_R": tr_, "typed_F1": tf_,
                        "lemma": lem, "lemma_ci": lem_ci, "ms": ms, "cpu_ms": cpu, "docs": int(s["docs"])}
        print(f"{lang:4} {int(s['docs']):5d} {p:6.3f} {r:6.3f} {f:6.3f} {tp_:6.3f} {tr_:6.3f} {tf_:6.3f} "
              f"{lem:6.3f} {lem_ci:6.3f} {ms:7.1f} {cpu:7.1f}", file=out)
    bp, br, bf = bcubed(cluster_pred, cluster_gold)
    result["bcubed"] = {"P": bp, "R": br, "F1": bf, "n": len(cluster_pred)}
    print(f"B-cubed over {len(cluster_pred)} matched mentions (all languages): "
          f"P {bp:.3f} R {br:.3f} F1 {bf:.3f}", file=out)
    print("(P/R/F1: exact spans, type-insensitive; tP/tR/tF1: exact spans and type; "
          "lemma: exact base form on matched spans; lem-ci: same, case-insensitive; "
          "ms/art: wall-clock ms per article; cpu-ms: CPU ms of this process per article)", file=out)
    result["errors"] = errors
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m presslens.eval", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bsnlp", help="score against a BSNLP/SlavicNER folder (raw/ and ner/)")
    b.add_argument("root", type=Path)
    b.add_argument("--holdout", help="score only this topic (tune on the others)")
    b.add_argument("--topics", help="comma-separated topics to score (default: all)")
    b.add_argument("--errors", type=Path,
                   help="write false positives/negatives, type and lemma errors here (TSV)")
    _add_language_and_date_commands(sub)
    args = ap.parse_args(argv)
    if getattr(args, "run", None) is not None:
        return args.run(args)
    root: Path = args.root
    if not (root / "raw").is_dir() or not (root / "ner").is_dir():
        print(f"error: {root} has no raw/ and ner/ folders (expected BSNLP layout)", file=sys.stderr)
        return 2
    topics = None
    if args.holdout:
        topics = {args.holdout}
    elif args.topics:
        topics = {t.strip() for t in args.topics.split(",") if t.strip()}
    if topics is not None:
        known = {p.name for p in (root / "raw").iterdir() if p.is_dir()}
        unknown = topics - known
        if unknown:
            print(f"error: unknown topic(s) {sorted(unknown)}; known: {sorted(known)}", file=sys.stderr)
            return 2
        print(f"topics scored: {', '.join(sorted(topics))}")
    res = evaluate(root, topics)
    if args.errors:
        with open(args.errors, "w", encoding="utf-8") as fh:
            for e in res["errors"]:
                fh.write("\t".join(map(str, e)) + "\n")
    return 0


def _add_language_and_date_commands(sub) -> None:
    """The `langid` and `dates` subcommands (their code lives in eval_langid / eval_dates)."""
    from presslens import eval_dates, eval_langid

    eval_langid.add_parser(sub)
    eval_dates.add_parser(sub)


if __name__ == "__main__":
    raise SystemExit(main())
