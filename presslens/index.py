"""The serving index: integer-coded columns and posting lists, written with every store
version and loaded once per server process.

In:  the contract tables of one store version (articles without text, mentions, entities).
Out: a directory ``<version>/index/`` of plain files that `load` memory-maps:

- ``*.npy``        numpy arrays (np.load(mmap_mode="r")): the OS page cache holds them once
                   for every process and session; nothing is copied per session.
- ``articles.arrow`` the light per-article display columns (doc_id, title, url, lists...),
                   uncompressed Arrow IPC, memory-mapped, in articles.parquet row order.
- ``entities.arrow``, ``forms.arrow``, ``dicts.arrow``: the dictionaries.
- ``meta.json``    sizes, format version, and build time.

Every dimension is a small integer: language and outlet codes (index into sorted
dictionaries; a missing outlet is UNKNOWN_OUTLET, a missing language "und"), the day as
days since 1970-01-01 (UNDATED_DAY when unknown), cited sources and entities as codes in
sorted order. Relations are CSR posting lists (``*_indptr`` of length n+1, then the
values of row i in ``[indptr[i], indptr[i+1])``):

- ``story``: article row -> story code (sorted story ids in dicts.arrow, kind "story")
- ``src``:  article row -> cited source codes
- ``ae``:   article row -> entity codes (+ mentions per pair), entities sorted by code
- ``ea``:   entity code -> article rows (+ mentions per pair), rows sorted
- ``ef``:   entity code -> (article row, written-form code, mentions) of each distinct
            (article, form) of the entity, sorted by row then form; ``ea_nf`` (aligned
            with ``ea``) is how many of them each (entity, article) pair has, so the forms
            of a filtered selection are read only for the selected pairs (the "every
            written form" table of one entity under any filter)
- ``sf``:   entity code -> (form x language key, mentions, articles) over originals, and
  ``el_*``  entity x language mentions/articles, ``eo``: entity -> (outlet x language
            key, mentions, articles), ``ed``: entity -> (day, mentions, articles): the
            unfiltered (and languages-only) answers, precomputed

Counting rule (issue 10): an article whose ``duplicate_of`` is set is listed (when asked
for) but never counted: entity totals and every count are over originals only.
"""
from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Any

import numpy as np
import polars as pl

# Bump when the on-disk layout changes: an index of another format is rebuilt, not misread.
FORMAT = 8
INDEX_DIR = "index"
# Shown (and filterable) in place of a missing outlet, so unattributed articles stay visible.
UNKNOWN_OUTLET = "(unknown outlet)"
# Language code of articles whose language could not be determined.
UNDETERMINED = "und"
# Day number of an undated article (far below any real date, so range tests exclude it).
UNDATED_DAY = np.iinfo(np.int32).min
# Display columns kept per article (no text, no span lists: those are read for one article).
ARTICLE_COLUMNS = [
    "doc_id", "title", "url", "path", "outlet", "outlet_domain", "published", "date_source", "language",
    "language_confidence", "mixed_language", "languages", "cited_sources", "duplicate_of", "n_chars", "n_mentions",
]
# Results memoised per process for each Filters (masks, entity counts): the pages of one
# view ask for the same selection several times; a few dozen views cover every session.
MEMO_SIZE = 32


# ---------------------------------------------------------------- building


def _codes(values: pl.Series, dictionary: pl.Series) -> np.ndarray:
    """Positions of `values` in the sorted unique `dictionary` (every value must be present)."""
    return dictionary.search_sorted(values, side="left").to_numpy().astype(np.int32, copy=False)


