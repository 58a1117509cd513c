"""Base forms (lemmas) of names per language.

In: a word or a span of words, its language (ru, uk, ro, en, other) and the entity type.
Out: the base form with the surface capitalisation kept (Путина -> Путин,
Пхеньяном -> Пхеньян, Кім Чен Ином -> Кім Чен Ин, Phenianului -> Phenian,
Coreei -> Coreea, Pyongyang's -> Pyongyang).

ru/uk use pymorphy3 (lang="ru"/"uk"), preferring proper-name readings (Name, Surn, Patr,
Geox, Orgn) for capitalised words. Romanian uses general case-ending rules (simplemma
leaves proper names inflected). English drops possessive 's. The analysers load once per
process; per-word results are memoised in bounded caches.
"""
from __future__ import annotations

import functools
import re

from presslens.enrich.ner.text import is_cyrillic, is_latin

PROPER = {"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"}
PERSON = {"Name", "Surn", "Patr"}


@functools.lru_cache(maxsize=4)
def analyzer(lang: str):
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=lang)


def morph_lang(lang: str, word: str) -> str | None:
    """Which pymorphy3 dictionary to use for a word in a text of language `lang`."""
    if not is_cyrillic(word):
        return None
    if lang in ("ru", "uk"):
        return lang
    # Cyrillic words in other texts: Ukrainian letters decide, else Russian.
    return "uk" if any(c in "іїєґІЇЄҐ" for c in word) else "ru"


# Bounded memo: per-word analysis is the hot path (names repeat within and across articles).
@functools.lru_cache(maxsize=200_000)
def parses(word: str, lang: str) -> tuple:
    return tuple(analyzer(lang).parse(word))


def best_parse(word: str, lang: str, want: set[str] | None = None):
    """Highest-scored parse, preferring a proper-name reading of a capitalised word."""
    ps = parses(word, lang)
    if not ps:
        return None
    if word[:1].isupper():
        tags = want or PROPER
        for p in ps:
            if tags & p.tag.grammemes:
                return p
    return ps[0]


@functools.lru_cache(maxsize=200_000)
def word_info(word: str, lang: str) -> tuple[bool, frozenset]:
    """(known to the dictionary, union of grammemes over the parses) of a word."""
    ps = parses(word, lang)
    known = any(p.is_known for p in ps)
    gram = frozenset().union(*(p.tag.grammemes for p in ps)) if ps else frozenset()
    return known, gram


def restore_case(lemma: str, surface: str) -> str:
    """Give `lemma` the capitalisation of `surface` (ПУТИНА -> ПУТИН, Путина -> Путин).

    pymorphy3 writes ё; news text (and the gold style) writes е, so ё becomes е unless
    the surface itself has ё."""
    if not lemma:
        return surface
    if "ё" not in surface.lower():
        lemma = lemma.replace("ё", "е").replace("Ё", "Е")
    if "ґ" not in surface.lower():
        lemma = lemma.replace("ґ", "г").replace("Ґ", "Г")
    if len(surface) > 1 and surface.isupper():
        return lemma.upper()
    out = []
    for i, c in enumerate(lemma):
        if i < len(surface) and surface[i].isupper():
            out.append(c.upper())
        elif i < len(surface) and surface[i].islower():
            out.append(c.lower())
        else:
            out.append(c)
    return "".join(out)


def _inflect(parse, grams: set[str]) -> str | None:
    try:
        r = parse.inflect(grams)
    except Exception:  # pymorphy3 raises on some odd tag sets; the caller keeps the surface
        return None
    return r.word if r is not None else None


@functools.lru_cache(maxsize=200_000)
def slavic_word(word: str, lang: str, person: bool) -> str:
    """Base form of one Cyrillic word (nominative singular; gender kept for persons)."""
    if word.isupper() and len(word) > 1:
        return word  # abbreviations (США, ЄС, МЗС) are not inflected in the gold style
    p = best_parse(word, lang, PERSON if person else None)
    if p is None or "UNKN" in p.tag.grammemes or "LATN" in p.tag.grammemes:
        return word
    lemma = None
    if person and (PERSON & p.tag.grammemes):
        lemma = _inflect(p, {"nomn", "sing"}) or p.normal_form
    elif "Pltm" in p.tag.grammemes or "plur" in p.tag.grammemes and "Geox" in p.tag.grammemes:
        lemma = _inflect(p, {"nomn"}) or p.normal_form
    else:
        lemma = p.normal_form
    if not p.is_known and len(lemma) > len(word) + 1:
        return word  # the guesser invented a long ending (Орешник -> орешникнути): keep the word
    return restore_case(lemma, word)


