"""Full-text search: build rate, index size, incremental rebuild and query latency.

    nice python benchmarks/bench_search.py --articles 100000 [--workdir /tmp/presslens-search]
    nice python benchmarks/bench_search.py --articles 10000 --incremental 0.01
    nice python benchmarks/bench_search.py --articles 100000 --fts5      # sqlite FTS5 side by side

Articles (~1,800 characters, language mix ru 35% / uk 25% / en 25% / ro 15%) are made of real
sentences drawn at random from ../shared/eval-dev (bsnlp raw articles, langid sentences),
read by path. Each article also carries one synthetic rare word (``zq<number>``, each shared
by ~10 articles) so that a rare-word query has realistic selectivity. The sentence pool is
small (~20k sentences), so the vocabulary is far smaller than a real corpus's: the term
dictionary and the Ukrainian stem cache are kinder here than in production.

Figures are wall-clock on a shared 2-core machine; compare runs made together.
"""
from __future__ import annotations

import argparse
import glob
import random
import re
import resource
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from presslens import search  # noqa: E402

# ../shared/eval-dev next to the project checkout (or next to a parent of it, for worktrees)
EVAL = next((p / "shared" / "eval-dev" for p in Path(__file__).resolve().parents
             if (p / "shared" / "eval-dev").is_dir()), Path("../shared/eval-dev"))
LANG_MIX = {"ru": 0.35, "uk": 0.25, "en": 0.25, "ro": 0.15}
TARGET_CHARS = 1_800
QUERY_REPEATS = 15


def _sentences(eval_dir: Path) -> dict[str, list[str]]:
    pools: dict[str, list[str]] = {lang: [] for lang in LANG_MIX}
    for lang in LANG_MIX:
        f = eval_dir / "langid" / f"{lang}.txt"
        if f.exists():
            pools[lang] += [s.strip() for s in f.read_text(encoding="utf-8").splitlines() if s.strip()]
    for lang in ("ru", "uk"):
        for f in glob.glob(str(eval_dir / "bsnlp" / "raw" / "*" / lang / "*.txt")):
            text = Path(f).read_text(encoding="utf-8")
            pools[lang] += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if 20 < len(s.strip()) < 400]
    missing = [lang for lang, p in pools.items() if not p]
    if missing:
        sys.exit(f"No sentences for {missing} under {eval_dir}: pass --eval DIR (../shared/eval-dev).")
    return pools


def make_articles(n: int, eval_dir: Path, seed: int = 7) -> pl.DataFrame:
    """n contract-shaped article rows (doc_id, title, text, language, boilerplate)."""
    rng = random.Random(seed)
    pools = _sentences(eval_dir)
    langs = rng.choices(list(LANG_MIX), weights=list(LANG_MIX.values()), k=n)
    rare = max(n // 10, 1)
    ids, titles, texts = [], [], []
    for i, lang in enumerate(langs):
        pool = pools[lang]
        parts, size = [], 0
        while size < TARGET_CHARS:
            s = pool[rng.randrange(len(pool))]
            parts.append(s)
            size += len(s) + 1
        parts.insert(rng.randrange(len(parts)), f"zq{rng.randrange(rare)}")
        titles.append(pool[rng.randrange(len(pool))][:120])
        texts.append(" ".join(parts))
        ids.append(f"{i:016x}")
    return pl.DataFrame({"doc_id": ids, "title": titles, "text": texts, "language": langs,
                         "boilerplate": [[] for _ in range(n)]},
                        schema_overrides={"boilerplate": pl.List(pl.List(pl.Int64))})


def _dir_mb(d: Path) -> float:
    return sum(p.stat().st_size for p in d.rglob("*") if p.is_file()) / 1e6


def _latency(fn, query: str) -> tuple[float, float, int, float]:
    """(median wall ms, p95 wall ms, hits, median CPU ms of this process). On a loaded
    shared machine the CPU time is the steadier figure; wall time is what a user waits."""
    times, cpu, n = [], [], 0
    for _ in range(QUERY_REPEATS):
        t, c = time.perf_counter(), time.process_time()
        n = len(fn(query))
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], n, statistics.median(cpu)