def _csr(owner: np.ndarray, n_owners: int) -> np.ndarray:
    """indptr for values already sorted by `owner` (an int array of owner codes)."""
    counts = np.bincount(owner, minlength=n_owners) if owner.size else np.zeros(n_owners, np.int64)
    indptr = np.zeros(n_owners + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr


def _small_uint(a: np.ndarray) -> np.ndarray:
    """Counts in the smallest unsigned dtype that holds them (most pairs have 1-3 mentions)."""
    top = int(a.max()) if a.size else 0
    return a.astype(np.uint16 if top < 2**16 else np.uint32 if top < 2**32 else np.int64)


def _save(out: Path, name: str, a: np.ndarray) -> None:
    np.save(out / f"{name}.npy", np.ascontiguousarray(a), allow_pickle=False)


def _write_ipc(out: Path, name: str, df: pl.DataFrame) -> None:
    # Plain Arrow types (large_string, not string_view): pyarrow can take rows from a
    # memory-mapped file of them without copying the file.
    df.write_ipc(out / f"{name}.arrow", compression="uncompressed", compat_level=pl.CompatLevel.oldest())


def write(articles: pl.LazyFrame, mentions: pl.LazyFrame, entities: pl.LazyFrame | None, out: Path) -> dict:
    """Build the serving index from the tables of one version into directory `out`.

    `articles` must be in the store's row order (articles.parquet order) and carry the
    contract columns (text is never read); `mentions` the counted mentions (doc_id,
    entity_id, surface, lemma, entity_type); `entities` the entity table when there is one
    (names and types; counts are recomputed here over originals). Returns meta.json's dict.
    """
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = articles.collect_schema().names()
    have = [c for c in ARTICLE_COLUMNS if c in names]
    a = articles.select(have).collect()
    for c in ARTICLE_COLUMNS:
        if c not in a.columns:
            dtype = {"published": pl.Date, "language_confidence": pl.Float64, "mixed_language": pl.Boolean,
                     "languages": pl.List(pl.String), "cited_sources": pl.List(pl.String),
                     "n_chars": pl.Int64, "n_mentions": pl.Int64}.get(c, pl.String)
            a = a.with_columns(pl.lit(None, dtype).alias(c))
    a = a.with_columns(
        pl.col("outlet").fill_null(UNKNOWN_OUTLET),
        pl.col("language").fill_null(UNDETERMINED),
        pl.col("mixed_language").fill_null(False),
        pl.col("cited_sources").list.unique(maintain_order=True).list.drop_nulls(),
    ).select(ARTICLE_COLUMNS)
    n = a.height

    # dictionaries (sorted, so a code orders like its label)
    languages = a["language"].unique().sort()
    outlets = a["outlet"].unique().sort()
    sources = a["cited_sources"].explode().drop_nulls().unique().sort()
    lang_arr = _codes(a["language"], languages).astype(np.uint16)
    _save(out, "lang", lang_arr)
    outlet_arr = _codes(a["outlet"], outlets)
    _save(out, "outlet", outlet_arr)
    day = a["published"].cast(pl.Int32).fill_null(int(UNDATED_DAY)).to_numpy()
    _save(out, "day", day.astype(np.int32))
    _save(out, "conf", a["language_confidence"].fill_null(0.0).to_numpy().astype(np.float32))
    _save(out, "mixed", a["mixed_language"].to_numpy().astype(bool))
    _save(out, "dup", a["duplicate_of"].is_not_null().to_numpy())
    # story codes (presslens.stories): an article without a story_id is its own story
    sid = (articles.select(pl.col("story_id") if "story_id" in names else pl.lit(None, pl.String).alias("story_id"))
           .collect()["story_id"].fill_null(a["doc_id"]))
    stories = sid.unique().sort()
    _save(out, "story", _codes(sid, stories))
    del sid
    src_len = a["cited_sources"].list.len().fill_null(0).to_numpy()
    src_indptr = np.zeros(n + 1, np.int64)
    np.cumsum(src_len, out=src_indptr[1:])
    src_vals = a["cited_sources"].explode().drop_nulls()
    _save(out, "src_indptr", src_indptr)
    _save(out, "src_code", _codes(src_vals, sources).astype(np.uint16 if sources.len() < 2**16 else np.int32))

    # list order: newest first, undated last, then title, doc_id -> a rank per row
    order = a.select(pl.int_range(n, dtype=pl.Int32).alias("row"), "published", "title", "doc_id").sort(
        ["published", "title", "doc_id"], descending=[True, False, False], nulls_last=True)["row"].to_numpy()
    rank = np.empty(n, np.int32)
    rank[order] = np.arange(n, dtype=np.int32)
    _save(out, "list_rank", rank)

    # doc_id -> row
    ids = a.select(pl.col("doc_id"), pl.int_range(n, dtype=pl.Int32).alias("row")).sort("doc_id")
    _save(out, "doc_sorted_row", ids["row"].to_numpy())
    _write_ipc(out, "articles", a)
    _write_ipc(out, "doc_sorted", ids.select("doc_id"))
    rows = a.select("doc_id", pl.int_range(n, dtype=pl.Int32).alias("row"))

    # where each article's mentions lie in mentions.parquet ([lo, hi) rows): the reader reads
    # only those row groups (the table is in input order, not sorted by doc_id, so row-group
    # statistics alone would not narrow a lookup down)
    span = (mentions.select("doc_id").with_row_index("mrow").group_by("doc_id")
            .agg(pl.col("mrow").min().cast(pl.Int64).alias("lo"), (pl.col("mrow").max().cast(pl.Int64) + 1).alias("hi"))
            .collect())
    span = rows.join(span, on="doc_id", how="left", maintain_order="left")
    _save(out, "men_lo", span["lo"].fill_null(0).to_numpy())
    _save(out, "men_hi", span["hi"].fill_null(0).to_numpy())
    del span

    # entities: every id seen in mentions (plus the entity table's), sorted -> codes
    m = mentions.select("doc_id", "entity_id", "surface", "lemma", "entity_type")
    ids = m.select("entity_id").unique()
    if entities is not None:
        ent_cols = entities.collect_schema().names()
        e_tab = entities.select(
            "entity_id",
            (pl.col("name") if "name" in ent_cols else pl.lit(None, pl.String)).alias("name"),
            (pl.col("entity_type") if "entity_type" in ent_cols else pl.lit(None, pl.String)).alias("entity_type"),
            (pl.col("names").list.eval(pl.element().struct.field("language") + ": " + pl.element().struct.field("name"))
             .list.join("; ") if "names" in ent_cols else pl.lit(None, pl.String)).alias("names"),
        )
        ents = ids.join(e_tab, on="entity_id", how="full", coalesce=True).collect()
    else:
        ents = ids.with_columns(pl.lit(None, pl.String).alias("name"), pl.lit(None, pl.String).alias("entity_type"),
                                pl.lit(None, pl.String).alias("names")).collect()
    if ents["name"].null_count() or ents["entity_type"].null_count():
        # ids the entity table does not describe: name and type from their first mention
        seen = m.group_by("entity_id").agg(pl.col("entity_type").first().alias("m_type"),
                                          pl.coalesce("lemma", "surface").first().alias("m_name")).collect()
        ents = ents.join(seen, on="entity_id", how="left")
    else:
        ents = ents.with_columns(pl.lit(None, pl.String).alias("m_type"), pl.lit(None, pl.String).alias("m_name"))
    ents = (ents.filter(pl.col("entity_id").is_not_null())
            .select("entity_id", pl.coalesce("name", "m_name", "entity_id").alias("name"),
                    pl.coalesce("entity_type", "m_type", pl.lit("MISC")).alias("entity_type"),
                    pl.col("names").fill_null(""))
            .sort("entity_id"))
    n_ent = ents.height
    ent_code = ents.select("entity_id", pl.int_range(n_ent, dtype=pl.Int32).alias("ent"))

    # written forms: (surface, lemma) pairs keyed by a 64-bit hash (integer joins, not
    # string joins, over the mention rows; a collision needs ~4e9 distinct forms)
    coded = (m.join(rows.lazy(), on="doc_id", how="inner")
             .join(ent_code.lazy(), on="entity_id", how="inner")
             .select("ent", "row", pl.col("surface").fill_null(""), pl.col("lemma").fill_null(""))
             .with_columns(pl.struct("surface", "lemma").hash(seed=0).alias("h"))).collect()
    forms = coded.select("h", "surface", "lemma").unique(subset="h", keep="any").sort(["surface", "lemma"])
    forms = forms.with_columns(pl.int_range(forms.height, dtype=pl.Int64).alias("form"))
    form = coded.select("h").join(forms.select("h", "form"), on="h", how="left", maintain_order="left")["form"].to_numpy()
    ent_a, row_a = coded["ent"].to_numpy().astype(np.int64), coded["row"].to_numpy().astype(np.int64)
    del coded
    forms = forms.select("surface", "lemma")
    # one int64 sort key (entity, row, form) when the three fit in 63 bits, else a two-pass sort
    rb, fb = max(1, int(n).bit_length()), max(1, int(forms.height).bit_length())
    if int(n_ent).bit_length() + rb + fb <= 63:
        key = pl.Series((ent_a << (rb + fb)) | (row_a << fb) | form).sort().to_numpy()
        em_ent, em_row, em_form = key >> (rb + fb), (key >> fb) & ((1 << rb) - 1), key & ((1 << fb) - 1)
        del key
    else:
        order = np.lexsort((form, row_a, ent_a))
        em_ent, em_row, em_form = ent_a[order], row_a[order], form[order]
    del ent_a, row_a, form
    em_ent, em_row, em_form = em_ent.astype(np.int32), em_row.astype(np.int32), em_form.astype(np.int32)

    # unfiltered written forms per (entity, form, language) over originals, so the forms
    # table of a popular entity needs no pass over its millions of mentions
    dup = a["duplicate_of"].is_not_null().to_numpy()
    n_lang = max(languages.len(), 1)
    first = np.ones(em_ent.size, bool)
    if em_ent.size:
        first[1:] = (em_ent[1:] != em_ent[:-1]) | (em_row[1:] != em_row[:-1]) | (em_form[1:] != em_form[:-1])
    keep = ~dup[em_row] if em_row.size else np.zeros(0, bool)
    sf = (pl.DataFrame({"ent": em_ent[keep], "key": em_form[keep].astype(np.int64) * n_lang + lang_arr[em_row[keep]],
                        "first": first[keep]})
          .group_by("ent", "key").agg(pl.len().cast(pl.Int64).alias("m"), pl.col("first").sum().cast(pl.Int64).alias("d"))
          .sort("ent", "key"))
    del keep
    # distinct (entity, article, form) with their mentions: the mention postings run-length
    # coded (23M entries for 30M mentions at 1M articles; the forms table of a filtered
    # selection reads only its selected articles' entries)
    ef_at = np.flatnonzero(first)
    _save(out, "ef_indptr", _csr(em_ent[ef_at], n_ent))
    _save(out, "ef_row", em_row[ef_at])
    _save(out, "ef_form", em_form[ef_at])
    _save(out, "ef_cnt", _small_uint(np.diff(np.append(ef_at, em_ent.size))))
    del ef_at  # `first` (a byte a mention) is kept to count the entries per pair below
    _save(out, "sf_indptr", _csr(sf["ent"].to_numpy(), n_ent))
    _save(out, "sf_key", sf["key"].to_numpy())
    _save(out, "sf_men", sf["m"].to_numpy())
    _save(out, "sf_docs", sf["d"].to_numpy())
    del sf

    # pairs (entity, article) with mention counts: one run-length pass over the sorted em
    if em_ent.size:
        new = np.empty(em_ent.size, bool)
        new[0] = True
        new[1:] = (em_ent[1:] != em_ent[:-1]) | (em_row[1:] != em_row[:-1])
        starts = np.flatnonzero(new)
        pair_ent, pair_row = em_ent[starts], em_row[starts]
        pair_cnt = np.diff(np.append(starts, em_ent.size))
        # distinct forms per pair: the ef entries (starts of (entity, row, form) runs) in it
        pair_nf = np.add.reduceat(first.view(np.uint8), starts, dtype=np.int64)
    else:
        pair_ent = pair_row = np.zeros(0, np.int32)
        pair_cnt = pair_nf = np.zeros(0, np.int64)
    del first
    del em_ent, em_form
    cnt = _small_uint(pair_cnt)
    _save(out, "ea_indptr", _csr(pair_ent, n_ent))
    _save(out, "ea_row", pair_row.astype(np.int32))
    _save(out, "ea_cnt", cnt)
    _save(out, "ea_nf", _small_uint(pair_nf))
    del pair_nf
    by_row = pl.Series(pair_row.astype(np.int64) * max(n_ent, 1) + pair_ent).arg_sort().to_numpy()
    _save(out, "ae_indptr", _csr(pair_row[by_row], n))
    _save(out, "ae_ent", pair_ent[by_row].astype(np.int32))
    _save(out, "ae_cnt", cnt[by_row])

    # unfiltered entity totals over originals (precomputed: the most frequent question),
    # overall and per language (entity x language, flattened)
    orig = ~dup[pair_row] if pair_row.size else np.zeros(0, bool)
    men = np.bincount(pair_ent[orig], weights=pair_cnt[orig], minlength=n_ent).astype(np.int64)
    docs = np.bincount(pair_ent[orig], minlength=n_ent).astype(np.int64)
    el_key = pair_ent[orig].astype(np.int64) * n_lang + lang_arr[pair_row[orig]]
    _save(out, "el_men", np.bincount(el_key, weights=pair_cnt[orig], minlength=n_ent * n_lang).astype(np.int64))
    _save(out, "el_docs", np.bincount(el_key, minlength=n_ent * n_lang).astype(np.int64))
    del el_key
    # entity x (outlet, language) over originals, sparse (entity -> key outlet * languages +
    # language, mentions, articles): the unfiltered and languages-only "by outlet" split of
    # any entities without a pass over their millions of postings (~2M entries at 1M articles)
    eo = (pl.DataFrame({"ent": pair_ent[orig],
                        "key": outlet_arr[pair_row[orig]].astype(np.int64) * n_lang + lang_arr[pair_row[orig]],
                        "cnt": pair_cnt[orig].astype(np.int64)})
          .group_by("ent", "key").agg(pl.col("cnt").sum().alias("m"), pl.len().cast(pl.Int64).alias("d"))
          .sort("ent", "key"))
    _save(out, "eo_indptr", _csr(eo["ent"].to_numpy(), n_ent))
    _save(out, "eo_key", eo["key"].to_numpy().astype(np.int32))
    _save(out, "eo_men", _small_uint(eo["m"].to_numpy()))
    _save(out, "eo_docs", _small_uint(eo["d"].to_numpy()))
    del eo
    # unfiltered timeline per entity: (day, mentions, articles) of dated originals
    po = orig & (day[pair_row] != UNDATED_DAY) if pair_row.size else np.zeros(0, bool)
    ed = (pl.DataFrame({"ent": pair_ent[po], "day": day[pair_row[po]].astype(np.int32),
                        "cnt": pair_cnt[po].astype(np.int64)})
          .group_by("ent", "day").agg(pl.col("cnt").sum().alias("m"), pl.len().cast(pl.Int64).alias("d"))
          .sort("ent", "day"))
    _save(out, "ed_indptr", _csr(ed["ent"].to_numpy(), n_ent))
    _save(out, "ed_day", ed["day"].to_numpy().astype(np.int32))
    _save(out, "ed_men", ed["m"].to_numpy())
    _save(out, "ed_docs", ed["d"].to_numpy())
    del ed, po
    ents = ents.with_columns(pl.Series("mention_count", men), pl.Series("doc_count", docs))
    _write_ipc(out, "entities", ents)
    _write_ipc(out, "forms", forms)
    dicts = pl.DataFrame({"kind": ["language"] * languages.len() + ["outlet"] * outlets.len() + ["source"] * sources.len()
                          + ["story"] * stories.len(),
                          "label": pl.concat([languages, outlets, sources, stories])},
                         schema={"kind": pl.String, "label": pl.String})
    _write_ipc(out, "dicts", dicts)
    meta = {"format": FORMAT, "articles": n, "entities": n_ent, "pairs": int(pair_row.size), "mentions": int(em_row.size),
            "forms": forms.height, "languages": languages.len(), "outlets": outlets.len(), "sources": sources.len(),
            "seconds": round(time.perf_counter() - t0, 3)}
    (out / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return meta


def build(version_dir: str | os.PathLike) -> dict:
    """Write ``<version_dir>/index/`` from the version's Parquet tables (atomically: a
    temporary directory renamed into place). Returns meta.json's dict."""
    version_dir = Path(version_dir)
    tmp = version_dir / f".index-{uuid.uuid4().hex[:8]}"
    try:
        ent_path = version_dir / "entities.parquet"
        meta = write(
            pl.scan_parquet(version_dir / "articles.parquet"),
            pl.scan_parquet(version_dir / "mentions.parquet"),
            pl.scan_parquet(ent_path) if ent_path.exists() else None,
            tmp,
        )
        final = version_dir / INDEX_DIR
        if final.exists() and not exists(version_dir):
            shutil.rmtree(final, ignore_errors=True)  # an index of an older format
        try:
            os.replace(tmp, final)
        except OSError:
            if not exists(version_dir):
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process published the same index first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta


# ---------------------------------------------------------------- loading


@dataclass(eq=False)
class Index:
    """The loaded serving index of one store version (read-only, shared by all sessions).

    Arrays are memory-mapped. `searcher` is an optional full-text engine with
    ``doc_rows(query) -> np.ndarray`` of article rows (presslens.search when present).
    """

    directory: Path
    meta: dict
    arrays: dict[str, np.ndarray]
    article_table: Any  # pyarrow.Table, memory-mapped (display columns, row order)
    entities: pl.DataFrame
    forms: pl.DataFrame
    languages: pl.Series
    outlets: pl.Series
    sources: pl.Series
    doc_sorted: pl.Series
    searcher: Any = None
    stories: Any = None  # pl.Series: sorted story ids (the `story` array holds codes into it)
    _memo: dict = field(default_factory=dict, repr=False)
    _const: dict = field(default_factory=dict, repr=False)
    _lock: Lock = field(default_factory=Lock, repr=False)

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("arrays")
        if arrays is not None and name in arrays:
            return arrays[name]
        raise AttributeError(name)

    @property
    def n(self) -> int:
        return int(self.meta["articles"])

    @property
    def n_entities(self) -> int:
        return int(self.meta["entities"])

    def memo(self, key: tuple, compute, keep: bool = False):
        """A per-process cache for derived arrays (bounded; oldest entries dropped first).
        `keep`: a value that does not depend on the filters (a few per index): kept for the
        life of the process, outside the bound, so views never push it out."""
        store = self._const if keep else self._memo
        with self._lock:
            if key in store:
                return store[key]
        value = compute()
        with self._lock:
            store[key] = value
            while len(self._memo) > MEMO_SIZE:
                self._memo.pop(next(iter(self._memo)))
        return value

    def article_rows(self, rows: np.ndarray, columns: list[str]) -> pl.DataFrame:
        """The given display columns of the given article rows (a few hundred at a time):
        only those rows are copied out of the memory-mapped file.

        Taken record batch by record batch: pyarrow's take on a table of several batches
        concatenates each whole column first (at 1M articles ~35 ms and a copy of every
        title and URL per call, which also pulled the whole file into memory)."""
        rows = np.asarray(rows, dtype=np.int64)
        batches, starts = self.memo(("batches",), self._batches, keep=True)
        if rows.size == 0:
            return pl.from_arrow(self.article_table.select(columns).slice(0, 0))  # type: ignore[return-value]
        order = np.argsort(rows, kind="stable")
        srt = rows[order]
        which = np.searchsorted(starts, srt, side="right") - 1
        cut = np.flatnonzero(np.diff(which)) + 1
        parts = [batches[int(w[0])].select(columns).take(r - starts[int(w[0])])
                 for r, w in zip(np.split(srt, cut), np.split(which, cut))]
        import pyarrow as pa

        got = pa.Table.from_batches(parts).combine_chunks()
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.size)
        return pl.from_arrow(got.take(inverse))  # type: ignore[return-value]

    def _batches(self) -> tuple[list, np.ndarray]:
        """The article table's record batches and the first row of each (plus the end)."""
        batches = self.article_table.to_batches()
        sizes = [b.num_rows for b in batches]
        return batches, np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])

    def article_column(self, name: str) -> pl.Series:
        """One display column of every article (for searches over titles and URLs), copied
        into Polars once per process."""
        return self.memo(("column", name), lambda: pl.from_arrow(self.article_table.column(name)).alias(name))

    def rows_of(self, doc_ids: list[str] | tuple[str, ...]) -> np.ndarray:
        """Article rows of the given doc ids (-1 for an unknown id), in the given order."""
        if not len(doc_ids):
            return np.zeros(0, np.int64)
        q = pl.Series(list(doc_ids), dtype=pl.String)
        pos = self.doc_sorted.search_sorted(q, side="left").to_numpy().astype(np.int64)
        ok = pos < self.doc_sorted.len()
        found = np.zeros(len(pos), bool)
        found[ok] = (self.doc_sorted.gather(pos[ok]) == q.filter(pl.Series(ok))).to_numpy()
        out = np.full(len(pos), -1, np.int64)
        out[found] = self.arrays["doc_sorted_row"][pos[found]]
        return out

    def entity_codes(self, entity_ids: list[str] | tuple[str, ...]) -> np.ndarray:
        """Codes of the given entity ids (-1 for an unknown id), in the given order."""
        if not len(entity_ids):
            return np.zeros(0, np.int64)
        col = self.entities["entity_id"]
        q = pl.Series(list(entity_ids), dtype=pl.String)
        pos = col.search_sorted(q, side="left").to_numpy().astype(np.int64)
        ok = pos < col.len()
        found = np.zeros(len(pos), bool)
        found[ok] = (col.gather(pos[ok]) == q.filter(pl.Series(ok))).to_numpy()
        return np.where(found, pos, -1)


