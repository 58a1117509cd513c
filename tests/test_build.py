"""The build: every input accounted for, incremental, atomic, duplicates, parallel = serial."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from presslens import build as b
from presslens import store

SEEDS = Path(__file__).resolve().parent.parent / "data" / "corpus"


def _copy_seeds(dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted(SEEDS.glob("*.txt")):
        shutil.copy2(f, dst / f.name)
    return dst


def _tables(st: Path) -> dict[str, pl.DataFrame]:
    info = store.current(st)
    return {t: pl.read_parquet(store.table_path(info, t)) for t in store.TABLES}


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


def test_touching_a_file_without_changing_it_reuses_its_rows(tmp_path):
    corpus = _copy_seeds(tmp_path / "c")
    st = tmp_path / "s"
    first = b.build(corpus, st)
    f = sorted(corpus.glob("*.txt"))[0]
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    again = b.build(corpus, st)
    assert again["processed_files"] == 0 and again["version"] == first["version"]


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
