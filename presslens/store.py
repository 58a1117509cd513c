"""The Parquet store: the one place that knows the schema and the on-disk layout.

Layout of a store directory::

    STORE/CURRENT              one line: the name of the live version directory
    STORE/v-<version>/         articles.parquet, mentions.parquet, entities.parquet,
                               rejects.parquet, doc_entities.parquet, files.parquet,
                               manifest.json (RETIRED once replaced)

A build writes a complete new version directory under a temporary name, renames it into
place and then replaces CURRENT with os.replace, so a reader either sees the old tables
or the new ones, never half of each. Readers resolve CURRENT once per load (the app: once
per page run) and read only that version. A replaced version is kept RETIRED_GRACE_S
after it stopped being CURRENT, so a run that resolved it just before a rebuild (or
several) finishes on it.

Tables (see ../shared/DESIGN.md for the contract; extra columns are ours):
- articles: one row per ingested document. `text` is the decoded text verbatim.
- mentions: one row per counted entity mention (boilerplate mentions are not stored).
- entities: one row per canonical entity with names per language and counts.
- rejects: one row per input that could not be ingested.
- doc_entities: pre-aggregated (doc_id, entity_id, mentions) for fast filtered counts.
- files: one row per input file with size, mtime and hash, for incremental rebuilds.
- story_links: why two articles share a story_id (shared entities, sources, figures, dates);
  after an incremental build a base file plus a delta and the base rows dropped (scan_story_links).
  story_signatures/story_features.parquet next to it are the grouping's incremental state.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

# Bump when the enrichment output changes, so incremental builds redo every file.
PIPELINE_VERSION = "11"  # 11: a results line (Спартак 2 ЦСКА 1) is cut into its team names

SPAN = pl.List(pl.Int64)

ARTICLES_SCHEMA: dict[str, pl.DataType] = {
    "doc_id": pl.String,
    "path": pl.String,
    "record": pl.Int64,
    "text": pl.String,
    "title": pl.String,
    "url": pl.String,
    "outlet": pl.String,
    "outlet_domain": pl.String,
    "outlet_source": pl.String,
    "outlet_evidence": pl.String,
    "published": pl.Date,
    "date_source": pl.String,
    "date_evidence": pl.String,
    "language": pl.String,
    "language_confidence": pl.Float64,
    "mixed_language": pl.Boolean,
    "languages": pl.List(pl.String),
    "paragraph_languages": pl.List(
        pl.Struct({"start": pl.Int64, "end": pl.Int64, "language": pl.String, "confidence": pl.Float64})
    ),
    "boilerplate": pl.List(SPAN),
    "cited_sources": pl.List(pl.String),
    "cited_spans": pl.List(pl.Struct({"name": pl.String, "start": pl.Int64, "end": pl.Int64, "evidence": pl.String})),
    "duplicate_of": pl.String,
    # sha1 of the text with boilerplate removed and whitespace collapsed: equal key = duplicate
    "dedup_key": pl.String,
    "encoding": pl.String,
    "n_chars": pl.Int64,
    "n_mentions": pl.Int64,
    # articles reporting the same event, across languages, share it (presslens.stories);
    # named after the smallest story key of the story's originals (stories.story_key: the
    # article's path and record; 16 hex digits of its hash), so an edit of the texts keeps it
    "story_id": pl.String,
    # the text-only story evidence, computed by the build workers (presslens.stories.text_evidence):
    # figures and dates written in the text ("n:230000", "d:07-25", "ln:"/"ld:" in the lead),
    # space-separated (no item holds a space): ~40 items an article, and as a list of strings it
    # cost ~70 ms of the 10k bench store's ~220 ms articles write, every rebuild (one string:
    # ~30 ms); tables written before round 20 hold a list, joined when read (conform)
    "story_evidence": pl.String,
    # MinHash of the text's word 5-gram shingles (presslens.stories.TEXT_PERM values)
    "text_minhash": pl.Array(pl.UInt32, 32),
}

MENTIONS_SCHEMA: dict[str, pl.DataType] = {
    "doc_id": pl.String,
    "start": pl.Int64,
    "end": pl.Int64,
    "surface": pl.String,
    "lemma": pl.String,
    "entity_id": pl.String,
    "entity_type": pl.String,
    # the extractor's display name for the entity (full name even for a short form like Кім)
    "name": pl.String,
}

ENTITIES_SCHEMA: dict[str, pl.DataType] = {
    "entity_id": pl.String,
    "name": pl.String,
    "entity_type": pl.String,
    "names": pl.List(pl.Struct({"language": pl.String, "name": pl.String})),
    "mention_count": pl.Int64,
    "doc_count": pl.Int64,
}

REJECTS_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.String,
    "record": pl.Int64,
    "reason": pl.String,
}

DOC_ENTITIES_SCHEMA: dict[str, pl.DataType] = {
    "doc_id": pl.String,
    "entity_id": pl.String,
    "mentions": pl.UInt32,
}

FILES_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.String,
    "size": pl.Int64,
    "mtime_ns": pl.Int64,
    "sha1": pl.String,
    "key": pl.String,  # sha1 + sidecar row + pipeline version: equal key -> reuse old rows
}

# Why two articles were put in one story: one row per link (presslens.stories).
STORY_LINKS_SCHEMA: dict[str, pl.DataType] = {
    "doc_a": pl.String,  # doc_a < doc_b
    "doc_b": pl.String,
    "score": pl.Float64,  # the pair model's probability of one event (the rules: IDF-weighted cosine), or the text similarity of near-duplicates
    "text_similarity": pl.Float64,  # estimated Jaccard of word 5-gram shingles
    "reason": pl.String,  # near-duplicate | duplicate | shared evidence
    "days_apart": pl.Int64,  # null when either date is unknown
    "shared_entities": pl.List(pl.String),  # entity ids
    "shared_sources": pl.List(pl.String),  # cited sources, case-folded
    "shared_numbers": pl.List(pl.String),  # normalised figures: 230000
    "shared_dates": pl.List(pl.String),  # calendar dates written in both texts: MM-DD
    # figures (n:), dates (d:) and words (w:) both titles/leads give, space-separated (none of
    # them holds a space): one string, not a list, as it is the longest evidence (~10 items a
    # link) and a list of strings costs ~2x to write, read and sort (an incremental build
    # rewrites the whole table)
    "shared_lead": pl.String,
    # the story both articles are in (null for a link between two stories); the table is
    # sorted by it, so reading one story's links skips the other row groups
    "story_id": pl.String,
}

TABLES = {
    "articles": ARTICLES_SCHEMA,
    "mentions": MENTIONS_SCHEMA,
    "entities": ENTITIES_SCHEMA,
    "rejects": REJECTS_SCHEMA,
    "doc_entities": DOC_ENTITIES_SCHEMA,
    "files": FILES_SCHEMA,
    "story_links": STORY_LINKS_SCHEMA,
}

# Columns the dashboard needs for lists and charts: everything but the article text.
ARTICLE_LIST_COLUMNS = [c for c in ARTICLES_SCHEMA
                        if c not in ("text", "paragraph_languages", "cited_spans", "story_evidence", "text_minhash")]


def empty(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=TABLES[table])


def _cast(name: str, have: pl.DataType, dtype: pl.DataType) -> pl.Expr:
    """A column cast to its schema type; a list of strings held as a space-separated string
    (articles.story_evidence: a list in tables written before round 20) is joined."""
    if dtype == pl.String and isinstance(have, pl.List):
        return pl.col(name).cast(pl.List(pl.String)).list.join(" ")
    return pl.col(name).cast(dtype)


def conform(df: pl.DataFrame, table: str) -> pl.DataFrame:
    """Cast to the table's schema, adding missing columns as nulls, keeping extra ones last."""
    schema = TABLES[table]
    cols = []
    for name, dtype in schema.items():
        if name in df.columns:
            cols.append(_cast(name, df.schema[name], dtype))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    extra = [c for c in df.columns if c not in schema]
    return df.select(cols + extra)