# Romanian definite/genitive-dative endings on proper names, longest first.
# (ending, replacement, minimum stem length)
RO_RULES = [
    ("iei", "ia", 3),   # Rusiei -> Rusia, Japoniei -> Japonia
    ("eei", "eea", 3),  # Coreei -> Coreea
    ("ului", "", 3),    # Phenianului -> Phenian, Kievului -> Kiev
    ("ii", "ia", 4),    # Uniunii -> Uniunia (rare; keeps the stem recognisable)
    ("ei", "a", 3),     # Ucrainei -> Ucraina, Europei -> Europa
    ("ul", "", 4),      # Phenianul -> Phenian, Kremlinul -> Kremlin
    ("lui", "", 4),     # Putinlui (rare)
]


def romanian_word(word: str) -> str:
    if word.isupper() and len(word) > 1:
        return word
    low = word.lower()
    for end, rep, min_stem in RO_RULES:
        if low.endswith(end) and len(low) - len(end) >= min_stem:
            stem = word[: len(word) - len(end)]
            if end == "ul" and stem[-1:].lower() in "aeiouăâî":
                continue  # "Seul", "Istanbul"-like names: ending not an article after a vowel
            return stem + rep
    return word


POSSESSIVE_RE = re.compile(r"(?:['’]s|(?<=s)['’])$")


def english_word(word: str) -> str:
    return POSSESSIVE_RE.sub("", word)


@functools.lru_cache(maxsize=200_000)
def lemma_word(word: str, lang: str, person: bool = False) -> str:
    """Base form of one word in a text of language `lang`."""
    ml = morph_lang(lang, word)
    if ml:
        return slavic_word(word, ml, person)
    if is_latin(word):
        w = english_word(word)
        if lang == "ro":
            w = romanian_word(w)
        return w
    return word


def lemma_span(words: list[str], seps: list[str], lang: str, etype: str) -> str:
    """Base form of a multi-word name; `seps[i]` is the text between words i and i+1.

    Persons: every word to its nominative. Other names: words up to the first noun go to
    the nominative (adjectives agree with it: Северной Кореи -> Северная Корея), later
    words (genitive modifiers: МЗС Британії) stay as written.
    """
    person = etype == "PER"
    n = len(words)
    if n == 1 or person or not any(morph_lang(lang, w) for w in words):
        out = [lemma_word(w, lang, person) for w in words]
    else:
        out = list(words)
        head = None
        for i, w in enumerate(words):
            ml = morph_lang(lang, w)
            if not ml:
                head = i
                out[i] = lemma_word(w, lang)
                break
            if w.isupper() and len(w) > 1:
                head = i
                break
            p = best_parse(w, ml)
            g = p.tag.grammemes if p else frozenset()
            if p is None or "NOUN" in g or "UNKN" in g:
                head = i
                if p is not None and "plur" in g and "Pltm" not in g:
                    out[i] = restore_case(_inflect(p, {"nomn", "plur"}) or w, w)
                else:
                    out[i] = slavic_word(w, ml, False)
                break
        if head is None:
            out = [lemma_word(w, lang) for w in words]
        else:
            hp = best_parse(words[head], morph_lang(lang, words[head]) or "ru") if morph_lang(lang, words[head]) else None
            # A capitalised plural head keeps its number (Соединенных Штатов -> Соединенные Штаты).
            number = "plur" if hp is not None and "plur" in hp.tag.grammemes else "sing"
            gender = None
            if hp is not None:
                if number == "sing":
                    hn = _parse_of(hp)
                    gender = hn
            for i in range(head):
                w = words[i]
                ml = morph_lang(lang, w)
                if not ml:
                    continue
                p = best_parse(w, ml)
                if p is None:
                    continue
                g = p.tag.grammemes
                if "ADJF" in g or "PRTF" in g:
                    f = None
                    for grams in ({"nomn", number, gender}, {"nomn", gender}, {"nomn", number}, {"nomn"}):
                        grams.discard(None)
                        if number == "plur":
                            grams.discard(gender)
                        f = _inflect(p, grams)
                        if f:
                            break
                    if f:
                        out[i] = restore_case(f, w)
    s = out[0]
    for i in range(1, n):
        s += seps[i - 1] + out[i]
    return s


def _parse_of(p) -> str | None:
    """Gender of a noun's nominative form (for adjective agreement)."""
    for g in ("masc", "femn", "neut"):
        if g in p.tag.grammemes:
            return g
    return None
