"""Evaluate entity extraction against annotated gold data.

Usage::

    python -m presslens.eval bsnlp /work/shared/eval-dev/bsnlp [--holdout TOPIC] [--topics a,b]
    python -m presslens.eval langid /work/shared/eval-dev/langid     (presslens.eval_langid)
    python -m presslens.eval dates /work/shared/eval-dev/htmldate    (presslens.eval_dates)
    python -m presslens.eval stories /work/shared --gold data/eval/stories_gold.csv [--split report]
    python -m presslens.eval stories-loto /work/shared --gold data/eval/stories_gold.csv [--stores DIR]
    python -m presslens.eval stories-agreement A.csv B.csv [--prefix PATH]   (two annotators' groupings)

Input: a BSNLP/SlavicNER-style folder, ``raw/<topic>/<lang>/<name>.txt`` (the article) and
``ner/<topic>/<lang>/<name>.tsv`` (one gold mention a line:
``start<TAB>end<TAB>mention<TAB>lemma<TAB>type<TAB>cross-lingual-id``, end exclusive).

Output (stdout): per language mention precision/recall/F1 on exact spans (type-insensitive
and typed), base-form accuracy on span-matched mentions (exact string compare, and the
case-insensitive figure labelled as such), milliseconds per article; then B-cubed
precision/recall/F1 of predicted entity ids against the gold cross-lingual ids over all
span-matched mentions of all languages together.

    python -m presslens.eval ner [--data /work/shared] [--loto-models DIR] [--models DIR]

`ner` prints held-out figures for every language from the shared data: each language's
model, through the whole extraction pipeline, on its corpus's own test split (NEREL test
for ru, NER-UK TEST for uk, the odd half of RONEC v2 validation for ro (the even half trains), CoNLL-2003 test for en; none was
used in training), exact character spans, type-insensitive and typed. With
`--loto-models DIR` (made by `python -m presslens.train --holdout-topic T --out DIR/T`
for each BSNLP topic) it also scores each BSNLP topic with the models trained without it
and prints the pooled leave-one-topic-out figures per language plus B-cubed.

The scoring functions (`prf`, `bcubed`) are pure and tested on hand-made examples.
The gold data is read by path and never copied anywhere.
"""
from __future__ import annotations

import argparse
import contextlib
import re
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
                        "lemma": lem, "lemma_ci": lem_ci, "ms": ms, "cpu_ms": cpu, "docs": int(s["docs"]),
                        "counts": dict(s)}
        print(f"{lang:4} {int(s['docs']):5d} {p:6.3f} {r:6.3f} {f:6.3f} {tp_:6.3f} {tr_:6.3f} {tf_:6.3f} "
              f"{lem:6.3f} {lem_ci:6.3f} {ms:7.1f} {cpu:7.1f}", file=out)
    bp, br, bf = bcubed(cluster_pred, cluster_gold)
    result["bcubed"] = {"P": bp, "R": br, "F1": bf, "n": len(cluster_pred), "pred": cluster_pred,
                        "gold": cluster_gold}
    print(f"B-cubed over {len(cluster_pred)} matched mentions (all languages): "
          f"P {bp:.3f} R {br:.3f} F1 {bf:.3f}", file=out)
    print("(P/R/F1: exact spans, type-insensitive; tP/tR/tF1: exact spans and type; "
          "lemma: exact base form on matched spans; lem-ci: same, case-insensitive; "
          "ms/art: wall-clock ms per article; cpu-ms: CPU ms of this process per article)", file=out)
    result["errors"] = errors
    return result


# ---------------------------------------------------------------- stories

def read_story_gold(csv_path: Path) -> list[tuple[str, str, str]]:
    """Rows (path, story, split) of a gold grouping CSV with a header `path,story[,split]`.

    Raises ValueError with a sentence naming the problem when the file is malformed.
    """
    import csv

    with open(csv_path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"path", "story"} <= set(reader.fieldnames):
            raise ValueError(f"{csv_path}: the first line must name the columns path,story (and optionally split)")
        rows = []
        for i, r in enumerate(reader, 2):
            path, story = _unguarded(r.get("path") or ""), _unguarded(r.get("story") or "")
            if not path or not story:
                raise ValueError(f"{csv_path}:{i}: empty path or story")
            rows.append((path, story, (r.get("split") or "").strip()))
    return rows