@dataclass(frozen=True)
class StoreInfo:
    root: Path
    version: str
    directory: Path
    manifest: dict


def current(root: str | os.PathLike) -> StoreInfo | None:
    """The live version of the store at `root`, or None when there is none yet."""
    root = Path(root)
    pointer = root / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    directory = root / name
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return StoreInfo(root=root, version=manifest["version"], directory=directory, manifest=manifest)


def corpus_of(info: StoreInfo) -> Path | None:
    """The corpus folder this store was built from (manifest "corpus"), or None when the
    manifest does not record one (tables imported from elsewhere, an old store)."""
    value = info.manifest.get("corpus")
    return Path(value) if isinstance(value, str) and value.strip() else None


def table_path(info: StoreInfo, table: str) -> Path:
    return info.directory / f"{table}.parquet"


def scan(info: StoreInfo, table: str) -> pl.LazyFrame:
    if table == "story_links":
        return scan_story_links(info.directory)
    return pl.scan_parquet(table_path(info, table))


# story_links is kept in up to three files (presslens.stories writes them): the base
# `story_links.parquet` (sorted by story_id; an incremental build hard-links it from the
# previous version), the base rows no longer live (their doc_a, doc_b) and the links added or
# changed since the base was written (sorted by story_id). The table is base - dropped + delta.
STORY_LINKS_DROPPED = "story_links_dropped.parquet"
STORY_LINKS_DELTA = "story_links_delta.parquet"
# The same table written again as one file (stories.compact_links, while a `build --watch`
# waits for changes): the next incremental build takes it as its base. Readers need not read
# it (base - dropped + delta holds the same rows).
STORY_LINKS_COMPACTED = "story_links_compacted.parquet"


