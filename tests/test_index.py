"""The serving index gives the same numbers as a plain Polars group-by over the contract
tables, on a generated 10k-article store of the realistic shape (Zipf entities and
outlets, undated articles, duplicates, mixed languages); plus the index's own structure."""
from __future__ import annotations

import datetime as dt
import json
import sys

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from conftest import ROOT, assert_same_index
from presslens import index, store
from presslens import query as q
from presslens.query import Filters

sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import make_tables  # noqa: E402

N = 10_000


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    from presslens import tables_import

    base = tmp_path_factory.mktemp("gen10k")
    make_tables(base / "tables", N, seed=11, chunk=5_000)
    tables_import.import_tables(base / "tables", base / "store")
    info = store.current(base / "store")
    ix = index.load(info.directory, attach_search=False)
    A = pl.read_parquet(store.table_path(info, "articles")).drop("text")
    M = pl.read_parquet(store.table_path(info, "mentions"))
    E = pl.read_parquet(store.table_path(info, "entities"))
    return ix, A, M, E


def _top_entity(M, rank: int) -> str:
    return M.group_by("entity_id").len().sort(["len", "entity_id"], descending=[True, False])["entity_id"][rank]


def ref_docs(A, M, E, f: Filters) -> pl.DataFrame:
    """Articles counted for f (originals only), by plain Polars filters over the contract tables."""
    a = A.filter(pl.col("duplicate_of").is_null()).with_columns(pl.col("outlet").fill_null(q.UNKNOWN_OUTLET))
    if f.languages:
        a = a.filter(pl.col("language").is_in(list(f.languages)))
    if f.entities:
        hit = (M.filter(pl.col("entity_id").is_in(list(f.entities))).group_by("doc_id")
               .agg(pl.col("entity_id").n_unique().alias("n")).filter(pl.col("n") == len(f.entities)))
        a = a.join(hit, on="doc_id", how="semi")
    if f.date_from:
        a = a.filter(pl.col("published") >= f.date_from)
    if f.date_to:
        a = a.filter(pl.col("published") <= f.date_to)
    if f.search:
        low = f.search.lower()

        def has(c):
            return c.str.to_lowercase().str.contains(low, literal=True).fill_null(False)

        named = E.filter(has(pl.col("name"))).select("entity_id")
        docs = pl.concat([
            a.filter(has(pl.col("title")) | has(pl.col("url")) | has(pl.col("outlet_domain")) | has(pl.col("outlet"))
                     | has(pl.col("cited_sources").list.join("\u0001"))).select("doc_id"),
            M.filter(has(pl.col("surface")) | has(pl.col("lemma"))).select("doc_id"),
            M.join(named, on="entity_id", how="semi").select("doc_id"),
        ])
        a = a.join(docs, on="doc_id", how="semi")
    return a


def _filters(M) -> dict[str, Filters]:
    return {
        "none": Filters(),
        "language": Filters.make(languages=("uk",)),
        "entity": Filters.make(entities=(_top_entity(M, 2),)),
        "two entities": Filters.make(entities=(_top_entity(M, 0), _top_entity(M, 5))),
        "entity and language": Filters.make(entities=(_top_entity(M, 2),), languages=("uk",)),
        "dates": Filters(date_from=dt.date(2022, 3, 1), date_to=dt.date(2022, 8, 31)),
        "search": Filters.make(search="drones"),
    }


