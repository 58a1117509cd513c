"""presslens.query on tiny frames: filters, counts, shares, and the laziness contract."""
from __future__ import annotations

import ast
import datetime as dt
import inspect
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from conftest import tiny_tables
from presslens import query as q
from presslens.query import Filters

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def t() -> q.Tables:
    return q.Tables.from_frames(**tiny_tables())


def docs(t, f: Filters) -> list[str]:
    return sorted(q.filter_articles(t, f).select("doc_id").collect()["doc_id"].to_list())


def test_no_filter_keeps_every_article_including_undated_and_unattributed(t):
    assert docs(t, Filters()) == ["d_en", "d_ro", "d_ru1", "d_ru2", "d_uk"]


@pytest.mark.parametrize(
    "f, expected",
    [
        (Filters.make(languages=("ru",)), ["d_ru1", "d_ru2"]),
        (Filters.make(languages=("ru", "uk")), ["d_ru1", "d_ru2", "d_uk"]),
        (Filters.make(outlets=(q.UNKNOWN_OUTLET,)), ["d_ro"]),
        (Filters.make(sources=("ISW",)), ["d_ru1", "d_ru2"]),
        (Filters.make(sources=("ISW", "Yonhap")), ["d_ru1", "d_ru2", "d_uk"]),
        # several entities: articles naming all of them
        (Filters.make(entities=("Q7747", "Q56226")), ["d_ro", "d_ru1", "d_uk"]),
        (Filters.make(entities=("Q7747", "Q423")), ["d_ru2"]),
        (Filters(date_from=dt.date(2024, 6, 20)), ["d_en", "d_ru2", "d_uk"]),
        (Filters(date_from=dt.date(2024, 6, 19), date_to=dt.date(2024, 6, 20)), ["d_ru1", "d_uk"]),
        (Filters(undated=True), ["d_ro"]),
        (Filters.make(languages=("ru",), sources=("NHK",)), ["d_ru2"]),
        (Filters.make(languages=("en",), entities=("Q7747",)), []),
    ],
)
def test_filters(t, f, expected):
    assert docs(t, f) == expected


@pytest.mark.parametrize(
    "needle, expected",
    [
        ("путина", ["d_ru1"]),  # an inflected written form of a mention
        ("vladimir", ["d_ro", "d_ru1", "d_ru2", "d_uk"]),  # the canonical name finds every language
        ("DRONES", ["d_en"]),  # title, case-insensitive
        ("yonhap", ["d_uk"]),  # cited source
        ("meduza.io", ["d_ru2"]),  # outlet domain
        ("доллара", []),  # words only in the body are not searched (the text stays on disk)
        ("[", []),  # a literal, not a regex (an invalid regex would raise)
        ("alert(1)", ["d_ro"]),  # brackets match literally
    ],
)
def test_search(t, needle, expected):
    assert docs(t, Filters.make(search=needle)) == expected


def test_every_query_is_lazy_and_never_reads_text(t):
    a = q.filter_articles(t, Filters())
    assert isinstance(a, pl.LazyFrame)
    assert "text" not in a.collect_schema().names()
    for lf in [q.summary(a, t.doc_entities), q.outlet_counts(a), q.source_counts(a), q.article_list(a, t.doc_entities, t.entities),
               q.top_entities(a, t.doc_entities, t.entities), q.export_frame(a, t.doc_entities, t.entities)]:
        assert isinstance(lf, pl.LazyFrame)
        assert "text" not in lf.collect_schema().names()


def test_query_module_has_no_row_loops_or_map_elements():
    tree = ast.parse(inspect.getsource(q))
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not names & {"map_elements", "map_rows", "iter_rows", "apply"}
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While)) and _in_query_function(tree, n)]


def _in_query_function(tree, node) -> bool:
    # Loops are allowed only in Filters helpers (over its few fields), not in queries.
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef) and fn.lineno <= node.lineno <= fn.end_lineno:
            return fn.name not in ("make", "with_", "scan", "from_frames")
    return False


def test_summary_counts_undated_instead_of_dropping_them(t):
    s = q.summary(q.filter_articles(t, Filters()), t.doc_entities).collect().row(0, named=True)
    assert (s["articles"], s["dated"], s["undated"]) == (5, 4, 1)
    # d_ro has no outlet: "(unknown outlet)" is listed in charts but is not counted as an outlet
    assert (s["outlets"], s["languages"], s["entities"]) == (4, 4, 6)
    assert (s["first"], s["last"]) == (dt.date(2024, 6, 19), dt.date(2024, 7, 3))


def test_outlet_counts_have_shares_of_the_articles_in_view(t):
    df = q.outlet_counts(q.filter_articles(t, Filters.make(languages=("ru", "uk")))).collect()
    expected = pl.DataFrame({"outlet": ["Meduza", "ТАСС", "Українська правда"], "articles": [1, 1, 1],
                             "share": [1 / 3] * 3}, schema_overrides={"articles": pl.UInt32})
    assert_frame_equal(df, expected)


def test_source_shares_are_of_all_articles_in_view_not_of_citations(t):
    df = q.source_counts(q.filter_articles(t, Filters())).collect()
    assert df["source"].to_list() == ["ISW", "NHK", "Yonhap"]
    assert df["articles"].to_list() == [2, 2, 1]
    assert df["share"].to_list() == pytest.approx([0.4, 0.4, 0.2])
    assert q.uncited_count(q.filter_articles(t, Filters())).collect().item() == 1


def test_outlet_source_matrix(t):
    df = q.outlet_source(q.filter_articles(t, Filters())).collect()
    assert set(df.select("outlet", "source", "articles").rows()) == {
        ("Meduza", "ISW", 1), ("Meduza", "NHK", 1), ("Reuters", "NHK", 1), ("ТАСС", "ISW", 1), ("Українська правда", "Yonhap", 1)}


