"""Shared fixtures for the dashboard tests: a tiny hand-made store (independent of the
enrichment, so the dashboard is tested against the schema, not today's NLP output) and,
when presslens.build exists, a store built from the seed corpus.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import polars as pl
import pytest

from presslens import store

ROOT = Path(__file__).resolve().parents[1]
SEED_CORPUS = ROOT / "data" / "corpus"


def _mention(doc_id, text, surface, entity_id, entity_type, lemma=None, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return {"doc_id": doc_id, "start": start, "end": start + len(surface), "surface": surface,
            "lemma": lemma or surface, "entity_id": entity_id, "entity_type": entity_type}


def tiny_tables() -> dict[str, pl.DataFrame]:
    """Five articles in four languages, one undated, one without outlet, one hostile text."""
    docs = [
        dict(doc_id="d_ru1", path="ru1.txt", title="Путин встретился с Ким Чен Ыном",
             text="Путин встретился с Ким Чен Ыном в Пхеньяне. По данным ISW, Путина ждали.\nКурс доллара 90 руб.",
             outlet="ТАСС", outlet_domain="tass.ru", outlet_source="text", outlet_evidence="Источник: ТАСС",
             published=dt.date(2024, 6, 19), date_source="text", date_evidence="19 июня 2024",
             language="ru", language_confidence=0.99, cited_sources=["ISW"]),
        dict(doc_id="d_ru2", path="ru2.txt", title="Дроны КНДР",
             text="КНДР начнет производство дронов с Россией, сообщает NHK со ссылкой на ISW. Путин доволен.",
             outlet="Meduza", outlet_domain="meduza.io", outlet_source="url", outlet_evidence="meduza.io",
             published=dt.date(2024, 7, 2), date_source="url", date_evidence="/2024/07/02/",
             language="ru", language_confidence=0.97, cited_sources=["NHK", "ISW"]),
        dict(doc_id="d_uk", path="uk.txt", title="Путін і Кім",
             text="Путін зустрівся з Кімом. За даними Yonhap, Росія постачає зброю.",
             outlet="Українська правда", outlet_domain="pravda.com.ua", outlet_source="text", outlet_evidence="УП",
             published=dt.date(2024, 6, 20), date_source="text", date_evidence="20 червня",
             language="uk", language_confidence=0.95, cited_sources=["Yonhap"]),
        dict(doc_id="d_ro", path="ro.txt", title="Putin și Kim <script>alert(1)</script>",
             text="Putin și Kim Jong Un. <script>alert('x')</script> [click](http://evil.example) ![img](http://evil.example/i.png)\x07 Rusia.",
             outlet=None, outlet_domain=None, outlet_source="none", outlet_evidence="",
             published=None, date_source="none", date_evidence="",
             language="ro", language_confidence=0.62, mixed_language=True, languages=["ro", "en"], cited_sources=[]),
        dict(doc_id="d_en", path="en.txt", title="North Korea drones",
             text="North Korea will produce drones with Russia, NHK reported. Kim Jong Un visited.",
             outlet="Reuters", outlet_domain="reuters.com", outlet_source="text", outlet_evidence="(Reuters)",
             published=dt.date(2024, 7, 3), date_source="field", date_evidence="published",
             language="en", language_confidence=0.99, cited_sources=["NHK"]),
    ]
    for d in docs:
        d.setdefault("mixed_language", False)
        d.setdefault("languages", [d["language"]])
        d["n_chars"] = len(d["text"])
        d["boilerplate"] = []
        d["cited_spans"] = [
            {"name": s, "start": d["text"].index(s), "end": d["text"].index(s) + len(s), "evidence": s}
            for s in d["cited_sources"]
        ]
    ru1 = docs[0]
    ru1["boilerplate"] = [[ru1["text"].index("Курс"), len(ru1["text"])]]
    m = [
        _mention("d_ru1", docs[0]["text"], "Путин", "Q7747", "PER"),
        _mention("d_ru1", docs[0]["text"], "Путина", "Q7747", "PER", lemma="Путин"),
        _mention("d_ru1", docs[0]["text"], "Ким Чен Ыном", "Q56226", "PER", lemma="Ким Чен Ын"),
        _mention("d_ru1", docs[0]["text"], "Пхеньяне", "Q18808", "LOC", lemma="Пхеньян"),
        _mention("d_ru1", docs[0]["text"], "ISW", "Q_ISW", "ORG"),
        _mention("d_ru2", docs[1]["text"], "КНДР", "Q423", "LOC"),
        _mention("d_ru2", docs[1]["text"], "Россией", "Q159", "LOC", lemma="Россия"),
        _mention("d_ru2", docs[1]["text"], "Путин", "Q7747", "PER"),
        _mention("d_uk", docs[2]["text"], "Путін", "Q7747", "PER"),
        _mention("d_uk", docs[2]["text"], "Кімом", "Q56226", "PER", lemma="Кім"),
        _mention("d_uk", docs[2]["text"], "Росія", "Q159", "LOC"),
        _mention("d_ro", docs[3]["text"], "Putin", "Q7747", "PER"),
        _mention("d_ro", docs[3]["text"], "Kim Jong Un", "Q56226", "PER"),
        _mention("d_ro", docs[3]["text"], "Rusia", "Q159", "LOC"),
        _mention("d_en", docs[4]["text"], "North Korea", "Q423", "LOC"),
        _mention("d_en", docs[4]["text"], "Russia", "Q159", "LOC"),
        _mention("d_en", docs[4]["text"], "Kim Jong Un", "Q56226", "PER"),
    ]
    mentions = pl.DataFrame(m)
    counts = {}
    for d in docs:
        d["n_mentions"] = sum(1 for x in m if x["doc_id"] == d["doc_id"])
    names = {
        "Q7747": ("Vladimir Putin", "PER"), "Q56226": ("Kim Jong Un", "PER"), "Q18808": ("Pyongyang", "LOC"),
        "Q423": ("North Korea", "LOC"), "Q159": ("Russia", "LOC"), "Q_ISW": ("Institute for the Study of War", "ORG"),
    }
    doc_entities = mentions.group_by("doc_id", "entity_id").agg(pl.len().cast(pl.UInt32).alias("mentions"))
    ent_counts = mentions.group_by("entity_id").agg(pl.len().alias("mention_count"), pl.col("doc_id").n_unique().alias("doc_count"))
    entities = pl.DataFrame(
        [{"entity_id": k, "name": v[0], "entity_type": v[1], "names": [{"language": "en", "name": v[0]}]} for k, v in names.items()]
    ).join(ent_counts, on="entity_id", how="left")
    del counts
    rejects = pl.DataFrame({"path": ["broken.bin"], "record": [None], "reason": ["Not a text file (binary content)."]},
                           schema={"path": pl.String, "record": pl.Int64, "reason": pl.String})
    return {"articles": pl.DataFrame(docs), "mentions": mentions, "entities": entities,
            "doc_entities": doc_entities, "rejects": rejects}


def write_tiny_store(root: Path) -> store.StoreInfo:
    tables = {k: store.conform(v, k) for k, v in tiny_tables().items()}
    version = sha("\n".join(sorted(tables["articles"]["doc_id"].to_list())))[:12]
    return store.write(root, tables, {"version": version, "corpus": "tiny-fixture"})


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny") / "store"
    write_tiny_store(root)
    return root


def _build_available() -> bool:
    try:
        from presslens import build  # noqa: F401
    except Exception:
        return False
    return hasattr(build, "build")


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory) -> Path:
    """A store built from the seed corpus with the real pipeline (skipped until build.py exists)."""
    if not _build_available():
        pytest.skip("presslens.build is not there yet: the seed-store tests need the lead's build()")
    from presslens import build

    root = tmp_path_factory.mktemp("seed") / "store"
    build.build(str(SEED_CORPUS), str(root), progress=lambda done, total: None)
    return root


def sha(s: str) -> str:
    return hashlib.sha1(s.encode()).hexdigest()


os.environ.setdefault("PRESSLENS_TEST", "1")


def fail_crf_scores_on(monkeypatch, marker: str) -> None:
    """Make the entity model raise on every text containing `marker` (the other texts are
    scored as usual): one bad record among good ones."""
    from presslens.enrich.ner import crf

    real_scores = crf.CompiledModel.scores

    def scores(self, text, toks, lang):
        if marker in text:
            raise RuntimeError("bad text")
        return real_scores(self, text, toks, lang)

    monkeypatch.setattr(crf.CompiledModel, "scores", scores)


def assert_same_index(x, y) -> None:
    """Every array (values and dtype) and every Arrow table of two serving-index directories
    (presslens.index) equal."""
    import numpy as np
    from polars.testing import assert_frame_equal

    from presslens import index

    for name in index.ARRAYS:
        a, z = np.load(x / f"{name}.npy"), np.load(y / f"{name}.npy")
        assert a.dtype == z.dtype and np.array_equal(a, z), name
    for table in ("articles", "entities", "forms", "dicts", "doc_sorted"):
        assert_frame_equal(pl.read_ipc(x / f"{table}.arrow"), pl.read_ipc(y / f"{table}.arrow"), check_exact=True)