def _unguarded(cell: str) -> str:
    """A cell without the apostrophe a CSV export puts before a formula-looking value (so that
    a spreadsheet shows it as text; presslens.export.neutralise): the label file the Stories
    page downloads is meant to be corrected in one."""
    from presslens.export import FORMULA_START

    return cell[1:] if cell[:1] == "'" and re.match(FORMULA_START, cell[1:]) else cell


# Unrelated news articles mixed into the pair model's training stores (relative to the shared
# data root): the texts of three news NER corpora (ru: factRuEval-2016, NEREL/Wikinews; uk:
# NER-UK's news part "ng"). They give the training the weak cross-event candidate pairs of a
# real mixed store, all labelled "not one story" (docs/STORIES.md).
DISTRACTOR_GLOBS = ("ner-train/factRuEval-2016/*/*.txt", "ner-train/nerel/NEREL-v1.1/*/*.txt",
                    "ner-train/ner-uk/v2.0/data/ng/*.txt")


def distractor_paths(root: Path) -> list[str]:
    """The distractor article paths (relative to `root`), sorted; ValueError when none exist."""
    paths = sorted(str(p.relative_to(root)) for g in DISTRACTOR_GLOBS for p in root.glob(g)
                   if p.is_file() and p.stat().st_size > 0)
    if not paths:
        raise ValueError(f"no distractor articles under {root} ({', '.join(DISTRACTOR_GLOBS)})")
    return paths


def build_gold_store(root: Path, gold: list[tuple[str, str, str]], store_dir: Path,
                     extra: list[str] = ()) -> dict:
    """Build a store in `store_dir` over the gold articles (and the `extra` paths), read by path
    under `root`; returns the build summary. The articles are copied into a temporary corpus
    folder that is removed afterwards (the build does not follow symbolic links that leave a corpus)."""
    import shutil
    import tempfile

    from presslens import build

    missing = [p for p, _, _ in gold if not (root / p).is_file()]
    if missing:
        raise FileNotFoundError(f"{len(missing)} gold path(s) not found under {root}, e.g. {missing[0]}")
    with tempfile.TemporaryDirectory(prefix="presslens-stories-") as tmp:
        corpus = Path(tmp) / "corpus"
        for p in [g[0] for g in gold] + list(extra):
            link = corpus / p
            link.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / p, link)
        return build.build(corpus, store_dir)


def evaluate_stories(root: Path, gold: list[tuple[str, str, str]], store_dir: Path | None = None,
                     out=None) -> dict:
    """Build a store over the gold articles (read by path under `root`), group them into
    stories and print pairwise precision/recall/F1 against the gold grouping.

    The articles are copied into a temporary corpus folder (see `build_gold_store`).
    """
    import tempfile

    import polars as pl

    from presslens import store, stories

    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="presslens-stories-") as tmp:
        sdir = store_dir or Path(tmp) / "store"
        t0 = time.perf_counter()
        summary = build_gold_store(root, gold, sdir)
        t_build = time.perf_counter() - t0
        info = store.current(sdir)
        # the grouping the build made (its post-build hook), read from the store
        got = store.scan(info, "articles").select("doc_id", "path", "story_id").collect()
        links = store.scan(info, "story_links").collect()
    if summary.get("stories_error"):
        raise RuntimeError(f"story grouping failed in the build: {summary['stories_error']}")
    g = pl.DataFrame({"path": [p for p, _, _ in gold], "gold": [s for _, s, _ in gold]})
    got = got.join(g, on="path")
    t_group = float(summary.get("story_seconds", 0.0))
    p, r, f, tp, npred, ngold = stories.pairwise_prf(got["story_id"].to_list(), got["gold"].to_list())
    n_pred_stories = got["story_id"].n_unique()
    print(f"articles {got.height}  gold stories {g['gold'].n_unique()}  predicted stories {n_pred_stories}  "
          f"links {links.height}", file=out)
    print(f"pairwise P {p:.3f} R {r:.3f} F1 {f:.3f}  (pairs: {tp} correct of {npred} predicted, {ngold} gold)",
          file=out)
    sc = stories.scorer()
    print("grouped by " + ("the hand rules alone (PRESSLENS_STORY_MODEL=0)" if sc.coef is None else
                           f"the pair model {sc.name}" + (" on top of the rules" if sc.with_rules else "")),
          file=out)
    print(f"build {t_build:.1f} s, of which the story hook {t_group:.2f} s "
          f"(the text evidence is computed by the build workers, not counted here)", file=out)
    return {"P": p, "R": r, "F1": f, "tp": tp, "pred_pairs": npred, "gold_pairs": ngold,
            "assignments": got, "links": links}


