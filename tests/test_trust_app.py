"""Trust, as a user sees it in the app (AppTest): a store from another folder is served as
it is and never replaced, a password hides everything until it is given, and a rebuild
while sessions are open shows each session one whole version at a time."""
from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT, SEED_CORPUS, tiny_tables
from presslens import store

APP = ROOT / "app.py"
TIMEOUT = 120


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _shown(at: AppTest) -> str:
    """Every piece of text the page shows (main area and sidebar)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "metric", "info", "warning", "error",
                 "success", "code", "text", "dataframe", "table", "json"):
        for el in getattr(at, kind, []):
            v = getattr(el, "value", None)
            parts.append(str(getattr(el, "label", "")) + " " + str(v))
    return "\n".join(parts)


def _count(at: AppTest) -> int | None:
    for c in at.caption:
        m = re.match(r"([\d,]+) (?:of [\d,]+ )?articles? · click", c.value)
        if m:
            return int(m.group(1).replace(",", ""))
    return None


@pytest.fixture(scope="module")
def other_store(tmp_path_factory) -> tuple[Path, Path]:
    """A store built from a folder holding two of the seed articles (not the default corpus)."""
    from presslens import build

    base = tmp_path_factory.mktemp("other")
    corpus = base / "their-corpus"
    corpus.mkdir()
    for f in sorted(SEED_CORPUS.glob("*.txt"))[:2]:
        shutil.copy2(f, corpus / f.name)
    build.build(str(corpus), str(base / "store"), progress=lambda done, total: None)
    return base / "store", corpus


def test_a_store_of_another_folder_is_served_as_it_is(other_store, monkeypatch):
    """The issue's case: PRESSLENS_STORE set, PRESSLENS_CORPUS unset. The app used to rebuild
    the store from the five seed articles; it shows the store's own two articles."""
    root, _ = other_store
    monkeypatch.setenv("PRESSLENS_STORE", str(root))
    monkeypatch.delenv("PRESSLENS_CORPUS", raising=False)
    before = _snapshot(root)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert _count(at) == 2
    assert _snapshot(root) == before


def test_a_mismatched_corpus_is_explained_and_the_store_untouched(other_store, monkeypatch):
    root, corpus = other_store
    monkeypatch.setenv("PRESSLENS_STORE", str(root))
    monkeypatch.setenv("PRESSLENS_CORPUS", str(SEED_CORPUS))
    before = _snapshot(root)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    warning = " ".join(w.value for w in at.warning).replace("\\", "")  # markdown-escaped paths
    assert f"built from {corpus}, not from PRESSLENS_CORPUS {SEED_CORPUS}" in warning
    assert "never replaces a store" in warning and "--force" in warning
    assert _count(at) == 2  # its own articles, as built
    assert _snapshot(root) == before


def test_a_session_finding_files_only_touched_records_their_time_and_says_so(tmp_path, monkeypatch):
    """A file touched but not edited makes the store look stale to a new session: its refresh
    finds nothing to process, records the file's new time (a version with the same data) and
    says so; the next session finds the store current and refreshes nothing."""
    from presslens import build

    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    root = tmp_path / "store"
    build.build(str(corpus), str(root), progress=lambda done, total: None)
    first = store.current(root).directory
    seed = sorted(corpus.glob("*.txt"))[0]
    seed.touch()
    monkeypatch.setenv("PRESSLENS_STORE", str(root))
    monkeypatch.setenv("PRESSLENS_CORPUS", str(corpus))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    toasts = " ".join(t.value for t in at.toast).replace("\\", "")
    assert "up to date" in toasts and "1 file(s) whose content did not change" in toasts
    assert "Store built" not in toasts
    assert _count(at) == 5 and store.current(root).directory != first
    again = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not again.exception and not list(again.toast) and not build.is_stale(str(corpus), str(root))


def test_a_folder_that_is_not_a_store_is_refused_without_writing(tmp_path, monkeypatch):
    docs = tmp_path / "my-documents"
    docs.mkdir()
    (docs / "thesis.txt").write_text("mine", encoding="utf-8")
    monkeypatch.setenv("PRESSLENS_STORE", str(docs))
    monkeypatch.setenv("PRESSLENS_CORPUS", str(SEED_CORPUS))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "is not a presslens store" in at.error[0].value.replace("\\", "")
    assert [p.name for p in docs.iterdir()] == ["thesis.txt"]


# ---------------------------------------------------------------- password gate


@pytest.fixture()
def locked_app(tiny_store, monkeypatch):
    monkeypatch.setenv("PRESSLENS_STORE", str(tiny_store))
    monkeypatch.setenv("PRESSLENS_CORPUS", str(tiny_store.parent / "no-corpus"))
    monkeypatch.setenv("PRESSLENS_PASSWORD", "correct horse")
    return tiny_store