@pytest.mark.parametrize("case", ["none", "language", "entity", "two entities", "entity and language", "dates", "search"])
def test_counts_equal_a_plain_group_by(gen, case, monkeypatch):
    ix, A, M, E = gen
    ix._memo.clear()
    monkeypatch.setattr(q, "COUNT_CHUNK", 97)  # a selection's postings are counted in many chunks
    f = _filters(M)[case]
    a = ref_docs(A, M, E, f)
    assert a.height > 50, "the filter should leave a real selection"
    m = M.join(a.select("doc_id", "language", "outlet", "published"), on="doc_id", how="inner")

    assert_frame_equal(q.outlet_counts(ix, f),
                       a.group_by("outlet").agg(pl.len().cast(pl.Int64).alias("articles"))
                       .with_columns((pl.col("articles") / a.height).alias("share"))
                       .sort(["articles", "outlet"], descending=[True, False]))
    assert_frame_equal(q.language_counts(ix, f).select("language", "articles", "mixed"),
                       a.group_by("language").agg(pl.len().cast(pl.Int64).alias("articles"),
                                                   pl.col("mixed_language").sum().cast(pl.Int64).alias("mixed"))
                       .sort(["articles", "language"], descending=[True, False]))
    cited = a.select("doc_id", pl.col("cited_sources").alias("source")).explode("source").drop_nulls().unique()
    assert_frame_equal(q.source_counts(ix, f).select("source", "articles"),
                       cited.group_by("source").agg(pl.len().cast(pl.Int64).alias("articles"))
                       .sort(["articles", "source"], descending=[True, False]))
    assert q.uncited_count(ix, f).item() == a.filter(pl.col("cited_sources").list.len() == 0).height

    ref_top = (m.group_by("entity_id").agg(pl.len().cast(pl.Int64).alias("mentions"),
                                           pl.col("doc_id").n_unique().cast(pl.Int64).alias("articles"))
               .join(E.select("entity_id", "name", "entity_type"), on="entity_id")
               .sort(["mentions", "articles", "name"], descending=[True, True, False]).head(25)
               .select("entity_id", "name", "entity_type", "mentions", "articles"))
    assert_frame_equal(q.top_entities(ix, f), ref_top)
    s = q.summary(ix, f).row(0, named=True)
    assert s["articles"] == a.height
    assert s["entities"] == m["entity_id"].n_unique()
    assert s["undated"] == a["published"].null_count()
    assert (s["first"], s["last"]) == (a["published"].min(), a["published"].max())

    months = (a.filter(pl.col("published").is_not_null())
              .group_by(pl.col("published").dt.truncate("1mo").alias("period")).agg(pl.len().cast(pl.Int64).alias("articles"))
              .sort("period"))
    assert_frame_equal(q.over_time(ix, f, "1mo").select("period", "articles"), months)

    eid = ref_top["entity_id"][0]
    em = m.filter(pl.col("entity_id") == eid)
    ref_time = (em.filter(pl.col("published").is_not_null())
                .group_by(pl.col("published").dt.truncate("1mo").alias("period"))
                .agg(pl.len().cast(pl.Int64).alias("mentions"), pl.col("doc_id").n_unique().cast(pl.Int64).alias("articles"))
                .sort("period"))
    assert_frame_equal(q.entity_over_time(ix, f, eid, "1mo").select("period", "mentions", "articles"), ref_time)
    ref_split = (em.group_by("entity_id", "language")
                 .agg(pl.len().cast(pl.Int64).alias("mentions"), pl.col("doc_id").n_unique().cast(pl.Int64).alias("articles"))
                 .sort("language"))
    assert_frame_equal(q.entity_split(ix, f, (eid,), "language").select("entity_id", "language", "mentions", "articles"),
                       ref_split)
    # the detail of the filtered entity itself (answered from the precomputed tables)
    for e in f.entities:
        own = m.filter(pl.col("entity_id") == e)
        assert_frame_equal(q.surface_forms(ix, f, e),
                           own.group_by("surface", "lemma", "language").agg(
                               pl.len().cast(pl.Int64).alias("mentions"),
                               pl.col("doc_id").n_unique().cast(pl.Int64).alias("articles")), check_row_order=False)
        assert_frame_equal(q.entity_over_time(ix, f, e, "1mo").select("period", "mentions", "articles"),
                           own.filter(pl.col("published").is_not_null())
                           .group_by(pl.col("published").dt.truncate("1mo").alias("period"))
                           .agg(pl.len().cast(pl.Int64).alias("mentions"),
                                pl.col("doc_id").n_unique().cast(pl.Int64).alias("articles")).sort("period"))
        for by in ("language", "outlet"):
            assert_frame_equal(q.entity_split(ix, f, (e,), by).select(by, "mentions", "articles"),
                               own.with_columns(pl.col("outlet").fill_null(q.UNKNOWN_OUTLET)).group_by(by).agg(
                                   pl.len().cast(pl.Int64).alias("mentions"),
                                   pl.col("doc_id").n_unique().cast(pl.Int64).alias("articles")), check_row_order=False)
    # the split of the top entities by language and outlet, down each path entity_split can take
    # (precomputed table, the selection's article postings, the entities' postings with or without
    # the uncounted ones dropped first)
    ids = tuple(ref_top["entity_id"].head(12).to_list())
    for by in ("language", "outlet"):
        ref = (m.filter(pl.col("entity_id").is_in(ids)).with_columns(pl.col("outlet").fill_null(q.UNKNOWN_OUTLET))
               .group_by("entity_id", by).agg(pl.len().cast(pl.Int64).alias("mentions"),
                                               pl.col("doc_id").n_unique().cast(pl.Int64).alias("articles")))
        for factor, sparse in ((0.0, 0.5), (1e9, 0.0), (1e9, 2.0)):  # the entities' postings binned or compressed
            monkeypatch.setattr(q, "SPLIT_FACTOR", factor)
            monkeypatch.setattr(q, "SPARSE_SHARE", sparse)
            ix._memo.clear()
            assert_frame_equal(q.entity_split(ix, f, ids, by).select("entity_id", by, "mentions", "articles"), ref,
                               check_row_order=False)
    with_e = m.filter(pl.col("entity_id") == eid).select("doc_id").unique()
    ref_co = (m.join(with_e, on="doc_id", how="semi").filter(pl.col("entity_id") != eid)
              .group_by("entity_id").agg(pl.col("doc_id").n_unique().cast(pl.Int64).alias("articles"),
                                         pl.len().cast(pl.Int64).alias("mentions"))
              .join(E.select("entity_id", "name", "entity_type"), on="entity_id")
              .sort(["articles", "mentions", "name"], descending=[True, True, False]).head(20)
              .select("entity_id", "name", "entity_type", "articles", "mentions"))
    assert_frame_equal(q.cooccurring(ix, f, eid), ref_co)
    ref_forms = (em.group_by("surface", "lemma", "language")
                 .agg(pl.len().cast(pl.Int64).alias("mentions"), pl.col("doc_id").n_unique().cast(pl.Int64).alias("articles")))
    assert_frame_equal(q.surface_forms(ix, f, eid), ref_forms, check_row_order=False)
    # listed rows: the same articles (plus their copies when asked for)
    listed = ix.article_column("doc_id").gather(pl.Series(q.selected_rows(ix, f)))
    assert sorted(listed.to_list()) == sorted(a["doc_id"].to_list())


