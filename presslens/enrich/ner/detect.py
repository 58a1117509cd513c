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
  In ru/uk a capitalised adjective takes the lower-case adjectives and noun that agree with
  it (Головного політичного бюро), and a name headed by a body noun takes its lower-case
  genitive words (Міністерство з питань об'єднання); compounds of an abbreviation and a
  common noun (VIP-літак) are dropped; a model designation ends a name (Іл-62М | ВПС).
- types from the words themselves (head_type, quoted_names, designation_type): head nouns,
  descriptor nouns before quoted names, numbers after a hyphen.
"""
from __future__ import annotations

import bisect
import functools
import operator
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
            from presslens.enrich import lexicon

            return lexicon.is_known(low, lang)
        except Exception:
            return False
    return False


def has_proper_reading(word: str, lang: str) -> bool:
    """Does the dictionary know the word as a name (Name, Surn, Geox...) in any reading?"""
    ml = morph.morph_lang(lang, word)
    return bool(ml) and bool(morph.PROPER & morph.word_info(word, ml)[1])


def inanimate_name(words: list[str], lang: str) -> bool:
    """Every word known to the dictionary, none with an animate or person-name reading
    (Дубліні, Північної Ірландії, Вестмінстер): such a name is not a person. The uk
    dictionary knows many places without a Geox tag, so this is how a place shows there."""
    for w in words:
        ml = morph.morph_lang(lang, w)
        if not ml or w.isupper():
            return False
        known, gram = morph.word_info(w, ml)
        if not known or "anim" in gram or morph.PERSON & gram:
            return False
    return True


# A year after a hyphen makes an event of the name (ЧМ-2018, Євро-2024, Олімпіада-2024);
# other numbers make a model designation, a product (Іл-62М, Boeing-737-800, Су-57).
YEAR_RE = re.compile(r"(19|20)\d\d")


def designation_type(words: list[str], seps: list[str]) -> str | None:
    """EVT or PRO for a hyphenated name whose later part is a number, else None."""
    for k in range(1, len(words)):
        if seps[k - 1] in ("-", "‐", "‑") and words[k][:1].isdigit() and words[0][:1].isalpha():
            return "EVT" if YEAR_RE.fullmatch(words[k]) else "PRO"
    return None


VERB_TAGS = {"VERB", "INFN", "GRND", "PRTS"}


def verb_only(word: str, lang: str) -> bool:
    """Every dictionary reading of the word is a verb form (Нагадаємо, Роздрукувати,
    Зазначається): capitalised where a sentence mark was lost, never a name."""
    ml = morph.morph_lang(lang, word)
    if not ml or word.isupper():
        return False
    ps = morph.known_parses(word.lower(), ml)
    return bool(ps) and all(VERB_TAGS & p.tag.grammemes for p in ps)


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
    if a is None or not nps or not morph.known(a, ml) or "ADJF" not in a.tag.grammemes:
        return False
    np_ = nps[0]
    if not morph.known(np_, ml):
        return False
    if "NOUN" not in np_.tag.grammemes:
        # Another reading may be the noun that agrees (війни: an imperative, and the
        # genitive of війна after Корейської); a word most likely an adjective is none.
        if {"ADJF", "PRTF"} & np_.tag.grammemes:
            return False
        return morph._agreeing_noun(noun, adj, ml) is not None
    cases = {"nomn", "gent", "datv", "accs", "ablt", "loct"}
    if cases & a.tag.grammemes & np_.tag.grammemes or morph._agreeing_noun(noun, adj, ml) is not None:
        return True
    # An indeclinable noun (бюро, кафе) has every case; its first reading shows only one.
    return "Fixd" in np_.tag.grammemes and bool(cases & a.tag.grammemes)


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
    tailed = set()  # starts of sequences extended by a genitive tail (Міністерство оборони)
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
        if lang in ("ru", "uk"):
            # Верховный суд, Консервативної партії, Головного політичного бюро: only the
            # first word is capitalised.
            j = _adjective_phrase(text, toks, j, lang)
            t = _genitive_tail(text, toks, i, j, lang)
            if t > j:
                tailed.add(i)
                j = t
        seqs.append((i, j))
        i = j
    out = []
    for i, j in seqs:
        # Drop an ordinary word that is capitalised only because it opens a sentence.
        while i < j and (
            toks[i].text.lower() in not_names
            or (sentence_start(text, toks[i].start) and toks[i].text not in mid_caps
                and common_word(toks[i].text, lang) and i not in tailed)
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
        if lang in ("ru", "uk") and i not in tailed and toks[j - 1].text[:1].isupper():
            # The head may only now end the sequence (Засідання Кабінету міністрів).
            j = _genitive_tail(text, toks, i, j, lang)
        for a, b in _cut_common_compounds(text, toks, i, j, lang):
            # Split a place/common word followed by a given name (Росії Сергій Шойгу).
            start = a
            for k in range(a + 1, b):
                space = text[toks[k - 1].end : toks[k].start].strip() == ""
                if space and (
                    # a model designation ends its name (Іл-62М ВПС Росії -> Іл-62М | ВПС Росії)
                    toks[k - 1].text[:1].isdigit()
                    or (is_cyrillic(toks[k].text) and _person_start(toks[k].text, lang)
                     and not _personish(toks[k - 1].text, lang))
                    # a change of script starts a new name (Ryanair Майкл О'Лірі)
                    or (is_cyrillic(toks[k].text) and is_latin(toks[k - 1].text))
                    or (is_latin(toks[k].text) and is_cyrillic(toks[k - 1].text))
                ):
                    out.append((start, k))
                    start = k
            out.append((start, b))
    return out


def _cut_common_compounds(text: str, toks: list[Token], i: int, j: int, lang: str) -> list[tuple[int, int]]:
    """Token ranges of [i, j) without compounds of an abbreviation and a lower-case common
    noun (VIP-літак, IT-компанія, SMS-рассылка): such a compound is an ordinary noun, not
    a name. Ranges left that do not open with a name word are dropped."""
    out = []
    a = i
    for k in range(i + 1, j):
        w, prev = toks[k].text, toks[k - 1].text
        if text[toks[k - 1].end : toks[k].start] in ("-", "‐", "‑") and w[:1].islower() and is_cyrillic(w) \
                and (is_latin(prev) or is_upper_word(prev)) and k - 1 >= a:
            ml = morph.morph_lang(lang, w)
            if ml and any("NOUN" in p.tag.grammemes and not (morph.PROPER & p.tag.grammemes)
                          for p in morph.known_parses(w, ml)):
                out.append((a, k - 1))
                a = k + 1
    out.append((a, j))
    res = []
    for a, b in out:
        while a < b and not name_like(toks[a].text, lang):
            a += 1
        if a < b:
            res.append((a, b))
    return res


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


# --- Types from head nouns and descriptors -------------------------------------------------
# Base forms of common nouns that make the name they head an organisation or an event
# (Міністерство оборони, Рада національної безпеки, Головне політичне бюро; Корейська
# війна, Олімпійські ігри). Only the first noun of a name is its head in ru/uk/ro
# (adjectives before it agree with it, words after it are genitive modifiers); in English
# the last word before "of" is. Generic nouns that also head places or products (союз:
# Советский Союз; федерация: Российская Федерация; дом) are left out on purpose.
ORG_HEADS = {
    "ru": set("""министерство ведомство совет служба агентство бюро армия комитет комиссия партия
        правительство компания авиакомпания корпорация банк фонд организация ассоциация институт
        университет академия суд парламент палата управление департамент штаб администрация
        прокуратура полиция гвардия флот войско сила группа холдинг концерн трибунал канцелярия
        секретариат кабинет движение фракция коалиция альянс лига клуб сборная дума сенат конгресс
        собрание инспекция госдепартамент минобороны центр""".split()),
    "uk": set("""міністерство відомство рада служба агентство бюро армія комітет комісія партія уряд
        компанія авіакомпанія корпорація банк фонд організація асоціація інститут університет
        академія суд парламент палата управління департамент штаб адміністрація прокуратура
        поліція гвардія флот військо сила група холдинг концерн трибунал канцелярія секретаріат
        кабінет рух фракція коаліція альянс ліга клуб збірна дума сенат конгрес збори інспекція
        держдепартамент центр""".split()),
    "en": set("""ministry department council agency service bureau army committee commission party
        government company airline corporation bank fund organization organisation association
        institute university academy court parliament assembly office forces navy command
        group senate congress""".split()),
    "ro": set("""minister consiliu agenți serviciu birou armat comitet comisi partid guvern compani
        corporați banc bănc fond organizați asociați institut universit academi curt parlament senat
        congres""".split()),
}
EVT_HEADS = {
    "ru": set("""война саммит референдум выборы олимпиада игра чемпионат кубок конференция форум
        фестиваль революция восстание переворот кризис выставка конкурс турнир операция учение
        маневры битва сражение блокада""".split()),
    "uk": set("""війна саміт референдум вибори олімпіада гра чемпіонат кубок конференція форум
        фестиваль революція повстання переворот криза виставка конкурс турнір операція навчання
        маневри битва блокада""".split()),
    "en": set("""war summit referendum election elections olympics games championship cup conference
        forum festival revolution uprising crisis""".split()),
    "ro": set("""războ summit referendum alegeri olimpiad jocuri campionat cupa cupei conferinț forum
        festival revoluți criz""".split()),
}
# Places named by a common head noun (Таллиннский аэропорт, Піренейський півострів,
# Красная площадь). Administrative units that also name bodies (область, штат) are left out.
LOC_HEADS = {
    "ru": set("""аэропорт вокзал площадь улица проспект остров полуостров море океан река озеро гора
        залив пролив провинция графство""".split()),
    "uk": set("""аеропорт вокзал площа вулиця проспект острів півострів море океан річка озеро гора
        затока протока провінція графство""".split()),
    "en": set("""airport station square street avenue island peninsula sea ocean river lake mountains
        bay strait province county""".split()),
    "ro": set("""aeroport gar piaț strad bulevard insul peninsul mare marea ocean râu lac munț munt
        golf strâmtoar provinci""".split()),
}
# Romanian heads carry their article and case endings (Ministerul, Războiului, Comisiei):
# matched by stem prefix, so the lists above hold stems.
RO_STEM_MIN = 4


def _noun_lemmas(word: str, lang: str) -> tuple[bool, set[str]]:
    """(is the word's likeliest reading a noun, base forms of its known noun readings)."""
    ml = morph.morph_lang(lang, word)
    if not ml:
        return False, set()
    ps = morph.parses(word.lower(), ml)
    if not ps:
        return False, set()
    nouns = {p.normal_form.replace("ё", "е") for p in morph.known_parses(word.lower(), ml)
             if "NOUN" in p.tag.grammemes and not (morph.PROPER & p.tag.grammemes)}
    return "NOUN" in ps[0].tag.grammemes, nouns


def head_index(words: list[str], lang: str) -> int | None:
    """Index of the head noun of a Slavic name: the first word read as a noun (adjectives
    and participles before it are skipped); None when no word is a common noun."""
    for i, w in enumerate(words):
        ml = morph.morph_lang(lang, w)
        if not ml or (w.isupper() and len(w) > 1):
            return None
        p = morph.best_parse(w.lower(), ml)
        if p is None:
            return None
        g = p.tag.grammemes
        if "ADJF" in g or "PRTF" in g or "NUMR" in g:
            continue
        return i
    return None


def head_type(words: list[str], lang: str) -> str | None:
    """ORG, EVT or LOC when the name's head noun says so (Міністерство оборони -> ORG,
    Корейській війні -> EVT, Таллиннского аэропорта -> LOC, Ministry of Defence -> ORG,
    Războiului din Coreea -> EVT), else None."""
    return _head_type(tuple(words), lang)


# Memo of head_type per (words, language): a pure function of both (the dictionary and the
# head lists are fixed); names repeat within and across articles. ~400 bytes an entry.
@functools.lru_cache(maxsize=50_000)
def _head_type(words: tuple[str, ...], lang: str) -> str | None:
    if not words:
        return None
    if lang in ("ru", "uk") or any(is_cyrillic(w) for w in words):
        sl = lang if lang in ("ru", "uk") else ("uk" if any(c in "іїєґІЇЄҐ" for w in words for c in w) else "ru")
        h = head_index(words, lang)
        if h is None:
            return None
        _, lemmas = _noun_lemmas(words[h], lang)
        if lemmas & ORG_HEADS[sl]:
            return "ORG"
        if lemmas & EVT_HEADS[sl]:
            return "EVT"
        if lemmas & LOC_HEADS[sl]:
            return "LOC"
        return None
    low = [w.lower() for w in words]
    if lang == "en":
        k = low.index("of") - 1 if "of" in low[1:] else len(low) - 1
        w = english_word_base(low[k])
        if w in ORG_HEADS["en"]:
            return "ORG"
        if w in EVT_HEADS["en"] or low[k] in EVT_HEADS["en"]:
            return "EVT"
        if w in LOC_HEADS["en"] or w.rstrip("s") in LOC_HEADS["en"]:
            return "LOC"
        return None
    if lang == "ro":
        w = low[0]
        for stems, ty in ((ORG_HEADS["ro"], "ORG"), (EVT_HEADS["ro"], "EVT"), (LOC_HEADS["ro"], "LOC")):
            if any(w.startswith(s) and len(s) >= RO_STEM_MIN or w == s for s in stems):
                return ty
    return None


def english_word_base(w: str) -> str:
    """Singular of a plural English head noun (Forces stays: listed as written)."""
    w = morph.english_word(w)
    return w[:-1] if w.endswith("s") and not w.endswith("ss") and w[:-1] in ORG_HEADS["en"] else w


# Longest lower-case tail after an organisation or event head (a ministry's "по делам ... и
# ..." tail runs to about 7 words); longer runs are running text.
MAX_TAIL = 7
CONJ_IN_NAME = {"і", "й", "та", "и"}
# Prepositions that open a naming phrase inside an official name (Міністерство з питань
# об'єднання, министерство по делам регионов, Комитет по международным делам). "по" takes
# any noun; the others only a plural noun (з питань, у справах), which a time or place
# phrase after a name (у понеділок, в Лондоне) is not.
NAME_PREPS = {"по"}
NAME_PREPS_PLURAL = {"з", "із", "зі", "у", "в", "при", "с", "для"}


# Nouns of time: a genitive of time follows a name in running text (Верховний суд минулого
# тижня, Совет директоров прошлого года) but never belongs to it.
TIME_NOUNS = set("""рік року тиждень місяць день доба ранок вечір ніч година хвилина століття
    сторіччя період сезон квартал понеділок вівторок середа четвер п'ятниця субота неділя весна
    літо осінь зима год неделя месяц сутки утро вечер ночь час минута век столетие период сезон
    квартал понедельник вторник среда четверг пятница суббота воскресенье весна лето осень
    зима""".split())


def _reading(word: str, lang: str):
    """(known lower-case word, its parses) in the Slavic dictionary of `lang`."""
    ml = morph.morph_lang(lang, word)
    if not ml or not word[:1].islower():
        return ()
    return morph.known_parses(word, ml)


def _adjective_phrase(text: str, toks: list[Token], j: int, lang: str) -> int:
    """Extend a capitalised adjective at toks[j-1] over lower-case adjectives and the noun
    they agree with (Головного політичного бюро, Верховный суд): new end index."""
    n = len(toks)
    if j >= n or text[toks[j - 1].end : toks[j].start] != " ":
        return j
    k = j
    while k < n and k - j < 3 and text[toks[k - 1].end : toks[k].start] == " ":
        if _adjective_noun(toks[j - 1].text, toks[k].text, lang) and all(
                _agrees(toks[x].text, toks[k].text, lang) for x in range(j, k)):
            if k == j:
                return k + 1
            # With lower-case adjectives between, the phrase is a name only when its head
            # noun names a body or event, and the capitalised word is no superlative
            # (Головного політичного бюро, not Крупнейшая бюджетная авиакомпания).
            if head_type([toks[x].text for x in range(j - 1, k + 1)], lang) and not any(
                    "Supr" in p.tag.grammemes for p in morph.parses(toks[j - 1].text.lower(),
                                                                    morph.morph_lang(lang, toks[j - 1].text))):
                return k + 1
            return j
        if not any("ADJF" in p.tag.grammemes for p in _reading(toks[k].text, lang)):
            break
        k += 1
    return j


def _agrees(adj: str, noun: str, lang: str) -> bool:
    """A lower-case adjective in a case (and number) that the noun also has."""
    cases = {"nomn", "gent", "datv", "accs", "ablt", "loct"}
    a = {c for p in _reading(adj, lang) if "ADJF" in p.tag.grammemes for c in p.tag.grammemes & cases}
    b = {c for p in _reading(noun, lang) if "NOUN" in p.tag.grammemes for c in p.tag.grammemes & cases}
    return bool(a & b)


def _genitive_tail(text: str, toks: list[Token], i: int, j: int, lang: str) -> int:
    """After a name headed by an organisation or event noun, the lower-case genitive words
    that belong to it (Міністерство оборони, Ради національної безпеки, Міністерство з
    питань об'єднання, Кабінету міністрів): the new end index, ending on a noun."""
    words = [t.text for t in toks[i:j]]
    if head_type(words, lang) is None:
        return j
    h = head_index(words, lang)
    if h is None or h != len(words) - 1:
        return j  # the head must end the capitalised part: a tail modifies the head itself
    n = len(toks)
    end = j
    k = j
    while k < n and k - j < MAX_TAIL and text[toks[k - 1].end : toks[k].start] == " ":
        w = toks[k].text
        ps = _reading(w, lang)
        if not ps:
            break
        if text[toks[k].end : toks[k].end + 1] in ("-", "‐", "‑"):
            break  # the first part of a compound (премьер-министра) is not a word of its own
        if {p.normal_form for p in ps} & TIME_NOUNS:
            break  # a time phrase after the name (минулого тижня, прошлого года)
        g = set().union(*(p.tag.grammemes for p in ps))
        if w in CONJ_IN_NAME:
            # "і"/"и" joins two modifiers of a body's name (економічного розвитку і
            # торгівлі), never the head itself to something else (Олимпийских игр и спорта).
            if k == j or head_type(words, lang) != "ORG" or k + 1 >= n or not _reading(toks[k + 1].text, lang):
                break
            k += 1
            continue
        if w in NAME_PREPS or w in NAME_PREPS_PLURAL:
            # A naming phrase is followed by a genitive of what it is about (з питань
            # об'єднання, по делам регионов); idioms (по сути, в связи с) are not.
            after = _reading(toks[k + 2].text, lang) if k + 2 < n else ()
            if not _reading(toks[k + 1].text, lang) or not after or not {"NOUN", "ADJF"} & after[0].tag.grammemes \
                    or not any("gent" in p.tag.grammemes and "Abbr" not in p.tag.grammemes for p in after):
                break
            if w in NAME_PREPS_PLURAL and not any(
                    "NOUN" in p.tag.grammemes and "plur" in p.tag.grammemes for p in _reading(toks[k + 1].text, lang)):
                break
            k += 1
            continue
        if "gent" in g and ("NOUN" in g or "ADJF" in g) or (
                k > j and toks[k - 1].text in NAME_PREPS | NAME_PREPS_PLURAL and "NOUN" in g):
            adjective = k + 1 < n and morph._agreeing_noun(toks[k + 1].text, w, morph.morph_lang(lang, w)) is not None
            if "NOUN" in ps[0].tag.grammemes and not adjective:
                end = k + 1  # the tail ends on a noun (not on минулого in минулого тижня)
            k += 1
            continue
        break
    return end


# Generic nouns that announce a quoted name and say what it names: група "Вагнер" (ORG),
# ракету "Орешник" (PRO), навчань "Щит свободи Ульчі" (EVT), аэропорта "Борисполь" (LOC).
# Base forms, ru and uk together (the spellings do not collide). Media nouns (газета,
# телеканал) are left out: outlets are organisations to an analyst but products in the
# BSNLP guidelines, so no descriptor decides for them.
DESCRIPTORS = {
    "ORG": set("""компания авиакомпания группа группировка партия организация агентство банк фонд
        холдинг концерн корпорация клуб движение объединение фирма издательство ассоциация
        компанія авіакомпанія група угруповання партія організація агентство фонд корпорація
        рух об'єднання фірма видавництво асоціація команда""".split()),
    "PRO": set("""ракета комплекс самолет истребитель беспилотник дрон танк корабль крейсер
        приложение мессенджер препарат вещество ракета літак винищувач безпілотник корабель
        застосунок месенджер речовина""".split()),
    "EVT": set("""операция учение маневры акция кампания конкурс фестиваль турнир конференция форум
        операція навчання маневри акція кампанія турнір конференція""".split()),
    "LOC": set("""аэропорт вокзал станция стадион площадь улица проспект аеропорт станція стадіон
        площа вулиця""".split()),
}
QUOTED_RE = re.compile(r"«([^«»\n]{1,80})»|“([^“”\n]{1,80})”|„([^„“”\n]{1,80})[“”]|\"([^\"\n]{1,80})\"")
# A quoted name is short; a longer quotation is speech, not a name.
MAX_QUOTED_WORDS = 6


@functools.lru_cache(maxsize=20_000)  # lower-case nouns before a quotation: few
def _descriptor_type(word: str, lang: str) -> str | None:
    ml = morph.morph_lang(lang, word)
    if not ml or not word[:1].islower():
        return None
    lemmas = {p.normal_form.replace("ё", "е") for p in morph.known_parses(word, ml)
              if "NOUN" in p.tag.grammemes}
    for ty, nouns in DESCRIPTORS.items():
        if lemmas & nouns:
            return ty
    return None


_START = operator.attrgetter("start")


def quoted_names(text: str, toks: list[Token], lang: str) -> list[tuple[int, int, str]]:
    """Quoted names right after a descriptor noun: (start, end, type) of the quoted words
    (групі “Вагнер” -> Вагнер ORG). ru/uk only (Slavic news quotes such names)."""
    if lang not in ("ru", "uk"):
        return []
    out = []
    if not toks:
        return []
    for m in QUOTED_RE.finditer(text, 0, min(len(text), toks[-1].end + 1)):
        g = m.lastindex  # the one alternative's group that matched
        a, b = m.start(g), m.end(g)
        i = bisect.bisect_left(toks, a, key=_START)
        j = i
        while j < len(toks) and toks[j].end <= b:
            j += 1
        if i >= j or j - i > MAX_QUOTED_WORDS or i == 0 or not name_like(toks[i].text, lang):
            continue
        if text[toks[i - 1].end : m.start()].strip() != "":
            continue  # the descriptor must stand right before the opening quote
        ty = _descriptor_type(toks[i - 1].text, lang)
        if ty:
            out.append((toks[i].start, toks[j - 1].end, ty))
    return out
