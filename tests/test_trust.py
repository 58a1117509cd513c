"""Trust: what leaves the corpus is not read, a user's store is never replaced by another
corpus's data, nothing reaches a third party, a shared link can be kept private.

Each test does what a user would do (build a corpus, run the CLI, open the app) and checks
what they would see.
"""
from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from presslens import build as b
from presslens import ingest, store
from presslens.__main__ import main as cli

SECRET = "root:x:0:0:root:/root:/bin/bash\nThe private diary of the administrator, never to be shown.\n"
ARTICLE = ("Moscow and Pyongyang signed a defence treaty on Wednesday, officials said.\n"
           "The agreement was announced after talks in the North Korean capital.\n")


def _corpus_with_links(tmp_path: Path) -> tuple[Path, Path]:
    """A corpus holding one article, a link to a file outside it (standing for /etc/passwd),
    a link to a folder outside it, and a link to a file inside it."""
    outside = tmp_path / "outside"
    (outside / "private").mkdir(parents=True)
    (outside / "passwd").write_text(SECRET, encoding="utf-8")
    (outside / "private" / "notes.txt").write_text(SECRET, encoding="utf-8")
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (corpus / "passwd.txt").symlink_to(outside / "passwd")
    (corpus / "sub" / "home").symlink_to(outside / "private", target_is_directory=True)
    (corpus / "sub" / "again.txt").symlink_to(Path("..") / "a.txt")  # inside: read normally
    return corpus, outside


def test_links_leaving_the_corpus_are_not_read_and_are_reported(tmp_path, capsys):
    corpus, outside = _corpus_with_links(tmp_path)
    st = tmp_path / "store"
    assert cli(["build", "--corpus", str(corpus), "--store", str(st), "--quiet"]) == 0
    info = store.current(st)
    articles = pl.read_parquet(store.table_path(info, "articles"))
    assert sorted(articles["path"].to_list()) == ["a.txt", "sub/again.txt"]
    assert not articles["text"].str.contains("private diary").any()
    # Nothing of the outside files is kept, not even a hash of their content.
    files = pl.read_parquet(store.table_path(info, "files"))
    assert set(files["path"].to_list()) == {"a.txt", "sub/again.txt"}
    capsys.readouterr()
    assert cli(["rejects", "--store", str(st)]) == 0
    out = capsys.readouterr().out
    assert f"passwd.txt: This is a link to a file outside the corpus folder ({outside / 'passwd'})" in out
    assert f"sub/home: This is a link to a folder outside the corpus folder ({outside / 'private'})" in out
    assert "2 rejected" in out
    assert "private diary" not in out


def test_reader_refuses_a_link_that_leaves_the_corpus_even_if_listed(tmp_path):
    """A link swapped in after the listing (or a caller that skips the walk) is still not read."""
    corpus, outside = _corpus_with_links(tmp_path)
    records, rejects = ingest.read(corpus / "passwd.txt", "passwd.txt")
    assert records == [] and "outside the corpus folder" in rejects[0].reason
    records, rejects = ingest.read(corpus / "sub" / "again.txt", "sub/again.txt")
    assert records and records[0].text == ARTICLE and not rejects


def test_walk_lists_inside_links_and_reports_outside_ones(tmp_path):
    corpus, _ = _corpus_with_links(tmp_path)
    rejects: list = []
    found = [p.relative_to(corpus).as_posix() for p in ingest.iter_files(corpus, rejects)]
    assert found == ["a.txt", "sub/again.txt"]
    assert [r.path for r in rejects] == ["passwd.txt", "sub/home"]
