"""presslens.query on the serving index of tiny hand-made tables: filters, counts, shares,
duplicates, search, and the no-row-loops contract (hand-computed answers)."""
from __future__ import annotations

import ast
import datetime as dt
import inspect

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from conftest import tiny_tables
from presslens import index, store
from presslens import query as q
from presslens.query import Filters


def _ix(tmp_path_factory, tables: dict[str, pl.DataFrame]) -> index.Index:
    d = tmp_path_factory.mktemp("ix")
    return index.from_tables({k: store.conform(v, k) for k, v in tables.items()}, d)


@pytest.fixture(scope="module")
def ix(tmp_path_factory) -> index.Index:
    return _ix(tmp_path_factory, tiny_tables())


@pytest.fixture(scope="module")
def ix_dup(tmp_path_factory) -> index.Index:
    """The tiny tables plus a copy of d_uk (duplicate_of set) naming Putin twice."""
    t = tiny_tables()
    uk = t["articles"].filter(pl.col("doc_id") == "d_uk").with_columns(
        pl.lit("d_uk_copy").alias("doc_id"), pl.lit("copy.txt").alias("path"), pl.lit("d_uk").alias("duplicate_of"))
    t["articles"] = pl.concat([t["articles"].with_columns(pl.lit(None, pl.String).alias("duplicate_of")), uk],
                              how="diagonal_relaxed")
    copy = t["mentions"].filter(pl.col("doc_id") == "d_uk").with_columns(pl.lit("d_uk_copy").alias("doc_id"))
    t["mentions"] = pl.concat([t["mentions"], copy, copy.filter(pl.col("entity_id") == "Q7747")])
    return _ix(tmp_path_factory, t)


def docs(ix, f: Filters) -> list[str]:
    return sorted(ix.article_column("doc_id").gather(pl.Series(q.selected_rows(ix, f))).to_list())


def test_no_filter_keeps_every_article_including_undated_and_unattributed(ix):
    assert docs(ix, Filters()) == ["d_en", "d_ro", "d_ru1", "d_ru2", "d_uk"]


@pytest.mark.parametrize(
    "f, expected",
    [
        (Filters.make(languages=("ru",)), ["d_ru1", "d_ru2"]),
        (Filters.make(languages=("ru", "uk")), ["d_ru1", "d_ru2", "d_uk"]),
        (Filters.make(languages=("xx",)), []),
        (Filters.make(outlets=(q.UNKNOWN_OUTLET,)), ["d_ro"]),
        (Filters.make(sources=("ISW",)), ["d_ru1", "d_ru2"]),
        (Filters.make(sources=("ISW", "Yonhap")), ["d_ru1", "d_ru2", "d_uk"]),
        # several entities: articles naming all of them
        (Filters.make(entities=("Q7747", "Q56226")), ["d_ro", "d_ru1", "d_uk"]),
        (Filters.make(entities=("Q7747", "Q423")), ["d_ru2"]),
        (Filters.make(entities=("Q7747", "unknown")), []),
        (Filters(date_from=dt.date(2024, 6, 20)), ["d_en", "d_ru2", "d_uk"]),
        (Filters(date_from=dt.date(2024, 6, 19), date_to=dt.date(2024, 6, 20)), ["d_ru1", "d_uk"]),
        (Filters(date_to=dt.date(2024, 6, 19)), ["d_ru1"]),  # the undated one is not "before" anything
        (Filters(undated=True), ["d_ro"]),
        (Filters.make(languages=("ru",), sources=("NHK",)), ["d_ru2"]),
        (Filters.make(languages=("en",), entities=("Q7747",)), []),
    ],
)
def test_filters(ix, f, expected):
    assert docs(ix, f) == expected


