"""The build: every input accounted for, incremental, atomic, duplicates, parallel = serial."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal
import pytest

from presslens import build as b
from presslens import store

SEEDS = Path(__file__).resolve().parent.parent / "data" / "corpus"


def _copy_seeds(dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted(SEEDS.glob("*.txt")):
        shutil.copy2(f, dst / f.name)
    return dst


def test_the_entity_table_counts_originals_and_takes_the_most_frequent_type_and_names():
    """entities: mention and article counts over the originals only (a duplicate's mentions are
    listed, not counted); the type named most often (a tie: the first by name); per language
    the base form seen most often (a tie: the first by name); as display name the most
    frequent name or base form over all languages."""
    m = [  # doc_id, entity_id, entity_type, lemma, name
        ("d1", "x:a", "PER", "Smith", None), ("d1", "x:a", "PER", "Smith", None),
        ("d2", "x:a", "LOC", "Smyth", None), ("d2", "x:a", "LOC", "Smyth", None),
        ("d3", "x:a", "ORG", "Smith", None), ("dup", "x:a", "ORG", "Smith", None),
        ("dup", "x:a", "ORG", "Smith", None), ("dup", "x:a", "ORG", "Smith", None),
        ("d1", "x:b", "ORG", "Acme", "ACME Corp"), ("d2", "x:b", "ORG", "Acme", "ACME Corp"),
        ("d3", "x:b", "ORG", "Akme", None),
    ]
    mentions = pl.DataFrame(
        [dict(doc_id=d, start=0, end=1, surface=lem, lemma=lem, entity_id=e, entity_type=t, name=nm)
         for d, e, t, lem, nm in m], schema=dict(store.MENTIONS_SCHEMA)).lazy()
    articles = pl.DataFrame({"doc_id": ["d1", "d2", "d3", "dup"], "duplicate_of": [None, None, None, "d1"],
                             "language": ["en", "en", "ro", "en"]}).lazy()
    ents = {r["entity_id"]: r for r in b._entities_table(mentions, articles).iter_rows(named=True)}
    a, c = ents["x:a"], ents["x:b"]
    assert (a["mention_count"], a["doc_count"], c["mention_count"], c["doc_count"]) == (5, 3, 3, 3)
    assert a["entity_type"] == "LOC"  # PER 2, LOC 2, ORG 1 (the duplicate's three not counted)
    # en: Smith 2, Smyth 2 -> Smith; ro: Smith
    assert sorted((n["language"], n["name"]) for n in a["names"]) == [("en", "Smith"), ("ro", "Smith")]
    assert a["name"] == "Smith"  # 3 of 5
    assert c["name"] == "ACME Corp" and c["entity_type"] == "ORG"
    assert sorted((n["language"], n["name"]) for n in c["names"]) == [("en", "Acme"), ("ro", "Akme")]
    assert list(ents) == ["x:a", "x:b"]  # most mentioned first


def _entities_as_counted_from_all_mentions(st: Path) -> None:
    """The live version's entity table and its forms are those counted from all its mentions."""
    info = store.current(st)
    mentions, articles = store.scan(info, "mentions"), store.scan(info, "articles")
    assert_frame_equal(pl.read_parquet(store.table_path(info, "entities")), b._entities_table(mentions, articles))
    originals = articles.filter(pl.col("duplicate_of").is_null()).select("doc_id", "language")
    forms = b._entity_counts(mentions, originals)[1].sort(b._FORM_KEYS, nulls_last=True)
    assert_frame_equal(pl.read_parquet(info.directory / b.ENTITY_FORMS), forms)


def test_a_rebuild_updates_the_entity_table_to_what_counting_all_mentions_gives(tmp_path, monkeypatch):
    """A rebuild updates the entity table from the previous version's (counts and forms, minus
    the articles that went, plus those that came) instead of counting every mention again;
    through an exact copy arriving (listed, not counted), its original leaving (the copy now
    counts), an edit naming more entities and a removal (entities named only there are gone),
    the table is the one counted from all the mentions, and the update is what made it."""
    monkeypatch.setattr(b, "ENTITY_UPDATE_MAX_SHARE", 1.0)  # (one file of five is 20% of this corpus)
    updated = []
    real = b._entity_update
    monkeypatch.setattr(b, "_entity_update", lambda *a: updated.append(real(*a)) or updated[-1])
    corpus = _copy_seeds(tmp_path / "c")
    files = sorted(corpus.glob("*.txt"))
    st = tmp_path / "s"
    b.build(corpus, st, workers=1)
    _entities_as_counted_from_all_mentions(st)
    before = pl.read_parquet(store.table_path(store.current(st), "entities"))
    shutil.copy2(files[0], corpus / "zz-copy.txt")  # an exact copy: a duplicate of files[0]
    b.build(corpus, st, workers=1)
    _entities_as_counted_from_all_mentions(st)
    assert_frame_equal(pl.read_parquet(store.table_path(store.current(st), "entities")), before)
    files[0].unlink()  # the copy is the original now: the same counts
    b.build(corpus, st, workers=1)
    _entities_as_counted_from_all_mentions(st)
    assert_frame_equal(pl.read_parquet(store.table_path(store.current(st), "entities")), before)
    files[3].write_text(files[3].read_text(encoding="utf-8") + "\nВладимир Путин и Ким Чен Ын встретились в Пхеньяне.",
                        encoding="utf-8")
    b.build(corpus, st, workers=1)
    _entities_as_counted_from_all_mentions(st)
    gone = set(b._entities_table(pl.scan_parquet(store.table_path(store.current(st), "mentions")).filter(
        pl.col("doc_id").is_in(store.scan(store.current(st), "articles").filter(
            pl.col("path") == files[4].name).select("doc_id").collect()["doc_id"].implode())),
        store.scan(store.current(st), "articles"))["entity_id"])
    files[4].unlink()
    b.build(corpus, st, workers=1)
    _entities_as_counted_from_all_mentions(st)
    ents = pl.read_parquet(store.table_path(store.current(st), "entities"))
    assert gone - set(ents["entity_id"]), "no entity named only in the removed article went"
    assert len(updated) == 4 and all(u is not None for u in updated)


def test_an_article_enriched_again_with_the_same_text_has_its_new_mentions_counted(tmp_path, monkeypatch):
    """A file enriched again keeps its articles' doc_ids when its text is the same (here: a
    sidecar row given to it), but its mentions may differ; the updated entity table counts the
    new ones, not the previous version's."""
    monkeypatch.setattr(b, "ENTITY_UPDATE_MAX_SHARE", 1.0)
    corpus = _copy_seeds(tmp_path / "c")
    target = sorted(corpus.glob("*.txt"))[1]
    st = tmp_path / "s"
    b.build(corpus, st, workers=1)
    before = pl.read_parquet(store.table_path(store.current(st), "mentions"))
    real = b._enrich_batch

    def fewer_mentions(records):  # the same text now gives only its first mention
        out = real(records)
        return [(row, ments[:1] if row is not None and row["path"] == target.name else ments, rej)
                for row, ments, rej in out]

    monkeypatch.setattr(b, "_enrich_batch", fewer_mentions)
    (corpus / "metadata.csv").write_text(f"path,title\n{target.name},A title from the sidecar\n", encoding="utf-8")
    summary = b.build(corpus, st, workers=1)
    assert summary["processed_files"] == 1
    after = pl.read_parquet(store.table_path(store.current(st), "mentions"))
    assert after.height < before.height  # (the same doc_id, fewer mentions)
    _entities_as_counted_from_all_mentions(st)


def test_a_rebuild_derives_every_entity_again_when_the_gazetteer_names_it_otherwise(tmp_path, monkeypatch):
    """An entity's display name comes from the gazetteer when it knows the entity: after the
    gazetteer renames an entity, the next rebuild shows the new name even though no article
    naming it changed."""
    from presslens.enrich import entities as ent

    corpus = _copy_seeds(tmp_path / "c")
    files = sorted(corpus.glob("*.txt"))
    st = tmp_path / "s"
    b.build(corpus, st, workers=1)
    table = pl.read_parquet(store.table_path(store.current(st), "entities"))
    catalog = ent.entity_catalog()
    known = {c["entity_id"] for c in catalog}
    target = table.filter(pl.col("entity_id").is_in(list(known)))["entity_id"][0]
    renamed = [dict(c, name="Renamed Entity") if c["entity_id"] == target else c for c in catalog]
    monkeypatch.setattr(ent, "entity_catalog", lambda: renamed)
    (corpus / "new.txt").write_text("Короткая заметка без имён.", encoding="utf-8")
    b.build(corpus, st, workers=1)
    _entities_as_counted_from_all_mentions(st)
    names = dict(pl.read_parquet(store.table_path(store.current(st), "entities")).select("entity_id", "name").iter_rows())
    assert names[target] == "Renamed Entity"


def _tables(st: Path) -> dict[str, pl.DataFrame]:
    info = store.current(st)
    return {t: store.scan(info, t).collect() for t in store.TABLES}


def _seeds_and_a_near_copy(tmp_path: Path) -> tuple[Path, list[Path], str]:
    """The seeds plus copy1.txt, a near-copy of the third one (it joins that story): the
    corpus folder, its seed files and the copied text."""
    corpus = _copy_seeds(tmp_path / "c")
    files = sorted(corpus.glob("*.txt"))
    text2 = files[2].read_text(encoding="utf-8")
    (corpus / "copy1.txt").write_text(text2 + "\nОбновлено утром.", encoding="utf-8")
    return corpus, files, text2


