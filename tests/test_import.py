"""`python -m presslens import-tables`: contract tables enriched elsewhere become a store
(derived tables, counts and serving index as a build makes them); bad tables are refused
with a message naming the problem, exit code 2, and the existing store left untouched."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal
import pytest

from conftest import tiny_tables
from presslens import index, store
from presslens import query as q
from presslens.__main__ import main as cli


def write_inputs(d: Path, articles: pl.DataFrame, mentions: pl.DataFrame, entities: pl.DataFrame | None = None) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    articles.write_parquet(d / "articles.parquet")
    mentions.write_parquet(d / "mentions.parquet")
    if entities is not None:
        entities.write_parquet(d / "entities.parquet")
    return d


def contract(t: dict) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The tiny tables cut down to the DESIGN.md contract columns (what another pipeline writes)."""
    a = t["articles"].select("doc_id", "path", "text", "title", "outlet", "outlet_domain", "published",
                             "language", "language_confidence", "boilerplate", "cited_sources")
    m = t["mentions"].select("doc_id", "start", "end", "surface", "lemma", "entity_id", "entity_type")
    return a, m


@pytest.fixture()
def good(tmp_path) -> Path:
    return write_inputs(tmp_path / "in", *contract(tiny_tables()))


def test_import_makes_a_store_like_a_build(good, tmp_path, capsys):
    root = tmp_path / "store"
    assert cli(["import-tables", str(good), "--store", str(root)]) == 0
    out = capsys.readouterr().out
    assert "articles: 5" in out and "serving index" in out
    info = store.current(root)
    assert index.exists(info.directory)
    de = pl.read_parquet(store.table_path(info, "doc_entities"))
    ents = pl.read_parquet(store.table_path(info, "entities"))
    arts = pl.read_parquet(store.table_path(info, "articles"))
    # derived per-article entity pairs and counts over originals
    assert de.filter(pl.col("doc_id") == "d_uk").height == 3
    putin = ents.filter(pl.col("entity_id") == "Q7747").row(0, named=True)
    assert (putin["mention_count"], putin["doc_count"]) == (5, 4)
    assert dict(zip(arts["doc_id"], arts["n_mentions"]))["d_ru1"] == 5
    assert arts["duplicate_of"].null_count() == 5
    ix = index.load(info.directory, attach_search=False)
    assert q.top_entities(ix, q.Filters())["entity_id"][0] == "Q7747"


def test_boilerplate_mentions_and_copies_are_derived(tmp_path):
    a, m = contract(tiny_tables())
    copy = a.filter(pl.col("doc_id") == "d_en").with_columns(pl.lit("d_en_copy").alias("doc_id"), pl.lit("zz.txt").alias("path"))
    a = pl.concat([a, copy])
    text = a.filter(pl.col("doc_id") == "d_ru1")["text"].item()
    clutter = text.index("Курс")
    m = pl.concat([m, pl.DataFrame({"doc_id": ["d_ru1"], "start": [clutter], "end": [clutter + 4], "surface": ["Курс"],
                                    "lemma": ["Курс"], "entity_id": ["Q_X"], "entity_type": ["MISC"]})])
    root = tmp_path / "store"
    assert cli(["import-tables", str(write_inputs(tmp_path / "in", a, m)), "--store", str(root)]) == 0
    info = store.current(root)
    ments = pl.read_parquet(store.table_path(info, "mentions"))
    assert "Q_X" not in ments["entity_id"].to_list()  # inside the boilerplate span: not counted
    arts = pl.read_parquet(store.table_path(info, "articles"))
    assert dict(zip(arts["doc_id"], arts["duplicate_of"]))["d_en_copy"] == "d_en"


def _refused(tmp_path, a, m, capsys, *expected: str) -> None:
    root = tmp_path / "store"
    from conftest import write_tiny_store

    before = write_tiny_store(root)
    assert cli(["import-tables", str(write_inputs(tmp_path / "bad", a, m)), "--store", str(root)]) == 2
    err = capsys.readouterr().err
    for e in expected:
        assert e in err, err
    assert "unchanged" in err
    after = store.current(root)
    assert after.directory == before.directory  # nothing published
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp-")]  # nothing half-written


