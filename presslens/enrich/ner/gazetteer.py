"""The gazetteer: canonical entities and every name they go by.

In: data/gazetteer/entities.csv (format in data/gazetteer/README.md) and Babel's CLDR
territory names in en/ru/uk/ro. Out: `Gazetteer` with the entity catalog and an index from
the flat key (presslens.enrich.ner.link.flat) of each name's base form to its entity, plus
`scan()` that finds gazetteer names in a token list whatever their inflection or script.
Loaded once per process (`get()`).
"""
from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from presslens.enrich.ner import morph
from presslens.enrich.ner.link import flat, skeleton
from presslens.enrich.ner.text import Token, is_cyrillic

GAZETTEER_DIR = Path(__file__).resolve().parents[3] / "data" / "gazetteer"
LANGS = ("en", "ru", "uk", "ro")
# Longest name, in words, that scan() tries (Корейская Народно-Демократическая Республика).
MAX_NAME_WORDS = 7
# Only single-word names at least this long (in key letters) match on their own:
# shorter ones (US, UK, РФ) match only as written in capitals.
MIN_SINGLE_KEY = 3
MIN_SKELETON = 6
# Distinct capitalised word forms whose starting keys scan() remembers (a worker may see
# millions of word forms; ~150 bytes an entry, most of them an empty tuple: ~15 MB at most).
START_MEMO_MAX = 100_000
# Case endings tried when the analyser does not know a word (Ыном -> Ын, Кима -> Ким).
SLAVIC_ENDINGS = ("ами", "ями", "ому", "ему", "ом", "ем", "ой", "ей", "ою", "ею", "ым", "им",
                  "ам", "ям", "ах", "ях", "ов", "ев", "а", "я", "у", "ю", "е", "і", "и", "ы")
# Separators allowed inside one name: spaces and a hyphen (no line breaks, no punctuation).
SEP_RE = re.compile(r"[ \u00a0]{1,3}|[ \u00a0]?[-‐‑][ \u00a0]?")
from presslens.enrich.ner.text import TOKEN_RE as WORD_RE  # noqa: E402  same words as the text


@dataclass
class Entry:
    entity_id: str
    entity_type: str
    name: str
    names: list[dict] = field(default_factory=list)


@dataclass
class Gazetteer:
    entries: dict[str, Entry]
    index: dict[str, str]      # flat key -> entity_id
    words: dict[str, set[int]]  # flat key -> word counts of the names it comes from
    prefixes: set[str]         # every prefix of an index key (prunes scan)
    upper_only: dict[str, set[str]]  # short keys -> the abbreviations (US, РФ) they match only as written
    skeletons: dict[str, str] = field(default_factory=dict)  # link.skeleton of long names -> entity_id
    # (word, lang) -> the word's keys that start some name (scan's first step), memoised:
    # a pure function of the word and this index. Emptied when full (START_MEMO_MAX).
    start_keys: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)

    def lookup(self, *names: str) -> Entry | None:
        """Entity whose name has the same flat key as one of `names` (short abbreviations
        only as written: UNN is not UN)."""
        for n in names:
            k = flat(n)
            eid = self.index.get(k)
            if eid and (k not in self.upper_only or _letters(n) in self.upper_only[k]):
                return self.entries[eid]
        return None


@functools.lru_cache(maxsize=200_000)
def word_keys(word: str, lang: str) -> frozenset[str]:
    """Flat keys one word of text may stand for (base form, as written, ending stripped)."""
    out = {flat(word), flat(morph.lemma_word(word, lang)), flat(morph.lemma_word(word, lang, True))}
    if is_cyrillic(word) and word[:1].isupper() and not word.isupper():
        low = word.lower()
        for e in SLAVIC_ENDINGS:
            if low.endswith(e) and len(low) - len(e) >= 2:
                out.add(flat(word[: len(word) - len(e)]))
    cap = word.capitalize()
    if word.isupper() and len(word) > 3 and cap != word and not cap.isupper():
        # Shouted words (ПХЕНЬЯНЕ) are analysed as ordinary capitalised words too; short
        # all-caps words stay abbreviations (США, РФ).
        out |= word_keys(cap, lang)
    out.discard("")
    return frozenset(out)


def _name_variants(name: str, lang: str) -> set[str]:
    words = _words(name)
    if not words:
        return set()
    seps = [" "] * (len(words) - 1)
    v = {flat(name), flat(morph.lemma_span(words, seps, lang, "PER")),
         flat(morph.lemma_span(words, seps, lang, "LOC"))}
    v.discard("")
    return v


def _words(name: str) -> list[str]:
    return WORD_RE.findall(name)


def _letters(s: str) -> str:
    return "".join(c for c in s if c.isalnum())


def _clean_cldr(name: str) -> str:
    return re.sub(r"\s*\(.*?\)", "", name).strip()