def story_agreement(a: list[tuple[str, str, str]], b: list[tuple[str, str, str]],
                    prefix: str | None = None) -> dict:
    """Pairwise agreement of two groupings of the same articles (rows of read_story_gold),
    over the paths both list (and that start with `prefix`, when given): P and R of `b`
    against `a` and their F1 (symmetric). Raises ValueError when a file lists a path twice
    or the two share no path."""
    from presslens import stories

    def inside(path: str) -> bool:
        return prefix is None or path.startswith(prefix)

    maps = []
    for rows in (a, b):
        m: dict[str, str] = {}
        for path, story, _ in rows:
            if path in m:
                raise ValueError(f"the path {path} is listed twice in one grouping")
            m[path] = story
        maps.append(m)
    common = sorted(p for p in maps[0].keys() & maps[1].keys() if inside(p))
    if not common:
        raise ValueError("the two groupings share no path" + (f" under {prefix}" if prefix else ""))
    p, r, f, tp, nb, na = stories.pairwise_prf([maps[1][k] for k in common], [maps[0][k] for k in common])
    return {"articles": len(common), "stories_a": len({maps[0][k] for k in common}),
            "stories_b": len({maps[1][k] for k in common}), "P": p, "R": r, "F1": f, "tp": tp,
            "pairs_a": na, "pairs_b": nb,
            "only_a": sum(1 for k in maps[0] if k not in maps[1] and inside(k)),
            "only_b": sum(1 for k in maps[1] if k not in maps[0] and inside(k))}


def _stories_agreement_main(args) -> int:
    """`python -m presslens.eval stories-agreement A.csv B.csv [--prefix P]`."""
    try:
        res = story_agreement(read_story_gold(args.a), read_story_gold(args.b), args.prefix)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"articles {res['articles']} (only in A {res['only_a']}, only in B {res['only_b']})  "
          f"stories A {res['stories_a']}  B {res['stories_b']}")
    print(f"pairwise agreement: P {res['P']:.3f} R {res['R']:.3f} F1 {res['F1']:.3f}  (pairs: {res['tp']} in both, "
          f"{res['pairs_b']} in B, {res['pairs_a']} in A)")
    return 0


def _stories_main(args) -> int:
    """`python -m presslens.eval stories PATH --gold CSV [--split NAME] [--store DIR]`."""
    root: Path = args.root
    if not root.is_dir():
        print(f"error: {root} is not a folder", file=sys.stderr)
        return 2
    try:
        gold = read_story_gold(args.gold)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.split:
        gold = [g for g in gold if g[2] == args.split]
        if not gold:
            print(f"error: no gold rows with split {args.split!r}", file=sys.stderr)
            return 2
        print(f"split: {args.split}")
    try:
        res = evaluate_stories(root, gold, args.store)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.errors:
        _write_story_errors(res, args.errors)
    return 0


# ---------------------------------------------------------------- stories: leave one topic out

def topic_of(path: str) -> str:
    """The topic of a gold path: the folder after `raw/` (BSNLP layout), else its first folder."""
    parts = Path(path).parts
    if "raw" in parts[:-1]:
        return parts[parts.index("raw") + 1]
    return parts[0] if len(parts) > 1 else ""


