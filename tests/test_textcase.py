"""presslens.enrich.textcase: lowered text + case-sensitive twins find exactly what the
case-insensitive patterns find (checked against `re` itself, character by character)."""
from __future__ import annotations

import re

import pytest

from presslens.enrich import textcase


def _safe_chars() -> str:
    every = "".join(map(chr, range(0x110000)))
    return "".join(re.findall(f"[{textcase.CASE_SAFE}]", every))


def test_every_safe_character_lowers_as_re_compares():
    """For each character of CASE_SAFE: str.lower() gives one character, of CASE_SAFE, in
    the same \\w/\\s/\\d classes; and under IGNORECASE, within CASE_SAFE, `re` equates it
    with exactly the characters of the same str.lower()."""
    safe = _safe_chars()
    assert len(safe) > 30_000
    low = safe.lower()
    assert len(low) == len(safe)
    assert not textcase._UNSAFE_RE.search(low)
    for cls in (r"\w", r"\s", r"\d"):
        rx = re.compile(cls)
        a = [m.start() for m in rx.finditer(safe)]
        assert a == [m.start() for m in rx.finditer(low)], cls
    groups: dict[str, set[str]] = {}
    for ch, lo in zip(safe, low):
        groups.setdefault(lo, set()).add(ch)
    cased = {lo: g for lo, g in groups.items() if len(g) > 1 or lo.upper() != lo}
    for lo, g in cased.items():
        assert set(re.findall(re.escape(lo), safe, re.IGNORECASE)) == g, lo
    uncased = "".join(sorted(set(safe) - {ch for g in cased.values() for ch in g}))
    rx = re.compile("[" + re.escape(uncased) + "]", re.IGNORECASE)
    assert "".join(sorted(set(rx.findall(safe)))) == uncased


def test_lowered_refuses_texts_with_other_characters():
    assert textcase.lowered("Привіт, ȘTIRI Şi NEWS 2024 — «ТАСС» 😀") == "привіт, știri şi news 2024 — «тасс» 😀"
    for odd in ("Ελλάδα", "İstanbul", "ſ", "\u1c80", "\u212a"):  # Greek, dotted I, long s, rounded ve, Kelvin
        assert textcase.lowered("text " + odd) is None


@pytest.mark.parametrize("text", [
    "По данным ISW, Kiev... ПО ДАННЫМ Reuters; по  данным", "According to NHK, ACCORDING TO x",
    "Potrivit Digi24, POTRIVIT", "сообщает ТАСС, Сообщает РИА",
])
def test_twin_finds_the_same_matches(text):
    rx = re.compile(r"(?<![\w])(?:по\s+данным|according\s+to|potrivit|сообщает)(?![\w])", re.IGNORECASE)
    low = textcase.lowered(text)
    assert [m.span() for m in textcase.twin(rx).finditer(low)] == [m.span() for m in rx.finditer(text)]
    assert [m.span() for m in rx.finditer(text)]


def test_twin_refuses_patterns_with_capitals():
    with pytest.raises(ValueError, match="capital"):
        textcase.twin(re.compile(r"(?=[A-Z])news", re.IGNORECASE))
    with pytest.raises(ValueError, match="IGNORECASE"):
        textcase.twin(re.compile(r"news"))
    # escapes and group names with capitals are syntax, not letters
    assert textcase.twin(re.compile(r"(?P<Name>\W\S\d)x(?P=Name)", re.IGNORECASE)).flags & re.IGNORECASE == 0


def test_has_any():
    assert textcase.has_any(None, ("x",))
    assert textcase.has_any("abc read", ("read",))
    assert not textcase.has_any("abc", ("read", "citi"))


def test_split_alternatives_keeps_groups_and_classes_whole():
    assert textcase.split_alternatives(r"a|(?:b|c)d|[|x]|e\|f") == ["a", "(?:b|c)d", "[|x]", r"e\|f"]


