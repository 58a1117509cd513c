"""A long-lived build's corpus listing kept from change events (presslens.ingest.corpus_watch):
always the files, sizes and mtimes a walk and a stat of every file give, or no listing at all."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from presslens import build as b
from presslens import store
from presslens.ingest import corpus_watch as cw
from presslens.ingest.walk import walk_str

def _inotify_works() -> bool:
    if cw.INotify is None:  # not Linux
        return False
    try:  # (the kernel's limit on inotify instances may be reached)
        cw.INotify().close()
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _inotify_works(), reason="inotify is not available here")


def _walked(root) -> list[tuple[str, int, int]]:
    out = []
    for s in walk_str(root):
        st = os.stat(s)
        out.append((s, st.st_size, st.st_mtime_ns))
    return out


def _corpus(tmp_path):
    root = tmp_path / "corpus"
    (root / "b").mkdir(parents=True)
    for name in ("a1.txt", "a2.txt", "metadata.csv"):
        (root / name).write_text(f"text of {name}\n", encoding="utf-8")
    for name in ("b1.txt", "b2.html"):
        (root / "b" / name).write_text(f"text of {name}\n", encoding="utf-8")
    return root


def test_the_listing_follows_every_kind_of_file_change_as_a_walk_sees_it(tmp_path):
    root = _corpus(tmp_path)
    if not cw.CorpusWatch.supported(root):
        pytest.skip("the test folder's filesystem gives no trusted events")
    w = cw.CorpusWatch(root)
    assert w.files() == _walked(root) and w.walks == 1
    steps = [
        lambda: (root / "a1.txt").write_text("edited, longer than before\n", encoding="utf-8"),
        lambda: os.utime(root / "a2.txt", ns=(1, 1_500_000_000_000_000_000)),  # touched: mtime only
        lambda: (root / "b" / "b0.txt").write_text("a new file sorted first\n", encoding="utf-8"),
        lambda: (root / "a2.txt").unlink(),
        lambda: os.rename(root / "b" / "b1.txt", root / "b" / "b9.txt"),
        lambda: os.rename(root / "b" / "b9.txt", root / "a0.txt"),  # to another folder
        lambda: (root / ".hidden.txt").write_text("never an input\n", encoding="utf-8"),
        lambda: (root / "metadata.csv").write_text("path,title\n", encoding="utf-8"),  # the sidecar: not an input
        lambda: ((root / ".tmp-x").write_text("replaced atomically\n", encoding="utf-8"),
                 os.replace(root / ".tmp-x", root / "a1.txt")),
    ]
    for k, step in enumerate(steps):
        step()
        assert w.files() == _walked(root), f"step {k}"
    assert w.walks == 1, "plain file changes were read from the events, not from a new walk"
    (root / "c").mkdir()  # a new folder: walked again, and followed from then on
    (root / "c" / "c1.txt").write_text("in a new folder\n", encoding="utf-8")
    assert w.files() == _walked(root) and w.walks == 2
    (root / "c" / "c2.txt").write_text("and another\n", encoding="utf-8")
    assert w.files() == _walked(root) and w.walks == 2
    shutil.rmtree(root / "b")
    assert w.files() == _walked(root) and w.walks == 3
    w.close()


def test_a_corpus_the_events_cannot_describe_gets_no_listing(tmp_path):
    """A symbolic link in the corpus: a change through another path gives no event here, so
    the caller walks and stats (files() is None), now and later."""
    root = _corpus(tmp_path)
    if not cw.CorpusWatch.supported(root):
        pytest.skip("the test folder's filesystem gives no trusted events")
    w = cw.CorpusWatch(root)
    assert w.files() is not None
    os.symlink(root / "a1.txt", root / "link.txt")
    (root / "a2.txt").write_text("changed too\n", encoding="utf-8")
    assert w.files() is None
    assert w.files() is None


def test_a_file_changed_through_a_name_outside_the_corpus_is_seen_at_the_next_walk(tmp_path, monkeypatch):
    """A second name given to a corpus file from outside, and the file changed through it:
    no event reaches the corpus's folders, so the change is seen by the walk that comes at
    least every REWALK_S (which then finds the shared file and gives no listing any more)."""
    root = _corpus(tmp_path)
    if not cw.CorpusWatch.supported(root):
        pytest.skip("the test folder's filesystem gives no trusted events")
    w = cw.CorpusWatch(root)
    assert w.files() == _walked(root)
    os.link(root / "a1.txt", tmp_path / "outside.txt")
    with open(tmp_path / "outside.txt", "a", encoding="utf-8") as f:
        f.write("changed from outside\n")
    monkeypatch.setattr(cw, "REWALK_S", 0.0)
    assert w.files() is None and w.walks == 2


def test_a_long_lived_build_plans_from_the_events_and_writes_what_a_walking_build_writes(tmp_path, monkeypatch):
    """build(keep_workers=True) lists the corpus from the events after its first walk: the
    rebuilds after an edit, an addition and a removal walk no more, and each writes the
    tables a build that walks the corpus writes."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    for f in sorted((Path(__file__).resolve().parent.parent / "data" / "corpus").glob("*.txt")):
        shutil.copy2(f, corpus / f.name)
    if not cw.CorpusWatch.supported(corpus):
        pytest.skip("the test folder's filesystem gives no trusted events")
    walks = []
    real = b.ingest.iter_file_strs
    monkeypatch.setattr(b.ingest, "iter_file_strs", lambda *a, **k: walks.append(1) or real(*a, **k))
    files = sorted(corpus.glob("*.txt"))
    reference = tmp_path / "ref"  # the same files in another folder: its builds walk
    try:
        b.build(corpus, tmp_path / "s", workers=1, keep_workers=True)
        w = b._WATCHES[os.fspath(corpus)]
        changes = [
            lambda: files[1].write_text(files[1].read_text(encoding="utf-8") + "\nДобавлено позже.", encoding="utf-8"),
            lambda: (corpus / "new.txt").write_text("Ким Чен Ын посетил Москву.", encoding="utf-8"),
            lambda: files[3].unlink(),
        ]
        for k, change in enumerate(changes):
            change()
            summary = b.build(corpus, tmp_path / "s", workers=1, keep_workers=True)
            assert summary["processed_files"] == (1 if k < 2 else 0)
            shutil.rmtree(reference, ignore_errors=True)
            shutil.copytree(corpus, reference)  # (copy2: the same mtimes)
            full = tmp_path / f"full{k}"
            b.build(reference, full, workers=1)
            inc, ref = store.current(tmp_path / "s"), store.current(full)
            for table in ("articles", "mentions", "files"):
                a, z = store.scan(inc, table).collect(), store.scan(ref, table).collect()
                key = [c for c in a.columns if a.schema[c] in (pl.String, pl.Int64)]
                assert a.sort(key).equals(z.sort(key)), (k, table)
        assert w.walks == 1
        assert len(walks) == 3, "only the three reference builds walked their corpus"
    finally:
        b.shutdown_workers()
    assert not b._WATCHES
