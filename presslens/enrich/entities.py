"""Entity mentions of one article: detection, base forms, linking.

In: the article text (verbatim), its language (ru, uk, ro, en or other) and the boilerplate
spans. Out: a list of Mention (start/end offsets into the text, surface, base form,
entity id, type, canonical name), none overlapping boilerplate.

Pipeline (presslens/enrich/ner/):
1. candidates: gazetteer names (any inflection or script), natasha NER (ru), capitalised
   sequences (all languages; in ru only where natasha found nothing);
2. overlap resolution: the longest span wins, ties go gazetteer > natasha > rules;
3. base form per language (pymorphy3 ru/uk, Romanian endings, English possessives);
4. linking: gazetteer id by base form; else a short form (one word) resolves to a longer
   name of the same article containing it (Кім -> Кім Чен Ин, Мей -> Тереза Мей);
   else the id is TYPE:key(base form), a script-independent key (Путін = Путин = Putin).

Bounds: only the first MAX_ANALYSED_CHARS characters are analysed (NER on the first
NER_MAX_CHARS), words over MAX_TOKEN_CHARS are skipped, names are at most 7 words, so one
article costs well under a second whatever its content (a 1 MB string without spaces
included). Models load once per process.
"""
from __future__ import annotations

import bisect
import unicodedata

from presslens.enrich.ner import detect, gazetteer, link, morph
from presslens.enrich.ner.text import Token, is_upper_word, shouting, tokens
from presslens.records import Mention

TYPES = ("PER", "LOC", "ORG", "PRO", "EVT", "MISC")
# Source priorities for equally long overlapping spans (lower wins).
GAZ, NER, RULE = 0, 1, 2
# Languages where natasha's Russian model decides spans (it was trained on Russian news).
NER_SPAN_LANGS = {"ru"}
# Languages where natasha only suggests types for the rule spans (its Ukrainian spans are
# poor, F1 ~0.6, but its PER/LOC/ORG call on a span is better than dictionary tags alone).
NER_TYPE_LANGS = {"uk"}


def entity_catalog() -> list[dict]:
    """Canonical entities known before the build: entity_id, name, entity_type, names."""
    g = gazetteer.get()
    return [
        {"entity_id": e.entity_id, "name": e.name, "entity_type": e.entity_type, "names": list(e.names)}
        for e in g.entries.values()
    ]


def _merge(spans) -> list[tuple[int, int]]:
    """Sorted, non-overlapping copy of (start, end) spans; invalid ones dropped."""
    out: list[list[int]] = []
    for a, b in sorted((int(a), int(b)) for a, b in (spans or []) if int(b) > int(a)):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _in_boilerplate(spans: list[tuple[int, int]], starts: list[int], s: int, e: int) -> bool:
    """Does [s, e) overlap one of the merged, sorted `spans`?"""
    k = bisect.bisect_left(starts, e) - 1
    return k >= 0 and spans[k][1] > s


def _tok_range(toks: list[Token], starts: list[int], s: int, e: int) -> tuple[int, int]:
    i = bisect.bisect_left(starts, s)
    j = i
    while j < len(toks) and toks[j].end <= e:
        j += 1
    return i, j


def extract(text: str, language: str, boilerplate: list[tuple[int, int]]) -> list[Mention]:
    """Entity mentions of `text` outside the `boilerplate` spans, in text order."""
    if not text or not isinstance(text, str):
        return []
    lang = (language or "").lower()[:2]
    toks = tokens(text)
    if not toks:
        return []
    tstarts = [t.start for t in toks]
    loud = shouting(text)
    g = gazetteer.get()

    cands: list[tuple[int, int, int, str | None, str | None]] = []  # (start, end, prio, type, gaz id)
    for i, j, eid in gazetteer.scan(text, toks, lang, loud):
        cands.append((toks[i].start, toks[j - 1].end, GAZ, g.entries[eid].entity_type, eid))
    if not loud:
        ner = detect.natasha_spans(text) if lang in NER_SPAN_LANGS else []
        for s, e, ty in ner:
            i, j = _tok_range(toks, tstarts, s, e)
            if i < j:
                cands.append((toks[i].start, toks[j - 1].end, NER, ty, None))
        type_hints = detect.natasha_spans(text) if lang in NER_TYPE_LANGS else []
        hint_starts = [h[0] for h in type_hints]
        for i, j in detect.capitalised_sequences(text, toks, lang):
            s, e = toks[i].start, toks[j - 1].end
            cands.append((s, e, RULE, _type_hint(type_hints, hint_starts, s, e), None))

    cands = _split_at_punctuation(text, toks, tstarts, cands)
    cands = _trim_function_edges(toks, tstarts, cands, lang)
    cands = _trim_rules(toks, tstarts, cands)
    # Longest span first; ties by source priority.
    cands.sort(key=lambda c: (-(c[1] - c[0]), c[2], c[0]))
    taken: list[tuple[int, int, int, str | None, str | None]] = []
    occupied = bytearray(toks[-1].end + 1)  # 1 where a chosen span covers the character
    for c in cands:
        s, e = c[0], c[1]
        if any(occupied[s:e]):
            continue
        occupied[s:e] = b"\x01" * (e - s)
        taken.append(c)
    taken.sort()

    if lang in ("ru", "uk"):
        taken = _attach_genitive_places(text, toks, tstarts, taken, lang, g)
    bp = _merge(boilerplate)
    bstarts = [a for a, _ in bp]

    mentions: list[Mention] = []
    for s, e, prio, ty, eid in taken:
        if bp and _in_boilerplate(bp, bstarts, s, e):
            continue
        i, j = _tok_range(toks, tstarts, s, e)
        words = [t.text for t in toks[i:j]]
        if not words:
            continue
        seps = [text[toks[k].end : toks[k + 1].start] for k in range(i, j - 1)]
        etype = ty or detect.guess_type(words, lang)
        if eid is None and len(words) == 1 and _noise(words[0]):
            continue
        lemma = morph.lemma_span(words, seps, lang, etype)
        if eid is None:
            e2 = g.lookup(lemma, text[s:e])
            if e2 is not None:
                eid = e2.entity_id
                etype = e2.entity_type if ty is None or prio != NER else etype
        if eid is not None:
            ent = g.entries[eid]
            name = ent.name
            etype = ent.entity_type
        else:
            eid = link.entity_id(etype, lemma)
            name = lemma
        mentions.append(Mention(s, e, text[s:e], lemma, eid, etype, name))
    _resolve_short_forms(mentions)
    return mentions


