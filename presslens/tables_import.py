"""`python -m presslens import-tables DIR --store STORE`: a store from contract tables
enriched elsewhere (someone else's language detection or NER pipeline).

In:  DIR/articles.parquet and DIR/mentions.parquet (required), DIR/entities.parquet
     (optional), shaped as the store contract in DESIGN.md says.
Out: a new published version of STORE with every derived table the build makes
     (doc_entities, entities when absent, counts, duplicates, files, manifest) and the
     serving index; or a `TableError` naming what is wrong, and nothing written.

Validation (all before anything is written):
- required columns: articles `doc_id`, `text`; mentions `doc_id`, `start`, `end`,
  `surface`, `lemma`, `entity_id`, `entity_type`; entities (when given) `entity_id`;
- every contract column that is present must have the contract's type (a string where a
  date is expected is parsed as YYYY-MM-DD, and a value that does not parse is an error);
- doc_id non-null and unique; every mention's doc_id names an article; offsets satisfy
  0 <= start < end <= len(text).
Stories: when the articles carry a `story_id` column with values, that grouping is kept
(an article without one is its own story) and no story_links are made; otherwise the
articles are grouped into stories as a build groups them (presslens.stories, from scratch:
the text evidence is computed from the text here, ~0.5 ms an article on one core), with
their story_links.
Derived exactly as a build does: mentions starting inside a boilerplate span are not
counted (dropped, like the build never stores them); `n_chars`, `n_mentions`; when the
input has no `duplicate_of` column, copies are found by `dedup_key` (the text with
whitespace collapsed; boilerplate is not cut out here) and the first by (path, record)
is the original; entity names/types/counts through the build's own `_entities_table`.
"""
from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import polars as pl

from presslens import store

REQUIRED = {
    "articles": ("doc_id", "text"),
    "mentions": ("doc_id", "start", "end", "surface", "lemma", "entity_id", "entity_type"),
    "entities": ("entity_id",),
}
SCHEMAS = {"articles": store.ARTICLES_SCHEMA, "mentions": store.MENTIONS_SCHEMA, "entities": store.ENTITIES_SCHEMA}
# How many offending values an error message quotes (enough to find them, short enough to read).
EXAMPLES = 3


class TableError(ValueError):
    """Input tables that do not meet the contract; the message says which and why."""


def _kind(dtype: pl.DataType) -> str:
    if dtype == pl.String or dtype == pl.Categorical or isinstance(dtype, pl.Enum):
        return "string"
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "float"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return "date"
    if isinstance(dtype, (pl.List, pl.Array)):
        return "list"
    if isinstance(dtype, pl.Struct):
        return "struct"
    return str(dtype)


def _compatible(have: pl.DataType, want: pl.DataType) -> bool:
    hk, wk = _kind(have), _kind(want)
    if wk == "float":
        return hk in ("float", "integer")
    if wk == "date":
        return hk in ("date", "string")
    if wk == "list":
        if hk != "list":
            return False
        return _compatible(have.inner, want.inner)  # type: ignore[union-attr]
    if wk == "struct":
        return hk == "struct"
    return hk == wk


def _describe(dtype: pl.DataType) -> str:
    k = _kind(dtype)
    if k == "list":
        return f"list of {_describe(dtype.inner)}"  # type: ignore[union-attr]
    return {"string": "string", "integer": "integer", "float": "number", "date": "date (YYYY-MM-DD)",
            "boolean": "true/false", "struct": "record"}.get(k, k)


def check_schema(table: str, schema: pl.Schema, path: Path) -> None:
    """Raise TableError naming a missing required column or a contract column of the wrong type."""
    missing = [c for c in REQUIRED[table] if c not in schema]
    if missing:
        raise TableError(f"{path.name}: missing required column {', '.join(repr(c) for c in missing)} "
                         f"(the {table} table needs {', '.join(REQUIRED[table])}).")
    for name, want in SCHEMAS[table].items():
        if name in schema and not _compatible(schema[name], want):
            raise TableError(f"{path.name}: column {name!r} is {_describe(schema[name])} ({schema[name]}), "
                             f"the contract says {_describe(want)}.")