def test_duplicates_are_listed_only_on_request(gen):
    ix, A, M, E = gen
    copies = A.filter(pl.col("duplicate_of").is_not_null())
    assert copies.height > 0
    rows_all = q.selected_rows(ix, Filters(duplicates=True))
    assert rows_all.size == A.height and q.selected_rows(ix, Filters()).size == A.height - copies.height
    assert q.summary(ix, Filters())["duplicates"].item() == copies.height


def test_index_structure(gen):
    ix, A, M, E = gen
    assert ix.n == A.height
    # doc_id -> row, in articles.parquet order
    sample = A["doc_id"].gather([0, 17, A.height - 1]).to_list()
    assert ix.rows_of(sample + ["missing"]).tolist() == [0, 17, A.height - 1, -1]
    # the two posting lists are the same relation
    pairs_ae = np.repeat(np.arange(ix.n), np.diff(ix.ae_indptr)) * ix.n_entities + ix.ae_ent
    pairs_ea = np.repeat(np.arange(ix.n_entities), np.diff(ix.ea_indptr)) + ix.ea_row.astype(np.int64) * ix.n_entities
    assert np.array_equal(np.sort(pairs_ae), np.sort(pairs_ea))
    assert int(ix.ae_cnt.sum()) == int(ix.ea_cnt.sum()) == int(ix.ef_cnt.sum()) == M.height
    # the (entity, article, form) postings: one entry per distinct written form of a pair,
    # as many per pair as ea_nf says, and the pair's mentions split over them
    ef_rows = pl.DataFrame({"ent": np.repeat(np.arange(ix.n_entities), np.diff(ix.ef_indptr)),
                            "row": np.asarray(ix.ef_row), "form": np.asarray(ix.ef_form),
                            "cnt": np.asarray(ix.ef_cnt).astype(np.int64)})
    assert ef_rows.select("ent", "row", "form").is_unique().all()
    assert ef_rows.height == int(ix.ea_nf.sum()) == int(ix.ef_indptr[-1])
    per_pair = ef_rows.group_by("ent", "row", maintain_order=True).agg(pl.len().alias("nf"), pl.col("cnt").sum())
    pair_ent = np.repeat(np.arange(ix.n_entities), np.diff(ix.ea_indptr))
    assert per_pair["ent"].to_numpy().tolist() == pair_ent.tolist()
    assert per_pair["row"].to_numpy().tolist() == np.asarray(ix.ea_row).tolist()
    assert per_pair["nf"].to_numpy().tolist() == np.asarray(ix.ea_nf).tolist()
    assert per_pair["cnt"].to_numpy().tolist() == np.asarray(ix.ea_cnt).tolist()
    # rows sorted within each entity's postings
    d = np.diff(ix.ea_row.astype(np.int64))
    starts = ix.ea_indptr[1:-1]
    d[starts[(starts > 0) & (starts < d.size + 1)] - 1] = 1
    assert (d > 0).all()
    # arrays are memory-mapped (shared by every session), not copied
    assert isinstance(ix.ea_row, np.memmap) and isinstance(ix.lang, np.memmap)


def test_build_writes_the_index_with_the_store(seed_store):
    info = store.current(seed_store)
    assert index.exists(info.directory)
    assert "index_seconds" in info.manifest
    ix = index.load(info.directory, attach_search=False)
    assert ix.n == info.manifest["articles"]