QUERIES = [
    ("rare word", "zq{rare}"),
    ("common word (en 'the')", "the"),
    ("common word (ru 'и')", "и"),
    ("inflected ru (Путина)", "Путина"),
    ("inflected uk (Британії)", "Британії"),
    ("phrase", '"{phrase}"'),
    ("two words", "Brexit Мэй"),
    ("OR + exclude", "Brexit OR Брексіт -Мэй"),
]


def _phrase(df: pl.DataFrame) -> str:
    words = [w.strip('.,"-') for w in df.filter(pl.col("language") == "en")["text"][0].split()]
    return " ".join([w for w in words[3:12] if w.isalpha()][:3])


def run_queries(s: search.Searcher, df: pl.DataFrame) -> None:
    for label, tpl in QUERIES:
        q = tpl.format(rare=7, phrase=_phrase(df))
        med, p95, hits, cpu = _latency(s.doc_rows, q)
        cmed, _, _, _ = _latency(lambda x: [None] * s.count(x), q)
        print(f"  {label:28s} {q!r:32s} hits {hits:8d}  doc_rows median {med:7.1f} ms  p95 {p95:7.1f} ms"
              f"  (CPU {cpu:6.1f} ms) | count only {cmed:6.1f} ms")


def bench_fts5(df: pl.DataFrame, workdir: Path) -> None:
    """sqlite FTS5 (unicode61 tokenizer, no stemming: a lower bound on its cost) on the same text."""
    db = workdir / "fts5.sqlite"
    db.unlink(missing_ok=True)
    con = sqlite3.connect(db)
    con.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='unicode61 remove_diacritics 2', detail=full)")
    t = time.perf_counter()
    con.executemany("INSERT INTO t(rowid, body) VALUES (?, ?)",
                    ((i, f"{ti}\n{tx}") for i, (ti, tx) in enumerate(zip(df["title"], df["text"]))))
    con.commit()
    el = time.perf_counter() - t
    print(f"fts5: built {df.height} articles in {el:.1f} s = {df.height / el:.0f} articles/s, "
          f"{db.stat().st_size / 1e6:.0f} MB (no stemming)")

    def rows(q: str) -> np.ndarray:
        return np.fromiter((r[0] for r in con.execute("SELECT rowid FROM t WHERE t MATCH ?", (q,))), dtype=np.int64)

    for label, q in [("rare word", "zq7"), ("common word (en 'the')", "the"), ("common word (ru 'и')", "и"),
                     ("phrase", f'"{_phrase(df)}"')]:
        med, p95, hits, cpu = _latency(rows, q)
        print(f"  fts5 {label:28s} {q!r:24s} hits {hits:8d}  median {med:7.1f} ms  p95 {p95:7.1f} ms"
              f"  (CPU {cpu:6.1f} ms)")
    con.close()