def scan_story_links(directory: str | os.PathLike) -> pl.LazyFrame:
    """The story_links table of a version directory (its live rows: see STORY_LINKS_DELTA),
    in story order like a table written whole: the base without its dropped rows and the
    delta are each sorted by story_id, and merged."""
    d = Path(directory)
    base = d / "story_links.parquet"
    lf = pl.scan_parquet(base) if base.exists() else empty("story_links").lazy()
    if (d / STORY_LINKS_DROPPED).exists():
        lf = lf.join(pl.scan_parquet(d / STORY_LINKS_DROPPED), on=["doc_a", "doc_b"], how="anti",
                     maintain_order="left")
    if (d / STORY_LINKS_DELTA).exists():
        lf = lf.merge_sorted(pl.scan_parquet(d / STORY_LINKS_DELTA), key="story_id")
    return lf


def story_links_of(directory: str | os.PathLike, story_id: str) -> pl.DataFrame:
    """The story_links rows of one story (what scan_story_links gives filtered by story_id,
    read the cheap way: the story's row groups of the base and the delta, and only the dropped
    keys of its links' doc_a values, where the dropped file is sorted by doc_a)."""
    d = Path(directory)
    base_path = d / "story_links.parquet"
    if not base_path.exists():
        return empty("story_links")
    base = pl.scan_parquet(base_path)
    if "story_id" not in base.collect_schema().names():  # a table written before links had a story
        return scan_story_links(d).collect()
    rows = base.filter(pl.col("story_id") == story_id).collect()
    if rows.height and (d / STORY_LINKS_DROPPED).exists():
        gone = (pl.scan_parquet(d / STORY_LINKS_DROPPED)
                .filter(pl.col("doc_a").is_in(rows["doc_a"].unique().implode())).collect())
        rows = rows.join(gone, on=["doc_a", "doc_b"], how="anti", maintain_order="left")
    if (d / STORY_LINKS_DELTA).exists():
        rows = pl.concat([rows, pl.scan_parquet(d / STORY_LINKS_DELTA).filter(pl.col("story_id") == story_id)
                          .collect()])
    return rows


