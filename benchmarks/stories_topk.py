"""Would keeping only each article's K strongest links change the gold grouping?

    python -m presslens.eval stories /work/shared --gold data/eval/stories_gold.csv --split tune --store /tmp/s-tune
    python benchmarks/stories_topk.py /tmp/s-tune [/tmp/s-report ...]

Re-clusters the links of stores built by `presslens.eval stories --store` with and without a
cut to each article's K strongest links (a link stays when it is among the K strongest of
either of its articles) and prints the pairwise F1 against the gold set for each K.
"""
import sys
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from presslens import store, stories  # noqa: E402

gold = pl.read_csv(Path(__file__).resolve().parent.parent / "data" / "eval" / "stories_gold.csv")
for split in sys.argv[1:]:
    info = store.current(split)
    arts = store.scan(info, "articles").select("doc_id", "path", "duplicate_of", "story_id").collect()
    links = pl.read_parquet(info.directory / "story_links.parquet").filter(pl.col("reason") != "duplicate")
    orig = arts.filter(pl.col("duplicate_of").is_null()).sort("doc_id")
    idx = {d: i for i, d in enumerate(orig["doc_id"].to_list())}
    a = np.array([idx[d] for d in links["doc_a"]]); b = np.array([idx[d] for d in links["doc_b"]]); sc = links["score"].to_numpy()
    deg = np.bincount(np.concatenate([a, b]), minlength=len(idx))
    row = []
    for K in [None, 30, 20, 10, 5]:
        if K is None:
            keep = np.ones(len(a), bool)
        else:  # a link stays when it is among the K strongest of either article
            ends = np.concatenate([a, b]); lid = np.concatenate([np.arange(len(a))] * 2); s2 = np.concatenate([sc, sc])
            o = np.lexsort((-s2, ends)); ends, lid = ends[o], lid[o]
            first = np.searchsorted(ends, ends, side="left"); rank = np.arange(len(ends)) - first
            keep = np.zeros(len(a), bool); keep[lid[rank < K]] = True
        lab = stories.cluster(len(idx), a[keep], b[keep], sc[keep], stories.MERGE_DENSITY)
        docs = orig["doc_id"].to_list(); sid = {d: docs[lab[i]] for d, i in idx.items()}
        got = arts.with_columns(pl.coalesce(pl.col("duplicate_of"), pl.col("doc_id")).replace_strict(sid, default=None).alias("s"))
        g = got.join(gold.select("path", "story"), on="path")
        p, r, f, *_ = stories.pairwise_prf(g["s"].to_list(), g["story"].to_list())
        row.append(f"K={K}: F1 {f:.3f} ({int(keep.sum())} links)")
    print(split, f"max degree {deg.max()}", "; ".join(row))
