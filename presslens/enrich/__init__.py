"""Enrichment: one RawRecord in, one article row (dict) and its Mention list out.

Each step is its own module with a typed function:
- boilerplate.find(text) -> list[(start, end)]                 page clutter spans
- language.detect(text, boilerplate) -> LanguageResult          article + paragraph languages
- metadata.title / outlet / published(record, text, boilerplate, language) -> Evidence
- sources.cited(text, language, boilerplate) -> list[Cited]     attributed sources
- entities.extract(text, language, boilerplate) -> list[Mention]  (not in boilerplate)

enrich(record) runs them on one record; enrich_many(records) on many, with the entity
model's decoding batched across them (the build's workers use it).
"""
from __future__ import annotations

import functools

from presslens.records import Mention, RawRecord

# One short real-looking article per language the pipeline knows. Enriching each once
# loads every model and dictionary a worker needs (langdetect profiles, natasha, pymorphy3
# ru/uk, simplemma ro/en, gazetteer, alias tables, compiled patterns), whatever the
# language and NER modules use internally, so the first real file is not charged for it.
_WARM_TEXTS = {
    "ru": "Президент России Владимир Путин встретился в Пхеньяне с Ким Чен Ыном, сообщает ТАСС. "
          "По данным Института изучения войны, Москва получила снаряды из КНДР.",
    "uk": "Президент України Володимир Зеленський заявив у Києві, що Росія отримала ракети з КНДР, "
          "передає Українська правда. За даними ISW, обстріли тривають.",
    "ro": "Președintele Vladimir Putin s-a întâlnit la Phenian cu Kim Jong Un, potrivit Reuters. "
          "Ministerul Apărării de la Kiev a transmis că atacurile continuă.",
    "en": "Russian President Vladimir Putin met Kim Jong Un in Pyongyang on Monday, Reuters reported, "
          "according to the Institute for the Study of War.",
}
# simplemma's dictionaries, loaded on a language's first use: ro/en for a word's "known"
# feature (ner.crf, ner.detect), all four for the lemmas of the story lead words
# (presslens.stories.lead_words). They come from presslens.enrich.lexicon's cache, read
# ~2.5x faster than simplemma decodes them (ru and uk: ~1 s instead of ~3 s per worker).
_SIMPLEMMA_LANGS = ("ro", "en", "ru", "uk")


def enrich(record: RawRecord) -> tuple[dict, list[Mention]]:
    """Run every enrichment step on one record; returns (article row, mentions)."""
    from presslens.enrich import entities

    before = _before_entities(record)
    mentions = entities.extract(record.text, before["language"], before["boilerplate_spans"])
    return _row(record, before, mentions)


def enrich_many(records: list[RawRecord]) -> list:
    """`enrich` of many records: the same (article row, mentions) per record, or the
    exception its analysis raised (the others are unaffected). The entity model decodes the
    texts of a language together (entities.extract_many), which is several times cheaper
    per article than one text at a time; pass a few dozen records or more."""
    from presslens.enrich import entities

    out: list = [None] * len(records)
    ready: list[tuple[int, dict]] = []
    for k, rec in enumerate(records):
        try:
            ready.append((k, _before_entities(rec)))
        except Exception as exc:  # noqa: BLE001 - the caller makes it this record's reject
            out[k] = exc
    found = entities.extract_many([(records[k].text, b["language"], b["boilerplate_spans"]) for k, b in ready])
    for (k, before), mentions in zip(ready, found):
        if isinstance(mentions, Exception):
            out[k] = mentions
            continue
        try:
            out[k] = _row(records[k], before, mentions)
        except Exception as exc:  # noqa: BLE001 - as above
            out[k] = exc
    return out


def _before_entities(record: RawRecord) -> dict:
    """The steps of `enrich` before the entities: boilerplate spans, language, metadata,
    cited sources."""
    from presslens.enrich import boilerplate, language, metadata, sources

    text = record.text
    spans = boilerplate.find(text)
    lang = language.detect(text, spans)
    lang_code = record.language or lang.language
    return {
        "boilerplate_spans": spans,
        "detected": lang,
        "language": lang_code,
        "title": metadata.title(record, text, spans, lang_code),
        "outlet": metadata.outlet(record, text, spans, lang_code),
        "published": metadata.published(record, text, spans, lang_code),
        "cited": sources.cited(text, lang_code, spans),
    }


def _row(record: RawRecord, before: dict, mentions: list[Mention]) -> tuple[dict, list[Mention]]:
    """(article row, mentions) of `enrich` from the steps' results."""
    text = record.text
    spans, lang, lang_code = before["boilerplate_spans"], before["detected"], before["language"]
    title, outlet, published, cited = before["title"], before["outlet"], before["published"], before["cited"]
    outlet_name, outlet_domain = outlet.value if outlet.value else (None, None)
    row = {
        "path": record.path,
        "record": record.record,
        "text": text,
        "title": title.value,
        "url": record.url,
        "outlet": outlet_name,
        "outlet_domain": outlet_domain,
        "outlet_source": outlet.source,
        "outlet_evidence": outlet.evidence,
        "published": published.value,
        "date_source": published.source,
        "date_evidence": published.evidence,
        "language": lang_code,
        "language_confidence": 1.0 if record.language else lang.confidence,
        "mixed_language": lang.mixed,
        "languages": lang.languages,
        "paragraph_languages": [
            {"start": p.start, "end": p.end, "language": p.language, "confidence": p.confidence}
            for p in lang.paragraphs
        ],
        "boilerplate": [[s, e] for s, e in spans],
        "cited_sources": sorted({c.name for c in cited}),
        "cited_spans": [{"name": c.name, "start": c.start, "end": c.end, "evidence": c.evidence} for c in cited],
        "encoding": record.encoding,
        "n_chars": len(text),
        "n_mentions": len(mentions),
    }
    return row, mentions


@functools.lru_cache(maxsize=1)
def warm() -> float:
    """Load every model once in this process (a build worker calls it before its first
    file); returns the seconds it took. Later calls are free."""
    import time

    t = time.perf_counter()
    try:
        from presslens.enrich import lexicon

        for lang in _SIMPLEMMA_LANGS:
            lexicon.lemmatize("слово" if lang in ("ru", "uk") else "word", lang)
    except Exception:  # simplemma missing or a language not shipped: enrich copes without it
        pass
    for lang, text in _WARM_TEXTS.items():
        enrich(RawRecord(path=f"warm-{lang}.txt", text=text))
        enrich(RawRecord(path=f"warm-{lang}.txt", text=text, language=lang))
    return time.perf_counter() - t