@pytest.mark.parametrize(
    "needle, expected",
    [
        ("путина", ["d_ru1"]),  # an inflected written form of a mention
        ("vladimir", ["d_ro", "d_ru1", "d_ru2", "d_uk"]),  # the canonical name finds every language
        ("DRONES", ["d_en"]),  # title, case-insensitive
        ("yonhap", ["d_uk"]),  # cited source
        ("meduza.io", ["d_ru2"]),  # outlet domain
        ("[", []),  # a literal, not a regex (an invalid regex would raise)
        ("alert(1)", ["d_ro"]),  # brackets match literally
    ],
)
def test_search_without_engine(ix, needle, expected):
    assert docs(ix, Filters.make(search=needle)) == expected


class _Engine:
    """A full-text engine as presslens.search gives one: article rows for a query."""

    def __init__(self, hits: dict[str, list[int]]):
        self.hits = hits

    def doc_rows(self, query: str) -> np.ndarray:
        return np.array(self.hits.get(query, []), dtype=np.int64)


def test_search_uses_the_engine_and_composes_with_filters(ix):
    rows = {d: int(r) for d, r in zip(ix.article_column("doc_id"), range(ix.n))}
    eng = index.Index(**{**{k: getattr(ix, k) for k in ("directory", "meta", "arrays", "article_table", "entities", "forms",
                                                         "languages", "outlets", "sources", "doc_sorted")},
                         "searcher": _Engine({"доллара": [rows["d_ru1"], rows["d_en"]]})})
    # a body word found by the engine; entity names still match across languages
    assert docs(eng, Filters.make(search="доллара")) == ["d_en", "d_ru1"]
    assert docs(eng, Filters.make(search="доллара", languages=("ru",))) == ["d_ru1"]
    assert docs(eng, Filters.make(search="kim jong")) == ["d_en", "d_ro", "d_ru1", "d_uk"]
    # without an engine the body is not searched
    assert docs(ix, Filters.make(search="доллара")) == []


def test_query_module_has_no_row_loops_or_map_elements():
    tree = ast.parse(inspect.getsource(q))
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not names & {"map_elements", "map_rows", "iter_rows", "apply", "to_dicts", "rows"}
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While)) and _in_query_function(tree, n)]


def _in_query_function(tree, node) -> bool:
    # Loops are allowed only in Filters helpers (over its few fields), not in queries.
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef) and fn.lineno <= node.lineno <= fn.end_lineno:
            return fn.name not in ("make", "with_")
    return False


def test_summary_counts_undated_instead_of_dropping_them(ix):
    s = q.summary(ix, Filters()).row(0, named=True)
    assert (s["articles"], s["dated"], s["undated"], s["duplicates"]) == (5, 4, 1, 0)
    # d_ro has no outlet: "(unknown outlet)" is listed in charts but is not counted as an outlet
    assert (s["outlets"], s["languages"], s["entities"]) == (4, 4, 6)
    assert (s["first"], s["last"]) == (dt.date(2024, 6, 19), dt.date(2024, 7, 3))
    s = q.summary(ix, Filters.make(languages=("ru",))).row(0, named=True)
    assert (s["articles"], s["entities"], s["first"], s["last"]) == (2, 6, dt.date(2024, 6, 19), dt.date(2024, 7, 2))


def test_outlet_counts_have_shares_of_the_articles_in_view(ix):
    df = q.outlet_counts(ix, Filters.make(languages=("ru", "uk")))
    expected = pl.DataFrame({"outlet": ["Meduza", "ТАСС", "Українська правда"], "articles": [1, 1, 1], "share": [1 / 3] * 3})
    assert_frame_equal(df, expected)


def test_source_shares_are_of_all_articles_in_view_not_of_citations(ix):
    df = q.source_counts(ix, Filters())
    assert df["source"].to_list() == ["ISW", "NHK", "Yonhap"]
    assert df["articles"].to_list() == [2, 2, 1]
    assert df["share"].to_list() == pytest.approx([0.4, 0.4, 0.2])
    assert q.uncited_count(ix, Filters()).item() == 1


def test_outlet_source_matrix(ix):
    df = q.outlet_source(ix, Filters())
    assert set(df.select("outlet", "source", "articles").rows()) == {
        ("Meduza", "ISW", 1), ("Meduza", "NHK", 1), ("Reuters", "NHK", 1), ("ТАСС", "ISW", 1), ("Українська правда", "Yonhap", 1)}


