"""Trust: what leaves the corpus is not read, a user's store is never replaced by another
corpus's data, nothing reaches a third party, a shared link can be kept private.

Each test does what a user would do (build a corpus, run the CLI, open the app) and checks
what they would see.
"""
from __future__ import annotations

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


def test_a_new_outside_link_alone_makes_the_store_stale_and_is_rejected_on_rebuild(tmp_path, capsys):
    """A link leaving the corpus is no input file; adding one (and nothing else) must still
    be noticed by the staleness check and the rebuild, which lists it among the rejects."""
    corpus, outside = _corpus_with_links(tmp_path)
    st = tmp_path / "store"
    first = b.build(corpus, st, workers=1)
    assert not b.is_stale(corpus, st)
    (corpus / "sub" / "shadow.txt").symlink_to(outside / "passwd")
    assert b.is_stale(corpus, st)
    second = b.build(corpus, st, workers=1)
    assert second["store"] != first["store"]  # a new version was published
    assert second["rejects"] == first["rejects"] + 1
    assert not b.is_stale(corpus, st)
    capsys.readouterr()
    assert cli(["rejects", "--store", str(st)]) == 0
    out = capsys.readouterr().out
    assert f"sub/shadow.txt: This is a link to a file outside the corpus folder ({outside / 'passwd'})" in out
    # Removing it (and nothing else) is noticed too, and the reject goes away.
    (corpus / "sub" / "shadow.txt").unlink()
    assert b.is_stale(corpus, st)
    third = b.build(corpus, st, workers=1)
    assert third["rejects"] == first["rejects"] and third["store"] != second["store"]
    rejects = pl.read_parquet(store.table_path(store.current(st), "rejects"))
    assert "sub/shadow.txt" not in rejects["path"].to_list()


def test_an_outside_link_pointed_elsewhere_makes_the_store_stale(tmp_path):
    corpus, outside = _corpus_with_links(tmp_path)
    st = tmp_path / "store"
    b.build(corpus, st, workers=1)
    (corpus / "passwd.txt").unlink()
    (corpus / "passwd.txt").symlink_to(outside / "private" / "notes.txt")
    assert b.is_stale(corpus, st)
    b.build(corpus, st, workers=1)
    rejects = pl.read_parquet(store.table_path(store.current(st), "rejects"))
    reason = rejects.filter(pl.col("path") == "passwd.txt")["reason"].item()
    assert str(outside / "private" / "notes.txt") in reason


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


# ---------------------------------------------------------------- store protection

from presslens import guard  # noqa: E402


def _fake_store(root: Path, corpus: str | None) -> store.StoreInfo:
    """A valid store whose manifest records `corpus` (None: no corpus recorded), as a build
    of an empty folder writes it (no input files)."""
    manifest = {"version": "abc123abc123", "files": 0}
    if corpus is not None:
        manifest["corpus"] = corpus
    return store.write(root, {}, manifest)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_plan_serves_a_store_of_another_corpus_as_it_is_and_says_so(tmp_path):
    theirs, mine = tmp_path / "their-corpus", tmp_path / "my-corpus"
    theirs.mkdir(), mine.mkdir()
    _fake_store(tmp_path / "st", str(theirs))
    # PRESSLENS_CORPUS unset: the store's own corpus is the one it may be refreshed from.
    assert guard.plan_store(tmp_path / "st", None, "data/corpus") == guard.Decision("serve", theirs)
    # PRESSLENS_CORPUS set to the same folder (spelled differently): same.
    d = guard.plan_store(tmp_path / "st", str(tmp_path / "x" / ".." / "their-corpus"), "data/corpus")
    assert d.action == "serve" and d.corpus is not None and guard.same_folder(d.corpus, theirs)
    # PRESSLENS_CORPUS set to another folder: served as it is, never refreshed, explained.
    d = guard.plan_store(tmp_path / "st", str(mine), "data/corpus")
    assert (d.action, d.corpus, d.level) == ("serve", None, "warning")
    assert f"built from {theirs}, not from PRESSLENS_CORPUS {mine}" in d.message


