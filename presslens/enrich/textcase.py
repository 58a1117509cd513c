"""Case-insensitive patterns at case-sensitive speed, with exactly the same matches.

Python's `re` tries a case-insensitive alternation ("сообщает|пишет|according to|...")
branch by branch at every position, lower-casing the character for each branch; a
case-sensitive one skips a branch on a single comparison of its first character. So a
text is lower-cased once (`lowered`) and a case-insensitive pattern's case-sensitive
twin (`twin`) is run on it: the matches are at the same offsets, and a plain substring
test on the lowered text (`has_any`) can rule a pattern out before it runs.

This is exact only when lower-casing keeps every offset and agrees with `re`'s own
case-insensitive comparison character by character. That holds for the characters of
CASE_SAFE (ASCII, Latin-1 without µ, Latin Extended-A without İ ı ſ, Romanian Ș ș Ț ț, Cyrillic,
punctuation, symbols, CJK, emoji: tests/test_textcase.py checks every one of them against
`re` itself); a text holding any other character (Greek, "ᲀ", the Kelvin sign K...) gets
None from `lowered`, and callers then run the original case-insensitive pattern.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterator

# Characters whose str.lower() is one character that `re` (IGNORECASE) treats as equal to
# the original and to nothing else of this set, and whose \w / \s / \d class lower-casing
# keeps. Outside: µ (= Greek mu), İ (lowers to two characters), ı (= i), ſ (= s), Greek,
# the rarer Cyrillic forms U+1C80.. (= в, д, о, с, т, ъ), letterlike symbols (K = k), ...
CASE_SAFE = (
    "\x00-\u00b4\u00b6-\u012f\u0132-\u017e\u0218-\u021b"  # Latin, Latin-1, Latin Extended-A, Ș ș Ț ț
    "\u0400-\u052f"  # Cyrillic and Cyrillic Supplement
    "\u2000-\u206f\u20a0-\u20cf\u2116\u2122\u2190-\u23ff\u2500-\u2bff"  # punctuation, currency, №, ™, symbols
    "\u3000-\u9fff\ufe00-\ufe0f\ufeff\ufffd\U0001f000-\U0001faff"  # CJK, variation selectors, BOM, emoji
)
_UNSAFE_RE = re.compile(f"[^{CASE_SAFE}]")
# A few recent texts: one article's text is lowered once for all the steps that scan it.
_CACHE_TEXTS = 8


def lower_if_safe(text: str) -> str | None:
    """`text.lower()` (same length, same offsets) when every character of `text` is in
    CASE_SAFE, else None (the caller then uses its case-insensitive pattern on `text`)."""
    if _UNSAFE_RE.search(text):
        return None
    return text.lower()


@functools.lru_cache(maxsize=_CACHE_TEXTS)
def lowered(text: str) -> str | None:
    """`lower_if_safe`, remembered for the last few texts: for whole articles, which several
    steps scan (lines and other short strings should call lower_if_safe: they would push
    the articles out)."""
    return lower_if_safe(text)


# Escapes (\W, \S, \D, \B, \A, \Z, \N{...}) and group syntax ((?P<name>, (?P=name)) whose
# capitals do not stand for characters.
_SYNTAX_RE = re.compile(r"\\N\{[^}]*\}|\\.|\(\?P[<=][^>)]*[>)]", re.DOTALL)


def twin(rx: re.Pattern, pattern: str | None = None) -> re.Pattern:
    """The case-sensitive twin of a case-insensitive pattern, for use on `lowered` text:
    `rx` itself, or `pattern` when given (rx rewritten by the caller with its capitals in
    lower case: "[A-Z]" -> "[a-z]").

    The pattern must write every letter in lower case (a capital, or a range like [A-Z],
    would match nothing in lowered text): a ValueError says so at import time."""
    if not rx.flags & re.IGNORECASE:
        raise ValueError(f"twin() wants an IGNORECASE pattern: {rx.pattern[:60]!r}")
    source = rx.pattern if pattern is None else pattern
    bare = _SYNTAX_RE.sub("", source)
    caps = sorted({ch for ch in bare if ch != ch.lower()})
    if caps:
        raise ValueError(f"pattern has capital letters {''.join(caps)!r}, twin() cannot lower it: {source[:60]!r}")
    return re.compile(source, rx.flags & ~re.IGNORECASE)


def has_any(low: str | None, needles: tuple[str, ...]) -> bool:
    """False only when `low` is lowered text and holds none of the (lower-case) needles:
    a pattern each of whose matches contains one of them cannot match the text."""
    return low is None or any(n in low for n in needles)


def finditer(rx: re.Pattern, low_rx: re.Pattern, text: str, low: str | None,
             needles: tuple[str, ...] = ()) -> Iterator[re.Match] | tuple:
    """rx.finditer(text) (the case-insensitive pattern), run as its case-sensitive twin
    `low_rx` on `low` = lowered(text) when there is one (same offsets); nothing when
    `needles` are given and the lowered text holds none of them (`has_any`)."""
    if needles and not has_any(low, needles):
        return ()
    return rx.finditer(text) if low is None else low_rx.finditer(low)


def _structure(source: str) -> Iterator[tuple[int, str, int]]:
    """(index, character, group depth before it) of each character of a pattern source that is
    neither escaped nor inside a character class: what splitting and group matching read."""
    depth, in_class, i = 0, False, 0
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        else:
            yield i, ch, depth
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
        i += 1


def split_alternatives(source: str) -> list[str]:
    """The top-level alternatives of a pattern source ("a|(?:b|c)d" -> ["a", "(?:b|c)d"])."""
    cuts = [i for i, ch, depth in _structure(source) if ch == "|" and depth == 0]
    return [source[a + 1 : b] for a, b in zip([-1, *cuts], [*cuts, len(source)])]


def _group_end(source: str) -> int:
    """Index of the ")" closing the group that opens `source`."""
    for i, ch, depth in _structure(source):
        if ch == ")" and depth == 1:
            return i
    raise ValueError(f"unbalanced group: {source[:60]!r}")


def _letter_first(alt: str, word_start: bool) -> list[str]:
    """`alt` as alternatives that each open with a literal letter, tried in the same order:
    "(?:a|b)c" -> ["ac", "bc"], "(?:a)?b" -> ["ab", "b"] (greedy: with it first), and with
    `word_start` (the caller's look-behind already asks for a word start) "\\bx" -> ["x"].
    ValueError for any other opening (a class, an escape, a quantified letter, a lazy or
    repeated group)."""
    if alt.startswith("\\b") and word_start:
        return _letter_first(alt[2:], word_start)
    if alt.startswith("(?:"):
        j = _group_end(alt)
        inner, after = alt[3:j], alt[j + 1:]
        if after[:1] == "?" and after[1:2] not in ("?", "+"):
            rest = after[1:]
            return ([x for a in split_alternatives(inner) for x in _letter_first(a + rest, word_start)]
                    + _letter_first(rest, word_start))
        if after[:1] not in ("?", "*", "+", "{"):
            return [x for a in split_alternatives(inner) for x in _letter_first(a + after, word_start)]
    elif alt[:1].isalpha() and alt[1:2] not in ("?", "*", "+", "{"):
        return [alt]
    raise ValueError(f"cannot open this alternative with a letter: {alt[:60]!r}")


def word_alternation(alternatives: list[str]) -> str:
    """A pattern source equal to r"(?<![\\w])(?:" + "|".join(alternatives) + ")", written as
    one group per first letter ("(?<![\\w])(?:п(?:о\\s+данным|ишет)|с(?:...)|...)"): at a word
    start `re` then compares one letter per group instead of entering every alternative
    (~2x faster for the long cue lists of presslens.enrich.sources). Alternatives keep their
    order within a letter, so the same alternative wins at every position."""
    return r"(?<![\w])" + _grouped(alternatives, word_start=True)


def letter_groups(alternatives: list[str], after_first: str = "", first: str | None = None) -> str:
    """A pattern source equal to "(?:" + "|".join(alternatives) + ")", written as one group
    per first letter ("(?:п(?:одробнее|олностью)|д(?:...)|...)"): a pattern that opens with
    literal letters lets `re` skip at C speed to the positions holding one of them (~4x
    faster for metadata's "read more on" formulas). Same order within a letter, so the same
    alternative wins at every position.

    `after_first` is put right after each group's letter: r"(?<!\\w.)" there asks for the
    letter to start a word (the source then equals r"(?<![\\w])(?:...)"). With `first` (a
    character class such as "[A-Z]") only the groups whose letter it matches are kept: the
    source then equals "(?=" + first + ")(?:...)"."""
    return _grouped(alternatives, word_start=False, after_first=after_first, first=first)


def _grouped(alternatives: list[str], word_start: bool, after_first: str = "", first: str | None = None) -> str:
    groups: dict[str, list[str]] = {}
    for alt in (a for source in alternatives for a in split_alternatives(source)):
        for flat in _letter_first(alt, word_start):
            groups.setdefault(flat[0], []).append(flat[1:])
    keep = re.compile(first) if first else None
    return "(?:" + "|".join(f"{k}{after_first}(?:{'|'.join(v)})" for k, v in groups.items()
                            if keep is None or keep.fullmatch(k)) + ")"