def test_language_counts_and_mixed(ix):
    df = q.language_counts(ix, Filters())
    assert df.select("language", "articles", "mixed").rows()[0] == ("ru", 2, 0)
    assert df.filter(pl.col("language") == "ru")["mean_confidence"].item() == pytest.approx(0.98)
    assert df.filter(pl.col("language") == "ro")["mixed"].item() == 1
    mixed = q.mixed_articles(ix, Filters())
    assert mixed["doc_id"].to_list() == ["d_ro"] and mixed["languages"].item() == "ro, en"


def test_confidence_histogram_bins_per_language(ix):
    h = q.confidence_histogram(ix, Filters(), bins=10)
    assert h.select("language", "bin_start", "articles", "mixed").rows() == [
        ("en", 0.9, 1, 0), ("ro", 0.6, 1, 1), ("ru", 0.9, 2, 0), ("uk", 0.9, 1, 0)]
    assert h["articles"].sum() == 5
    low = q.low_confidence(ix, Filters(), below=0.96)
    assert low["doc_id"].to_list() == ["d_ro", "d_uk"]  # lowest first


def test_top_entities_count_mentions_and_articles_in_view(ix):
    df = q.top_entities(ix, Filters())
    putin = df.filter(pl.col("entity_id") == "Q7747").row(0, named=True)
    assert (putin["mentions"], putin["articles"]) == (5, 4)
    assert df["entity_id"].to_list()[:3] == ["Q7747", "Q56226", "Q159"]  # ties by articles, then name
    ru = q.top_entities(ix, Filters.make(languages=("ru",)), "LOC")
    assert set(ru["entity_type"]) == {"LOC"}
    assert dict(zip(ru["entity_id"], ru["mentions"])) == {"Q423": 1, "Q159": 1, "Q18808": 1}
    assert q.top_entities(ix, Filters(), limit=2)["entity_id"].to_list() == ["Q7747", "Q56226"]
    types = q.entity_type_counts(ix, Filters())
    assert types.rows() == [("PER", 2, 9), ("LOC", 3, 7), ("ORG", 1, 1)]


def test_entity_split_by_language_and_outlet(ix):
    df = q.entity_split(ix, Filters(), ("Q7747",), "language")
    assert dict(zip(df["language"], df["mentions"])) == {"ro": 1, "ru": 3, "uk": 1}
    assert dict(zip(df["language"], df["articles"])) == {"ro": 1, "ru": 2, "uk": 1}
    df = q.entity_split(ix, Filters(), ("Q7747", "Q423"), "outlet")
    assert set(df.select("entity_id", "outlet", "mentions").rows()) == {
        ("Q7747", "ТАСС", 2), ("Q7747", "Meduza", 1), ("Q7747", "Українська правда", 1),
        ("Q7747", q.UNKNOWN_OUTLET, 1), ("Q423", "Meduza", 1), ("Q423", "Reuters", 1)}


def test_surface_forms_count_each_written_form(ix):
    df = q.surface_forms(ix, Filters(), "Q7747")
    assert dict(zip(df["surface"], df["mentions"])) == {"Путин": 2, "Путина": 1, "Путін": 1, "Putin": 1}
    assert df.filter(pl.col("surface") == "Путина")["lemma"].item() == "Путин"
    assert dict(zip(q.surface_forms(ix, Filters.make(languages=("ru",)), "Q7747")["surface"],
                    q.surface_forms(ix, Filters.make(languages=("ru",)), "Q7747")["articles"])) == {"Путин": 2, "Путина": 1}
    assert q.surface_forms(ix, Filters(), "nope").height == 0