def test_seed_build_accounts_for_every_file(tmp_path):
    corpus = _copy_seeds(tmp_path / "c")
    (corpus / "empty.txt").write_bytes(b"")
    summary = b.build(corpus, tmp_path / "s")
    t = _tables(tmp_path / "s")
    assert summary["articles"] == 5
    assert sorted(t["articles"]["path"].to_list()) == sorted(f.name for f in SEEDS.glob("*.txt"))
    assert t["rejects"]["path"].to_list() == ["empty.txt"]
    # every input file is in articles or rejects
    assert set(t["articles"]["path"]) | set(t["rejects"]["path"]) == {p.name for p in corpus.iterdir()}
    # text is stored verbatim: offsets index the original file's text
    for row in t["articles"].iter_rows(named=True):
        assert row["text"] == (corpus / row["path"]).read_text(encoding="utf-8")
    assert summary["version"] == store.current(tmp_path / "s").version


def test_incremental_rebuild_processes_only_changed_files(tmp_path):
    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    first = b.build(corpus, st)
    assert first["processed_files"] == 5
    again = b.build(corpus, st)
    assert again["processed_files"] == 0 and again["version"] == first["version"]
    assert not b.is_stale(corpus, st)

    target = sorted(corpus.glob("*.txt"))[1]
    target.write_text(target.read_text(encoding="utf-8") + "\nДобавлено позже.", encoding="utf-8")
    (corpus / "new.txt").write_text("North Korea and Russia signed a new agreement in Pyongyang on Monday, "
                                    "officials said, according to Reuters.", encoding="utf-8")
    assert b.is_stale(corpus, st)
    third = b.build(corpus, st)
    assert third["processed_files"] == 2 and third["reused_files"] == 4
    assert third["version"] != first["version"]
    t = _tables(st)
    assert t["articles"].height == 6
    changed = t["articles"].filter(pl.col("path") == target.name)
    assert changed["text"][0].endswith("Добавлено позже.")

    (corpus / "new.txt").unlink()
    fourth = b.build(corpus, st)
    assert fourth["processed_files"] == 0
    assert _tables(st)["articles"].height == 5


@pytest.mark.parametrize("way", ["default", "mention tables in line", "stories attached in place",
                                 "story links as a delta"])
def test_incremental_rebuild_writes_the_same_tables_as_a_full_build(tmp_path, monkeypatch, way):
    """A rebuild that changes one file, adds a near-copy of an article (it joins that story,
    so the story's old links are copied with their evidence and their story set again) and
    removes another file writes the same rows as a from-scratch build of the corpus it ends
    with: every table, story ids and link evidence included. Link scores are the exception:
    an incremental run keeps the scores of links between unchanged articles, computed with the
    IDF of their run (docs/STORIES.md says when that can change a grouping). The same with the
    mention tables written in line rather than beside the story step, and with the new
    articles attached to the previous stories rather than clustered again (stories._attach,
    forced here: on this corpus both give the full build's stories)."""
    if way == "mention tables in line":
        monkeypatch.setattr(b, "ENTITY_THREAD_MAX", 0)
    if way == "story links as a delta":  # (the seeds' few links would otherwise be written whole)
        from presslens import stories
        monkeypatch.setattr(stories, "LINK_DELTA_SHARE", 1e9)
    if way == "stories attached in place":
        from presslens import stories
        monkeypatch.setattr(stories, "ATTACH_MIN_LINKS", 0)
        monkeypatch.setattr(stories, "RECLUSTER_SHARE", 1.0)
    corpus, files, text2 = _seeds_and_a_near_copy(tmp_path)
    st = tmp_path / "s"
    b.build(corpus, st, workers=1)
    files[3].write_text(files[3].read_text(encoding="utf-8") + "\nДобавлено позже.", encoding="utf-8")
    (corpus / "copy2.txt").write_text(text2 + "\nОбновлено вечером.", encoding="utf-8")
    files[4].unlink()
    summary = b.build(corpus, st, workers=1)
    assert summary["processed_files"] == 2 and summary["reused_files"] == 4 and not summary.get("stories_error")
    if way == "stories attached in place":  # the near-copy was attached, not clustered again
        sigs = pl.read_parquet(store.current(st).directory / "story_signatures.parquet")
        arts = pl.read_parquet(store.current(st).directory / "articles.parquet", columns=["doc_id", "path"])
        placed = dict(sigs.join(arts, on="doc_id").select("path", "placed").iter_rows())
        assert placed["copy2.txt"] and not placed["copy1.txt"]
    b.build(corpus, tmp_path / "full", workers=1)
    inc, full = _tables(st), _tables(tmp_path / "full")
    for table in store.TABLES:
        if table == "files":
            continue  # mtimes of the same files; compared by path and hash below
        a, z = inc[table], full[table]
        if table == "story_links":
            a, z = a.drop("score"), z.drop("score")
        key = [c for c in a.columns if a.schema[c] in (pl.String, pl.Int64, pl.Int32, pl.UInt32)]
        assert a.sort(key, nulls_last=True).equals(z.sort(key, nulls_last=True)), table
    assert inc["files"].select("path", "sha1").sort("path").equals(full["files"].select("path", "sha1").sort("path"))
    stories_of = dict(inc["articles"].select("path", "story_id").iter_rows())
    assert stories_of["copy1.txt"] == stories_of["copy2.txt"] == stories_of[files[2].name]
    assert inc["story_links"].filter(pl.col("story_id") == stories_of["copy1.txt"]).height == 3


def test_a_store_holding_story_evidence_as_lists_is_rebuilt_to_what_a_fresh_build_writes(tmp_path):
    """Stores written before round 20 hold articles.story_evidence as a list of strings; a
    rebuild joins it as it reads the reused rows, and a story grouping made again from them
    (its state gone) gives the stories of a fresh build."""
    corpus, files, _text2 = _seeds_and_a_near_copy(tmp_path)
    st = tmp_path / "s"
    b.build(corpus, st, workers=1)
    info = store.current(st)
    art = pl.read_parquet(store.table_path(info, "articles"))
    assert art.schema["story_evidence"] == pl.String and art["story_evidence"].str.contains("d:|n:").any()
    old = art.with_columns(pl.col("story_evidence").str.split(" ").list.eval(pl.element().filter(pl.element() != "")))
    path = store.table_path(info, "articles")
    path.unlink()  # (a new file: the build keeps nothing of it in memory)
    old.write_parquet(path)
    (info.directory / "story_state_version").unlink()  # the grouping is made again from the articles
    files[3].write_text(files[3].read_text(encoding="utf-8") + "\nДобавлено позже.", encoding="utf-8")
    summary = b.build(corpus, st, workers=1)
    assert summary["processed_files"] == 1 and not summary.get("stories_error")
    b.build(corpus, tmp_path / "full", workers=1)
    inc, full = _tables(st), _tables(tmp_path / "full")
    assert inc["articles"].schema["story_evidence"] == pl.String
    for table in ("articles", "story_links"):
        a, z = inc[table], full[table]
        key = [c for c in a.columns if a.schema[c] in (pl.String, pl.Int64)]
        assert a.sort(key, nulls_last=True).equals(z.sort(key, nulls_last=True)), table


def test_one_storys_links_are_read_from_base_minus_dropped_plus_delta(tmp_path):
    """store.story_links_of (what the Stories page reads) gives the story's live rows: its base
    rows without the dropped keys, plus its delta rows; other stories' rows never."""
    def links(rows):
        return store.conform(pl.DataFrame(rows, schema={"doc_a": pl.String, "doc_b": pl.String,
                                                        "reason": pl.String, "story_id": pl.String}, orient="row"),
                             "story_links")

    base = links([("a", "b", "shared evidence", "S"), ("a", "c", "shared evidence", "S"),
                  ("b", "c", "shared evidence", "S"), ("x", "y", "shared evidence", "T")])
    base.sort("story_id").write_parquet(tmp_path / "story_links.parquet")
    pl.DataFrame({"doc_a": ["a", "x"], "doc_b": ["c", "y"]}).write_parquet(tmp_path / store.STORY_LINKS_DROPPED)
    links([("a", "d", "shared evidence", "S"), ("x", "z", "shared evidence", "T")]).write_parquet(
        tmp_path / store.STORY_LINKS_DELTA)
    got = store.story_links_of(tmp_path, "S")
    assert sorted(zip(got["doc_a"], got["doc_b"])) == [("a", "b"), ("a", "d"), ("b", "c")]
    assert store.count_story_links(tmp_path) == 4 == store.scan_story_links(tmp_path).collect().height
    assert store.story_links_of(tmp_path, "T")["doc_b"].to_list() == ["z"]


def _built_with_links_as_deltas(tmp_path: Path, monkeypatch, links: str) -> tuple[Path, list[Path], str, Path]:
    """_seeds_and_a_near_copy built into tmp_path/"s", its later builds writing the story links as
    a delta however much changed (`links`: "streamed" merges them while streaming, as in a
    large store): (corpus, seed files, the copied text, store)."""
    from presslens import stories

    monkeypatch.setattr(stories, "LINK_DELTA_SHARE", 1e9)
    if links == "streamed":
        monkeypatch.setattr(stories, "LINKS_IN_MEMORY", 0)
    corpus, files, text2 = _seeds_and_a_near_copy(tmp_path)
    st = tmp_path / "s"
    b.build(corpus, st, workers=1)
    return corpus, files, text2, st


