"""Generate a synthetic corpus of any size for benchmarks.

    python benchmarks/generate.py corpus OUT_DIR --articles 10000 [--seed 1]
    python benchmarks/generate.py store OUT_STORE --articles 100000 [--tables DIR] [--seed 7]
    python benchmarks/generate.py tables OUT_DIR --articles 100000

`corpus` writes plain-text articles (in subfolders of 1,000) plus a metadata.csv sidecar
with outlet, url and publication date. Each article is stitched from shuffled paragraphs
of the seed articles in one language (ru/uk/ro/en in the seeds' proportions), with names
swapped from a small pool so entity counts vary, a few numbers changed so every text is
distinct, and the seeds' clutter kept, so the build does the same work as on real pages.

`tables` writes contract-shaped articles.parquet, mentions.parquet and entities.parquet of
the realistic shape of a large corpus (issue 7): 30 mentions per article on average,
entities Zipf(1.3) over 200k ids (one id per real-world entity whatever the script or
case: Latin names in en/ro, Cyrillic in ru/uk, with case endings), outlets Zipf(1.5) over
2k (1% unknown), 300 cited sources, four years of dates (3% undated), 1% duplicates, 2%
mixed-language. Texts are short (a title, then one clause per mention) and every
mention's offsets index its text. Vectorised numpy/polars, in chunks of 100k articles.
`store` does that and then makes a store from the tables with `import-tables`, so the
benchmark store goes through the same validation, derived tables and serving index as
any imported corpus (building a million articles through the NLP pipeline would take
days on two cores, and would not have this shape).
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


# ---------------------------------------------------------------- realistic contract tables

# The realistic shape of issue 7: 30 mentions per article on average, entities Zipf(1.3)
# over 200k ids, outlets Zipf(1.5) over 2k, 300 cited sources, four years, 3% undated.
N_ENTITIES = 200_000
ENTITY_ZIPF = 1.3
N_OUTLETS = 2_000
OUTLET_ZIPF = 1.5
N_SOURCES = 300
SOURCE_ZIPF = 1.2
MENTIONS_PER_ARTICLE = 30
UNDATED_SHARE = 0.03
NO_OUTLET_SHARE = 0.01
DUPLICATE_SHARE = 0.01
MIXED_SHARE = 0.02
FIRST_DAY = dt.date(2021, 1, 1)
DAYS = 4 * 365
LANGS = ["ru", "uk", "ro", "en"]
LANG_SHARE = [0.4, 0.25, 0.15, 0.2]
# Parallel syllables: a name is the same in Latin (en/ro) and Cyrillic (ru/uk) script.
SYL_LAT = ["ka", "lo", "mi", "ra", "to", "ve", "sa", "du", "ni", "ko", "pe", "li", "za", "bo", "ri", "shen"]
SYL_CYR = ["ка", "ло", "ми", "ра", "то", "ве", "са", "ду", "ни", "ко", "пе", "ли", "за", "бо", "ри", "шен"]
# Case endings per language (the lemma is the bare name): Путин, Путина, Путину...
SUFFIXES = {"ru": ["", "а", "у", "ом", "е"], "uk": ["", "а", "у", "ом", "і"], "ro": ["", "ului", "ul"], "en": ["", "'s"]}
FILLERS = {
    "ru": [" заявил, что ", " и ", " встретился с ", ". По данным источников, ", ", "],
    "uk": [" заявив, що ", " і ", " зустрівся з ", ". За даними джерел, ", ", "],
    "ro": [" a declarat că ", " și ", " s-a întâlnit cu ", ". Potrivit surselor, ", ", "],
    "en": [" said that ", " and ", " met ", ". According to sources, ", ", "],
}
TOPICS = ["drones", "missiles", "sanctions", "summit", "ammunition", "artillery", "talks", "exercise", "treaty",
          "shipments", "satellite", "border", "army", "visit", "envoy", "pipeline", "grain", "energy", "election", "budget"]


def _zipf_p(n: int, s: float):
    import numpy as np

    w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** s
    return w / w.sum()


def _names(rng, n: int, words_max: int = 2):
    """n distinct pseudo-names in Latin and Cyrillic script (polars Series), vectorised."""
    import numpy as np
    import polars as pl

    lat = pl.Series(SYL_LAT)
    cyr = pl.Series(SYL_CYR)
    k = np.arange(n, dtype=np.int64)
    words_lat, words_cyr = [], []
    for w in range(words_max):
        # word w: 2-3 syllables; the first word's syllables spell k in base 16 (distinct names)
        sy = [(k // 16 ** j) % 16 if w == 0 else rng.integers(0, 16, n) for j in range(3 if w == 0 else 2)]
        wl = pl.select(pl.concat_str([pl.lit(lat.gather(s)) for s in sy])).to_series().str.to_titlecase()
        wc = pl.select(pl.concat_str([pl.lit(cyr.gather(s)) for s in sy])).to_series().str.to_titlecase()
        if w > 0:
            keep = pl.Series(rng.random(n) < 0.5)
            wl = pl.select(pl.when(pl.lit(keep)).then(pl.lit(wl)).otherwise(None)).to_series()
            wc = pl.select(pl.when(pl.lit(keep)).then(pl.lit(wc)).otherwise(None)).to_series()
        words_lat.append(wl)
        words_cyr.append(wc)
    latn = pl.DataFrame({f"w{i}": w for i, w in enumerate(words_lat[::-1])}).select(pl.concat_str(pl.all(), separator=" ", ignore_nulls=True)).to_series()
    cyrl = pl.DataFrame({f"w{i}": w for i, w in enumerate(words_cyr[::-1])}).select(pl.concat_str(pl.all(), separator=" ", ignore_nulls=True)).to_series()
    return latn, cyrl


def make_tables(out: Path, n: int, seed: int = 7, chunk: int = 100_000) -> dict:
    """Write contract-shaped articles/mentions/entities Parquet tables of the realistic
    shape into `out` (vectorised numpy/polars, in chunks of `chunk` articles). Each
    article's text is its title plus one short clause per mention; every mention's
    offsets index the text (text[start:end] == surface)."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    ent_lat, ent_cyr = _names(rng, N_ENTITIES)
    ent_type = pl.Series(rng.choice(["PER", "LOC", "ORG", "PRO", "EVT", "MISC"], N_ENTITIES,
                                    p=[0.35, 0.3, 0.25, 0.04, 0.03, 0.03]))
    ent_ids = pl.select(pl.format("E{}", pl.int_range(N_ENTITIES).cast(pl.String).str.zfill(6))).to_series()
    out_lat, _ = _names(rng, N_OUTLETS, words_max=1)
    outlet_names = out_lat + pl.Series(rng.choice([" News", " Times", " Daily", " Post", " Herald"], N_OUTLETS))
    outlet_domains = out_lat.str.to_lowercase() + pl.Series(rng.choice([".com", ".ru", ".ua", ".ro", ".net"], N_OUTLETS))
    src_lat, _ = _names(rng, N_SOURCES, words_max=1)
    source_names = src_lat + pl.Series(rng.choice([" Agency", " Institute", " Wire", " Monitor"], N_SOURCES))
    p_ent, p_out, p_src = _zipf_p(N_ENTITIES, ENTITY_ZIPF), _zipf_p(N_OUTLETS, OUTLET_ZIPF), _zipf_p(N_SOURCES, SOURCE_ZIPF)
    p_topic = _zipf_p(len(TOPICS), 1.0)
    names_lat_df = pl.DataFrame({"ent": np.arange(N_ENTITIES, dtype=np.int32), "lat": ent_lat, "cyr": ent_cyr})
    suffix_df = pl.DataFrame([{"lang": lang_, "var": v, "suffix": s} for lang_, ss in SUFFIXES.items()
                              for v, s in enumerate(ss)], schema={"lang": pl.String, "var": pl.Int8, "suffix": pl.String})
    filler_df = pl.DataFrame([{"lang": lang_, "fill": v, "filler": s} for lang_, ss in FILLERS.items()
                              for v, s in enumerate(ss)], schema={"lang": pl.String, "fill": pl.Int8, "filler": pl.String})
    n_suffix = {k: len(v) for k, v in SUFFIXES.items()}
    parts_a, parts_m = [], []
    total_m = 0
    for part, lo in enumerate(range(0, n, chunk)):
        hi = min(n, lo + chunk)
        k = hi - lo
        ids = np.arange(lo, hi)
        lang = rng.choice(LANGS, k, p=LANG_SHARE)
        n_m = rng.poisson(MENTIONS_PER_ARTICLE, k)
        m_total = int(n_m.sum())
        doc_of = np.repeat(np.arange(k), n_m)
        ent = rng.choice(N_ENTITIES, m_total, p=p_ent).astype(np.int32)
        m_lang = lang[doc_of]
        var = (rng.random(m_total) * np.vectorize(n_suffix.get)(m_lang)).astype(np.int8)
        fill = rng.integers(0, 5, m_total).astype(np.int8)
        doc_ids = pl.select(pl.format("d{}", pl.lit(pl.Series(ids)).cast(pl.String).str.zfill(8))).to_series()
        topic = pl.Series(TOPICS).gather(rng.choice(len(TOPICS), k, p=p_topic))
        first_ent = np.where(n_m > 0, ent[np.minimum(np.cumsum(n_m) - n_m, max(m_total - 1, 0))], 0)
        cyr_lang = np.isin(lang, ["ru", "uk"])
        title_name = pl.select(pl.when(pl.Series(cyr_lang)).then(ent_cyr.gather(first_ent))
                               .otherwise(ent_lat.gather(first_ent))).to_series()
        titles = title_name + " " + topic + " #" + pl.Series(ids).cast(pl.String)
        m = (pl.DataFrame({"doc": doc_of.astype(np.int32), "ent": ent, "lang": m_lang, "var": var, "fill": fill})
             .join(names_lat_df, on="ent", how="left")
             .join(suffix_df, on=["lang", "var"], how="left")
             .join(filler_df, on=["lang", "fill"], how="left")
             .with_columns(pl.when(pl.col("lang").is_in(["ru", "uk"])).then("cyr").otherwise("lat").alias("lemma"))
             .with_columns((pl.col("lemma") + pl.col("suffix")).alias("surface"))
             .with_columns((pl.col("surface") + pl.col("filler")).alias("piece"))
             .with_columns(pl.col("piece").str.len_chars().cast(pl.Int64).alias("plen"),
                           pl.col("surface").str.len_chars().cast(pl.Int64).alias("slen"))
             .sort("doc", maintain_order=True))
        title_len = titles.str.len_chars().cast(pl.Int64).to_numpy() + 2  # title + "\n\n"
        m = m.with_columns((pl.col("plen").cum_sum().over("doc") - pl.col("plen")
                            + pl.lit(pl.Series(title_len)).gather(pl.col("doc"))).alias("start"))
        m = m.with_columns((pl.col("start") + pl.col("slen")).alias("end"))
        bodies = m.group_by("doc", maintain_order=True).agg(pl.col("piece").str.join("").alias("body"))
        day = rng.integers(0, DAYS, k)
        published = pl.Series([FIRST_DAY + dt.timedelta(days=int(d)) for d in range(DAYS)]).gather(day)
        outlet_code = rng.choice(N_OUTLETS, k, p=p_out)
        no_outlet = rng.random(k) < NO_OUTLET_SHARE
        n_src = np.minimum(rng.poisson(1.0, k), 4)
        src = rng.choice(N_SOURCES, int(n_src.sum()), p=p_src)
        src_lists = pl.DataFrame({"doc": np.repeat(np.arange(k), n_src), "s": source_names.gather(src)}).group_by(
            "doc").agg(pl.col("s").unique(maintain_order=True))
        other = np.array(LANGS)[(np.searchsorted(LANGS, lang, sorter=np.argsort(LANGS)) + 1) % 4]
        mixed = rng.random(k) < MIXED_SHARE
        dup_of = np.where((rng.random(k) < DUPLICATE_SHARE) & (ids > 0), rng.integers(0, np.maximum(ids, 1)), -1)
        a = pl.DataFrame({
            "doc": np.arange(k, dtype=np.int32), "doc_id": doc_ids,
            "path": pl.select(pl.format("gen/{}/{}.txt", pl.lit(pl.Series(ids // 1000)).cast(pl.String).str.zfill(4),
                                        pl.lit(pl.Series(ids)).cast(pl.String).str.zfill(8))).to_series(),
            "title": titles,
            "outlet": pl.select(pl.when(pl.Series(no_outlet)).then(None).otherwise(outlet_names.gather(outlet_code))).to_series(),
            "outlet_domain": pl.select(pl.when(pl.Series(no_outlet)).then(None).otherwise(outlet_domains.gather(outlet_code))).to_series(),
            "published": pl.select(pl.when(pl.Series(rng.random(k) < UNDATED_SHARE)).then(None).otherwise(published)).to_series(),
            "language": lang,
            "language_confidence": np.where(mixed, rng.uniform(0.45, 0.8, k), rng.beta(12, 1, k)),
            "mixed_language": mixed,
            "languages": pl.select(pl.when(pl.Series(mixed)).then(pl.concat_list(pl.lit(pl.Series(lang)), pl.lit(pl.Series(other))))
                                   .otherwise(pl.concat_list(pl.lit(pl.Series(lang))))).to_series(),
            "duplicate_of": pl.select(pl.when(pl.Series(dup_of >= 0)).then(
                pl.format("d{}", pl.lit(pl.Series(dup_of)).cast(pl.String).str.zfill(8))).otherwise(None)).to_series(),
            "story_id": pl.select(pl.format("s{}", pl.lit(pl.Series(ids // 50)).cast(pl.String))).to_series(),
        }).with_columns(
            pl.format("https://{}/{}/{}", pl.col("outlet_domain").fill_null("example.org"),
                      pl.col("published").dt.year().cast(pl.String).fill_null("undated"), pl.col("doc_id")).alias("url"),
            pl.when(pl.col("published").is_null()).then(pl.lit("none")).otherwise(pl.lit("field")).alias("date_source"),
        )
        a = (a.join(bodies, on="doc", how="left").join(src_lists, on="doc", how="left")
             .with_columns((pl.col("title") + "\n\n" + pl.col("body").fill_null("")).alias("text"),
                           pl.col("s").fill_null(pl.lit([], dtype=pl.List(pl.String))).alias("cited_sources"))
             .drop("body", "s"))
        mentions = m.select(pl.lit(doc_ids).gather(pl.col("doc")).alias("doc_id"), "start", "end", "surface", "lemma",
                            pl.format("E{}", pl.col("ent").cast(pl.String).str.zfill(6)).alias("entity_id"),
                            pl.lit(ent_type).gather(pl.col("ent")).alias("entity_type"))
        pa_ = out / f".articles-{part:04d}.parquet"
        pm_ = out / f".mentions-{part:04d}.parquet"
        a.drop("doc").write_parquet(pa_)
        mentions.write_parquet(pm_)
        parts_a.append(pa_)
        parts_m.append(pm_)
        total_m += mentions.height
    pl.scan_parquet(parts_a).sink_parquet(out / "articles.parquet", compression="zstd", row_group_size=50_000)
    pl.scan_parquet(parts_m).sink_parquet(out / "mentions.parquet", compression="zstd", row_group_size=100_000)
    for p_ in parts_a + parts_m:
        p_.unlink()
    pl.DataFrame({"entity_id": ent_ids, "name": ent_lat, "entity_type": ent_type,
                  "names": pl.select(pl.concat_list(
                      pl.struct(pl.lit("en").alias("language"), pl.lit(ent_lat).alias("name")),
                      pl.struct(pl.lit("ru").alias("language"), pl.lit(ent_cyr).alias("name")))).to_series()}
                 ).write_parquet(out / "entities.parquet")
    return {"articles": n, "mentions": total_m}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("out", type=Path)
    c.add_argument("--articles", type=int, default=10_000)
    c.add_argument("--seed", type=int, default=1)
    t = sub.add_parser("tables", help="contract tables only (articles/mentions/entities.parquet)")
    t.add_argument("out", type=Path)
    t.add_argument("--articles", type=int, default=100_000)
    t.add_argument("--seed", type=int, default=7)
    s = sub.add_parser("store", help="contract tables, then a store from them through import-tables")
    s.add_argument("store", type=Path)
    s.add_argument("--articles", type=int, default=100_000)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--tables", type=Path, default=None, help="where to keep the tables (default: STORE-tables)")
    args = ap.parse_args()
    if args.cmd == "corpus":
        make_corpus(args.out, args.articles, args.seed)
        print(f"wrote {args.articles} articles to {args.out}")
        return
    import time

    out = args.out if args.cmd == "tables" else (args.tables or args.store.with_name(args.store.name + "-tables"))
    t0 = time.perf_counter()
    res = make_tables(out, args.articles, args.seed)
    print(f"wrote {res['articles']:,} articles, {res['mentions']:,} mentions to {out} in {time.perf_counter() - t0:.1f} s")
    if args.cmd == "store":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from presslens.__main__ import main as cli

        t0 = time.perf_counter()
        code = cli(["import-tables", str(out), "--store", str(args.store)])
        print(f"import-tables: exit {code} in {time.perf_counter() - t0:.1f} s")
        if code:
            raise SystemExit(code)


if __name__ == "__main__":
    main()
