"""The learned pair model of story grouping: training, leave-one-topic-out evaluation, file.

The grouping (presslens.stories) scores each LSH candidate pair that passes the date gates
from its PAIR_FEATURES (entity/source/figure/date cosines, lead-word cosine, shared counts,
rarest shared feature, text similarity, event-date gap...). This module learns that score
from hand-labelled gold groupings instead of hand weights: a logistic regression over the
features (the probability that both articles report the same event), with the link
threshold and the clustering's merge density chosen on training topics too.

Protocol (fixed before any held-out figure was seen; docs/STORIES.md):
- a topic (a BSNLP story family: ryanair, asia_bibi, brexit; or one of four chunks of labelled
  Reuters wire news, CoNLL-2003 train, since run 8) is the unit held out;
- for a held-out topic, the model is trained on the other topics' candidate pairs, each
  training topic weighing the same in total (brexit alone has more gold pairs than the others);
- the regularisation C, the link threshold and the merge density are chosen by an inner
  leave-one-topic-out over the training topics only (fit on one, group the other, pairwise F1;
  the grid point with the best mean F1 wins, ties to the first);
- the held-out topic is then grouped by the real grouping code (`stories.group`) with that
  scorer, and its pairwise F1 printed next to the rules' on the same topic.
With `--mixed` (eval stories-loto), training instead sees the negatives of a mixed store: the
training topics grouped together with unrelated news articles (`subset_pairs`); safe in a large
mixed corpus but below the rules on held-out topics (run 3, docs/STORIES.md), so not committed.
The committed model (presslens/models/story_pairs.json) is trained without it, on all seven
topics (run 8); its held-out figures are the leave-one-topic-out ones. It groups by default, on
top of the rules (PRESSLENS_STORY_MODEL=0 for the rules alone, see presslens.stories.scorer):
the wire-news chunks taught it the base rate of a day-mix of news, which the one-topic corpora
of run 2's model did not (docs/STORIES.md, runs 2, 3 and 8).

At runtime only NumPy is needed (the coefficients are applied in `stories.PairScorer.score`);
scikit-learn is used for training (requirements-dev.txt).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from presslens import stories

log = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).parent / "models" / "story_pairs.json"
# The grid the inner leave-one-topic-out chooses from. C: inverse L2 strength of the logistic
# regression (features are standardised); threshold: the probability at which a pair links;
# density: the share of linked pairs two groups need to merge (stories.cluster).
GRID_C = (0.03, 0.3, 3.0)
GRID_THRESHOLD = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
GRID_DENSITY = (0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
# The rules' link thresholds on `cos` tried by `choose_rules` (the fixed rules use 0.15).
GRID_RULES_THRESHOLD = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


# ---------------------------------------------------------------- the model file

def to_json(s: stories.PairScorer, meta: dict | None = None) -> dict:
    """The JSON form of a learned scorer (coefficients by feature name)."""
    return {"kind": "logistic regression over stories.PAIR_FEATURES",
            "features": list(stories.PAIR_FEATURES), "coef": list(s.coef), "intercept": s.intercept,
            "mean": list(s.mean), "scale": list(s.scale), "threshold": s.threshold,
            "merge_density": s.merge_density, "with_rules": s.with_rules, **(meta or {})}


def from_json(d: dict, name: str = "model") -> stories.PairScorer:
    """A scorer from its JSON form; ValueError when its features are not this code's."""
    if list(d.get("features", [])) != list(stories.PAIR_FEATURES):
        raise ValueError("the story pair model was trained on other pair features than this code computes")
    return stories.PairScorer(threshold=float(d["threshold"]), merge_density=float(d["merge_density"]),
                              coef=tuple(map(float, d["coef"])), intercept=float(d["intercept"]),
                              mean=tuple(map(float, d["mean"])), scale=tuple(map(float, d["scale"])), name=name,
                              with_rules=bool(d.get("with_rules", False)))


def load(path: Path | None = None) -> stories.PairScorer | None:
    """The pair model in `path` (default: the committed MODEL_PATH), or None (then the rules
    group) when it is missing or was trained on other features, with a warning saying why."""
    path = path or MODEL_PATH
    try:
        return from_json(json.loads(path.read_text(encoding="utf-8")), name=path.name)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("stories: pair model %s not used (%s); grouping with the rules", path, exc)
        return None