def test_missing_doc_id_is_refused(tmp_path, capsys):
    a, m = contract(tiny_tables())
    _refused(tmp_path, a.drop("doc_id"), m, capsys, "articles.parquet", "missing required column 'doc_id'")


def test_mention_of_an_unknown_article_is_refused(tmp_path, capsys):
    a, m = contract(tiny_tables())
    m = pl.concat([m, m.head(1).with_columns(pl.lit("no_such_doc").alias("doc_id"))])
    _refused(tmp_path, a, m, capsys, "mentions.parquet", "1 mention(s) point at a doc_id that is not in articles.parquet",
             "'no_such_doc'")


def test_mistyped_column_is_named(tmp_path, capsys):
    a, m = contract(tiny_tables())
    _refused(tmp_path, a, m.with_columns(pl.col("start").cast(pl.String)), capsys,
             "column 'start' is string", "the contract says integer")
    a2 = a.with_columns(pl.lit(20240619).alias("published"))
    _refused(tmp_path / "2", a2, m, capsys, "column 'published' is integer", "date")


def test_bad_values_are_refused(tmp_path, capsys):
    a, m = contract(tiny_tables())
    _refused(tmp_path / "1", a, m.with_columns(pl.when(pl.col("doc_id") == "d_en").then(pl.col("end") + 10_000)
                                               .otherwise(pl.col("end")).alias("end")),
             capsys, "offsets outside their article's text")
    _refused(tmp_path / "2", pl.concat([a, a.head(1)]), m, capsys, "doc_id must be unique", "'d_ru1'")
    _refused(tmp_path / "3", a.with_columns(pl.lit("June 19").alias("published")), m, capsys,
             "'published' has values that are not dates", "'June 19'")
    _refused(tmp_path / "4", a, m.drop("surface"), capsys, "mentions.parquet: missing required column 'surface'")


def test_dates_as_text_and_an_entities_table_are_accepted(tmp_path):
    t = tiny_tables()
    a, m = contract(t)
    a = a.with_columns(pl.col("published").cast(pl.String))
    ents = t["entities"].select("entity_id", "name", "entity_type").with_columns(
        pl.when(pl.col("entity_id") == "Q7747").then(pl.lit("V. Putin")).otherwise(pl.col("name")).alias("name"))
    root = tmp_path / "store"
    assert cli(["import-tables", str(write_inputs(tmp_path / "in", a, m, ents)), "--store", str(root)]) == 0
    info = store.current(root)
    ix = index.load(info.directory, attach_search=False)
    assert q.entity_info(ix, ("Q7747",))["name"].item() == "V. Putin"
    assert q.summary(ix, q.Filters())["first"].item() == dt.date(2024, 6, 19)


def test_imported_store_searches_article_bodies_through_the_full_text_index(good, tmp_path):
    root = tmp_path / "store"
    assert cli(["import-tables", str(good), "--store", str(root)]) == 0
    ix = index.load(store.current(root).directory)  # attaches presslens.search when it is there
    assert ix.searcher is not None

    def docs(f):
        return sorted(ix.article_column("doc_id").gather(q.selected_rows(ix, f)).to_list())

    assert docs(q.Filters.make(search="зброю")) == ["d_uk"]  # a body word, in no title or name
    assert docs(q.Filters.make(search="зброю", languages=("ru",))) == []
    # entity names still match, across languages: the Romanian name finds the ru/uk articles too
    assert docs(q.Filters.make(search="putin")) == ["d_ro", "d_ru1", "d_ru2", "d_uk"]