def test_plan_never_builds_into_a_store_it_cannot_account_for(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    # No corpus recorded (imported tables): served, not refreshed.
    _fake_store(tmp_path / "imported", None)
    assert guard.plan_store(tmp_path / "imported", None, corpus) == guard.Decision("serve")
    assert guard.plan_store(tmp_path / "imported", str(corpus), corpus).corpus is None
    # Recorded corpus no longer there: served as built.
    _fake_store(tmp_path / "moved", str(tmp_path / "gone"))
    d = guard.plan_store(tmp_path / "moved", None, corpus)
    assert (d.action, d.corpus, d.level) == ("serve", None, "info")
    # A folder of someone's files: refused, nothing written.
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.txt").write_text("mine")
    d = guard.plan_store(tmp_path / "docs", str(corpus), corpus)
    assert d.action == "refuse" and "is not a presslens store" in d.message
    # A store whose CURRENT points nowhere: refused, left untouched.
    _fake_store(tmp_path / "broken", str(corpus))
    (tmp_path / "broken" / "CURRENT").write_text("v-missing\n")
    d = guard.plan_store(tmp_path / "broken", str(corpus), corpus)
    assert d.action == "refuse" and "left untouched" in d.message
    # Nothing there yet: built from the corpus asked for, else the default one.
    assert guard.plan_store(tmp_path / "new", str(corpus), "nowhere") == guard.Decision(
        "build", corpus, f"Building the store at {tmp_path / 'new'} from {corpus}.", "info")
    assert guard.plan_store(tmp_path / "new", None, corpus).corpus == corpus
    d = guard.plan_store(tmp_path / "new", str(tmp_path / "typo"), corpus)
    assert d.action == "refuse" and "is not a folder" in d.message


def test_cli_build_refuses_to_replace_a_store_of_another_corpus_unless_forced(tmp_path, capsys):
    theirs, mine = tmp_path / "their-corpus", tmp_path / "my-corpus"
    theirs.mkdir(), mine.mkdir()
    (mine / "a.txt").write_text(ARTICLE, encoding="utf-8")
    st = tmp_path / "st"
    _fake_store(st, str(theirs))
    before = _snapshot(st)
    assert cli(["build", "--corpus", str(mine), "--store", str(st), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"was built from {theirs}, not from {mine}" in err and "--force" in err
    assert _snapshot(st) == before
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.txt").write_text("mine")
    assert cli(["build", "--corpus", str(mine), "--store", str(tmp_path / "docs"), "--quiet", "--force"]) == 2
    assert "is not a presslens store" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "docs").iterdir()] == ["thesis.txt"]
    assert cli(["build", "--corpus", str(mine), "--store", str(st), "--quiet", "--force"]) == 0
    info = store.current(st)
    assert guard.same_folder(store.corpus_of(info), mine)
    assert pl.read_parquet(store.table_path(info, "articles"))["path"].to_list() == ["a.txt"]


# ---------------------------------------------------------------- password gate (pure parts)

from presslens import auth  # noqa: E402


def test_password_gate_is_off_unless_configured_and_env_wins():
    assert auth.configured_password({}, {}) is None
    assert auth.configured_password({"PRESSLENS_PASSWORD": ""}, {}) is None
    assert auth.configured_password({}, {"PRESSLENS_PASSWORD": "from-secrets"}) == "from-secrets"
    assert auth.configured_password({"PRESSLENS_PASSWORD": "env"}, {"PRESSLENS_PASSWORD": "s"}) == "env"

    class Missing(dict):  # st.secrets without a secrets.toml raises on access
        def get(self, key, default=None):
            raise FileNotFoundError("no secrets file")

    assert auth.configured_password({}, Missing()) is None


def test_password_comparison_is_exact_and_constant_time(monkeypatch):
    assert auth.password_matches("s3cret ünïcode", "s3cret ünïcode")
    for wrong in ("s3cret", "s3cret ünïcode ", "S3CRET ÜNÏCODE", "", None):
        assert not auth.password_matches(wrong, "s3cret ünïcode")
    seen = []
    real = auth.hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: seen.append((len(a), len(b))) or real(a, b))
    auth.password_matches("x", "a much longer password")
    assert seen == [(32, 32)]  # fixed-length digests: the length does not leak either
    assert [auth.failure_delay(n) for n in (0, 1, 2, 3, 10)] == [0.0, 0.5, 1.0, 2.0, 8.0]


# ---------------------------------------------------------------- versions kept while read


def test_a_replaced_version_stays_readable_through_several_rebuilds(tmp_path):
    st = tmp_path / "st"
    first = _fake_store(st, "somewhere")
    for n in range(3):  # three rebuilds while a reader still holds the first version
        store.write(st, {}, {"version": f"next{n}", "corpus": "somewhere", "files": 0})
    assert store.current(st).version == "next2"
    assert pl.read_parquet(store.table_path(first, "articles")).height == 0  # still there
    assert (first.directory / store.RETIRED_MARK).exists()
    # Past the grace period, retired versions go; the live one never does.
    later = __import__("time").time() + store.RETIRED_GRACE_S + 1
    removed = store.remove_retired(st, keep={store.current(st).directory.name}, now=later)
    assert first.directory.name in removed and len(removed) == 3
    assert [p.name for p in st.iterdir() if p.name.startswith("v-")] == [store.current(st).directory.name]


# ---------------------------------------------------------------- Latin display names

from presslens import translit  # noqa: E402