def test_reader_mentions_come_from_the_articles_own_rows_in_any_table_order(gen, tmp_path):
    """The reader reads one article's mentions from the row span the index recorded; the
    mention table is in input order (not sorted by doc_id), so spans, not row-group
    statistics, are what keep this to one or two row groups. Same rows as a plain filter."""
    ix, A, M, E = gen
    for doc in A["doc_id"].sample(25, seed=3).to_list() + ["nope"]:
        got = q.article_mentions(ix, doc).select("start", "end", "surface", "entity_id").sort("start", "end")
        want = (M.filter(pl.col("doc_id") == doc).select("start", "end", "surface", "entity_id")
                .sort("start", "end"))
        assert_frame_equal(got, want, check_dtypes=False)
    # shuffled mention table (an imported store in arbitrary order): still exact
    tables = tmp_path / "tables"
    tables.mkdir()
    pl.read_parquet(ix.directory / "articles.parquet").head(300).write_parquet(tables / "articles.parquet")
    keep = A.head(300).select("doc_id")
    Ms = M.join(keep, on="doc_id", how="semi").sample(fraction=1.0, shuffle=True, seed=5)
    Ms.write_parquet(tables / "mentions.parquet")
    from presslens import tables_import

    tables_import.import_tables(tables, tmp_path / "store")
    ix2 = index.load(store.current(tmp_path / "store").directory, attach_search=False)
    doc = keep["doc_id"][7]
    got = q.article_mentions(ix2, doc).select("start", "end", "entity_id").sort("start", "end")
    want = Ms.filter(pl.col("doc_id") == doc).select("start", "end", "entity_id").sort("start", "end")
    assert_frame_equal(got, want, check_dtypes=False)


def test_article_rows_across_record_batches(gen):
    """Rows are taken batch by batch (index.Index.article_rows), in the order asked, repeats kept."""
    import dataclasses

    import pyarrow as pa

    ix, A, M, E = gen
    many = dataclasses.replace(ix, article_table=pa.Table.from_batches(ix.article_table.to_batches(max_chunksize=997)),
                               _memo={}, _const={})
    assert many.article_table.column(0).num_chunks > 5
    rows = np.random.default_rng(3).choice(ix.n, 300, replace=False)
    for r in (rows, np.array([ix.n - 1, 0, 996, 997, 0]), np.zeros(0, np.int64)):
        want = pl.from_arrow(ix.article_table.select(["doc_id", "title", "cited_sources"]).take(r))
        assert_frame_equal(many.article_rows(r, ["doc_id", "title", "cited_sources"]), want)
    assert many.article_rows(np.array([5, 1]), ["doc_id"])["doc_id"].to_list() == A["doc_id"].gather([5, 1]).to_list()


def _next_version(A, M, E, shuffle: bool = True):
    """The tables of a next version: 200 articles removed, 100 changed (new doc_id, mentions
    of a new entity and new written forms), 50 added (a new outlet that sorts first, so every
    outlet code shifts), 40 unchanged articles whose story and duplicate status changed, 10
    whose mention rows changed under the same doc_id; with `shuffle`, rows and mentions in a
    new order (else the kept rows keep theirs and the new ones come last, as in a rebuild)."""
    rng = np.random.default_rng(5)
    ids = A["doc_id"].to_numpy()
    pick = rng.permutation(ids.size)
    removed, changed, retold, reworded = (ids[pick[:200]], ids[pick[200:300]], ids[pick[300:340]],
                                          ids[pick[340:350]])
    sources = ids[pick[350:400]]
    ren = {d: d + "-v2" for d in changed}
    A2 = (A.filter(~pl.col("doc_id").is_in(list(removed)))
          .with_columns(pl.col("doc_id").replace(ren),
                        pl.when(pl.col("doc_id").is_in(list(retold))).then(pl.lit("story-new")).otherwise("story_id")
                        .alias("story_id"),
                        pl.when(pl.col("doc_id").is_in(list(retold[:20]))).then(pl.lit(ids[pick[500]]))
                        .when(pl.col("doc_id").is_in(list(retold[20:]))).then(pl.lit(None, pl.String))
                        .otherwise("duplicate_of").alias("duplicate_of")))
    M2 = (M.filter(~pl.col("doc_id").is_in(list(removed)))
          .with_columns(
              pl.when(pl.col("doc_id").is_in(list(changed)) & (pl.col("start") % 2 == 0)).then(pl.lit("!new-entity"))
              .otherwise("entity_id").alias("entity_id"),
              pl.when(pl.col("doc_id").is_in(list(changed))).then(pl.col("surface") + "ы").otherwise("surface")
              .alias("surface"),
              pl.col("doc_id").replace(ren)))
    # same doc_id, one mention fewer: must be read again, not reused
    first = M2.with_row_index("i").filter(pl.col("doc_id").is_in(list(reworded))).group_by("doc_id").agg(pl.col("i").min())
    M2 = M2.with_row_index("i").filter(~pl.col("i").is_in(first["i"].implode())).drop("i")
    A2 = A2.with_columns(pl.when(pl.col("doc_id").is_in(list(reworded))).then(pl.col("n_mentions") - 1)
                         .otherwise("n_mentions").alias("n_mentions"))
    add = A.filter(pl.col("doc_id").is_in(list(sources))).with_columns(
        ("new-" + pl.col("doc_id")).alias("doc_id"), pl.lit("!New outlet").alias("outlet"),
        pl.lit(None, pl.String).alias("story_id"))
    add_m = M.filter(pl.col("doc_id").is_in(list(sources))).with_columns(("new-" + pl.col("doc_id")).alias("doc_id"))
    A2, M2 = pl.concat([A2, add]), pl.concat([M2, add_m])
    if shuffle:
        A2, M2 = A2.sample(fraction=1.0, shuffle=True, seed=3), M2.sample(fraction=1.0, shuffle=True, seed=4)
    E2 = pl.concat([E, E.head(1).with_columns(pl.lit("!new-entity").alias("entity_id"), pl.lit("New").alias("name"))])
    return A2, M2, E2