def test_cooccurring_entities(ix):
    df = q.cooccurring(ix, Filters(), "Q7747")
    assert "Q7747" not in df["entity_id"].to_list()
    assert dict(zip(df["entity_id"], df["articles"])) == {"Q56226": 3, "Q159": 3, "Q_ISW": 1, "Q18808": 1, "Q423": 1}
    assert q.cooccurring(ix, Filters.make(languages=("uk",)), "Q7747")["entity_id"].to_list() == ["Q56226", "Q159"]


def test_over_time_buckets_and_period_ends(ix):
    weeks = q.over_time(ix, Filters(), "1w")
    assert weeks.select("period", "articles", "period_end").rows() == [
        (dt.date(2024, 6, 17), 2, dt.date(2024, 6, 23)), (dt.date(2024, 7, 1), 2, dt.date(2024, 7, 7))]
    months = q.over_time(ix, Filters(), "1mo")
    assert months["period_end"].to_list() == [dt.date(2024, 6, 30), dt.date(2024, 7, 31)]
    e = q.entity_over_time(ix, Filters(), "Q7747", "1mo")
    assert e.select("period", "mentions", "articles").rows() == [(dt.date(2024, 6, 1), 3, 2), (dt.date(2024, 7, 1), 1, 1)]


@pytest.mark.parametrize("days, every", [(0, "1d"), (92, "1d"), (93, "1w"), (730, "1w"), (731, "1mo")])
def test_granularity(days, every):
    start = dt.date(2024, 1, 1)
    assert q.granularity(start, start + dt.timedelta(days=days)) == every
    assert q.granularity(None, None) == "1d"


def test_article_list_newest_first_undated_last_with_top_entities(ix):
    df = q.article_list(ix, Filters(), limit=None, top=2)
    assert df["doc_id"].to_list() == ["d_en", "d_ru2", "d_uk", "d_ru1", "d_ro"]
    assert df.filter(pl.col("doc_id") == "d_ru1")["top_entities"].item().to_list() == ["Vladimir Putin", "Institute for the Study of War"]
    assert q.article_list(ix, Filters(), limit=2)["doc_id"].to_list() == ["d_en", "d_ru2"]


def test_export_has_metadata_and_entity_lists_and_flattens_for_csv(ix):
    df = q.export_frame(ix, Filters.make(languages=("uk",)))
    assert df.height == 1
    row = df.row(0, named=True)
    assert row["outlet"] == "Українська правда" and sorted(row["entity_ids"]) == ["Q159", "Q56226", "Q7747"]
    flat = q.flatten_lists(df)
    assert not any(isinstance(dtype, pl.List) for dtype in flat.schema.values())
    assert flat["cited_sources"].item() == "Yonhap"
    assert "Kim Jong Un" in flat.write_csv()


def test_duplicates_are_listed_on_request_but_never_counted(ix_dup):
    f = Filters.make(languages=("uk",))
    assert docs(ix_dup, f) == ["d_uk"]
    assert docs(ix_dup, f.with_(duplicates=True)) == ["d_uk", "d_uk_copy"]
    for g in (f, f.with_(duplicates=True)):
        s = q.summary(ix_dup, g).row(0, named=True)
        assert (s["articles"], s["duplicates"]) == (1, 1)
        assert q.language_counts(ix_dup, g)["articles"].to_list() == [1]
        top = q.top_entities(ix_dup, g)
        assert dict(zip(top["entity_id"], top["mentions"]))["Q7747"] == 1
    # unfiltered totals (precomputed) follow the same rule
    top = q.top_entities(ix_dup, Filters.make(duplicates=True))
    assert dict(zip(top["entity_id"], top["mentions"]))["Q7747"] == 5
    listed = q.article_list(ix_dup, f.with_(duplicates=True))
    assert dict(zip(listed["doc_id"], listed["duplicate"])) == {"d_uk": False, "d_uk_copy": True}