def _seed_tables(seed_store: Path, d: Path, story_ids: list[str | None] | None = None) -> Path:
    """The seed store's articles and mentions as another pipeline would hand them over: the
    contract columns only (no story columns, no story evidence), optionally with story ids."""
    info = store.current(seed_store)
    a = pl.read_parquet(store.table_path(info, "articles")).select(
        "doc_id", "path", "text", "title", "outlet", "published", "language", "boilerplate", "cited_sources").sort("path")
    if story_ids is not None:
        a = a.with_columns(pl.Series("story_id", story_ids, dtype=pl.String))
    m = pl.read_parquet(store.table_path(info, "mentions")).select(
        "doc_id", "start", "end", "surface", "lemma", "entity_id", "entity_type")
    return write_inputs(d, a, m)


def test_imported_articles_are_grouped_into_stories_like_a_build(seed_store, tmp_path):
    """Tables enriched elsewhere carry no story ids: the import groups them as a build does
    (000 and 001 report one NHK story in ru and en; 002-004 are stories of their own), with
    the link's evidence, so the Stories page and the story filter work on imported data."""
    src = _seed_tables(seed_store, tmp_path / "in")
    root = tmp_path / "store"
    assert cli(["import-tables", str(src), "--store", str(root)]) == 0
    info = store.current(root)
    story = dict(pl.read_parquet(store.table_path(info, "articles")).select(
        pl.col("path").str.slice(0, 3), "story_id").iter_rows())
    assert story["000"] == story["001"]
    assert len({story[k] for k in ("000", "002", "003", "004")}) == 4
    built = pl.read_parquet(store.table_path(store.current(seed_store), "articles")).select(
        pl.col("path").str.slice(0, 3), "story_id")
    assert story == dict(built.iter_rows())
    links = pl.read_parquet(store.table_path(info, "story_links"))
    assert links.height == 1 and links["story_id"][0] == story["000"] and links["shared_entities"][0].len() > 0
    assert info.manifest["stories"] == 4 and info.manifest["story_links"] == 1
    ix = index.load(info.directory, attach_search=False)
    listed = q.story_list(ix, q.Filters())
    assert listed["story_id"].to_list() == [story["000"]] and listed["size"][0] == 2


def test_story_evidence_of_a_large_import_is_made_in_worker_processes_with_the_same_result(seed_store, tmp_path,
                                                                                           monkeypatch):
    """A large import makes the story evidence from the text in one process per core, chunk by
    chunk: the stories, links and evidence are those of the import made in one process."""
    from presslens import build

    src = _seed_tables(seed_store, tmp_path / "in")
    assert cli(["import-tables", str(src), "--store", str(tmp_path / "one")]) == 0
    spawned = []
    real = build.ProcessPoolExecutor
    monkeypatch.setattr(build, "ProcessPoolExecutor", lambda *a, **k: spawned.append(k) or real(*a, **k))
    monkeypatch.setattr(build, "EVIDENCE_POOL_MIN", 1)
    monkeypatch.setattr(build, "EVIDENCE_CHUNK", 2)  # three chunks of the five articles
    assert cli(["import-tables", str(src), "--store", str(tmp_path / "pool")]) == 0
    assert len(spawned) == 1
    one, pool = store.current(tmp_path / "one"), store.current(tmp_path / "pool")
    for table in ("articles", "story_links"):
        assert_frame_equal(pl.read_parquet(store.table_path(pool, table)), pl.read_parquet(store.table_path(one, table)))
    assert pl.read_parquet(store.table_path(pool, "story_links")).height == 1


def test_story_ids_given_by_the_input_are_kept(seed_store, tmp_path):
    """An input with its own grouping keeps it; an article it leaves without a story is a
    story of its own (never null: the story filter must reach every article)."""
    src = _seed_tables(seed_store, tmp_path / "in", ["A", "B", "A", None, "B"])
    root = tmp_path / "store"
    assert cli(["import-tables", str(src), "--store", str(root)]) == 0
    info = store.current(root)
    arts = pl.read_parquet(store.table_path(info, "articles")).sort("path")
    assert arts["story_id"].to_list() == ["A", "B", "A", arts["doc_id"][3], "B"]
    assert pl.read_parquet(store.table_path(info, "story_links")).height == 0
