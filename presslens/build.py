"""Build a store from a corpus folder: ingest -> enrich -> Parquet, incremental and parallel.

In:  a corpus directory (any mix of txt/html/jsonl/json/csv/parquet, optional metadata.csv).
Out: a new published version of the store (presslens.store) and a summary dict.

How it scales:
- Each input file is keyed by its content hash, its sidecar row and PIPELINE_VERSION. A file
  whose size and mtime are unchanged is not even re-hashed; a file whose key is unchanged
  keeps its rows from the previous version. Only new or changed files are processed.
- Changed files are processed in worker processes (one per core) in chunks; each chunk's
  rows are written to a Parquet shard in the version directory being built, so the parent
  never holds the corpus text in memory.
- The final tables are assembled lazily from the shards and the previous version's reused
  rows, then the version is published atomically (presslens.store.publish).
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable

import polars as pl

from presslens import ingest, search, store
from presslens.records import Reject

Progress = Callable[[int, int], None]

# Files per worker task: large enough to amortise process round trips, small enough that
# the progress bar moves and a worker's shard stays a few MB.
CHUNK_FILES = 200

# Below this many files to process, do it in this process: starting workers and loading
# the NLP models in each costs more than it saves.
PARALLEL_MIN_FILES = 40


def _sha1_file(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sidecar_hash(row: dict | None) -> str:
    if not row:
        return "-"
    return hashlib.sha1(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()[:12]


def doc_id_for(path: str, record: int | None, text: str) -> str:
    """Stable id: a hash of the text and where it sits (path, record), so two copies of the
    same text in two files get two ids (one points to the other through duplicate_of)."""
    h = hashlib.sha1(f"{path}\0{record if record is not None else ''}\0".encode())
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


def dedup_key(text: str, boilerplate: list[list[int]]) -> str:
    """Hash of the text with boilerplate spans removed and all whitespace collapsed."""
    parts, pos = [], 0
    for s, e in sorted(boilerplate):
        parts.append(text[pos:s])
        pos = max(pos, e)
    parts.append(text[pos:])
    core = " ".join("".join(parts).split())
    return hashlib.sha1(core.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# ---------------------------------------------------------------- worker side

def _process_chunk(args: tuple[str, list[tuple[str, str, dict | None]], str, int]) -> dict:
    """Worker: read and enrich a list of files; write their rows to Parquet shards.

    In: (corpus root, [(abs path, relpath, sidecar row)], shard dir, chunk number).
    Out: {"files": n, "articles": n, "rejects": [Reject as dict], "errors": [...]}.
    """
    from presslens.enrich import enrich

    root, items, shard_dir, chunk_no = args
    articles: list[dict] = []
    mentions: list[dict] = []
    rejects: list[dict] = []
    for abs_path, rel, side in items:
        try:
            records, rej = ingest.read(Path(abs_path), rel, side)
        except Exception as exc:  # a reader bug must not stop the build
            records, rej = [], [Reject(rel, f"Could not be read: {type(exc).__name__}: {exc}")]
        rejects.extend({"path": r.path, "record": r.record, "reason": r.reason} for r in rej)
        for rec in records:
            try:
                row, ments = enrich(rec)
            except Exception as exc:
                rejects.append({"path": rec.path, "record": rec.record,
                                "reason": f"Could not be analysed ({type(exc).__name__}: {exc})."})
                continue
            did = doc_id_for(rec.path, rec.record, rec.text)
            row["doc_id"] = did
            row["dedup_key"] = dedup_key(rec.text, row["boilerplate"])
            articles.append(row)
            for m in ments:
                mentions.append({"doc_id": did, "start": m.start, "end": m.end, "surface": m.surface,
                                 "lemma": m.lemma, "entity_id": m.entity_id, "entity_type": m.entity_type,
                                 "name": m.name})
    if articles:
        # the text-only story evidence, computed here in parallel rather than in the serial hook
        from presslens import stories

        evidence, text_minhash = stories.text_evidence([a["text"] for a in articles],
                                                       [a["boilerplate"] for a in articles])
        for a, ev, sig in zip(articles, evidence, text_minhash.tolist()):
            a["story_evidence"], a["text_minhash"] = ev, sig
    shard = Path(shard_dir)
    if articles:
        store.conform(pl.DataFrame(articles, infer_schema_length=None), "articles").write_parquet(
            shard / f"articles-{chunk_no:06d}.parquet")
    if mentions:
        store.conform(pl.DataFrame(mentions, infer_schema_length=None), "mentions").write_parquet(
            shard / f"mentions-{chunk_no:06d}.parquet")
    return {"files": len(items), "articles": len(articles), "rejects": rejects}


# ---------------------------------------------------------------- planning

def _previous_files(prev: store.StoreInfo | None) -> dict[str, dict]:
    if prev is None:
        return {}
    df = pl.read_parquet(store.table_path(prev, "files"))
    return {r["path"]: r for r in df.iter_rows(named=True)}


def _plan(corpus: Path, prev: store.StoreInfo | None):
    """Decide, per input file, whether its rows can be reused; returns (files table rows,
    files to process as (abs, rel, sidecar row), reused relpaths, sidecar rejects,
    number of files in the previous version)."""
    sidecar, side_rejects = ingest.load_sidecar(corpus)
    old = _previous_files(prev)
    rows, todo, reused = [], [], []
    for p in ingest.iter_files(corpus, side_rejects):  # links leaving the corpus -> rejects
        rel = p.relative_to(corpus).as_posix()
        side = sidecar.get(rel)
        try:
            st = p.stat()
            size, mtime = st.st_size, st.st_mtime_ns
        except OSError:
            size, mtime = -1, -1
        sh = _sidecar_hash(side)
        o = old.get(rel)
        sha = None
        if o and o["size"] == size and o["mtime_ns"] == mtime and o["key"].endswith(f":{sh}:{store.PIPELINE_VERSION}"):
            sha = o["sha1"]
        elif 0 <= size <= ingest.size_limit(p):
            try:
                sha = _sha1_file(p)
            except OSError:
                sha = None
        if sha is None:
            sha = f"unhashed-{size}-{mtime}"
        key = f"{sha}:{sh}:{store.PIPELINE_VERSION}"
        rows.append({"path": rel, "size": size, "mtime_ns": mtime, "sha1": sha, "key": key})
        if o and o["key"] == key and not sha.startswith("unhashed"):
            reused.append(rel)
        else:
            todo.append((str(p), rel, side))
    return rows, todo, reused, side_rejects, len(old)


def is_stale(corpus: str | os.PathLike, store_dir: str | os.PathLike) -> bool:
    """True when the store is missing or any input file was added, removed or modified
    (by size or mtime, or the sidecar changed) since it was built. Only stats files."""
    corpus, prev = Path(corpus), store.current(store_dir)
    if prev is None:
        return True
    if prev.manifest.get("pipeline_version") != store.PIPELINE_VERSION:
        return True
    old = _previous_files(prev)
    seen = 0
    for p in ingest.iter_files(corpus):
        rel = p.relative_to(corpus).as_posix()
        o = old.get(rel)
        try:
            st = p.stat()
        except OSError:
            return True
        if o is None or o["size"] != st.st_size or o["mtime_ns"] != st.st_mtime_ns:
            return True
        seen += 1
    if seen != len(old):
        return True
    side = corpus / "metadata.csv"
    side_mtime = side.stat().st_mtime_ns if side.exists() else None
    return prev.manifest.get("sidecar_mtime_ns") != side_mtime


# ---------------------------------------------------------------- assembly

def _entities_table(mentions: pl.LazyFrame, articles: pl.LazyFrame) -> pl.DataFrame:
    """One row per entity: display name (gazetteer's English name, else the most frequent
    base form), type, names per language, mention and article counts (duplicates excluded)."""
    from presslens.enrich import entities as ent

    originals = articles.filter(pl.col("duplicate_of").is_null()).select("doc_id", "language")
    m = mentions.join(originals, on="doc_id", how="inner")
    counts = m.group_by("entity_id").agg(
        pl.len().cast(pl.Int64).alias("mention_count"),
        pl.col("doc_id").n_unique().cast(pl.Int64).alias("doc_count"),
        pl.col("entity_type").mode().first().alias("entity_type"),
    )
    by_lang = (
        m.group_by("entity_id", "language", "lemma").agg(pl.len().alias("n"))
        .sort(["entity_id", "language", "n", "lemma"], descending=[False, False, True, False])
        .group_by("entity_id", "language", maintain_order=True).agg(pl.col("lemma").first().alias("name"))
    )
    seen_names = by_lang.group_by("entity_id").agg(
        pl.struct(pl.col("language"), pl.col("name")).alias("seen_names")
    )
    top_lemma = (
        m.group_by("entity_id", pl.coalesce("name", "lemma").alias("lemma")).agg(pl.len().alias("n"))
        .sort(["entity_id", "n", "lemma"], descending=[False, True, False])
        .group_by("entity_id", maintain_order=True).agg(pl.col("lemma").first().alias("top_lemma"))
    )
    out = counts.join(seen_names, on="entity_id", how="left").join(top_lemma, on="entity_id", how="left").collect()
    catalog = ent.entity_catalog()
    if catalog:
        cat = pl.DataFrame(
            [{"entity_id": c["entity_id"], "cat_name": c.get("name"), "cat_type": c.get("entity_type"),
              "cat_names": c.get("names") or []} for c in catalog],
            schema={"entity_id": pl.String, "cat_name": pl.String, "cat_type": pl.String,
                    "cat_names": pl.List(pl.Struct({"language": pl.String, "name": pl.String}))},
        )
        out = out.join(cat, on="entity_id", how="left")
    else:
        out = out.with_columns(pl.lit(None, pl.String).alias("cat_name"), pl.lit(None, pl.String).alias("cat_type"),
                               pl.lit(None, pl.List(pl.Struct({"language": pl.String, "name": pl.String}))).alias("cat_names"))
    from presslens.translit import with_latin_names  # Cyrillic-only names: Latin for display

    return with_latin_names(out.select(
        "entity_id",
        pl.coalesce("cat_name", "top_lemma").alias("name"),
        pl.coalesce("cat_type", "entity_type").alias("entity_type"),
        pl.when(pl.col("cat_names").list.len() > 0).then("cat_names").otherwise("seen_names").alias("names"),
        "mention_count",
        "doc_count",
    ).sort(["mention_count", "entity_id"], descending=[True, False]))


# Articles read per batch when computing story features: bounds the text held in memory.
STORY_BATCH = 20_000


def _group_stories(tmp: Path, prev: store.StoreInfo | None) -> dict:
    """Post-build hook: group the articles of the version being written into stories.

    Reads tmp/articles.parquet and tmp/doc_entities.parquet, reuses the previous version's
    story state (only new articles are hashed; presslens.stories), writes story_links and the
    state into `tmp`, and rewrites articles.parquet with its story_id column. Returns the
    manifest fields (stories, story_links, story_seconds). The text-only evidence was computed
    by the workers (story_evidence, text_minhash), so no article text is read here. If grouping fails, every article
    is its own story and the manifest says why: a build never fails because of it.
    """
    import pyarrow.parquet as pq

    from presslens import stories

    t0 = time.perf_counter()
    art_path = tmp / "articles.parquet"
    try:
        previous = stories.StoryState.load(prev.directory) if prev is not None else None
        docs = pl.read_parquet(art_path, columns=["doc_id", "duplicate_of"])
        known = previous.signatures.select("doc_id") if previous is not None else pl.DataFrame(schema={"doc_id": pl.String})
        todo = docs.filter(pl.col("duplicate_of").is_null()).join(known, on="doc_id", how="anti")["doc_id"]
        feats, sigs = [], []
        if len(todo):
            todo_set = todo.implode()
            doc_entities = pl.scan_parquet(tmp / "doc_entities.parquet")
            cols = ["doc_id", "language", "published", "cited_sources", "story_evidence", "text_minhash"]
            # rows without the workers' evidence (tables imported from elsewhere): read their text
            if pl.scan_parquet(art_path).select(pl.col("story_evidence").is_null().any()).collect().item():
                cols += ["text", "boilerplate"]
            for batch in pq.ParquetFile(art_path).iter_batches(batch_size=STORY_BATCH, columns=cols):
                part = pl.from_arrow(batch).filter(pl.col("doc_id").is_in(todo_set))
                if part.height:
                    de = doc_entities.join(part.select("doc_id").lazy(), on="doc_id", how="semi").collect()
                    f, s = stories.article_features(part, de)
                    feats.append(f)
                    sigs.append(s)
        new_feats = pl.concat(feats) if feats else pl.DataFrame(schema=stories.FEATURES_SCHEMA)
        new_sigs = pl.concat(sigs) if sigs else pl.DataFrame(schema=stories.SIGNATURES_SCHEMA)
        story_ids, links, state = stories.group_features(docs, new_feats, new_sigs,
                                                         previous or stories.empty_state())
        state.save(tmp)
        error = None
    except Exception as exc:  # grouping must never lose a build
        story_ids = pl.read_parquet(art_path, columns=["doc_id"]).with_columns(pl.col("doc_id").alias("story_id"))
        links = store.empty("story_links")
        error = f"{type(exc).__name__}: {exc}"
    store.write_table(tmp, "story_links", links)
    out = tmp / "articles.stories.parquet"
    store.write_table(tmp, "articles", pl.scan_parquet(art_path).drop("story_id").join(
        story_ids.lazy(), on="doc_id", how="left", maintain_order="left"), filename=out.name)
    os.replace(out, art_path)
    summary = {"stories": story_ids["story_id"].n_unique(), "story_links": links.height,
               "story_seconds": round(time.perf_counter() - t0, 3)}
    if error:
        summary["stories_error"] = error
    return summary


def build(corpus: str | os.PathLike, store_dir: str | os.PathLike, progress: Progress | None = None,
          workers: int | None = None) -> dict:
    """Build (or incrementally rebuild) the store for `corpus`; returns a summary dict."""
    t0 = time.perf_counter()
    corpus, store_dir = Path(corpus), Path(store_dir)
    if not corpus.is_dir():
        raise FileNotFoundError(f"Corpus folder not found: {corpus}")
    prev = store.current(store_dir)
    if prev is not None and prev.manifest.get("pipeline_version") != store.PIPELINE_VERSION:
        prev = None  # enrichment changed: every file is processed again
    file_rows, todo, reused, side_rejects, n_old = _plan(corpus, prev)
    side = corpus / "metadata.csv"
    side_mtime = side.stat().st_mtime_ns if side.exists() else None
    if (prev is not None and not todo and len(reused) == n_old
            and prev.manifest.get("sidecar_mtime_ns") == side_mtime):
        if progress:
            progress(0, 0)
        return dict(prev.manifest, store=str(prev.directory), processed_files=0, reused_files=len(reused),
                    seconds=round(time.perf_counter() - t0, 3))
    tmp = store.begin(store_dir)
    shards = tmp / "shards"
    shards.mkdir()
    try:
        rejects: list[dict] = [{"path": r.path, "record": r.record, "reason": r.reason} for r in side_rejects]
        chunks = [todo[i:i + CHUNK_FILES] for i in range(0, len(todo), CHUNK_FILES)]
        total, done = len(todo), 0
        if progress:
            progress(0, total)
        n_workers = workers or os.cpu_count() or 1
        if len(todo) < PARALLEL_MIN_FILES or n_workers == 1:
            # Small chunks in-process so the progress bar moves file by file.
            for i, item in enumerate(todo):
                res = _process_chunk((str(corpus), [item], str(shards), i))
                rejects.extend(res["rejects"])
                done += 1
                if progress:
                    progress(done, total)
        else:
            with ProcessPoolExecutor(max_workers=n_workers, mp_context=mp.get_context("spawn")) as pool:
                futs = {pool.submit(_process_chunk, (str(corpus), ch, str(shards), i)): len(ch)
                        for i, ch in enumerate(chunks)}
                for fut in as_completed(futs):
                    res = fut.result()
                    rejects.extend(res["rejects"])
                    done += futs[fut]
                    if progress:
                        progress(done, total)

        # Old rows for reused files.
        article_parts: list[pl.LazyFrame] = []
        mention_parts: list[pl.LazyFrame] = []
        reuse_df = pl.DataFrame({"path": reused}, schema={"path": pl.String})
        if prev is not None and reused:
            old_articles = store.scan(prev, "articles").join(reuse_df.lazy(), on="path", how="semi")
            article_parts.append(store.conform_lazy(old_articles, "articles").drop("duplicate_of"))
            old_ids = old_articles.select("doc_id")
            mention_parts.append(store.scan(prev, "mentions").join(old_ids, on="doc_id", how="semi"))
            old_rejects = pl.read_parquet(store.table_path(prev, "rejects")).join(reuse_df, on="path", how="semi")
            rejects.extend(old_rejects.to_dicts())
        if any(shards.glob("articles-*.parquet")):
            article_parts.append(pl.scan_parquet(shards / "articles-*.parquet").drop("duplicate_of"))
        if any(shards.glob("mentions-*.parquet")):
            mention_parts.append(pl.scan_parquet(shards / "mentions-*.parquet").select(list(store.MENTIONS_SCHEMA)))

        if article_parts:
            articles = pl.concat([store.conform_lazy(p.with_columns(pl.lit(None, pl.String).alias("duplicate_of")),
                                                     "articles") for p in article_parts], how="vertical_relaxed")
        else:
            articles = store.empty("articles").lazy()
        # duplicate_of: the first copy (by path, record) of each dedup key.
        keys = (articles.select("doc_id", "path", "record", "dedup_key").sort(["path", "record"], nulls_last=False)
                .with_columns(pl.col("doc_id").first().over("dedup_key").alias("first"))
                .select("doc_id", pl.when(pl.col("first") != pl.col("doc_id")).then("first").alias("dup"))
                .collect())
        articles = (articles.join(keys.lazy(), on="doc_id", how="left")
                    .with_columns(pl.col("dup").alias("duplicate_of")).drop("dup")
                    .sort(["path", "record"], nulls_last=False))
        store.write_table(tmp, "articles", articles)
        articles_final = pl.scan_parquet(tmp / "articles.parquet")
        # --- full-text index (presslens.search): reuses the previous version's index ---
        search.build(store_dir, tmp, articles_final, prev.directory if prev is not None else None)
        if mention_parts:
            mentions = pl.concat([p.select(list(store.MENTIONS_SCHEMA)) for p in mention_parts], how="vertical_relaxed")
        else:
            mentions = store.empty("mentions").lazy()
        store.write_table(tmp, "mentions", mentions.sort(["doc_id", "start"]))
        mentions_final = pl.scan_parquet(tmp / "mentions.parquet")
        store.write_table(tmp, "doc_entities", mentions_final.group_by("doc_id", "entity_id").agg(
            pl.len().cast(pl.UInt32).alias("mentions")).sort(["entity_id", "doc_id"]))
        store.write_table(tmp, "entities", _entities_table(mentions_final, articles_final))
        story_summary = _group_stories(tmp, prev)
        rejects_df = store.conform(pl.DataFrame(rejects, schema=store.REJECTS_SCHEMA), "rejects").sort(
            ["path", "record"], nulls_last=False)
        store.write_table(tmp, "rejects", rejects_df)
        files_df = pl.DataFrame(file_rows, schema=store.FILES_SCHEMA)
        store.write_table(tmp, "files", files_df)
        shutil.rmtree(shards, ignore_errors=True)

        stats = articles_final.select(
            pl.len().alias("articles"),
            pl.col("duplicate_of").is_not_null().sum().alias("duplicates"),
        ).collect().row(0, named=True)
        by_lang = dict(articles_final.group_by("language").agg(pl.len()).sort("len", descending=True)
                       .collect().iter_rows())
        n_mentions = mentions_final.select(pl.len()).collect().item()
        manifest = {
            "version": store.corpus_version(files_df),
            "corpus": str(corpus.resolve()),
            "sidecar_mtime_ns": side_mtime,
            "files": len(file_rows),
            "processed_files": len(todo),
            "reused_files": len(reused),
            "articles": stats["articles"],
            "duplicates": stats["duplicates"],
            "by_language": {str(k): v for k, v in by_lang.items()},
            "rejects": rejects_df.height,
            "mentions": n_mentions,
            **story_summary,
        }
        manifest["index_seconds"] = _build_index(tmp)
        manifest["seconds"] = round(time.perf_counter() - t0, 3)
        info = store.publish(store_dir, tmp, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dict(info.manifest, store=str(info.directory))


def _build_index(version_dir: Path) -> float:
    """The serving index (presslens.index) of a fully written version; returns seconds."""
    from presslens import index

    return float(index.build(version_dir)["seconds"])


def format_summary(summary: dict, rejects: pl.DataFrame | None = None, limit: int = 20) -> str:
    """The human-readable build summary printed by the CLI."""
    langs = ", ".join(f"{k} {v}" for k, v in summary["by_language"].items()) or "none"
    lines = [
        f"presslens store {summary['version']} at {summary['store']}",
        f"  files: {summary['files']} ({summary['processed_files']} processed, {summary['reused_files']} unchanged)",
        f"  articles: {summary['articles']} (duplicates: {summary['duplicates']})",
        f"  by language: {langs}",
        f"  entity mentions: {summary['mentions']}",
        f"  rejected: {summary['rejects']}",
        *([f"  stories: {summary['stories']} ({summary.get('story_links', 0)} links between articles)"]
          if "stories" in summary else []),
        *([f"  story grouping failed, every article is its own story: {summary['stories_error']}"]
          if summary.get("stories_error") else []),
        f"  time: {summary['seconds']:.2f} s",
    ]
    if rejects is not None and rejects.height:
        for r in rejects.head(limit).iter_rows(named=True):
            where = r["path"] + (f" (record {r['record']})" if r["record"] is not None else "")
            lines.append(f"    rejected {where}: {r['reason']}")
        if rejects.height > limit:
            lines.append(f"    ... and {rejects.height - limit} more (python -m presslens rejects)")
    return "\n".join(lines)