ARRAYS = ("men_lo", "men_hi", "lang", "outlet", "story", "day", "conf", "mixed", "dup", "src_indptr", "src_code", "list_rank", "doc_sorted_row",
          "ef_indptr", "ef_row", "ef_form", "ef_cnt", "ea_indptr", "ea_row", "ea_cnt", "ea_nf", "ae_indptr", "ae_ent", "ae_cnt",
          "sf_indptr", "sf_key", "sf_men", "sf_docs", "el_men", "el_docs", "eo_indptr", "eo_key", "eo_men", "eo_docs", "ed_indptr", "ed_day", "ed_men", "ed_docs")


def exists(version_dir: str | os.PathLike) -> bool:
    """True when `version_dir` holds an index of the current format."""
    p = Path(version_dir) / INDEX_DIR / "meta.json"
    try:
        return json.loads(p.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError):
        return False


def load(version_dir: str | os.PathLike, searcher: Any = None, attach_search: bool = True) -> Index:
    """Memory-map the index of a store version (built first when missing or outdated).

    `searcher`: a full-text engine to use; when None and `attach_search`, presslens.search
    is asked for one (``search.open(version_dir)``) if that module exists.
    """
    version_dir = Path(version_dir)
    if not exists(version_dir):
        build(version_dir)
    d = version_dir / INDEX_DIR
    meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
    arrays = {name: np.load(d / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
    dicts = pl.read_ipc(d / "dicts.arrow")

    def kind(k: str) -> pl.Series:
        return dicts.filter(pl.col("kind") == k)["label"]

    if searcher is None and attach_search:
        searcher = _open_searcher(version_dir)
    return Index(
        directory=version_dir, meta=meta, arrays=arrays,
        article_table=_mmap_ipc(d / "articles.arrow"),
        entities=pl.read_ipc(d / "entities.arrow"),
        forms=pl.read_ipc(d / "forms.arrow"),
        languages=kind("language"), outlets=kind("outlet"), sources=kind("source"), stories=kind("story"),
        doc_sorted=pl.read_ipc(d / "doc_sorted.arrow")["doc_id"],
        searcher=searcher,
    )


def _mmap_ipc(path: Path) -> Any:
    """An Arrow IPC file as a pyarrow Table backed by a memory map (zero copy: every
    process shares the OS page cache, and only the rows asked for are ever touched)."""
    import pyarrow as pa

    with pa.memory_map(str(path), "r") as source:
        return pa.ipc.open_file(source).read_all()


def _open_searcher(version_dir: Path) -> Any:
    """presslens.search's engine for this version, or None (module absent or no index)."""
    try:
        from presslens import search  # type: ignore[attr-defined]
    except ImportError:
        return None
    opener = getattr(search, "open", None)
    if opener is None:
        return None
    try:
        return opener(version_dir)
    except Exception:  # no full-text index for this version: the name search still works
        return None


def from_tables(tables: dict[str, pl.DataFrame], directory: str | os.PathLike) -> Index:
    """For tests: an index written into `directory` from in-memory contract tables."""
    directory = Path(directory)
    ents = tables.get("entities")
    write(tables["articles"].lazy(), tables["mentions"].lazy(), ents.lazy() if ents is not None else None,
          directory / INDEX_DIR)
    return load(directory, attach_search=False)


# ---------------------------------------------------------------- one article from disk


def _row_groups(path: Path) -> tuple[Any, np.ndarray]:
    """A pyarrow ParquetFile and the first row number of each of its row groups."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.metadata.num_row_groups)]
    return pf, np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])


def read_article(ix: Index, doc_id: str, columns: list[str]) -> pl.DataFrame:
    """Columns of one article row from articles.parquet, reading only its row group (the
    index knows the row). Zero rows for an unknown doc id."""
    path = ix.directory / "articles.parquet"
    pf, starts = ix.memo(("rowgroups", "articles"), lambda: _row_groups(path), keep=True)
    cols = [c for c in columns if c in pf.schema_arrow.names]
    row = int(ix.rows_of((doc_id,))[0])
    if row < 0:
        return pl.from_arrow(pf.schema_arrow.empty_table().select(cols))  # type: ignore[return-value]
    rg = int(np.searchsorted(starts, row, side="right") - 1)
    table = pf.read_row_group(rg, columns=cols).slice(row - int(starts[rg]), 1)
    return pl.from_arrow(table)  # type: ignore[return-value]


def read_text(ix: Index, doc_id: str) -> str | None:
    """The text of one article (only its row group is read), or None for an unknown id."""
    df = read_article(ix, doc_id, ["text"])
    return df["text"][0] if df.height else None


def read_mentions(ix: Index, doc_id: str) -> pl.DataFrame:
    """The mention rows of one article, reading only the row groups of mentions.parquet that
    hold its [lo, hi) row span (recorded by the index build)."""
    cols = ["doc_id", "start", "end", "surface", "lemma", "entity_id", "entity_type"]
    path = ix.directory / "mentions.parquet"
    row = int(ix.rows_of((doc_id,))[0])
    lo, hi = (int(ix.men_lo[row]), int(ix.men_hi[row])) if row >= 0 else (0, 0)
    if hi <= lo or not path.exists():
        return pl.DataFrame(schema={c: (pl.Int64 if c in ("start", "end") else pl.String) for c in cols[1:]})
    pf, starts = ix.memo(("rowgroups", "mentions"), lambda: _row_groups(path), keep=True)
    first = int(np.searchsorted(starts, lo, side="right") - 1)
    last = int(np.searchsorted(starts, hi - 1, side="right") - 1)
    table = pf.read_row_groups(list(range(first, last + 1)), columns=cols)
    part = pl.from_arrow(table.slice(lo - int(starts[first]), hi - lo))
    return part.filter(pl.col("doc_id") == doc_id).drop("doc_id")  # type: ignore[union-attr]