def story_links_file_rows(directory: str | os.PathLike) -> tuple[int, int, int]:
    """Rows of the base, dropped-keys and delta files of a version's story_links (0 for a file
    it has not), from the files' metadata."""
    import pyarrow.parquet as pq

    d = Path(directory)
    base, dropped, delta = (pq.ParquetFile(d / name).metadata.num_rows if (d / name).exists() else 0
                            for name in ("story_links.parquet", STORY_LINKS_DROPPED, STORY_LINKS_DELTA))
    return base, dropped, delta


def count_story_links(directory: str | os.PathLike) -> int:
    """Rows of the story_links table of a version directory, from the files' metadata (every
    dropped key names one live base row: presslens.stories writes them so)."""
    base, dropped, delta = story_links_file_rows(directory)
    return base - dropped + delta


def corpus_version(file_keys: pl.DataFrame) -> str:
    """A short hash that changes whenever the ingested data changes.

    Computed from the files table (path + content/sidecar key of every input), so it is
    cheap at any size and equal for two builds of the same corpus with the same pipeline.
    """
    import hashlib

    h = hashlib.sha1(PIPELINE_VERSION.encode())
    keys = file_keys.select((pl.col("path") + "\0" + pl.col("key")).alias("k")).sort("k")["k"]
    h.update("\n".join(keys.to_list()).encode())
    return h.hexdigest()[:12]


# Held (flock) by a build of a local store while it runs: a second build of the same store (the
# app refreshing it, `build --watch`, a `build` typed meanwhile) waits for the first instead of
# doing the same work beside it. Stale after a crash? No: the OS drops a dead process's lock.
BUILD_LOCK = ".build.lock"
# How often a build that may be stopped looks again for another build's lock (seconds).
LOCK_POLL_S = 0.2


class BuildStopped(Exception):
    """A build stopped on request (its `stop` event set: `build --watch` on Ctrl-C or SIGTERM)
    at one of its step boundaries, or while waiting for another build's lock. Its
    half-written version is removed; the live version is the one published before."""