# every table an incremental build updates by the change (meta "updated")
ALL_UPDATED = ["ae", "ea", "ed", "el", "eo", "list", "sf"]


@pytest.fixture(autouse=True)
def _list_order_merged_at_any_size(monkeypatch):
    """These tests' stores are small: the list order is merged into the previous one as in a
    large store (index.LIST_DELTA_MIN), so that path is what they check."""
    monkeypatch.setattr(index, "LIST_DELTA_MIN", 0)


def test_a_small_store_sorts_its_list_order_anew_with_the_same_result(gen, tmp_path, monkeypatch):
    """Below LIST_DELTA_MIN articles an incremental build sorts the list order in full (a
    cheaper sort than the merge there); the index is the same either way."""
    _, A, M, E = gen
    index.write(A.lazy(), M.lazy(), E.lazy(), tmp_path / "v1")
    A2, M2, E2 = _next_version(A, M, E, shuffle=False)
    merged = index.write(A2.lazy(), M2.lazy(), E2.lazy(), tmp_path / "merged", prev=tmp_path / "v1")
    monkeypatch.setattr(index, "LIST_DELTA_MIN", A2.height + 1)
    sorted_ = index.write(A2.lazy(), M2.lazy(), E2.lazy(), tmp_path / "sorted", prev=tmp_path / "v1")
    assert "list" in merged["updated"] and "list" not in sorted_["updated"]
    assert sorted(sorted_["updated"]) == [u for u in ALL_UPDATED if u != "list"]
    assert_same_index(tmp_path / "sorted", tmp_path / "merged")


@pytest.mark.parametrize("shuffle", [True, False])
def test_incremental_index_equals_a_full_build(gen, tmp_path, monkeypatch, shuffle):
    """An index built from the previous version's index (reusing unchanged articles) is the
    index a from-scratch build writes, array for array, after articles were removed,
    changed, added and re-grouped, with codes of outlets, entities and forms shifting;
    whether the kept rows were reordered (all entries sorted again) or not (new entries
    merged into the reused ones)."""
    _, A, M, E = gen
    index.write(A.lazy(), M.lazy(), E.lazy(), tmp_path / "v1")
    A2, M2, E2 = _next_version(A, M, E, shuffle)
    sorts = []
    real = index._sorted_entries
    monkeypatch.setattr(index, "_sorted_entries", lambda *a: sorts.append(1) or real(*a))
    full = index.write(A2.lazy(), M2.lazy(), E2.lazy(), tmp_path / "full")
    inc = index.write(A2.lazy(), M2.lazy(), E2.lazy(), tmp_path / "inc", prev=tmp_path / "v1")
    # the unchanged articles, re-grouped ones included, were reused; the reworded were not
    assert full["reused_articles"] == 0 and inc["reused_articles"] == A.height - 200 - 100 - 10
    assert len(sorts) == 1 + (2 if shuffle else 1)  # the full build's, the new entries', [all again]
    assert_same_index(tmp_path / "inc", tmp_path / "full")
    # every derived table was updated by the change, not recomputed from all the entries
    # (the pairs are merged only when the reused rows kept their order)
    assert full["updated"] == []
    assert sorted(inc["updated"]) == ([u for u in ALL_UPDATED if u != "ea"] if shuffle else ALL_UPDATED)
    assert {k: v for k, v in inc.items() if k not in ("seconds", "reused_articles", "updated")} == \
        {k: v for k, v in full.items() if k not in ("seconds", "reused_articles", "updated")}