def evaluate_stories_loto(root: Path, gold: list[tuple[str, str, str]], stores: Path, out=None,
                          write_model: Path | None = None, with_rules: bool = False, mixed: bool = False,
                          tune_rules: bool = False) -> dict:
    """Leave-one-topic-out figures of the learned pair model (presslens.story_model) next to the
    rules': for each topic, train (and choose C, link threshold, merge density by an inner
    leave-one-topic-out) on the other topics, group the held-out topic with the real grouping
    code and print its pairwise P/R/F1. Stores are built per topic in `stores/<topic>` (reused
    when present). With `write_model`, the model trained on all topics is written there.

    With `mixed`, training sees the negatives of a mixed store: one more store (`stores/_mixed`)
    holds every gold article plus the distractor articles (DISTRACTOR_GLOBS); the model for a
    held-out topic is fitted on the candidate pairs of the other topics grouped together with the
    distractors (cross-topic and distractor pairs are all "not one story"), and its C, threshold
    and density are chosen by fitting on one training topic with the distractors and grouping the
    other with the distractors, each distractor scored as a story of its own. The held-out topic
    is scored on its own store (as without `mixed`) and, second, grouped with the distractors
    (only its gold articles scored)."""
    import json

    from presslens import store, stories, story_model

    out = out or sys.stdout
    print("model: " + ("the rules' links plus the model's (--with-rules)" if with_rules else "the model's links only")
          + (", trained with the distractors' negatives (--mixed)" if mixed else ""), file=out)
    by_topic: dict[str, list[tuple[str, str, str]]] = {}
    for row in gold:
        by_topic.setdefault(topic_of(row[0]), []).append(row)
    if len(by_topic) < 3:
        raise ValueError(f"leave-one-topic-out needs at least 3 topics, the gold has {sorted(by_topic)}")
    topics = []
    for name in sorted(by_topic):
        sdir = stores / name
        if store.current(sdir) is None:
            print(f"building the store of topic {name} ({len(by_topic[name])} articles) in {sdir}", file=out)
            summary = build_gold_store(root, by_topic[name], sdir)
            if summary.get("stories_error"):
                raise RuntimeError(f"story grouping failed in the build: {summary['stories_error']}")
        t = story_model.topic_pairs(name, sdir, {p: s for p, s, _ in by_topic[name]})
        g = t.gold.group_by("gold").len()["len"]
        gold_pairs = int((g * (g - 1) // 2).sum())
        print(f"topic {name}: {t.gold.height} articles, {t.n} grouped, {len(t.y)} candidate pairs after the date "
              f"gates, {int(t.y.sum())} of them gold (of {gold_pairs} gold pairs)", file=out)
        topics.append(t)
    sub = _mixed_subsets(root, gold, stores, out) if mixed else None
    res: dict = {"topics": {}}
    for h in topics:
        train = [t for t in topics if t is not h]
        if sub is None:
            c, thr, dens, inner = story_model.choose(train, with_rules)
            params = story_model.fit(train, c)
        else:
            names = [t.name for t in train]
            folds = [([sub([u for u in names if u != v])], sub([v])) for v in names]
            c, thr, dens, inner = story_model.choose(train, with_rules, folds)
            params = story_model.fit([sub(names)], c)
        s = story_model.make_scorer(params, thr, dens, f"loto-{h.name}", with_rules)
        pm, rm, fm = story_model.grouped_f1(h, s)
        pr, rr, fr = story_model.grouped_f1(h, stories.RULES)
        res["topics"][h.name] = {"model": {"P": pm, "R": rm, "F1": fm}, "rules": {"P": pr, "R": rr, "F1": fr},
                                 "C": c, "threshold": thr, "merge_density": dens, "inner_f1": inner}
        print(f"held out {h.name:10s} model P {pm:.3f} R {rm:.3f} F1 {fm:.3f} | rules P {pr:.3f} R {rr:.3f} "
              f"F1 {fr:.3f}  (trained on {', '.join(t.name for t in train)}; chosen there: C {c:g}, "
              f"threshold {thr:g}, merge density {dens:g}, inner F1 {inner:.3f})", file=out)
        if tune_rules:
            rthr, rdens, rinner = story_model.choose_rules(train)
            pt, rt, ft = story_model.grouped_f1(h, story_model.tuned_rules(rthr, rdens))
            res["topics"][h.name]["tuned_rules"] = {"P": pt, "R": rt, "F1": ft, "threshold": rthr,
                                                    "merge_density": rdens, "inner_f1": rinner}
            print(f"  {h.name} tuned rules P {pt:.3f} R {rt:.3f} F1 {ft:.3f}  (chosen on the others: threshold "
                  f"{rthr:g}, merge density {rdens:g}, inner F1 {rinner:.3f})", file=out)
        if sub is not None:
            hd = sub([h.name], score_distractors=False)
            pm, rm, fm = story_model.grouped_f1(hd, s)
            pr, rr, fr = story_model.grouped_f1(hd, stories.RULES)
            res["topics"][h.name]["with_distractors"] = {"model": {"P": pm, "R": rm, "F1": fm},
                                                         "rules": {"P": pr, "R": rr, "F1": fr}}
            print(f"  {h.name} grouped with the {hd.n - h.n} distractors (its gold articles scored): model P {pm:.3f} "
                  f"R {rm:.3f} F1 {fm:.3f} | rules P {pr:.3f} R {rr:.3f} F1 {fr:.3f}", file=out)
    mf = sum(v["model"]["F1"] for v in res["topics"].values()) / len(topics)
    rf = sum(v["rules"]["F1"] for v in res["topics"].values()) / len(topics)
    res["mean_model_f1"], res["mean_rules_f1"] = mf, rf
    print(f"mean held-out F1: model {mf:.3f}, rules {rf:.3f}", file=out)
    if tune_rules:
        res["mean_tuned_rules_f1"] = tf = sum(v["tuned_rules"]["F1"] for v in res["topics"].values()) / len(topics)
        print(f"mean held-out F1 of the tuned rules: {tf:.3f}", file=out)
    if write_model is not None:
        if sub is None:
            s, meta = story_model.train_final(topics, with_rules)
        else:
            names = [t.name for t in topics]
            folds = [([sub([u for u in names if u != v])], sub([v])) for v in names]
            s, meta = story_model.train_final(topics, with_rules, folds, [sub(names)])
            meta["distractors"] = list(DISTRACTOR_GLOBS)
        meta |= {"trained_on": {t.name: {"articles": t.gold.height, "pairs": len(t.y)} for t in topics},
                 "held_out_f1_leave_one_topic_out": {k: round(v["model"]["F1"], 4) for k, v in res["topics"].items()},
                 "rules_f1_same_topics": {k: round(v["rules"]["F1"], 4) for k, v in res["topics"].items()}}
        write_model.write_text(json.dumps(story_model.to_json(s, meta), indent=1) + "\n", encoding="utf-8")
        print(f"model trained on all topics written to {write_model} (C {meta['C']:g}, threshold "
              f"{s.threshold:g}, merge density {s.merge_density:g})", file=out)
    return res


def _mixed_subsets(root: Path, gold: list[tuple[str, str, str]], stores: Path, out):
    """A function (topics, score_distractors=True) -> story_model.TopicPairs of that sub-corpus
    of the mixed store `stores/_mixed` (built when missing: every gold article plus the
    distractors), cached."""
    from presslens import store, story_model

    mdir = stores / "_mixed"
    if store.current(mdir) is None:
        extra = distractor_paths(root)
        print(f"building the mixed store ({len(gold)} gold articles, {len(extra)} distractors) in {mdir}", file=out)
        summary = build_gold_store(root, gold, mdir, extra)
        if summary.get("stories_error"):
            raise RuntimeError(f"story grouping failed in the build: {summary['stories_error']}")
    arts, ents = story_model.read_store(mdir)
    gmap = {p: (topic_of(p), s) for p, s, _ in gold}
    cache: dict = {}

    def sub(topics: list[str], score_distractors: bool = True):
        key = (tuple(sorted(topics)), score_distractors)
        if key not in cache:
            t = story_model.subset_pairs("+".join(key[0]) + "+distractors", arts, ents, gmap, list(key[0]),
                                         score_distractors=score_distractors)
            print(f"mixed {t.name}: {t.n} grouped, {len(t.y)} candidate pairs, {int(t.y.sum())} same-story, "
                  f"{int((t.within >= 0).sum())} within one topic", file=out)
            cache[key] = t
        return cache[key]
    return sub


def _stories_loto_main(args) -> int:
    """`python -m presslens.eval stories-loto PATH --gold CSV [CSV ...] [--stores DIR] [--write-model FILE]`."""
    import tempfile
    from collections import Counter

    if not args.root.is_dir():
        print(f"error: {args.root} is not a folder", file=sys.stderr)
        return 2
    try:
        gold = [row for g in args.gold for row in read_story_gold(g)]
        dup = {p for p, n in Counter(p for p, _, _ in gold).items() if n > 1} if len(args.gold) > 1 else set()
        if dup:
            raise ValueError(f"{len(dup)} path(s) are in more than one gold file, e.g. {sorted(dup)[0]}")
        with (tempfile.TemporaryDirectory(prefix="presslens-loto-") if args.stores is None
              else contextlib.nullcontext(args.stores)) as stores:
            evaluate_stories_loto(args.root, gold, Path(stores), write_model=args.write_model,
                                  with_rules=args.with_rules, mixed=args.mixed, tune_rules=args.tune_rules)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _write_story_errors(res: dict, path: Path) -> None:
    """Write each predicted story next to its gold labels (TSV), for reading the mistakes."""

    a = res["assignments"].sort("story_id", "gold", "path")
    a.select("story_id", "gold", "path").write_csv(path, separator="\t")


def add_stories_parser(sub) -> None:
    """Register the `stories` subcommand."""
    s = sub.add_parser("stories", help="pairwise P/R/F1 of story grouping against a gold CSV (path,story[,split])")
    s.add_argument("root", type=Path, help="folder the gold paths are relative to")
    s.add_argument("--gold", type=Path, required=True, help="CSV with columns path,story and optionally split")
    s.add_argument("--split", help="score only the gold rows with this split (e.g. tune or report)")
    s.add_argument("--store", type=Path, help="build the store here (default: a temporary folder)")
    s.add_argument("--errors", type=Path, help="write predicted vs gold story per article here (TSV)")
    ag = sub.add_parser("stories-agreement",
                        help="pairwise agreement of two groupings of the same articles (e.g. two annotators' labels)")
    ag.add_argument("a", type=Path, help="CSV path,story (the reference: P and R are of B against it)")
    ag.add_argument("b", type=Path, help="CSV path,story")
    ag.add_argument("--prefix", help="compare only the paths starting with this (e.g. eval-dev/bsnlp/raw/asia_bibi/)")
    lo = sub.add_parser("stories-loto", help="leave-one-topic-out figures of the learned story pair model vs the rules")
    lo.add_argument("root", type=Path, help="folder the gold paths are relative to")
    lo.add_argument("--gold", type=Path, required=True, nargs="+",
                    help="CSV(s) with columns path,story (topic = folder after raw/, else the first folder); "
                         "several files are read as one gold")
    lo.add_argument("--stores", type=Path, help="keep one store per topic here, reused when present (default: temporary)")
    lo.add_argument("--write-model", type=Path, help="write the model trained on all topics here (JSON)")
    lo.add_argument("--with-rules", action="store_true",
                    help="complement the rules: a pair links when the rules or the model link it")
    lo.add_argument("--tune-rules", action="store_true",
                    help="also the hand rules with their link threshold and merge density chosen on the other topics")
    lo.add_argument("--mixed", action="store_true",
                    help="train with the negatives of a mixed store: the training topics grouped together with "
                         "unrelated news articles (the NER corpora's texts under PATH/ner-train)")
# Where each language's held-out test split lives under the shared data folder, and how
# it is read (presslens.enrich.ner.corpora). RONEC's own test split is not in the shared
# data; the odd half of its v2 validation split stands in (training never sees it).
NER_TEST_SPLITS = {
    "ru": ("NEREL v1.1 test", lambda d: _corpora().read_nerel(d / "ner-train/nerel/NEREL-v1.1/test")),
    "uk": ("NER-UK 2.0 TEST", lambda d: _corpora().read_neruk(d / "ner-train/ner-uk", "TEST")),
    "ro": ("RONEC v2 valid, odd half", lambda d: _corpora().read_ronec_json(d / "ner-train/ronec/v2_valid.json", 1)),
    "en": ("CoNLL-2003 test", lambda d: _corpora().read_conll(d / "ner-train/conll2003-en/data/conll/en/test.conllu")),
}


def _corpora():
    from presslens.enrich.ner import corpora

    return corpora


def trim_span(text: str, s: int, e: int) -> tuple[int, int]:
    """A span without punctuation at its edges (NER-UK's gold ТОВ «Пласт» ends on the quote,
    a word tokenizer never does): gold and predicted spans are compared trimmed."""
    while s < e and not text[s].isalnum():
        s += 1
    while e > s and not text[e - 1].isalnum():
        e -= 1
    return s, e


def span_scores(docs, lang: str, extract=None) -> dict:
    """Exact-span P/R/F1 (and typed) of `extract` on gold Docs (text, spans) of one language,
    with milliseconds per document and per 1,000 characters."""
    if extract is None:
        from presslens.enrich.entities import extract
    extract("Warm up.", lang, [])
    tp = tpt = npred = ngold = 0
    ms = 0.0
    chars = 0
    for d in docs:
        t0 = time.process_time()
        mentions = extract(d.text, lang, [])
        ms += (time.process_time() - t0) * 1000
        chars += len(d.text)
        gold = {trim_span(d.text, s, e): t for s, e, t in d.spans}
        pred = {}
        for m in mentions:
            pred.setdefault(trim_span(d.text, m.start, m.end), m.entity_type)
        ngold += len(gold)
        npred += len(pred)
        for span, ty in pred.items():
            if span in gold:
                tp += 1
                tpt += gold[span] == ty
    p, r, f = prf(tp, npred, ngold)
    tp_, tr_, tf_ = prf(tpt, npred, ngold)
    return {"P": p, "R": r, "F1": f, "typed_P": tp_, "typed_R": tr_, "typed_F1": tf_, "docs": len(docs),
            "gold": ngold, "cpu_ms_per_doc": ms / max(1, len(docs)), "cpu_ms_per_1k_chars": ms * 1000 / max(1, chars)}


def evaluate_ner(data: Path, langs=("ru", "uk", "ro", "en"), out=sys.stdout) -> dict:
    """Print held-out span figures of every language on its corpus test split."""
    res = {}
    print(f"{'lang':4} {'test split':22} {'docs':>5} {'gold':>6} {'P':>6} {'R':>6} {'F1':>6} "
          f"{'tP':>6} {'tR':>6} {'tF1':>6} {'ms/1kc':>7}", file=out)
    for lang in langs:
        name, reader = NER_TEST_SPLITS[lang]
        try:
            docs = reader(data)
        except FileNotFoundError as e:
            print(f"{lang:4} {name:22} missing: {e.filename}", file=out)
            continue
        r = span_scores(docs, lang)
        res[lang] = r
        print(f"{lang:4} {name:22} {r['docs']:5d} {r['gold']:6d} {r['P']:6.3f} {r['R']:6.3f} {r['F1']:6.3f} "
              f"{r['typed_P']:6.3f} {r['typed_R']:6.3f} {r['typed_F1']:6.3f} {r['cpu_ms_per_1k_chars']:7.2f}",
              file=out, flush=True)
    print("(exact character spans, punctuation at span edges trimmed; P/R/F1 type-insensitive, tP/tR/tF1 typed; ms/1kc: CPU ms per "
          "1,000 characters, whole pipeline)", file=out)
    return res


def evaluate_loto(root: Path, models: Path, out=sys.stdout) -> dict:
    """Leave-one-topic-out BSNLP figures: each topic scored with the models in
    models/<topic>/ (trained without it); counts pooled over the topics per language."""
    from presslens.enrich.ner import crf

    topics = sorted(p.name for p in (root / "raw").iterdir() if p.is_dir())
    pooled: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    preds, golds = [], []
    saved = crf.MODEL_DIR
    try:
        for t in topics:
            if not (models / t).is_dir():
                print(f"no models for held-out topic {t} in {models / t}", file=out)
                continue
            crf.set_model_dir(models / t)
            print(f"-- held-out topic {t} (models {models / t})", file=out)
            r = evaluate(root, {t}, out=out)
            for lang, v in r.items():
                if lang in ("bcubed", "errors"):
                    continue
                for k in ("tp", "tp_typed", "n_pred", "n_gold", "lemma_exact", "docs", "ms"):
                    pooled[lang][k] += v["counts"][k]
            preds += r["bcubed"]["pred"]
            golds += r["bcubed"]["gold"]
    finally:
        crf.set_model_dir(saved)
    print("== leave-one-topic-out, pooled over topics", file=out)
    res = {}
    for lang, c in sorted(pooled.items()):
        p, r_, f = prf(int(c["tp"]), int(c["n_pred"]), int(c["n_gold"]))
        tp_, tr_, tf_ = prf(int(c["tp_typed"]), int(c["n_pred"]), int(c["n_gold"]))
        lem = c["lemma_exact"] / c["tp"] if c["tp"] else 0.0
        res[lang] = {"P": p, "R": r_, "F1": f, "typed_F1": tf_, "lemma": lem}
        print(f"{lang}: docs {int(c['docs'])} P {p:.3f} R {r_:.3f} F1 {f:.3f} | typed P {tp_:.3f} R {tr_:.3f} "
              f"F1 {tf_:.3f} | base form {lem:.3f} | {c['ms'] / max(1, c['docs']):.1f} ms/article", file=out)
    bp, br, bf = bcubed(preds, golds)
    res["bcubed"] = {"P": bp, "R": br, "F1": bf}
    print(f"B-cubed (per-topic clusterings pooled, {len(preds)} matched mentions): P {bp:.3f} R {br:.3f} "
          f"F1 {bf:.3f}", file=out)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m presslens.eval", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bsnlp", help="score against a BSNLP/SlavicNER folder (raw/ and ner/)")
    b.add_argument("root", type=Path)
    b.add_argument("--holdout", help="score only this topic (tune on the others)")
    b.add_argument("--topics", help="comma-separated topics to score (default: all)")
    b.add_argument("--errors", type=Path,
                   help="write false positives/negatives, type and lemma errors here (TSV)")
    b.add_argument("--models", type=Path, help="use the entity models in this folder (default: shipped)")
    n = sub.add_parser("ner", help="held-out entity figures per language (corpus test splits, BSNLP LOTO)")
    n.add_argument("--data", type=Path, default=Path("/work/shared"), help="folder with ner-train/ and eval-dev/")
    n.add_argument("--lang", default="ru,uk,ro,en")
    n.add_argument("--models", type=Path, help="use the entity models in this folder (default: shipped)")
    n.add_argument("--loto-models", type=Path,
                   help="folder with one model folder per BSNLP topic, trained without that topic")
    _add_language_and_date_commands(sub)
    add_stories_parser(sub)
    args = ap.parse_args(argv)
    if args.cmd == "stories":
        return _stories_main(args)
    if args.cmd == "stories-loto":
        return _stories_loto_main(args)
    if args.cmd == "stories-agreement":
        return _stories_agreement_main(args)
    if args.cmd == "ner":
        return _main_ner(args)
    if getattr(args, "run", None) is not None:
        return args.run(args)
    root: Path = args.root
    if args.models:
        from presslens.enrich.ner import crf

        if not args.models.is_dir():
            print(f"error: {args.models} is not a folder", file=sys.stderr)
            return 2
        crf.set_model_dir(args.models)
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


def _main_ner(args) -> int:
    data: Path = args.data
    if not (data / "ner-train").is_dir():
        print(f"error: {data} has no ner-train/ folder", file=sys.stderr)
        return 2
    langs = [x.strip() for x in args.lang.split(",") if x.strip()]
    unknown = [x for x in langs if x not in NER_TEST_SPLITS]
    if unknown:
        print(f"error: unknown language(s) {unknown}; choose from {sorted(NER_TEST_SPLITS)}", file=sys.stderr)
        return 2
    if args.models:
        from presslens.enrich.ner import crf

        crf.set_model_dir(args.models)
    print("== corpus test splits (never used in training)")
    evaluate_ner(data, langs)
    if args.loto_models:
        root = data / "eval-dev" / "bsnlp"
        if not args.loto_models.is_dir() or not (root / "raw").is_dir():
            print(f"error: need {args.loto_models} and {root}/raw", file=sys.stderr)
            return 2
        print("== BSNLP, leave one topic out")
        evaluate_loto(root, args.loto_models)
    return 0


def _add_language_and_date_commands(sub) -> None:
    """The `langid` and `dates` subcommands (their code lives in eval_langid / eval_dates)."""
    from presslens import eval_conll_docs, eval_dates, eval_langid

    eval_langid.add_parser(sub)
    eval_dates.add_parser(sub)
    eval_conll_docs.add_parser(sub)


if __name__ == "__main__":
    raise SystemExit(main())