@pytest.mark.parametrize("links", ["in memory", "streamed"])
def test_story_links_compacted_while_idle_become_the_next_builds_base(tmp_path, monkeypatch, links):
    """stories.compact_links writes a version's story links (base - dropped + delta) as one
    file beside them, leaving the version's files and table as they were; the next rebuild
    takes that file as its base (hard-linked), carries no old delta or dropped keys, and its
    table still equals a from-scratch build's, as read whole and one story at a time."""
    from presslens import stories

    corpus, files, text2, st = _built_with_links_as_deltas(tmp_path, monkeypatch, links)
    (corpus / "copy2.txt").write_text(text2 + "\nОбновлено вечером.", encoding="utf-8")
    files[1].write_text(files[1].read_text(encoding="utf-8") + "\nUpdated.", encoding="utf-8")  # its links go
    b.build(corpus, st, workers=1)
    second = store.current(st)
    assert pl.read_parquet(second.directory / store.STORY_LINKS_DROPPED).height >= 1
    key = ["doc_a", "doc_b", "reason", "story_id"]
    before = store.scan(second, "story_links").collect()
    names = sorted(p.name for p in second.directory.iterdir())
    assert stories.links_to_compact(second.directory) is False  # a few links: not worth it
    assert stories.compact_links(second.directory) is None
    assert stories.links_to_compact(second.directory, 0, 0.0)
    out = stories.compact_links(second.directory, 0, 0.0)
    assert out == second.directory / store.STORY_LINKS_COMPACTED
    assert sorted(p.name for p in second.directory.iterdir()) == sorted(names + [out.name])  # nothing else
    assert pl.read_parquet(out).sort(key).equals(before.sort(key))
    assert store.scan(second, "story_links").collect().equals(before)  # the version reads as it did
    assert stories.compact_links(second.directory, 0, 0.0) is None  # once

    (corpus / "copy1.txt").unlink()  # an end of a base link is removed
    files[3].write_text(files[3].read_text(encoding="utf-8") + "\nДобавлено позже.", encoding="utf-8")
    b.build(corpus, st, workers=1)
    third = store.current(st)
    assert os.stat(third.directory / "story_links.parquet").st_ino == os.stat(out).st_ino
    old_delta = pl.read_parquet(second.directory / store.STORY_LINKS_DELTA).select("doc_a", "doc_b")
    assert old_delta.height and not (third.directory / store.STORY_LINKS_COMPACTED).exists()
    dropped = pl.read_parquet(third.directory / store.STORY_LINKS_DROPPED)
    assert dropped.height >= 1 and dropped.join(pl.read_parquet(out).select("doc_a", "doc_b"), on=["doc_a", "doc_b"],
                                                how="anti").height == 0  # each names a row of the new base
    full = tmp_path / "full"
    b.build(corpus, full, workers=1)
    a, z = store.scan(third, "story_links").collect(), store.scan(store.current(full), "story_links").collect()
    assert a.drop("score").sort(key).equals(z.drop("score").sort(key))
    assert third.manifest["story_links"] == a.height == store.count_story_links(third.directory)
    for sid in a["story_id"].drop_nulls().unique():
        assert store.story_links_of(third.directory, sid).sort(key).equals(
            a.filter(pl.col("story_id") == sid).sort(key)), sid


@pytest.mark.parametrize("links", ["sorted in memory", "streamed"])
def test_story_links_kept_as_base_and_delta_equal_a_full_build_over_several_rebuilds(tmp_path, monkeypatch, links):
    """An incremental build keeps the previous story_links file as its base (hard-linked,
    not rewritten) and writes only what changed; over rebuilds that add copies, remove an
    article a base link names and change a file, the table (base - dropped + delta) equals a
    from-scratch build's, its count in the summary is right, and once the changes pass
    LINK_DELTA_SHARE of the base the whole table is written again (from a base and a delta:
    in memory, or merged while streaming as in a large store)."""
    from presslens import stories

    corpus, files, text2, st = _built_with_links_as_deltas(tmp_path, monkeypatch, links)

    def check(step: str) -> store.StoreInfo:
        info = store.current(st)
        full = tmp_path / f"full-{step}"
        b.build(corpus, full, workers=1)
        a, z = store.scan(info, "story_links").collect(), store.scan(store.current(full), "story_links").collect()
        key = ["doc_a", "doc_b", "reason", "story_id"]
        assert a.drop("score").sort(key).equals(z.drop("score").sort(key)), step
        assert info.manifest["story_links"] == a.height == store.count_story_links(info.directory)
        for sid in a["story_id"].drop_nulls().unique():  # one story's rows, as the Stories page reads them
            one = store.story_links_of(info.directory, sid)
            assert one.sort(key).equals(a.filter(pl.col("story_id") == sid).sort(key)), (step, sid)
        return info

    first = store.current(st)
    (corpus / "copy2.txt").write_text(text2 + "\nОбновлено вечером.", encoding="utf-8")
    b.build(corpus, st, workers=1)
    second = check("add")
    assert (second.directory / store.STORY_LINKS_DELTA).exists()
    assert os.stat(second.directory / "story_links.parquet").st_ino == os.stat(first.directory / "story_links.parquet").st_ino
    (corpus / "copy1.txt").unlink()  # an end of a base link is removed
    files[3].write_text(files[3].read_text(encoding="utf-8") + "\nДобавлено позже.", encoding="utf-8")
    b.build(corpus, st, workers=1)
    third = check("remove")
    assert pl.read_parquet(third.directory / store.STORY_LINKS_DROPPED).height >= 1
    # the second end (doc_b) of a base link is removed, its first end keeps its story: the
    # link must go all the same
    paths = dict(pl.read_parquet(third.directory / "articles.parquet", columns=["doc_id", "path"]).iter_rows())
    base = pl.read_parquet(first.directory / "story_links.parquet").filter(pl.col("reason") != "duplicate")
    live = base.join(store.scan(third, "story_links").collect().select("doc_a", "doc_b"), on=["doc_a", "doc_b"])
    link = (live.filter(pl.col("doc_a").is_in(list(paths)) & pl.col("doc_b").is_in(list(paths)))
            .sort("doc_a").row(0, named=True))
    (corpus / paths[link["doc_b"]]).unlink()
    b.build(corpus, st, workers=1)
    check("remove the second end")
    assert store.current(st).manifest["articles"] == len(paths) - 1
    monkeypatch.setattr(stories, "LINK_DELTA_SHARE", 0.0)  # any change: the table is written whole
    (corpus / "copy3.txt").write_text(text2 + "\nОбновлено ночью.", encoding="utf-8")
    b.build(corpus, st, workers=1)
    whole = check("whole")
    assert not (whole.directory / store.STORY_LINKS_DELTA).exists()
    assert os.stat(whole.directory / "story_links.parquet").st_ino != os.stat(third.directory / "story_links.parquet").st_ino


@pytest.mark.parametrize("links", ["sorted in memory", "streamed"])
def test_links_written_whole_after_a_removal_equal_a_full_build(tmp_path, monkeypatch, links):
    """A rebuild whose link changes pass LINK_DELTA_SHARE writes the table whole: without the
    base links of a removed article (from the base and the changes in memory, or merged while
    streaming), equal to a from-scratch build's."""
    from presslens import stories

    if links == "streamed":
        monkeypatch.setattr(stories, "LINKS_IN_MEMORY", 0)
    corpus, _, _ = _seeds_and_a_near_copy(tmp_path)
    st = tmp_path / "s"
    b.build(corpus, st, workers=1)
    first = store.current(st)
    copy1 = dict(pl.read_parquet(first.directory / "articles.parquet", columns=["path", "doc_id"]).iter_rows())["copy1.txt"]
    assert store.scan(first, "story_links").filter((pl.col("doc_a") == copy1) | (pl.col("doc_b") == copy1)).collect().height
    monkeypatch.setattr(stories, "LINK_DELTA_SHARE", 0.0)
    (corpus / "copy1.txt").unlink()
    b.build(corpus, st, workers=1)
    info = store.current(st)
    assert not (info.directory / store.STORY_LINKS_DELTA).exists()
    b.build(corpus, tmp_path / "full", workers=1)
    key = ["doc_a", "doc_b", "reason", "story_id"]
    got = store.scan(info, "story_links").collect()
    assert got.drop("score").sort(key).equals(
        store.scan(store.current(tmp_path / "full"), "story_links").collect().drop("score").sort(key))
    assert copy1 not in set(got["doc_a"]) | set(got["doc_b"])


def test_editing_an_article_keeps_its_storys_id(tmp_path):
    """A story is named after its files (stories.story_key), not their texts: after an edit
    of the member with the smallest doc_id (whose new doc_id is another hash), the story keeps
    its id, so a shared story= link and the story's links in the store stay as they were."""
    corpus, _, _ = _seeds_and_a_near_copy(tmp_path)
    st = tmp_path / "s"
    b.build(corpus, st, workers=1)
    before = _tables(st)["articles"]
    story = before.filter(pl.col("path") == "copy1.txt")["story_id"].item()
    members = before.filter(pl.col("story_id") == story).sort("doc_id")
    assert members.height >= 2
    edited = members["path"][0]  # the smallest doc_id: the story's name before story keys
    f = corpus / edited
    f.write_text(f.read_text(encoding="utf-8") + "\nОбновлено днём.", encoding="utf-8")
    b.build(corpus, st, workers=1)
    after = _tables(st)["articles"]
    assert after.filter(pl.col("path") == edited)["doc_id"].item() != members["doc_id"][0]
    assert sorted(after.filter(pl.col("story_id") == story)["path"].to_list()) == sorted(members["path"].to_list())