def test_vocabulary_entity_info_and_existing(ix):
    v = q.vocabulary(ix).row(0, named=True)
    assert v["languages"] == ["en", "ro", "ru", "uk"]
    assert q.UNKNOWN_OUTLET in v["outlets"]
    assert v["sources"] == ["ISW", "NHK", "Yonhap"]
    info = q.entity_info(ix, ("Q7747", "nope"))
    assert info.select("entity_id", "name", "mention_count", "doc_count").rows() == [("Q7747", "Vladimir Putin", 5, 4)]
    assert q.existing(ix, "entity_id", ["Q7747", "Qx"])["entity_id"].to_list() == ["Q7747"]
    assert q.existing(ix, "doc_id", ["d_uk", "zz", "d_en"])["doc_id"].to_list() == ["d_uk", "d_en"]
    assert q.entity_choices(ix, limit=1)["entity_id"].to_list() == ["Q7747"]


def test_empty_store_gives_empty_results_not_errors(tmp_path_factory):
    e = _ix(tmp_path_factory, {k: store.empty(k) for k in ("articles", "mentions", "entities")})
    f = Filters.make(languages=("ru",), search="x", entities=("Q1",))
    assert q.summary(e, f)["articles"].item() == 0
    assert q.summary(e, Filters())["articles"].item() == 0
    for g in (f, Filters()):
        for fn in (q.outlet_counts, q.source_counts, q.language_counts, q.outlet_language, q.outlet_source,
                   q.article_list, q.top_entities, q.entity_type_counts, q.confidence_histogram, q.mixed_articles):
            assert fn(e, g).height == 0
        assert q.over_time(e, g, "1d").height == 0
    assert q.vocabulary(e)["languages"].item().to_list() == []


def test_filters_helpers():
    f = Filters.make(languages=("ru",), date_from=dt.date(2024, 1, 1))
    assert f.add("entities", "Q1").entities == ("Q1",)
    assert f.without("languages", "ru").languages == ()
    assert f.without("date") == Filters.make(languages=("ru",))
    assert f.with_(undated=True).date_from is None
    assert Filters().active is False and f.active is True
    assert Filters(duplicates=True).active is True and Filters(duplicates=True).narrows is False


def test_one_article_metadata_mentions_and_text_from_disk(tmp_path):
    from conftest import write_tiny_store

    info = write_tiny_store(tmp_path / "store")
    ix = index.load(info.directory, attach_search=False)  # built on first load for an old store
    assert index.exists(info.directory)
    meta = q.article_meta(ix, "d_uk").row(0, named=True)
    assert (meta["outlet"], meta["outlet_evidence"], meta["cited_spans"][0]["name"]) == ("Українська правда", "УП", "Yonhap")
    m = q.article_mentions(ix, "d_ru1")
    assert m.select("surface", "name").rows()[:2] == [("Путин", "Vladimir Putin"), ("Ким Чен Ыном", "Kim Jong Un")]
    assert m["start"].to_list() == sorted(m["start"].to_list())
    text = index.read_text(ix, "d_ru1")
    assert all(text[s:e] == surf for s, e, surf in m.select("start", "end", "surface").rows())
    assert q.article_meta(ix, "nope").height == 0 and q.article_mentions(ix, "nope").height == 0
    assert index.read_text(ix, "nope") is None


def test_duplicates_switch_travels_in_the_link():
    from presslens import links

    f = Filters.make(languages=("uk",), duplicates=True)
    params = links.to_params(f)
    assert params["dup"] == "1"
    back = links.parse(params, links.Vocabulary(languages=frozenset({"uk"})))
    assert back.filters == f and not back.ignored
    assert links.parse({"dup": ["yes"]}, links.Vocabulary()).ignored == ("dup=yes: use dup=1",)


def test_chart_limits_keep_the_biggest_and_shares_of_all(ix):
    # two of five outlets (ties at the cut are kept, then cut to the limit): shares stay of all 5 articles
    df = q.outlet_counts(ix, Filters(), limit=2)
    assert df.height == 2 and df["share"].to_list() == [0.2, 0.2]
    src = q.source_counts(ix, Filters(), limit=1)
    assert src.select("source", "articles", "share").rows() == [("ISW", 2, 0.4)]
    # Meduza cites most (2); ISW and NHK tie as most cited: a tie at the cut is kept
    m = q.outlet_source(ix, Filters(), top_outlets=1, top_sources=1)
    assert m.rows() == [("Meduza", "ISW", 1), ("Meduza", "NHK", 1)]
    split = q.entity_split(ix, Filters(), ("Q7747",), "outlet", top=1)
    assert split.select("outlet", "mentions").rows() == [("ТАСС", 2)]


