"""How well the pair model ranks candidate pairs of a topic it never saw, against how rare
the true pairs are there: the reason pairwise precision stays low on a day of wire news.

    python data/eval/story_pair_auc.py ROOT STORES TOPIC [TOPIC ...]

ROOT, STORES and the gold files as for `python -m presslens.eval stories-loto` (the stores it
built are reused). For each TOPIC: the model is fitted (C 0.3, the committed model's) on the
other TOPICs' candidate pairs, then on the held-out topic it prints the candidate pairs, the
share of them that are one story (the base rate), the ROC AUC of the model's probability and
of the rules' similarity, and the precision of each at the recall of 0.5 and 0.7 (ranking the
candidate pairs alone, before any clustering).
Analysis only: no figure here is a grouping F1.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from presslens import eval as ev  # noqa: E402
from presslens import store, stories, story_model as sm  # noqa: E402

GOLD = ["data/eval/stories_gold.csv", "data/eval/stories_gold_conll_train.csv"]


def precision_at_recall(y: np.ndarray, p: np.ndarray, recall: float) -> float:
    order = np.argsort(-p, kind="stable")
    tp = np.cumsum(y[order])
    k = int(np.searchsorted(tp, recall * y.sum()))  # first cut reaching the recall
    return float(tp[min(k, len(tp) - 1)] / (min(k, len(tp) - 1) + 1))


def main() -> int:
    from sklearn.metrics import roc_auc_score

    root, stores, names = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    gold = [row for g in GOLD for row in ev.read_story_gold(Path(__file__).resolve().parents[2] / g)]
    topics = []
    for name in names:
        rows = [g for g in gold if ev.topic_of(g[0]) == name]
        if store.current(stores / name) is None:
            ev.build_gold_store(root, rows, stores / name)
        topics.append(sm.topic_pairs(name, stores / name, {p: s for p, s, _ in rows}))
    cos = stories.PAIR_FEATURES.index("cos")
    for t in topics:
        p = sm.predict(sm.fit([u for u in topics if u is not t], 0.3), t.x)
        print(f"{t.name}: {len(t.y):,} candidate pairs, {int(t.y.sum()):,} one story ({t.y.mean():.1%}); AUC model "
              f"{roc_auc_score(t.y, p):.3f}, rules' similarity {roc_auc_score(t.y, t.x[:, cos]):.3f}; precision at "
              f"recall 0.5 / 0.7: model {precision_at_recall(t.y, p, 0.5):.3f} / {precision_at_recall(t.y, p, 0.7):.3f}, "
              f"rules' similarity {precision_at_recall(t.y, t.x[:, cos], 0.5):.3f} / "
              f"{precision_at_recall(t.y, t.x[:, cos], 0.7):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