def test_a_failing_story_step_never_changes_the_previous_versions_links(tmp_path, monkeypatch):
    """The new version's story_links file starts as a hard link to the live version's; when
    the story step then fails, the empty table the build writes replaces the link instead of
    emptying the shared file: the previous version's links stay as they were."""
    from presslens import stories

    monkeypatch.setattr(stories, "LINK_DELTA_SHARE", 1e9)
    corpus, _, text2 = _seeds_and_a_near_copy(tmp_path)
    st = tmp_path / "s"
    b.build(corpus, st)
    before = store.current(st)
    base = before.directory / "story_links.parquet"
    content = base.read_bytes()
    assert pl.read_parquet(base).height > 0

    def fails_after_the_links(self, directory):  # the links written (a hard link made), then a failure
        assert self.pending is not None
        self.pending()
        assert os.stat(Path(directory) / "story_links.parquet").st_ino == os.stat(base).st_ino
        raise RuntimeError("disk said no")

    monkeypatch.setattr(stories.StoryState, "save", fails_after_the_links)
    (corpus / "copy2.txt").write_text(text2 + "\nОбновлено вечером.", encoding="utf-8")
    summary = b.build(corpus, st)
    assert summary["stories_error"] == "RuntimeError: disk said no"
    assert store.scan(store.current(st), "story_links").collect().height == 0
    assert base.read_bytes() == content


@pytest.mark.parametrize("where", ["grouping", "writing the story state"])
def test_a_failing_story_step_keeps_the_build_with_every_article_its_own_story(tmp_path, monkeypatch, where):
    """A failure of the story step, in the grouping or in the thread that writes its state
    and links, never loses a build: every article is its own story, the summary says why,
    no half-written story state is left, and the next build groups again."""
    from presslens import stories

    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"

    def boom(*a, **k):
        raise RuntimeError("disk said no")

    if where == "grouping":
        monkeypatch.setattr(stories, "group_features", boom)
    else:
        monkeypatch.setattr(stories.StoryState, "save", boom)
    summary = b.build(corpus, st)
    assert summary["stories_error"] == "RuntimeError: disk said no"
    t = _tables(st)
    assert t["articles"].height == 5
    assert t["articles"]["story_id"].to_list() == t["articles"]["doc_id"].to_list()
    assert t["story_links"].height == 0
    assert stories.StoryState.load(store.current(st).directory) is None
    # the serving index (built while the state was being written) has every article's own story too
    from presslens import index

    assert sorted(index.load(store.current(st).directory, attach_search=False).stories.to_list()) == sorted(
        t["articles"]["doc_id"].to_list())
    monkeypatch.undo()
    (corpus / "new.txt").write_text((corpus / sorted(p.name for p in corpus.glob("*.txt"))[1]).read_text(
        encoding="utf-8") + "\nОбновлено.", encoding="utf-8")
    again = b.build(corpus, st)
    assert not again.get("stories_error")
    assert _tables(st)["articles"]["story_id"].n_unique() < 6  # grouped again: the copy joins a story
    # grouped again from the reused articles' rows too (their entities included), as from scratch
    b.build(corpus, tmp_path / "full")
    inc, full = _tables(st), _tables(tmp_path / "full")
    assert inc["articles"].select("doc_id", "story_id").sort("doc_id").equals(
        full["articles"].select("doc_id", "story_id").sort("doc_id"))
    key = ["doc_a", "doc_b"]
    assert inc["story_links"].drop("score").sort(key).equals(full["story_links"].drop("score").sort(key))


def test_touching_a_file_without_changing_it_reuses_its_rows(tmp_path):
    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    first = b.build(corpus, st)
    f = sorted(corpus.glob("*.txt"))[0]
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    again = b.build(corpus, st)
    assert again["processed_files"] == 0 and again["version"] == first["version"]


def test_files_table_holds_each_files_content_hash(tmp_path):
    """New files are hashed while the workers enrich them (build._hash_rows): the files table
    of a first build and of a rebuild that adds a file holds the SHA-1 of every file's bytes."""
    import hashlib

    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    b.build(corpus, st)
    (corpus / "new.txt").write_text("A new article about Pyongyang and Moscow, long enough to be read.",
                                    encoding="utf-8")
    b.build(corpus, st)
    files = dict(_tables(st)["files"].select("path", "sha1").iter_rows())
    assert files == {p.name: hashlib.sha1(p.read_bytes()).hexdigest() for p in corpus.glob("*.txt")}


def test_failed_build_leaves_the_previous_version_readable(tmp_path, monkeypatch):
    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    b.build(corpus, st)
    before = store.current(st)
    (corpus / "new.txt").write_text("A new article about Pyongyang and Moscow, long enough to be read.", encoding="utf-8")
    real = store.write_table

    def boom(directory, table, data):
        if table == "entities":
            raise RuntimeError("disk full")
        return real(directory, table, data)

    monkeypatch.setattr(store, "write_table", boom)
    with pytest.raises(RuntimeError):
        b.build(corpus, st)
    after = store.current(st)
    assert after.directory == before.directory
    assert pl.read_parquet(store.table_path(after, "articles")).height == 5
    assert not [p for p in st.iterdir() if p.name.startswith(".tmp-")]