def test_language_only_entity_counts_equal_the_general_path(ix_dup):
    f = Filters.make(languages=("uk", "ru"))
    fast = q.entity_counts(ix_dup, f)
    slow = q._count_entities(ix_dup, q.counted_mask(ix_dup, f))
    assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
    assert fast[0].sum() > 0


# ---------------------------------------------------------------- stories


@pytest.fixture(scope="module")
def ix_story(tmp_path_factory) -> index.Index:
    """The tiny tables with d_ru2 and d_en in one story (story_id "s1"), d_uk's copy in it
    too; the others have no story_id (each its own story)."""
    t = tiny_tables()
    uk = t["articles"].filter(pl.col("doc_id") == "d_uk").with_columns(
        pl.lit("d_uk_copy").alias("doc_id"), pl.lit("copy.txt").alias("path"), pl.lit("d_uk").alias("duplicate_of"))
    t["articles"] = pl.concat([t["articles"].with_columns(pl.lit(None, pl.String).alias("duplicate_of")), uk],
                              how="diagonal_relaxed").with_columns(
        pl.when(pl.col("doc_id").is_in(["d_ru2", "d_en", "d_uk_copy"])).then(pl.lit("s1")).alias("story_id"))
    return _ix(tmp_path_factory, t)


def test_story_filter_composes_with_the_other_filters(ix_story):
    s1 = Filters.make(story="s1")
    assert docs(ix_story, s1) == ["d_en", "d_ru2"]  # the copy is listed only on request
    assert docs(ix_story, s1.with_(duplicates=True)) == ["d_en", "d_ru2", "d_uk_copy"]
    assert docs(ix_story, s1.with_(languages=("en",))) == ["d_en"]
    assert docs(ix_story, s1.with_(sources=("ISW",))) == ["d_ru2"]
    assert docs(ix_story, Filters.make(story="d_ro")) == ["d_ro"]  # no story_id: its own story
    assert docs(ix_story, Filters.make(story="nope")) == []
    assert q.summary(ix_story, s1)["articles"][0] == 2


def test_story_list_counts_originals_in_view_and_leaves_singletons_out(ix_story):
    top = q.story_list(ix_story, Filters())
    assert top["story_id"].to_list() == ["s1"] and top["size"].to_list() == [2]
    assert top["languages"].to_list() == [["en", "ru"]] and top["outlets"].to_list() == [["Meduza", "Reuters"]]
    assert q.story_list(ix_story, Filters.make(languages=("en",))).height == 0  # one article left in view
    t = q.story_timeline(ix_story, Filters.make(story="s1"))
    assert t["doc_id"].to_list() == ["d_ru2", "d_en"] and t["first"].to_list() == [True, False]
    assert q.existing(ix_story, "story_id", ["s1", "zz"])["story_id"].to_list() == ["s1"]


def test_health_counts_and_date_clusters(ix_dup, tmp_path_factory):
    h = q.health_counts(ix_dup, Filters()).row(0, named=True)
    # tiny: d_ro undated, without outlet, confidence 0.62 and mixed; d_uk has one copy
    assert h == {"articles": 5, "duplicates": 1, "undated": 1, "uncertain": 1, "undetermined": 0, "mixed": 1,
                 "unknown_outlet": 1}
    assert q.health_counts(ix_dup, Filters.make(languages=("ru",)))["unknown_outlet"][0] == 0
    assert q.date_clusters(ix_dup, Filters()).height == 0  # no outlet has 5 dated articles
    # six articles of one outlet, five on one day: a scrape date
    t = tiny_tables()
    base = t["articles"].filter(pl.col("doc_id") == "d_en")
    extra = pl.concat([base.with_columns(pl.lit(f"x{i}").alias("doc_id"), pl.lit(f"x{i}.txt").alias("path"),
                                         pl.lit(dt.date(2024, 7, 3) if i < 5 else dt.date(2024, 7, 9)).alias("published"))
                       for i in range(6)])
    t["articles"] = pl.concat([t["articles"], extra], how="diagonal_relaxed")
    c = q.date_clusters(_ix(tmp_path_factory, t), Filters())
    assert c.select("outlet", "articles", "day", "on_day").rows() == [("Reuters", 7, dt.date(2024, 7, 3), 6)]


