"""Candidate mention spans beyond the gazetteer.

In: the article text, its tokens and language. Out: (start, end, type or None) spans.

- ru (and uk as a type oracle): natasha's news NER (slovnet + navec, shipped inside the
  PyPI packages, runs offline), on at most NER_MAX_CHARS characters.
- every language: capitalised sequences. Consecutive capitalised words (or all-caps
  abbreviations, or mixed-case brand words like easyJet) joined by a space or a hyphen;
  a lower-case word after a hyphen (Kim Jong-un) and, in en/ro, name connectors
  (of, de, din...) inside the sequence. A sentence-initial word is dropped when the
  dictionary (pymorphy3 for ru/uk, simplemma for en/ro) knows it as a common word and the
  article never capitalises it mid-sentence. A Slavic sequence is split where a place or
  common word is followed by a given name (Росії Сергій Шойгу -> Росії | Сергій Шойгу).
"""
from __future__ import annotations

import functools
import re

from presslens.enrich.ner import morph
from presslens.enrich.ner.text import Token, is_cyrillic, is_latin, is_upper_word, sentence_start

# natasha costs about 10 ms per 1,000 characters; news articles are shorter than this, and
# longer input is only partly tagged (the capitalisation rules still see MAX_ANALYSED_CHARS).
NER_MAX_CHARS = 20_000
SEP_RE = re.compile(r"[ \u00a0]{1,2}|[-‐‑]")
INITIAL_SEP = re.compile(r"\.[ \u00a0]?")
CONNECTORS = {
    "en": {"of", "the", "de", "von", "van", "der", "bin", "al", "for"},
    "ro": {"de", "din", "al", "ale", "a", "lui", "pentru"},
}
# Capitalised words that are not names in en/ro running text (titles, months, weekdays).
NOT_NAMES = {
    "en": set("""i mr mrs ms dr president minister prime leader monday tuesday wednesday thursday
        friday saturday sunday january february march april may june july august september
        october november december details supplement read more also meanwhile according""".split()),
    "ro": set("""luni marți miercuri joi vineri sâmbătă duminică ianuarie februarie martie aprilie
        mai iunie iulie august septembrie octombrie noiembrie decembrie președintele
        președinte ministrul premierul liderul sursa foto""".split()),
}
# Parts of speech that are never a name on their own.
FUNCTION = {"PREP", "CONJ", "PRCL", "NPRO", "ADVB", "INTJ", "Apro"}
NATASHA_TYPES = {"PER": "PER", "LOC": "LOC", "ORG": "ORG"}


@functools.lru_cache(maxsize=1)
def _natasha():
    import os

    # natasha's matrices are tiny: a multi-threaded BLAS only adds thread hand-offs, and
    # with two build workers on two cores it made tagging 2-3x slower (measured 46 vs 17 ms
    # per article). One BLAS thread per process; env vars cover a numpy not yet imported.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
    except ImportError:
        pass
    from natasha import NewsEmbedding, NewsNERTagger

    return NewsNERTagger(NewsEmbedding())


def natasha_spans(text: str) -> list[tuple[int, int, str]]:
    """natasha NER spans (start, end, PER/LOC/ORG) over the first NER_MAX_CHARS chars."""
    chunk = text[:NER_MAX_CHARS]
    if not chunk.strip():
        return []
    try:
        markup = _natasha()(chunk)
    except Exception:  # a model failure on odd input must not lose the article
        return []
    return [(s.start, s.stop, NATASHA_TYPES.get(s.type, "MISC")) for s in markup.spans]


# All-caps abbreviations of common nouns (mass media, GDP, ICBM...): never a name.
GENERIC_ABBR = {"СМИ", "ЗМІ", "ВВП", "ДТП", "МБР", "ЧП", "ИИ", "ШІ", "ПВО", "ППО", "ВПК", "ЖКХ", "ОК", "PS"}