def test_a_failing_search_index_fails_a_full_build_and_keeps_the_live_version(tmp_path, monkeypatch):
    # a full build writes the full-text index in a thread while it groups the stories: an
    # error there must fail the build as it would in line, with the live version untouched
    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    b.build(corpus, st)
    before = store.current(st)
    monkeypatch.setattr(store, "PIPELINE_VERSION", "changed")  # the next build is a full one
    calls = []

    def boom(*args):
        calls.append(args)
        raise OSError("no space left for the search index")

    monkeypatch.setattr(b.search, "build", boom)
    with pytest.raises(OSError, match="search index"):
        b.build(corpus, st)
    assert len(calls) == 1
    after = store.current(st)
    assert after.directory == before.directory
    assert pl.read_parquet(store.table_path(after, "articles")).height == 5
    assert not [p for p in st.iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize("story_batch", [b.STORY_BATCH, 2])
def test_full_build_search_index_matches_the_written_articles(tmp_path, monkeypatch, story_batch):
    # the full-text index of a full build is written in a thread from the assembled rows (in
    # slices of BATCH_ROWS); it must answer as one written afterwards from articles.parquet,
    # also when that table is written before the stories are grouped (more than STORY_BATCH)
    import numpy as np

    monkeypatch.setattr(b, "STORY_BATCH", story_batch)
    monkeypatch.setattr(b.search, "BATCH_ROWS", 2)
    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    b.build(corpus, st)
    info = store.current(st)
    again = tmp_path / "again"
    again.mkdir()
    b.search.build(tmp_path, again, pl.scan_parquet(store.table_path(info, "articles")), None)
    built, ref = b.search.open(info.directory), b.search.Searcher(again / b.search.SEARCH_DIR)
    assert built.num_articles == ref.num_articles == 5
    for name in ("skeys.npy", "ords.npy"):
        assert np.array_equal(np.load(info.directory / b.search.SEARCH_DIR / name),
                              np.load(again / b.search.SEARCH_DIR / name))
    for q in ["Pyongyang", "Москва", "Київ", "missiles OR Kim", "  "]:
        assert built.doc_rows(q).tolist() == ref.doc_rows(q).tolist(), q
    assert built.doc_rows("  ").tolist() == list(range(5))


def test_duplicates_point_to_the_first_copy(tmp_path):
    corpus = _copy_seeds(tmp_path / "c")
    original = sorted(corpus.glob("*.txt"))[0]
    text = original.read_text(encoding="utf-8")
    (corpus / "zz_copy.txt").write_text("  " + text.replace("\n", "\n\n") + "\n", encoding="utf-8")
    b.build(corpus, tmp_path / "s")
    arts = _tables(tmp_path / "s")["articles"]
    first = arts.filter(pl.col("path") == original.name)
    copy = arts.filter(pl.col("path") == "zz_copy.txt")
    assert first["duplicate_of"][0] is None
    assert copy["duplicate_of"][0] == first["doc_id"][0]
    assert arts.filter(pl.col("duplicate_of").is_not_null()).height == 1


def test_parallel_build_equals_serial_build(tmp_path, monkeypatch):
    corpus = _copy_seeds(tmp_path / "c")
    serial = b.build(corpus, tmp_path / "serial", workers=1)
    monkeypatch.setattr(b, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(b, "CHUNK_FILES", 2)
    parallel = b.build(corpus, tmp_path / "parallel", workers=2)
    assert serial["version"] == parallel["version"]
    cols = ["doc_id", "path", "language", "outlet", "published", "cited_sources", "duplicate_of"]
    a = _tables(tmp_path / "serial")
    p = _tables(tmp_path / "parallel")
    assert a["articles"].select(cols).equals(p["articles"].select(cols))
    assert a["mentions"].sort(["doc_id", "start"]).equals(p["mentions"].sort(["doc_id", "start"]))


def test_parallel_build_works_when_the_main_script_is_the_app(tmp_path, monkeypatch):
    """Under `streamlit run`, __main__ is the page script; spawned workers must not run it
    (they would draw the app headless and die, failing a build started from the app)."""
    import sys
    import types

    script = tmp_path / "app_like.py"
    script.write_text("raise SystemExit('the main script was run in a build worker')\n", encoding="utf-8")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake)
    monkeypatch.setattr(b, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(b, "CHUNK_FILES", 2)
    corpus = _copy_seeds(tmp_path / "c")
    summary = b.build(corpus, tmp_path / "s", workers=2)
    assert summary["processed_files"] == summary["files"] > 0 and summary["articles"] > 0
    assert sys.modules["__main__"] is fake


def test_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="Corpus folder not found"):
        b.build(tmp_path / "nope", tmp_path / "s")


def test_cli_build_prints_a_summary(tmp_path):
    import subprocess
    import sys

    corpus = _copy_seeds(tmp_path / "c")
    (corpus / "bad.txt").write_bytes(b"")
    out = subprocess.run([sys.executable, "-m", "presslens", "build", "--corpus", str(corpus), "--store",
                          str(tmp_path / "s"), "--quiet"], capture_output=True, text=True, cwd=SEEDS.parent.parent)
    assert out.returncode == 0, out.stderr
    assert "articles: 5" in out.stdout
    assert "rejected: 1" in out.stdout and "bad.txt" in out.stdout


def _export_files(d: Path) -> list[Path]:
    """One JSONL, CSV, TSV and Parquet export with good rows, rows without text and bad rows."""
    import json

    d.mkdir(parents=True, exist_ok=True)
    texts = [f"Статья номер {i}: Путин и Ким Чен Ын встретились в Пхеньяне, сообщает ТАСС." for i in range(23)]
    lines = []
    for i, t in enumerate(texts):
        lines.append(json.dumps({"text": t, "title": f"T{i}", "published": "2024-06-19"}, ensure_ascii=False))
        if i % 7 == 3:
            lines.append('{"text": ')  # malformed
        if i % 5 == 2:
            lines.append(json.dumps({"title": "no text"}))
    (d / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (d / "b.csv").write_text("title,text\n" + "".join(f'T{i},"{t}"\n' for i, t in enumerate(texts)) + "x,\n",
                             encoding="utf-8")
    (d / "c.tsv").write_text("text\tlanguage\n" + "".join(f"{t}\tru\n" for t in texts), encoding="utf-8")
    pl.DataFrame({"body": texts + [None], "headline": [f"H{i}" for i in range(24)]}).write_parquet(
        d / "d.parquet", row_group_size=5)
    (d / "e.jsonl").write_text("\n".join(json.dumps({"title": f"t{i}"}) for i in range(12)) + "\n", encoding="utf-8")
    return sorted(d.iterdir())


def test_streamed_exports_give_the_same_records_and_rejects_as_whole_reads(tmp_path):
    from presslens import ingest

    def key(records, rejects):
        return ([(r.path, r.record, r.text, r.title, r.published, r.language) for r in records],
                sorted((r.path, r.record or 0, r.reason) for r in rejects))

    for f in _export_files(tmp_path):
        whole = key(*ingest.read(f, f.name))
        batches = list(ingest.read_batches(f, f.name, batch=4, stream_min_bytes=0))
        assert all(len(recs) <= 4 for recs, _ in batches)
        streamed = key([r for recs, _ in batches for r in recs], [r for _, rej in batches for r in rej])
        assert streamed == whole, f.name
        assert whole[0] or whole[1], f.name
    # a file with no text field at all gets the one file-level reason, streamed or not
    (only,) = [rej for _, rej in ingest.read_batches(tmp_path / "e.jsonl", "e.jsonl", batch=4, stream_min_bytes=0)
               if rej]
    assert len(only) == 1 and "No text column found" in only[0].reason


def test_long_documents_are_cut_into_batches_by_size(tmp_path):
    from presslens import ingest

    f = tmp_path / "long.jsonl"
    import json

    f.write_text("\n".join(json.dumps({"text": "слово " * 2000}) for _ in range(10)), encoding="utf-8")
    for smin in (0, 10**9):  # streamed and whole-file paths
        sizes = [len(r) for r, _ in ingest.read_batches(f, f.name, batch=1000, stream_min_bytes=smin,
                                                         batch_chars=25_000)]
        assert sizes == [3, 3, 3, 1], smin  # a batch ends once it reaches 25,000 chars


def test_build_of_exports_in_small_batches_equals_default_batches(tmp_path):
    corpus = tmp_path / "c"
    _export_files(corpus)
    b.build(corpus, tmp_path / "big")
    b.build(corpus, tmp_path / "small", batch_records=3)
    big, small = _tables(tmp_path / "big"), _tables(tmp_path / "small")
    for t in ("articles", "mentions", "rejects", "entities"):
        cols = [c for c in big[t].columns if c != "mtime_ns"]
        order = {"articles": ["path", "record"], "mentions": ["doc_id", "start"], "rejects": ["path", "record"],
                 "entities": ["entity_id"]}[t]
        assert big[t].select(cols).sort(order).equals(small[t].select(cols).sort(order)), t
    assert big["articles"].height == 23 * 3 + 23


def test_cli_progress_off_a_terminal_shows_files_rate_and_time_left(tmp_path, capsys):
    from presslens.__main__ import format_progress, main

    assert format_progress(1200, 10000, 34.0) == "files 1,200/10,000 (12%), 35.3 files/s, about 4 min 9 s left"
    assert format_progress(10, 10, 2.0).endswith("5.0 files/s, done")
    corpus = _copy_seeds(tmp_path / "c")
    assert main(["build", "--corpus", str(corpus), "--store", str(tmp_path / "s")]) == 0
    err = capsys.readouterr().err
    assert "files 5/5 (100%)" in err and "files/s, done" in err


# ---------------------------------------------------------------- build --watch

def _wait_for(cond, timeout: float = 60.0, every: float = 0.05) -> bool:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(every)
    return False


def test_watch_rebuilds_on_each_change_and_survives_a_failed_build(tmp_path, monkeypatch):
    import threading

    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    b.build(corpus, st)  # watching starts on a store that is up to date
    built, errors, stop = [], [], threading.Event()
    real_build, fail_next = b.build, [False]

    def flaky_build(*args, **kwargs):
        if fail_next[0]:
            fail_next[0] = False
            raise OSError("disk full")
        return real_build(*args, **kwargs)

    monkeypatch.setattr(b, "build", flaky_build)
    t = threading.Thread(target=lambda: built.append(b.watch(corpus, st, interval=0.05, min_gap=0, workers=1,
                                                            stop=stop, on_build=built.append,
                                                            on_error=errors.append)))
    t.start()
    try:
        assert _wait_for(lambda: len(built) == 1)
        assert built[0]["unchanged"] and built[0]["articles"] == 5  # nothing rebuilt at the start
        (corpus / "new.txt").write_text("Новость\n\nПутин прилетел в Пхеньян 19 июня.\n", encoding="utf-8")
        assert _wait_for(lambda: len(built) == 2)
        assert built[1]["processed_files"] == 1 and built[1]["articles"] == 6 and "unchanged" not in built[1]
        assert "new.txt" in set(store.scan(store.current(st), "articles").collect()["path"])
        # a build that fails is reported, the live version stays, and the next look tries again
        live = store.current(st).directory
        fail_next[0] = True
        (corpus / "new.txt").unlink()
        assert _wait_for(lambda: len(built) == 3)
        assert [str(e) for e in errors] == ["disk full"]
        assert built[2]["articles"] == 5 and store.current(st).directory != live
        assert len(built) == 3  # no change since: no build
    finally:
        stop.set()
        t.join(30)
    assert not t.is_alive() and built[-1] == 3  # watch returns the number of builds it ran


def test_watch_compacts_the_story_links_while_it_waits_and_the_next_build_starts_from_them(tmp_path, monkeypatch):
    """While `watch` waits for changes it writes the live version's story links again as one
    file (a process of its own); the rebuild after the next change takes it as its base."""
    import threading

    from presslens import stories

    monkeypatch.setattr(stories, "LINK_DELTA_SHARE", 1e9)  # (a few links would be written whole)
    monkeypatch.setattr(stories, "COMPACT_MIN_LINKS", 0)  # (handed to the compaction process)
    monkeypatch.setattr(stories, "COMPACT_SHARE", 0.0)
    corpus, files, text2 = _seeds_and_a_near_copy(tmp_path)
    st = tmp_path / "s"
    b.build(corpus, st, workers=1)
    built, stop = [], threading.Event()
    t = threading.Thread(target=lambda: b.watch(corpus, st, interval=0.05, min_gap=0, workers=1, stop=stop,
                                                on_build=built.append))
    t.start()
    try:
        assert _wait_for(lambda: len(built) == 1)
        assert not (store.current(st).directory / store.STORY_LINKS_COMPACTED).exists()  # no delta: nothing to do
        (corpus / "copy2.txt").write_text(text2 + "\nОбновлено вечером.", encoding="utf-8")
        assert _wait_for(lambda: len(built) == 2)
        second = store.current(st)
        assert _wait_for(lambda: (second.directory / store.STORY_LINKS_COMPACTED).exists(), 60)
        files[3].write_text(files[3].read_text(encoding="utf-8") + "\nДобавлено позже.", encoding="utf-8")
        assert _wait_for(lambda: len(built) == 3)
        third = store.current(st)
        assert os.stat(third.directory / "story_links.parquet").st_ino == os.stat(
            second.directory / store.STORY_LINKS_COMPACTED).st_ino
    finally:
        stop.set()
        t.join(30)
    assert not t.is_alive()
    assert not list(st.glob(f"*/{stories.COMPACTING_PREFIX}*"))


def test_a_compaction_stopped_before_a_build_leaves_no_process_and_no_partial_file(tmp_path):
    import multiprocessing as mp
    import time

    from presslens import stories

    d = tmp_path / "v"
    d.mkdir()
    part = d / f"{stories.COMPACTING_PREFIX}0123.parquet"
    part.write_bytes(b"PAR1 half written")
    c = b._Compaction.__new__(b._Compaction)  # a compaction still writing: a process that sleeps
    c.directory, c.proc = d, mp.get_context("spawn").Process(target=time.sleep, args=(60,), daemon=True)
    c.proc.start()
    t = time.perf_counter()
    c.stop()
    assert not c.proc.is_alive() and time.perf_counter() - t < 10
    assert not part.exists() and list(d.iterdir()) == []


def test_watch_spaces_its_looks_when_looking_takes_long(tmp_path, monkeypatch):
    # a large corpus takes seconds to stat (1M files: ~10 s): the watcher then waits
    # WATCH_LOOK_SPACING times as long before looking again, not the bare interval
    import threading
    import time

    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    b.build(corpus, st)
    looks = []

    def slow_look(c, s):
        looks.append(1)
        time.sleep(0.05)
        return False, None

    class Recording(threading.Event):
        waits: list[float] = []

        def wait(self, timeout=None):
            self.waits.append(timeout)
            if len(self.waits) >= 4:
                self.set()
            return self.is_set()

    monkeypatch.setattr(b, "look", slow_look)
    stop = Recording()
    assert b.watch(corpus, st, interval=0.01, workers=1, stop=stop) == 1  # the first build only
    assert len(looks) == 3 and stop.waits[0] == 0.01  # the first build is not a look
    assert all(w >= b.WATCH_LOOK_SPACING * 0.05 for w in stop.waits[1:])
    assert b.watch_wait(2.0, 0.1) == 2.0 and b.watch_wait(2.0, 10.0) == 10.0 * b.WATCH_LOOK_SPACING


def test_watch_leaves_min_gap_between_the_starts_of_two_builds(tmp_path, monkeypatch):
    # every build publishes a version that stays on disk 10 minutes: files that keep arriving
    # are built together, at most once every min_gap seconds (not once a look)
    import threading

    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    monkeypatch.setattr(b, "look", lambda c, s: (True, None))  # a file changes before every look

    class Recording(threading.Event):
        waits: list[float] = []

        def wait(self, timeout=None):
            self.waits.append(timeout)
            (corpus / f"new{len(self.waits)}.txt").write_text("Новость\n\nПутин прилетел.\n", encoding="utf-8")
            if len(self.waits) >= 3:
                self.set()
            return self.is_set()

    stop = Recording()
    assert b.watch(corpus, st, interval=0.01, min_gap=30, workers=1, stop=stop) == 3
    # each wait is the gap's rest: 30 s minus the build just done (a few seconds at most here)
    assert all(20 < w <= 30 for w in stop.waits), stop.waits


def test_a_build_given_a_look_s_listing_does_not_stat_the_corpus_again_and_misses_nothing(tmp_path, monkeypatch):
    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    b.build(corpus, st)
    (corpus / "new.txt").write_text("Новость\n\nПутин прилетел в Пхеньян 19 июня.\n", encoding="utf-8")
    stale, listing = b.look(corpus, st)
    assert stale and sorted(f[0] for f in listing.files) == sorted(p.name for p in corpus.iterdir())
    # a file changed after the look: the build reads its text as it is now, but records the
    # size and mtime the look saw...
    (corpus / "new.txt").write_text("Новость\n\nКим Чен Ын прилетел в Москву 3 сентября.\n", encoding="utf-8")
    os.utime(corpus / "new.txt", ns=(1, 1))
    calls = []
    real = b._corpus_files
    monkeypatch.setattr(b, "_corpus_files", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = b.build(corpus, st, workers=1, listing=listing)
    assert calls == [] and first["processed_files"] == 1  # planned from the listing alone

    def stored_text() -> list[str]:
        arts = store.scan(store.current(st), "articles").filter(pl.col("path") == "new.txt").collect()
        return arts["text"].to_list()

    assert stored_text() == [(corpus / "new.txt").read_text(encoding="utf-8")]
    # ...so the next look sees it changed, and the build after it finds the same content (its
    # hash) and only records the file's size and mtime: nothing is missed, nothing redone
    stale, listing = b.look(corpus, st)
    assert stale and calls == [1]
    again = b.build(corpus, st, workers=1, listing=listing)
    assert again["processed_files"] == 0 and again["unchanged"]
    assert stored_text() == [(corpus / "new.txt").read_text(encoding="utf-8")]


def test_watch_builds_once_for_a_file_touched_but_not_edited(tmp_path):
    # a new mtime, the same content: the build finds nothing to process and records the new
    # mtime (a version with the same data), so the next looks find the store current; the
    # watcher must not rebuild (and print "up to date") at every look after that
    import threading

    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    b.build(corpus, st)
    seed = sorted(corpus.iterdir())[0]

    class Recording(threading.Event):
        waits = 0

        def wait(self, timeout=None):
            self.waits += 1
            if self.waits == 1:
                os.utime(seed, ns=(10**18, 10**18))  # touched after the first build
            if self.waits >= 5:
                self.set()
            return self.is_set()

    built: list[dict] = []
    assert b.watch(corpus, st, interval=0.01, min_gap=0, workers=1, stop=Recording(), on_build=built.append) == 2
    assert [s["unchanged"] for s in built] == [True, True] and [s["restat_files"] for s in built] == [0, 1]
    assert not b.is_stale(corpus, st)


def test_watch_refuses_a_missing_corpus_or_unknown_engine_before_watching(tmp_path):
    with pytest.raises(FileNotFoundError, match="Corpus folder not found"):
        b.watch(tmp_path / "nope", tmp_path / "s", workers=1)
    with pytest.raises(ValueError, match="Unknown build engine"):
        b.watch(tmp_path, tmp_path / "s", engine="spark", workers=1)
    assert not (tmp_path / "s").exists()


def test_a_started_pool_is_used_for_a_few_files_only_once_its_models_are_loaded(tmp_path):
    b.shutdown_workers()
    try:
        assert isinstance(b._runner("local", 2, 3, None, True), b._InProcess)  # no pool: this process
        b.start_workers(2)
        assert 2 in b._POOLS
        if not b._pool_warm(2):  # still loading its models: a 3-file build does not wait for it
            assert isinstance(b._runner("local", 2, 3, None, True), b._InProcess)
        assert _wait_for(lambda: b._pool_warm(2), timeout=180)
        assert isinstance(b._runner("local", 2, 3, None, True), b._Pool)
        summary = b.build(_copy_seeds(tmp_path / "c"), tmp_path / "s", workers=2, keep_workers=True)
        assert summary["articles"] == 5
    finally:
        b.shutdown_workers()
    assert not b._POOLS and not b._WARMING


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_cli_watch_builds_then_rebuilds_on_a_change_and_stops_cleanly_on_ctrl_c(tmp_path, engine):
    import signal
    import subprocess
    import sys

    corpus = _copy_seeds(tmp_path / "c")
    proc = subprocess.Popen([sys.executable, "-m", "presslens", "build", "--corpus", str(corpus), "--store",
                             str(tmp_path / "s"), "--watch", "--interval", "0.2", "--min-gap", "0.5", "--workers", "2",
                             "--quiet",
                             "--engine", engine],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=SEEDS.parent.parent,
                            start_new_session=True)
    lines: list[str] = []
    try:
        import threading

        reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
        reader.start()
        assert _wait_for(lambda: any(ln.startswith("watching ") for ln in lines), timeout=120), lines
        assert "built: 5 new or changed files of 5" in lines[0]
        (corpus / "new.txt").write_text("Новость\n\nПутин прилетел в Пхеньян 19 июня.\n", encoding="utf-8")
        assert _wait_for(lambda: any("built: 1 new or changed files of 6" in ln for ln in lines), timeout=60), lines
        # what Ctrl-C in a terminal does: SIGINT to the whole group, the two pool workers (or the
        # local Dask cluster's nannies and workers) too, loading their models or idle by now
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(60)
        reader.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read()
    assert proc.returncode == 0, err
    assert lines[-1].strip() == "stopped watching"
    assert "Traceback" not in err
    assert store.current(tmp_path / "s").manifest["articles"] == 6
    bad = subprocess.run([sys.executable, "-m", "presslens", "build", "--corpus", str(corpus), "--store",
                          str(tmp_path / "s"), "--watch", "--interval", "0"], capture_output=True, text=True,
                         cwd=SEEDS.parent.parent)
    assert bad.returncode == 2 and "--interval must be a positive number" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "presslens", "build", "--corpus", str(corpus), "--store",
                          str(tmp_path / "s"), "--watch", "--min-gap", "-1"], capture_output=True, text=True,
                         cwd=SEEDS.parent.parent)
    assert bad.returncode == 2 and "--min-gap must be zero or a positive" in bad.stderr


def _signal_a_build_mid_way(tmp_path: Path, args: list[str], sig: int) -> tuple[int, str, str, Path, Path]:
    """Start `python -m presslens build` (with `args`) on the seeds plus 40 new files over a built
    store, send `sig` once it has begun writing its version, and wait for it to end. Returns
    (exit status, stdout, stderr, the store, the live version before). With --workers 1 the
    process enriches the files itself after loading its models (after the version's folder is
    made), so the signal comes while it enriches them; it stops at the next step boundary."""
    import subprocess
    import sys

    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    b.build(corpus, st)
    live = store.current(st).directory
    for k in range(40):
        (corpus / f"new{k:02d}.txt").write_text(f"Новость {k}\n\nПутин прилетел в Пхеньян {k % 28 + 1} июня.\n",
                                                encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "presslens", "build", "--corpus", str(corpus), "--store", str(st),
                             "--workers", "1", "--quiet", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=SEEDS.parent.parent)
    try:
        assert _wait_for(lambda: any(p.name.startswith(".tmp-") for p in st.iterdir()), timeout=60)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out, err, st, live


def test_cli_watch_stopped_in_the_middle_of_a_build_abandons_it_and_keeps_the_live_version(tmp_path):
    import signal

    code, out, err, st, live = _signal_a_build_mid_way(tmp_path, ["--watch"], signal.SIGTERM)
    assert code == 0, err
    assert out.strip().endswith("stopped watching") and "built:" not in out
    assert "Traceback" not in err
    assert store.current(st).directory == live  # the live version as it was
    assert not any(p.name.startswith(".tmp-") for p in st.iterdir())  # the half-written one removed


def test_cli_build_stopped_by_ctrl_c_publishes_nothing_and_says_so(tmp_path):
    import signal

    code, out, err, st, live = _signal_a_build_mid_way(tmp_path, [], signal.SIGINT)
    assert code == 130, err
    assert "stopped: the build published nothing" in err and "Traceback" not in err
    assert out == ""
    assert store.current(st).directory == live
    assert not any(p.name.startswith(".tmp-") for p in st.iterdir())


def test_a_build_asked_to_stop_stops_at_a_step_boundary_and_leaves_the_live_version(tmp_path, monkeypatch):
    """build(stop=): `build --watch` sets the event on Ctrl-C or SIGTERM. The build stops at its
    next step boundary with BuildStopped: nothing published, its half-written version removed
    (once the threads writing into it have ended), the live version as it was; the same
    build, not stopped, then publishes."""
    import threading

    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    b.build(corpus, st, workers=1)
    live = store.current(st).directory
    for k in range(3):
        (corpus / f"new{k}.txt").write_text(f"Новость {k}\n\nПутин прилетел в Пхеньян {k + 10} июня.\n",
                                            encoding="utf-8")

    def left_over() -> list[str]:
        return [p.name for p in st.iterdir() if p.name.startswith(".tmp-")]

    # 1. while the workers enrich the files (set when the first progress report comes, before
    # any task ran: none runs)
    stop, ran = threading.Event(), []
    run_task = b.run_task
    monkeypatch.setattr(b, "run_task", lambda task: ran.append(task) or run_task(task))
    with pytest.raises(b.BuildStopped):
        b.build(corpus, st, workers=1, stop=stop, progress=lambda done, total: stop.set())
    assert store.current(st).directory == live and not left_over()
    assert ran == []

    # 2. after the story step, while the full-text index is written in a thread
    stop = threading.Event()
    group = b._group_stories

    def group_then_stop(*args, **kwargs):
        out = group(*args, **kwargs)
        stop.set()
        return out

    monkeypatch.setattr(b, "_group_stories", group_then_stop)
    finished = []  # the steps after the story step are not run
    monkeypatch.setattr(b, "_post_build", lambda *args: finished.append(args))
    with pytest.raises(b.BuildStopped):
        b.build(corpus, st, workers=1, stop=stop)
    assert finished == []
    assert store.current(st).directory == live and not left_over()
    assert store.current(st).manifest["articles"] == 5
    monkeypatch.undo()

    # 2b. at the last boundary: everything written, the version not yet published
    stop = threading.Event()
    post_build = b._post_build

    def post_build_then_stop(*args):
        post_build(*args)
        stop.set()

    monkeypatch.setattr(b, "_post_build", post_build_then_stop)
    with pytest.raises(b.BuildStopped):
        b.build(corpus, st, workers=1, stop=stop)
    assert store.current(st).directory == live and not left_over()
    monkeypatch.undo()

    # 3. while it waits for another build of the store: it stops waiting
    stop, raised = threading.Event(), []

    def run() -> None:
        try:
            b.build(corpus, st, workers=1, stop=stop, on_wait=stop.set)
        except b.BuildStopped as exc:
            raised.append(exc)

    with store.build_lock(st):
        t = threading.Thread(target=run)
        t.start()
        t.join(30)
        assert not t.is_alive() and len(raised) == 1  # stopped while the lock was still held
    assert store.current(st).directory == live and not left_over()

    # not stopped: the same build publishes
    assert b.build(corpus, st, workers=1, stop=threading.Event())["articles"] == 8


def test_a_second_build_of_the_same_store_waits_for_the_first(tmp_path):
    # the app's refresh, `build --watch` and a `build` typed meanwhile must not build one store
    # side by side: the second waits (the lock is the OS's, across processes), then finds the
    # work done
    import threading

    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    b.build(corpus, st)
    (corpus / "new.txt").write_text("Новость\n\nПутин прилетел в Пхеньян 19 июня.\n", encoding="utf-8")
    waited, done = threading.Event(), []
    with store.build_lock(st):  # another build holds the store
        t = threading.Thread(target=lambda: done.append(b.build(corpus, st, workers=1, on_wait=waited.set)))
        t.start()
        assert waited.wait(30)
        t.join(1.0)
        assert t.is_alive() and not done  # still waiting, nothing published meanwhile
        assert store.current(st).manifest["articles"] == 5
    t.join(120)
    assert done and done[0]["articles"] == 6 and done[0]["processed_files"] == 1
    # a store holding only the lock file (a first build stopped early) is still an empty store
    from presslens import guard

    empty = tmp_path / "e"
    with store.build_lock(empty):
        pass
    assert [p.name for p in empty.iterdir()] == [store.BUILD_LOCK]
    assert guard.check_build(str(empty), str(corpus)) is None
    assert b.build(corpus, empty, workers=1)["articles"] == 6


def test_a_touched_file_is_hashed_once_and_its_new_mtime_recorded_with_the_same_data(tmp_path):
    """A file touched but not edited (a checkout, a copy, `touch`) is hashed by the next build,
    found unchanged, and its new mtime recorded in a version holding the same data (hard
    links), so later staleness checks (the app's, at every new session) stat it instead of
    hashing it again; the old version's removal leaves the new one whole."""
    from presslens import index, search

    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    first = b.build(corpus, st, workers=1)
    before = _tables(st)
    seed = sorted(corpus.iterdir())[1]
    os.utime(seed, ns=(10**18, 10**18))
    assert b.is_stale(corpus, st)

    s = b.build(corpus, st, workers=1)
    assert s["unchanged"] and s["processed_files"] == 0 and s["restat_files"] == 1
    assert s["store"] != first["store"] and s["version"] == first["version"]  # links made before stay current
    assert not b.is_stale(corpus, st)
    after = _tables(st)
    for t in store.TABLES:
        if t != "files":
            assert_frame_equal(after[t], before[t])
    files = after["files"].sort("path")
    assert files.filter(pl.col("path") == seed.name)["mtime_ns"].item() == 10**18
    assert_frame_equal(files.drop("mtime_ns"), before["files"].sort("path").drop("mtime_ns"))
    assert "did not change" not in b.format_summary(first) and "1 file(s) whose content did not change" in b.format_summary(s)

    hashed = []
    real = b._sha1_file
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(b, "_sha1_file", lambda p: hashed.append(p) or real(p))
        again = b.build(corpus, st, workers=1)
    assert again["unchanged"] and again["restat_files"] == 0 and again["store"] == s["store"] and hashed == []

    # every file of the old version is in the new one, hard-linked (no copy of the data)
    def listing(d: str) -> set[str]:
        return {str(f.relative_to(d)) for f in Path(d).rglob("*") if f.is_file() and f.suffix != ".lock"} - {
            "files.parquet", "manifest.json", store.RETIRED_MARK}  # (tantivy's lock files are its own)

    assert listing(s["store"]) == listing(first["store"]) and any(n.startswith("index/") for n in listing(s["store"]))
    assert os.path.samefile(Path(s["store"]) / "articles.parquet", Path(first["store"]) / "articles.parquet")
    # the replaced version removed (its grace period over): the new one still reads whole
    assert Path(first["store"]).name in store.remove_retired(st, keep={Path(s["store"]).name}, now=time.time() + 10**6)
    assert not Path(first["store"]).exists()
    for t in store.TABLES:
        if t != "files":
            assert_frame_equal(_tables(st)[t], before[t])
    ix = index.load(s["store"], attach_search=False)
    assert len(ix.doc_sorted) == before["articles"].height
    assert search.open(Path(s["store"])).doc_rows("Пхеньян").size > 0


def test_a_file_whose_hash_could_not_be_taken_is_processed_again_not_reused(tmp_path, monkeypatch):
    """A file that could not be hashed (read error while planning) is stored without a content
    hash; a later build with its size and mtime unchanged processes it again instead of
    trusting rows it cannot tie to a content."""
    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    b.build(corpus, st, workers=1)
    seed = sorted(corpus.iterdir())[2]
    seed.write_text(seed.read_text(encoding="utf-8") + "\nДополнено.", encoding="utf-8")
    real = b._sha1_file

    def failing(p):
        if Path(p).name == seed.name:
            raise OSError("read error")
        return real(p)

    monkeypatch.setattr(b, "_sha1_file", failing)
    first = b.build(corpus, st, workers=1)
    assert first["processed_files"] == 1
    files = store.scan(store.current(st), "files").collect()
    assert files.filter(pl.col("path") == seed.name)["sha1"].item().startswith("unhashed")
    monkeypatch.setattr(b, "_sha1_file", real)
    again = b.build(corpus, st, workers=1)
    assert again["processed_files"] == 1 and again["reused_files"] == 4 and "unchanged" not in again


def test_a_long_lived_build_keeps_the_links_delta_it_wrote_and_writes_what_a_build_reading_it_writes(
        tmp_path, monkeypatch):
    """The story links of an incremental build are the previous base plus a delta and the
    dropped keys (stories._link_delta). A long-lived build keeps the two small tables it wrote
    and the next build reads them from memory instead of decoding the files: over rebuilds that
    add, change and remove articles, what it keeps is what the files hold, it is used, and
    each version's tables and link files are those of a build reading them from disk."""
    from presslens import stories

    monkeypatch.setattr(stories, "LINK_DELTA_SHARE", 1e9)  # always a delta (few links here)
    used = []
    real = stories._link_delta
    monkeypatch.setattr(stories, "_link_delta",
                        lambda *a, **k: used.append(k.get("kept_parts") is not None) or real(*a, **k))
    corpus, files, text2 = _seeds_and_a_near_copy(tmp_path)
    st, disk = tmp_path / "s", tmp_path / "d"
    b.build(corpus, st, workers=1)
    shutil.copytree(st, disk)
    names = [store.STORY_LINKS_DELTA, store.STORY_LINKS_DROPPED, "story_links.parquet"]

    def changes():
        yield lambda: (corpus / "copy2.txt").write_text(text2 + "\nОбновлено вечером.", encoding="utf-8")
        yield lambda: files[3].write_text(files[3].read_text(encoding="utf-8") + "\nДобавлено позже.",
                                          encoding="utf-8")
        yield lambda: (corpus / "copy1.txt").unlink()  # an end of a base link removed
        yield lambda: (corpus / "copy3.txt").write_text(text2 + "\nОбновлено ночью.", encoding="utf-8")

    try:
        for k, change in enumerate(changes()):
            change()
            used.clear()
            b.build(corpus, st, workers=1, keep_workers=True)
            assert used == [k > 0]  # the first rebuild has nothing kept yet
            live = store.current(st).directory
            kept = b._recall("links delta", b._delta_files(live))
            assert kept is not None
            assert kept[0].equals(pl.read_parquet(live / store.STORY_LINKS_DELTA))
            assert kept[1].equals(pl.read_parquet(live / store.STORY_LINKS_DROPPED))
            b.build(corpus, disk, workers=1)  # a build that keeps nothing
            other = store.current(disk).directory
            for name in names:
                assert pl.read_parquet(live / name).equals(pl.read_parquet(other / name)), (k, name)
            mem, dsk = _tables(st), _tables(disk)
            for t in store.TABLES:
                if t != "files":  # (mtimes)
                    assert_frame_equal(mem[t], dsk[t]), (k, t)
        # another process publishes: the kept tables are not the live version's any more
        (corpus / "copy4.txt").write_text(text2 + "\nЕщё.", encoding="utf-8")
        b.build(corpus, st, workers=1)
        assert b._recall("links delta", b._delta_files(store.current(st).directory)) is None
    finally:
        b.shutdown_workers()


def test_a_long_lived_build_reuses_the_tables_it_kept_only_while_they_are_the_live_ones(tmp_path, monkeypatch):
    """A build process that keeps its workers (`build --watch`) keeps the articles table and
    the story state it published in memory, and its next build takes the unchanged articles
    and the state from there instead of reading them again. What it keeps is the published
    tables, row for row; they are never used once another build has published a newer
    version: the rebuild's articles are then the files' current texts, not the kept ones; and
    a rebuild from the kept tables writes the same version as one reading them from disk.
    Too large a table is not kept."""

    def state(directory):
        return tuple(pl.read_parquet(p) for p in b._state_files(directory))

    def kept_state(directory):  # the state's tables (the arrays derived from them aside)
        kept = b._recall("story state", b._state_files(directory))
        return kept if kept is None else kept[:2]

    def kept_articles(path):
        return b._recall("articles", [path])

    corpus = _copy_seeds(tmp_path / "c")
    files = sorted(corpus.glob("*.txt"))
    st = tmp_path / "s"
    try:
        b.build(corpus, st, workers=1, keep_workers=True)
        path = store.current(st).directory / "articles.parquet"
        kept = kept_articles(path)
        assert kept is not None and kept.equals(pl.read_parquet(path))
        assert all(k.equals(d) for k, d in zip(kept_state(path.parent), state(path.parent), strict=True))
        # another build (one that keeps nothing) publishes a version with files[0] edited
        files[0].write_text(files[0].read_text(encoding="utf-8") + "\nИзменено позже.", encoding="utf-8")
        b.build(corpus, st, workers=1)
        assert kept_articles(store.current(st).directory / "articles.parquet") is None
        assert kept_state(store.current(st).directory) is None
        # the long-lived process builds again: files[0] is reused, from the live table
        files[1].write_text(files[1].read_text(encoding="utf-8") + "\nЕщё одна строка.", encoding="utf-8")
        summary = b.build(corpus, st, workers=1, keep_workers=True)
        assert summary["processed_files"] == 1 and summary["reused_files"] == 4
        arts = _tables(st)["articles"]
        for row in arts.iter_rows(named=True):
            assert row["text"] == (corpus / row["path"]).read_text(encoding="utf-8"), row["path"]
        path = store.current(st).directory / "articles.parquet"
        assert kept_articles(path).equals(pl.read_parquet(path))
        assert all(k.equals(d) for k, d in zip(kept_state(path.parent), state(path.parent), strict=True))
        # a rebuild from the kept tables writes what one reading them from disk writes
        files[2].write_text(files[2].read_text(encoding="utf-8") + "\nИ ещё.", encoding="utf-8")
        shutil.copytree(st, tmp_path / "s2")
        b.build(corpus, st, workers=1, keep_workers=True)
        b.forget_kept_tables()
        b.build(corpus, tmp_path / "s2", workers=1)
        mem, disk = _tables(st), _tables(tmp_path / "s2")
        for t in store.TABLES:
            if t != "files":  # (mtimes of copied files)
                assert_frame_equal(mem[t], disk[t])
        assert all(m.equals(d) for m, d in zip(state(store.current(st).directory),
                                                state(store.current(tmp_path / "s2").directory), strict=True))
        # the serving index, built from the kept table while articles.parquet was written,
        # equals the one built from the file
        from conftest import assert_same_index

        from presslens import index

        assert_same_index(store.current(st).directory / index.INDEX_DIR,
                           store.current(tmp_path / "s2").directory / index.INDEX_DIR)
        # a table larger than the bound is not kept
        monkeypatch.setattr(b, "KEPT_TABLE_MAX_BYTES", 1000)
        files[3].write_text(files[3].read_text(encoding="utf-8") + "\nКонец.", encoding="utf-8")
        b.build(corpus, st, workers=1, keep_workers=True)
        assert kept_articles(store.current(st).directory / "articles.parquet") is None
        assert kept_state(store.current(st).directory) is None
    finally:
        b.shutdown_workers()


def test_a_long_lived_build_freezes_what_it_keeps_and_still_collects_its_garbage(tmp_path, monkeypatch):
    """A build(keep_workers=True) leaves the objects alive after it out of later collections
    (gc.freeze), and every FULL_COLLECT_EVERY builds collects everything first, so garbage
    cycles made between builds are freed; shutdown_workers unfreezes."""
    import gc
    import weakref

    class Node:
        pass

    monkeypatch.setattr(b, "FULL_COLLECT_EVERY", 3)
    monkeypatch.setattr(b, "_builds_since_collect", 2)
    corpus = _copy_seeds(tmp_path / "c")
    files = sorted(corpus.glob("*.txt"))
    try:
        b.build(corpus, tmp_path / "s", workers=1, keep_workers=True)
        assert gc.get_freeze_count() > 0
        cycle = Node()
        cycle.me = cycle
        gone = weakref.ref(cycle)
        del cycle
        gc.freeze()  # a cycle made before a build's freeze: frozen with the survivors
        for k in range(3):
            files[k].write_text(files[k].read_text(encoding="utf-8") + "\nИзменено.", encoding="utf-8")
            b.build(corpus, tmp_path / "s", workers=1, keep_workers=True)
            assert (gone() is None) == (k == 2), k  # kept while frozen; freed by the third build's full collection
        assert gc.get_freeze_count() > 0
    finally:
        b.shutdown_workers()
    assert gc.get_freeze_count() == 0
