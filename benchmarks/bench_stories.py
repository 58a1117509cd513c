"""Story grouping at scale, on generated features: time, peak memory, and its share of a build.

    python benchmarks/bench_stories.py --docs 1000000 [--new 0.01] [--build-rate 250] [--text-ms 0.41]

What is generated (seeded, so runs are comparable): `--docs` articles in stories whose sizes
follow a Zipf law (most articles alone, a few stories of dozens); each article has ~15
entity ids (a third from its story's entities, the rest from a Zipf vocabulary of 300k; the
most common entity is in about a third of all articles), 0-2 cited sources (Zipf over 500),
its story's figures and dates plus unrelated ones, a publication date near its story's,
and 300 text shingle hashes (5% of articles are near-copies of another in their story).

What is timed: the story hook's per-batch work as the build does it (each batch of 20k laid
out as the hook reads it, with entities, cited sources, figures/dates and the text MinHash
the workers made; then stories.article_features + encode_features), the full grouping (LSH
candidates, scoring, clustering, links written), then an incremental run adding `--new` of
the articles. The text part the build workers add per article (stories.text_evidence:
figures, dates, lead words, shingle MinHash) is their CPU time, either given (`--text-ms`,
from benchmarks/profile_text_evidence.py on real news text) or timed here on the seed texts
whole, and extrapolated. The share of build time uses `--build-rate` articles/second (the
figure benchmarks/bench_build.py printed on this machine). Peak RSS is the process maximum.
Figures are wall-clock on a shared 2-core machine: compare runs made together.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from presslens import stories  # noqa: E402

BATCH = 20_000  # articles per signature batch, as STORY_BATCH in presslens/build.py
# Entity frequencies: Zipf over a 300k vocabulary, with the exponent chosen so that the most
# common entity is in about a third of the articles (as "Russia" is in a Russia-focused corpus).
ZIPF_A, VOCAB = 1.05, 300_000


def rss_mb() -> float:
    """The process's peak RSS so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PhasePeak:
    """Peak RSS (MB) while a phase runs, sampled from /proc every 50 ms: the process-wide
    maximum would be the generator's, not the grouping's."""

    def __enter__(self):
        import threading

        self.peak, self._stop = 0.0, threading.Event()

        def sample():
            while not self._stop.is_set():
                with open("/proc/self/statm") as fh:
                    self.peak = max(self.peak, int(fh.read().split()[1]) * resource.getpagesize() / 2**20)
                self._stop.wait(0.05)

        self._t = threading.Thread(target=sample, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def generate(n: int, seed: int = 7, id_offset: int = 0):
    """Features, shingles, metadata and true story labels of n generated articles."""
    rng = np.random.default_rng(seed)
    # story sizes: Zipf, capped; assign articles in order
    sizes = np.minimum(rng.zipf(1.8, n), 60)
    sizes = sizes[np.cumsum(sizes) <= n]
    story = np.repeat(np.arange(len(sizes)), sizes)
    story = np.concatenate([story, np.arange(len(sizes), len(sizes) + n - len(story))])
    n_stories = story.max() + 1
    story_day = rng.integers(0, 3 * 365, n_stories)
    story_ents = rng.zipf(ZIPF_A, (n_stories, 6)) % VOCAB
    story_nums = rng.integers(100, 1_000_000, (n_stories, 3))
    story_date = rng.integers(1, 366, n_stories)
    doc_ids = doc_ids_of(np.arange(n) + id_offset)
    published = (np.datetime64("2023-01-01") + story_day[story] + rng.integers(0, 3, n)).astype("datetime64[D]")
    # features
    k_story, k_other = 5, 10
    ents = np.concatenate([story_ents[story][:, rng.permutation(6)[:k_story]],
                           rng.zipf(ZIPF_A, (n, k_other)) % VOCAB], axis=1)
    f_doc = np.repeat(np.arange(n), ents.shape[1])
    f_val = np.char.add("e:E", ents.reshape(-1).astype(str))
    nums = np.char.add("n:", story_nums[story][:, :2].reshape(-1).astype(str))
    lead = np.char.add("ln:", story_nums[story][:, 0].astype(str))
    dates = np.char.add("d:", story_date[story].astype(str))
    noise = np.char.add("n:", (rng.zipf(1.5, (n, 3)) + 9).reshape(-1).astype(str))
    n_src = rng.integers(0, 3, n)
    src_doc = np.repeat(np.arange(n), n_src)
    srcs = np.char.add("s:src", (rng.zipf(1.5, n_src.sum()) % 500).astype(str))
    rows = np.concatenate([f_doc, np.repeat(np.arange(n), 2), np.arange(n), np.arange(n),
                           np.repeat(np.arange(n), 3), src_doc])
    feats = pl.DataFrame({
        "r": rows.astype(np.int64),
        "feature": np.concatenate([f_val, nums, lead, dates, noise, srcs]),
    }).unique().sort("r")  # r: the article's row (doc_ids[r]), so a batch's features are one slice
    # near-copies: 5% of articles copy 85% of the shingles of their story's first article
    first_of_story = np.zeros(n_stories, dtype=np.int64) - 1
    order = np.arange(n)
    first = pl.DataFrame({"s": story, "i": order}).group_by("s").agg(pl.col("i").min())
    first_of_story[first["s"].to_numpy()] = first["i"].to_numpy()
    copy = (rng.random(n) < 0.05) & (first_of_story[story] != order)
    copy_src = np.where(copy, first_of_story[story], -1)
    meta = pl.DataFrame({"doc_id": doc_ids, "language": rng.choice(["ru", "uk", "en", "ro"], n),
                         "published": published})
    return meta, feats, copy_src, story


SHINGLES = 300  # shingle hashes per generated article


def shingles_of(rows: np.ndarray, copy_src: np.ndarray) -> np.ndarray:
    """The generated shingle hashes of articles `rows` [len(rows), SHINGLES]: random per article
    (seeded by its index), the first 85% taken from its source article for a near-copy."""
    out = np.empty((len(rows), SHINGLES), dtype=np.uint64)
    for k, i in enumerate(rows.tolist()):
        out[k] = np.random.default_rng(i).integers(0, 2**63, SHINGLES, dtype=np.uint64)
        if copy_src[i] >= 0:
            out[k, :255] = np.random.default_rng(int(copy_src[i])).integers(0, 2**63, SHINGLES, dtype=np.uint64)[:255]
    return out


def signatures(meta: pl.DataFrame, first_row: int, copy_src: np.ndarray, feats: pl.DataFrame,
               path: Path) -> tuple[pl.DataFrame, float, float]:
    """The story hook's per-batch work, in batches of BATCH articles as the build does it; `meta`
    holds the articles from index `first_row` on. Each batch is first laid out as the hook
    reads it (untimed): the articles' rows (cited_sources; story_evidence, the figures and
    dates; text_minhash, the MinHash of their shingles, which build workers compute) and
    their doc_entities rows. Then, timed as the hook's cost, `stories.article_features` and
    `stories.encode_features` (what `build._group_stories` runs per batch). Writes the
    signatures to `path` (the hook passes them through a file too) and returns (the feature
    names, seconds of the hook's per-batch work, seconds of the text MinHash: the workers'
    part, already counted in their text evidence)."""
    parts, names = [], []
    spent = spent_minhash = 0.0
    r = feats["r"].to_numpy()
    for s in range(0, meta.height, BATCH):
        m = meta.slice(s, BATCH)
        block = np.sort(shingles_of(np.arange(first_row + s, first_row + s + m.height), copy_src), axis=1)
        lo, hi = np.searchsorted(r, [first_row + s, first_row + s + m.height])
        f = feats.slice(int(lo), int(hi - lo)).select(
            pl.col("r").map_batches(lambda x: pl.Series(doc_ids_of(x.to_numpy()))).alias("doc_id"), "feature")
        t = time.perf_counter()
        offsets = np.arange(0, block.size + 1, block.shape[1], dtype=np.int64)
        tsig = stories.minhash(block.reshape(-1), offsets, stories._TEXT_A, stories._TEXT_B)
        spent_minhash += time.perf_counter() - t
        # the batch as the hook reads it: entities from doc_entities, sources from the
        # articles' cited_sources, the rest from their story_evidence
        kind = f["feature"].str.slice(0, 2)
        ents = f.filter(kind == "e:").select("doc_id", pl.col("feature").str.slice(2).alias("entity_id"),
                                             pl.lit(1, pl.UInt32).alias("mentions"))
        lists = lambda sub, col: (sub.group_by("doc_id").agg(pl.col("feature").alias(col)))  # noqa: E731
        part = (m.select("doc_id", "language", "published")
                .join(lists(f.filter(kind == "s:").with_columns(pl.col("feature").str.slice(2)), "cited_sources"),
                      on="doc_id", how="left", maintain_order="left")
                .join(lists(f.filter((kind != "e:") & (kind != "s:")), "story_evidence"),
                      on="doc_id", how="left", maintain_order="left")
                .with_columns(pl.col("cited_sources").fill_null(pl.lit([], pl.List(pl.String))),
                              pl.col("story_evidence").fill_null(pl.lit([], pl.List(pl.String))),
                              stories._array(tsig.astype(np.uint32), pl.Array(pl.UInt32, stories.TEXT_PERM))
                              .alias("text_minhash")))
        t = time.perf_counter()
        sig, nm = stories.encode_features(*reversed(stories.article_features(part, ents)))
        spent += time.perf_counter() - t
        parts.append(sig)
        names.append(nm)
    pl.concat(parts).write_parquet(path)
    return pl.concat(names).unique("fh"), spent, spent_minhash


def doc_ids_of(rows: np.ndarray) -> np.ndarray:
    """The generated doc_id of each article row."""
    return np.array([f"{i:016x}" for i in rows.tolist()])


def text_ms_per_article() -> float:
    """CPU milliseconds per article of the text part a build worker adds (stories.text_evidence:
    numbers, dates, shingle MinHash), on the seed texts in chunks of 200 like the workers."""
    corpus = Path(__file__).resolve().parent.parent / "data" / "corpus"
    texts = [p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*.txt"))] * 40
    t = time.process_time()  # CPU time: the machine is shared, wall time of a short run is noise
    stories.text_evidence(texts, None)
    return (time.process_time() - t) * 1000 / len(texts)


def main() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="  %(message)s")
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--new", type=float, default=0.01, help="share of articles added for the incremental run")
    ap.add_argument("--build-rate", type=float, default=250.0,
                    help="full-build articles/second measured by bench_build.py on this machine (250: this round, 251.5-306.5)")
    ap.add_argument("--text-ms", type=float, default=None,
                    help="CPU ms per article of the workers' text evidence, as benchmarks/profile_text_evidence.py "
                         "prints it on real news text with its boilerplate cut (default: measured here on the seed "
                         "texts whole, clutter included, which overstates it)")
    ap.add_argument("--workers", type=int, default=2, help="build workers that --build-rate was measured with")
    ap.add_argument("--scorer", choices=("default", "rules"), default="default",
                    help="pair scorer: the default (the committed pair model when there is one) or the hand rules")
    args = ap.parse_args()
    if args.scorer == "rules":
        stories._SCORER = stories.RULES  # the whole run (a benchmark process of its own)
    print(f"pair scorer: {stories.scorer().name}")
    n_new = max(1, int(args.docs * args.new))
    t = time.perf_counter()
    meta, feats, copy_src, truth = generate(args.docs + n_new)
    import gc

    gc.collect()
    with open("/proc/self/statm") as fh:
        base = int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    print(f"generated {args.docs + n_new} articles ({feats.height} features) in {time.perf_counter() - t:.1f} s; "
          f"RSS holding the generated inputs: {base:.0f} MB")
    old, new = meta.head(args.docs), meta.tail(n_new)
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="bench-stories-"))
    names_old, t_sig, t_mh = signatures(old, 0, copy_src, feats, work / "sig_old.parquet")
    print(f"hook's per-batch features and hashes (article_features + encode_features): {t_sig:.1f} s "
          f"({t_sig / args.docs * 1e6:.0f} us/article); text MinHash (the workers' part, not counted here: "
          f"it is in their text evidence) {t_mh:.1f} s")
    names_new, t_sig_new, _ = signatures(new, args.docs, copy_src, feats, work / "sig_new.parquet")
    del feats  # the grouping gets hashed features only, as in the build hook
    gc.collect()
    with open("/proc/self/statm") as fh:
        base = int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    print(f"RSS before grouping (generated metadata and labels only): {base:.0f} MB")

    docs = old.select("doc_id").with_columns(pl.lit(None, pl.String).alias("duplicate_of"))
    (work / "v1").mkdir()
    t = time.perf_counter()
    with PhasePeak() as pk:
        ids, links, state = stories.group_features(docs, None, pl.scan_parquet(work / "sig_old.parquet"),
                                                   stories.empty_state(), new_names=names_old,
                                                   links_path=work / "v1" / "story_links.parquet")
        state.save(work / "v1")
        del state, links
    t_group = time.perf_counter() - t
    n_links = pl.scan_parquet(work / "v1" / "story_links.parquet").select(pl.len()).collect().item()
    print(f"grouping {args.docs} articles: {t_group:.1f} s; {n_links} links, "
          f"{ids['story_id'].n_unique()} stories; RSS during grouping: peak {pk.peak:.0f} MB "
          f"({pk.peak - base:.0f} MB above the RSS before it)")
    got = ids.join(pl.DataFrame({"doc_id": meta["doc_id"].head(args.docs), "truth": truth[:args.docs].astype(str)}),
                   on="doc_id")
    p, r, f, *_ = stories.pairwise_prf(got["story_id"].to_list(), got["truth"].to_list())
    print(f"pairwise vs generated stories: P {p:.3f} R {r:.3f} F1 {f:.3f}")
    del ids, got
    gc.collect()

    docs2 = meta.select("doc_id").with_columns(pl.lit(None, pl.String).alias("duplicate_of"))
    (work / "v2").mkdir()
    with open("/proc/self/statm") as fh:
        base2 = int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    t = time.perf_counter()
    with PhasePeak() as pk:
        prev = stories.StoryState.load(work / "v1")
        ids2, links2, state2 = stories.group_features(docs2, None, pl.scan_parquet(work / "sig_new.parquet"), prev,
                                                      new_names=names_new,
                                                      links_path=work / "v2" / "story_links.parquet")
        state2.save(work / "v2")
    t_inc = time.perf_counter() - t + t_sig_new
    n_links2 = links2.select(pl.len()).collect().item()
    print(f"incremental run adding {n_new} articles: {t_inc:.1f} s (their signatures included); {n_links2} links; "
          f"RSS during the run: peak {pk.peak:.0f} MB ({pk.peak - base2:.0f} MB above the RSS before it)")
    sizes = {p.name: p.stat().st_size for p in (work / "v2").glob("*.parquet")}
    print("state on disk after it: " + ", ".join(f"{k} {v / 2**20:.0f} MB" for k, v in sorted(sizes.items())))
    import shutil

    shutil.rmtree(work, ignore_errors=True)

    ms = args.text_ms if args.text_ms is not None else text_ms_per_article()
    build_s = args.docs / args.build_rate
    worker_share = ms / 1000 * args.build_rate / args.workers  # of each worker's time per article
    hook = t_sig + t_group
    print(f"text evidence in the workers: {ms:.2f} ms/article = {100 * worker_share:.1f}% of a worker's "
          f"{1000 * args.workers / args.build_rate:.0f} ms per article")
    print(f"full build of {args.docs} articles at {args.build_rate} articles/s: {build_s:.0f} s; story hook "
          f"(signatures + grouping) {hook:.0f} s = {100 * hook / build_s:.1f}%; with the workers' text part "
          f"{100 * (hook / build_s + worker_share):.1f}% of build time")
    inc_build = n_new / args.build_rate
    print(f"incremental: {n_new} new articles take {inc_build:.0f} s to enrich; the story hook "
          f"{t_inc:.0f} s = {100 * t_inc / inc_build:.1f}% (+{100 * worker_share:.1f}% in the workers)")


if __name__ == "__main__":
    main()
