"""Generate a synthetic corpus of any size for benchmarks.

    python benchmarks/generate.py corpus OUT_DIR --articles 10000 [--seed 1]
    python benchmarks/generate.py scale-store SRC_STORE OUT_STORE --articles 100000

`corpus` writes plain-text articles (in subfolders of 1,000) plus a metadata.csv sidecar
with outlet, url and publication date. Each article is stitched from shuffled paragraphs
of the seed articles in one language (ru/uk/ro/en in the seeds' proportions), with names
swapped from a small pool so entity counts vary, a few numbers changed so every text is
distinct, and the seeds' clutter kept, so the build does the same work as on real pages.

`scale-store` multiplies an already built store's rows (new doc ids, dates spread over two
years, outlets varied) to reach a large store quickly, for dashboard timing: building
100,000 articles through the NLP pipeline takes far longer than the page timings need.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import re
import sys
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "data" / "corpus"

OUTLETS = {
    "ru": [("TSN", "ru.tsn.ua"), ("Meduza", "meduza.io"), ("RBC", "rbc.ru"), ("Novaya Gazeta Europe", "novayagazeta.eu")],
    "uk": [("Патріоти України", "patrioty.org.ua"), ("Українська правда", "pravda.com.ua"), ("УНІАН", "unian.ua")],
    "ro": [("EVZ", "evz.ro"), ("Digi24", "digi24.ro"), ("HotNews", "hotnews.ro")],
    "en": [("UNN", "unn.ua"), ("Reuters", "reuters.com"), ("NK News", "nknews.org")],
}
# Name swaps per language: (seed name, replacements) so entity frequencies differ per article.
SWAPS = {
    "ru": ("Путин", ["Путин", "Лавров", "Шойгу", "Песков"]),
    "uk": ("Шойгу", ["Шойгу", "Лавров", "Путін", "Зеленський"]),
    "ro": ("Putin", ["Putin", "Lavrov", "Șoigu", "Zelenski"]),
    "en": ("Russia", ["Russia", "Ukraine", "China", "Japan"]),
}


def _paragraphs() -> dict[str, list[str]]:
    by_lang: dict[str, list[str]] = {"ru": [], "uk": [], "ro": [], "en": []}
    langs = {"000": "ru", "001": "en", "002": "ru", "003": "ro", "004": "uk"}
    for f in sorted(SEEDS.glob("*.txt")):
        lang = langs.get(f.name[:3])
        if not lang:
            continue
        text = f.read_text(encoding="utf-8")
        paras = [p for p in re.split(r"\n\s*\n|\n", text) if len(p.strip()) > 40]
        by_lang[lang].extend(paras)
    return by_lang


def make_corpus(out: Path, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    paras = _paragraphs()
    weights = [("ru", 2), ("en", 1), ("ro", 1), ("uk", 1)]
    pool = [lang for lang, w in weights for _ in range(w)]
    start = dt.date(2023, 1, 1)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        lang = rng.choice(pool)
        ps = paras[lang]
        k = min(len(ps), rng.randint(4, 9))
        body = rng.sample(ps, k)
        old, news = SWAPS[lang]
        new = rng.choice(news)
        text = "\n\n".join(body).replace(old, new)
        text = re.sub(r"\d+", lambda m: str(rng.randint(1, 999)) if rng.random() < 0.3 else m.group(0), text)
        text += f"\n\n#{i}"
        rel = f"{i // 1000:04d}/{i:07d}.txt"
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        outlet, domain = rng.choice(OUTLETS[lang])
        day = start + dt.timedelta(days=rng.randint(0, 729))
        undated = rng.random() < 0.1  # some sources carry no date: the dashboard must show them
        rows.append({"path": rel, "outlet": outlet, "url": f"https://{domain}/news/{i}",
                     "published": "" if undated else day.isoformat()})
    with open(out / "metadata.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["path", "outlet", "url", "published"])
        w.writeheader()
        w.writerows(rows)


def touch_fraction(out: Path, fraction: float, seed: int = 2) -> int:
    """Change `fraction` of the corpus's text files (append a line); returns how many."""
    rng = random.Random(seed)
    files = sorted(out.rglob("*.txt"))
    chosen = rng.sample(files, max(1, int(len(files) * fraction)))
    for p in chosen:
        with open(p, "a", encoding="utf-8") as f:
            f.write(f"\n\nUpdate {rng.randint(0, 10**9)}.")
    return len(chosen)


def scale_store(src: Path, dst: Path, n: int, seed: int = 3) -> None:
    import polars as pl

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from presslens import store

    info = store.current(src)
    if info is None:
        raise SystemExit(f"no store at {src}")
    arts = pl.read_parquet(store.table_path(info, "articles"))
    ments = pl.read_parquet(store.table_path(info, "mentions"))
    reps = -(-n // arts.height)
    rng = random.Random(seed)
    outlets = [o for v in OUTLETS.values() for o in v]
    frames_a, frames_m = [], []
    for r in range(reps):
        take = min(arts.height, n - r * arts.height)
        a = arts.head(take)
        suffix = f"-{r:06d}"
        off = rng.randint(0, 729)
        o_name, o_dom = outlets[r % len(outlets)]
        a = a.with_columns(
            (pl.col("doc_id") + suffix).alias("doc_id"),
            (pl.col("path") + suffix).alias("path"),
            pl.when(pl.lit(r % 10 == 9)).then(None).otherwise(
                pl.coalesce("published", pl.lit(dt.date(2023, 1, 1))) + pl.duration(days=off)).alias("published"),
            pl.when(pl.lit(r % 3 == 0)).then("outlet").otherwise(pl.lit(o_name)).alias("outlet"),
            pl.when(pl.lit(r % 3 == 0)).then("outlet_domain").otherwise(pl.lit(o_dom)).alias("outlet_domain"),
            pl.lit(None, pl.String).alias("duplicate_of"),
            (pl.col("dedup_key") + suffix).alias("dedup_key"),
        )
        m = ments.join(arts.head(take).select("doc_id"), on="doc_id", how="semi").with_columns(
            (pl.col("doc_id") + suffix).alias("doc_id"))
        frames_a.append(a)
        frames_m.append(m)
    A = pl.concat(frames_a)
    M = pl.concat(frames_m)
    from presslens.build import _entities_table

    tables = {
        "articles": A,
        "mentions": M,
        "doc_entities": M.group_by("doc_id", "entity_id").agg(pl.len().cast(pl.UInt32).alias("mentions")),
        "entities": _entities_table(M.lazy(), A.lazy()),
        "rejects": store.empty("rejects"),
        "files": store.empty("files"),
    }
    manifest = dict(info.manifest, version=f"scaled{n}", articles=A.height, mentions=M.height)
    store.write(dst, tables, manifest)
    print(f"wrote {A.height} articles, {M.height} mentions to {dst}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("out", type=Path)
    c.add_argument("--articles", type=int, default=10_000)
    c.add_argument("--seed", type=int, default=1)
    s = sub.add_parser("scale-store")
    s.add_argument("src", type=Path)
    s.add_argument("dst", type=Path)
    s.add_argument("--articles", type=int, default=100_000)
    args = ap.parse_args()
    if args.cmd == "corpus":
        make_corpus(args.out, args.articles, args.seed)
        print(f"wrote {args.articles} articles to {args.out}")
    else:
        scale_store(args.src, args.dst, args.articles)


if __name__ == "__main__":
    main()
