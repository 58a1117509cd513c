"""Entity mentions of one article: detection, base forms, linking.

In: the article text (verbatim), its language (ru, uk, ro, en or other) and the boilerplate
spans. Out: a list of Mention (start/end offsets into the text, surface, base form,
entity id, type, canonical name), none overlapping boilerplate.

Pipeline (presslens/enrich/ner/):
0. ru, uk, ro, en (issue #9): the learned CRF of the language (ner.crf, models in
   presslens/models/, docs/MODEL_CARD.md) is the detector: its spans and types, plus the
   gazetteer's names (longest span wins, ties to the gazetteer; a learned span running
   into a gazetteer name keeps its free words; a known person opening a learned span is
   split off). Learned spans are cut only at line breaks and clause punctuation. Thin
   post-filters kept from the rules: head-noun and descriptor types, English demonyms
   dropped. Steps 3 and 4 below (base forms, linking) apply unchanged. Steps 1-2 are the
   rule pipeline, used only for texts in other languages or without a model file.
1. candidates: gazetteer names in any inflection or script (ner.gazetteer.scan); natasha
   NER spans (ru); capitalised sequences (all languages, ner.detect), typed in uk by the
   natasha span they overlap, else by dictionary tags (Name/Surn -> PER, Geox -> LOC...);
2. clean-up: spans cut at punctuation, function words trimmed off the edges, rule spans
   give way to gazetteer/NER spans inside them (except hyphenated compounds and
   adjective + place: Інтерфакс-Україна, Північної Ірландії); the longest span wins,
   ties go gazetteer > natasha > rules; an organisation followed by a place in the
   genitive becomes one name (МИД Великобритании);
   types from the name itself outrank the model's guess: the head noun (Міністерство,
   Рада, війна, аэропорт -> ORG/EVT/LOC; ner.detect.head_type), a descriptor noun before
   a quoted name (групі “Вагнер” -> ORG, ракету “Кедр” -> PRO), a number after a hyphen
   (Іл-62М -> PRO, ЧМ-2018 -> EVT); a body's name runs over its lower-case genitive words
   (Міністерство оборони Росії, Рада національної безпеки); a capitalised plural noun with
   a genitive place mid-sentence is one name (Патріоти України); capitalised verbs,
   titles the article also writes in lower case, and sentence-initial adjective + noun
   phrases are dropped;
3. base form per language (ner.morph: pymorphy3 ru/uk with the name's gender and case,
   checked against the words the article itself uses; Romanian endings; English 's);
4. linking: gazetteer id by base form (exact key, then skeleton key); else a one-word
   person mention resolves to a longer name of the same article containing it
   (Кім -> Кім Чен Ин, Мей/Т.Мей -> Тереза Мей), a name that starts a longer one of the
   article joins it (МИД -> МИД Великобритании), spelling variants within the article
   merge (rapidfuzz on skeletons), a bracketed alias in the other script or made of the
   initials takes the id of the name before it (Щит свободи Ульчі (Ulchi Freedom Shield));
   otherwise the id is "NAME:" + skeleton(base form),
   a script-independent key (Путін = Путин = Putin), stable across articles and runs.

Bounds (per article, one core): only the first MAX_ANALYSED_CHARS (100k) characters and
at most MAX_CAPITALISED (1,500) capitalised words are analysed, natasha sees at most
NER_MAX_CHARS (20k), words over MAX_TOKEN_CHARS (40) are skipped, gazetteer names are at
most 7 words. Measured: ~20 ms for a news article; under 2 s for adversarial input
(240k characters of unknown capitalised words, 1 MB without spaces). Models load once
per process (module-level caches), so multiprocessing workers pay the load once.
"""
from __future__ import annotations

import bisect
from collections import Counter
import re
from typing import NamedTuple
import unicodedata

from presslens.enrich.ner import crf, detect, gazetteer, link, morph
from presslens.enrich.ner.text import Token, shouting, tokens
from presslens.enrich.ner.text import sentence_start as text_sentence_start
from presslens.records import Mention