# ---------------------------------------------------------------- training data

@dataclass
class TopicPairs:
    """One corpus's grouping inputs and its gated candidate pairs with their features and labels.

    The corpus is one topic's store, or a subset of the mixed store (topics plus distractor
    articles, `subset_pairs`)."""

    name: str
    articles: pl.DataFrame  # the grouping's input columns, one row per article of the store
    entities: pl.DataFrame  # doc_entities
    gold: pl.DataFrame  # doc_id, gold: the articles the F1 is computed over (distractors alone)
    n: int  # rows of the grouping (originals)
    row_doc: pl.Series  # doc_id per row
    ev_doy: np.ndarray  # event day of year per row (the clustering's date condition)
    a: np.ndarray
    b: np.ndarray
    x: np.ndarray  # PAIR_FEATURES per candidate pair
    near_dup: np.ndarray
    y: np.ndarray  # 1 when the gold puts both articles in one story
    # per pair: the index of the topic both articles belong to, -1 when they do not share one
    # (two topics, a topic and a distractor, two distractors): for the training weights (`fit`)
    within: np.ndarray | None = None


_INPUT_COLUMNS = ["doc_id", "path", "language", "published", "cited_sources", "story_evidence", "text_minhash",
                  "duplicate_of"]
# the gold label of a distractor article (`subset_pairs`): its own story, one per article
DISTRACTOR = "distractor"