def name_like(word: str, lang: str = "") -> bool:
    """Capitalised word, abbreviation or Latin brand word (easyJet); not a number, not a
    capitalised function word (Вы, Ранее, После), not a generic abbreviation (СМИ)."""
    if not word or word[0].isdigit() or word in GENERIC_ABBR:
        return False
    if word[0].isupper():
        if not word.isupper() and is_function_word(word, lang):
            return False
        return True
    return is_latin(word) and any(c.isupper() for c in word[1:])


@functools.lru_cache(maxsize=100_000)
def is_function_word(word: str, lang: str) -> bool:
    """A Cyrillic word whose most likely reading is a pronoun, adverb, preposition..."""
    ml = morph.morph_lang(lang, word)
    if not ml:
        return False
    ps = morph.parses(word.lower(), ml)
    return bool(ps) and ps[0].is_known and bool(FUNCTION & ps[0].tag.grammemes)


@functools.lru_cache(maxsize=100_000)
def common_word(word: str, lang: str) -> bool:
    """Is the lower-cased word an ordinary dictionary word (not a name) in `lang`?"""
    if is_upper_word(word):
        return False
    low = word.lower()
    ml = morph.morph_lang(lang, word)
    if ml:
        known, gram = morph.word_info(low, ml)
        if not known:
            return False
        if len(word) == 1 or FUNCTION & gram:
            return True  # prepositions, conjunctions, pronouns: never names at a sentence start
        # Known in lower case with an ordinary (non-name) reading: Кордон is "border" as
        # well as a surname. Only used for sentence-initial words the article never
        # capitalises mid-sentence, so names that recur are kept.
        return any(p.is_known and not (morph.PROPER & p.tag.grammemes) for p in morph.parses(low, ml))
    if is_latin(word) and lang in ("en", "ro"):
        if low in NOT_NAMES.get(lang, ()):
            return True
        try:
            import simplemma

            return simplemma.is_known(low, lang)
        except Exception:
            return False
    return False


def _known(word: str, lang: str) -> bool:
    ml = morph.morph_lang(lang, word)
    return bool(ml) and morph.word_info(word, ml)[0]


def _adjective_noun(adj: str, noun: str, lang: str) -> bool:
    """A capitalised adjective followed by a lower-case noun in the same case."""
    if not adj[:1].isupper() or adj.isupper() or not noun[:1].islower():
        return False
    ml = morph.morph_lang(lang, adj)
    if not ml or morph.morph_lang(lang, noun) != ml:
        return False
    a = morph.best_parse(adj, ml)
    nps = morph.parses(noun, ml)
    if a is None or not nps or not a.is_known or "ADJF" not in a.tag.grammemes:
        return False
    np_ = nps[0]
    if "NOUN" not in np_.tag.grammemes or not np_.is_known:
        return False
    cases = {"nomn", "gent", "datv", "accs", "ablt", "loct"}
    return bool(cases & a.tag.grammemes & np_.tag.grammemes)


def _person_start(word: str, lang: str) -> bool:
    ml = morph.morph_lang(lang, word)
    if not ml:
        return False
    _, gram = morph.word_info(word, ml)
    return "Name" in gram


def _personish(word: str, lang: str) -> bool:
    ml = morph.morph_lang(lang, word)
    if not ml:
        return False
    _, gram = morph.word_info(word, ml)
    return bool(morph.PERSON & gram)