@pytest.mark.parametrize("name,languages,latin", [
    ("Кан Сун Нам", ("uk",), "Kan Sun Nam"),
    ("Щит свободи Ульчі", ("uk",), "Shchyt svobody Ulchi"),
    ("Андрій Руденко", ("uk",), "Andrii Rudenko"),
    ("Їжакевич", (), "Yizhakevych"),
    ("Згурський", ("uk",), "Zghurskyi"),
    ("ВПС Росії", ("uk",), "VPS Rosii"),
    ("Советский Союз", ("ru",), "Sovetskiy Soyuz"),
    ("Ёлкин", ("ru",), "Yolkin"),
    ("Іл-62М", ("uk",), "Il-62M"),
    ("Pyongyang", ("en",), "Pyongyang"),
])
def test_cyrillic_display_names_are_transliterated(name, languages, latin):
    assert translit.latin_display(name, languages) == latin


def test_entities_built_from_the_seeds_have_latin_names_and_keep_the_original(seed_store):
    ents = pl.read_parquet(store.table_path(store.current(seed_store), "entities"))
    assert not ents["name"].str.contains("[\u0400-\u04FF]").any(), ents.filter(
        pl.col("name").str.contains("[\u0400-\u04FF]"))["name"].to_list()
    kan = ents.filter(pl.col("name") == "Kan Sun Nam")  # the example (Ukrainian seed)
    assert kan.height == 1 and "Кан Сун Нам" in [n["name"] for n in kan["names"][0]]


def test_latin_names_change_only_cyrillic_rows_and_keep_row_order():
    names_type = pl.List(pl.Struct({"language": pl.String, "name": pl.String}))
    ents = pl.DataFrame(
        {"entity_id": ["a", "b", "c", "d", "e"],
         "name": ["Путін", "Biden", "Москва", None, "Київ"],
         "names": [[{"language": "uk", "name": "Путін"}], None,
                   [{"language": "ru", "name": "Москвы"}], [], None],
         "mention_count": [5, 4, 3, 2, 1]},
        schema={"entity_id": pl.String, "name": pl.String, "names": names_type, "mention_count": pl.Int64})
    out = translit.with_latin_names(ents)
    assert out.columns == ents.columns and out.schema == ents.schema
    assert out["entity_id"].to_list() == ["a", "b", "c", "d", "e"]
    assert out["name"].to_list() == ["Putin", "Biden", "Moskva", None, "Kyiv"]
    assert out["names"].to_list() == [
        [{"language": "uk", "name": "Путін"}],  # the original is there already: not added twice
        [],
        [{"language": "ru", "name": "Москвы"}, {"language": "ru", "name": "Москва"}],
        [],
        [{"language": "uk", "name": "Київ"}],
    ]
    assert out["mention_count"].to_list() == [5, 4, 3, 2, 1]


# ---------------------------------------------------------------- wording

from presslens import wording  # noqa: E402


def test_counts_and_evidence_read_as_english():
    assert [wording.plural(n, "article") for n in (0, 1, 2, 1234)] == ["0 articles", "1 article", "2 articles",
                                                                       "1,234 articles"]
    assert wording.plural(1, "entity") == "1 entity" and wording.plural(3, "entity") == "3 entities"
    assert wording.uncited_caption(0, 5) == "All 5 articles in view cite at least one recognised source."
    assert wording.uncited_caption(5, 5) == "None of the 5 articles in view cites a recognised source."
    assert wording.uncited_caption(1, 5) == "4 articles of 5 cite at least one recognised source; 1 cites none."
    assert wording.uncited_caption(0, 1) == "The only article in view cites a recognised source."
    assert wording.evidence("none", "", "date") == "No date found in the file."
    assert wording.evidence("html", "published", "date") == "From the web page's metadata."
    assert wording.evidence("text", "Kyiv • UNN", "outlet") == "Found in the text: “Kyiv • UNN”"
    assert wording.evidence("field", "published", "date") == "From the record's “published” field."
    assert wording.evidence("sidecar", "", "outlet") == "From metadata.csv, the corpus's metadata file."
    long = wording.evidence("text", "x " * 200, "outlet")
    assert len(long) <= len("Found in the text: “”") + wording.EVIDENCE_CHARS and long.endswith("…”")


def test_plan_never_refreshes_a_store_that_was_not_built_from_its_recorded_corpus(tmp_path):
    """A benchmark store scaled up from a built one keeps the original manifest (corpus,
    file count) but not its files: refreshing it "from its corpus" would replace it."""
    corpus = tmp_path / "seeds"
    corpus.mkdir()
    store.write(tmp_path / "scaled", {}, {"version": "scaled000000", "corpus": str(corpus), "files": 5})
    assert guard.plan_store(tmp_path / "scaled", None, corpus) == guard.Decision("serve")
    assert guard.plan_store(tmp_path / "scaled", str(corpus), corpus).corpus is None
    assert "--force" in guard.check_build(tmp_path / "scaled", corpus)


def test_plan_is_quiet_when_the_corpus_asked_for_does_not_exist(tmp_path):
    _fake_store(tmp_path / "st", str(tmp_path / "theirs"))
    d = guard.plan_store(tmp_path / "st", str(tmp_path / "typo"), "data/corpus")
    assert (d.action, d.corpus, d.level) == ("serve", None, "info") and "is not a folder" in d.message