@contextmanager
def build_lock(root: str | os.PathLike, on_wait: Callable[[], None] | None = None,
               stop: threading.Event | None = None) -> Iterator[None]:
    """Hold the store's build lock (exclusive, across processes) for the block; when another
    build holds it, call `on_wait()` once and wait for it. `stop`: an event (threading.Event)
    whose setting ends the wait with BuildStopped. A no-op where file locks are not
    available (not POSIX)."""
    try:
        import fcntl
    except ImportError:  # Windows: builds are not serialised there
        yield
        return
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / BUILD_LOCK, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            if stop is None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            else:
                while True:  # polled, so that a stop request ends the wait
                    if stop.wait(LOCK_POLL_S):
                        raise BuildStopped("stopped while waiting for another build of this store") from None
                    try:
                        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        continue
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def begin(root: str | os.PathLike) -> Path:
    """A fresh temporary directory inside the store root for a version being written."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    return tmp


# zstd level of every table the build writes: level 1 instead of the default 3 writes the
# 10k bench store's articles in 0.13 s instead of 0.18 s and its 285,000 story links in 0.18 s
# instead of 0.27 s (reads as fast or faster), for files 4-12% larger (articles 8.0 -> 9.0 MB,
# links 6.7 -> 7.0 MB). A rebuild rewrites most tables whole, so their write time counts.
ZSTD_LEVEL = 1


def write_table(directory: Path, table: str, data: pl.DataFrame | pl.LazyFrame, filename: str | None = None) -> None:
    """Write one table (conformed to its schema) into a version directory (as `filename`,
    default `<table>.parquet`)."""
    target = directory / (filename or f"{table}.parquet")
    if isinstance(data, pl.LazyFrame):
        conform_lazy(data, table).sink_parquet(target, compression="zstd", compression_level=ZSTD_LEVEL,
                                                  statistics=True, row_group_size=50_000)
    else:
        conform(data, table).write_parquet(target, compression="zstd", compression_level=ZSTD_LEVEL,
                                             statistics=True, row_group_size=50_000)


def conform_lazy(lf: pl.LazyFrame, table: str) -> pl.LazyFrame:
    schema = TABLES[table]
    have = lf.collect_schema()
    names = have.names()
    cols = [_cast(n, have[n], t) if n in names else pl.lit(None, dtype=t).alias(n) for n, t in schema.items()]
    return lf.select(cols + [c for c in names if c not in schema])


def write(root: str | os.PathLike, tables: dict[str, pl.DataFrame], manifest: dict) -> StoreInfo:
    """Write a complete new store version from in-memory tables and publish it."""
    tmp = begin(root)
    for name in TABLES:
        write_table(tmp, name, tables.get(name, empty(name)))
    return publish(root, tmp, manifest)


# A replaced version stays on disk this long after it stopped being CURRENT, so a page run
# (seconds) or an export that resolved it just before a rebuild finishes reading it, even
# when several rebuilds follow each other: no session ever loses the version it is reading.
RETIRED_GRACE_S = 600
# Marker file written into a version directory when it stops being CURRENT (its mtime is
# the moment of retirement).
RETIRED_MARK = "RETIRED"


def publish(root: str | os.PathLike, tmp: Path, manifest: dict) -> StoreInfo:
    """Move a fully written version directory into place and switch CURRENT to it atomically.

    The version that was live is marked retired; versions retired more than
    RETIRED_GRACE_S ago are removed (a reader that resolved one of them a moment ago can
    still finish reading it).
    """
    root = Path(root)
    version = manifest["version"]
    for name in TABLES:
        if not (tmp / f"{name}.parquet").exists():
            write_table(tmp, name, empty(name))
    manifest = dict(manifest, written_at=time.strftime("%Y-%m-%dT%H:%M:%S"), pipeline_version=PIPELINE_VERSION)
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    final = root / f"v-{version}-{uuid.uuid4().hex[:6]}"
    os.replace(tmp, final)
    previous = current(root)
    pointer_tmp = root / f".CURRENT-{uuid.uuid4().hex}"
    pointer_tmp.write_text(final.name + "\n", encoding="utf-8")
    os.replace(pointer_tmp, root / "CURRENT")
    if previous is not None and previous.directory != final:
        try:
            (previous.directory / RETIRED_MARK).write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"), encoding="utf-8")
        except OSError:
            pass  # a read-only old version is simply kept until its grace period is judged by mtime
    remove_retired(root, keep={final.name})
    return current(root)  # type: ignore[return-value]


def remove_retired(root: Path, keep: set[str], now: float | None = None) -> list[str]:
    """Remove version directories retired more than RETIRED_GRACE_S ago and temporary
    directories of builds abandoned more than an hour ago; returns the names removed."""
    now = time.time() if now is None else now
    removed = []
    for child in root.iterdir():
        if not child.is_dir() or child.name in keep:
            continue
        try:
            if child.name.startswith("v-"):
                mark = child / RETIRED_MARK
                # A version without a mark was replaced by an older presslens: judge by its age.
                retired_at = (mark if mark.exists() else child).stat().st_mtime
                if now - retired_at < RETIRED_GRACE_S:
                    continue
            elif child.name.startswith(".tmp-"):
                # Another build may still be writing it.
                if now - child.stat().st_mtime < 3600:
                    continue
            else:
                continue
        except OSError:
            continue
        shutil.rmtree(child, ignore_errors=True)
        removed.append(child.name)
    return removed


def read_text(info: StoreInfo, doc_id: str) -> str | None:
    """The text of one article, read from disk (only that row's text is materialised)."""
    df = scan(info, "articles").filter(pl.col("doc_id") == doc_id).select("text").collect()
    return df["text"][0] if df.height else None