@pytest.mark.parametrize("every", ["1d", "1w", "1mo", "1q"])
def test_periods_match_polars_truncate(every):
    """Time buckets (numpy for days, weeks, months) equal Polars' truncate, undated dropped."""
    rng = np.random.default_rng(5)
    days = np.concatenate([rng.integers(-800, 20_000, 3_000), [q.UNDATED_DAY] * 5]).astype(np.int32)
    w = rng.integers(1, 4, days.size).astype(np.int64)
    got = q._per_period(days, every, mentions=w, articles=None)
    dated = pl.DataFrame({"day": days, "mentions": w}).filter(pl.col("day") != q.UNDATED_DAY)
    want = (dated.group_by(pl.col("day").cast(pl.Date).dt.truncate(every).alias("period"))
            .agg(pl.col("mentions").sum(), pl.len().cast(pl.Int64).alias("articles"))
            .with_columns(pl.col("period").dt.offset_by(every).dt.offset_by("-1d").alias("period_end")).sort("period"))
    assert_frame_equal(got, want.select("period", "mentions", "articles", "period_end"))


def test_story_span_keeps_the_articles_of_stories_told_by_several_outlets_or_languages(tmp_path_factory):
    t = tiny_tables()
    # s_ru: d_ru1 (ТАСС) + d_ru2 (Meduza), one language, two outlets; s_mix: d_uk (Українська правда)
    # + d_ro (no outlet), two languages, one known outlet; d_en alone
    sid = {"d_ru1": "s_ru", "d_ru2": "s_ru", "d_uk": "s_mix", "d_ro": "s_mix"}
    t["articles"] = t["articles"].with_columns(
        pl.col("doc_id").replace_strict(sid, default=None).alias("story_id"), pl.lit(None, pl.String).alias("duplicate_of"))
    ixs = _ix(tmp_path_factory, t)
    assert q.story_list(ixs, Filters())["story_id"].to_list() == ["s_ru", "s_mix"]  # same size: more outlets first
    assert q.story_list(ixs, Filters.make(story_span="outlets"))["story_id"].to_list() == ["s_ru"]
    assert q.story_list(ixs, Filters.make(story_span="languages"))["story_id"].to_list() == ["s_mix"]
    # a filter on every page: the articles of those stories only
    assert docs(ixs, Filters.make(story_span="languages")) == ["d_ro", "d_uk"]
    assert docs(ixs, Filters.make(story_span="outlets")) == ["d_ru1", "d_ru2"]
    # the span is the story's across the store: the Ukrainian article of a story told in several languages
    assert docs(ixs, Filters.make(story_span="languages", languages=("uk",))) == ["d_uk"]
    assert q.summary(ixs, Filters.make(story_span="languages"))["articles"][0] == 2


def test_stories_joined_to_a_story_are_viewed_as_one(ix_story):
    f = Filters.make(story="s1", joined=("d_ro", "s1"))  # the story itself is not joined to itself
    assert f.joined == ("d_ro",) and f.viewed_stories == ("s1", "d_ro")
    assert docs(ix_story, f) == ["d_en", "d_ro", "d_ru2"]
    t = q.story_timeline(ix_story, f)
    assert sorted(t["doc_id"].to_list()) == ["d_en", "d_ro", "d_ru2"] and t["first"].sum() == 1
    assert set(q.story_outlets(ix_story, f)["outlet"].to_list()) == {"Meduza", "Reuters", "(unknown outlet)"}
    assert "d_ro" not in q.related_stories(ix_story, f)["story_id"].to_list()  # it is in the view
    # a joined view cannot be split; leaving the story leaves the joined ones
    assert Filters.make(story="s1", joined=("d_ro",), split=0.5, part=1).split is None
    assert f.without("story") == Filters() and f.with_(story="") == Filters()
    assert f.without("joined", "d_ro") == Filters.make(story="s1")


