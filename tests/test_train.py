"""The training command end to end on a tiny sample, and the pieces it is built from."""
from __future__ import annotations

from pathlib import Path

import pytest

from presslens import train
from presslens.enrich.ner import corpora, crf
from presslens.enrich.ner.text import tokens

SHARED = Path("/work/shared")


def _tiny_data(root: Path) -> Path:
    """A made-up corpus in the layout the training command reads (CoNLL-2003 for en)."""
    d = root / "ner-train" / "conll2003-en" / "data" / "conll" / "en"
    d.mkdir(parents=True)
    sents = [
        [("Boris", "B-PER"), ("Johnson", "I-PER"), ("visited", "O"), ("Paris", "B-LOC"), (".", "O")],
        [("The", "O"), ("European", "B-ORG"), ("Union", "I-ORG"), ("met", "O"), ("in", "O"),
         ("Brussels", "B-LOC"), (".", "O")],
        [("Theresa", "B-PER"), ("May", "I-PER"), ("left", "O"), ("London", "B-LOC"), ("today", "O"), (".", "O")],
    ]
    lines = ["0\t-DOCSTART-\tO", ""]
    for _ in range(8):
        for s in sents:
            lines += [f"{i}\t{w}\t{t}" for i, (w, t) in enumerate(s)] + [""]
    (d / "train.conllu").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_training_command_end_to_end_on_a_tiny_sample(tmp_path, capsys):
    data = _tiny_data(tmp_path / "data")
    out = tmp_path / "models"
    assert train.main(["--lang", "en", "--data", str(data), "--out", str(out), "--iterations", "30"]) == 0
    model = out / "ner-en.crfsuite"
    assert model.exists() and model.stat().st_size > 0
    assert "en: 1 docs" in capsys.readouterr().out
    # The trained model tags a sentence of its own training data back.
    text = "Boris Johnson visited Paris."
    toks = tokens(text)
    spans = crf.detect(text, toks, "en", model=str(model))
    assert [(toks[i].text, toks[j - 1].text, t) for i, j, t in spans] == [("Boris", "Johnson", "PER"),
                                                                           ("Paris", "Paris", "LOC")]


def test_training_command_rejects_unknown_language_and_missing_data(tmp_path, capsys):
    assert train.main(["--lang", "xx", "--data", str(tmp_path)]) == 2
    assert "unknown language" in capsys.readouterr().err
    assert train.main(["--lang", "en", "--data", str(tmp_path / "nope")]) == 2
    assert "no ner-train" in capsys.readouterr().err


def test_bio_labels_and_spans_round_trip():
    text = "Kim Jong-un met Vladimir Putin in Vladivostok."
    toks = tokens(text)
    spans = [(0, 11, "PER"), (16, 30, "PER"), (34, 45, "LOC")]
    labels = crf.bio_labels(toks, spans)
    assert labels == ["B-PER", "I-PER", "I-PER", "O", "B-PER", "I-PER", "O", "B-LOC"]
    assert crf.spans_from_labels(labels) == [(0, 3, "PER"), (4, 6, "PER"), (7, 8, "LOC")]


def test_bio_reader_cuts_role_words_and_drops_lower_case_spans():
    d = corpora._bio_doc("x", ["președintele", "Traian", "Băsescu", "a", "vorbit", "ieri"],
                         ["B-PERSON", "I-PERSON", "I-PERSON", "O", "O", "B-DATETIME"],
                         [True] * 6, corpora.RONEC_TYPES, cut_lower_start=True)
    assert [(d.text[s:e], t) for s, e, t in d.spans] == [("Traian Băsescu", "PER")]


@pytest.mark.skipif(not (SHARED / "ner-train" / "nerel").is_dir(), reason="shared NER data not on this machine")
def test_training_data_of_each_language_excludes_its_test_split():
    # Romanian: no training sentence is one of the held-out RONEC v2 validation sentences.
    held = {corpora._norm(d.text) for d in corpora.read_ronec_json(SHARED / "ner-train/ronec/v2_valid.json")}
    odd = {corpora._norm(d.text) for d in corpora.read_ronec_json(SHARED / "ner-train/ronec/v2_valid.json", 1)}
    (v1, _), (v2, _) = train.training_docs("ro", SHARED, max_docs=None)
    assert v1 and not {corpora._norm(d.text) for d in v1} & held
    assert v2 and not {corpora._norm(d.text) for d in v2} & odd
    # Ukrainian: no NER-UK TEST document among the training ones.
    test_ids = {d.doc_id for d in corpora.read_neruk(SHARED / "ner-train/ner-uk", "TEST")}
    uk = [d for docs, _ in train.training_docs("uk", SHARED, holdout_topic="brexit") for d in docs]
    assert not {d.doc_id for d in uk} & test_ids
    assert not any(d.doc_id.startswith("bsnlp/brexit/") for d in uk)


def test_a_committed_xz_model_is_unpacked_once_and_a_plain_model_wins(tmp_path, monkeypatch):
    import lzma

    from presslens.enrich.ner import crf

    models, cache = tmp_path / "models", tmp_path / "cache"
    models.mkdir()
    monkeypatch.setenv("PRESSLENS_CACHE", str(cache))
    saved = crf.MODEL_DIR
    try:
        (models / "ner-ru.crfsuite.xz").write_bytes(lzma.compress(b"model bytes"))
        crf.set_model_dir(models)
        unpacked = crf.model_path("ru")
        assert unpacked.parent == cache / "models" and unpacked.read_bytes() == b"model bytes"
        assert crf.has_model("ru") and not crf.has_model("uk")
        (models / "ner-ru.crfsuite").write_bytes(b"retrained")
        assert crf.model_path("ru") == models / "ner-ru.crfsuite"
    finally:
        crf.set_model_dir(saved)