def test_incremental_index_falls_back_to_a_full_build_on_a_damaged_previous_index(gen, tmp_path):
    _, A, M, E = gen
    A2, M2, E2 = _next_version(A, M, E)
    full = index.write(A2.lazy(), M2.lazy(), E2.lazy(), tmp_path / "full")
    index.write(A.lazy(), M.lazy(), E.lazy(), tmp_path / "v1")
    np.save(tmp_path / "v1" / "ef_row.npy", np.zeros(3, np.int32))  # truncated postings
    inc = index.write(A2.lazy(), M2.lazy(), E2.lazy(), tmp_path / "inc", prev=tmp_path / "v1")
    assert inc["reused_articles"] == 0
    assert_same_index(tmp_path / "inc", tmp_path / "full")
    (tmp_path / "v1" / "meta.json").write_text('{"format": 1}', encoding="utf-8")  # another format
    inc = index.write(A2.lazy(), M2.lazy(), E2.lazy(), tmp_path / "inc2", prev=tmp_path / "v1")
    assert inc["reused_articles"] == 0
    assert_same_index(tmp_path / "inc2", tmp_path / "full")


def test_incremental_index_moves_the_counts_of_articles_whose_language_outlet_day_or_status_changed(gen, tmp_path):
    """Every article of one language and of one entity removed (the language and the entity
    leave the dictionaries), and unchanged articles (reused entries) that changed language
    (to a new one), outlet, date (or lost it) or duplicate status: the updated totals are a
    full build's, so each moved article's counts left its old cells and entered its new."""
    _, A, M, E = gen
    index.write(A.lazy(), M.lazy(), E.lazy(), tmp_path / "v1")
    rng = np.random.default_rng(8)
    # an entity of few articles, none of them Romanian: removed with all its articles
    per_ent = M.group_by("entity_id").agg(pl.col("doc_id").unique())
    gone_ent = per_ent.filter(pl.col("doc_id").list.len() == 2)["entity_id"][0]
    gone_docs = per_ent.filter(pl.col("entity_id") == gone_ent)["doc_id"][0].to_list()
    removed = set(A.filter(pl.col("language") == "ro")["doc_id"].to_list()) | set(gone_docs)
    keep = A.filter(~pl.col("doc_id").is_in(list(removed)))
    ids = keep["doc_id"].to_numpy()
    pick = rng.permutation(ids.size)
    lang_new, outlet_new, day_new, undated, made_dup = (list(ids[pick[i:i + 30]]) for i in range(0, 150, 30))
    originals = keep.filter(pl.col("duplicate_of").is_not_null())["doc_id"].to_list()[:20]
    other_outlet = keep["outlet"].drop_nulls().mode().sort()[0]
    A2 = keep.with_columns(
        pl.when(pl.col("doc_id").is_in(lang_new)).then(pl.lit("zz")).otherwise("language").alias("language"),
        pl.when(pl.col("doc_id").is_in(outlet_new)).then(pl.lit(other_outlet)).otherwise("outlet").alias("outlet"),
        pl.when(pl.col("doc_id").is_in(day_new)).then(pl.col("published") + pl.duration(days=40))
        .when(pl.col("doc_id").is_in(undated)).then(pl.lit(None, pl.Date)).otherwise("published").alias("published"),
        pl.when(pl.col("doc_id").is_in(made_dup)).then(pl.lit(ids[pick[-1]]))
        .when(pl.col("doc_id").is_in(originals)).then(pl.lit(None, pl.String)).otherwise("duplicate_of")
        .alias("duplicate_of"))
    M2 = M.filter(~pl.col("doc_id").is_in(list(removed)))
    E2 = E.filter(pl.col("entity_id") != gone_ent)
    full = index.write(A2.lazy(), M2.lazy(), E2.lazy(), tmp_path / "full")
    inc = index.write(A2.lazy(), M2.lazy(), E2.lazy(), tmp_path / "inc", prev=tmp_path / "v1")
    assert inc["reused_articles"] == A2.height and sorted(inc["updated"]) == ALL_UPDATED
    assert "ro" not in pl.read_ipc(tmp_path / "inc" / "dicts.arrow")["label"].to_list()
    assert full["entities"] == inc["entities"] == E.height - 1
    assert_same_index(tmp_path / "inc", tmp_path / "full")


