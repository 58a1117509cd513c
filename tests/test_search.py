"""Full-text search: inflections per language, phrases, OR, exclusion, malformed queries,
incremental rebuilds equal to full ones, version isolation, hit spans on the original text."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from presslens import search

BP = pl.List(pl.List(pl.Int64))

DOCS = [
    dict(doc_id="ru1", title="Путин в Пхеньяне", language="ru", boilerplate=[],
         text="Владимир Путин встретился с Ким Чен Ыном. Путина встречали с почестями."),
    dict(doc_id="ru2", title="Дроны", language="ru", boilerplate=[],
         text="КНДР поставляет снаряды. Переговоры с Путиным прошли в Москве."),
    dict(doc_id="uk1", title="Візит до Києва", language="uk", boilerplate=[],
         text="Угоду підписано Путіним минулого тижня. Делегація прибула з Бухареста."),
    dict(doc_id="uk2", title="Новини", language="uk", boilerplate=[],
         text="У Києві відбулася зустріч. Путін не коментував."),
    dict(doc_id="ro1", title="Vizită la București", language="ro", boilerplate=[],
         text="Președintele a discutat despre securitatea Ucrainei și relațiile cu Moscova."),
    dict(doc_id="en1", title="Missiles and troops", language="en", boilerplate=[],
         text="North Korea is sending missiles to Russia, officials said."),
    dict(doc_id="en2", title="Korea talks", language="en", boilerplate=[[40, 75]],
         text="Talks in the north stalled; South Korea. Related: Bucharest summit ends early today."),
    dict(doc_id="xx1", title="Inne", language="pl", boilerplate=[],
         text="Władimir Putin spotkał się z Kim Dzong Unem."),
]


def _write(version_dir: Path, docs: list[dict]) -> pl.LazyFrame:
    version_dir.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(docs, schema_overrides={"boilerplate": BP}).write_parquet(version_dir / "articles.parquet")
    return pl.scan_parquet(version_dir / "articles.parquet")


def _build(root: Path, name: str, docs: list[dict], prev: Path | None = None) -> search.Searcher:
    v = root / name
    search.build(root, v, _write(v, docs), prev)
    s = search.open(v)
    assert s is not None
    return s


@pytest.fixture(scope="module")
def searcher(tmp_path_factory) -> search.Searcher:
    return _build(tmp_path_factory.mktemp("store"), "v-1", DOCS)


def ids(s: search.Searcher, q: str) -> set[str]:
    return set(s.doc_ids(q))


@pytest.mark.parametrize("query, expected", [
    # Russian: every case form finds every other
    ("Путин", {"ru1", "ru2"}),
    ("Путина", {"ru1", "ru2"}),
    ("путиным", {"ru1", "ru2"}),
    # Ukrainian: stems and the і/е vowel alternation (Київ/Києва/Києві)
    ("Путін", {"uk1", "uk2"}),
    ("Путіна", {"uk1", "uk2"}),
    ("Київ", {"uk1", "uk2"}),
    ("Києва", {"uk1", "uk2"}),
    ("Бухарест", {"uk1"}),
    # Romanian: diacritics optional, genitive forms
    ("Bucuresti", {"ro1"}),
    ("Ucraina", {"ro1"}),
    ("Moscovei", {"ro1"}),
    ("presedinte", {"ro1"}),
    # English
    ("missile", {"en1"}),
    ("troop", {"en1"}),
    # other languages: exact words, case-insensitive
    ("putin", {"xx1"}),
])
def test_inflected_forms_find_the_articles_of_their_language(searcher, query, expected):
    assert ids(searcher, query) == expected


def test_title_is_searched(searcher):
    assert ids(searcher, "Пхеньяне") == {"ru1"}
    assert ids(searcher, "drones") == set()
    assert ids(searcher, "Дроны") == {"ru2"}


def test_all_words_must_match(searcher):
    assert ids(searcher, "Путин Москва") == {"ru2"}
    assert ids(searcher, "Путин Бухарест") == set()


def test_phrase_needs_adjacent_words_in_order(searcher):
    assert ids(searcher, '"north korea"') == {"en1"}
    assert ids(searcher, "north korea") == {"en1", "en2"}
    assert ids(searcher, '"korea north"') == set()
    assert ids(searcher, '"Ким Чен Ыном"') == {"ru1"}
    assert ids(searcher, '"підписано Путіна"') == {"uk1"}  # phrases are inflection-aware too


def test_or_and_exclusion(searcher):
    assert ids(searcher, "missiles OR Moscova") == {"en1", "ro1"}
    assert ids(searcher, "Путин -Москва") == {"ru1"}
    assert ids(searcher, 'korea -"north korea"') == {"en2"}
    assert ids(searcher, "Путин OR Путін -Києві") == {"ru1", "ru2"}


def test_boilerplate_is_not_searched(searcher):
    assert ids(searcher, "Bucharest") == set()
    assert ids(searcher, "South") == {"en2"}


@pytest.mark.parametrize("query, fragment", [
    ('"Путин', "quotation mark"),
    ("OR Путин", "OR"),
    ("Путин OR", "OR"),
    ("Путин OR OR Путін", "OR"),
    ("-Путин", "at least one word"),
    ("a OR -b", "excluded"),
    ("!!! ...", "Nothing to search for"),
])
def test_malformed_queries_give_a_sentence_not_a_crash(searcher, query, fragment):
    msg = search.parse_error(query)
    assert msg is not None and fragment in msg
    with pytest.raises(search.SearchSyntaxError) as exc:
        searcher.doc_rows(query)
    assert str(exc.value) == msg
    assert search.hit_spans("Путин OR", query, "ru") == []


def test_well_formed_queries_have_no_error():
    for q in ["Путин", '"north korea"', "a OR b -c", "  ", "C++ U.S.", 'x -"y z"', "-- Путин"]:
        assert search.parse_error(q) is None, q


def test_empty_query_matches_everything(searcher):
    assert searcher.doc_rows("  ").tolist() == list(range(len(DOCS)))


def test_doc_rows_are_positions_in_articles_parquet_order(searcher):
    rows = searcher.doc_rows("Путин OR missiles")
    assert rows.dtype == np.int64
    order = pl.read_parquet(searcher.directory.parent / "articles.parquet")["doc_id"].to_list()
    assert [order[r] for r in rows] == ["ru1", "ru2", "en1"]
    assert searcher.count("Путин OR missiles") == 3


def test_open_without_index_is_none(tmp_path):
    assert search.open(tmp_path) is None


def _changed(docs: list[dict]) -> list[dict]:
    out = [dict(d) for d in docs if d["doc_id"] != "ru2"]  # removed
    out[0]["title"] = "Путин и Шойгу"                          # title changed
    out.append(dict(doc_id="ru3", title="Новое", language="ru", boilerplate=[],
                    text="Путину вручили орден в Пхеньяне."))  # added
    out.insert(0, out.pop())                                 # row order changes too
    return out


QUERIES = ["Путин", "Шойгу", "Пхеньян", "снаряды", "Києва", "missiles OR Moscova", '"north korea"', "korea -north"]


@pytest.mark.parametrize("slice_rows", [1_000, 2, 1])
def test_incremental_rebuild_equals_full_build_and_keeps_the_old_version(tmp_path, monkeypatch, slice_rows):
    # (slices of 1 or 2 rows: the rows to index are read from several slices, others skipped)
    monkeypatch.setattr(search, "INCREMENTAL_BATCH_ROWS", slice_rows)
    old = _build(tmp_path, "v-1", DOCS)
    before = {q: old.doc_ids(q) for q in QUERIES}
    new_docs = _changed(DOCS)
    inc = _build(tmp_path, "v-2", new_docs, prev=tmp_path / "v-1")
    stats = search.build(tmp_path, tmp_path / "v-3", _write(tmp_path / "v-3", new_docs), tmp_path / "v-1")
    assert stats["full"] is False and stats["reused"] == len(DOCS) - 2 and stats["indexed"] == 2
    full = _build(tmp_path / "full", "v-1", new_docs)
    for q in QUERIES:
        assert inc.doc_rows(q).tolist() == full.doc_rows(q).tolist(), q
    assert ids(inc, "Шойгу") == {"ru1"} and ids(inc, "Путин") == {"ru1", "ru3"}
    # the previous version, still open by a reader, answers with its own articles
    shutil.rmtree(tmp_path / "v-3")
    reopened = search.Searcher(tmp_path / "v-1" / "search")
    for q in QUERIES:
        assert old.doc_ids(q) == before[q] == reopened.doc_ids(q), q


def test_keys_made_by_another_polars_version_are_not_compared(tmp_path, monkeypatch):
    # Polars' hash is stable within one version only: an index whose keys another version made
    # is built afresh (a key that happened to collide would keep a stale document), and still
    # answers like a full build; a title change alone re-indexes that article
    _build(tmp_path, "v-1", DOCS)
    monkeypatch.setattr(search, "SKEY_HASH", "polars 0.0.0")
    new_docs = _changed(DOCS)
    stats = search.build(tmp_path, tmp_path / "v-2", _write(tmp_path / "v-2", new_docs), tmp_path / "v-1")
    assert stats["full"] is True and stats["indexed"] == len(new_docs)
    assert ids(search.Searcher(tmp_path / "v-2" / "search"), "Шойгу") == {"ru1"}
    stats = search.build(tmp_path, tmp_path / "v-3", _write(tmp_path / "v-3", new_docs), tmp_path / "v-2")
    assert stats["full"] is False and stats["indexed"] == 0
    retitled = [dict(d, title=d["title"] + " (обновлено)") if d["doc_id"] == "ru3" else d for d in new_docs]
    stats = search.build(tmp_path, tmp_path / "v-4", _write(tmp_path / "v-4", retitled), tmp_path / "v-3")
    assert stats["full"] is False and stats["indexed"] == 1


def test_rebuild_after_the_previous_version_is_deleted_still_answers(tmp_path):
    _build(tmp_path, "v-1", DOCS)
    inc = _build(tmp_path, "v-2", _changed(DOCS), prev=tmp_path / "v-1")
    shutil.rmtree(tmp_path / "v-1")  # the store removes old versions after the next build
    assert ids(inc, "Путин") == {"ru1", "ru3"}


def test_hit_spans_index_the_original_text_including_inflections():
    text = "😀 Путин прилетел.\nВстреча с Путиным — «Путину» сказали."
    spans = search.hit_spans(text, "путин", "ru")
    assert [text[s:e] for s, e in spans] == ["Путин", "Путиным", "Путину"]
    uk = "Зустріч у Києві; Київ і КИЄВА."
    assert [uk[s:e] for s, e in search.hit_spans(uk, "Київ", "uk")] == ["Києві", "Київ", "КИЄВА"]
    ro = "Vizita la Bucureşti (cu sedilă) și în București."
    assert [ro[s:e] for s, e in search.hit_spans(ro, "Bucuresti", "ro")] == ["Bucureşti", "București"]


def test_hit_spans_phrases_and_exclusions():
    text = "North Korea and South Korea; korea north."
    assert [text[s:e] for s, e in search.hit_spans(text, '"north korea"', "en")] == ["North Korea"]
    # excluded terms are not highlighted; OR alternatives are
    assert [text[s:e] for s, e in search.hit_spans(text, "south OR north -korea", "en")] == ["North", "South", "north"]


def test_snippets_show_the_hit_in_context():
    text = ("Начало статьи. " * 10) + "Здесь Путина ждали долго. " + ("Конец статьи. " * 10)
    snips = search.snippets(text, "Путин", "ru", width=40)
    assert len(snips) == 1 and "Путина" in snips[0] and snips[0].startswith("…") and snips[0].endswith("…")
    assert search.snippets(text, "Байден", "ru") == []


def _many(n: int, salt: str = "") -> list[dict]:
    """n English articles: every one has "alpha", every third "gamma", every seventh "delta"."""
    out = []
    for i in range(n):
        words = ["alpha", f"w{i}"] + (["gamma"] if i % 3 == 0 else []) + (["delta"] if i % 7 == 0 else [])
        out.append(dict(doc_id=f"m{i}{salt}", title="", language="en", boilerplate=[], text=" ".join(words)))
    return out


def _expected(docs: list[dict], pred) -> list[int]:
    return [i for i, d in enumerate(docs) if pred(d["text"].split())]


@pytest.mark.parametrize("few_hits, per_call", [(10**9, 60_000), (0, 60_000), (0, 2)])
def test_hit_lists_are_exact_through_every_retrieval_path(tmp_path, monkeypatch, few_hits, per_call):
    # the aggregation path (bitmask per 52 ordinals, several calls) must equal the hit list
    monkeypatch.setattr(search, "_FEW_HITS", few_hits)
    monkeypatch.setattr(search, "_BUCKETS_PER_CALL", per_call)
    docs = _many(400)
    s = _build(tmp_path, "v-1", docs)
    assert s.doc_rows("alpha").tolist() == list(range(400))
    assert s.doc_rows("gamma").tolist() == _expected(docs, lambda w: "gamma" in w)
    assert s.doc_rows("gamma OR delta").tolist() == _expected(docs, lambda w: "gamma" in w or "delta" in w)
    assert s.doc_rows("alpha -gamma").tolist() == _expected(docs, lambda w: "gamma" not in w)
    # incremental: a fifth replaced (new ids), rows reordered; still exact
    new_docs = _many(400)[::-1]
    for d in new_docs[::5]:
        d["doc_id"] += "x"
    inc = _build(tmp_path, "v-2", new_docs, prev=tmp_path / "v-1")
    assert '"full": false' in (tmp_path / "v-2" / "search" / "presslens.json").read_text()
    assert inc.doc_rows("gamma").tolist() == _expected(new_docs, lambda w: "gamma" in w)
    assert inc.doc_rows("alpha -delta").tolist() == _expected(new_docs, lambda w: "delta" not in w)


def test_an_empty_store_has_an_index_that_finds_nothing(tmp_path):
    v = tmp_path / "v-1"
    v.mkdir()
    pl.DataFrame(schema={"doc_id": pl.String, "title": pl.String, "text": pl.String, "language": pl.String,
                         "boilerplate": BP}).write_parquet(v / "articles.parquet")
    search.build(tmp_path, v, pl.scan_parquet(v / "articles.parquet"), None)
    s = search.open(v)
    assert s is not None and s.doc_rows("Путин").tolist() == [] and s.doc_rows("").tolist() == []


def test_the_build_indexes_every_seed_article(seed_store):
    from presslens import store

    info = store.current(seed_store)
    s = search.open(info.directory)
    assert s is not None and s.num_articles == info.manifest["articles"]
    arts = pl.read_parquet(store.table_path(info, "articles"), columns=["title", "text", "language"])
    for row, (title, text, lang) in enumerate(arts.iter_rows()):
        word = max((w for w in (title or text).split() if w.isalpha()), key=len)
        assert row in s.doc_rows(word).tolist(), (word, lang)
        assert any(text[a:b].lower() == word.lower() for a, b in search.hit_spans(text, word, lang)) \
            or word not in text
