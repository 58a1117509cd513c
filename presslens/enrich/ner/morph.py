"""Base forms (lemmas) of names per language.

In: a word or a span of words, its language (ru, uk, ro, en, other) and the entity type.
Out: the base form with the surface capitalisation kept (Путина -> Путин,
Пхеньяном -> Пхеньян, Кім Чен Ином -> Кім Чен Ин, Phenianului -> Phenian,
Coreei -> Coreea, Pyongyang's -> Pyongyang).

ru/uk use pymorphy3 (lang="ru"/"uk"), preferring proper-name readings (Name, Surn, Patr,
Geox, Orgn) for capitalised words. Romanian uses general case-ending rules (simplemma
leaves proper names inflected; adjectives after a feminine genitive head agree with it:
Casei Albe -> Casa Albă). English drops possessive 's. In a multi-word Slavic name the
adjectives take the gender and number of the noun reading that agrees with them (Білого
дому -> Білий дім, Корейській війні -> Корейська війна). An unknown capitalised word keeps
its ending unless the guesser offers a singular reading (Ку Бьюнсам, not "Бьюнс"). The analysers load once per
process; per-word and per-name results are memoised in bounded caches (the check against the
article's own words, `attested`, is made per article on top of them).
"""
from __future__ import annotations

import functools
import re

from presslens.enrich.ner.text import fold_homoglyphs, is_cyrillic, is_latin

PROPER = {"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"}
PERSON = {"Name", "Surn", "Patr"}
# Entries of each memo of whole names and of candidate base forms (a few hundred bytes
# each, so ~20 MB a memo at most per worker; names repeat less than words do).
NAME_MEMO = 50_000


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


@functools.lru_cache(maxsize=200_000)
def known_parses(word: str, lang: str) -> tuple:
    """The parses of a word the dictionary knows, () for a guessed word. pymorphy3 decides
    "known" per word (a costly lookup not cached by Parse.is_known), so it is asked once."""
    ps = parses(word, lang)
    return ps if ps and ps[0].is_known else ()


def known(parse, lang: str) -> bool:
    """Parse.is_known, answered from the per-word cache."""
    return bool(known_parses(parse.word, lang))


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
    # Parse.is_known is a dictionary lookup of the parse's word, which the parses of one
    # word nearly always share: each distinct word is looked up once.
    known = any(p.is_known for p in {p.word: p for p in ps}.values())
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


def _guess_singular(word: str, lang: str):
    """The dictionary guesser's best reading of an unknown capitalised word that could be
    one name in a singular case, or None.

    A name is one person, place or body: the guesser's plural readings (Бьюнсам read as a
    dative plural of "Бьюнс") and its indeclinable-abbreviation readings of a mixed-case word
    (Намом as an abbreviation) strip or keep endings on no evidence, so they are skipped;
    when nothing else is left the word stays as written."""
    if known_parses(word, lang):
        return parses(word, lang)[0]
    for p in parses(word, lang):
        g = p.tag.grammemes
        if "plur" in g and "Pltm" not in g:
            continue
        if ("Abbr" in g or "Fixd" in g) and not word.isupper():
            continue
        return p
    return None