def _scan(path: Path) -> pl.LazyFrame:
    try:
        lf = pl.scan_parquet(path)
        lf.collect_schema()
    except Exception as exc:
        raise TableError(f"{path.name}: not a readable Parquet file ({type(exc).__name__}: {exc}).") from exc
    return lf


def _quote(values: list) -> str:
    return ", ".join(repr(v) for v in values[:EXAMPLES])


def _fix_types(lf: pl.LazyFrame, table: str) -> pl.LazyFrame:
    """Cast compatible columns to the contract's types (dates from strings, strictly)."""
    schema = lf.collect_schema()
    exprs = []
    for name, want in SCHEMAS[table].items():
        if name not in schema:
            continue
        if want == pl.Date and _kind(schema[name]) == "string":
            exprs.append(pl.col(name).str.to_date("%Y-%m-%d", strict=False).alias(name))
        elif want == pl.Date and isinstance(schema[name], pl.Datetime):
            exprs.append(pl.col(name).dt.date().alias(name))
        elif _kind(schema[name]) != "struct" and not (isinstance(want, pl.List) and isinstance(want.inner, pl.Struct)):
            exprs.append(pl.col(name).cast(want).alias(name))
    return lf.with_columns(exprs) if exprs else lf


def validate(src: Path) -> dict[str, pl.LazyFrame]:
    """The input tables as LazyFrames with contract types, or TableError (nothing written)."""
    src = Path(src)
    if not src.is_dir():
        raise TableError(f"Not a folder: {src}")
    frames: dict[str, pl.LazyFrame] = {}
    for table in ("articles", "mentions", "entities"):
        path = src / f"{table}.parquet"
        if not path.exists():
            if table == "entities":
                continue
            raise TableError(f"{path} is missing: import-tables needs articles.parquet and mentions.parquet "
                             "(entities.parquet is optional).")
        lf = _scan(path)
        check_schema(table, lf.collect_schema(), path)
        frames[table] = _fix_types(lf, table)

    arts = frames["articles"]
    schema = arts.collect_schema()
    checks = arts.select(
        pl.col("doc_id").is_null().sum().alias("null_ids"),
        (pl.len() - pl.col("doc_id").n_unique()).alias("dup_ids"),
        pl.col("text").is_null().sum().alias("null_text"),
        *([pl.col("published").is_null().sum().alias("null_dates")] if "published" in schema else []),
    ).collect().row(0, named=True)
    if checks["null_ids"]:
        raise TableError(f"articles.parquet: {checks['null_ids']} row(s) have no doc_id (column 'doc_id' must be set).")
    if checks["dup_ids"]:
        dups = arts.group_by("doc_id").len().filter(pl.col("len") > 1).head(EXAMPLES).collect()["doc_id"].to_list()
        raise TableError(f"articles.parquet: doc_id must be unique; repeated: {_quote(dups)}.")
    if checks["null_text"]:
        raise TableError(f"articles.parquet: {checks['null_text']} row(s) have no text (column 'text' must be set).")
    if "published" in schema and _kind(_scan(src / "articles.parquet").collect_schema()["published"]) == "string":
        raw = _scan(src / "articles.parquet").select(pl.col("published").cast(pl.String))
        bad = (raw.with_columns(pl.col("published").str.to_date("%Y-%m-%d", strict=False).alias("parsed"))
               .filter(pl.col("published").is_not_null() & (pl.col("published") != "") & pl.col("parsed").is_null())
               .head(EXAMPLES).collect()["published"].to_list())
        if bad:
            raise TableError(f"articles.parquet: column 'published' has values that are not dates (YYYY-MM-DD): {_quote(bad)}.")

    lengths = arts.select("doc_id", pl.col("text").str.len_chars().alias("n"))
    m = frames["mentions"]
    orphans = m.select("doc_id").join(lengths.select("doc_id"), on="doc_id", how="anti")
    n_orphans = orphans.select(pl.len()).collect().item()
    if n_orphans:
        ex = orphans.unique(maintain_order=True).head(EXAMPLES).collect()["doc_id"].to_list()
        raise TableError(f"mentions.parquet: {n_orphans} mention(s) point at a doc_id that is not in "
                         f"articles.parquet, e.g. {_quote(ex)}.")
    bad = (m.select("doc_id", "start", "end").join(lengths, on="doc_id", how="inner")
           .filter(pl.col("start").is_null() | pl.col("end").is_null() | (pl.col("start") < 0)
                   | (pl.col("end") <= pl.col("start")) | (pl.col("end") > pl.col("n"))))
    n_bad = bad.select(pl.len()).collect().item()
    if n_bad:
        ex = [f"{r['doc_id']} [{r['start']}, {r['end']})" for r in bad.head(EXAMPLES).collect().to_dicts()]
        raise TableError(f"mentions.parquet: {n_bad} mention(s) have offsets outside their article's text "
                         f"(need 0 <= start < end <= len(text), in characters), e.g. {', '.join(ex)}.")
    nulls = m.select(pl.col("entity_id").is_null().sum()).collect().item()
    if nulls:
        raise TableError(f"mentions.parquet: {nulls} mention(s) have no entity_id.")
    if "entities" in frames:
        n_null = frames["entities"].select(pl.col("entity_id").is_null().sum()).collect().item()
        if n_null:
            raise TableError(f"entities.parquet: {n_null} row(s) have no entity_id.")
    return frames