def test_language_counts_and_mixed(t):
    df = q.language_counts(q.filter_articles(t, Filters())).collect()
    assert df.select("language", "articles", "mixed").rows()[0] == ("ru", 2, 0)
    assert df.filter(pl.col("language") == "ro")["mixed"].item() == 1
    mixed = q.mixed_articles(q.filter_articles(t, Filters())).collect()
    assert mixed["doc_id"].to_list() == ["d_ro"] and mixed["languages"].item() == "ro, en"


def test_top_entities_count_mentions_and_articles_in_view(t):
    df = q.top_entities(q.filter_articles(t, Filters()), t.doc_entities, t.entities).collect()
    putin = df.filter(pl.col("entity_id") == "Q7747").row(0, named=True)
    assert (putin["mentions"], putin["articles"]) == (5, 4)
    assert df["entity_id"][0] == "Q7747"
    ru = q.top_entities(q.filter_articles(t, Filters.make(languages=("ru",))), t.doc_entities, t.entities, "LOC").collect()
    assert set(ru["entity_type"]) == {"LOC"}
    assert dict(zip(ru["entity_id"], ru["mentions"])) == {"Q423": 1, "Q159": 1, "Q18808": 1}


def test_entity_split_by_language(t):
    df = q.entity_split(q.filter_articles(t, Filters()), t.doc_entities, t.entities, ("Q7747",), "language").collect()
    assert dict(zip(df["language"], df["mentions"])) == {"ro": 1, "ru": 3, "uk": 1}


def test_surface_forms_count_each_written_form(t):
    df = q.surface_forms(q.filter_articles(t, Filters()), t.mentions, "Q7747").collect()
    assert dict(zip(df["surface"], df["mentions"])) == {"Путин": 2, "Путина": 1, "Путін": 1, "Putin": 1}
    assert df.filter(pl.col("surface") == "Путина")["lemma"].item() == "Путин"


def test_cooccurring_entities(t):
    df = q.cooccurring(q.filter_articles(t, Filters()), t.doc_entities, t.entities, "Q7747").collect()
    assert "Q7747" not in df["entity_id"].to_list()
    assert dict(zip(df["entity_id"], df["articles"]))["Q56226"] == 3


def test_over_time_buckets_and_period_ends(t):
    a = q.filter_articles(t, Filters())
    weeks = q.over_time(a, "1w").collect()
    assert weeks.rows() == [(dt.date(2024, 6, 17), 2, dt.date(2024, 6, 23)), (dt.date(2024, 7, 1), 2, dt.date(2024, 7, 7))]
    months = q.over_time(a, "1mo").collect()
    assert months["period_end"].to_list() == [dt.date(2024, 6, 30), dt.date(2024, 7, 31)]
    e = q.entity_over_time(a, t.doc_entities, "Q7747", "1mo").collect()
    assert e.select("period", "mentions").rows() == [(dt.date(2024, 6, 1), 3), (dt.date(2024, 7, 1), 1)]


@pytest.mark.parametrize("days, every", [(0, "1d"), (92, "1d"), (93, "1w"), (730, "1w"), (731, "1mo")])
def test_granularity(days, every):
    start = dt.date(2024, 1, 1)
    assert q.granularity(start, start + dt.timedelta(days=days)) == every
    assert q.granularity(None, None) == "1d"


def test_article_list_newest_first_undated_last_with_top_entities(t):
    df = q.article_list(q.filter_articles(t, Filters()), t.doc_entities, t.entities, limit=None, top=2).collect()
    assert df["doc_id"].to_list() == ["d_en", "d_ru2", "d_uk", "d_ru1", "d_ro"]
    assert df.filter(pl.col("doc_id") == "d_ru1")["top_entities"].item().to_list() == ["Vladimir Putin", "Institute for the Study of War"]


def test_export_has_metadata_and_entity_lists_and_flattens_for_csv(t):
    df = q.export_frame(q.filter_articles(t, Filters.make(languages=("uk",))), t.doc_entities, t.entities).collect()
    assert df.height == 1
    row = df.row(0, named=True)
    assert row["outlet"] == "Українська правда" and sorted(row["entity_ids"]) == ["Q159", "Q56226", "Q7747"]
    flat = q.flatten_lists(df)
    assert not any(isinstance(dtype, pl.List) for dtype in flat.schema.values())
    assert flat["cited_sources"].item() == "Yonhap"
    assert "Kim Jong Un" in flat.write_csv()


def test_vocabulary(t):
    v = q.vocabulary(t).collect().row(0, named=True)
    assert v["languages"] == ["en", "ro", "ru", "uk"]
    assert q.UNKNOWN_OUTLET in v["outlets"]
    assert v["sources"] == ["ISW", "NHK", "Yonhap"]


def test_empty_store_gives_empty_results_not_errors():
    t = q.Tables.from_frames()
    a = q.filter_articles(t, Filters.make(languages=("ru",), search="x", entities=("Q1",)))
    assert q.summary(a, t.doc_entities).collect()["articles"].item() == 0
    for lf in [q.outlet_counts(a), q.source_counts(a), q.over_time(a, "1d"), q.article_list(a, t.doc_entities, t.entities),
               q.top_entities(a, t.doc_entities, t.entities), q.vocabulary(t)]:
        lf.collect()


def test_filters_helpers():
    f = Filters.make(languages=("ru",), date_from=dt.date(2024, 1, 1))
    assert f.add("entities", "Q1").entities == ("Q1",)
    assert f.without("languages", "ru").languages == ()
    assert f.without("date") == Filters.make(languages=("ru",))
    assert f.with_(undated=True).date_from is None
    assert Filters().active is False and f.active is True