def _inflect(parse, grams: set[str]) -> str | None:
    key = (parse, frozenset(grams))
    try:
        return _INFLECTED[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable parse (never seen from pymorphy3): no memo
        return _inflect_uncached(parse, grams)
    if len(_INFLECTED) >= _INFLECTED_MAX:
        _INFLECTED.clear()
    out = _INFLECTED[key] = _inflect_uncached(parse, grams)
    return out


def _inflect_uncached(parse, grams: set[str]) -> str | None:
    try:
        r = parse.inflect(grams)
    except Exception:  # pymorphy3 raises on some odd tag sets; the caller keeps the surface
        return None
    return r.word if r is not None else None


# Memo of pymorphy3 inflections (Parse.inflect rebuilds the word's paradigm, ~0.1 ms):
# (parse, grammemes) -> word; emptied when full, so bounded on any input.
_INFLECTED: dict = {}
_INFLECTED_MAX = 200_000


@functools.lru_cache(maxsize=200_000)
def slavic_word(word: str, lang: str, person: bool) -> str:
    """Base form of one Cyrillic word (nominative singular; gender kept for persons)."""
    if word.isupper() and len(word) > 1:
        return word  # abbreviations (США, ЄС, МЗС) are not inflected in the gold style
    p = best_parse(word, lang, PERSON if person else None)
    if p is None or "UNKN" in p.tag.grammemes or "LATN" in p.tag.grammemes:
        return word
    p_known = p.is_known  # a dictionary lookup: asked once per parse
    if not p_known and word[:1].isupper():
        p = _guess_singular(word, lang)
        if p is None:
            return word  # no certain singular inflection: keep the name as written (Ку Бьюнсам)
        p_known = p.is_known
    lemma = None
    if person and (PERSON & p.tag.grammemes):
        lemma = _inflect(p, {"nomn", "sing"}) or p.normal_form
    elif "Pltm" in p.tag.grammemes or "plur" in p.tag.grammemes and "Geox" in p.tag.grammemes:
        lemma = _inflect(p, {"nomn"}) or p.normal_form
    else:
        lemma = p.normal_form
    if not p_known and len(lemma) > len(word) + 1:
        return word  # the guesser invented a long ending (Орешник -> орешникнути): keep the word
    return restore_case(lemma, word)


# Romanian definite/genitive-dative endings on proper names, longest first.
# (ending, replacement, minimum stem length)
RO_RULES = [
    ("iei", "ia", 3),   # Rusiei -> Rusia, Japoniei -> Japonia
    ("eei", "eea", 3),  # Coreei -> Coreea
    ("ului", "", 3),    # Phenianului -> Phenian, Kievului -> Kiev
    ("elor", "ele", 3),  # Statelor (Unite) -> Statele: plural genitive of the definite form
    ("ilor", "ile", 3),  # Națiunilor (Unite) -> Națiunile
    ("cii", "ca", 3),   # Americii -> America, Africii -> Africa, Republicii -> Republica
    ("gii", "ga", 3),   # (same for g: Olgii -> Olga)
    ("ii", "ea", 4),    # Uniunii -> Uniunea: nouns in -e take -ea in the nominative
    ("ei", "a", 3),     # Ucrainei -> Ucraina, Europei -> Europa, Casei -> Casa
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


# Romanian words after which a name's words are a genitive modifier and stay as written
# (Statele Unite ale Americii, Curtea de Apel a Bucureștiului).
RO_GENITIVE_ARTICLES = {"al", "a", "ai", "ale", "lui"}


def romanian_span(words: list[str], fixed: list[bool]) -> list[str]:
    """Base forms of the words of a Romanian name (not a person's).

    The first word (the head noun) loses its case ending (Casei -> Casa); capitalised
    adjectives after a feminine head in the genitive-dative (-ei, -ii) agree with it in
    the nominative (Albe -> Albă, Europene -> Europeană); words after a genitive article
    (al, a, ai, ale, lui) or a preposition (de Nord) stay as written."""
    out = list(words)
    out[0] = english_word(words[0]) if fixed[0] else romanian_word(english_word(words[0]))
    low0 = words[0].lower()
    feminine_oblique = out[0] != words[0] and low0.endswith(("ei", "ii")) and not low0.endswith(("elor", "ilor"))
    for i in range(1, len(words)):
        w = words[i]
        if w.lower() in RO_GENITIVE_ARTICLES or not w[:1].isupper():
            break  # a genitive modifier or a prepositional phrase (de Nord) follows
        if feminine_oblique and len(w) > 3 and not w.isupper():
            low = w.lower()
            if low.endswith("ene"):
                out[i] = w[:-3] + "eană"  # Europene -> Europeană
            elif low.endswith("e"):
                out[i] = w[:-1] + "ă"  # Albe -> Albă, Mondiale -> Mondială
    return out


POSSESSIVE_RE = re.compile(r"(?:['’]s|(?<=s)['’])$")


def english_word(word: str) -> str:
    return POSSESSIVE_RE.sub("", word)


@functools.lru_cache(maxsize=200_000)
def lemma_word(word: str, lang: str, person: bool = False) -> str:
    """Base form of one word in a text of language `lang`."""
    word = fold_homoglyphs(word)
    ml = morph_lang(lang, word)
    if ml:
        return slavic_word(word, ml, person)
    if is_latin(word):
        w = english_word(word)
        if lang == "ro":
            w = romanian_word(w)
        return w
    return word


# Nominative candidates from a case ending, for names the dictionary lacks or misreads
# (Асии -> Асия, Рааба -> Рааб, Брекзита -> Брекзит). (ending, replacement)
NOMINATIVE_GUESSES = (
    ("ией", "ия"), ("иею", "ия"), ("ии", "ия"), ("ию", "ия"), ("ії", "ія"), ("ію", "ія"), ("ією", "ія"),
    ("ой", "а"), ("ою", "а"), ("ы", "а"), ("е", "а"), ("у", "а"), ("і", "а"), ("ю", "я"),
    ("ом", ""), ("ем", ""), ("ым", ""), ("им", ""), ("а", ""), ("у", ""), ("е", ""), ("і", ""),
    ("ові", ""), ("еві", ""), ("ою", ""), ("я", "ь"),
)


def attested(word: str, lemma: str, vocab) -> str:
    """Prefer a base form the article itself uses.

    When the analyser's base form never occurs as a word of the article (or is just the
    word itself), and another plausible nominative (from the case ending) does, take that
    one. `vocab` maps the article's words to counts; None disables the check."""
    if not vocab or len(word) < 3 or word.isupper() or not is_cyrillic(word):
        return lemma
    own = vocab.get(lemma, 0) - (vocab.get(word, 0) if lemma == word else 0)
    if own > 0:
        return lemma
    best, best_n = lemma, 0
    for c, check in _nominative_candidates(word, lemma):
        # The article's count first: a candidate it never uses (most of them) cannot win,
        # so the dictionary is asked only about the few it does use.
        n = 1 if c == word else vocab.get(c, 0)
        if n > best_n and (not check or _plausible_nominative(word, c)):
            best, best_n = c, n
    return best


@functools.lru_cache(maxsize=NAME_MEMO)
def _nominative_candidates(word: str, lemma: str) -> tuple[tuple[str, bool], ...]:
    """The other nominatives `attested` weighs for a word whose analyser base form is
    `lemma`, in order, each with whether the dictionary must still vouch for it
    (`_plausible_nominative`); -ия/-ія names need no check."""
    low = word.lower()
    # The word itself competes only as a feminine -ия/-ія name that the dictionary reads
    # as a masculine genitive (Асия -> "Асий").
    cands = [word] if low.endswith(("ия", "ія")) and word != lemma else []
    for end, rep in NOMINATIVE_GUESSES:
        if low.endswith(end) and len(low) - len(end) >= 2:
            cands.append(word[: len(word) - len(end)] + rep)
    return tuple((c, not c.lower().endswith(("ия", "ія"))) for c in cands if c != lemma)


@functools.lru_cache(maxsize=NAME_MEMO)
def _plausible_nominative(word: str, c: str) -> bool:
    """May `c` (not an -ия/-ія form) be the nominative of `word`? Not when the dictionary
    knows `word` itself (it then misreads only -ия names), nor when the dictionary reads
    `c` as another case of the same word (Пакистане -> "Пакистана", a genitive)."""
    ml = morph_lang("", word) or "ru"
    if any(p.is_known for p in parses(word, ml)):
        return False  # the dictionary knows the word: only the -ия names it misreads
    return not any("nomn" not in p.tag.grammemes for p in parses(c, ml)[:1] if p.is_known)


HYPHENS = ("-", "‐", "‑")


def lemma_span(words: list[str], seps: list[str], lang: str, etype: str, vocab=None) -> str:
    """Base form of a multi-word name; `seps[i]` is the text between words i and i+1.

    Persons: every word to its nominative. Other names: words up to the first noun go to
    the nominative (adjectives agree with it: Северной Кореи -> Северная Корея), later
    words (genitive modifiers: МЗС Британії) stay as written.
    """
    # Only the last part of a hyphenated compound declines (Даунинг-стрит, Санкт-Петербурга).
    fixed = tuple(sep.strip() in HYPHENS for sep in seps[: len(words) - 1]) + (False,)
    # The analyser's forms depend on the words alone (memoised); only the check against
    # the article's own words (`attested`) is made per article.
    plan = _span_plan(tuple(words), fixed, lang, etype == "PER")
    forms = [attested(w, form, vocab) if check else form for w, (form, check) in zip(words, plan)]
    return forms[0] + "".join(sep + form for sep, form in zip(seps, forms[1:]))


@functools.lru_cache(maxsize=NAME_MEMO)
def _span_plan(words: tuple[str, ...], fixed: tuple[bool, ...], lang: str, person: bool
               ) -> tuple[tuple[str, bool], ...]:
    """The analyser's base form of each word of a name, each with whether `attested` may
    still replace it by a form the article uses: (form, check) per word. `fixed[i]`: word i
    is a non-final part of a hyphenated compound (kept as written)."""
    n = len(words)
    check = [False] * n
    if person and n > 1:
        gender = _name_gender(words, lang)
        cases = _name_cases(words, lang, gender)
        out = [w if fixed[i] else _person_word(w, lang, gender, cases) for i, w in enumerate(words)]
        check = [not f for f in fixed]
    elif lang == "ro" and not person and n > 1 and not any(morph_lang(lang, w) for w in words):
        out = romanian_span(words, fixed)
    elif n == 1 or person or not any(morph_lang(lang, w) for w in words):
        out = [w if fixed[i] else lemma_word(w, lang, person) for i, w in enumerate(words)]
        check = [not f for f in fixed]
    else:
        out = list(words)
        head = None
        head_parse = None
        for i, w in enumerate(words):
            ml = morph_lang(lang, w)
            if fixed[i]:
                continue
            if not ml:
                head = i
                out[i] = lemma_word(w, lang)
                break
            if w.isupper() and len(w) > 1:
                head = i
                break
            if i + 1 < n and not fixed[i + 1] and morph_lang(lang, words[i + 1]) == ml \
                    and _agreeing_noun(words[i + 1], w, ml) is not None:
                continue  # an adjective agreeing with the noun after it (Білого дому)
            p = best_parse(w, ml)
            g = p.tag.grammemes if p else frozenset()
            # After an adjective, the noun reading that agrees with it (Білого дому is the
            # genitive of дім, not the accusative of дома; війни is not the verb війнути).
            agreeing = _agreeing_noun(w, words[i - 1], ml) if i > 0 else None
            if p is None or "NOUN" in g or "UNKN" in g or agreeing is not None:
                head = i
                if agreeing is not None:
                    p = head_parse = agreeing
                    g = p.tag.grammemes
                if p is not None and p.is_known and "plur" in g and "Pltm" not in g:
                    out[i] = restore_case(_inflect(p, {"nomn", "plur"}) or w, w)
                elif agreeing is not None:
                    out[i] = restore_case(p.normal_form, w)
                else:
                    out[i] = slavic_word(w, ml, False)
                    check[i] = True
                break
        if head is None:
            out = [w if fixed[i] else lemma_word(w, lang) for i, w in enumerate(words)]
        else:
            hp = best_parse(words[head], morph_lang(lang, words[head]) or "ru") if morph_lang(lang, words[head]) else None
            if head_parse is not None:
                hp = head_parse
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
                p = _adjective_parse(w, ml, hp) or best_parse(w, ml)
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
    # `attested` keeps the form whatever the article when the word is short, all capitals
    # or not Cyrillic, or when no other nominative is in view: such words skip it.
    return tuple((f, c and len(w) >= 3 and not w.isupper() and is_cyrillic(w)
                  and bool(_nominative_candidates(w, f))) for w, f, c in zip(words, out, check))


def _agreeing_noun(word: str, adj: str, ml: str):
    """The known noun reading of `word` that agrees in case, number and gender with a known
    adjective reading of the word before it (None when the word before is no adjective)."""
    adj_ps = [q for q in known_parses(adj, ml) if {"ADJF", "PRTF"} & q.tag.grammemes]
    if not adj_ps:
        return None
    for p in known_parses(word, ml):
        t = p.tag
        if "NOUN" not in t.grammemes:
            continue
        number = t.number or "sing"  # the uk dictionary leaves the singular unmarked
        for q in adj_ps:
            if q.tag.case == t.case and (q.tag.number or "sing") == number and (
                    number == "plur" or q.tag.gender is None or q.tag.gender == t.gender):
                return p
    return None


def _adjective_parse(word: str, ml: str, head):
    """The known adjective reading of `word` agreeing with the head noun's parse `head`
    (case first), else its first adjective reading, else None."""
    adj_ps = [q for q in known_parses(word, ml) if {"ADJF", "PRTF"} & q.tag.grammemes]
    if head is not None:
        for q in adj_ps:
            if q.tag.case == head.tag.case:
                return q
    return adj_ps[0] if adj_ps else None


GENDERS = ("masc", "femn")


def _name_gender(words: list[str], lang: str) -> str | None:
    """The gender that the unambiguous words of a person's name agree on (Имран -> masc)."""
    seen = set()
    for w in words:
        ml = morph_lang(lang, w)
        if not ml or (w.isupper() and len(w) > 1):
            continue
        gs = {g for p in parses(w, ml) if PERSON & p.tag.grammemes and known(p, ml)
              for g in GENDERS if g in p.tag.grammemes}
        if len(gs) == 1:
            seen |= gs
    return next(iter(seen)) if len(seen) == 1 else None


# Masculine case endings of foreign surnames the dictionary does not know, by the case of
# the (known) first name beside them: Сергея Скрипаля -> Скрипаль, Доминика Рааба -> Рааб.
MASC_ENDINGS = (
    ("gent", "я", "ь"), ("gent", "а", ""), ("accs", "я", "ь"), ("accs", "а", ""),
    ("datv", "ю", "ь"), ("datv", "у", ""), ("datv", "ові", ""), ("ablt", "ем", "ь"), ("ablt", "ом", ""),
)


def _name_cases(words: list[str], lang: str, gender: str | None) -> set[str]:
    """Cases that the known first names of a person agree on (Сергея -> gent, accs)."""
    out = None
    for w in words:
        ml = morph_lang(lang, w)
        if not ml:
            continue
        cs = {c for p in parses(w, ml) if known(p, ml) and "Name" in p.tag.grammemes
              and (gender is None or gender in p.tag.grammemes)
              for c in ("nomn", "gent", "datv", "accs", "ablt", "loct") if c in p.tag.grammemes}
        if cs:
            out = cs if out is None else out & cs
    return out or set()


def _person_word(word: str, lang: str, gender: str | None, cases: set[str] = frozenset()) -> str:
    """Base form of one word of a person's name, preferring readings of `gender`."""
    ml = morph_lang(lang, word)
    if not ml or gender is None or (word.isupper() and len(word) > 1):
        return lemma_word(word, lang, True)
    if gender == "masc" and cases and not known_parses(word, ml):
        low = word.lower()
        for case, end, rep in MASC_ENDINGS:
            if case in cases and low.endswith(end) and len(low) - len(end) >= 3:
                return word[: len(word) - len(end)] + rep
    for p in parses(word, ml):
        g = p.tag.grammemes
        if gender in g and (PERSON & g or "anim" in g or not known(p, ml)) and "NOUN" in g:
            f = _inflect(p, {"nomn", "sing"}) or p.normal_form
            if not known(p, ml) and len(f) > len(word) + 1:
                break
            return restore_case(f, word)
    return lemma_word(word, lang, True)


def _parse_of(p) -> str | None:
    """Gender of a noun's nominative form (for adjective agreement)."""
    for g in ("masc", "femn", "neut"):
        if g in p.tag.grammemes:
            return g
    return None