def _nothing_of_the_corpus(at: AppTest) -> None:
    shown = _shown(at)
    for secret in ("Путин", "North Korea", "Reuters", "ТАСС", "articles", "Overview", "ISW"):
        assert secret not in shown, secret
    assert not re.search(r"\d", shown), shown  # not a single number
    assert not at.metric and not at.dataframe and not at.sidebar.multiselect and not at.html


def test_password_gate_hides_everything_until_the_password(locked_app):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["lang"] = "ru"
    at.run()
    assert not at.exception
    _nothing_of_the_corpus(at)
    assert [t.label for t in at.text_input] == ["Password"]
    at.text_input[0].input("wrong guess")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Wrong password."]
    _nothing_of_the_corpus(at)
    at.text_input[0].input("correct horse")
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Overview"
    assert _count(at) == 2  # the link's filter (lang=ru) applies once the gate is open


def test_a_page_script_run_directly_shows_nothing_while_locked(locked_app):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("pages/articles.py").run()
    assert not at.exception
    _nothing_of_the_corpus(at)


def test_no_gate_without_a_password(tiny_store, monkeypatch):
    monkeypatch.setenv("PRESSLENS_STORE", str(tiny_store))
    monkeypatch.setenv("PRESSLENS_CORPUS", str(tiny_store.parent / "no-corpus"))
    monkeypatch.delenv("PRESSLENS_PASSWORD", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert at.title[0].value == "Overview"
    assert "Password" not in [t.label for t in at.text_input]


# ---------------------------------------------------------------- rebuilds while sessions are open


def _versions(tmp_path: Path) -> dict[str, pl.DataFrame]:
    """Two contract versions of the tiny corpus: all five articles, and four (d_en removed)."""
    full = {k: store.conform(v, k) for k, v in tiny_tables().items()}
    less = {k: (v.filter(pl.col("doc_id") != "d_en") if "doc_id" in v.columns else v) for k, v in full.items()}
    return {"full": full, "less": less}


def _publish(root: Path, tables: dict, name: str) -> store.StoreInfo:
    return store.write(root, tables, {"version": name, "corpus": "tiny-fixture"})


def _one_version(at: AppTest, counts: dict[str, int]) -> str:
    """The version this run showed, after checking every count on the page belongs to it."""
    side = next(m.value for m in at.sidebar.markdown if m.value.startswith("**presslens**"))
    version = re.search(r"corpus `([^`]+)`", side).group(1)
    n_side = int(re.search(r"· ([\d,]+) articles?", side).group(1).replace(",", ""))
    footer = next(c.value for c in at.caption if c.value.startswith("Rendered in"))
    assert f"v-{version}-" in footer, (version, footer)
    metrics = {m.label: m.value for m in at.metric}
    assert n_side == counts[version] == _count(at), (version, n_side, _count(at))
    if "Articles" in metrics:  # the Overview
        assert int(metrics["Articles"]) == n_side, (version, metrics)
    return version


def test_a_session_sees_the_new_version_on_its_next_run_with_a_notice(tmp_path, monkeypatch):
    root = tmp_path / "store"
    tables = _versions(tmp_path)
    _publish(root, tables["full"], "aaaaaaaaaaaa")
    monkeypatch.setenv("PRESSLENS_STORE", str(root))
    monkeypatch.setenv("PRESSLENS_CORPUS", str(tmp_path / "no-corpus"))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    counts = {"aaaaaaaaaaaa": 5, "bbbbbbbbbbbb": 4}
    assert _one_version(at, counts) == "aaaaaaaaaaaa" and not at.info
    _publish(root, tables["less"], "bbbbbbbbbbbb")
    at.run()
    assert _one_version(at, counts) == "bbbbbbbbbbbb"
    notice = " ".join(i.value for i in at.info)
    assert "corpus was updated" in notice and "bbbbbbbbbbbb" in notice and "aaaaaaaaaaaa" in notice
    at.run()
    assert not any("corpus was updated" in i.value for i in at.info)  # said once


def test_rebuilding_in_a_loop_never_shows_a_mix_of_versions(tmp_path, monkeypatch):
    root = tmp_path / "store"
    tables = _versions(tmp_path)
    _publish(root, tables["full"], "full00000000")
    monkeypatch.setenv("PRESSLENS_STORE", str(root))
    monkeypatch.setenv("PRESSLENS_CORPUS", str(tmp_path / "no-corpus"))
    counts = {"full00000000": 5}
    stop = threading.Event()
    published: list[str] = []
    failures: list[BaseException] = []

    def rebuild_loop() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            name = f"{'less' if n % 2 else 'full'}{n:08d}"
            counts[name] = 4 if n % 2 else 5
            try:
                _publish(root, tables["less" if n % 2 else "full"], name)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)
                return
            published.append(name)
            time.sleep(0.02)

    writer = threading.Thread(target=rebuild_loop, daemon=True)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    writer.start()
    seen = set()
    try:
        for i in range(12):
            if i % 3 == 1:
                at.switch_page("pages/articles.py")
            elif i % 3 == 2:
                at.switch_page("pages/overview.py")
            at.run()
            assert not at.exception, [e.value for e in at.exception]
            # Sidebar, metrics, article table and footer: all from one version.
            seen.add(_one_version(at, counts))
    finally:
        stop.set()
        writer.join(timeout=30)
    assert not failures, failures
    assert len(published) >= 5 and len(seen) >= 2  # the rebuilds really happened under the reader