def _read_entries() -> tuple[dict[str, Entry], list[tuple[str, str, str]]]:
    """The known entities by id and their names as (entity_id, lang, name) rows (curated table
    first, then CLDR country names): what `get` indexes, without the morphology."""
    known: dict[str, Entry] = {}
    rows: list[tuple[str, str, str]] = []  # (entity_id, lang, name)
    path = GAZETTEER_DIR / "entities.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh), 2):
            eid, etype, name = (row.get("entity_id") or "").strip(), (row.get("type") or "").strip(), (row.get("name") or "").strip()
            if not eid or etype not in {"PER", "LOC", "ORG", "PRO", "EVT", "MISC"} or not name:
                raise ValueError(f"{path}:{i}: needs entity_id, a type in PER/LOC/ORG/PRO/EVT/MISC and a name")
            e = known.setdefault(eid, Entry(eid, etype, name))
            for lang in LANGS:
                for n in (row.get(lang) or "").split("|"):
                    n = n.strip()
                    if n:
                        rows.append((eid, lang, n))
                        if {"language": lang, "name": n} not in e.names:
                            e.names.append({"language": lang, "name": n})
    try:
        from babel import Locale

        terr = {lang: Locale.parse(lang).territories for lang in LANGS}
        for code, en_name in terr["en"].items():
            if not (len(code) == 2 and code.isalpha()) or code in {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}:
                continue
            eid = f"LOC:{code}"
            e = known.setdefault(eid, Entry(eid, "LOC", _clean_cldr(en_name)))
            for lang in LANGS:
                n = _clean_cldr(terr[lang].get(code, ""))
                if n:
                    rows.append((eid, lang, n))
                    if {"language": lang, "name": n} not in e.names:
                        e.names.append({"language": lang, "name": n})
    except ImportError:  # babel missing: the curated table alone still works
        pass
    return known, rows


@functools.lru_cache(maxsize=1)
def entries() -> tuple[dict[str, Entry], list[tuple[str, str, str]]]:
    """`_read_entries`, read once: the build's entity catalog needs only this, and the name
    index of `get` loads pymorphy3 (~1.5 s CPU in the build process, for nothing)."""
    return _read_entries()


@functools.lru_cache(maxsize=1)
def get() -> Gazetteer:
    entries_by_id, rows = _read_entries()  # read here too: get.cache_clear() reloads the table
    index: dict[str, str] = {}
    nwords: dict[str, set[int]] = {}
    upper_only: dict[str, set[str]] = {}
    for eid, lang, n in rows:
        for k in _name_variants(n, lang):
            index.setdefault(k, eid)  # curated rows come first and win
            nwords.setdefault(k, set()).add(len(_words(n)))
            if len(k) < MIN_SINGLE_KEY or (n.isupper() and len(k) <= 3):
                upper_only.setdefault(k, set()).add(_letters(n))
    prefixes = {k[:i] for k in index for i in range(1, len(k) + 1)}
    # Coarser keys for names spelled a little differently (Зеленского/Зеленський, Эрдоган/
    # Ердоган): only names whose skeleton has at least MIN_SKELETON letters, and only
    # skeletons that point at a single entity.
    skel: dict[str, set[str]] = {}
    for eid, lang, n in rows:
        k = skeleton(n)
        if len(k.replace(" ", "")) >= MIN_SKELETON:
            skel.setdefault(k, set()).add(eid)
    skeletons = {k: next(iter(v)) for k, v in skel.items() if len(v) == 1}
    return Gazetteer(entries_by_id, index, nwords, prefixes, upper_only, skeletons)


def scan(text: str, toks: list[Token], lang: str, shouting: bool = False) -> list[tuple[int, int, str]]:
    """Gazetteer names in the text: (first token index, last token index + 1, entity_id).

    Longest match wins at each position; a match must start with a capitalised word
    (any word in shouting text) and run over words separated by a space or a hyphen.
    """
    g = get()
    prefixes, index, nwords, upper_only = g.prefixes, g.index, g.words, g.upper_only
    memo = g.start_keys
    out = []
    n = len(toks)
    # Only a capitalised word (any word in shouting text) can open a match: the others are
    # passed over in one comprehension rather than one loop step each.
    opens = range(n) if shouting else [k for k, t in enumerate(toks) if t.text[:1].isupper()]
    nxt_i = 0  # first token after the last match
    for i in opens:
        if i < nxt_i:
            continue
        w = toks[i].text
        frontier = memo.get((w, lang))
        if frontier is None:
            if len(memo) >= START_MEMO_MAX:
                memo.clear()
            # A tuple in the set's own order (scan iterates the keys in the same order as
            # before the memo; an empty tuple is shared, an empty set is 216 bytes).
            frontier = memo[(w, lang)] = tuple({k for k in word_keys(w, lang) if k in prefixes})
        if not frontier:
            continue  # no name starts with this word: the common case
        best = None
        j = i
        while frontier and j < n and j - i < MAX_NAME_WORDS:
            found = None
            for k in frontier:
                eid = index.get(k)
                # Same number of words as the name: a key must not borrow a letter from
                # the next word (Нидерландах и -> "niderland"+"i").
                if eid and j + 1 - i in nwords[k] and (k not in upper_only
                            or "".join(x.text for x in toks[i : j + 1]) in upper_only[k]):
                    # two keys of one span naming different entities: the smallest id, not
                    # the last key in set order (which follows the process's hash seed)
                    found = eid if found is None or eid < found else found
            if found is not None:
                best = (i, j + 1, found)
            if j + 1 >= n or not SEP_RE.fullmatch(text[toks[j].end : toks[j + 1].start]):
                break
            nxt = word_keys(toks[j + 1].text, lang)
            frontier = {a + b for a in frontier for b in nxt if a + b in prefixes}
            j += 1
        if best:
            out.append(best)
            nxt_i = best[1]
    return out
