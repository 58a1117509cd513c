"""Batched enrichment (enrich_many, entities.extract_many, crf.detect_many): the build's
workers enrich many records at once; every output must be the one-record-at-a-time one."""
from __future__ import annotations

import glob
from pathlib import Path

import pytest

from conftest import fail_crf_scores_on
from presslens.enrich import enrich, enrich_many, entities
from presslens.enrich.ner import crf
from presslens.enrich.ner.text import tokens
from presslens.records import RawRecord

# Real news (public BSNLP dev texts, read by path), when the shared data is there.
_REAL = sorted(glob.glob("/work/shared/eval-dev/bsnlp/raw/*/*/*.txt"))

_TEXTS = [
    ("Президент России Владимир Путин встретился в Пхеньяне с Ким Чен Ыном, сообщает ТАСС.\n\n"
     "По данным Института изучения войны (ISW), Москва получила снаряды из КНДР. «Газпром» — молчит.", "ru"),
    ("Лоукостер Ryanair скасував рейси з Дубліна, повідомив генеральний директор Майкл О'Лірі.\n"
     "ЗСУ: обстріли тривають; Верховна Рада України ухвалила закон №1234.", "uk"),
    ("Traian Băsescu a plecat la Bruxelles pentru întâlnirea cu liderii Uniunii Europene (UE).", "ro"),
    ("On Monday, Boris Johnson told the BBC -- and NATO -- that Britain would leave the E.U.", "en"),
    ("Путин\x00, Мэй\x00 и Зеленский\ud800 встретились в Киеве.", "ru"),
    ("Kim", "en"),
    ("", "ru"),
    ("ПУТИН ВСТРЕТИЛСЯ С КИМ ЧЕН ЫНОМ В ПХЕНЬЯНЕ.", "ru"),
]