def inflection_recall(eval_dir: Path) -> None:
    """Share of gold (inflected surface, base form) word pairs of the bsnlp entity mentions
    that get the same index key, i.e. searching the base form finds the inflected form."""
    import pymorphy3
    import tantivy

    pairs: dict[str, set[tuple[str, str]]] = {"ru": set(), "uk": set()}
    for lang in pairs:
        for f in glob.glob(str(eval_dir / "bsnlp" / "ner" / "*" / lang / "*.tsv")):
            for line in Path(f).read_text(encoding="utf-8").splitlines():
                p = line.split("\t")
                if len(p) < 6:
                    continue
                surf, lemma = p[2].split(), p[3].split()
                if len(surf) == len(lemma):
                    pairs[lang] |= {(a, b) for a, b in zip(surf, lemma) if a != b and re.fullmatch(r"[\w'’ʼ-]+", a)}
    ru_snowball = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(
        tantivy.Filter.lowercase()).filter(tantivy.Filter.stemmer("russian")).build()
    morph = {lang: pymorphy3.MorphAnalyzer(lang=lang) for lang in pairs}

    def rate(lang: str, key) -> str:
        p = pairs[lang]
        return f"{sum(key(a) == key(b) for a, b in p) / len(p):.3f}"

    for lang in pairs:
        t = time.process_time()
        pm = rate(lang, lambda w: morph[lang].parse(w)[0].normal_form)
        pm_us = (time.process_time() - t) / (2 * len(pairs[lang])) * 1e6
        ours = rate(lang, lambda w: search._keys(w, search.field_for(lang)))
        print(f"inflection recall {lang} ({len(pairs[lang])} distinct inflected pairs): presslens.search {ours}, "
              f"Snowball Russian {rate(lang, lambda w: tuple(ru_snowball.analyze(w)))}, "
              f"pymorphy3 first normal form {pm} ({pm_us:.0f} us/word uncached)")
    search.uk_key.cache_clear()
    words = [a for a, _ in pairs["uk"]] * 1
    t = time.process_time()
    for w in words:
        search.uk_key(w)
    print(f"uk_key: {(time.process_time() - t) / len(words) * 1e6:.1f} us/word uncached")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/presslens-search"))
    ap.add_argument("--eval", type=Path, default=EVAL)
    ap.add_argument("--incremental", type=float, default=0.01, help="share of articles changed in the rebuild")
    ap.add_argument("--fts5", action="store_true", help="also build and query sqlite FTS5")
    ap.add_argument("--recall", action="store_true", help="only measure inflection recall on bsnlp")
    args = ap.parse_args()
    if args.recall:
        inflection_recall(args.eval)
        return
    work = args.workdir / f"n{args.articles}"
    shutil.rmtree(work, ignore_errors=True)
    v1, v2 = work / "v-1", work / "v-2"
    v1.mkdir(parents=True)
    v2.mkdir()

    t = time.perf_counter()
    df = make_articles(args.articles, args.eval)
    df.write_parquet(v1 / "articles.parquet", row_group_size=50_000)
    print(f"generated {df.height} articles ({df['text'].str.len_chars().mean():.0f} chars each) "
          f"in {time.perf_counter() - t:.1f} s")

    t, c = time.perf_counter(), time.process_time()
    st = search.build(work, v1, pl.scan_parquet(v1 / "articles.parquet"), None)
    el, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"full index: {st['indexed']} articles in {el:.1f} s = {st['indexed'] / el:.0f} articles/s "
          f"({1000 * el / st['indexed']:.2f} ms/article wall, {1000 * cpu / st['indexed']:.2f} ms/article CPU "
          f"all threads), index {_dir_mb(v1 / 'search'):.0f} MB")

    t = time.perf_counter()
    s = search.open(v1)
    print(f"open: {(time.perf_counter() - t) * 1000:.0f} ms, {s._searcher.num_segments} segments")
    run_queries(s, df)

    # Incremental: change a share of the articles (new doc_id), delete as many, add as many.
    k = max(1, int(args.incremental * df.height))
    rng = np.random.default_rng(1)
    changed = rng.choice(df.height, size=k, replace=False)
    ids = df["doc_id"].to_numpy().copy()
    ids[changed] = [f"new{i:013x}" for i in range(k)]
    df2 = df.with_columns(pl.Series("doc_id", ids))
    df2.write_parquet(v2 / "articles.parquet", row_group_size=50_000)
    t = time.perf_counter()
    st2 = search.build(work, v2, pl.scan_parquet(v2 / "articles.parquet"), v1)
    el2 = time.perf_counter() - t
    print(f"incremental index ({k} of {df.height} articles changed): {el2:.2f} s "
          f"(indexed {st2['indexed']}, reused {st2['reused']}, deleted {st2['deleted']}, full={st2['full']}); "
          f"full index took {el:.1f} s")
    s2 = search.open(v2)
    same = all(np.array_equal(s2.doc_rows(q), s.doc_rows(q)) for q in ("the", "Путина", "zq7"))
    print(f"  same rows as the previous version for unchanged text: {same}; "
          f"previous version still answers: {len(search.open(v1).doc_rows('zq7'))} hits")
    if args.fts5:
        bench_fts5(df, work)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