def capitalised_sequences(text: str, toks: list[Token], lang: str) -> list[tuple[int, int]]:
    """Token index ranges [i, j) of capitalised name sequences."""
    conn = CONNECTORS.get(lang, set())
    not_names = NOT_NAMES.get(lang, set())
    mid_caps = set()
    for t in toks:
        if name_like(t.text, lang) and not sentence_start(text, t.start):
            mid_caps.add(t.text)
    seqs = []
    n = len(toks)
    i = 0
    while i < n:
        if not name_like(toks[i].text, lang):
            i += 1
            continue
        j = i + 1
        while j < n:
            sep = text[toks[j - 1].end : toks[j].start]
            if not SEP_RE.fullmatch(sep):
                # An initial and its dot belong to the name (Т.Мей, Д. Дэвис).
                if INITIAL_SEP.fullmatch(sep) and len(toks[j - 1].text) == 1 and toks[j - 1].text.isupper() \
                        and name_like(toks[j].text, lang):
                    j += 1
                    continue
                break
            w = toks[j].text
            if name_like(w, lang) or (sep in "-‐‑" and w[:1].isalnum()):
                j += 1  # Kim Jong-un, Boeing-737-800, ЧМ-2018
                continue
            if sep.strip() == "" and w.lower() in conn and j + 1 < n and name_like(toks[j + 1].text, lang) \
                    and SEP_RE.fullmatch(text[toks[j].end : toks[j + 1].start]):
                j += 2
                continue
            break
        if lang in ("ru", "uk") and j < n and text[toks[j - 1].end : toks[j].start] == " " \
                and _adjective_noun(toks[j - 1].text, toks[j].text, lang):
            j += 1  # Верховный суд, Консервативної партії: only the first word is capitalised
        seqs.append((i, j))
        i = j
    out = []
    for i, j in seqs:
        # Drop an ordinary word that is capitalised only because it opens a sentence.
        while i < j and (
            toks[i].text.lower() in not_names
            or (sentence_start(text, toks[i].start) and toks[i].text not in mid_caps
                and common_word(toks[i].text, lang))
        ):
            i += 1
        while j > i and toks[j - 1].text.lower() in conn:
            j -= 1
        while i < j and not name_like(toks[i].text, lang):
            i += 1  # a lower-case word after a hyphen cannot open a name (Într-un)
        if lang == "en" and i < j and english_demonym(text, toks, j):
            continue
        if i >= j:
            continue
        # Split a place/common word followed by a given name (Росії Сергій Шойгу).
        start = i
        for k in range(i + 1, j):
            space = text[toks[k - 1].end : toks[k].start].strip() == ""
            if space and (
                (is_cyrillic(toks[k].text) and _person_start(toks[k].text, lang)
                 and not _personish(toks[k - 1].text, lang))
                # a change of script starts a new name (Ryanair Майкл О'Лірі)
                or (is_cyrillic(toks[k].text) and is_latin(toks[k - 1].text))
                or (is_latin(toks[k].text) and is_cyrillic(toks[k - 1].text))
            ):
                out.append((start, k))
                start = k
        out.append((start, j))
    return out


# English nationality adjectives (North Korean troops, Russian army): capitalised but not
# names. Recognised by their suffix when a lower-case word follows, plus irregular ones.
DEMONYM_SUFFIXES = ("ean", "ian", "ese", "ish", "ican")
DEMONYMS = {"german", "french", "dutch", "greek", "swiss", "thai", "arab", "israeli", "iraqi",
            "afghan", "pakistani", "russian", "korean", "american", "european"}


def english_demonym(text: str, toks: list[Token], j: int) -> bool:
    """Is token j-1 (the last of a sequence) an adjective of nationality used attributively?"""
    w = toks[j - 1].text.lower()
    if not (w in DEMONYMS or (len(w) > 5 and w.endswith(DEMONYM_SUFFIXES))):
        return False
    return j >= len(toks) or toks[j].text[:1].islower() or text[toks[j - 1].end : toks[j].start].strip() != ""


def guess_type(words: list[str], lang: str) -> str:
    """Type of a discovered name from dictionary tags (Name/Surn -> PER, Geox -> LOC...)."""
    grams = set()
    for w in words:
        ml = morph.morph_lang(lang, w)
        if ml:
            p = morph.best_parse(w, ml)
            if p is not None:
                grams |= p.tag.grammemes
    if morph.PERSON & grams:
        return "PER"
    if "Geox" in grams:
        return "LOC"
    if "Orgn" in grams or any(is_upper_word(w) for w in words):
        return "ORG"
    if lang in ("ru", "uk") and all(is_latin(w) or not w[:1].isalpha() for w in words):
        return "ORG"  # a name left in Latin script in Slavic news is mostly a company or outlet
    return "MISC"