def _type_hint(hints, hint_starts, s: int, e: int) -> str | None:
    """Type of the NER span that overlaps [s, e) the most (None when none does)."""
    k = bisect.bisect_left(hint_starts, e)
    best, best_len = None, 0
    for hs, he, ht in hints[max(0, k - 8) : k]:
        ov = min(he, e) - max(hs, s)
        if ov > best_len:
            best, best_len = ht, ov
    return best


def _attach_genitive_places(text, toks, tstarts, taken, lang, g):
    """An organisation followed by a place in the genitive is one name in the news style
    (МИД Великобритании, Верховный суд Пакистана, МЗС України)."""
    out = []
    for c in taken:
        if out:
            a = out[-1]
            a_type = g.entries[a[4]].entity_type if a[4] else a[3]
            c_type = g.entries[c[4]].entity_type if c[4] else c[3]
            if a_type is None:
                i, j = _tok_range(toks, tstarts, a[0], a[1])
                a_type = detect.guess_type([t.text for t in toks[i:j]], lang)
            if a_type == "ORG" and c_type == "LOC" and text[a[1] : c[0]] == " ":
                i, _ = _tok_range(toks, tstarts, c[0], c[1])
                ml = morph.morph_lang(lang, toks[i].text)
                if ml and "gent" in morph.word_info(toks[i].text, ml)[1]:
                    out[-1] = (a[0], c[1], NER, "ORG", None)
                    continue
        out.append(c)
    return out


def _trim_function_edges(toks, tstarts, cands, lang):
    """Drop function words (и, в, та) and generic abbreviations at the edges of model spans."""
    out = []
    for c in cands:
        if c[2] == GAZ:
            out.append(c)
            continue
        i, j = _tok_range(toks, tstarts, c[0], c[1])
        while i < j and (detect.is_function_word(toks[i].text, lang) or toks[i].text in detect.GENERIC_ABBR):
            i += 1
        while j > i and (detect.is_function_word(toks[j - 1].text, lang) or toks[j - 1].text in detect.GENERIC_ABBR):
            j -= 1
        if i < j:
            out.append((toks[i].start, toks[j - 1].end) + tuple(c[2:]))
    return out


def _split_at_punctuation(text, toks, tstarts, cands):
    """Cut model spans at separators other than spaces, hyphens, apostrophes and dots
    (natasha sometimes runs over a bracket: Института изучения войны (ISW)."""
    out = []
    for c in cands:
        s, e = c[0], c[1]
        i, j = _tok_range(toks, tstarts, s, e)
        if j - i < 2:
            out.append(c)
            continue
        a = i
        for k in range(i + 1, j):
            sep = text[toks[k - 1].end : toks[k].start]
            if sep.strip(" \u00a0-‐‑'’.") or "\n" in sep:
                out.append((toks[a].start, toks[k - 1].end) + tuple(c[2:]))
                a = k
        out.append((toks[a].start, toks[j - 1].end) + tuple(c[2:]))
    return out


def _trim_rules(toks, tstarts, cands):
    """Rule spans give way to gazetteer/model spans: the words those cover are removed and
    what remains on either side stays a candidate (Пентагону Пат Райдер -> Пат Райдер)."""
    covered = set()
    for c in cands:
        if c[2] != RULE:
            i, j = _tok_range(toks, tstarts, c[0], c[1])
            covered.update(range(i, j))
    out = []
    for c in cands:
        if c[2] != RULE:
            out.append(c)
            continue
        i, j = _tok_range(toks, tstarts, c[0], c[1])
        a = i
        for k in range(i, j + 1):
            if k == j or k in covered:
                if a < k:
                    out.append((toks[a].start, toks[k - 1].end) + tuple(c[2:]))
                a = k + 1
    return out


def _noise(word: str) -> bool:
    """Single symbols or one-letter words are not names."""
    return len(word) < 2 or all(unicodedata.category(c).startswith("N") for c in word)


def _resolve_short_forms(mentions: list[Mention]) -> None:
    """A one-word person mention takes the id of a longer person name in the same article
    that contains the word (Кім -> Кім Чен Ин, Мей -> Тереза Мей); ambiguous words
    (two different long names share it) are left alone."""
    by_word: dict[str, set[tuple[str, str | None]]] = {}
    for m in mentions:
        if m.entity_type != "PER":
            continue
        parts = m.lemma.split()
        if len(parts) < 2:
            continue
        for p in parts:
            by_word.setdefault(link.flat(p), set()).add((m.entity_id, m.name))
        # Gazetteer names also count with their words in the article's base forms.
    for m in mentions:
        if m.entity_type not in ("PER", "MISC", "ORG") or " " in m.lemma.strip():
            continue
        k = link.flat(m.lemma)
        targets = by_word.get(k)
        if targets and len(targets) == 1:
            eid, name = next(iter(targets))
            m.entity_id, m.name, m.entity_type = eid, name, "PER"