def test_related_stories_share_rare_names_near_the_story_and_keep_the_view(ix_story, monkeypatch):
    # s1 (d_ru2 + d_en, 2 and 3 July) names North Korea (2 of 5 articles), Russia, Putin and Kim
    # (4 of 5 each). d_uk and d_ro name Putin, Kim and Russia; d_ru1 Putin and Kim only.
    r = q.related_stories(ix_story, Filters.make(story="s1"))
    assert r["story_id"].to_list() == ["d_ro", "d_uk", "d_ru1"]  # ties: by story id
    assert r["score"][0] == r["score"][1] > r["score"][2] > 0
    assert [sorted(x) for x in r["shared"].to_list()] == [["Kim Jong Un", "Russia", "Vladimir Putin"]] * 2 + [
        ["Kim Jong Un", "Vladimir Putin"]]
    assert "s1" not in r["story_id"].to_list() and r["articles"].to_list() == [1, 1, 1]
    # the view's other filters hold: without Ukrainian articles d_uk is not related
    r = q.related_stories(ix_story, Filters.make(story="s1", languages=("en", "ro", "ru")))
    assert r["story_id"].to_list() == ["d_ro", "d_ru1"]
    # the date window: 12 days around 2-3 July reach 20 June (d_uk), not 19 June (d_ru1); undated d_ro stays
    monkeypatch.setattr(q, "RELATED_WINDOW_DAYS", 12)
    assert q.related_stories(ix_story, Filters.make(story="s1"))["story_id"].to_list() == ["d_ro", "d_uk"]
    assert q.related_stories(ix_story, Filters()).height == 0  # no story chosen
    # names in more than half the store relate nothing: left with North Korea, which no other story names
    monkeypatch.setattr(q, "RELATED_MAX_DF_SHARE", 0.5)
    monkeypatch.setattr(q, "RELATED_MIN_DF", 1)
    assert q.related_stories(ix_story, Filters.make(story="s1")).height == 0


def test_story_list_breaks_ties_at_the_cut_by_outlets_then_id(tmp_path_factory):
    """Two stories of two articles each and room for one: the one told by more outlets comes
    first (an unknown outlet is not an outlet), whatever its id; the ties at the cut are
    ordered without reading every tied story's rows."""
    t = tiny_tables()
    t["articles"] = t["articles"].with_columns(
        pl.when(pl.col("doc_id").is_in(["d_ru1", "d_uk"])).then(pl.lit("z1"))
        .when(pl.col("doc_id").is_in(["d_ro", "d_en"])).then(pl.lit("a1")).alias("story_id"))
    ix = _ix(tmp_path_factory, t)
    one = q.story_list(ix, Filters(), limit=1)
    assert one["story_id"].to_list() == ["z1"] and one["n_outlets"].to_list() == [2]
    both = q.story_list(ix, Filters(), limit=2)
    assert both["story_id"].to_list() == ["z1", "a1"] and both["n_outlets"].to_list() == [2, 1]
    # as many articles and outlets: the smaller id first
    t["articles"] = t["articles"].with_columns(
        pl.when(pl.col("doc_id").is_in(["d_ru1", "d_ru2"])).then(pl.lit("z1"))
        .when(pl.col("doc_id").is_in(["d_uk", "d_en"])).then(pl.lit("a1")).alias("story_id"))
    ix = _ix(tmp_path_factory, t)
    assert q.story_list(ix, Filters(), limit=1)["story_id"].to_list() == ["a1"]
