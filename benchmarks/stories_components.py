"""How far the links of each pair scorer chain articles together, on generated features.

    python benchmarks/stories_components.py --docs 100000 [--model FILE]

Generates the corpus of benchmarks/bench_stories.py (same seed), groups it once with the hand
rules and once with the learned pair model (presslens/models/story_pairs.json), and prints the
number of links, the size of the largest connected components of links (the clustering holds
one component at a time, so this bounds its memory) and the number of stories. In memory (the
links are not streamed): use 100k, not 1M.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_stories as bench  # noqa: E402

from presslens import stories, story_model  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--model", type=Path, help="a pair model file (default: the committed one)")
    args = ap.parse_args()
    n = args.docs
    meta, feats, copy_src, _ = bench.generate(n)
    work = Path(tempfile.mkdtemp(prefix="stories-components-"))
    names, _, _ = bench.signatures(meta, 0, copy_src, feats, work / "sig.parquet")
    docs = meta.select("doc_id").with_columns(pl.lit(None, pl.String).alias("duplicate_of"))
    row = pl.DataFrame({"doc_id": docs["doc_id"], "i": np.arange(n)})
    for s in (stories.RULES, story_model.load(args.model)):
        with stories.using_scorer(s):
            ids, links, _ = stories.group_features(docs, None, pl.scan_parquet(work / "sig.parquet"),
                                                   stories.empty_state(), new_names=names)
        ij = (links.lazy().collect().join(row.rename({"doc_id": "doc_a", "i": "a"}), on="doc_a")
              .join(row.rename({"doc_id": "doc_b", "i": "b"}), on="doc_b"))
        size = np.bincount(stories.components(n, ij["a"].to_numpy(), ij["b"].to_numpy()))
        print(f"{s.name}: {ij.height} links, largest connected components {sorted(size.tolist())[-5:][::-1]}, "
              f"{ids['story_id'].n_unique()} stories")


if __name__ == "__main__":
    main()