def _real(n: int) -> list[tuple[str, str]]:
    """Up to n real articles (text, language by folder: ru/uk), spread over the set."""
    if not _REAL:
        pytest.skip("shared BSNLP texts not available")
    step = max(1, len(_REAL) // n)
    out = []
    for p in _REAL[::step][:n]:
        lang = "uk" if "/uk/" in p else "ru"
        out.append((Path(p).read_text(encoding="utf-8"), lang))
    return out


def test_batched_decoding_gives_pycrfsuites_labels_on_real_news():
    """crf.detect_many over many texts of several languages at once (lanes of different
    lengths, one-token and empty texts among them) gives, per text, the spans of the
    labels pycrfsuite itself finds."""
    items = [(t, tokens(t), lang) for t, lang in _real(60) + _TEXTS * 3]
    got = crf.detect_many(items)
    for (text, toks, lang), spans in zip(items, got):
        assert spans == crf.spans_from_labels(crf.detect_reference(text, toks, lang)), text[:60]


def test_batched_decoding_in_small_chunks_matches(monkeypatch):
    """Decoding cut into several viterbi_many calls (a small DECODE_TOKENS) and one lane
    gives the same spans."""
    items = [(t, tokens(t), lang) for t, lang in _real(12) + _TEXTS]
    want = [crf.detect(*it) for it in items]
    monkeypatch.setattr(crf, "DECODE_TOKENS", 300)
    monkeypatch.setattr(crf, "VITERBI_LANES", 1)
    assert crf.detect_many(items) == want


def test_extract_many_equals_extract():
    items = [(t, lang, [(0, 40)]) for t, lang in _real(20) + _TEXTS]
    assert entities.extract_many(items) == [entities.extract(*it) for it in items]


def test_enrich_many_equals_enrich_and_a_failing_record_is_its_own_error(monkeypatch):
    """enrich_many gives each record enrich's row and mentions; a record whose analysis
    raises gets its exception, the others their normal results."""
    recs = [RawRecord(path=f"a{k}.txt", text=t) for k, (t, _lang) in enumerate(_real(10) + _TEXTS)]

    def one(r):
        try:
            return enrich(r)
        except Exception as exc:  # the lone surrogate text may fail in enrich too: the same error
            return (type(exc), str(exc))

    def same(res):
        return (type(res), str(res)) if isinstance(res, Exception) else res

    want = [one(r) for r in recs]
    assert [same(g) for g in enrich_many(recs)] == want

    fail_crf_scores_on(monkeypatch, "Ryanair")
    got = enrich_many(recs)
    bad = [k for k, r in enumerate(recs) if "Ryanair" in r.text]
    assert bad
    for k, (g, w) in enumerate(zip(got, want)):
        if k in bad:
            assert isinstance(g, RuntimeError) and "bad text" in str(g)
        else:
            assert same(g) == w


@pytest.mark.parametrize("ties", [False, True])
def test_viterbi_many_equals_viterbi_on_random_scores(ties):
    """On random scores with strong transitions (each token's best label depends on the
    one before), and on small whole numbers (many exact ties: the first maximum must win),
    viterbi_many gives every sequence the labels `viterbi` gives it alone, whatever the
    number of lanes (sequences following one another in a lane must not see each other)."""
    import types

    import numpy as np

    rng = np.random.default_rng(7)
    n_labels = 7
    draw = (lambda *shape: rng.integers(-2, 3, size=shape).astype(float)) if ties else \
        (lambda *shape: rng.normal(size=shape))
    m = types.SimpleNamespace(labels=[f"L{k}" for k in range(n_labels)], trans=3 * draw(n_labels, n_labels))
    states = [draw(int(n), n_labels) for n in rng.integers(0, 40, size=50)]
    want = [crf.viterbi(m, s) if len(s) else [] for s in states]
    for lanes in (1, 3, 32):
        crf_lanes = crf.VITERBI_LANES
        crf.VITERBI_LANES = lanes
        try:
            assert crf.viterbi_many(m, states) == want
        finally:
            crf.VITERBI_LANES = crf_lanes


def test_a_full_word_cache_is_emptied_and_the_labels_stay(monkeypatch):
    """When the per-word cache of the array model is full it starts again empty (bounded
    memory on any corpus); the scores, and so the labels, are the same as with a cache
    that never fills."""
    import numpy as np

    items = [(t, tokens(t), lang) for t, lang in _real(8) + _TEXTS if lang == "ru"]
    m = crf.compiled("ru")
    want = [m.scores(*it) if it[1] else None for it in items]
    monkeypatch.setattr(crf, "WORD_CACHE_SIZE", 300)  # smaller than two articles' words
    m._reset()
    for _ in range(2):
        for it, w in zip(items, want):
            if w is not None:
                assert np.array_equal(m.scores(*it), w)
                assert m._rows <= max(300, len(it[1]))
    m._reset()


def test_a_batch_decoding_failure_falls_back_to_one_text_at_a_time(monkeypatch):
    """Should the batched Viterbi fail on a batch, each text is decoded alone: the spans
    are the same, and no text of the batch loses its entities."""
    items = [(t, tokens(t), lang) for t, lang in _TEXTS]
    want = crf.detect_many(items)

    def broken(m, states):
        raise MemoryError("batch too big")

    monkeypatch.setattr(crf, "viterbi_many", broken)
    assert crf.detect_many(items) == want


def test_spans_from_label_indices_equal_spans_from_labels():
    """The batched path reads spans off label indices (crf.spans_from_path): on random
    label sequences of every shipped model (stray I- labels, type changes, spans at both
    ends, all O), the spans are those of spans_from_labels."""
    import numpy as np

    rng = np.random.default_rng(3)
    for lang in crf.LANGS:
        labels = crf.compiled(lang).labels
        for n in list(range(0, 6)) + [50] * 200:
            path = rng.integers(0, len(labels), size=n)
            if n == 50:  # mostly O, as in news text, with runs
                path = np.where(rng.random(n) < 0.6, labels.index("O"), path)
            want = crf.spans_from_labels([labels[i] for i in path.tolist()])
            assert crf.spans_from_path(labels, path) == want