# ---------------------------------------------------------------- UI details (issue #10, last section)


def _open(slug: str, params: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, val in (params or {}).items():
        at.query_params[key] = val
    at.run()
    if slug != "overview":
        at.switch_page(f"pages/{slug}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture()
def tiny(tiny_store, monkeypatch):
    monkeypatch.setenv("PRESSLENS_STORE", str(tiny_store))
    monkeypatch.setenv("PRESSLENS_CORPUS", str(tiny_store.parent / "no-corpus"))
    monkeypatch.delenv("PRESSLENS_PASSWORD", raising=False)
    return tiny_store


def test_one_article_is_not_one_articles(tiny):
    at = _open("articles", {"lang": "en"})
    assert "1 article · click a row to open it in the reader" in [c.value for c in at.caption]
    at = _open("overview")
    assert "1 undated article is not on this chart but is counted everywhere else." in [c.value for c in at.caption]
    shown = _shown(at)
    assert not re.search(r"\b1 articles\b", shown) and "article(s)" not in shown


def test_uncited_sources_sentence_has_no_double_negative(tiny):
    captions = [c.value for c in _open("sources").caption]
    assert "4 articles of 5 cite at least one recognised source; 1 cites none." in captions
    captions = [c.value for c in _open("sources", {"lang": "en"}).caption]
    assert "The only article in view cites a recognised source." in captions
    assert not any("cite no source" in c for c in captions)


def test_outlets_metric_does_not_count_the_unknown_outlet(tiny):
    metrics = {m.label: m.value for m in _open("overview").metric}
    assert metrics["Outlets"] == "4"  # ТАСС, Meduza, Українська правда, Reuters; d_ro has none
    metrics = {m.label: m.value for m in _open("overview", {"lang": "ro"}).metric}
    assert metrics["Outlets"] == "0" and metrics["Articles"] == "1"


def test_reader_evidence_reads_as_english(tmp_path, monkeypatch):
    tables = {k: store.conform(v, k) for k, v in tiny_tables().items()}
    tables["articles"] = tables["articles"].with_columns(  # d_en's date as a saved web page gives it
        pl.when(pl.col("doc_id") == "d_en").then(pl.lit("html")).otherwise("date_source").alias("date_source"))
    root = tmp_path / "store"
    store.write(root, tables, {"version": "evidence0000", "corpus": "tiny-fixture"})
    monkeypatch.setenv("PRESSLENS_STORE", str(root))
    monkeypatch.setenv("PRESSLENS_CORPUS", str(tmp_path / "no-corpus"))
    captions = " ".join(c.value for c in _open("articles", {"doc": "d_en"}).caption).replace("\\", "")
    assert "From the web page's metadata." in captions and "from html" not in captions
    captions = " ".join(c.value for c in _open("articles", {"doc": "d_ro"}).caption).replace("\\", "")
    assert "No outlet found in the file." in captions and "No date found in the file." in captions
    assert "from none" not in captions and "—" not in captions


def test_entities_show_latin_names_on_the_english_ui(seed_store, monkeypatch):
    monkeypatch.setenv("PRESSLENS_STORE", str(seed_store))
    monkeypatch.setenv("PRESSLENS_CORPUS", str(SEED_CORPUS))
    at = _open("entities", {"lang": "uk"})
    names = at.dataframe[0].value["name"].to_list()  # "Mentions and articles": the top entities
    assert names and not [n for n in names if re.search("[\u0400-\u04FF]", n)], names
    assert "Kan Sun Nam" in names


def test_reader_pills_use_the_same_latin_names(seed_store, monkeypatch):
    monkeypatch.setenv("PRESSLENS_STORE", str(seed_store))
    monkeypatch.setenv("PRESSLENS_CORPUS", str(SEED_CORPUS))
    arts = store.scan(store.current(seed_store), "articles").select("doc_id", "path").collect()
    doc = arts.filter(pl.col("path").str.starts_with("004"))["doc_id"][0]  # the Ukrainian seed
    at = _open("articles", {"doc": doc})
    labels = at.pills[0].options
    assert any(o.startswith("Kan Sun Nam") for o in labels), labels
    assert not [o for o in labels if re.search("[\u0400-\u04FF]", o)], labels