# Source priorities for equally long overlapping spans (lower wins).
GAZ, NER, RULE = 0, 1, 2
# Languages where natasha's Russian model decides spans (it was trained on Russian news).
NER_SPAN_LANGS = {"ru"}
# Languages where natasha only suggests types for the rule spans (its Ukrainian spans are
# poor, F1 ~0.6, but its PER/LOC/ORG call on a span is better than dictionary tags alone).
NER_TYPE_LANGS = {"uk"}


def entity_catalog() -> list[dict]:
    """Canonical entities known before the build: entity_id, name, entity_type, names."""
    known, _rows = gazetteer.entries()  # not gazetteer.get(): its name index needs pymorphy3
    return [
        {"entity_id": e.entity_id, "name": e.name, "entity_type": e.entity_type, "names": list(e.names)}
        for e in known.values()
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


class Prepared(NamedTuple):
    """A text ready for `finish`: its language code, word tokens, whether it is shouted."""

    text: str
    lang: str
    toks: list[Token]
    loud: bool

    @property
    def learned(self) -> bool:
        """Does the learned model detect this text's names (crf.detect on its tokens)?"""
        return not self.loud and crf.has_model(self.lang)


def prepare(text: str, language: str) -> Prepared | None:
    """The first step of `extract` (None: a text with no words, no mentions)."""
    if not text or not isinstance(text, str):
        return None
    toks = tokens(text)
    if not toks:
        return None
    return Prepared(text, (language or "").lower()[:2], toks, shouting(text))


def extract(text: str, language: str, boilerplate: list[tuple[int, int]]) -> list[Mention]:
    """Entity mentions of `text` outside the `boilerplate` spans, in text order."""
    p = prepare(text, language)
    if p is None:
        return []
    return finish(p, boilerplate, crf.detect(text, p.toks, p.lang) if p.learned else None)


def extract_many(items: list[tuple[str, str, list[tuple[int, int]]]]) -> list:
    """`extract` of many (text, language, boilerplate) at once, the same mentions, with the
    learned model's decoding run over all texts of a language together (crf.detect_many).
    An item whose analysis raises gets the exception in place of its mentions; the others
    are unaffected."""
    out: list = [[] for _ in items]
    ready: list[tuple[int, Prepared]] = []
    for k, (text, language, _bp) in enumerate(items):
        try:
            p = prepare(text, language)
        except Exception as exc:  # noqa: BLE001 - the caller makes it this item's reject
            out[k] = exc
            continue
        if p is not None:
            ready.append((k, p))
    learned = [(k, p) for k, p in ready if p.learned]
    spans = dict(zip((k for k, _ in learned), crf.detect_many([(p.text, p.toks, p.lang) for _, p in learned])))
    for k, p in ready:
        found = spans.get(k)
        if isinstance(found, Exception):
            out[k] = found
            continue
        try:
            out[k] = finish(p, items[k][2], found)
        except Exception as exc:  # noqa: BLE001 - as above
            out[k] = exc
    return out


def finish(p: Prepared, boilerplate: list[tuple[int, int]], learned_spans: list[tuple[int, int, str]] | None
           ) -> list[Mention]:
    """The rest of `extract` after `prepare`: `learned_spans` are crf.detect's spans of the
    text when `p.learned` (None otherwise)."""
    text, lang, toks, loud = p
    tstarts = [t.start for t in toks]
    g = gazetteer.get()

    cands: list[tuple[int, int, int, str | None, str | None]] = []  # (start, end, prio, type, gaz id)
    gscan = gazetteer.scan(text, toks, lang, loud)
    for i, j, eid in gscan:
        # A one-word match that is a function word is not the name (Крім "besides" has
        # the key of Крим); curated names are otherwise trusted, even opening a sentence.
        if j - i == 1 and not loud and not detect.name_like(toks[i].text, lang):
            continue
        cands.append((toks[i].start, toks[j - 1].end, GAZ, g.entries[eid].entity_type, eid))
    quoted: dict = {}
    if learned_spans is not None:
        # The learned model is the detector: its spans and types (gazetteer names stay as
        # candidates; the longest span wins, ties go to the gazetteer).
        gaz_person_ends = {(i, j) for i, j, eid in gscan
                           if g.entries[eid].entity_type == "PER"}
        for i, j, ty in learned_spans:
            # A known person's name opening a longer learned span is a name of its own
            # (візиту Шойгу Кім, схоже -> Шойгу | Кім).
            cut = next((b for a, b in gaz_person_ends if a == i and i < b < j), None)
            if cut is not None:
                cands.append((toks[i].start, toks[cut - 1].end, NER, "PER", None))
                i = cut
            cands.append((toks[i].start, toks[j - 1].end, NER, ty, None))
        # A quoted name after a descriptor (групі “Вагнер”) keeps its written form as base
        # form, and the descriptor noun gives its type (a thin post-filter kept from the rules).
        quoted = {(s, e): ty for s, e, ty in detect.quoted_names(text, toks, lang)}
        learned = True
    elif not loud:
        learned = False
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
        # Quoted names after a descriptor noun (групі “Вагнер”): the noun gives the type.
        quoted = {(s, e): ty for s, e, ty in detect.quoted_names(text, toks, lang)}
        for (s, e), ty in quoted.items():
            cands.append((s, e, RULE, ty, None))
    else:
        learned = False

    # The model's spans are cut only at line breaks (it learnt names with quotes inside:
    # ТОВ «Каштан-плюс»); other sources' spans at any separator but spaces and hyphens.
    cands = _split_at_punctuation(text, toks, tstarts, cands, lines_only=learned)
    cands = _split_at_scores(text, toks, tstarts, cands)
    cands = _trim_function_edges(text, toks, tstarts, cands, lang)
    cands = _trim_rules(text, toks, tstarts, cands, lang)
    # Abbreviations (ВПС, МЗС) are never a person: a model's PER on one gives way to the tags.
    cands = [c[:3] + (None,) + c[4:] if c[3] == "PER" and c[2] == RULE and text[c[0]:c[1]].isupper() else c
             for c in cands]
    # Longest span first; ties by source priority.
    cands.sort(key=lambda c: (-(c[1] - c[0]), c[2], c[0]))
    taken: list[tuple[int, int, int, str | None, str | None]] = []
    occupied = bytearray(toks[-1].end + 1)  # 1 where a chosen span covers the character
    for c in cands:
        s, e = c[0], c[1]
        if any(occupied[s:e]):
            if not learned or c[2] != NER:
                continue
            # A learned span that runs into a longer gazetteer name keeps its words outside
            # it (Шойгу | Кім Чен Ином): the longest free run of whole tokens.
            i, j = _tok_range(toks, tstarts, s, e)
            best = None
            a = i
            for k in range(i, j + 1):
                if k == j or any(occupied[toks[k].start:toks[k].end]):
                    if a < k and (best is None or k - a > best[1] - best[0]):
                        best = (a, k)
                    a = k + 1
            if best is None:
                continue
            s, e = toks[best[0]].start, toks[best[1] - 1].end
            if any(occupied[s:e]):
                continue
            c = (s, e) + tuple(c[2:])
        occupied[s:e] = b"\x01" * (e - s)
        taken.append(c)
    taken.sort()

    if lang in ("ru", "uk") and not learned:
        taken = _attach_genitive_places(text, toks, tstarts, taken, lang, g)
    bp = _merge(boilerplate)
    vocab = Counter(t.text for t in toks)  # the article's own words, to check base forms
    bstarts = [a for a, _ in bp]

    mentions: list[Mention] = []
    # Per article: a name written again (Путин ... Путин) with the same type gets the same
    # head type and base form (both depend only on its words, separators, type, language
    # and the article's words), so they are worked out once.
    head_types: dict[tuple, str | None] = {}
    lemmas: dict[tuple, str] = {}
    for s, e, prio, ty, eid in taken:
        if bp and _in_boilerplate(bp, bstarts, s, e):
            continue
        i, j = _tok_range(toks, tstarts, s, e)
        words = [t.text for t in toks[i:j]]
        if not words:
            continue
        seps = [text[toks[k].end : toks[k + 1].start] for k in range(i, j - 1)]
        if ty == "PER" and prio == RULE and lang in NER_TYPE_LANGS and detect.inanimate_name(words, lang):
            ty = "LOC"  # the model's person guess on words the dictionary knows only as things
        etype = ty or detect.guess_type(words, lang)
        if learned and etype == "MISC" and lang == "en" and detect.english_demonym(text, toks, j):
            continue  # a nationality adjective (Russian troops): CoNLL's MISC, not a name for us
        qtype = quoted.get((s, e)) if eid is None else None
        if qtype:
            # The descriptor decides the type, and the quoted name is not declined (групі
            # “Вагнер”, компании «Аэрофлот»): its base form is the name as written.
            lemma = text[s:e]
            mentions.append(Mention(s, e, text[s:e], lemma, link.entity_id(qtype, lemma), qtype, lemma))
            continue
        if eid is None:
            # The head noun outranks the model's or the dictionary's guess (Корейській війні
            # is an event, Міністерство an organisation), except for a person's full name.
            key = (tuple(words), tuple(seps))
            if key not in head_types:
                head_types[key] = detect.head_type(words, lang) or detect.designation_type(words, seps)
            ht = head_types[key]
            if ht and not (etype == "PER" and len(words) > 1 and all(detect._personish(w, lang) for w in words)):
                etype = ht
        if prio == RULE and eid is None and etype == "MISC" and len(words) == 1 and lang in ("ru", "uk") \
                and detect.common_word(words[0], lang):
            continue  # a capitalised ordinary word with no name reading (Забастовка, Власти)
        if prio == RULE and eid is None and etype == "MISC" and len(words) > 1 and lang in ("ru", "uk") \
                and all(w[:1].islower() for w in words[1:]) and text_sentence_start(text, s) \
                and detect.common_word(words[0], lang):
            continue  # a sentence opening with an adjective and its noun (Чистая прибыль)
        if prio == RULE and eid is None and etype == "PER" and len(words) == 1 and lang in ("ru", "uk") \
                and detect.common_word(words[0], lang) and not detect.has_proper_reading(words[0], lang) \
                and vocab.get(words[0].lower(), 0) > 0:
            continue  # a capitalised title the article also writes in lower case (Президент)
        if prio == RULE and eid is None and len(words) == 1 and lang in ("ru", "uk") \
                and detect.verb_only(words[0], lang):
            continue  # a capitalised verb (Нагадаємо, Зазначается) names nothing
        if eid is None and len(words) == 1 and _noise(words[0]):
            continue
        key = (tuple(words), tuple(seps), etype)
        lemma = lemmas.get(key)
        if lemma is None:
            lemma = lemmas[key] = morph.lemma_span(words, seps, lang, etype, vocab)
        if eid is None:
            e2 = g.lookup(lemma, text[s:e])
            if e2 is None:
                sk = g.skeletons.get(link.skeleton(lemma))
                e2 = g.entries[sk] if sk else None
            if e2 is not None:
                eid = e2.entity_id
        if eid is not None:
            ent = g.entries[eid]
            name = ent.name
            etype = ent.entity_type
        else:
            # A person's initials do not split the entity (Д.Дэвис, Т. Мэй and Мэй are one id).
            id_name = " ".join(_name_words(lemma)) if etype == "PER" else ""
            eid = link.entity_id(etype, id_name or lemma)
            name = lemma
        mentions.append(Mention(s, e, text[s:e], lemma, eid, etype, name))
    _resolve_parenthesised(text, mentions)
    _resolve_short_forms(mentions)
    _resolve_prefixes(mentions)
    _merge_spelling_variants(mentions)
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
            a_head = c_head = None
            if a[4] is None:
                i, j = _tok_range(toks, tstarts, a[0], a[1])
                # A name headed by an organisation noun is an organisation, whatever the
                # model said (Міністерство оборони Росії).
                a_head = detect.head_type([t.text for t in toks[i:j]], lang)
                a_type = a_head or a_type or detect.guess_type([t.text for t in toks[i:j]], lang)
            if c[4] is None and a_head == "ORG":
                i, j = _tok_range(toks, tstarts, c[0], c[1])
                c_head = detect.head_type([t.text for t in toks[i:j]], lang)
            # ...and so is a body of a body when both are named by their head nouns
            # (Головного політичного бюро Корейської народної армії).
            if a_type == "ORG" and (c_type == "LOC" or c_head == "ORG") and text[a[1] : c[0]] == " ":
                i, _ = _tok_range(toks, tstarts, c[0], c[1])
                ml = morph.morph_lang(lang, toks[i].text)
                if ml and "gent" in morph.word_info(toks[i].text, ml)[1]:
                    out[-1] = (a[0], c[1], NER, "ORG", None)
                    continue
        out.append(c)
    return out


def _initial(text: str, tok) -> bool:
    """A single capital letter with a dot after it: a person's initial (Д.Дэвис), not the
    one-letter function word it may spell (д, с, в)."""
    return len(tok.text) == 1 and tok.text.isupper() and text[tok.end : tok.end + 1] == "."


def _trim_function_edges(text, toks, tstarts, cands, lang):
    """Drop function words (и, в, та) and generic abbreviations at the edges of model spans."""
    out = []
    for c in cands:
        if c[2] == GAZ:
            out.append(c)
            continue
        i, j = _tok_range(toks, tstarts, c[0], c[1])
        while i < j and (detect.is_function_word(toks[i].text, lang) or toks[i].text in detect.GENERIC_ABBR) \
                and not _initial(text, toks[i]):
            i += 1
        while j > i and (detect.is_function_word(toks[j - 1].text, lang) or toks[j - 1].text in detect.GENERIC_ABBR):
            j -= 1
        if i < j:
            out.append((toks[i].start, toks[j - 1].end) + tuple(c[2:]))
    return out


def _split_at_punctuation(text, toks, tstarts, cands, lines_only: bool = False):
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
            if (sep.strip(" \u00a0-‐‑'’.") and not lines_only) or "\n" in sep or (
                    lines_only and _clause_break(sep, toks[k - 1].text)):
                out.append((toks[a].start, toks[k - 1].end) + tuple(c[2:]))
                a = k
        out.append((toks[a].start, toks[j - 1].end) + tuple(c[2:]))
    return out


def _score(tok: str) -> bool:
    """A result's figure: one or two digits standing alone (a score, a rank, a seat count)."""
    return len(tok) <= 2 and tok.isdigit()


# The most words of a team's name between two scores of a results line.
SCORE_NAME_WORDS = 5


def _result_figure(text, toks, k: int) -> bool:
    """Is token k the first score of a results line, "Name N Name N": a one- or two-digit
    figure after a word, then a name (words opening with a capital), then another such figure,
    with only spaces between them?"""
    if not (_score(toks[k].text) and toks[k - 1].text[:1].isalpha() and k + 1 < len(toks)
            and toks[k + 1].text[:1].isupper()):
        return False
    for m in range(k + 1, min(k + 2 + SCORE_NAME_WORDS, len(toks))):
        if text[toks[m - 1].end:toks[m].start].strip(" \u00a0"):
            return False  # a line break or punctuation: not one results line
        w = toks[m].text
        if _score(w):
            return m > k + 1
        if not w[:1].isupper():  # a team's name: capitalised words only (an "and" is an enumeration)
            return False
    return False


def _split_at_scores(text, toks, tstarts, cands):
    """Cut a span at the scores of a results line (Спартак 2 ЦСКА 1, Steaua 2 Dinamo 1), where
    the learned model runs the teams and their scores into one name: the runs of words around
    the figures are the names, figures at their edges dropped. Only a figure followed by a name
    and another figure cuts: a number inside a name stays (Regimentul 5 Dorobanți, Boeing 737
    MAX, Формула 1)."""
    out = []
    for c in cands:
        i, j = _tok_range(toks, tstarts, c[0], c[1])
        if not any(_result_figure(text, toks, k) for k in range(i + 1, j - 1)):
            out.append(c)
            continue
        run: list[int] = []
        for k in list(range(i, j)) + [None]:
            if k is None or _score(toks[k].text):
                while run and _score(toks[run[-1]].text):
                    run.pop()
                if run:
                    out.append((toks[run[0]].start, toks[run[-1]].end) + tuple(c[2:]))
                run = []
            else:
                run.append(k)
    return out


HYPHENS = ("-", "‐", "‑")
# Separators that end a name even inside a learned span: clause punctuation, a spaced dash,
# brackets. Quotes stay (ТОВ «Каштан-плюс»), and so do hyphens and an initial's dot.
_CLAUSE_CHARS = set(",;:!?()[]/|—–")


def _clause_break(sep: str, prev: str) -> bool:
    """Does the text between two words of a learned span end the name (Coreea de Nord. Sursa,
    Russian Federation - NHK)? A dot after an initial (Д. Дэвис) or inside an
    abbreviation (U.S.) does not."""
    core = sep.strip(" \u00a0")
    if _CLAUSE_CHARS & set(core):
        return True
    if core in HYPHENS and core != sep:
        return True  # a spaced hyphen is a dash
    if "." in core and sep != core and not (len(prev) == 1 and prev.isupper()):
        return True  # a sentence end between the words
    return False


def _rule_span_wins(text: str, toks, i: int, j: int, covered: set[int], lang: str) -> bool:
    """Keep a rule span whole over a shorter gazetteer/model span inside it when the extra
    words make it one name: adjectives before a place (Північної Ірландії), or a place
    name that is also a given name followed by a surname (Асии Биби)."""
    cov = [k for k in range(i, j) if k in covered]
    if not cov or len(cov) == j - i:
        return False
    # A hyphenated compound is one name (Інтерфакс-Україна is not Україна).
    for k in range(i + 1, j):
        if (k in covered) != (k - 1 in covered) and text[toks[k - 1].end : toks[k].start] in HYPHENS:
            return True
    if lang not in ("ru", "uk"):
        return False
    first, last = cov[0], cov[-1]
    if last == j - 1 and first > i and all(
        _is_adjective(toks[k].text, lang) and toks[k].text[:1].isupper() for k in range(i, first)
    ):
        return True
    if first == i and last == i and j - i <= 3:
        _, gram = morph.word_info(toks[i].text, morph.morph_lang(lang, toks[i].text) or lang)
        if "Name" in gram and all(not _known_common(toks[k].text, lang) for k in range(i + 1, j)):
            return True
    return False


def _initials_before(text: str, toks, i: int, j: int, covered: set[int]) -> bool:
    """Initials with their dots before a name found by another source make one person's
    name with it (Д.Дэвис, Т. Мэй): the uncovered words are all single capital letters."""
    cov = [k for k in range(i, j) if k in covered]
    if not cov or cov[0] == i or any(k not in covered for k in range(cov[0], j)):
        return False
    return all(len(toks[k].text) == 1 and toks[k].text.isupper() and text[toks[k].end : toks[k].end + 1] == "."
               for k in range(i, cov[0]))


def _noun_of_place(text: str, toks, i: int, j: int, covered: set[int], lang: str) -> bool:
    """A capitalised common noun in mid-sentence followed by a known place in the genitive
    is the name of a body or an outlet (Патріоти України, Голос Америки, Посольство США);
    a capitalised title of one person (Президент України) is not: animate singular nouns
    are left out, and so is a sentence-initial word (capitalised anyway)."""
    if lang not in ("ru", "uk") or j - i < 2 or i in covered or not all(k in covered for k in range(i + 1, j)):
        return False
    w = toks[i].text
    if not w[:1].isupper() or w.isupper() or text_sentence_start(text, toks[i].start):
        return False
    if text[toks[i].end : toks[i + 1].start] != " ":
        return False
    ml = morph.morph_lang(lang, w)
    nxt = toks[i + 1].text
    if not ml or morph.morph_lang(lang, nxt) != ml or "gent" not in morph.word_info(nxt, ml)[1]:
        return False
    ps = morph.known_parses(w.lower(), ml)
    if not ps or "NOUN" not in ps[0].tag.grammemes:
        return False
    g = ps[0].tag.grammemes
    if morph.PROPER & morph.word_info(w, ml)[1] or ("anim" in g and "plur" not in g):
        return False
    return True


def _is_adjective(word: str, lang: str) -> bool:
    ml = morph.morph_lang(lang, word)
    p = morph.best_parse(word, ml) if ml else None
    return p is not None and morph.known(p, ml) and "ADJF" in p.tag.grammemes


def _known_common(word: str, lang: str) -> bool:
    """Known to the dictionary with no person-name reading."""
    ml = morph.morph_lang(lang, word)
    if not ml:
        return False
    known, gram = morph.word_info(word, ml)
    return known and not (morph.PERSON & gram)


def _trim_rules(text, toks, tstarts, cands, lang=""):
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
        if _rule_span_wins(text, toks, i, j, covered, lang):
            out.append(c)
            continue
        if _initials_before(text, toks, i, j, covered):
            out.append(tuple(c[:3]) + ("PER",) + tuple(c[4:]))
            continue
        if _noun_of_place(text, toks, i, j, covered, lang):
            out.append(tuple(c[:3]) + ("ORG",) + tuple(c[4:]))
            continue
        a = i
        k = i
        while k <= j:
            if k == j or k in covered:
                if k < j and a < k and lang in ("ru", "uk") and all(
                        toks[x].text[:1].isupper() and _is_adjective(toks[x].text, lang) for x in range(a, k)):
                    # Adjectives before a known place make one longer name (Північної
                    # Ірландії Шейлеш Вара -> Північної Ірландії | Шейлеш Вара).
                    e = k
                    while e + 1 < j and e + 1 in covered:
                        e += 1
                    out.append((toks[a].start, toks[e].end) + tuple(c[2:]))
                    a = k = e + 1
                    continue
                while a < k and not detect.name_like(toks[a].text, lang):
                    a += 1  # what is left must open with a name word (not "для обсуждения")
                if a < k:
                    out.append((toks[a].start, toks[k - 1].end) + tuple(c[2:]))
                a = k + 1
            k += 1
    return out


def _noise(word: str) -> bool:
    """Single symbols or one-letter words are not names."""
    return len(word) < 2 or all(unicodedata.category(c).startswith("N") for c in word)


def _resolve_prefixes(mentions: list[Mention]) -> None:
    """A discovered non-person name that is the start of a longer discovered name in the
    same article is that name (МИД -> МИД Великобритании, Верховный суд -> Верховный суд
    Пакистана), when only one longer name starts that way."""
    longer: dict[str, set[tuple[str, str | None]]] = {}
    for m in mentions:
        if m.entity_type == "PER" or not m.entity_id.startswith("NAME:"):
            continue
        words = m.lemma.split()
        for k in range(1, len(words)):
            longer.setdefault(link.flat(" ".join(words[:k])), set()).add((m.entity_id, m.name))
    for m in mentions:
        if m.entity_type == "PER" or not m.entity_id.startswith("NAME:"):
            continue
        targets = longer.get(link.flat(m.lemma))
        if targets and len(targets) == 1:
            m.entity_id, m.name = next(iter(targets))


# Two discovered names of one article are one entity when their skeletons are this similar
# (rapidfuzz ratio, 0-100): spelling variants of a transliterated name (Пенджаб/Панджаб,
# Ашик Масих/Ашиг Масих) score 85-95; different names of similar length score below 75.
SPELLING_SIMILARITY = 85
# ...and only for skeletons at least this long (short ones differ by one letter legitimately).
SPELLING_MIN_LEN = 5


def _merge_spelling_variants(mentions: list[Mention]) -> None:
    """Within one article, discovered names spelled slightly differently (rapidfuzz
    similarity of their skeletons) take the id of the most frequent spelling."""
    from rapidfuzz import fuzz

    counts = Counter(m.entity_id for m in mentions if m.entity_id.startswith("NAME:"))
    ids = [i for i, _ in counts.most_common() if len(i) - 5 >= SPELLING_MIN_LEN]
    if len(ids) < 2 or len(ids) > 300:  # bounded: pairwise comparison of an article's names
        return
    target: dict[str, str] = {}
    for k, a in enumerate(ids):
        if a in target:
            continue
        for b in ids[k + 1 :]:
            if b not in target and a[5] == b[5] and fuzz.ratio(a[5:], b[5:]) >= SPELLING_SIMILARITY:
                target[b] = a
    if not target:
        return
    names = {m.entity_id: m.name for m in mentions}
    for m in mentions:
        t = target.get(m.entity_id)
        if t:
            m.entity_id, m.name = t, names.get(t, m.name)


def _name_words(lemma: str) -> list[str]:
    """Words of a name without initials (Т.Мей -> [Мей], Тереза Мей -> [Тереза, Мей])."""
    return [w for w in _WORD_SPLIT.split(lemma) if len(w) > 1]


_WORD_SPLIT = re.compile(r"[\s.]+")


def _resolve_short_forms(mentions: list[Mention]) -> None:
    """A one-word person mention (initials aside) takes the id of a longer person name in
    the same article that contains the word (Кім -> Кім Чен Ин, Мей and Т.Мей -> Тереза
    Мей); a word shared by two different long names is left alone."""
    by_word: dict[str, set[tuple[str, str | None]]] = {}
    for m in mentions:
        if m.entity_type != "PER":
            continue
        parts = _name_words(m.lemma)
        if len(parts) < 2:
            continue
        for p in parts:
            by_word.setdefault(link.flat(p), set()).add((m.entity_id, m.name))
    for m in mentions:
        if m.entity_type not in ("PER", "MISC", "ORG"):
            continue
        parts = _name_words(m.lemma)
        if len(parts) != 1:
            continue
        targets = by_word.get(link.flat(parts[0]))
        if targets and len(targets) == 1:
            eid, name = next(iter(targets))
            m.entity_id, m.name, m.entity_type = eid, name, "PER"


def _initials(name: str) -> str:
    """Upper-cased first letters of the name's words of 3+ letters (Центральне телеграфне
    агентство Кореї -> ЦТАК; short function words such as "of", "з" carry none)."""
    return "".join(w[0] for w in _WORD_SPLIT.split(name.replace("-", " ")) if len(w) >= 3).upper()


def _resolve_parenthesised(text: str, mentions: list[Mention]) -> None:
    """A discovered name in brackets right after another name is an alias of it when it is
    the same name in the other script (Щит свободи Ульчі (Ulchi Freedom Shield)) or its
    initials (... (ЦТАК)); it takes that name's id, display name and type. A bracketed
    place or other name (Лондон (Великобритания)) is not an alias and is left alone."""
    from presslens.enrich.ner.text import is_cyrillic

    for a, b in zip(mentions, mentions[1:]):
        if text[a.end : b.start].strip(" \u00a0\"”»’'") != "(" or text[b.end : b.end + 1] != ")":
            continue
        if not b.entity_id.startswith("NAME:") or b.entity_id == a.entity_id:
            continue
        other_script = is_cyrillic(a.surface) != is_cyrillic(b.surface) and _same_name(a.lemma, b.lemma)
        abbreviation = b.surface.isupper() and len(b.surface) >= 2 and _initials(a.lemma) == b.surface.replace(".", "")
        if other_script or abbreviation:
            b.entity_id, b.name, b.entity_type = a.entity_id, a.name, a.entity_type


# Transliterations of one name (Michael O'Leary / Майкл О'Лірі) score above this rapidfuzz
# ratio on their Latin keys; a name and an unrelated word (ЄС / Brexit, Милан / MXP) below.
TRANSLITERATION_SIMILARITY = 70


def _same_name(a: str, b: str) -> bool:
    """Two names in different scripts that are one name: a transliteration of each other,
    or a word-for-word translation of two or more words (Щит свободи Ульчі / Ulchi Freedom
    Shield: same number of words, one of them shared)."""
    from rapidfuzz import fuzz

    ka, kb = link.key(a), link.key(b)
    if fuzz.ratio(ka, kb) >= TRANSLITERATION_SIMILARITY:
        return True
    wa, wb = ka.split(), kb.split()
    return len(wa) >= 2 and len(wa) == len(wb) and any(
        fuzz.ratio(x, y) >= TRANSLITERATION_SIMILARITY for x in wa for y in wb if len(x) > 2)
