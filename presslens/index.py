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
from threading import Event, Lock
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
    """indptr for values already sorted by `owner` (an int array of owner codes in
    [0, n_owners)): where each owner's run starts, by binary search (not a pass over them)."""
    return np.searchsorted(owner, np.arange(n_owners + 1), side="left").astype(np.int64, copy=False)


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


def _sum_by(ent: np.ndarray, key: np.ndarray, cnt: np.ndarray) -> pl.DataFrame:
    """Per distinct (ent, key): the sum of `cnt` ("m") and the number of entries ("d"), as
    columns ent, key, m, d (int64) sorted by ent then key. Grouped on one int64 key when
    the pair fits in it (about a third faster than grouping on two columns)."""
    ent, key, cnt = ent.astype(np.int64), key.astype(np.int64), cnt.astype(np.int64)
    if ent.size == 0:
        z = np.zeros(0, np.int64)
        return pl.DataFrame({"ent": z, "key": z, "m": z, "d": z})
    lo = int(key.min())
    span = int(key.max()) - lo + 1
    if (int(ent.max()) + 1) * span < 2**62:
        g = (pl.DataFrame({"k": ent * span + (key - lo), "cnt": cnt})
             .group_by("k").agg(pl.col("cnt").sum().alias("m"), pl.len().cast(pl.Int64).alias("d")).sort("k"))
        k = g["k"].to_numpy()
        return pl.DataFrame({"ent": k // span, "key": k % span + lo, "m": g["m"].to_numpy(), "d": g["d"].to_numpy()})
    return (pl.DataFrame({"ent": ent, "key": key, "cnt": cnt})
            .group_by("ent", "key").agg(pl.col("cnt").sum().alias("m"), pl.len().cast(pl.Int64).alias("d"))
            .sort("ent", "key"))


class _NoReuse(Exception):
    """The previous index cannot be reused (other format, damaged, or the tables disagree)."""


def _entity_table(ids: pl.LazyFrame, entities: pl.LazyFrame | None, m: pl.LazyFrame | None) -> pl.DataFrame:
    """Entity dictionary (entity_id, name, entity_type, names), sorted by entity_id, over the
    ids `ids` (plus the entity table's). An id the entity table does not name or type takes
    its first mention's lemma and type from `m`; with `m` None that raises _NoReuse (which
    mention comes first depends on every mention row)."""
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
        if m is None:
            raise _NoReuse("entities without a name or type in the entity table")
        # ids the entity table does not describe: name and type from their first mention
        seen = m.group_by("entity_id").agg(pl.col("entity_type").first().alias("m_type"),
                                          pl.coalesce("lemma", "surface").first().alias("m_name")).collect()
        ents = ents.join(seen, on="entity_id", how="left")
    else:
        ents = ents.with_columns(pl.lit(None, pl.String).alias("m_type"), pl.lit(None, pl.String).alias("m_name"))
    return (ents.filter(pl.col("entity_id").is_not_null())
            .select("entity_id", pl.coalesce("name", "m_name", "entity_id").alias("name"),
                    pl.coalesce("entity_type", "m_type", pl.lit("MISC")).alias("entity_type"),
                    pl.col("names").fill_null(""))
            .sort("entity_id"))


def _coded(m: pl.LazyFrame, rows: pl.DataFrame, ents: pl.DataFrame) -> pl.DataFrame:
    """Mention rows as (ent, row, surface, lemma, h): entity code, article row, the written
    form and its 64-bit hash (integer joins, not string joins, over the mention rows; a
    collision needs ~4e9 distinct forms). Mentions of unknown articles or entities drop out."""
    ent_code = ents.select("entity_id", pl.int_range(ents.height, dtype=pl.Int32).alias("ent"))
    return (m.join(rows.lazy(), on="doc_id", how="inner")
            .join(ent_code.lazy(), on="entity_id", how="inner")
            .select("ent", "row", pl.col("surface").fill_null(""), pl.col("lemma").fill_null(""))
            .with_columns(pl.struct("surface", "lemma").hash(seed=0).alias("h"))).collect()


def _pack(ent: np.ndarray, row: np.ndarray, form: np.ndarray, rb: int, fb: int) -> np.ndarray:
    """One int64 sort key per (entity, row, form) entry: entity, then row in `rb` bits, then
    form in `fb` bits (the caller checks that the three fit in 63 bits)."""
    return ((ent.astype(np.int64, copy=False) << (rb + fb)) | (row.astype(np.int64, copy=False) << fb)
            | form.astype(np.int64, copy=False))


def _unpack(key: np.ndarray, rb: int, fb: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_pack`'s (entity, row, form), as int32 arrays."""
    return ((key >> (rb + fb)).astype(np.int32), ((key >> fb) & ((1 << rb) - 1)).astype(np.int32),
            (key & ((1 << fb) - 1)).astype(np.int32))


def _form_codes(coded: pl.DataFrame, forms: pl.DataFrame) -> np.ndarray:
    """The form code (forms' "form" column) of each row of `coded`, by its hash "h"."""
    return coded.select("h").join(forms.select("h", "form"), on="h", how="left", maintain_order="left")["form"].to_numpy()


def _sorted_entries(ent: np.ndarray, row: np.ndarray, form: np.ndarray, cnt: np.ndarray | None,
                    n: int, n_forms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (entity, row, form) entries sorted by entity, row, form, with their mentions:
    `cnt` per input entry (inputs distinct), or None for one mention per input (inputs are
    mention rows, counted here). Returns int32 ent, row, form and int64 mentions."""
    if ent.size == 0:
        z = np.zeros(0, np.int32)
        return z, z, z, np.zeros(0, np.int64)
    ent, row, form = ent.astype(np.int64), row.astype(np.int64), form.astype(np.int64)
    # one int64 sort key (entity, row, form) when the three fit in 63 bits, else a lexsort
    rb, fb = max(1, int(n).bit_length()), max(1, int(n_forms).bit_length())
    if int(ent.max() + 1).bit_length() + rb + fb <= 63:
        key = _pack(ent, row, form, rb, fb)
        if cnt is None:
            key = pl.Series(key).sort().to_numpy()
            first = np.ones(key.size, bool)
            first[1:] = key[1:] != key[:-1]
            at = np.flatnonzero(first)
            cnt = np.diff(np.append(at, key.size)).astype(np.int64)
            key = key[at]
        else:
            order = pl.Series(key).arg_sort().to_numpy()
            key, cnt = key[order], cnt[order].astype(np.int64)
        return (*_unpack(key, rb, fb), cnt)
    order = np.lexsort((form, row, ent))
    ent, row, form = ent[order], row[order], form[order]
    if cnt is None:
        first = np.ones(ent.size, bool)
        first[1:] = (ent[1:] != ent[:-1]) | (row[1:] != row[:-1]) | (form[1:] != form[:-1])
        at = np.flatnonzero(first)
        cnt = np.diff(np.append(at, ent.size)).astype(np.int64)
        ent, row, form = ent[at], row[at], form[at]
    else:
        cnt = cnt[order].astype(np.int64)
    return ent.astype(np.int32), row.astype(np.int32), form.astype(np.int32), cnt


def _entries_full(rows: pl.DataFrame, mentions: pl.LazyFrame, entities: pl.LazyFrame | None) -> tuple:
    """(ents, forms, ef_ent, ef_row, ef_form, ef_cnt, 0) from every mention row."""
    m = mentions.select("doc_id", "entity_id", "surface", "lemma", "entity_type")
    # entities: every id seen in mentions (plus the entity table's), sorted -> codes
    ents = _entity_table(m.select("entity_id").unique(), entities, m)
    coded = _coded(m, rows, ents)
    forms = coded.select("h", "surface", "lemma").unique(subset="h", keep="any").sort(["surface", "lemma"])
    forms = forms.with_columns(pl.int_range(forms.height, dtype=pl.Int64).alias("form"))
    form = _form_codes(coded, forms)
    ent_a, row_a = coded["ent"].to_numpy(), coded["row"].to_numpy()
    del coded
    got = _sorted_entries(ent_a, row_a, form, None, rows.height, forms.height)
    return (ents, forms.select("surface", "lemma"), *got, 0, None)


@dataclass
class _Rows:
    """The per-article codes every precomputed count is split by (new version)."""

    languages: pl.Series  # sorted language labels
    outlets: pl.Series    # sorted outlet labels
    lang: np.ndarray      # row -> language code
    outlet: np.ndarray    # row -> outlet code
    day: np.ndarray       # row -> day number (UNDATED_DAY when undated)
    dup: np.ndarray       # row -> is a duplicate (never counted)


@dataclass
class _Delta:
    """How the previous version's index maps onto the new one (made by `_entries_reused`):
    what the derived tables need to be updated by the change instead of recomputed.

    Rows "leave" (`minus`: their previous entries, in previous codes) when their entries
    were not reused or any code a count is split by (language, outlet, day, duplicate)
    changed; rows "enter" (`plus`: their new entries, in new codes) likewise. Every map is
    increasing where defined (old and new dictionaries are both sorted), so remapped
    previous tables keep their order."""

    prev: Path
    rowmap: np.ndarray      # previous row -> new row (-1: its entries were not reused)
    reused: np.ndarray      # new row -> its entries came from the previous index
    entmap: np.ndarray      # previous entity code -> new (-1: in no reused entry)
    formmap: np.ndarray     # previous form code -> new (-1: in no reused entry)
    langmap: np.ndarray     # previous language code -> new (-1: gone)
    outletmap: np.ndarray   # previous outlet code -> new (-1: gone)
    p_lang: np.ndarray      # previous row -> previous language code
    p_outlet: np.ndarray    # previous row -> previous outlet code
    p_day: np.ndarray       # previous row -> day
    p_dup: np.ndarray       # previous row -> duplicate
    minus: tuple            # (ent, row, form, cnt) leaving, previous codes and rows, sorted
    plus: tuple             # (ent, row, form, cnt) entering, new codes and rows, sorted
    fresh: tuple            # (ent, row, form, cnt) of the rows not reused, new codes, sorted

    @property
    def p_n_lang(self) -> int:
        return max(self.langmap.size, 1)


def _lookup(labels: pl.Series, dictionary: pl.Series) -> np.ndarray:
    """Position of each label in the sorted unique `dictionary`, -1 when absent (int64)."""
    if labels.len() == 0:
        return np.zeros(0, np.int64)
    pos = dictionary.search_sorted(labels, side="left").to_numpy().astype(np.int64)
    ok = pos < dictionary.len()
    found = np.zeros(pos.size, bool)
    found[ok] = (dictionary.gather(pos[ok]) == labels.filter(pl.Series(ok))).to_numpy()
    return np.where(found, pos, -1)


def _entries_reused(a: pl.DataFrame, rows: pl.DataFrame, spans: pl.DataFrame, mentions: pl.LazyFrame,
                    entities: pl.LazyFrame | None, prev: Path, unchanged_paths: pl.Series | None,
                    attrs: _Rows, all_known: bool) -> tuple:
    """The same result as `_entries_full` (plus a `_Delta` for the derived tables), reading
    the mention rows of new and changed articles only; the others' entries come from the
    previous version's index in `prev`.

    An article is reused when the previous index has its doc_id with the same n_mentions:
    a doc_id hashes the article's path, record and text, and under one pipeline version
    (the build passes `prev` only then) its mentions are a function of its text; with
    `unchanged_paths` its input file must also be one whose rows the build reused. Codes are
    not reused: entity, form and row codes are remapped through the new dictionaries.
    `attrs`: the new rows' split codes (a reused row whose codes changed moves its counts);
    `all_known`: every mention's doc_id is an article's (else the entity set differs).
    Raises (so the caller builds from scratch) when anything disagrees."""
    meta = json.loads((prev / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise _NoReuse("another index format")
    p_docs = pl.read_ipc(prev / "articles.arrow", columns=["doc_id", "n_mentions"])
    p_ids = pl.read_ipc(prev / "entities.arrow", columns=["entity_id"])["entity_id"]
    p_forms = pl.read_ipc(prev / "forms.arrow")
    p_dicts = pl.read_ipc(prev / "dicts.arrow")
    p_indptr = np.load(prev / "ef_indptr.npy", allow_pickle=False)
    # memory-mapped: read once by the passes below, never copied whole
    p_row, p_form, p_cnt = (np.load(prev / f"ef_{k}.npy", mmap_mode="r", allow_pickle=False)
                            for k in ("row", "form", "cnt"))
    p_lang, p_outlet, p_day, p_dup = (np.load(prev / f"{k}.npy", allow_pickle=False)
                                      for k in ("lang", "outlet", "day", "dup"))
    pn = p_docs.height
    if (pn != meta.get("articles") or p_ids.len() != meta.get("entities") or p_indptr.size != p_ids.len() + 1
            or not (int(p_indptr[-1]) == p_row.size == p_form.size == p_cnt.size)
            or (p_row.size and (int(p_row.min()) < 0 or int(p_row.max()) >= pn
                                or int(p_form.min()) < 0 or int(p_form.max()) >= p_forms.height))
            or np.any(np.diff(p_indptr) < 0) or not (p_lang.size == p_outlet.size == p_day.size == p_dup.size == pn)):
        raise _NoReuse("the previous index is inconsistent")
    langmap = _lookup(p_dicts.filter(pl.col("kind") == "language")["label"], attrs.languages)
    outletmap = _lookup(p_dicts.filter(pl.col("kind") == "outlet")["label"], attrs.outlets)
    if pn and (int(p_lang.max()) >= langmap.size or int(p_outlet.max()) >= outletmap.size):
        raise _NoReuse("the previous index is inconsistent")
    # every mention must belong to an article (else the full build's entity set differs)
    if not all_known:
        raise _NoReuse("mentions of unknown articles")
    n = a.height
    # joined on the doc_id alone, then the mention counts compared (faster than both keys)
    same = (p_docs.with_row_index("prow")
            .join(a.select("doc_id", pl.col("n_mentions").alias("n_new"), pl.int_range(n, dtype=pl.Int64).alias("row")),
                  on="doc_id", how="inner")
            .filter(pl.col("n_mentions").fill_null(-1) == pl.col("n_new").fill_null(-1)))
    if unchanged_paths is not None:
        keep_paths = a.select(pl.col("path").is_in(unchanged_paths.implode()))["path"].to_numpy()
        same = same.filter(pl.Series(keep_paths[same["row"].to_numpy()]))
    prow, row = same["prow"].to_numpy().astype(np.int64), same["row"].to_numpy()
    rowmap = np.full(pn, -1, np.int64)
    rowmap[prow] = row
    reused = np.zeros(n, bool)
    reused[row] = True
    # reused rows whose counts move: another language, outlet, day or duplicate status
    moved = ((langmap[p_lang[prow]] != attrs.lang[row]) | (outletmap[p_outlet[prow]] != attrs.outlet[row])
             | (p_day[prow] != attrs.day[row]) | (p_dup[prow] != attrs.dup[row]))
    # entries of the reused articles (prev codes for now), and those whose counts leave; the
    # entity of an entry is its CSR segment, so only counts per entity are made, not a
    # 23M-long entity column
    p_seg = np.diff(p_indptr)
    k_row = rowmap.astype(np.int32)[p_row]
    keep = k_row >= 0
    kc = p_seg - _segment_counts(np.flatnonzero(~keep), p_indptr)
    if moved.any():
        leaves = rowmap < 0
        leaves[prow[moved]] = True
        gone = np.flatnonzero(leaves[p_row])
    else:
        gone = np.flatnonzero(~keep)
    minus = (np.repeat(np.arange(p_ids.len(), dtype=np.int32), _segment_counts(gone, p_indptr)), p_row[gone],
             p_form[gone], p_cnt[gone].astype(np.int64))
    del gone
    k_row = k_row[keep]
    k_form = p_form[keep]
    k_cnt = p_cnt[keep]
    del keep, p_row, p_form, p_cnt
    # the mention rows of the other articles: only the part of the table that holds them
    fresh = a["doc_id"].filter(pl.Series(~reused))
    where = spans.join(fresh.to_frame(), on="doc_id", how="semi").select(pl.col("lo").min(), pl.col("hi").max())
    lo, hi = where.row(0)
    lo, hi = (lo or 0), (hi or 0)
    m = (mentions.select("doc_id", "entity_id", "surface", "lemma", "entity_type").slice(lo, max(hi - lo, 0))
         .filter(pl.col("doc_id").is_in(fresh.implode())).collect())
    # codes in use (linear, where np.unique would sort 23M entries at 1M articles)
    used_ent = np.flatnonzero(kc)
    kept_ids = p_ids.gather(used_ent)
    ids = pl.concat([kept_ids.to_frame("entity_id"), m.select("entity_id")]).unique()
    ents = _entity_table(ids.lazy(), entities, None)
    coded = _coded(m.lazy(), rows, ents)
    del m
    # forms in use: marked in place (a bincount would first copy the 23M codes to 64 bits)
    in_use = np.zeros(p_forms.height, bool)
    in_use[k_form] = True
    used_form = np.flatnonzero(in_use)
    del in_use
    old_forms = (p_forms[used_form].select(pl.col("surface").cast(pl.String), pl.col("lemma").cast(pl.String))
                 .with_columns(pl.struct("surface", "lemma").hash(seed=0).alias("h")))
    forms = _merge_forms(old_forms.select("h", "surface", "lemma"), coded.select("h", "surface", "lemma"))
    forms = forms.with_columns(pl.int_range(forms.height, dtype=pl.Int64).alias("form"))
    # remap the reused entries' codes through the new dictionaries
    entmap = np.full(p_ids.len(), -1, np.int64)
    entmap[used_ent] = _codes(kept_ids, ents["entity_id"])
    formmap = np.full(p_forms.height, -1, np.int64)
    formmap[used_form] = _form_codes(old_forms, forms)
    if (used_ent.size and int(entmap[used_ent].min()) < 0) or (used_form.size and int(formmap[used_form].min()) < 0):
        raise _NoReuse("codes that do not map")
    k_form = formmap.astype(np.int32)[k_form]
    k_counts = np.zeros(ents.height, np.int64)
    k_counts[entmap[used_ent]] = kc[used_ent]
    # the new articles' mentions -> distinct entries, merged into the reused ones
    f_form = _form_codes(coded, forms)
    fresh_e = _sorted_entries(coded["ent"].to_numpy(), coded["row"].to_numpy(), f_form, None, n, forms.height)
    del coded
    got = _merge_entries((k_counts, k_row, k_form, k_cnt), fresh_e, rowmap, n, forms.height)
    del k_row, k_form, k_cnt
    if moved.any():
        enters = ~reused
        enters[row[moved]] = True
        sel = enters[got[1]]
        plus = tuple(x[sel] for x in got)
    else:
        plus = fresh_e
    delta = _Delta(prev=prev, rowmap=rowmap, reused=reused, entmap=entmap, formmap=formmap, langmap=langmap,
                   outletmap=outletmap, p_lang=p_lang, p_outlet=p_outlet, p_day=p_day, p_dup=p_dup,
                   minus=minus, plus=plus, fresh=fresh_e)
    return (ents, forms.select("surface", "lemma"), *got, int(reused.sum()), delta)


def _segment_counts(at: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """How many of the positions `at` (sorted) fall in each CSR segment (int64): a few
    binary searches, where a count over every value would pass over all of them."""
    return np.diff(np.searchsorted(at, indptr))


def _rank_in_segments(keys: np.ndarray, lo: np.ndarray, hi: np.ndarray, want: np.ndarray) -> np.ndarray:
    """For each query i: the first position in [lo[i], hi[i]) of sorted `keys` whose key is
    not below want[i] (a vectorised binary search: one step over every query at a time)."""
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    top = max(keys.size - 1, 0)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        below = keys[np.minimum(mid, top)] < want if keys.size else np.zeros(mid.size, bool)
        lo = np.where(active & below, mid + 1, lo)
        hi = np.where(active & ~below, mid, hi)


def _merge_forms(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """The distinct forms (h, surface, lemma) of `old` (distinct, sorted by surface, lemma:
    the previous dictionary's rows in use) and `new` (any), sorted by surface, lemma as
    `unique(subset="h").sort(["surface", "lemma"])` sorts them: the few forms not in `old`
    are merged in by a binary search on surface + NUL + lemma (which orders as the pair
    when no form holds a NUL: a byte-wise comparison); the whole set is sorted otherwise."""
    add = new.unique(subset="h", keep="any").join(old.select("h"), on="h", how="anti")
    if add.height == 0:
        return old
    key = pl.col("surface") + "\x00" + pl.col("lemma")
    nul = pl.col("surface").str.contains("\x00", literal=True) | pl.col("lemma").str.contains("\x00", literal=True)
    old_key = old.select(key.alias("k"))["k"]
    add = add.with_columns(key.alias("k")).sort("k")
    if (old.select(nul.any()).item() or add.select(nul.any()).item()
            or not old_key.is_sorted() or add["k"].n_unique() != add.height):
        return pl.concat([old, add.drop("k")]).sort(["surface", "lemma"])
    # position of each form in the merged order: old ones shift by the new ones before them
    at = old_key.search_sorted(add["k"], side="left").to_numpy().astype(np.int64)
    pos_new = at + np.arange(at.size)
    pos_old = np.arange(old.height) + np.searchsorted(at, np.arange(old.height), side="right")
    order = np.empty(old.height + add.height, np.int64)
    order[pos_old] = np.arange(old.height)
    order[pos_new] = old.height + np.arange(add.height)
    return pl.concat([old, add.drop("k")]).gather(order)


def _merge_entries(kept: tuple, fresh: tuple, rowmap: np.ndarray, n: int, n_forms: int) -> tuple:
    """`_sorted_entries` of the reused entries (`kept`: entries per new entity code, then
    row, form and mentions, in the previous index's order with codes remapped) and the new
    rows' entries (`fresh`: ent, row, form, mentions, sorted); no row has both.

    Entity and form codes map increasingly from the previous version (both dictionaries
    are sorted), so when `rowmap` also keeps the reused rows' order the reused entries are
    still sorted and the new ones are merged in: each finds its place by a binary search in
    its entity's rows (linear time, no 64-bit key over every entry); otherwise everything is
    sorted again."""
    k_counts, k_row, k_form, k_cnt = kept
    f_ent, f_row, f_form, f_cnt = fresh
    n_ent = k_counts.size
    kept_rows = rowmap[rowmap >= 0]
    counts = k_counts + np.bincount(f_ent, minlength=n_ent)
    ent = np.repeat(np.arange(n_ent, dtype=np.int32), counts)
    if kept_rows.size > 1 and not bool(np.all(kept_rows[1:] > kept_rows[:-1])):
        k_ent = np.repeat(np.arange(n_ent, dtype=np.int32), k_counts)
        return _sorted_entries(np.concatenate([k_ent, f_ent]), np.concatenate([k_row, f_row]),
                               np.concatenate([k_form, f_form]), np.concatenate([k_cnt, f_cnt]), n, n_forms)
    k_ptr = np.zeros(n_ent + 1, np.int64)
    np.cumsum(k_counts, out=k_ptr[1:])
    at = _rank_in_segments(k_row, k_ptr[f_ent], k_ptr[f_ent + 1], f_row)
    cnt_type = np.promote_types(k_cnt.dtype, _small_uint(f_cnt).dtype)
    row, form = np.insert(k_row, at, f_row.astype(np.int32)), np.insert(k_form, at, f_form.astype(np.int32))
    # the order the merge relies on, checked (a damaged previous index falls back)
    if row.size > 1:
        up = (row[1:] > row[:-1]) | ((row[1:] == row[:-1]) & (form[1:] > form[:-1]))
        ptr = np.cumsum(counts)[:-1]
        up[ptr[(ptr > 0) & (ptr < row.size)] - 1] = True  # a new entity starts anywhere
        if not bool(up.all()):
            raise _NoReuse("the previous entries are out of order")
    return ent, row, form, np.insert(k_cnt.astype(cnt_type, copy=False), at, f_cnt.astype(cnt_type))


def _sum_np(ent: np.ndarray, key: np.ndarray, cnt: np.ndarray) -> tuple[np.ndarray, ...]:
    """`_sum_by` as four int64 arrays (ent, key, m, d)."""
    g = _sum_by(ent, key, cnt)
    return tuple(g[c].to_numpy() for c in ("ent", "key", "m", "d"))


def _pairs(ent: np.ndarray, row: np.ndarray, cnt: np.ndarray) -> tuple[np.ndarray, ...]:
    """The distinct (entity, article) pairs of entries sorted by entity, row (then form):
    one run-length pass. Returns pair entity (int32), row (int32), mentions and number of
    entries (distinct forms), both int64."""
    if ent.size == 0:
        z = np.zeros(0, np.int32)
        return z, z, np.zeros(0, np.int64), np.zeros(0, np.int64)
    new = np.empty(ent.size, bool)
    new[0] = True
    new[1:] = (ent[1:] != ent[:-1]) | (row[1:] != row[:-1])
    starts = np.flatnonzero(new)
    return (ent[starts].astype(np.int32, copy=False), row[starts].astype(np.int32, copy=False),
            np.add.reduceat(cnt, starts, dtype=np.int64), np.diff(np.append(starts, ent.size)).astype(np.int64))


def _apply_delta(prev: tuple, minus: tuple, plus: tuple, entmap: np.ndarray, keymap) -> tuple[np.ndarray, ...]:
    """A `_sum_np` table (ent, key, m, d sorted by ent, key) of the new version from the
    previous version's table (`prev`: indptr, key, m, d as saved) minus the grouped entries
    that left (`minus`, previous codes) plus those that entered (`plus`, new codes): the
    previous table's codes are remapped (`entmap`, `keymap(keys) -> new keys, -1 when
    gone`; both increasing, so the order holds), new (ent, key) cells are merged in. Each
    cell that changes is found by a binary search in its entity's keys; the passes over
    the whole table are the copies, the key remap and an order check.
    Raises _NoReuse when the parts disagree (a removed cell that is not there, a count
    below zero, a cell left with mentions but no entries, a code that does not map)."""
    p_indptr, p_key, p_m, p_d = prev
    if not (p_indptr.size - 1 == entmap.size and int(p_indptr[-1]) == p_key.size == p_m.size == p_d.size):
        raise _NoReuse("the previous table is inconsistent")
    key = p_key.astype(np.int64)
    m, d = p_m.astype(np.int64), p_d.astype(np.int64)
    if minus[0].size:
        me, mk = minus[0].astype(np.int64), minus[1].astype(np.int64)
        at = _rank_in_segments(key, p_indptr[me], p_indptr[me + 1], mk)
        if bool((at >= p_indptr[me + 1]).any()) or not np.array_equal(key[at], mk):
            raise _NoReuse("a removed cell is not in the previous table")
        m[at] -= minus[2]
        d[at] -= minus[3]
    if (d < 0).any() or (m < 0).any() or m[d == 0].any():
        raise _NoReuse("counts that do not add up")
    dead = np.flatnonzero(d == 0)
    alive_per = np.diff(p_indptr) - _segment_counts(dead, p_indptr)
    if dead.size:
        key, m, d = np.delete(key, dead), np.delete(m, dead), np.delete(d, dead)
    used = np.flatnonzero(alive_per)
    new_ent = entmap[used]
    if used.size and (int(new_ent.min()) < 0 or not bool(np.all(new_ent[1:] > new_ent[:-1]))):
        raise _NoReuse("codes that do not map")
    n_ent = max(int(new_ent.max()) + 1 if used.size else 0, int(plus[0].max()) + 1 if plus[0].size else 0)
    counts = np.zeros(n_ent, np.int64)
    counts[new_ent] = alive_per[used]
    key = keymap(key)
    if key.size and int(key.min()) < 0:
        raise _NoReuse("codes that do not map")
    indptr = np.zeros(n_ent + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    if key.size > 1:  # keys ascend within each entity (a damaged previous table falls back)
        up = key[1:] > key[:-1]
        starts = indptr[1:-1]
        up[starts[(starts > 0) & (starts < key.size)] - 1] = True
        if not bool(up.all()):
            raise _NoReuse("the remapped table is out of order")
    pe, pk = plus[0].astype(np.int64), plus[1].astype(np.int64)
    at = _rank_in_segments(key, indptr[pe], indptr[pe + 1], pk)
    hit = at < indptr[pe + 1]
    hit[hit] = key[at[hit]] == pk[hit]
    m[at[hit]] += plus[2][hit]
    d[at[hit]] += plus[3][hit]
    miss = ~hit
    key = np.insert(key, at[miss], pk[miss])
    m = np.insert(m, at[miss], plus[2][miss])
    d = np.insert(d, at[miss], plus[3][miss])
    counts += np.bincount(pe[miss], minlength=n_ent)
    return np.repeat(np.arange(n_ent, dtype=np.int64), counts), key, m, d


def _pair_key(a: np.ndarray, b: np.ndarray, nb: int) -> np.ndarray:
    """a * nb + b where both codes are defined (>= 0), else -1."""
    return np.where((a >= 0) & (b >= 0), a * nb + b, -1)


def _load_table(prev: Path, name: str, key: str) -> tuple[np.ndarray, ...]:
    return tuple(np.load(prev / f"{name}_{k}.npy", allow_pickle=False) for k in ("indptr", key, "men", "docs"))


def _sf_delta(dl: _Delta, rw: _Rows) -> tuple[np.ndarray, ...]:
    """The (entity, form x language) table over originals, updated by the change."""
    p_nl, n_lang = dl.p_n_lang, max(rw.languages.len(), 1)
    e, r, f, c = dl.minus
    o = ~dl.p_dup[r]
    minus = _sum_np(e[o], f[o].astype(np.int64) * p_nl + dl.p_lang[r[o]], c[o])
    e, r, f, c = dl.plus
    o = ~rw.dup[r]
    plus = _sum_np(e[o], f[o].astype(np.int64) * n_lang + rw.lang[r[o]], c[o])
    return _apply_delta(_load_table(dl.prev, "sf", "key"), minus, plus, dl.entmap,
                        lambda k: _pair_key(dl.formmap[k // p_nl], dl.langmap[k % p_nl], n_lang))


def _eo_delta(dl: _Delta, rw: _Rows, minus_pairs: tuple, plus_pairs: tuple) -> tuple[np.ndarray, ...]:
    """The (entity, outlet x language) table over originals, updated by the change."""
    p_nl, n_lang = dl.p_n_lang, max(rw.languages.len(), 1)
    e, r, c = minus_pairs
    o = ~dl.p_dup[r]
    minus = _sum_np(e[o], dl.p_outlet[r[o]].astype(np.int64) * p_nl + dl.p_lang[r[o]], c[o])
    e, r, c = plus_pairs
    o = ~rw.dup[r]
    plus = _sum_np(e[o], rw.outlet[r[o]].astype(np.int64) * n_lang + rw.lang[r[o]], c[o])
    return _apply_delta(_load_table(dl.prev, "eo", "key"), minus, plus, dl.entmap,
                        lambda k: _pair_key(dl.outletmap[k // p_nl], dl.langmap[k % p_nl], n_lang))


def _ed_delta(dl: _Delta, rw: _Rows, minus_pairs: tuple, plus_pairs: tuple) -> tuple[np.ndarray, ...]:
    """The (entity, day) table over dated originals, updated by the change."""
    e, r, c = minus_pairs
    o = ~dl.p_dup[r] & (dl.p_day[r] != UNDATED_DAY)
    minus = _sum_np(e[o], dl.p_day[r[o]], c[o])
    e, r, c = plus_pairs
    o = ~rw.dup[r] & (rw.day[r] != UNDATED_DAY)
    plus = _sum_np(e[o], rw.day[r[o]], c[o])
    return _apply_delta(_load_table(dl.prev, "ed", "day"), minus, plus, dl.entmap, lambda k: k)


def _el_delta(dl: _Delta, rw: _Rows, n_ent: int, minus_pairs: tuple, plus_pairs: tuple) -> tuple[np.ndarray, ...]:
    """The dense entity x language mentions and articles over originals (el_men, el_docs),
    updated by the change."""
    p_nl, n_lang, p_ne = dl.langmap.size, rw.languages.len(), dl.entmap.size
    if p_nl == 0 or n_lang == 0:
        raise _NoReuse("no languages")
    ve, vl = dl.entmap >= 0, dl.langmap >= 0
    out = []
    for name, weighted in (("men", True), ("docs", False)):
        p = np.load(dl.prev / f"el_{name}.npy", allow_pickle=False).astype(np.int64)
        if p.size != p_ne * p_nl:
            raise _NoReuse("the previous table is inconsistent")
        e, r, c = minus_pairs
        o = ~dl.p_dup[r]
        k = e[o].astype(np.int64) * p_nl + dl.p_lang[r[o]]
        p -= np.bincount(k, weights=c[o] if weighted else None, minlength=p.size).astype(np.int64)
        p = p.reshape(p_ne, p_nl)
        if (p < 0).any() or p[~ve].any() or p[:, ~vl].any():
            raise _NoReuse("counts that do not add up")
        new = np.zeros((n_ent, n_lang), np.int64)
        new[np.ix_(dl.entmap[ve], dl.langmap[vl])] = p[np.ix_(ve, vl)]
        new = new.ravel()
        e, r, c = plus_pairs
        o = ~rw.dup[r]
        k = e[o].astype(np.int64) * n_lang + rw.lang[r[o]]
        new += np.bincount(k, weights=c[o] if weighted else None, minlength=new.size).astype(np.int64)
        out.append(new)
    return tuple(out)


def _ea_delta(dl: _Delta, n_ent: int, fresh_pairs: tuple) -> tuple[np.ndarray, ...]:
    """The (entity, article) pairs (`_pairs`' four arrays) of the new version: the previous
    index's pairs of the reused rows (rows and entity codes remapped, order kept) with the
    new rows' pairs merged in, as `_merge_entries` merges the entries."""
    p_indptr = np.load(dl.prev / "ea_indptr.npy", allow_pickle=False)
    p_row, p_cnt, p_nf = (np.load(dl.prev / f"ea_{k}.npy", mmap_mode="r", allow_pickle=False)
                          for k in ("row", "cnt", "nf"))
    if p_indptr.size != dl.entmap.size + 1 or not (int(p_indptr[-1]) == p_row.size == p_cnt.size == p_nf.size):
        raise _NoReuse("the previous pairs are inconsistent")
    kept_rows = dl.rowmap[dl.rowmap >= 0]
    if kept_rows.size > 1 and not bool(np.all(kept_rows[1:] > kept_rows[:-1])):
        raise _NoReuse("reused rows reordered")
    k_row = dl.rowmap.astype(np.int32)[p_row]
    keep = k_row >= 0
    kc = np.diff(p_indptr) - _segment_counts(np.flatnonzero(~keep), p_indptr)
    used = np.flatnonzero(kc)
    if used.size and int(dl.entmap[used].min()) < 0:
        raise _NoReuse("codes that do not map")
    k_counts = np.zeros(n_ent, np.int64)
    k_counts[dl.entmap[used]] = kc[used]
    k_row, k_cnt, k_nf = k_row[keep], p_cnt[keep], p_nf[keep]
    del keep
    f_ent, f_row, f_cnt, f_nf = fresh_pairs
    k_ptr = np.zeros(n_ent + 1, np.int64)
    np.cumsum(k_counts, out=k_ptr[1:])
    at = _rank_in_segments(k_row, k_ptr[f_ent], k_ptr[f_ent + 1], f_row)
    counts = k_counts + np.bincount(f_ent, minlength=n_ent)
    ent = np.repeat(np.arange(n_ent, dtype=np.int32), counts)
    row = np.insert(k_row, at, f_row)
    if row.size > 1:  # rows ascend within each entity (a damaged previous index falls back)
        up = row[1:] > row[:-1]
        ptr = np.cumsum(counts)[:-1]
        up[ptr[(ptr > 0) & (ptr < row.size)] - 1] = True
        if not bool(up.all()):
            raise _NoReuse("the previous pairs are out of order")
    cnt_type = np.promote_types(k_cnt.dtype, _small_uint(f_cnt).dtype)
    nf_type = np.promote_types(k_nf.dtype, _small_uint(f_nf).dtype)
    return (ent, row, np.insert(k_cnt.astype(cnt_type, copy=False), at, f_cnt.astype(cnt_type)),
            np.insert(k_nf.astype(nf_type, copy=False), at, f_nf.astype(nf_type)))


def _sf_full(ef_ent: np.ndarray, ef_row: np.ndarray, ef_form: np.ndarray, ef_cnt: np.ndarray,
             rw: _Rows) -> tuple[np.ndarray, ...]:
    """The (entity, form x language) table over originals from every entry."""
    keep = ~rw.dup[ef_row] if ef_row.size else np.zeros(0, bool)
    n_lang = max(rw.languages.len(), 1)
    return _sum_np(ef_ent[keep], ef_form[keep].astype(np.int64) * n_lang + rw.lang[ef_row[keep]], ef_cnt[keep])


def _ae_full(pair_ent: np.ndarray, pair_row: np.ndarray, cnt: np.ndarray, n: int, n_ent: int) -> tuple[np.ndarray, ...]:
    """The article -> entities postings (indptr, entities, mentions) from every pair."""
    by_row = pl.Series(pair_row.astype(np.int64) * max(n_ent, 1) + pair_ent).arg_sort().to_numpy()
    return _csr(pair_row[by_row], n), pair_ent[by_row], cnt[by_row]


def _totals_full(kind: str, pairs: tuple, rw: _Rows, n_ent: int) -> tuple[np.ndarray, ...]:
    """A per-entity totals table over originals from every (entity, row, mentions) pair:
    "el" the dense entity x language mentions and articles, "eo" the (entity, outlet x
    language) table, "ed" the (entity, day) table of dated originals."""
    ent, row, cnt = pairs
    n_lang = max(rw.languages.len(), 1)
    orig = ~rw.dup[row] if row.size else np.zeros(0, bool)
    if kind == "ed":
        orig &= rw.day[row] != UNDATED_DAY
    ent, row, cnt = ent[orig], row[orig], cnt[orig]
    if kind == "el":
        key = ent.astype(np.int64) * n_lang + rw.lang[row]
        return (np.bincount(key, weights=cnt, minlength=n_ent * n_lang).astype(np.int64),
                np.bincount(key, minlength=n_ent * n_lang).astype(np.int64))
    if kind == "eo":
        return _sum_np(ent, rw.outlet[row].astype(np.int64) * n_lang + rw.lang[row], cnt)
    return _sum_np(ent, rw.day[row], cnt)


def _list_order(a: pl.DataFrame, rows: np.ndarray) -> np.ndarray:
    """The given rows in list order: newest first, undated last, then title (missing last),
    then doc_id."""
    sub = a.select(pl.int_range(a.height, dtype=pl.Int64).alias("row"), "published", "title", "doc_id")
    if rows.size != a.height:
        sub = sub[rows]
    return sub.sort(["published", "title", "doc_id"], descending=[True, False, False],
                    nulls_last=True)["row"].to_numpy()


def _list_before(a: pl.DataFrame, day: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Whether row x[i] comes before row y[i] in list order (`_list_order`), elementwise."""
    dx, dy = -day[x].astype(np.int64), -day[y].astype(np.int64)  # undated (lowest day) last
    tx, ty = a["title"].gather(x), a["title"].gather(y)
    t_lt = ((tx < ty).fill_null(False) | (tx.is_not_null() & ty.is_null())).to_numpy()
    t_eq = ((tx == ty).fill_null(False) | (tx.is_null() & ty.is_null())).to_numpy()
    i_lt = (a["doc_id"].gather(x) < a["doc_id"].gather(y)).fill_null(False).to_numpy()
    return (dx < dy) | ((dx == dy) & (t_lt | (t_eq & i_lt)))


def _list_order_delta(dl: _Delta, a: pl.DataFrame, day: np.ndarray) -> np.ndarray:
    """`_list_order` of every row from the previous list order: the reused rows in their
    previous order (checked to be in order still: their dates or titles may have changed),
    the others sorted and merged in by a binary search."""
    p_rank = np.load(dl.prev / "list_rank.npy", allow_pickle=False).astype(np.int64)
    pn = dl.rowmap.size
    if p_rank.size != pn or (pn and (int(p_rank.min()) < 0 or int(p_rank.max()) >= pn)):
        raise _NoReuse("the previous list order is inconsistent")
    p_order = np.empty(pn, np.int64)
    p_order[p_rank] = np.arange(pn)
    if not np.array_equal(p_rank[p_order], np.arange(pn)):
        raise _NoReuse("the previous list order is not a permutation")
    # reused rows keep their place unless their date or title changed (the doc_id is the
    # same), compared by a 64-bit hash of both (no string is gathered)
    key = pl.struct("published", "title").hash(seed=0)
    p_h = pl.read_ipc(dl.prev / "articles.arrow", columns=["published", "title"]).select(key)[:, 0].to_numpy()
    n_h = a.select(key)[:, 0].to_numpy()
    prow = np.flatnonzero(dl.rowmap >= 0)
    moved = p_h[prow] != n_h[dl.rowmap[prow]]
    if moved.sum() * 2 > prow.size:  # most moved: one sort is cheaper than merging them all
        raise _NoReuse("most reused rows moved in the list")
    place = dl.rowmap.copy()
    place[prow[moved]] = -1
    kept = place[p_order]
    kept = kept[kept >= 0]
    d = -day[kept].astype(np.int64)
    if kept.size > 1 and not bool(np.all(d[1:] >= d[:-1])):  # a cheap check of the previous order
        raise _NoReuse("the reused rows are out of list order")
    others = np.ones(a.height, bool)
    others[kept] = False
    new = _list_order(a, np.flatnonzero(others))
    # where each new row goes among the kept ones: the number of kept rows before it
    lo, hi = np.zeros(new.size, np.int64), np.full(new.size, kept.size, np.int64)
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        ahead = _list_before(a, day, kept[np.minimum(mid, max(kept.size - 1, 0))][active], new[active])
        go = np.zeros(new.size, bool)
        go[np.flatnonzero(active)[ahead]] = True
        lo = np.where(go, mid + 1, lo)
        hi = np.where(active & ~go, mid, hi)
    return np.insert(kept, lo, new)


# More blocks than this of reused rows that keep their previous order (one slice copy each):
# the rows were reordered wholesale, and the article -> entities postings are sorted again.
AE_BLOCKS = 200_000
# Articles from which an incremental build merges the new rows into the previous list order
# (_list_order_delta) instead of sorting them all (_list_order): sorting takes ~20 ms at 10k,
# ~60 ms at 100k and ~0.95 s at 1M articles; merging took ~90 ms in a 1% rebuild at 10k.
LIST_DELTA_MIN = 200_000


def _ae_delta(dl: _Delta, n: int, fresh_pairs: tuple, cnt_dtype: np.dtype) -> tuple[np.ndarray, ...]:
    """The article -> entities postings (ae_indptr, ae_ent, ae_cnt): the previous postings
    of each reused row (entity codes remapped: still sorted), the new rows' from their
    pairs. Copied block by block of consecutive reused rows that were consecutive before."""
    p_indptr = np.load(dl.prev / "ae_indptr.npy", allow_pickle=False)
    p_ent = np.load(dl.prev / "ae_ent.npy", mmap_mode="r", allow_pickle=False)
    p_cnt = np.load(dl.prev / "ae_cnt.npy", mmap_mode="r", allow_pickle=False)
    if p_indptr.size != dl.rowmap.size + 1 or not (int(p_indptr[-1]) == p_ent.size == p_cnt.size):
        raise _NoReuse("the previous postings are inconsistent")
    rr = np.flatnonzero(dl.reused)
    prow_of = np.full(n, -1, np.int64)
    kept = np.flatnonzero(dl.rowmap >= 0)
    prow_of[dl.rowmap[kept]] = kept
    pr = prow_of[rr]
    brk = np.flatnonzero((np.diff(rr) != 1) | (np.diff(pr) != 1)) + 1
    starts, ends = np.append(0, brk), np.append(brk, rr.size)
    if rr.size == 0:
        starts = ends = np.zeros(0, np.int64)
    if starts.size > AE_BLOCKS:
        raise _NoReuse("reused rows reordered")
    f_ent, f_row, f_cnt = fresh_pairs
    lens = np.zeros(n, np.int64)
    lens[rr] = np.diff(p_indptr)[pr]
    lens += np.bincount(f_row, minlength=n)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=indptr[1:])
    ent = np.empty(int(indptr[-1]), np.int32)
    cnt = np.empty(int(indptr[-1]), cnt_dtype)
    same_codes = bool(np.all((dl.entmap < 0) | (dl.entmap == np.arange(dl.entmap.size))))
    for s, e in zip(starts.tolist(), ends.tolist()):
        d0, d1 = int(indptr[rr[s]]), int(indptr[rr[e - 1] + 1])
        s0 = int(p_indptr[pr[s]])
        src = p_ent[s0:s0 + d1 - d0]
        ent[d0:d1] = src if same_codes else dl.entmap[src]
        cnt[d0:d1] = p_cnt[s0:s0 + d1 - d0]
    # the new rows' pairs, by row then entity
    o = np.lexsort((f_ent, f_row))
    fr = f_row[o]
    first = np.ones(fr.size, bool)
    first[1:] = fr[1:] != fr[:-1]
    at = np.flatnonzero(first)
    rank = np.arange(fr.size) - np.repeat(at, np.diff(np.append(at, fr.size)))
    pos = indptr[fr] + rank
    ent[pos] = f_ent[o]
    cnt[pos] = f_cnt[o]
    if ent.size and int(ent.min()) < 0:
        raise _NoReuse("codes that do not map")
    return indptr, ent, cnt


def write(articles: pl.LazyFrame, mentions: pl.LazyFrame, entities: pl.LazyFrame | None, out: Path,
          prev: str | os.PathLike | None = None, unchanged_paths: pl.Series | None = None) -> dict:
    """Build the serving index from the tables of one version into directory `out`.

    `articles` must be in the store's row order (articles.parquet order) and carry the
    contract columns (text is never read); `mentions` the counted mentions (doc_id,
    entity_id, surface, lemma, entity_type); `entities` the entity table when there is one
    (names and types; counts are recomputed here over originals). Returns meta.json's dict.

    `prev`: the previous version's index directory, when its mentions of an unchanged
    doc_id are the same rows (same pipeline version): the entries of unchanged articles
    are then taken from it and only the other articles' mention rows are read (see
    `_entries_reused`), and every derived table (list order, pairs, both posting
    directions, the per-entity totals) is updated by the change instead of recomputed
    (`_Delta`; meta.json's "updated" names them); the result is the same, byte for byte.
    Anything in `prev` that does not fit (another format, damaged files) falls back to
    reading every mention row, or, for one derived table, to computing it from all entries.
    `unchanged_paths`: when given, only articles of these input files are reused (the
    build's files whose rows it copied from the previous version).
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
    # cited sources distinct and without nulls: made so only when some list is not already
    # (a check is a tenth of the cost of making every list unique)
    src = pl.col("cited_sources")
    clean = a.select(((src.list.n_unique() == src.list.len()).all()
                      & (src.explode().drop_nulls().len() == src.list.len().sum())).alias("ok")).item()
    a = a.with_columns(
        pl.col("outlet").fill_null(UNKNOWN_OUTLET),
        pl.col("language").fill_null(UNDETERMINED),
        pl.col("mixed_language").fill_null(False),
        *([] if clean else [src.list.unique(maintain_order=True).list.drop_nulls()]),
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
    day = a["published"].cast(pl.Int32).fill_null(int(UNDATED_DAY)).to_numpy().astype(np.int32)
    _save(out, "day", day.astype(np.int32))
    _save(out, "conf", a["language_confidence"].fill_null(0.0).to_numpy().astype(np.float32))
    _save(out, "mixed", a["mixed_language"].to_numpy().astype(bool))
    dup = a["duplicate_of"].is_not_null().to_numpy()
    _save(out, "dup", dup)
    rw = _Rows(languages=languages, outlets=outlets, lang=lang_arr, outlet=outlet_arr, day=day, dup=dup)
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

    # doc_id -> row
    ids = a.select(pl.col("doc_id"), pl.int_range(n, dtype=pl.Int32).alias("row")).sort("doc_id")
    _save(out, "doc_sorted_row", ids["row"].to_numpy())
    _write_ipc(out, "articles", a)
    _write_ipc(out, "doc_sorted", ids.select("doc_id"))
    rows = a.select("doc_id", pl.int_range(n, dtype=pl.Int32).alias("row"))

    # where each article's mentions lie in mentions.parquet ([lo, hi) rows): the reader reads
    # only those row groups (the table is in input order, not sorted by doc_id, so row-group
    # statistics alone would not narrow a lookup down)
    spans = (mentions.select("doc_id").with_row_index("mrow").group_by("doc_id")
             .agg(pl.col("mrow").min().cast(pl.Int64).alias("lo"), (pl.col("mrow").max().cast(pl.Int64) + 1).alias("hi"))
             .collect())
    span = rows.join(spans, on="doc_id", how="left", maintain_order="left")
    _save(out, "men_lo", span["lo"].fill_null(0).to_numpy())
    _save(out, "men_hi", span["hi"].fill_null(0).to_numpy())
    # every mention belongs to an article: each span found its row (doc ids are unique)
    sorted_ids = ids["doc_id"]
    all_known = (int(span["lo"].is_not_null().sum()) == spans.height
                 and not bool((sorted_ids.slice(1) == sorted_ids.slice(0, max(n - 1, 0))).any()))
    del span, sorted_ids

    # entities, written forms and the distinct (entity, article, form) entries with their
    # mentions: from the previous version's index for unchanged articles and the mention rows
    # of the others only when `prev` allows it, else from every mention row
    got = None
    if prev is not None:
        try:
            got = _entries_reused(a, rows, spans, mentions, entities, Path(prev), unchanged_paths, rw, all_known)
        except Exception:  # noqa: BLE001  anything unexpected in the old index: build from scratch
            got = None
    del spans
    if got is None:
        got = _entries_full(rows, mentions, entities)
    ents, forms, ef_ent, ef_row, ef_form, ef_cnt, reused, delta = got
    del got
    n_ent = ents.height
    n_lang = max(languages.len(), 1)
    # every table below is either updated from the previous index by the change (`delta`,
    # when the entries were reused and the parts fit) or computed from all the entries
    done: list[str] = []

    def derive(name: str, incremental, full, *args):
        """incremental() when the change allows it (recorded in `done`), else full(*args)."""
        if delta is not None:
            try:
                value = incremental()
            except Exception:  # noqa: BLE001  anything that does not fit: computed in full
                pass
            else:
                done.append(name)
                return value
        return full(*args)

    # list order: newest first, undated last, then title, doc_id -> a rank per row (merged into
    # the previous order only in large stores: below LIST_DELTA_MIN one sort is cheaper)
    order = (derive("list", lambda: _list_order_delta(delta, a, day), _list_order, a, np.arange(n))
             if n >= LIST_DELTA_MIN else _list_order(a, np.arange(n)))
    rank = np.empty(n, np.int32)
    rank[order] = np.arange(n, dtype=np.int32)
    _save(out, "list_rank", rank)
    del order, rank

    # unfiltered written forms per (entity, form, language) over originals, so the forms
    # table of a popular entity needs no pass over its millions of mentions
    sf = derive("sf", lambda: _sf_delta(delta, rw), _sf_full, ef_ent, ef_row, ef_form, ef_cnt, rw)
    # distinct (entity, article, form) with their mentions: the mention postings run-length
    # coded (23M entries for 30M mentions at 1M articles; the forms table of a filtered
    # selection reads only its selected articles' entries)
    _save(out, "ef_indptr", _csr(ef_ent, n_ent))
    _save(out, "ef_row", ef_row)
    _save(out, "ef_form", ef_form)
    _save(out, "ef_cnt", _small_uint(ef_cnt))
    _save(out, "sf_indptr", _csr(sf[0], n_ent))
    _save(out, "sf_key", sf[1])
    _save(out, "sf_men", sf[2])
    _save(out, "sf_docs", sf[3])
    del sf

    # pairs (entity, article) with mention counts: one run-length pass over the sorted entries
    n_mentions = int(ef_cnt.sum())
    if delta is not None:
        minus_pairs = _pairs(delta.minus[0], delta.minus[1], delta.minus[3])[:3]
        plus_pairs = _pairs(delta.plus[0], delta.plus[1], delta.plus[3])[:3]
        fresh_all = _pairs(delta.fresh[0], delta.fresh[1], delta.fresh[3])
        fresh_pairs = fresh_all[:3]
    pair_ent, pair_row, pair_cnt, pair_nf = derive("ea", lambda: _ea_delta(delta, n_ent, fresh_all),
                                                   _pairs, ef_ent, ef_row, ef_cnt)
    del ef_ent, ef_row, ef_form, ef_cnt
    cnt = _small_uint(pair_cnt)
    _save(out, "ea_indptr", _csr(pair_ent, n_ent))
    _save(out, "ea_row", pair_row)
    _save(out, "ea_cnt", cnt)
    _save(out, "ea_nf", _small_uint(pair_nf))
    del pair_nf

    cnt_type = cnt.dtype
    ae = derive("ae", lambda: _ae_delta(delta, n, fresh_pairs, cnt_type), _ae_full, pair_ent, pair_row, cnt, n, n_ent)
    _save(out, "ae_indptr", ae[0])
    _save(out, "ae_ent", ae[1])
    _save(out, "ae_cnt", ae[2])
    del ae, cnt

    # unfiltered entity totals over originals (precomputed: the most frequent question),
    # overall and per language (entity x language, flattened)
    pairs = (pair_ent, pair_row, pair_cnt)
    el_men, el_docs = derive("el", lambda: _el_delta(delta, rw, n_ent, minus_pairs, plus_pairs),
                             _totals_full, "el", pairs, rw, n_ent)
    _save(out, "el_men", el_men)
    _save(out, "el_docs", el_docs)
    # every entity's totals are its per-language totals summed
    men = el_men.reshape(n_ent, n_lang).sum(axis=1, dtype=np.int64)
    docs = el_docs.reshape(n_ent, n_lang).sum(axis=1, dtype=np.int64)
    del el_men, el_docs
    # entity x (outlet, language) over originals, sparse (entity -> key outlet * languages +
    # language, mentions, articles): the unfiltered and languages-only "by outlet" split of
    # any entities without a pass over their millions of postings (~2M entries at 1M articles)
    eo = derive("eo", lambda: _eo_delta(delta, rw, minus_pairs, plus_pairs), _totals_full, "eo", pairs, rw, n_ent)
    _save(out, "eo_indptr", _csr(eo[0], n_ent))
    _save(out, "eo_key", eo[1].astype(np.int32))
    _save(out, "eo_men", _small_uint(eo[2]))
    _save(out, "eo_docs", _small_uint(eo[3]))
    del eo
    # unfiltered timeline per entity: (day, mentions, articles) of dated originals
    ed = derive("ed", lambda: _ed_delta(delta, rw, minus_pairs, plus_pairs), _totals_full, "ed", pairs, rw, n_ent)
    _save(out, "ed_indptr", _csr(ed[0], n_ent))
    _save(out, "ed_day", ed[1].astype(np.int32))
    _save(out, "ed_men", ed[2])
    _save(out, "ed_docs", ed[3])
    del ed, pairs
    ents = ents.with_columns(pl.Series("mention_count", men), pl.Series("doc_count", docs))
    _write_ipc(out, "entities", ents)
    _write_ipc(out, "forms", forms)
    dicts = pl.DataFrame({"kind": ["language"] * languages.len() + ["outlet"] * outlets.len() + ["source"] * sources.len()
                          + ["story"] * stories.len(),
                          "label": pl.concat([languages, outlets, sources, stories])},
                         schema={"kind": pl.String, "label": pl.String})
    _write_ipc(out, "dicts", dicts)
    meta = {"format": FORMAT, "articles": n, "entities": n_ent, "pairs": int(pair_row.size), "mentions": n_mentions,
            "forms": forms.height, "languages": languages.len(), "outlets": outlets.len(), "sources": sources.len(),
            "reused_articles": reused, "updated": done, "seconds": round(time.perf_counter() - t0, 3)}
    (out / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return meta


def _reusable(version_dir: Path, prev_dir: Path) -> tuple[Path | None, pl.Series | None]:
    """The previous index to reuse and the input files whose rows the build copied from the
    previous version (same path and same files-table key: content hash, sidecar hash and
    pipeline version); (None, None) when either is missing."""
    if not exists(prev_dir):
        return None, None
    try:
        old = pl.read_parquet(prev_dir / "files.parquet", columns=["path", "key"])
        new = pl.read_parquet(version_dir / "files.parquet", columns=["path", "key"])
    except Exception:  # noqa: BLE001  no files table (an imported store): nothing is reused
        return None, None
    return prev_dir / INDEX_DIR, new.join(old, on=["path", "key"], how="inner")["path"]


def build(version_dir: str | os.PathLike, prev_dir: str | os.PathLike | None = None) -> dict:
    """Write ``<version_dir>/index/`` from the version's Parquet tables (atomically: a
    temporary directory renamed into place). Returns meta.json's dict.

    `prev_dir`: the previous version of the same store built by the same pipeline version;
    its index (when of this format) is reused for unchanged articles (`write`'s `prev`)."""
    version_dir = Path(version_dir)
    prev, unchanged = (None, None) if prev_dir is None else _reusable(version_dir, Path(prev_dir))
    tmp = version_dir / f".index-{uuid.uuid4().hex[:8]}"
    try:
        ent_path = version_dir / "entities.parquet"
        meta = write(
            pl.scan_parquet(version_dir / "articles.parquet"),
            pl.scan_parquet(version_dir / "mentions.parquet"),
            pl.scan_parquet(ent_path) if ent_path.exists() else None,
            tmp,
            prev=prev, unchanged_paths=unchanged,
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
    _lock: Lock = field(default_factory=Lock, repr=False, init=False)
    _pending: dict = field(default_factory=dict, repr=False, init=False)  # key -> Event while being computed

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
        """A per-process cache for derived arrays (bounded; least recently used dropped
        first, so the selection the analyst is working in stays while other views come
        and go). `keep`: a value that does not depend on the filters (a few per index):
        kept for the life of the process, outside the bound, so views never push it out.

        A key being computed by another thread (two sessions, or a background warm-up,
        asking for the same new selection) is waited for, not computed twice."""
        store = self._const if keep else self._memo
        while True:
            with self._lock:
                if key in store:
                    if not keep:
                        store[key] = store.pop(key)  # most recently used last
                    return store[key]
                pending = self._pending.get(key)
                if pending is None:
                    pending = self._pending[key] = Event()
                    break
            pending.wait()  # then the value is stored (or that thread failed: compute here)
        try:
            value = compute()
            with self._lock:
                store[key] = value
                while len(self._memo) > MEMO_SIZE:
                    self._memo.pop(next(iter(self._memo)))
        finally:
            with self._lock:
                self._pending.pop(key, None)
            pending.set()
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