def _sha1(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _not_in_boilerplate(mentions: pl.LazyFrame, articles: pl.LazyFrame) -> pl.LazyFrame:
    """Mentions whose start is not inside a boilerplate span of their article."""
    spans = (articles.select("doc_id", pl.col("boilerplate").alias("span")).explode("span")
             .filter(pl.col("span").list.len() >= 2)
             .select("doc_id", pl.col("span").list.get(0).alias("bs"), pl.col("span").list.get(1).alias("be")))
    inside = (mentions.select("doc_id", "start").join(spans, on="doc_id", how="inner")
              .filter((pl.col("start") >= pl.col("bs")) & (pl.col("start") < pl.col("be")))
              .select("doc_id", "start").unique())
    return mentions.join(inside, on=["doc_id", "start"], how="anti")


def import_tables(src: str | Path, store_dir: str | Path) -> dict:
    """Validate the contract tables in `src` and publish them as a new version of the
    store at `store_dir` (derived tables, full-text and serving index included); returns the
    manifest with timings. Raises TableError before writing anything when invalid."""
    from presslens import build as b

    t0 = time.perf_counter()
    src, store_dir = Path(src), Path(store_dir)
    frames = validate(src)
    t_valid = time.perf_counter() - t0
    given = frames["articles"].collect_schema().names()
    inputs = sorted(p for p in src.glob("*.parquet") if p.stem in ("articles", "mentions", "entities"))
    version_hash = hashlib.sha1(store.PIPELINE_VERSION.encode())
    for p in inputs:
        version_hash.update(f"{p.name}:{_sha1(p)}".encode())
    tmp = store.begin(store_dir)
    try:
        arts = store.conform_lazy(frames["articles"], "articles").with_columns(
            pl.coalesce("path", "doc_id").alias("path"),
            pl.coalesce("n_chars", pl.col("text").str.len_chars().cast(pl.Int64)).alias("n_chars"),
            pl.col("boilerplate").fill_null(pl.lit([], dtype=pl.List(store.SPAN))),
            pl.col("cited_sources").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.coalesce("dedup_key", pl.col("text").str.replace_all(r"\s+", " ").str.strip_chars()
                        .hash(seed=0).cast(pl.String)).alias("dedup_key"),
        )
        mentions = _not_in_boilerplate(store.conform_lazy(frames["mentions"], "mentions"), arts)
        per_doc = mentions.group_by("doc_id").agg(pl.len().cast(pl.Int64).alias("_n"))
        arts = (arts.join(per_doc, on="doc_id", how="left")
                .with_columns(pl.col("_n").fill_null(0).alias("n_mentions")).drop("_n"))
        if "duplicate_of" not in given:
            keys = (arts.select("doc_id", "path", "record", "dedup_key").sort(["path", "record"], nulls_last=False)
                    .with_columns(pl.col("doc_id").first().over("dedup_key").alias("first"))
                    .select("doc_id", pl.when(pl.col("first") != pl.col("doc_id")).then("first").alias("dup")))
            arts = (arts.join(keys, on="doc_id", how="left")
                    .with_columns(pl.col("dup").alias("duplicate_of")).drop("dup"))
        # stories: the input's own grouping when its story_id column holds any value (an
        # article without one is its own story); else presslens groups them (below), as a build does
        own_stories = "story_id" in given and frames["articles"].select(pl.col("story_id").is_not_null().any()).collect().item()
        if own_stories:
            arts = arts.with_columns(pl.coalesce("story_id", "doc_id").alias("story_id"))
        arts = arts.sort(["path", "record"], nulls_last=False)
        # written under another name first when the story step is to write articles.parquet
        # with the story ids (it reads these rows meanwhile)
        first_name = "articles.parquet" if own_stories else "articles.unstoried.parquet"
        store.write_table(tmp, "articles", arts, filename=first_name)
        articles_final = pl.scan_parquet(tmp / first_name)
        # the full-text index, as a build makes it (reusing the previous version's)
        from presslens import search

        prev = store.current(store_dir)
        t_search = time.perf_counter()
        search.build(store_dir, tmp, articles_final, prev.directory if prev is not None else None)
        search_seconds = time.perf_counter() - t_search
        store.write_table(tmp, "mentions", mentions.sort(["doc_id", "start"]))
        mentions_final = pl.scan_parquet(tmp / "mentions.parquet")
        store.write_table(tmp, "doc_entities", b.doc_entities_of(mentions_final))
        story_summary: dict = {}
        if not own_stories:
            # grouped from scratch (no previous state: the input's doc ids are its own, so an
            # id seen before may now name another text); the story evidence is made from the
            # text, which the build's workers would have done
            from presslens import stories

            docs = articles_final.select("doc_id", "duplicate_of", stories.story_key()).collect()
            story_summary = b._group_stories(tmp, None, articles_final, docs)
            (tmp / first_name).unlink()
            articles_final = pl.scan_parquet(tmp / "articles.parquet")
        derived = b._entities_table(mentions_final, articles_final)
        if "entities" in frames:
            mine = store.conform_lazy(frames["entities"], "entities").collect().drop("mention_count", "doc_count")
            counts = derived.select("entity_id", "mention_count", "doc_count", pl.col("name").alias("_name"),
                                    pl.col("entity_type").alias("_type"), pl.col("names").alias("_names"))
            ents = (mine.join(counts, on="entity_id", how="full", coalesce=True)
                    .with_columns(pl.coalesce("name", "_name").alias("name"),
                                  pl.coalesce("entity_type", "_type").alias("entity_type"),
                                  pl.when(pl.col("names").list.len() > 0).then("names").otherwise("_names").alias("names"),
                                  pl.col("mention_count").fill_null(0), pl.col("doc_count").fill_null(0))
                    .drop("_name", "_type", "_names").sort(["mention_count", "entity_id"], descending=[True, False]))
        else:
            ents = derived
        store.write_table(tmp, "entities", ents)
        store.write_table(tmp, "rejects", store.empty("rejects"))
        files = pl.DataFrame([{"path": p.name, "size": p.stat().st_size, "mtime_ns": p.stat().st_mtime_ns,
                               "sha1": "", "key": ""} for p in inputs], schema=store.FILES_SCHEMA)
        store.write_table(tmp, "files", files)
        t_tables = time.perf_counter() - t0
        index_seconds = b._build_index(tmp)
        stats = articles_final.select(pl.len().alias("articles"),
                                      pl.col("duplicate_of").is_not_null().sum().alias("duplicates")).collect().row(0, named=True)
        by_lang = dict(articles_final.group_by("language").agg(pl.len()).sort("len", descending=True).collect().iter_rows())
        manifest = {
            "version": version_hash.hexdigest()[:12],
            "corpus": f"imported:{src.resolve()}",
            "sidecar_mtime_ns": None,
            "files": len(inputs), "processed_files": len(inputs), "reused_files": 0,
            "articles": stats["articles"], "duplicates": stats["duplicates"],
            "by_language": {str(k): v for k, v in by_lang.items()},
            "rejects": 0,
            "mentions": mentions_final.select(pl.len()).collect().item(),
            "validate_seconds": round(t_valid, 3),
            "tables_seconds": round(t_tables, 3),
            "index_seconds": index_seconds,
            "search_seconds": round(search_seconds, 3),
            **story_summary,
        }
        manifest["seconds"] = round(time.perf_counter() - t0, 3)
        info = store.publish(store_dir, tmp, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dict(info.manifest, store=str(info.directory))
