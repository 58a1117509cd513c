"""Tokens and simple text facts, with hard bounds for untrusted input.

In: an article text (any Unicode). Out: Token tuples (start, end, text) over the first
MAX_ANALYSED_CHARS characters, whether a token opens a sentence, whether a text is
"shouting" (mostly upper case). Pure regex; no models.
"""
from __future__ import annotations

import re
from typing import NamedTuple

# Only this many characters of an article are analysed (a news article is 2-20k chars;
# 100k keeps the per-article cost bounded at well under a second for any input).
MAX_ANALYSED_CHARS = 100_000
# Words longer than this are not names (a run of letters without spaces, a hash, a URL
# fragment); skipping them bounds per-token work in the morphological analyser.
MAX_TOKEN_CHARS = 40
# Analysis stops after this many capitalised words: each may need a dictionary guess
# (~1-2 ms for an unknown word in pymorphy3), so this caps the per-article cost at a few
# seconds for adversarial input; a long news article has a few hundred.
MAX_CAPITALISED = 1500

# A word: letters/digits, with inner apostrophes (О'Лірі, об'єкти). Hyphens are joiners
# between tokens (Kim Jong-un, Інтерфакс-Україна), handled by the callers.
TOKEN_RE = re.compile(r"[^\W_]+(?:['’ʼ][^\W_]+)*")
# A colon counts: headlines and quotes start a new clause after it (Асія Бібі: Чоловік ...).
SENTENCE_END = set(".!?…\n:")
# Characters skipped when looking back for a sentence end (quotes, brackets, dashes).
OPENERS = set("\"'«»„“”‘’()[]{}-—–•*·;| \t\r\u00a0\u200b\u200c\u200d\ufeff")


class Token(NamedTuple):
    start: int
    end: int
    text: str


def tokens(text: str, limit: int = MAX_ANALYSED_CHARS) -> list[Token]:
    """Word tokens of text[:limit], longest words (> MAX_TOKEN_CHARS) left out, ending
    after the MAX_CAPITALISED-th capitalised word."""
    out = []
    caps = 0
    new = tuple.__new__  # Token(...) without the Python-level __new__ of a NamedTuple (~15% of the time)
    for m in TOKEN_RE.finditer(text, 0, min(len(text), limit)):
        start, end = m.span()
        if end - start <= MAX_TOKEN_CHARS:
            w = m.group()
            if w[0].isupper():
                caps += 1
                if caps > MAX_CAPITALISED:
                    break
            out.append(new(Token, (start, end, w)))
    return out


def sentence_start(text: str, pos: int) -> bool:
    """True if the word at `pos` opens a sentence, line or quoted phrase."""
    i = pos - 1
    steps = 0
    while i >= 0 and steps < 20:
        c = text[i]
        if c in SENTENCE_END:
            return True
        if c in "«„“\"":
            return True
        if c not in OPENERS:
            return False
        i -= 1
        steps += 1
    return i < 0


_GAP_STARTS: dict[str, bool] = {}
# Distinct separators remembered by gap_opens_sentence (a text has a few dozen).
_GAP_MEMO_MAX = 50_000


def gap_opens_sentence(gap: str) -> bool:
    """sentence_start(text, pos) for a word at `pos` that follows another word with `gap`
    between them: the look-back stops inside the gap or at the earlier word's last letter
    (not an opener), so the answer depends on the gap alone and is remembered per gap."""
    hit = _GAP_STARTS.get(gap)
    if hit is None:
        if len(_GAP_STARTS) >= _GAP_MEMO_MAX:
            _GAP_STARTS.clear()
        hit = _GAP_STARTS[gap] = sentence_start("x" + gap, len(gap) + 1)
    return hit


def is_cap(word: str) -> bool:
    return word[:1].isupper()


def is_upper_word(word: str) -> bool:
    """An abbreviation-like all-caps word of two or more letters (США, NATO, ЄС)."""
    return len(word) >= 2 and word.isupper()


def shouting(text: str) -> bool:
    """Mostly upper-case text: capitalisation carries no signal there."""
    sample = text[:MAX_ANALYSED_CHARS]
    letters = sum(map(str.isalpha, sample))  # counted in C, not a Python loop per character
    if letters < 40:
        return False
    upper = sum(map(str.isupper, sample))
    return upper / letters > 0.6


_CYRILLIC_CHAR = re.compile("[\u0400-\u04ff]")


def is_cyrillic(word: str) -> bool:
    return _CYRILLIC_CHAR.search(word) is not None


def is_latin(word: str) -> bool:
    return any(("a" <= c.lower() <= "z") or ("\u00c0" <= c <= "\u024f") for c in word) and not is_cyrillic(word)


# Latin letters that look like Cyrillic ones (and back): a word typed with a mix of both
# (Pутин with a Latin P) is read in its majority script.
_LAT2CYR = str.maketrans("AaBCcEeHKkMOoPpTXxYy", "АаВСсЕеНКкМОоРрТХхУу")
_CYR2LAT = str.maketrans("АаВСсЕеНКкМОоРрТХхУу", "AaBCcEeHKkMOoPpTXxYy")


def fold_homoglyphs(word: str) -> str:
    """A mixed-script word in its majority script (Pутин -> Путин); other words unchanged."""
    cyr = sum(1 for c in word if "\u0400" <= c <= "\u04ff")
    lat = sum(1 for c in word if c.isascii() and c.isalpha())
    if not cyr or not lat:
        return word
    return word.translate(_LAT2CYR) if cyr >= lat else word.translate(_CYR2LAT)