def read_store(store_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(articles with the grouping's input columns and `path`, doc_entities) of a built store."""
    from presslens import store

    info = store.current(store_dir)
    if info is None:
        raise FileNotFoundError(f"no store in {store_dir}")
    return store.scan(info, "articles").select(_INPUT_COLUMNS).collect(), store.scan(info, "doc_entities").collect()


def _pairs(name: str, arts: pl.DataFrame, ents: pl.DataFrame, gold_docs: pl.DataFrame,
           topic_docs: pl.DataFrame | None = None) -> TopicPairs:
    """Group `arts` with the rules, recording the candidate pairs, and label them with
    `gold_docs` (doc_id, gold); `topic_docs` (doc_id, topic index) marks within-topic pairs."""
    with stories.recording_pairs() as rec, stories.using_scorer(stories.RULES):
        stories.group(arts.drop("path"), ents)
    if not rec:
        raise ValueError(f"topic {name}: no candidate pairs")
    ctx = rec[0][0]
    a = np.concatenate([r[1] for r in rec])
    b = np.concatenate([r[2] for r in rec])
    rows = pl.DataFrame({"doc_id": ctx.doc_ids})
    row_gold = rows.join(gold_docs, on="doc_id", how="left", maintain_order="left")["gold"].to_numpy()
    y = np.array([ga is not None and ga == gb for ga, gb in zip(row_gold[a], row_gold[b])], dtype=np.int8)
    within = np.zeros(len(a), dtype=np.int64)
    if topic_docs is not None:
        rt = rows.join(topic_docs, on="doc_id", how="left", maintain_order="left")["topic"].fill_null(-1).to_numpy()
        within = np.where(rt[a] == rt[b], rt[a], -1)
    return TopicPairs(name, arts.drop("path"), ents, gold_docs, len(ctx.doc_ids), ctx.doc_ids, ctx.ev_doy.copy(),
                      a, b, np.concatenate([r[3] for r in rec]), np.concatenate([r[4] for r in rec]), y, within)


def topic_pairs(name: str, store_dir: Path, gold: dict[str, str]) -> TopicPairs:
    """Read a built store's grouping inputs (no article text: the workers' evidence columns),
    record the candidate pairs the grouping scores and label them with `gold` (path -> story)."""
    arts, ents = read_store(store_dir)
    g = pl.DataFrame({"path": list(gold), "gold": list(gold.values())})
    return _pairs(name, arts, ents, arts.join(g, on="path").select("doc_id", "gold"))


def subset_pairs(name: str, arts: pl.DataFrame, ents: pl.DataFrame, gold: dict[str, tuple[str, str]],
                 topics: list[str], distractors: bool = True, score_distractors: bool = True) -> TopicPairs:
    """The candidate pairs of a sub-corpus of the mixed store (`arts`, `ents`): the gold articles
    of `topics` (gold: path -> (topic, story)) plus, with `distractors`, every article that is in
    no topic's gold. Grouped as a build of those articles alone would group them (the IDF and
    the candidates are the sub-corpus's; a duplicate of a left-out article becomes an original).
    The F1 (`gold` of the result) counts the topics' articles and, with `score_distractors`, each
    distractor as a story of its own (a false link to one costs precision)."""
    g = pl.DataFrame({"path": list(gold), "topic": [t for t, _ in gold.values()],
                      "gold": [s for _, s in gold.values()]})
    tagged = arts.join(g, on="path", how="left")
    keep = pl.col("topic").is_in(topics) | (pl.col("topic").is_null() if distractors else pl.lit(False))
    sub = tagged.filter(keep)
    ids = sub["doc_id"]
    sub = sub.with_columns(pl.when(pl.col("duplicate_of").is_in(ids.implode()))
                           .then(pl.col("duplicate_of")).otherwise(None).alias("duplicate_of"))
    docs = sub.select("doc_id", pl.when(pl.col("gold").is_null())
                      .then(pl.lit(DISTRACTOR + ":") + pl.col("doc_id").cast(pl.String))
                      .otherwise(pl.col("gold")).alias("gold"), "topic")
    scored = docs if score_distractors else docs.filter(pl.col("topic").is_not_null())
    topic_docs = docs.filter(pl.col("topic").is_not_null()).select(
        "doc_id", pl.col("topic").replace_strict(topics, list(range(len(topics)))).alias("topic"))
    return _pairs(name, sub.drop("topic", "gold"), ents.filter(pl.col("doc_id").is_in(ids.implode())),
                  scored.select("doc_id", "gold"), topic_docs)


# ---------------------------------------------------------------- fit, group, score

def _weights(topics: list[TopicPairs]) -> np.ndarray:
    """Training weights: the within-topic pairs keep their total weight (one each on average),
    shared equally by the topics (brexit alone has more pairs than the others); pairs that share
    no topic (two topics, a topic and a distractor, two distractors) weigh one each, so the mixed
    corpus's share of cross-event pairs is kept."""
    keys = np.concatenate([np.where(t.within >= 0, i * 1000 + t.within, -1) if t.within is not None
                           else np.full(len(t.y), i * 1000) for i, t in enumerate(topics)])
    wt = np.ones(len(keys))
    inside = keys >= 0
    groups, inv, counts = np.unique(keys[inside], return_inverse=True, return_counts=True)
    if len(groups):
        wt[inside] = (inside.sum() / len(groups)) / counts[inv]
    return wt


def fit(topics: list[TopicPairs], c: float) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Logistic regression on the pairs of `topics` (weights: `_weights`).
    Returns (coef, intercept, mean, scale) on standardised features."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([t.x for t in topics])
    y = np.concatenate([t.y for t in topics])
    wt = _weights(topics)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0  # a constant feature (e.g. no publication dates): weight ~0
    lr = LogisticRegression(C=c, max_iter=2000)
    lr.fit((x - mean) / scale, y, sample_weight=wt)
    return lr.coef_[0], float(lr.intercept_[0]), mean, scale


def make_scorer(params: tuple, threshold: float, density: float, name: str,
                with_rules: bool = False) -> stories.PairScorer:
    coef, icpt, mean, scale = params
    return stories.PairScorer(threshold=threshold, merge_density=density, coef=tuple(map(float, coef)),
                              intercept=icpt, mean=tuple(map(float, mean)), scale=tuple(map(float, scale)), name=name,
                              with_rules=with_rules)


def quick_f1(t: TopicPairs, prob: np.ndarray, threshold: float, density: float, with_rules: bool = False) -> float:
    """Pairwise F1 of the grouping of `t` with pair probabilities `prob` (the grouping's own
    link rule and `stories.cluster`, without rebuilding anything: for the grid search)."""
    n_info = np.rint(np.expm1(t.x[:, stories.PAIR_FEATURES.index("log_shared_info")]))
    keep = t.near_dup | ((prob >= threshold) & (n_info >= stories.MIN_SHARED))  # as PairScorer.score
    if with_rules:
        keep |= stories.RULES.score(t.x)[0]
    tsim = t.x[:, stories.PAIR_FEATURES.index("text_sim")]
    score = np.where(t.near_dup, np.maximum(tsim, prob), prob)[keep]
    label = stories.cluster(t.n, t.a[keep], t.b[keep], score, density, t.ev_doy)
    pred = pl.DataFrame({"doc_id": t.row_doc, "c": label})
    return _f1(t, pred)


def _f1(t: TopicPairs, pred_rows: pl.DataFrame) -> float:
    """Pairwise F1 over the gold articles; a duplicate takes its original's cluster."""
    dup = t.articles.select("doc_id", pl.coalesce("duplicate_of", "doc_id").alias("orig"))
    got = (t.gold.join(dup, on="doc_id", how="left")
           .join(pred_rows.rename({"doc_id": "orig"}), on="orig", how="left")
           .with_columns(pl.coalesce(pl.col("c").cast(pl.String), pl.col("doc_id")).alias("c")))
    return stories.pairwise_prf(got["c"].to_list(), got["gold"].to_list())[2]


def predict(params: tuple, x: np.ndarray) -> np.ndarray:
    coef, icpt, mean, scale = params
    return 1.0 / (1.0 + np.exp(-(((x - mean) / scale) @ coef + icpt)))


def choose(train: list[TopicPairs], with_rules: bool = False,
           folds: list[tuple[list[TopicPairs], TopicPairs]] | None = None) -> tuple[float, float, float, float]:
    """(C, threshold, density, inner mean F1) by leave-one-topic-out over `train` (>= 2 topics):
    fit on the others, group the one left out. `folds` gives the (fit on, group) pairs instead
    (the mixed protocol: fit on the other topics with the distractors, group the topic left out
    with the distractors)."""
    folds = folds or [([t for t in train if t is not v], v) for v in train]
    scores: dict[tuple[float, float, float], list[float]] = {}
    for c in GRID_C:
        for fit_on, v in folds:
            params = fit(fit_on, c)
            prob = predict(params, v.x)
            for thr in GRID_THRESHOLD:
                for dens in GRID_DENSITY:
                    scores.setdefault((c, thr, dens), []).append(quick_f1(v, prob, thr, dens, with_rules))
    best = max(scores, key=lambda k: (np.mean(scores[k]), -list(scores).index(k)))
    return (*best, float(np.mean(scores[best])))


def choose_rules(train: list[TopicPairs]) -> tuple[float, float, float]:
    """The rules' (link threshold on `cos`, merge density, inner mean F1) chosen on `train`:
    the pair with the best mean `quick_f1` over the topics, `cos` being the score (nothing is
    fitted, so every training topic is scored as it is)."""
    cos = [t.x[:, stories.PAIR_FEATURES.index("cos")] for t in train]
    scores = {(thr, dens): float(np.mean([quick_f1(t, c, thr, dens) for t, c in zip(train, cos)]))
              for thr in GRID_RULES_THRESHOLD for dens in GRID_DENSITY}
    best = max(scores, key=lambda k: (scores[k], -list(scores).index(k)))
    return (*best, scores[best])


def tuned_rules(threshold: float, density: float) -> stories.PairScorer:
    """The hand rules with another link threshold and merge density."""
    return stories.PairScorer(threshold=threshold, merge_density=density, name=f"rules-{threshold:g}-{density:g}")


def grouped_f1(t: TopicPairs, s: stories.PairScorer) -> tuple[float, float, float]:
    """(P, R, F1) of the real grouping (`stories.group`) of topic `t` with scorer `s`."""
    with stories.using_scorer(s):
        ids, _, _ = stories.group(t.articles, t.entities)
    got = t.gold.join(ids, on="doc_id", how="left")
    p, r, f, *_ = stories.pairwise_prf(got["story_id"].to_list(), got["gold"].to_list())
    return p, r, f


def train_final(topics: list[TopicPairs], with_rules: bool = False,
                folds: list[tuple[list[TopicPairs], TopicPairs]] | None = None,
                fit_on: list[TopicPairs] | None = None) -> tuple[stories.PairScorer, dict]:
    """The model on all topics (or on `fit_on`: the mixed corpus), its C/threshold/density
    chosen by leave-one-topic-out over them (or over `folds`, see `choose`)."""
    c, thr, dens, inner = choose(topics, with_rules, folds)
    s = make_scorer(fit(fit_on or topics, c), thr, dens, MODEL_PATH.name, with_rules)
    return s, {"C": c, "inner_loto_mean_f1": round(inner, 4)}