def test_incremental_index_recomputes_a_table_the_previous_index_cannot_give(gen, tmp_path):
    """A previous derived table that does not fit (truncated, or postings out of order) is
    computed from all the entries instead; entries out of order make a build from scratch;
    so does a mention of an unknown article. Each time the index is a full build's."""
    _, A, M, E = gen
    A2, M2, E2 = _next_version(A, M, E, shuffle=False)
    full = index.write(A2.lazy(), M2.lazy(), E2.lazy(), tmp_path / "full")
    index.write(A.lazy(), M.lazy(), E.lazy(), tmp_path / "v1")
    v1 = tmp_path / "v1"
    sf_key = np.load(v1 / "sf_key.npy")
    np.save(v1 / "sf_key.npy", sf_key[:-1])  # truncated
    ea_row = np.load(v1 / "ea_row.npy")
    np.save(v1 / "ea_row.npy", ea_row[::-1].copy())  # every entity's rows reversed
    inc = index.write(A2.lazy(), M2.lazy(), E2.lazy(), tmp_path / "inc", prev=v1)
    assert inc["reused_articles"] > 0 and sorted(inc["updated"]) == ["ae", "ed", "el", "eo", "list"]
    assert_same_index(tmp_path / "inc", tmp_path / "full")
    np.save(v1 / "ef_row.npy", np.load(v1 / "ef_row.npy")[::-1].copy())  # entries out of order
    inc = index.write(A2.lazy(), M2.lazy(), E2.lazy(), tmp_path / "inc2", prev=v1)
    assert inc["reused_articles"] == 0 and inc["updated"] == []
    assert_same_index(tmp_path / "inc2", tmp_path / "full")
    index.write(A.lazy(), M.lazy(), E.lazy(), tmp_path / "v1b")
    stray = M2.head(1).with_columns(pl.lit("no-such-article").alias("doc_id"))
    M3 = pl.concat([M2, stray])
    full3 = index.write(A2.lazy(), M3.lazy(), E2.lazy(), tmp_path / "full3")
    inc = index.write(A2.lazy(), M3.lazy(), E2.lazy(), tmp_path / "inc3", prev=tmp_path / "v1b")
    assert inc["reused_articles"] == 0 and full3["mentions"] == full["mentions"]
    assert_same_index(tmp_path / "inc3", tmp_path / "full3")


def test_rebuild_reuses_the_index_of_unchanged_files(tmp_path):
    """A rebuild after changing, adding and removing files writes the index that
    `index.write` makes from scratch from the same tables, having reused the previous
    index for the articles of the unchanged files only and updated every derived table
    by the change."""
    import shutil

    from presslens import build as b

    corpus = tmp_path / "c"
    corpus.mkdir()
    for f in sorted((ROOT / "data" / "corpus").glob("*.txt")):
        shutil.copy2(f, corpus / f.name)
    files = sorted(corpus.glob("*.txt"))
    b.build(corpus, tmp_path / "s", workers=1)
    files[0].write_text(files[0].read_text(encoding="utf-8") + "\nДобавлено позже.", encoding="utf-8")
    (corpus / "new.txt").write_text("North Korea and Russia signed a new agreement in Pyongyang on Monday, "
                                    "officials said, according to Reuters.", encoding="utf-8")
    files[1].unlink()
    b.build(corpus, tmp_path / "s", workers=1)
    info = store.current(tmp_path / "s")
    d = info.directory
    meta = json.loads((d / index.INDEX_DIR / "meta.json").read_text(encoding="utf-8"))
    arts = pl.read_parquet(d / "articles.parquet", columns=["path"])
    unchanged = {f.name for f in files[2:]}
    assert meta["reused_articles"] == arts.filter(pl.col("path").is_in(list(unchanged))).height > 0
    assert sorted(meta["updated"]) == ALL_UPDATED  # every derived table updated by the change
    index.write(pl.scan_parquet(d / "articles.parquet"), pl.scan_parquet(d / "mentions.parquet"),
                pl.scan_parquet(d / "entities.parquet"), tmp_path / "full")
    assert_same_index(d / index.INDEX_DIR, tmp_path / "full")


@pytest.mark.parametrize("share", [0.0, 2.0])  # every selection through the per-pair mask / the articles' slices
def test_entity_counts_of_any_selection_equal_a_plain_group_by(gen, monkeypatch, share):
    ix, A, M, E = gen
    monkeypatch.setattr(q, "COMPRESS_SHARE", share)
    monkeypatch.setattr(q, "COUNT_CHUNK", 97)  # many blocks and chunks, a partial last one
    doc_ids = ix.article_column("doc_id")
    rng = np.random.default_rng(5)
    for p in (0.02, 0.3, 0.45, 1.0):
        mask = rng.random(ix.n) < p  # copies included: counted as the mask says
        men, docs = q._count_entities_direct(ix, mask, int(mask.sum()))
        ref = (M.filter(pl.col("doc_id").is_in(doc_ids.filter(pl.Series(mask)).implode()))
               .group_by("entity_id").agg(pl.len().cast(pl.Int64).alias("mentions"),
                                          pl.col("doc_id").n_unique().cast(pl.Int64).alias("articles")))
        got = pl.DataFrame({"entity_id": ix.entities["entity_id"], "mentions": men, "articles": docs})
        assert_frame_equal(got.filter(pl.col("articles") > 0), ref, check_row_order=False)
        assert got.filter(pl.col("articles") == 0)["mentions"].sum() == 0


