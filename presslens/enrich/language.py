"""Language of an article and of its paragraphs, with langdetect 1.0.9 (seeded).

In:  the article text and its boilerplate spans (boilerplate.find); clutter is left out.
Out: LanguageResult(language, confidence, mixed, languages, paragraphs):
  - language: ISO 639-1 code ("ru", "uk", "ro", "en", ...) or "und" when the text is too
    short (< MIN_LETTERS letters outside boilerplate) or too mixed (no language reaches
    UND_BELOW of the detected text);
  - confidence (0..1): letter-weighted mean of langdetect's probability for the chosen
    language over the detected paragraphs, damped for short texts (see _damp);
  - mixed / languages: the languages holding at least MIXED_SHARE of the detected letters
    (and MIXED_MIN_LETTERS letters); mixed is True when there are two or more;
  - paragraphs: Paragraph(start, end, language, confidence) for every paragraph (non-empty
    line outside boilerplate) long enough to call (PARA_MIN_LETTERS), at most
    MAX_PARAGRAPHS of them per article, spread evenly over the text. Shorter lines get
    no entry. When no line is long enough, one call on all clean lines together gives
    the article language and `paragraphs` is empty.

Cost is bounded: each call sees at most PARA_MAX_CHARS characters with N_TRIAL trials,
at most MAX_PARAGRAPHS calls, and only the first MAX_TEXT_CHARS of a text are read.

Russian/Ukrainian confusions are settled by the letters only one of them has (uk: і ї є ґ;
ru: ы э ъ ё), and Romanian against other Romance languages by ă ș ț. Results repeat:
DetectorFactory.seed = 0.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field


@dataclass
class Paragraph:
    start: int
    end: int
    language: str
    confidence: float


@dataclass
class LanguageResult:
    language: str  # ISO 639-1 or "und"
    confidence: float
    mixed: bool = False
    languages: list[str] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)


# Fewer letters than this (outside boilerplate) is too little to call: langdetect's
# character n-gram model is unreliable on a handful of words.
MIN_LETTERS = 30
# A paragraph needs this many letters to get its own call; shorter lines (labels,
# captions, one-line quotes) are left to the article-level result.
PARA_MIN_LETTERS = 80
# Per call, only the first characters of a paragraph are given to langdetect: its cost
# grows with length while a few hundred characters already settle the language.
PARA_MAX_CHARS = 300
# At most this many paragraph calls per article (~1.5 ms each), spread over the text, so
# a very long article costs the same as a medium one.
MAX_PARAGRAPHS = 8
# langdetect's random trials per call (library default 7). Measured on 540 ru/uk dev
# articles: 3 trials give the same article calls as 7 (539/540) at 60% of the cost.
N_TRIAL = 3
# Only this much of a text is read: enough for any news article, and a book-length
# file costs no more than a long article.
MAX_TEXT_CHARS = 100_000
# When no paragraph is long enough, the whole clean text (up to this) gets one call.
ARTICLE_MAX_CHARS = 1500
# A language is "substantial" in an article with this share of the detected letters and
# at least this many letters (one stray quoted sentence does not make an article mixed).
MIXED_SHARE = 0.2
MIXED_MIN_LETTERS = 150
# If the leading language holds less than this share, the article is too mixed to call.
UND_BELOW = 0.5
# Texts with fewer letters than this get a proportionally lower confidence: langdetect
# reports ~0.99 even on a few words, which overstates what short texts support.
FULL_CONFIDENCE_LETTERS = 200

# langdetect codes that are not plain ISO 639-1.
_CODE_MAP = {"zh-cn": "zh", "zh-tw": "zh"}

_UK_ONLY = frozenset("іїєґІЇЄҐ")
_RU_ONLY = frozenset("ыэъёЫЭЪЁ")
# ъ is also frequent in Bulgarian, so a Russian call needs ы or э (absent in Bulgarian).
_RU_STRONG = frozenset("ыэЫЭ")
_CYRILLIC_CODES = {"ru", "uk", "bg", "mk", "be", "sr"}
# Romanian letters (comma-below and cedilla forms, ă) that other Romance languages lack.
_RO_ONLY = frozenset("ăĂșȘțȚşŞţŢ")
_ROMANCE_CODES = {"it", "es", "pt", "ca", "fr", "ro", "la", "gl"}
# Distinct letters overrule langdetect only when there are at least _DISTINCT_MIN of
# them, they make up _DISTINCT_SHARE of the letters and outnumber the other language's
# distinct letters _DISTINCT_RATIO to one. Ukrainian і/ї/є are ~6% of its letters and
# Russian ы/э/ё/ъ ~2%, while one quoted name ("Київ" in Russian text) gives far less.
_DISTINCT_MIN = 2
_DISTINCT_SHARE = 0.01
_DISTINCT_RATIO = 3
# When letters overrule the model, its probability says nothing about the new language:
# report this moderate confidence instead.
OVERRULED_CONFIDENCE = 0.75

_lock = threading.Lock()
_factory = None


def _get_factory():
    """The langdetect profile factory, loaded once (~0.3 s) and seeded for repeatability."""
    global _factory
    if _factory is None:
        with _lock:
            if _factory is None:
                from langdetect import DetectorFactory
                from langdetect.detector_factory import init_factory

                DetectorFactory.seed = 0
                init_factory()
                from langdetect.detector_factory import _factory as f

                f.seed = 0
                _factory = f
    return _factory


_NON_LETTERS_RE = re.compile(r"[\W\d_]+")


def _count_letters(s: str) -> int:
    return len(_NON_LETTERS_RE.sub("", s))


def _probs(text: str) -> list[tuple[str, float]]:
    """langdetect (code, probability) pairs, best first; [] when it finds no features."""
    from langdetect.lang_detect_exception import LangDetectException

    det = _get_factory().create()
    det.n_trial = N_TRIAL
    det.append(text)
    try:
        found = det.get_probabilities()
    except LangDetectException:
        return []
    return [(_CODE_MAP.get(p.lang, p.lang), float(p.prob)) for p in found]


def settle(code: str, text: str) -> str:
    """Correct a langdetect call with letters only one language has: Russian vs
    Ukrainian (and Bulgarian/Macedonian misfires on Cyrillic), Romanian vs other Romance."""
    n = _count_letters(text) or 1
    if code in _CYRILLIC_CODES:
        uk = sum(ch in _UK_ONLY for ch in text)
        ru = sum(ch in _RU_ONLY for ch in text)
        ru_strong = sum(ch in _RU_STRONG for ch in text)
        if uk >= _DISTINCT_MIN and uk / n >= _DISTINCT_SHARE and uk > _DISTINCT_RATIO * ru:
            return "uk"
        if ru_strong and ru >= _DISTINCT_MIN and ru / n >= _DISTINCT_SHARE and ru > _DISTINCT_RATIO * uk:
            return "ru"
    elif code in _ROMANCE_CODES and code != "ro":
        ro = sum(ch in _RO_ONLY for ch in text)
        if ro >= _DISTINCT_MIN and ro / n >= _DISTINCT_SHARE:
            return "ro"
    return code


def _call(text: str) -> tuple[str, float]:
    """(language, probability) for one piece of text, after settle()."""
    probs = _probs(text)
    if not probs:
        return "und", 0.0
    code, prob = probs[0]
    fixed = settle(code, text)
    if fixed != code:
        prob = max(dict(probs).get(fixed, 0.0), OVERRULED_CONFIDENCE)
    return fixed, prob


def _damp(conf: float, letters: int) -> float:
    return round(conf * min(1.0, letters / FULL_CONFIDENCE_LETTERS), 4)


def _paragraphs(text: str, boilerplate) -> list[tuple[int, int, str]]:
    """Non-empty lines with boilerplate blanked out: (start, end, clean text)."""
    out = []
    pos = 0
    spans = sorted(boilerplate or [])
    k = 0
    for raw in text.split("\n"):
        start, end = pos, pos + len(raw)
        pos = end + 1
        if not raw.strip():
            continue
        while k < len(spans) and spans[k][1] <= start:
            k += 1
        chunk = raw
        j = k
        while j < len(spans) and spans[j][0] < end:
            s, e = max(spans[j][0], start), min(spans[j][1], end)
            chunk = chunk[: s - start] + " " * (e - s) + chunk[e - start :]
            j += 1
        if not chunk.strip():
            continue
        # Trim the paragraph to its non-blank part (offsets into the original text).
        lead = len(chunk) - len(chunk.lstrip())
        trail = len(chunk) - len(chunk.rstrip())
        out.append((start + lead, end - trail, chunk.strip()))
    return out


def detect(text: str, boilerplate: list[tuple[int, int]]) -> LanguageResult:
    """Article and paragraph languages of `text` outside `boilerplate` (see module doc)."""
    paras = _paragraphs((text or "")[:MAX_TEXT_CHARS], boilerplate)
    letters_total = sum(_count_letters(p[2]) for p in paras)
    if letters_total < MIN_LETTERS:
        return LanguageResult("und", 0.0)

    eligible = [p for p in paras if _count_letters(p[2]) >= PARA_MIN_LETTERS]
    if len(eligible) > MAX_PARAGRAPHS:
        step = len(eligible) / MAX_PARAGRAPHS
        eligible = [eligible[int(i * step)] for i in range(MAX_PARAGRAPHS)]

    results: list[Paragraph] = []
    weights: dict[str, float] = {}
    conf_mass: dict[str, float] = {}
    detected_letters = 0
    for start, end, clean in eligible:
        code, prob = _call(clean[:PARA_MAX_CHARS])
        n = _count_letters(clean)
        results.append(Paragraph(start, end, code, round(prob, 4)))
        if code == "und":
            continue
        detected_letters += n
        weights[code] = weights.get(code, 0.0) + n
        conf_mass[code] = conf_mass.get(code, 0.0) + n * prob

    if not results:
        # Only short lines: one call on all of them together.
        joined = "\n".join(p[2] for p in paras)[:ARTICLE_MAX_CHARS]
        code, prob = _call(joined)
        if code == "und":
            return LanguageResult("und", 0.0)
        return LanguageResult(code, _damp(prob, letters_total), False, [code], [])

    if not weights:
        return LanguageResult("und", 0.0, False, [], results)

    shares = {c: w / detected_letters for c, w in weights.items()}
    ranked = sorted(shares, key=lambda c: (-shares[c], c))
    top = ranked[0]
    languages = [c for c in ranked if shares[c] >= MIXED_SHARE and weights[c] >= MIXED_MIN_LETTERS]
    if top not in languages:
        languages.insert(0, top)
    mixed = len(languages) >= 2
    confidence = _damp(conf_mass[top] / detected_letters, letters_total)
    if shares[top] < UND_BELOW:
        return LanguageResult("und", 0.0, True, languages, results)
    return LanguageResult(top, confidence, mixed, languages, results)