_ALTS = [r"по\s+(?:данным|оценкам?)", r"(?:об\s+этом|как|про\s+це)\s+(?:передает|передают)", r"сообщил[аио]?",
         r"сообщает", r"(?:mai\s+)?(?:scrie|arată)", r"\bв\s+(?:новом\s+)?(?:докладе|обзоре)", r"a\s+(?:scris|notat)",
         r"(?:in|from)\s+a\s+(?:new\s+)?report\s+(?:by|of)", r"said|says", r"ма", r"май"]


@pytest.mark.parametrize("word_start", [True, False])
def test_grouped_alternations_find_what_the_plain_alternation_finds(word_start):
    """Same matches (spans) as the plain alternation on random strings of its own pieces:
    word_alternation (after a word start), letter_groups (anywhere)."""

    if word_start:
        plain = re.compile(r"(?<![\w])(?:" + "|".join(_ALTS) + r")(?![\w])")
        grouped = re.compile(textcase.word_alternation(_ALTS) + r"(?![\w])")
    else:
        alts = [a.removeprefix("\\b") for a in _ALTS]
        plain = re.compile("(?:" + "|".join(alts) + ")")
        grouped = re.compile(textcase.letter_groups(alts))
    pieces = ["по", " ", "  ", "\n", "данным", "оценка", "оценкам", "об", "этом", "как", "про", "це", "передает",
              "сообщил", "сообщила", "сообщает", "а", "и", "mai", "scrie", "arată", "в", "новом", "докладе", "обзоре",
              "a", "scris", "notat", "in", "from", "new", "report", "by", "of", "said", "says", "ма", "май", "x", ",", "1"]
    assert _same_matches(plain, grouped, pieces, seed=7, most=12) > 1_000


@pytest.mark.parametrize("alt", [r"[ab]c", r"\sx", r"a+b", r"(?:a|b)+c", r"(?:a)??b", ""])
def test_word_alternation_refuses_what_it_cannot_regroup(alt):
    with pytest.raises(ValueError):
        textcase.word_alternation([alt])
    with pytest.raises(ValueError):
        textcase.letter_groups([alt])


def test_letter_groups_keeps_word_boundaries():
    """Without a word-start look-behind around it, a leading \\b is not dropped: refused."""
    with pytest.raises(ValueError):
        textcase.letter_groups([r"\bв\s+x"])
    assert textcase.word_alternation([r"\bв\s+x"]) == r"(?<![\w])(?:в(?:\s+x))"


def test_letter_groups_with_a_word_start_test_and_a_first_letter_class():
    """letter_groups(alts, after_first=r"(?<!\\w.)", first="[A-ZА-Я]") finds what
    r"(?<![\\w])(?=[A-ZА-Я])(?:alts)" finds (alternatives opening in lower case can never
    match there and are left out)."""

    alts = [r"NHK", r"NK\s+News", r"Reuters", r"ТАСС", r"Институт[а-я]{0,3}\s+изучения", r"ISW", r"Ins", r"nhk"]
    plain = re.compile(r"(?<![\w])(?=[A-ZА-Я])(?:" + "|".join(alts) + r")(?![\w])")
    grouped = re.compile(textcase.letter_groups(alts, after_first=r"(?<!\w.)", first="[A-ZА-Я]") + r"(?![\w])")
    assert "n(?" not in grouped.pattern
    pieces = ["NHK", "nhk", "NK", "News", "Reuters", "ТАСС", "Института", "Институт", "изучения", "ISW", "Ins", "x",
              "1", " ", "\n", ",", "«"]
    assert _same_matches(plain, grouped, pieces, seed=5, most=10) > 1_000


def _same_matches(plain: re.Pattern, grouped: re.Pattern, pieces: list[str], seed: int, most: int) -> int:
    """Assert that both patterns find the same spans in 20,000 random texts of 1..`most`
    `pieces`; returns how many matches there were (a check that cannot pass vacuously)."""
    import random

    rng = random.Random(seed)
    found = 0
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, most)))
        want = [m.span() for m in plain.finditer(text)]
        assert [m.span() for m in grouped.finditer(text)] == want, text
        found += len(want)
    return found