def test_sums_and_counts_are_exact_when_the_weights_are_too_big_to_pack():
    keys = np.array([0, 2, 0, 2, 2])
    for weights in (np.array([3, 1, 4, 1, 5], np.uint16), np.array([2**50, 1, 2**50 + 1, 7, 2**49], np.uint64)):
        sums, counts = q._sums_and_counts(keys, weights, 4)
        want = np.zeros(4, np.int64)
        np.add.at(want, keys, weights.astype(np.int64))
        assert sums.tolist() == want.tolist() and counts.tolist() == [2, 0, 3, 0]


def test_memo_keeps_the_views_in_use_and_computes_a_new_key_once(gen, monkeypatch):
    import dataclasses
    import threading
    import time

    ix = dataclasses.replace(gen[0], _memo={}, _const={})
    monkeypatch.setattr(index, "MEMO_SIZE", 3)
    calls: list[str] = []

    def make(k: str):
        return lambda: calls.append(k) or k

    for k in "abc":
        ix.memo((k,), make(k))
    assert ix.memo(("a",), make("a")) == "a"  # a hit: "a" is now the most recently used
    ix.memo(("d",), make("d"))  # drops "b", the least recently used
    assert set(ix._memo) == {("a",), ("c",), ("d",)} and calls == list("abcd")

    # two sessions asking for the same new selection at once: computed once, both answered
    started = threading.Event()

    def slow():
        started.set()
        time.sleep(0.2)
        calls.append("slow")
        return 42

    out: list[int] = []
    t = threading.Thread(target=lambda: out.append(ix.memo(("s",), slow)))
    t.start()
    started.wait()
    out.append(ix.memo(("s",), make("again")))
    t.join()
    assert out == [42, 42] and calls.count("slow") == 1 and "again" not in calls

    # a computation that fails leaves the key to the next caller, which computes it
    started.clear()

    def boom():
        started.set()
        time.sleep(0.1)
        raise RuntimeError("disk gone")

    errors: list[Exception] = []

    def first():
        try:
            ix.memo(("f",), boom)
        except RuntimeError as exc:
            errors.append(exc)

    t = threading.Thread(target=first)
    t.start()
    started.wait()
    assert ix.memo(("f",), make("f")) == "f"
    t.join()
    assert len(errors) == 1 and ix.memo(("f",), make("never")) == "f"


def test_warm_up_computes_the_filter_independent_values_and_changes_no_answer(gen):
    import dataclasses

    ix = gen[0]
    cold, warmed = (dataclasses.replace(ix, _memo={}, _const={}) for _ in range(2))
    q.warm(warmed)
    assert {("entity_names_lower",), ("originals",), ("ae_lens",)} <= set(warmed._const) and not cold._const
    for f in (Filters.make(search="drones"), Filters.make(languages=("uk",))):
        assert_frame_equal(q.summary(warmed, f), q.summary(cold, f))
        assert_frame_equal(q.top_entities(warmed, f), q.top_entities(cold, f))


def test_cited_sources_are_counted_once_per_article(tmp_path):
    """A source named twice (or a missing name) in one article's list is one citation of
    it; lists without either are kept as they are."""
    from conftest import tiny_tables

    t = tiny_tables()
    a = t["articles"]
    first = a["doc_id"][0]
    t["articles"] = a.with_columns(pl.when(pl.col("doc_id") == first).then(pl.lit(["NHK", None, "NHK", "ISW"]))
                                   .otherwise("cited_sources").alias("cited_sources"))
    ix = index.from_tables({k: store.conform(v, k) for k, v in t.items()}, tmp_path / "dirty")
    clean = index.from_tables({k: store.conform(v, k) for k, v in tiny_tables().items()}, tmp_path / "clean")
    lists = ix.article_column("cited_sources").to_list()
    assert lists[0] == ["NHK", "ISW"] and lists[1:] == clean.article_column("cited_sources").to_list()[1:]
    row0 = ix.src_code[ix.src_indptr[0]:ix.src_indptr[1]]
    assert ix.sources.gather(pl.Series(row0.astype(np.int64))).to_list() == ["NHK", "ISW"]
