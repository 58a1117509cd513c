"""Story grouping: articles that report the same event, across languages and scripts.

In:  articles (doc_id, language, published, text, boilerplate, cited_sources, duplicate_of),
     doc_entities (doc_id, entity_id, mentions), and the previous run's `StoryState` or None.
Out: story ids (doc_id -> story_id), the links that joined articles (with their evidence:
     which entities, sources, numbers and dates both articles share, the score, the text
     similarity), and the new `StoryState` to persist for the next, incremental, run.

Evidence that works without translation:
- canonical entity ids shared by both articles, weighted by rarity (IDF over the corpus);
- cited sources both attribute (NHK, Reuters...);
- numbers and calendar dates written in both texts (230 000, "25 июля" = "25 липня" =
  "July 25"), normalised across languages;
- the event date: estimated from the text (`event_date`: the latest date of the title and
  lead, background sentences such as "Напомним, ..." left out), else the publication date;
  two articles whose event dates are more than `MAX_DAYS_APART` apart are never linked, and
  two groups whose median event dates are that far apart never merge (`cluster`);
- publication dates: two articles dated more than `MAX_DAYS_APART` apart are never linked;
- lemmatised content words of the title and lead, within one language (a second cosine,
  `lead_words`): what tells the acquittal from the release when both name the same people;
- near-duplicate text (word 5-gram shingles) is the strongest evidence, within one language.

Scale: never all pairs. Each article gets two MinHash signatures (its evidence features and
its text shingles); candidate pairs are the articles that collide in at least one LSH band.
Only candidates are scored. Every step is columnar (Polars joins, NumPy reductions) over
integer codes (articles are row numbers, features 64-bit hashes ranked into uint32 codes);
candidates are taken in slices and links streamed to Parquet sorted by story, so memory is
about 1.3 KB an article plus a fixed part (docs/STORIES.md, benchmarks/bench_stories.py).
Incremental: the signatures, feature hashes and links are kept in `StoryState`; with a
previous state only the new articles are hashed and looked up against all bands, links of
removed articles are dropped, and the old links are copied with their score and evidence
(only their story is set again where the stories were re-clustered); their scores used the
IDF of the run that made them, the one way an incremental run can differ from a full one
(documented in docs/STORIES.md).

Stories are grouped from the links by a sparse average linkage that also requires the groups
to agree on their event date (`cluster`); a story's id is named after the smallest story key
of its originals (`story_key`: the article's path and record; `story_name` hashes it; the
smallest doc_id when there are no keys): deterministic, unchanged when unrelated articles are
added, and when its articles' texts change.
"""
from __future__ import annotations

import bisect
import contextlib
import datetime as _dt
import functools
import hashlib
import itertools
import logging
import operator
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from presslens import store

if TYPE_CHECKING:
    from scipy import sparse

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- parameters
# Tuned on the "tune" half of data/eval/stories_gold.csv only (see docs/STORIES.md).

# Two articles dated further apart than this report different events (a strike and the
# next strike a month later share every entity); follow-ups a few days later still group.
# The same window applies to event dates estimated from the text (`event_date`) and to the
# median event dates of two groups being merged (`cluster`): one notion of "same event".
MAX_DAYS_APART = 4
# IDF-weighted cosine above which two articles are one story; a pair has two cosines, the
# evidence features' and (same language only) the lead words', and the larger one counts.
LINK_THRESHOLD = 0.15
# At least this many shared informative features (IDF above MIN_IDF): one shared rare
# name alone is not an event.
MIN_SHARED = 2
# Features in more than ~1/e^MIN_IDF of the articles carry no event evidence (Ryanair in a
# Ryanair corpus); they still count in the cosine with their small weight.
MIN_IDF = 1.0
# Multiplier of the IDF weight per kind of evidence: a calendar date or a figure written in
# both texts says "same event" more than a shared name does (tuned on the tune split). The
# event date ("t") is a gate, not a weight; lead words ("w") have a cosine of their own, so
# their multiplier only decides when a shared word counts as informative (MIN_IDF).
KIND_WEIGHT = {"e": 1.5, "s": 1.0, "n": 1.0, "d": 3.0, "l": 4.0, "t": 0.0, "w": 1.0}
# The title and lead state the event: a figure or date found there also counts as an "l"
# feature (ln:250, ld:08-10) on top of its ordinary one.
LEAD_CHARS = 400
# Two groups of articles merge into one story only when this share of the pairs between
# them are linked (see `cluster`).
MERGE_DENSITY = 0.15
# Estimated Jaccard of 5-gram shingles above which two same-language texts are near-duplicates.
NEAR_DUP_JACCARD = 0.5
SHINGLE_WORDS = 5

# Features in more than this share of the articles (and more than COMMON_MIN_DOCS of them) are
# left out of the LSH signatures, not of the scoring: "Russia" in a Russia corpus would make
# every pair a candidate. Small corpora keep everything. The filter uses the document
# frequencies of the run that hashes an article (signatures are not recomputed later).
COMMON_SHARE = 0.02
COMMON_MIN_DOCS = 200

# MinHash/LSH shape. Evidence features: 64 hashes in 32 bands of 2 rows, so a pair with
# Jaccard 0.3 is a candidate with probability 1-(1-0.3^2)^32 = 0.95, one with 0.1 with 0.28.
FEAT_PERM, FEAT_ROWS = 64, 2
# Text shingles: 32 hashes in 16 bands of 2 rows (Jaccard 0.5 -> candidate with p = 0.99).
TEXT_PERM, TEXT_ROWS = 32, 2
assert store.ARTICLES_SCHEMA["text_minhash"].size == TEXT_PERM, "store.py's text_minhash width must match"
# In an LSH bucket larger than this + 1, each article is compared with this many others only
# (see _band_buckets): a bucket of a feature everybody shares would make O(size^2) pairs.
BUCKET_WINDOW = 50
# Rows x band columns sorted together when the buckets are found (_band_buckets): 2M entries,
# ~100 MB of sort keys and indices at most, whatever the corpus size.
BAND_GROUP_ENTRIES = 2_000_000
# Candidate keys collected from the bands before they are deduplicated (8 bytes each).
DEDUP_EVERY = 10_000_000
# Candidate pairs scored per chunk: bounds the memory of the feature lookup (about 25 features
# per article, a few 4- and 8-byte arrays per feature: ~100 MB per chunk).
PAIR_CHUNK = 100_000
# Candidate pairs are collected for this many articles (by the pair's smaller row) at a time,
# scored and freed: ~46 candidates an article x 8 bytes (x 3 while deduplicating) = ~280 MB
# per slice, whatever the corpus size; the bands are sorted once (_band_buckets) for all slices.
CANDIDATE_SLICE = 250_000
# Links whose evidence lists are spelled out and written per chunk (bounded memory), and the
# story_links row-group size: a reader filtering one story_id skips the other row groups.
LINK_CHUNK = 50_000
LINK_ROW_GROUP = 50_000
# the links tables' row order (nulls first: a link between two stories has no story_id)
LINK_ORDER = ["story_id", "doc_a", "doc_b"]
# how every story table is written (store.ZSTD_LEVEL: the build rewrites them each run)
LINK_PARQUET = dict(compression="zstd", compression_level=store.ZSTD_LEVEL, statistics=True,
                    row_group_size=LINK_ROW_GROUP)
# Incremental runs: a changed component with more links than this whose new articles (with
# those attached since it was last clustered in full) are at most RECLUSTER_SHARE of it takes
# them in place (`_attach`: its old stories are kept and only the new articles' links are
# clustered) instead of clustering all its links again (~2 microseconds a link: 0.6 s for
# the 290,000 links of the 10k bench corpus's largest component). Smaller components, and
# every first run, are clustered exactly. At 25% (was 5%: a full re-cluster every 5th 1%
# rebuild, 97 s against ~25 s for the others at 100k) the attached stories stayed as close to
# a full build as the exact incremental run's over 15 and 30 rebuilds of the 10k bench corpus
# (benchmarks/story_attach_agreement.py; docs/STORIES.md).
ATTACH_MIN_LINKS = 20_000
RECLUSTER_SHARE = 0.25
# Links taken per block by the average linkage: before each block the links already inside
# one group are dropped at once (vectorised), so the Python loop sees only the others.
LINK_BLOCK = 8192
# From this many links per pair of starting groups, the incremental clustering (`_attach`) looks
# at a pair's links only when one of its groups changed (`_walk_group_pairs`).
PAIR_WALK_LINKS = 4
# Up to this many links, an incremental run sorts and writes the whole story_links table in
# memory (~400 bytes a link with its evidence lists, twice while sorting: ~400 MB at most);
# above it, the parts are merged while streaming (bounded memory, about 3x slower at 300k).
LINKS_IN_MEMORY = 500_000
# An incremental run keeps the previous story_links file as the base of the new table and writes
# only the links that changed (store.STORY_LINKS_DELTA) and the base rows no longer live, until
# those two pass this share of the base: the whole table is then written again (with 1% of the
# articles changed a run, every ~4th run on the copy-heavy bench corpora, where a changed article
# takes the links of its ~18 near-copies with it).
LINK_DELTA_SHARE = 0.2
# A `build --watch` waiting for changes writes the live version's story_links again as one file
# (compact_links, in a process of its own, stopped when the next build starts), once the delta
# and dropped keys pass COMPACT_SHARE of a base of at least COMPACT_MIN_LINKS links; the next
# rebuild takes that file as its base with no delta to carry, instead of carrying the delta
# until LINK_DELTA_SHARE makes a rebuild write the whole table (at 100k articles and 12.8M
# links: ~50-70 s in one rebuild of five). Below COMPACT_MIN_LINKS that whole write is done
# in memory, in well under a second.
COMPACT_MIN_LINKS = LINKS_IN_MEMORY
COMPACT_SHARE = 0.05
# Seeds of the hash families: fixed so that signatures persisted by one run match the next.
_RNG = np.random.default_rng(20261130)
_FEAT_A = _RNG.integers(1, 2**63, FEAT_PERM, dtype=np.uint64) | np.uint64(1)
_FEAT_B = _RNG.integers(0, 2**63, FEAT_PERM, dtype=np.uint64)
_TEXT_A = _RNG.integers(1, 2**63, TEXT_PERM, dtype=np.uint64) | np.uint64(1)
_TEXT_B = _RNG.integers(0, 2**63, TEXT_PERM, dtype=np.uint64)
# Bumped when features or hashing change: a state with another version is rebuilt from scratch.
STATE_VERSION = "7"  # 3: integer-coded state, lead words, event dates; 4: link scores from the learned pair model; 5: shared_lead is a string; 6: stories named by story key; 7: a link needs a shared name, ISO dates are dates

# ---------------------------------------------------------------- numbers and dates

# Month names (stems) in en, ru, uk, ro -> month number. Stems match every inflection
# (августа, серпня, august, augustus) without a morphological analyser.
_MONTHS = {
    1: ("january", "jan", "январ", "січн", "ianuarie", "ian"),
    2: ("february", "feb", "феврал", "лют", "februarie", "feb"),
    3: ("march", "mar", "март", "берез", "martie"),
    4: ("april", "apr", "апрел", "квіт", "aprilie"),
    5: ("may", "мая", "май", "мае", "трав", "mai"),
    6: ("june", "jun", "июн", "черв", "iunie", "iun"),
    7: ("july", "jul", "июл", "лип", "iulie", "iul"),
    8: ("august", "aug", "август", "серп", "august"),
    9: ("september", "sep", "sept", "сентябр", "верес", "septembrie"),
    10: ("october", "oct", "октябр", "жовт", "octombrie"),
    11: ("november", "nov", "ноябр", "листопад", "noiembrie", "noi"),
    12: ("december", "dec", "декабр", "груд", "decembrie"),
}
# month stems by their first three letters, longest first (one dict lookup per candidate word)
_MONTH_BY_PREFIX: dict[str, list[tuple[str, int]]] = {}
for _m, _stems in _MONTHS.items():
    for _s in _stems:
        _MONTH_BY_PREFIX.setdefault(_s[:3], []).append((_s, _m))
for _v in _MONTH_BY_PREFIX.values():
    _v.sort(key=lambda x: -len(x[0]))
# One pass over the figures of a text: the number (with thousands separators and a decimal
# part), an optional second day of a range ("25-26", "25 и 26"), the word right after it (a
# month or a scale word: "25 июля", "230 тысяч") and a year after that ("25 июля 2018").
# Each pattern opens with a digit and checks the character before it with a look-behind
# placed after that digit ("(?<![\w.,:]\d)" there is "(?<![\w.,:])" before it): a pattern
# whose first item is a character class lets `re` skip to the next digit at C speed instead
# of trying the look-behind at every position (same matches, 2-3x faster).
_NUM = re.compile(
    r"(\d(?<![\w.,:]\d)(?:\d{0,2}(?:[ \u00a0\u202f.,]\d{3})+|\d*))(?:[.,](\d+))?"
    r"(?:(?:\s*[-\u2013]\s*|\s+(?:и|і|й|та|and|și|si)\s+)(\d{1,2}))?(?![\w:])"
    r"(?:\.?[ \u00a0]{1,2}([^\W\d_]{3,})(?:\.?,?[ \u00a0]{1,2}((?:19|20)\d\d)(?!\d))?)?"
)
# "10.08.2018", "10/08/2018" and times of day (08:46) are found first and not read as numbers.
_NUMERIC_DATE = re.compile(r"(\d(?<!\w\d)\d?)[./](\d{1,2})[./](\d{2,4})\b")  # \b(\d{1,2})[./]...
_TIME = re.compile(r"\d(?<!\w\d)\d?:\d{2}\b")  # \b\d{1,2}:\d{2}\b
# Year-first numeric dates ("1996-12-06", "2018/07/25": wire datelines, ISO timestamps), likewise
# dates, not three figures (round 22: CoNLL's datelines read as n:1996 and n:12 linked unrelated
# wire stories).
_ISO_DATE = re.compile(r"(\d(?<![\w.,]\d)\d\d\d)([-/.])(\d{1,2})\2(\d{1,2})(?!\d)")
_ISO_DATE_PART = re.compile(r"(?:19|20)\d\d[-/.]\d")
# Every figure, date and time holds a digit: a text without one has none of them.
_DIGIT = re.compile(r"\d")
# Every match of _NUMERIC_DATE holds one of these, and of _TIME ":" and two digits: a text
# without one has no such match. (Their first character is a literal: `re` finds it at C
# speed, 2x-20x faster than a pass of the whole pattern, which tries every digit.)
_NUMERIC_DATE_PART = re.compile(r"[./]\d\d?[./]")
_TIME_PART = re.compile(r":\d\d")
# Neither a numeric date nor a time of day can match across a line break (`_scan_lines`
# relies on it): their patterns hold no whitespace.
assert not any(ws in p.pattern for p in (_NUMERIC_DATE, _ISO_DATE, _TIME) for ws in ("\\s", " ", "\\n"))
# "July 25", "Aug. 10": a month word right before a day number (and "July 25, 2018": its year)
_WORD_BEFORE = re.compile(r"([^\W\d_]{3,})\.?\s+$")
_YEAR_AFTER = re.compile(r",?\s{1,2}((?:19|20)\d\d)(?!\d)")
_SCALE = {"тыс": 1e3, "тис": 1e3, "thousand": 1e3, "mii": 1e3, "млн": 1e6, "мільйон": 1e6,
          "million": 1e6, "milioane": 1e6, "млрд": 1e9, "мільярд": 1e9, "billion": 1e9, "miliarde": 1e9}
# the scale words by their first three letters, in _SCALE's order (one dict lookup a word)
_SCALE_BY_PREFIX: dict[str, list[tuple[str, float]]] = {}
for _key, _v in _SCALE.items():
    assert len(_key) >= 3, "a scale word is looked up by its first three letters"
    _SCALE_BY_PREFIX.setdefault(_key[:3], []).append((_key, _v))
# thousands separators inside a figure ("230 000", "1.234.567")
_SEPARATORS = re.compile(r"[ \u00a0\u202f.,]")


def _month_of(word: str | None) -> int | None:
    """The month a word names (any inflection, en/ru/uk/ro), or None."""
    if not word:
        return None
    w = word.casefold()
    for stem, m in _MONTH_BY_PREFIX.get(w[:3], ()):
        if w.startswith(stem):
            return m
    return None


_POSITION = operator.itemgetter(0)


def _scale_of(word: str) -> float:
    """The factor a scale word right after a figure means ("тысяч" 1e3, "млн" 1e6), else 1."""
    w = word.casefold()
    for key, v in _SCALE_BY_PREFIX.get(w[:3], ()):
        if w.startswith(key):
            return v
    return 1.0


def _scan(text: str) -> list[tuple[int, str, tuple]]:
    """The figures and calendar dates of `text` in order: (position, "n", (value,)) or
    (position, "d", (month, day, year or None)); a range "25-26 июля" gives both days."""
    return _scan_lines(text)[0]


def _scan_lines(text: str) -> tuple[list[tuple[int, str, tuple]], bool]:
    """`_scan(text)`, and whether a match read across a line break of `text` (a range
    "25\nи 26", "июля\n25", "25 июля\n2018").

    When none did, the results on the lines joined by "\n" are those on each line alone,
    shifted: a match that stops before a break reads the same characters, and every
    look-around next to a break ((?!\\d), (?![\\w:]), \\b, (?<![\\w.,:]\\d)) gives the same on "\n"
    as at the start or end of a string. (The first match at each position is then the
    same: one line's match is a match of the joined text, and a match of the joined text
    that stays on its line is one of the line.) `text_evidence` scans its news text once
    this way instead of once more per sentence for the event date."""
    out: list[tuple[int, str, tuple]] = []
    crossed = False
    digit = _DIGIT.search(text)
    if not digit:
        return out, crossed
    # Every match starts on a digit: the patterns are searched from the first one (their
    # look-behinds still see the characters before it).
    d0 = digit.start()
    skip: list[tuple[int, int]] = []
    for m in _NUMERIC_DATE.finditer(text, d0) if _NUMERIC_DATE_PART.search(text, d0) else ():
        d, mon, y = int(m.group(1)), int(m.group(2)), m.group(3)
        if 1 <= d <= 31 and 1 <= mon <= 12:
            year = int(y) if len(y) == 4 else 2000 + int(y) if len(y) == 2 else None
            out.append((m.start(), "d", (mon, d, year)))
        skip.append(m.span())
    for m in _ISO_DATE.finditer(text, d0) if _ISO_DATE_PART.search(text, d0) else ():
        y, mon, d = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if 1900 <= y <= 2099 and 1 <= d <= 31 and 1 <= mon <= 12:
            out.append((m.start(), "d", (mon, d, y)))
            skip.append(m.span())
    if _TIME_PART.search(text, d0):
        skip.extend(m.span() for m in _TIME.finditer(text, d0))
    skip.sort()
    k = 0
    for m in _NUM.finditer(text, d0):
        s = m.start()
        whole, frac, day2, word, year = m.groups()
        if "\n" in m.group():  # skipped or not: it moves the next match too
            crossed = True
        while k < len(skip) and skip[k][1] <= s:
            k += 1
        if k < len(skip) and skip[k][0] <= s:
            continue
        mon = _month_of(word) if word else None
        if mon and not frac and len(whole) <= 2:
            y = int(year) if year else None
            for d in (whole, day2):
                if d and 1 <= int(d) <= 31:
                    out.append((s, "d", (mon, int(d), y)))
            if year:
                out.append((m.start(5), "n", (float(year),)))
            continue
        if not frac and not day2 and len(whole) <= 2 and 1 <= int(whole) <= 31:
            before = _WORD_BEFORE.search(text, max(0, s - 14), s)
            if before and "\n" in before.group():
                crossed = True
            mon = _month_of(before.group(1)) if before else None
            if mon:
                ya = _YEAR_AFTER.match(text, m.end(1))
                if ya and "\n" in ya.group():
                    crossed = True
                out.append((before.start(1), "d", (mon, int(whole), int(ya.group(1)) if ya else None)))
                continue
        value = float((whole if whole.isdecimal() else _SEPARATORS.sub("", whole)) + ("." + frac if frac else ""))
        if word:
            value *= _scale_of(word)
        if value >= 10:
            out.append((s, "n", (value,)))
        if day2 and int(day2) >= 10:
            out.append((s, "n", (float(day2),)))
        if year:
            out.append((m.start(5), "n", (float(year),)))
    out.sort(key=_POSITION)
    return out, crossed


def numbers_and_dates(text: str) -> set[str]:
    """The numbers ("n:230000") and calendar dates ("d:07-25") written in `text`.

    Language-independent: "230 тысяч", "230 000" and "230,000" are all n:230000;
    "25 июля", "25 липня", "July 25" and "25.07.2018" are all d:07-25. Numbers below 10
    are dropped (counts of everything), and so are times of day and the parts of dates.
    """
    return _features(_scan(text))


def _features(found: list[tuple[int, str, tuple]]) -> set[str]:
    """The figures and dates of a `_scan` as `numbers_and_dates` strings."""
    return {f"d:{v[0]:02d}-{v[1]:02d}" if kind == "d" else f"n:{v[0]:g}" for _, kind, v in found}


# Paragraphs that open with these words recall earlier events ("Напомним, ...", "Ранее ...",
# "Нагадаємо", "Earlier", "Reamintim"): their dates are background, not the news.
_BACKGROUND = re.compile(
    r"^\W*(напомн|ранее|ранeе|прежде|до этого|нагада|раніше|до цього|recall|earlier|previously|"
    r"in (?:19|20)\d\d|reamint|amintim|anterior|în (?:19|20)\d\d|в (?:19|20)\d\d|у (?:19|20)\d\d)",
    re.IGNORECASE)


# Sentence ends: . ! ? … (or a closing quote after one) before a capital letter, or a line break.
# Written as "[.!?…»\"”\n]" then either more line breaks or spaces before a capital: the
# match starts on the mark (one character before the break, unless it is a line break), and
# a pattern opening with a character class is scanned at C speed (same breaks as
# r"(?<=[.!?…»\"”])\s+(?=...)|\n+", ~3x faster).
_SENTENCE_END = re.compile(r"[.!?…»\"”\n](?:(?<=\n)\n*|(?<!\n)\s+(?=[«\"“„—–-]?\s?[^\W\d_a-zа-яёіїєґăâîșțş]))")


def news_sentences(text: str) -> list[tuple[int, str]]:
    """The sentences of `text` (start offset, sentence) that are not background: a sentence
    opening "Напомним", "Ранее", "Нагадаємо", "Earlier"... recalls an earlier event of the
    story family, and its figures and dates belong to that event."""
    out, pos = [], 0
    ended = text + "\n"
    for m in _SENTENCE_END.finditer(ended):
        start = m.start()
        if ended[start] != "\n":
            start += 1  # the break is the white space after the mark
        sent = text[pos:start]
        if sent.strip() and not _BACKGROUND.match(sent):
            out.append((pos, sent))
        pos = m.end()
    return out


def news_text(text: str, sentences: list[tuple[int, str]] | None = None) -> str:
    """`text` without its background sentences (see `news_sentences`; `sentences`: the
    text's `news_sentences` when the caller has them already)."""
    return "\n".join(sent for _, sent in (news_sentences(text) if sentences is None else sentences))


def _day_of_year(month: int, day: int) -> int:
    """1..366 in a leap year (29 February is a day of its own)."""
    return _CUM_DAYS[month - 1] + min(day, _MONTH_LEN[month - 1])


_MONTH_LEN = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_CUM_DAYS = tuple(sum(_MONTH_LEN[:i]) for i in range(12))


def event_date(text: str) -> tuple[int | None, int, int] | None:
    """The date of the event an article reports, estimated from its text: (year or None,
    month, day), or None when the text writes no calendar date.

    News reports the newest event and recalls older ones as background, and its title and
    lead state the event. So: dates in sentences that open as background ("Напомним",
    "Ранее", "Earlier"...) are ignored; of the others, the latest one written in the title
    and lead (the first LEAD_CHARS characters) is taken, else the latest in the whole text.
    "Latest" is by day of year, read across a New Year when the dates span more than half a
    year (28 December and 3 January: 3 January is later); a year is kept only when written
    with the date ("31 октября 2018"), since a year elsewhere in a text is often background.
    """
    return _event_date(news_sentences(text))


def _event_date(sentences: list[tuple[int, str]]) -> tuple[int | None, int, int] | None:
    """`event_date` of a text from its `news_sentences`."""
    return _latest_date([(pos + p, v) for pos, sent in sentences for p, k, v in _scan(sent) if k == "d"])


def _event_date_joined(sentences: list[tuple[int, str]],
                       found: list[tuple[int, str, tuple]]) -> tuple[int | None, int, int] | None:
    """`_event_date(sentences)` from `found`, the `_scan_lines` of the sentences joined by
    "\n" (`news_text`) when no match crossed a line break: each date's position in the
    joined text is moved back to its sentence's place in the text."""
    dates = [(p, v) for p, k, v in found if k == "d"]
    if not dates:
        return None
    starts = list(itertools.accumulate((len(sent) + 1 for _, sent in sentences[:-1]), initial=0))
    out = []
    for p, v in dates:
        i = bisect.bisect_right(starts, p) - 1
        out.append((sentences[i][0] + p - starts[i], v))
    return _latest_date(out)


def _latest_date(dates: list[tuple[int, tuple]]) -> tuple[int | None, int, int] | None:
    """The event date of a text from its news dates (position in the text, (month, day,
    year or None)) in order; see `event_date`."""
    if not dates:
        return None
    pool = [v for p, v in dates if p < LEAD_CHARS] or [v for _, v in dates]
    doy = [_day_of_year(m, d) for m, d, _ in pool]
    if max(doy) - min(doy) > 183:
        doy = [x + 366 if x <= 183 else x for x in doy]
    years = [y for _, _, y in pool if y]
    key = [((y or (max(years) if years else 0)), x) for (_, _, y), x in zip(pool, doy)]
    m, d, y = pool[max(range(len(pool)), key=lambda i: key[i])]
    return (y, m, d)


# Words of the title and lead (the first LEAD_CHARS characters) are evidence within one
# language: "оправдать", "освободить", "убежище" tell the acquittal, the release and the
# asylum request apart where every report names the same people. Words shorter than this
# are mostly function words (и, в, на, the, of, în); IDF weighs down the longer common ones.
LEAD_WORD_MIN = 4
_LEMMA_LANGS = ("ru", "uk", "en", "ro")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def lead_words(text: str, language: str | None) -> set[str]:
    """The lemmatised content words of the title and lead: {"w:оправдать", ...}.

    Lemmas come from simplemma for ru/uk/en/ro (lower-cased word forms otherwise, or when
    simplemma is missing), so "оправдал" and "оправдали" are one feature. Words are compared
    within a language only in effect: ru and uk lemmas rarely coincide, and when they do
    they mean the same thing."""
    forms = [w for w in _WORD.findall(text[:LEAD_CHARS]) if len(w) >= LEAD_WORD_MIN]
    lang = (language or "").split("-")[0].lower()
    if lang in _LEMMA_LANGS:
        known = _LEAD_FEATURES[lang]
        try:
            out = {known[w] if w in known else _lead_feature(w, lang) for w in forms}
        except Exception:  # simplemma missing or without this language: word forms still work
            pass
        else:
            out.discard("")
            return out
    return {"w:" + w for w in {w.casefold() for w in forms} if len(w) >= LEAD_WORD_MIN}


# The lead word feature of each word form seen ("" when its lemma is too short), per
# language: one dict lookup a word in a warm worker (news leads repeat their words).
# Emptied when it holds this many forms (as _lemma's cache: a bound on a worker's memory).
_LEAD_FEATURES: dict[str, dict[str, str]] = {lang: {} for lang in _LEMMA_LANGS}
_LEAD_FEATURES_MAX = 200_000


def _lead_feature(form: str, lang: str) -> str:
    """`lead_words`' feature of one word form ("w:" + its lemma, or "" when the lemma is
    shorter than LEAD_WORD_MIN), remembered in _LEAD_FEATURES."""
    lemma = _lemma(form.casefold(), lang)
    known = _LEAD_FEATURES[lang]
    if len(known) >= _LEAD_FEATURES_MAX:
        known.clear()
    known[form] = feature = "w:" + lemma if len(lemma) >= LEAD_WORD_MIN else ""
    return feature


@functools.lru_cache(maxsize=200_000)
def _lemma(word: str, lang: str) -> str:
    """simplemma's lemma of a lower-cased word (cached: news leads repeat their words;
    presslens.enrich.lexicon: the dictionaries are not decoded again in every worker)."""
    from presslens.enrich import lexicon

    return lexicon.lemmatize(word, lang).casefold()


def event_date_feature(text: str, sentences: list[tuple[int, str]] | None = None) -> str | None:
    """`event_date` as an evidence string: "t:2018-10-31", or "t:10-31" without a year
    (`sentences`: the text's `news_sentences` when the caller has them already)."""
    return _date_feature(_event_date(news_sentences(text) if sentences is None else sentences))


def _date_feature(ev: tuple[int | None, int, int] | None) -> str | None:
    """An event date as the evidence string of `event_date_feature`."""
    if ev is None:
        return None
    y, m, d = ev
    return f"t:{y:04d}-{m:02d}-{d:02d}" if y else f"t:{m:02d}-{d:02d}"


# ---------------------------------------------------------------- text shingles

def core_text(text: str, boilerplate: list[list[int]] | None) -> str:
    """`text` with the boilerplate spans cut out (the part that is the article)."""
    if not boilerplate:
        return text
    parts, pos = [], 0
    for s, e in sorted((int(s), int(e)) for s, e in boilerplate):
        if s > pos:
            parts.append(text[pos:s])
        pos = max(pos, e)
    parts.append(text[pos:])
    return "\n".join(parts)


# Characters after which lower-casing a text and then cutting it into words (Polars: Rust's
# lower case, regex \w) is not the same as cutting it and lower-casing each word: "Σ" (its
# lower case depends on the letters around it: "ΟΔΟΣ.Α" is "οδοσ.α", the word "ΟΔΟΣ" is
# "οδος") and two letters of Unicode 16 that the regex tables do not know as word
# characters while their lower case is one (U+A7D2, U+A7D4). Every other character's lower
# case is its own and as much a word character as it is (tests/test_stories.py checks
# every code point): a batch holding none of these is lower-cased word by word.
_LOWER_CUT_UNSAFE = ("Σ", "\ua7d2", "\ua7d4")


def shingle_batch(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Stable 64-bit hashes of the word 5-grams of many texts (lower-cased).

    Returns (values, offsets): text i's shingles are values[offsets[i]:offsets[i+1]], in
    text order, a 5-gram as often as the text repeats it (its MinHash, a minimum, is
    the same as that of the distinct ones; sorting them out cost a fifth of this function).
    Words are cut by Polars (Rust regex, Unicode \\w); each distinct word of the batch is
    hashed once (blake2b, stable across runs and versions), then each run of SHINGLE_WORDS
    consecutive words of one text is hashed with NumPy. A text with fewer words than that
    has one shingle of all its words.
    """
    n = len(texts)
    k = SHINGLE_WORDS
    # The words of the lower-cased texts are the lower-cased words of the texts (see
    # _LOWER_CUT_UNSAFE): only the batch's distinct words are lower-cased, not every text.
    whole = any(c in t for t in texts for c in _LOWER_CUT_UNSAFE)
    text = pl.col("w").str.to_lowercase() if whole else pl.col("w")
    words = (pl.DataFrame({"w": pl.Series(texts, dtype=pl.String)}).with_row_index("d")
             .select("d", text.str.extract_all(r"\w+")).explode("w").drop_nulls("w"))
    if words.height == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(n + 1, dtype=np.int64)
    uniq = words["w"].unique()
    lowered = uniq if whole else uniq.str.to_lowercase()
    vocab = pl.DataFrame({"w": uniq, "h": _stable_hash64(lowered.to_list())}, schema={"w": pl.String, "h": pl.UInt64})
    words = words.join(vocab, on="w", how="left", maintain_order="left")
    wh = words["h"].to_numpy()
    doc = words["d"].to_numpy().astype(np.int64)
    nw = len(wh)
    mult = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        if nw >= k:
            h = np.zeros(nw - k + 1, dtype=np.uint64)
            for i in range(k):
                h = h * mult + wh[i:nw - k + 1 + i]
            hd = doc[:nw - k + 1]
            ok = hd == doc[k - 1:]
            h, hd = h[ok], hd[ok]
        else:
            h, hd = np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
        wcount = np.bincount(doc, minlength=n)
        is_short = (wcount > 0) & (wcount < k)
        short = np.flatnonzero(is_short)
        if len(short):
            sh = np.zeros(n, dtype=np.uint64)
            sw = is_short[doc]
            for d, w in zip(doc[sw].tolist(), wh[sw].tolist()):
                sh[d] = sh[d] * mult + np.uint64(w)
            # the windows are in text order already: the short texts' shingles go in between
            # (a stable sort of two sorted runs, one merge)
            hd = np.concatenate([hd, short])
            order = np.argsort(hd, kind="stable")
            h, hd = np.concatenate([h, sh[short]])[order], hd[order]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(hd, minlength=n))]).astype(np.int64)
    return h, offsets


# ---------------------------------------------------------------- MinHash

def minhash(values: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """MinHash signatures of many sets at once.

    `values` holds every set's 64-bit element hashes back to back; set i is
    values[offsets[i]:offsets[i+1]] (len(offsets) = n_sets + 1). Hash k of an element is
    the multiply-shift hash (a[k]*x + b[k]) >> 32 (mod 2^64); the signature is its minimum
    per set. Empty sets get the all-ones signature (they collide with nothing useful:
    their bands are dropped by the caller). Returns uint32 [n_sets, len(a)].
    """
    n = len(offsets) - 1
    out = np.full((n, len(a)), np.iinfo(np.uint32).max, dtype=np.uint32)
    if n == 0 or len(values) == 0:
        return out
    sizes = np.diff(offsets)
    nonempty = sizes > 0
    starts = offsets[:-1][nonempty]
    with np.errstate(over="ignore"):
        for k in range(len(a)):
            hv = ((values * a[k] + b[k]) >> np.uint64(32)).astype(np.uint32)
            out[nonempty, k] = np.minimum.reduceat(hv, starts)
    return out


def band_hashes(sig: np.ndarray, rows: int) -> np.ndarray:
    """LSH band keys: one uint64 per band of `rows` consecutive signature values."""
    n, p = sig.shape
    nb = p // rows
    s = sig[:, :nb * rows].astype(np.uint64).reshape(n, nb, rows)
    h = np.zeros((n, nb), dtype=np.uint64)
    mult = np.uint64(0x100000001B3)
    with np.errstate(over="ignore"):
        for r in range(rows):
            h = (h ^ s[:, :, r]) * mult
        h ^= np.arange(nb, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # bands never collide with each other
    return h


def _array(m: np.ndarray, dtype: pl.DataType) -> pl.Series:
    """A 2-D NumPy matrix as a Polars fixed-size Array column (no Python objects)."""
    flat = pl.Series(m.reshape(-1))
    return flat.reshape((m.shape[0], m.shape[1])).cast(dtype) if m.shape[0] else pl.Series([], dtype=dtype)


def _matrix(col: pl.Series, dtype) -> np.ndarray:
    """A fixed-size Array column as a 2-D NumPy matrix."""
    width = col.dtype.size
    if len(col) == 0:
        return np.zeros((0, width), dtype=dtype)
    if col.null_count() == 0:
        return col.to_numpy().astype(dtype, copy=False).reshape(len(col), width)  # no exploded copy
    return col.explode().to_numpy().astype(dtype, copy=False).reshape(len(col), width)


def _stable_hash64(strings: list[str]) -> np.ndarray:
    """blake2b (8 bytes, little-endian) of each string's UTF-8: stable across runs and versions.
    (The digests are joined and read as one array: no Python int per string.)"""
    blake = hashlib.blake2b
    digests = b"".join([blake(s.encode("utf-8", "surrogatepass"), digest_size=8).digest() for s in strings])
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def story_key() -> pl.Expr:
    """Each article's story key, from its `path` and `record` columns ("path\\0record"). A story
    is named after the smallest key of its originals (`story_name`), so its id depends on which
    files are in it, not on their text: a rebuild after an edit keeps the story's id (and every
    link of the story its story_id: on the 10k bench store the stories renamed by a 1% rebuild
    moved ~4,000 links a run while the smallest doc_id named them)."""
    return pl.concat_str([pl.col("path").fill_null(""), pl.col("record").cast(pl.String).fill_null("")],
                         separator="\0").alias("story_key")


def story_name(keys: pl.Series) -> pl.Series:
    """The story id of each smallest story key: 16 hex digits of its blake2b (hashed per story
    named, not per article: a 1% rebuild names a few hundred stories)."""
    return pl.Series("story_id", [f"{h:016x}" for h in _stable_hash64(keys.to_list()).tolist()], dtype=pl.String)


# ---------------------------------------------------------------- features

FEATURES_SCHEMA = {"doc_id": pl.String, "feature": pl.String}
SIGNATURES_SCHEMA = {
    "doc_id": pl.String,
    "language": pl.String,
    "published": pl.Date,
    "feat_bands": pl.Array(pl.UInt64, FEAT_PERM // FEAT_ROWS),
    "text_sig": pl.Array(pl.UInt32, TEXT_PERM),  # its text bands are derived from it (band_hashes)
    # its evidence features as stable 64-bit hashes (_stable_hash64 of "e:<id>", "n:250"...),
    # sorted and unique: 8 bytes a feature instead of a string per (article, feature) row
    "features": pl.List(pl.UInt64),
    "story_id": pl.String,  # the article's story after the run that saved the state
}
# What an article not yet grouped brings (its feature bands are made by group_features).
NEW_SIGNATURES_SCHEMA = {c: t for c, t in SIGNATURES_SCHEMA.items() if c != "feat_bands"}
# The names behind the feature hashes (one row per distinct feature of the corpus): only read
# to spell out a link's evidence, never to score.
NAMES_SCHEMA = {"fh": pl.UInt64, "feature": pl.String}
LINKS_SCHEMA = store.STORY_LINKS_SCHEMA
STORY_IDS_SCHEMA = {"doc_id": pl.String, "story_id": pl.String}


def text_evidence(texts: list[str], boilerplates: list | None = None,
                  languages: list[str | None] | None = None) -> tuple[list[list[str]], np.ndarray]:
    """The per-article, text-only part of the evidence (what a build worker computes).

    In: article texts and their boilerplate spans (cut out first). Out: (per article the
    sorted figures and dates "n:230000", "d:07-25", plus "l"-prefixed copies of those in the
    title/lead; the MinHash signature of its word 5-gram shingles, uint32 [n, TEXT_PERM],
    all-ones for an empty text).
    """
    bps = boilerplates if boilerplates is not None else [None] * len(texts)
    cores = [core_text(t or "", bp) for t, bp in zip(texts, bps)]
    langs = languages if languages is not None else [None] * len(texts)
    evidence = []
    for c, lang in zip(cores, langs):
        sentences = news_sentences(c)  # once for the news text and the event date
        news = news_text(c, sentences)
        found, crossed = _scan_lines(news)  # once for its figures and its event date
        ev = _features(found) | {"l" + f for f in numbers_and_dates(c[:LEAD_CHARS])} | lead_words(c, lang)
        # a match across a sentence joint: each sentence is scanned alone as event_date does
        t = _date_feature(_event_date(sentences) if crossed else _event_date_joined(sentences, found))
        if t:
            ev.add(t)
        evidence.append(sorted(ev))
    vals, offsets = shingle_batch(cores)
    return evidence, minhash(vals, offsets, _TEXT_A, _TEXT_B)


def article_features(articles: pl.DataFrame, doc_entities: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Evidence features and LSH signatures of some articles.

    In: articles (doc_id, language, published, cited_sources, and either the build's
    story_evidence + text_minhash columns or text + boilerplate to compute them from) and
    their doc_entities. Out: (features: doc_id, feature — "e:<entity_id>", "s:<source>",
    "n:<number>", "d:<MM-DD>", "ln:"/"ld:" for those in the lead; signatures:
    NEW_SIGNATURES_SCHEMA).
    """
    n = articles.height
    cols = articles.columns
    if "story_evidence" in cols and "text_minhash" in cols and (n == 0 or not (
            articles["story_evidence"].is_null().any() or articles["text_minhash"].is_null().any())):
        evidence = articles["story_evidence"]
        if evidence.dtype == pl.String:  # as stored (store.ARTICLES_SCHEMA): space-separated
            evidence = evidence.str.split(" ").list.eval(pl.element().filter(pl.element() != ""))
        tsig = _matrix(articles["text_minhash"], np.uint32)
    else:
        bps = articles["boilerplate"].to_list() if "boilerplate" in cols else None
        langs = articles["language"].to_list() if "language" in cols else None
        ev, tsig = text_evidence(articles["text"].to_list(), bps, langs)
        evidence = pl.Series(ev, dtype=pl.List(pl.String))
    parts = [pl.DataFrame({"doc_id": articles["doc_id"], "feature": evidence}).explode("feature")]
    if "cited_sources" in cols:
        parts.append(articles.select("doc_id", pl.col("cited_sources").alias("feature")).explode("feature")
                     .with_columns(("s:" + pl.col("feature").str.to_lowercase()).alias("feature")))
    parts.append(doc_entities.join(articles.select("doc_id"), on="doc_id", how="semi")
                 .select("doc_id", ("e:" + pl.col("entity_id")).alias("feature")))
    feats = pl.concat([p.cast(FEATURES_SCHEMA) for p in parts]).drop_nulls().unique().sort("doc_id", "feature")
    sigs = _signatures(articles.select("doc_id", "language", "published"), tsig)
    return feats, sigs

def _signatures(meta: pl.DataFrame, tsig: np.ndarray) -> pl.DataFrame:
    """NEW_SIGNATURES_SCHEMA rows for `meta`'s articles from their text MinHash; the feature
    band keys are made by group_features (they need the corpus-wide document frequencies) and
    the feature hashes by `encode_features`."""
    n = meta.height
    return pl.DataFrame({
        "doc_id": meta["doc_id"],
        "language": meta["language"],
        "published": meta["published"],
        "text_sig": _array(tsig.astype(np.uint32), SIGNATURES_SCHEMA["text_sig"]),
        # n empty lists and n nulls from buffers (a Python list of n objects cost ~0.15 s at 10k)
        "features": _list_series(np.zeros(0, np.uint64), np.zeros(n + 1, np.int64)),
        "story_id": pl.repeat(None, n, dtype=pl.String, eager=True),
    }, schema=NEW_SIGNATURES_SCHEMA)


def encode_features(sigs: pl.DataFrame, feats: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Replace the string features of some articles by their 64-bit hashes.

    In: NEW_SIGNATURES_SCHEMA rows and those articles' features (FEATURES_SCHEMA, as
    `article_features` returns them). Out: (the rows with `features` filled: sorted unique
    hashes; the NAMES_SCHEMA dictionary of those features). The build calls this per batch,
    so the corpus's features are never held as strings. Two features with the same 64-bit
    hash would count as one (probability ~n^2/2^65: nil for millions of features).
    """
    uniq = feats["feature"].unique()
    names = pl.DataFrame({"fh": _stable_hash64(uniq.to_list()), "feature": uniq}, schema=NAMES_SCHEMA)
    per_doc = (feats.join(names, on="feature").group_by("doc_id")
               .agg(pl.col("fh").unique().sort().alias("features")))
    out = (sigs.drop("features", strict=False).join(per_doc, on="doc_id", how="left", maintain_order="left")
           .with_columns(pl.col("features").fill_null(pl.lit([], pl.List(pl.UInt64))))
           .select(list(NEW_SIGNATURES_SCHEMA)).cast(NEW_SIGNATURES_SCHEMA))
    return out, names


def _list_arrays(col: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """A List(UInt64) column as (flat values, offsets [len + 1]) NumPy arrays (a null list is
    an empty one). Polars only: PyArrow's NumPy conversions import pandas (~0.5 s CPU)."""
    if len(col) == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(1, dtype=np.int64)
    lens = col.list.len().fill_null(0).to_numpy().astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    values = col.explode(empty_as_null=False, keep_nulls=False).to_numpy().astype(np.uint64, copy=False)
    return values, offsets


def _arrow_numbers(a: np.ndarray, dtype: np.dtype, arrow_type) -> "pa.Array":  # noqa: F821
    """A PyArrow array over a NumPy array's buffer (no copy; `pa.array` would import pandas,
    ~0.5 s CPU, for nothing)."""
    import pyarrow as pa

    a = np.ascontiguousarray(a, dtype=dtype)
    return pa.Array.from_buffers(arrow_type, len(a), [None, pa.py_buffer(a)])


# ---------------------------------------------------------------- state

def state_version() -> str:
    """STATE_VERSION plus the pair scorer's fingerprint: the kept links' scores were made by
    one scorer, so a state saved under another one (a retrained model) is rebuilt."""
    return f"{STATE_VERSION}:{scorer().fingerprint()}"


Frame = pl.DataFrame | pl.LazyFrame


@dataclass(frozen=True)
class StoryState:
    """What an incremental run needs from the previous one (persisted as three Parquet files).

    A loaded state holds LazyFrames over its files: the next run reads only the rows and
    columns it keeps (no second in-memory copy of the whole state while filtering).
    """

    signatures: Frame  # SIGNATURES_SCHEMA, one row per grouped (non-duplicate) article
    names: Frame  # NAMES_SCHEMA: the features behind the hashes
    links: Frame  # LINKS_SCHEMA (the story_links table)
    # the version directory a loaded state's links are read from (its base, dropped and delta
    # files: store.scan_story_links), so the next run can write only what changed
    links_dir: Path | None = None
    # a state whose links are not written yet (group_features(defer_links=True)): writes them
    # into the directory `save` is given and returns them; `links` is then None
    pending: Callable[[], Frame] | None = None
    # the arrays the run that made this state derived from it (_Kept; never saved): a
    # long-lived build keeps them with the state, and the next run carries them forward
    kept: "_Kept | None" = None
    # the delta and dropped-keys tables of the links in `links_dir` (store.STORY_LINKS_DELTA,
    # STORY_LINKS_DROPPED) as written, when a long-lived build kept them: _link_delta uses them
    # instead of reading and decoding the files again
    links_parts: "tuple[pl.DataFrame, pl.DataFrame] | None" = None
    # filled by `save` when it writes the links as base + delta: {"delta", "dropped"}, the two
    # tables as written (what the next run's `links_parts` may be)
    links_out: dict | None = None

    def written_links(self) -> "tuple[pl.DataFrame, pl.DataFrame] | None":
        """The links' delta and dropped-keys tables `save` wrote (what the next run's
        `links_parts` may be), or None when it wrote the links otherwise (whole, or streamed)."""
        out = self.links_out or {}
        return (out["delta"], out["dropped"]) if "delta" in out else None

    def save(self, directory: str | Path) -> None:
        """Write story_signatures/features/links.parquet into `directory`: the links only when
        not already written there (the build streams them in place, or `pending` writes them
        first). Each file is written beside and renamed into place, never written into: a
        story_links.parquet there may be a hard link to the previous version's (_link_delta)."""
        d = Path(directory)
        links = self.pending() if self.pending is not None else self.links
        for frame, name in ((self.signatures, "story_signatures"), (self.names, "story_features"),
                            (links, "story_links")):
            target = d / f"{name}.parquet"
            if isinstance(frame, pl.LazyFrame) and name == "story_links" and target.exists():
                continue
            # written beside and moved into place: a file there may be a hard link to the
            # previous version's (_link_delta), which writing in place would change too
            part = d / f"{name}.saving.parquet"
            if isinstance(frame, pl.LazyFrame):
                frame.sink_parquet(part, **LINK_PARQUET)
            else:
                frame.write_parquet(part, **LINK_PARQUET)
            os.replace(part, target)
        (d / "story_state_version").write_text(state_version(), encoding="utf-8")

    @staticmethod
    def load(directory: str | Path) -> "StoryState | None":
        """The state saved in `directory` (as LazyFrames over its files), or None when missing
        or made by another version."""
        d = Path(directory)
        try:
            if (d / "story_state_version").read_text(encoding="utf-8").strip() != state_version():
                return None
            frames = [pl.scan_parquet(d / f"{name}.parquet") for name in ("story_signatures", "story_features")]
            frames.append(store.scan_story_links(d))
            for f, schema in zip(frames, (SIGNATURES_SCHEMA, NAMES_SCHEMA, LINKS_SCHEMA)):
                if not set(schema) <= set(f.collect_schema().names()):
                    return None
            return StoryState(*frames, links_dir=d)
        except (OSError, pl.exceptions.PolarsError):
            return None


def empty_state() -> StoryState:
    """The state of an empty corpus (what a first run starts from)."""
    return StoryState(pl.DataFrame(schema=SIGNATURES_SCHEMA), pl.DataFrame(schema=NAMES_SCHEMA),
                      pl.DataFrame(schema=LINKS_SCHEMA))


# ---------------------------------------------------------------- candidates

def _unique_u64(keys: np.ndarray) -> np.ndarray:
    """Sorted unique values of a uint64 array (sort-based: faster than np.unique's hashing here)."""
    if len(keys) == 0:
        return keys
    keys = np.sort(keys)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])]


def _band_buckets(bands_all: np.ndarray | list[np.ndarray], new_mask: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The LSH buckets that can give a candidate pair: for the band columns of `bands_all`
    ([n, n_bands] uint64, or a list of such matrices; 0 = no band), the rows of the buckets
    (a band column and a key) that hold at least two rows, one of them new, as (rows uint32,
    reach uint8): the rows bucket by bucket, in a pseudo-random order inside each bucket (by
    the mixed row index), and reach[k] = how many of the following rows row k is paired with
    (the rest of its bucket, at most BUCKET_WINDOW).

    A bucket of up to BUCKET_WINDOW + 1 rows yields all its pairs; in a larger one (a big
    story, or a feature everybody shares) each row is paired with the next BUCKET_WINDOW rows
    in that order, so the bucket still connects but costs O(size), not O(size^2). Most
    buckets hold one row: they are dropped here, so the pairs are then made (`_bucket_pairs`,
    once per candidate slice) from a few bytes per row of the larger buckets only.

    The band columns are taken a group at a time (BAND_GROUP_ENTRIES rows x columns each:
    all 48 at once below ~40,000 articles) with one sort per group, not one per column: an
    incremental run at 10,000 articles spent ~0.1 s here and in `_bucket_pairs` going column
    by column. The buckets and their order are the same either way.
    """
    mats = bands_all if isinstance(bands_all, list) else [bands_all]
    bands = mats[0] if len(mats) == 1 else np.concatenate(mats, axis=1)
    n, n_bands = bands.shape
    all_new = bool(new_mask.all())
    step = max(1, min(n_bands, BAND_GROUP_ENTRIES // max(n, 1)))
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for g0 in range(0, n_bands, step):
        h = bands[:, g0:g0 + step]
        live = h != 0
        if all_new:
            sel = live
        else:  # rows whose key is a new row's key: a bucket holding a new row is among them
            # (a key of a new row in another column may select a bucket without one: its pairs
            # are old ones, dropped by _bucket_pairs)
            hn = h[new_mask].ravel()
            if len(hn) == 0:
                continue
            # (a hash lookup: np.isin and np.searchsorted took 40-55 ms at 10,000 x 48)
            sel = live & (pl.Series(np.ascontiguousarray(h).ravel()).is_in(pl.Series(hn).implode())
                          .to_numpy().reshape(h.shape))
        rows, cols = np.nonzero(sel)
        del sel
        if len(rows) < 2:
            continue
        hs, ii = h[rows, cols], rows.astype(np.uint64)
        # the rows of buckets of two or more: sorted by (column, key), then by the mixed row
        # index (a pseudo-random order inside each bucket)
        with np.errstate(over="ignore"):
            mix = ii * np.uint64(0x9E3779B97F4A7C15)
        order = np.lexsort((mix, hs, cols))
        hs, ii, cols = hs[order], ii[order], cols[order]
        del order, mix, rows
        edge = np.concatenate([[True], (hs[1:] != hs[:-1]) | (cols[1:] != cols[:-1])])
        first = np.flatnonzero(edge)
        size = np.diff(np.append(first, len(hs)))
        keep = np.repeat(size >= 2, size)
        if not keep.any():
            continue
        ii, size = ii[keep], size[size >= 2]
        first = np.concatenate([[0], np.cumsum(size)[:-1]])
        end = np.repeat(first + size, size)
        reach = np.minimum(end - np.arange(len(ii)) - 1, BUCKET_WINDOW).astype(np.uint8)
        out.append((ii.astype(np.uint32), reach))
    return out


def _bucket_pairs(buckets: list[tuple[np.ndarray, np.ndarray]], new_mask: np.ndarray,
                  lo_range: tuple[int, int] | None = None) -> np.ndarray:
    """Candidate pairs (i < j, as uint64 keys i<<32|j, sorted) of rows sharing a bucket of
    `_band_buckets`, where at least one of the two rows is new. With `lo_range` (lo, hi) only
    the pairs whose smaller row is in [lo, hi) are returned: the caller takes the candidates
    in slices so that they never all sit in memory at once.

    The pairs of a bucket are the rows at positions (q, q + d) with d <= reach[q]. When new
    rows are a minority of a group's bucket rows (an incremental run), only the pairs with a
    new end are made: forward from each new row (d <= its reach) and backward to it (q = p - d
    with reach[q] >= d, which holds exactly when q is in p's bucket and d <= BUCKET_WINDOW, so
    a row that fails stops its walk back). The same pairs as making every pair of the window
    and keeping those with a new end, without the old rows' pairs: on the 100k bench corpus
    (buckets of ~185 near-copies, each row paired with up to 50 others) a 1% rebuild made the
    window pairs of every row of those buckets to keep those of ~1% of them (7.3 -> 2.3 s)."""
    lo_lim, hi_lim = lo_range if lo_range is not None else (0, len(new_mask))
    keys: list[np.ndarray] = []
    pending = 0
    all_new = bool(new_mask.all())  # (a first run: every pair of the window, no count per group)

    def add(x: np.ndarray, y: np.ndarray) -> None:
        nonlocal pending
        lo, hi = np.minimum(x, y), np.maximum(x, y)
        if lo_range is not None:
            inside = (lo >= lo_lim) & (lo < hi_lim)
            lo, hi = lo[inside], hi[inside]
        keys.append((lo << np.uint64(32)) | hi)
        pending += len(lo)

    for ii, reach in buckets:
        is_new = None if all_new else new_mask[ii]
        n_new = len(ii) if all_new else int(np.count_nonzero(is_new))
        ii = ii.astype(np.uint64)
        if n_new == 0:
            continue
        if 2 * n_new < len(ii):  # the pairs with a new end only
            fwd = back = np.flatnonzero(is_new)
            for d in range(1, BUCKET_WINDOW + 1):
                fwd = fwd[reach[fwd] >= d]
                back = back[back >= d]
                back = back[reach[back - d] >= d]
                if len(fwd) == 0 and len(back) == 0:
                    break
                add(ii[fwd], ii[fwd + d])
                add(ii[back - d], ii[back])
        else:
            pos = np.arange(len(ii))
            for d in range(1, BUCKET_WINDOW + 1):
                pos = pos[reach[pos] >= d]
                if len(pos) == 0:
                    break
                add(ii[pos], ii[pos + d])
        # the same pair collides in many bands: deduplicate as we go so memory stays near
        # the number of distinct pairs, not bands x pairs
        if pending > DEDUP_EVERY:
            keys, pending = [_unique_u64(np.concatenate(keys))], 0
    if not keys:
        return np.zeros(0, dtype=np.uint64)
    pairs = _unique_u64(np.concatenate(keys))
    del keys
    a = (pairs >> np.uint64(32)).astype(np.int64)
    b = (pairs & np.uint64(0xFFFFFFFF)).astype(np.int64)
    return pairs[new_mask[a] | new_mask[b]]


# ---------------------------------------------------------------- scoring

@dataclass
class _Corpus:
    """The grouped articles as NumPy arrays, row i = article i (what scoring and the evidence
    lists read): about 200 bytes an article plus 5 bytes per (article, feature)."""

    doc_ids: pl.Series
    text_sig: np.ndarray  # uint32 [n, TEXT_PERM]
    lang: np.ndarray  # int32 language code (-1 unknown)
    pub: np.ndarray  # int32 days since 1970
    pub_null: np.ndarray  # bool
    x: sparse.csr_array  # article x feature code incidence (int8 ones; codes index `w`, sorted in a row)
    w: np.ndarray  # float64 IDF x kind weight per code
    is_word: np.ndarray  # bool per code: a lead word ("w:"), scored in a cosine of its own
    norms: np.ndarray  # float64 [n, 2]: weight norm per article, evidence features and lead words
    ev_full: np.ndarray  # int64 event date per article (days since 1970, -1 unknown; event_days)
    ev_doy: np.ndarray  # int64 event day of year per article (0 unknown)
    labels: pl.Series  # display value per code ("Q1", "250", "n:250" for a lead figure)
    kind: np.ndarray  # uint8: the kind letter per code (ord("e")...)
    label_rank: np.ndarray  # int64: rank of the label per code (evidence lists sort by it)


def _shared(ctx: _Corpus, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The feature codes both articles of each pair (a[p], b[p]) have: (pair index, code)
    for every shared feature, pairs ascending and codes ascending within a pair.

    The element-wise product of the two articles' rows of the sparse article x code matrix:
    SciPy merges the two sorted code lists of every pair in compiled code (10x faster than a
    binary search of each of a's codes among all (article, code) keys, which it replaced)."""
    if len(a) == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.uint32)
    both = ctx.x[np.asarray(a, np.int64)].multiply(ctx.x[np.asarray(b, np.int64)]).tocsr()
    if not both.has_sorted_indices:
        both.sort_indices()
    rows = np.repeat(np.arange(len(a), dtype=np.int32), np.diff(both.indptr))
    return rows, both.indices.astype(np.uint32)


def _code_matrix(n: int, codes: np.ndarray, start: np.ndarray, n_codes: int) -> sparse.csr_array:
    """The article x code incidence matrix (int8 ones; codes sorted within each article)."""
    from scipy import sparse

    return sparse.csr_array((np.ones(len(codes), np.int8), codes.astype(np.int32), start.astype(np.int64)),
                            shape=(n, max(n_codes, 1)))


def _text_similarity(ctx: _Corpus, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of the two texts' shingles (0 when either text is empty)."""
    tsim = (ctx.text_sig[a] == ctx.text_sig[b]).mean(axis=1)
    empty = np.iinfo(np.uint32).max
    tsim[(ctx.text_sig[a, 0] == empty) | (ctx.text_sig[b, 0] == empty)] = 0.0
    return tsim


def _near_dup(ctx: _Corpus, a: np.ndarray, b: np.ndarray, tsim: np.ndarray) -> np.ndarray:
    """Same (known or unknown) language and near-identical text."""
    return (ctx.lang[a] == ctx.lang[b]) & (tsim >= NEAR_DUP_JACCARD)


def event_days(published: pl.Series, doc_ids: pl.Series, feats: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each article's event date as (full date in days since 1970 or -1, day of year 1..366 or 0).

    The date is the text's estimate (the "t:" feature, see `event_date`); without a year, the
    year that puts it nearest the publication date when there is one. An article whose text
    writes no date has its publication date, if any; one with neither has no event date (0).
    """
    n = len(doc_ids)
    full = np.full(n, -1, dtype=np.int64)
    doy = np.zeros(n, dtype=np.int64)
    pub = published.cast(pl.Int32).to_numpy()
    pub_ok = ~published.is_null().to_numpy()
    epoch = _dt.date(1970, 1, 1)
    for i in np.flatnonzero(pub_ok).tolist():
        d = epoch + _dt.timedelta(days=int(pub[i]))
        full[i], doy[i] = int(pub[i]), _day_of_year(d.month, d.day)
    t = feats.filter(pl.col("feature").str.starts_with("t:"))
    if t.height:
        idx = pl.DataFrame({"doc_id": doc_ids, "i": np.arange(n, dtype=np.int64)})
        for i, f in t.join(idx, on="doc_id").select("i", "feature").iter_rows():
            parts = [int(x) for x in f[2:].split("-")]
            y, m, d = parts if len(parts) == 3 else (None, *parts)
            doy[i] = _day_of_year(m, d)
            if y is None and pub_ok[i]:
                p = epoch + _dt.timedelta(days=int(pub[i]))
                y = min((p.year - 1, p.year, p.year + 1),
                        key=lambda yy: abs((_safe_date(yy, m, d) - p).days))
            full[i] = (_safe_date(y, m, d) - epoch).days if y else -1
    return full, doy


def _safe_date(y: int, m: int, d: int) -> _dt.date:
    """The date y-m-d, with a day past the month's end (29 February) moved to its last day."""
    try:
        return _dt.date(y, m, d)
    except ValueError:
        return _dt.date(y, m, 28)


def event_days_apart(full: np.ndarray, doy: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Days between the event dates of article pairs (a[k], b[k]); -1 when one is unknown.

    Full dates are compared exactly; otherwise by day of year, around the year's end."""
    both_full = (full[a] >= 0) & (full[b] >= 0)
    d = np.abs(doy[a] - doy[b])
    d = np.minimum(d, 366 - d)
    d = np.where(both_full, np.abs(full[a] - full[b]), d)
    return np.where((doy[a] > 0) & (doy[b] > 0), d, -1)


# The per-pair features a scorer sees (`pair_features`), in this column order. A learned
# pair model (presslens/story_model.py) stores its coefficients by these names.
PAIR_FEATURES = (
    "cos",  # the pair's similarity under the rules: max(cos_e, cos_w) within a language, else cos_e
    "cos_e",  # IDF-weighted cosine of the evidence features (entities, sources, figures, dates)
    "cos_w",  # IDF-weighted cosine of the lead words (0 across languages)
    "same_lang",  # 1 when both articles are in the same (known or unknown) language
    "cos_entities", "cos_sources", "cos_numbers", "cos_dates", "cos_lead",  # cos_e's share per kind
    "log_shared_info",  # log(1 + shared features with weight >= MIN_IDF, words included)
    "log_shared_words",  # log(1 + shared lead words with weight >= MIN_IDF), same language only
    "max_shared_weight",  # the weight of the rarest shared evidence feature (0 if none)
    "text_sim",  # estimated Jaccard of the word 5-gram shingles
    "event_gap",  # days between the event dates (0..MAX_DAYS_APART after the gate; 0 if unknown)
    "event_unknown",  # 1 when either article has no event date
)


def _rule_similarity(ctx: _Corpus, a: np.ndarray, b: np.ndarray,
                     shared: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The rules' two features of pairs (a[k], b[k]): `cos` and the count of shared informative
    features, as `pair_features` computes them but without the rest (the rules' fast path).
    `shared`: the pairs' `_shared` rows when the caller has them."""
    m = len(a)
    rows, f = shared if shared is not None else _shared(ctx, a, b)
    wf = ctx.w[f]
    isw = ctx.is_word[f]
    dot = np.bincount(rows, weights=np.where(isw, 0.0, wf * wf), minlength=m)
    dot_w = np.bincount(rows, weights=np.where(isw, wf * wf, 0.0), minlength=m)
    n_info = np.bincount(rows, weights=(wf >= MIN_IDF), minlength=m)
    norms = ctx.norms
    cos_e = dot / np.maximum(norms[a, 0] * norms[b, 0], 1e-12)
    cos_w = dot_w / np.maximum(norms[a, 1] * norms[b, 1], 1e-12)
    same = (ctx.lang[a] == ctx.lang[b]) & (norms[a, 1] > 0) & (norms[b, 1] > 0)
    return np.where(same, np.maximum(cos_e, cos_w), cos_e), n_info


# The bincount slot of each evidence kind in `pair_features` (indexed by the kind's letter code).
_KIND_SLOT = np.full(256, 5, dtype=np.int64)
for _i, _k in enumerate("esndl"):
    _KIND_SLOT[ord(_k)] = _i


def pair_features(ctx: _Corpus, a: np.ndarray, b: np.ndarray, tsim: np.ndarray,
                  shared: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The PAIR_FEATURES of article pairs (a[k], b[k]) as a float64 matrix [len(a), len(PAIR_FEATURES)].

    Everything comes from the integer-coded corpus (shared feature codes looked up with
    `_shared`, weights `ctx.w`, per-article norms): no strings, PAIR_CHUNK pairs at a time.
    `shared`: the pairs' `_shared` rows when the caller has them."""
    m = len(a)
    rows, f = shared if shared is not None else _shared(ctx, a, b)
    wf = ctx.w[f]
    isw = ctx.is_word[f]
    same = ctx.lang[a] == ctx.lang[b]
    # a lead word counts only within one language
    usable = ~isw | same[rows]
    wf2 = np.where(usable, wf * wf, 0.0)
    norms = ctx.norms
    den_e = np.maximum(norms[a, 0] * norms[b, 0], 1e-12)
    den_w = np.maximum(norms[a, 1] * norms[b, 1], 1e-12)
    # one bincount for every sum: slot 0-4 the evidence kinds e, s, n, d, l; 5 other evidence
    # (event dates, weight 0); 6 lead words
    slot = _KIND_SLOT[ctx.kind[f]]
    slot[isw] = 6
    r64 = rows.astype(np.int64)
    sums = np.bincount(r64 * 7 + slot, weights=wf2, minlength=7 * m).reshape(m, 7)
    per_kind = sums[:, :5] / den_e[:, None]
    cos_e = sums[:, :6].sum(axis=1) / den_e
    cos_w = np.where(same, sums[:, 6] / den_w, 0.0)
    has_w = same & (norms[a, 1] > 0) & (norms[b, 1] > 0)
    cos = np.where(has_w, np.maximum(cos_e, cos_w), cos_e)
    info = wf >= MIN_IDF  # as the rules always counted them (a ru and a uk lemma rarely coincide)
    counts = np.bincount(r64 * 2 + isw, weights=info, minlength=2 * m).reshape(m, 2)
    n_info, n_words = counts.sum(axis=1), counts[:, 1]
    # the rarest shared evidence feature: `rows` is sorted (see `_shared`), so a segment max
    max_w = np.zeros(m)
    ev = ~isw
    r_ev, w_ev = rows[ev], wf[ev]
    if len(r_ev):
        first = np.flatnonzero(np.concatenate([[True], r_ev[1:] != r_ev[:-1]]))
        max_w[r_ev[first]] = np.maximum.reduceat(w_ev, first)
    gap = event_days_apart(ctx.ev_full, ctx.ev_doy, a, b)
    return np.column_stack([cos, cos_e, cos_w, same.astype(np.float64), per_kind, np.log1p(n_info),
                            np.log1p(n_words), max_w, tsim, np.maximum(gap, 0).astype(np.float64),
                            (gap < 0).astype(np.float64)])


@dataclass(frozen=True)
class PairScorer:
    """How a candidate pair's features become a link and a score, and how links become stories.

    `coef` None: the hand rules (a pair links when `cos` >= LINK_THRESHOLD and it shares at
    least MIN_SHARED informative features; its score is `cos`). Otherwise a logistic model over
    PAIR_FEATURES (standardised by `mean`/`scale`): the score is the probability that both
    articles report the same event, and a pair links when it is >= `threshold` and shares at
    least MIN_SHARED informative features (or, `with_rules`, when the rules link it). Either way
    `_score_pairs` then keeps only the links whose articles share a name (an entity or a cited
    source; the features hold no count of those). Near-duplicates link whatever the scorer says. `merge_density` is the clustering's share of linked pairs
    two groups need to merge (see `cluster`)."""

    threshold: float = LINK_THRESHOLD
    merge_density: float = MERGE_DENSITY
    coef: tuple[float, ...] | None = None
    intercept: float = 0.0
    mean: tuple[float, ...] | None = None
    scale: tuple[float, ...] | None = None
    name: str = "rules"
    # complement the rules instead of replacing them: a pair also links when the rules link it
    # (LINK_THRESHOLD, MIN_SHARED), its score being the model's probability either way
    with_rules: bool = False

    def fingerprint(self) -> str:
        """A short digest of everything that decides links and scores (stored with the state)."""
        return hashlib.sha1(repr(self).encode()).hexdigest()[:12]

    def score(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(links?, score) for a PAIR_FEATURES matrix."""
        cos = x[:, PAIR_FEATURES.index("cos")]
        n_info = np.rint(np.expm1(x[:, PAIR_FEATURES.index("log_shared_info")]))
        rule = (cos >= LINK_THRESHOLD) & (n_info >= MIN_SHARED)
        if self.coef is None:
            return rule, cos
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        p = 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.coef) + self.intercept)))
        # the rules' evidence floor holds for the model too: a pair sharing fewer than MIN_SHARED
        # informative features is no event however similar its few words (in a tiny corpus
        # every IDF is small and a lead-word cosine alone can be high)
        model = (p >= self.threshold) & (n_info >= MIN_SHARED)
        return model | (rule if self.with_rules else False), p


RULES = PairScorer()
# The scorer the grouping uses (`scorer()`); `using_scorer` swaps it (evaluation, training).
_SCORER: PairScorer | None = None
# When a list (see `recording_pairs`), every candidate pair that passes the date gates is
# appended to it as (corpus, a, b, features, near_dup): the training data of the pair model.
_PAIR_LOG: list | None = None


# The pair scorer: by default the learned pair model on top of the rules (the committed
# presslens/models/story_pairs.json, trained on three BSNLP story families and four chunks of
# labelled Reuters wire news, run 8 in docs/STORIES.md); set to 0 to group with the hand rules
# alone, or to a model file's path to use that model.
MODEL_ENV = "PRESSLENS_STORY_MODEL"


def scorer() -> PairScorer:
    """The pair scorer in use: the learned pair model (MODEL_ENV unset or 1: the committed one; a
    path: that file), or the hand rules when MODEL_ENV is 0 (the rules again, with a warning,
    when the model cannot be read)."""
    global _SCORER
    if _SCORER is None:
        want = os.environ.get(MODEL_ENV, "").strip()
        if want == "0":
            _SCORER = RULES
        else:
            from presslens import story_model

            _SCORER = story_model.load(None if want in ("", "1") else Path(want)) or RULES
    return _SCORER


@functools.lru_cache(maxsize=64)
def built_by(directory: str) -> str | None:
    """Which pair scorer grouped the stories of a store version (its folder): "model" (the
    committed pair model), "rules" (the hand rules, MODEL_ENV=0), "other" (another model file),
    or None when the folder holds no story state (stories imported with their own ids, or none
    grouped). Read from the scorer fingerprint the state was saved with; a version's folder is
    never rewritten, hence the cache."""
    try:
        saved = (Path(directory) / "story_state_version").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    fingerprint = saved.partition(":")[2]
    if fingerprint == RULES.fingerprint():
        return "rules"
    from presslens import story_model

    committed = story_model.load()
    return "model" if committed is not None and fingerprint == committed.fingerprint() else "other"


@contextlib.contextmanager
def using_scorer(s: PairScorer):
    """Group with scorer `s` inside the block (restores the previous one afterwards)."""
    global _SCORER
    old, _SCORER = _SCORER, s
    try:
        yield s
    finally:
        _SCORER = old


@contextlib.contextmanager
def recording_pairs():
    """Inside the block, every gated candidate pair the grouping scores is appended to the
    yielded list as (corpus, a rows, b rows, PAIR_FEATURES matrix, near-duplicate flags)."""
    global _PAIR_LOG
    old, _PAIR_LOG = _PAIR_LOG, []
    try:
        yield _PAIR_LOG
    finally:
        _PAIR_LOG = old


def _score_pairs(pairs: np.ndarray, ctx: _Corpus) -> tuple[np.ndarray, ...]:
    """Score candidate pairs (uint64 keys i<<32|j); returns the ones that link as
    (i, j, score, n_shared, shared) arrays: link k's shared feature codes (`_shared`) are the
    n_shared[k] codes of `shared` after those of the links before it (so `_write_links` does
    not look them up again). PAIR_CHUNK pairs at a time so that memory stays bounded; the
    evidence lists are not made here (see `_write_links`)."""
    out_a, out_b, out_s, out_n, out_f = [], [], [], [], []
    sc = scorer()
    for c in range(0, len(pairs), PAIR_CHUNK):
        chunk = pairs[c:c + PAIR_CHUNK]
        a = (chunk >> np.uint64(32)).astype(np.int64)
        b = (chunk & np.uint64(0xFFFFFFFF)).astype(np.int64)
        # date gate
        both_dated = ~ctx.pub_null[a] & ~ctx.pub_null[b]
        days = np.where(both_dated, np.abs(ctx.pub[a].astype(np.int64) - ctx.pub[b]), -1)
        ok = ~(both_dated & (days > MAX_DAYS_APART))
        a, b = a[ok], b[ok]
        # event-date gate: two articles whose (estimated) event dates are further apart
        # than MAX_DAYS_APART report different events
        ok = event_days_apart(ctx.ev_full, ctx.ev_doy, a, b) <= MAX_DAYS_APART
        a, b = a[ok], b[ok]
        if len(a) == 0:
            continue
        tsim = _text_similarity(ctx, a, b)
        near_dup = _near_dup(ctx, a, b, tsim)
        shared = _shared(ctx, a, b)
        if sc.coef is None and _PAIR_LOG is None:  # the rules need two of the features only
            cos, n_info = _rule_similarity(ctx, a, b, shared)
            link, score = (cos >= sc.threshold) & (n_info >= MIN_SHARED), cos
        else:
            x = pair_features(ctx, a, b, tsim, shared)
            if _PAIR_LOG is not None:
                _PAIR_LOG.append((ctx, a, b, x, near_dup))
            link, score = sc.score(x)
        # a link needs a name both articles give (an entity or a cited source): figures and
        # dates alone are not an event (round 22: league tables, market briefs and fixture lists
        # of different events share many figures and the day's date)
        rows, f = shared  # rows ascending: the kept pairs' codes stay in link order (below)
        k = ctx.kind[f]
        link &= np.bincount(rows, weights=(k == _E) | (k == _S), minlength=len(a)) > 0
        keep = near_dup | link
        if not keep.any():
            continue
        out_a.append(a[keep].astype(np.int32))
        out_b.append(b[keep].astype(np.int32))
        out_s.append(np.where(near_dup, np.maximum(tsim, score), score)[keep])
        on = keep[rows]
        out_n.append(np.bincount(rows[on], minlength=len(a))[keep].astype(np.int64))
        out_f.append(f[on])
    if not out_a:
        return (np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float64), np.zeros(0, np.int64),
                np.zeros(0, np.uint32))
    return (np.concatenate(out_a), np.concatenate(out_b), np.concatenate(out_s), np.concatenate(out_n),
            np.concatenate(out_f))


_E, _S = ord("e"), ord("s")  # the kinds of a shared name: an entity, a cited source
# The evidence lists of story_links, by feature kind (the first letter of a feature).
_EVIDENCE_COLUMNS = {"e": "shared_entities", "s": "shared_sources", "n": "shared_numbers", "d": "shared_dates",
                     "l": "shared_lead"}


def _labels(names: pl.DataFrame) -> pl.DataFrame:
    """Per feature code (the row of `names`): its kind (first letter) and its display label
    ("e:Q1" -> "Q1", "ln:250" -> "n:250"; evidence lists sort by it: `_Corpus.label_rank`)."""
    return names.select(
        pl.col("feature").str.slice(0, 1).fill_null("").alias("k"),
        pl.when(pl.col("feature").str.starts_with("l")).then(pl.col("feature").str.slice(1))
        .when(pl.col("feature").str.starts_with("w:")).then(pl.col("feature"))
        .otherwise(pl.col("feature").str.slice(2)).alias("label"))


@dataclass(frozen=True)
class _CodeAttrs:
    """What the grouping reads of each feature code, derived from its name (a row of `names`)
    alone, so the rows of codes that stay can be carried from one run to the next (_Kept)."""

    feature: pl.Series  # the feature's name ("e:Q1"; null when unknown)
    labels: pl.Series  # display value ("Q1", "n:250" for a lead figure)
    kind: np.ndarray  # uint8: the kind letter (ord("e")...; lead words ord("l"), 0 unknown)
    kind_w: np.ndarray  # float64: the kind's weight (KIND_WEIGHT)
    is_word: np.ndarray  # bool: a lead word ("w:")
    is_t: np.ndarray  # bool: an event date ("t:")

    @staticmethod
    def of(names: pl.DataFrame) -> "_CodeAttrs":
        feature = names["feature"]
        labels = _labels(names)
        return _CodeAttrs(
            feature=feature, labels=labels["label"],
            kind=labels["k"].replace_strict({k: ord(k) for k in _EVIDENCE_COLUMNS} | {"w": ord("l")}, default=0,
                                            return_dtype=pl.UInt8).to_numpy(),
            kind_w=(feature.str.slice(0, 1).replace_strict(KIND_WEIGHT, default=1.0, return_dtype=pl.Float64)
                    .fill_null(1.0).to_numpy()),
            is_word=feature.str.starts_with("w:").fill_null(False).to_numpy(),
            is_t=feature.str.starts_with("t:").fill_null(False).to_numpy())

    def gather(self, rows: np.ndarray) -> "_CodeAttrs":
        """These attributes for the codes `rows` (positions here), in that order."""
        idx = pl.Series(rows.astype(np.int64, copy=False))
        return _CodeAttrs(self.feature.gather(idx), self.labels.gather(idx), self.kind[rows], self.kind_w[rows],
                          self.is_word[rows], self.is_t[rows])

    @staticmethod
    def concat(a: "_CodeAttrs", b: "_CodeAttrs") -> "_CodeAttrs":
        return _CodeAttrs(pl.concat([a.feature, b.feature]), pl.concat([a.labels, b.labels]),
                          *(np.concatenate([getattr(a, f), getattr(b, f)])
                            for f in ("kind", "kind_w", "is_word", "is_t")))

    def nbytes(self) -> int:
        return (self.feature.estimated_size() + self.labels.estimated_size()
                + sum(getattr(self, f).nbytes for f in ("kind", "kind_w", "is_word", "is_t")))


@dataclass(frozen=True)
class _Kept:
    """The arrays a run of `group_features` derived from its state, kept beside that state in
    a long-lived build process (build._keep) so the next run carries the rows that stay instead
    of deriving them again from the state's tables: the vocabulary (every feature hash of the
    corpus, sorted: a code is a position in it) with each code's attributes, and per article
    (a row of the state's signatures, in order) its feature codes, bands, text signature and
    event date. A run given them writes what a run reading the state from disk writes."""

    vocab: np.ndarray  # uint64, sorted distinct feature hashes
    attrs: _CodeAttrs  # per code
    indices: np.ndarray  # int32 feature codes of every article, article after article (CSR)
    indptr: np.ndarray  # int64 [rows + 1]: article i's codes are indices[indptr[i]:indptr[i + 1]]
    feat_bands: np.ndarray  # uint64 [rows, FEAT_PERM // FEAT_ROWS]
    text_sig: np.ndarray  # uint32 [rows, TEXT_PERM]
    ev_full: np.ndarray  # int64 per article (event_days)
    ev_doy: np.ndarray  # int64 per article
    # every link between two articles (the duplicates' aside), as the story_links table holds them:
    # (row a int32, row b int32, score float64), in no particular order (see _average_link)
    links: tuple | None = None

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    def nbytes(self) -> int:
        return self.attrs.nbytes() + sum(getattr(self, f).nbytes for f in (
            "vocab", "indices", "indptr", "feat_bands", "text_sig", "ev_full", "ev_doy")) + sum(
            a.nbytes for a in (self.links or ()))


def _evidence_frame(ctx: _Corpus, a: np.ndarray, b: np.ndarray, score: np.ndarray,
                    story: pl.Series, shared: tuple[np.ndarray, np.ndarray] | None = None) -> pl.DataFrame:
    """LINKS_SCHEMA rows for links (a[p], b[p], score[p]) with their evidence (the features
    both articles have, spelled out, sorted by label), their text similarity, reason and days
    apart, all derived again from the articles (so kept links need not carry them between
    runs). The lists are built from NumPy offsets and Arrow buffers (no per-link Python).
    `shared`: the links' `_shared` rows when the caller has them."""
    import pyarrow as pa

    tsim = _text_similarity(ctx, a, b)
    near_dup = _near_dup(ctx, a, b, tsim)
    both_dated = ~ctx.pub_null[a] & ~ctx.pub_null[b]
    days = np.where(both_dated, np.abs(ctx.pub[a].astype(np.int64) - ctx.pub[b]), -1)
    rows, f = shared if shared is not None else _shared(ctx, a, b)
    # by pair, then label: one int64 key (rows < 2^31, ranks < 2^32), sorted stably (5x faster
    # than a two-key lexsort over millions of shared features, same order)
    order = np.argsort((rows.astype(np.int64) << np.int64(32)) | ctx.label_rank[f].astype(np.int64), kind="stable")
    rows, f = rows[order], f[order]
    kinds = ctx.kind[f]
    x, y = ctx.doc_ids.gather(a), ctx.doc_ids.gather(b)
    swap = x > y
    cols = {
        "doc_a": y.zip_with(swap, x), "doc_b": x.zip_with(swap, y),
        "score": score, "text_similarity": tsim,
        "reason": pl.select(pl.when(pl.Series(near_dup, dtype=pl.Boolean)).then(pl.lit("near-duplicate"))
                            .otherwise(pl.lit("shared evidence"))).to_series(),  # NumPy strings: ~8x slower
        "days_apart": pl.Series(days.astype(np.int64)).set(pl.Series(days < 0), None) if len(a) else days,
    }
    for k, col in _EVIDENCE_COLUMNS.items():
        m = kinds == ord(k)
        offsets = np.concatenate([[0], np.cumsum(np.bincount(rows[m], minlength=len(a)))]).astype(np.int64)
        values = ctx.labels.gather(pl.Series(f[m].astype(np.int64))).to_arrow()
        cols[col] = pl.Series(col, pa.LargeListArray.from_arrays(_arrow_numbers(offsets, np.int64, pa.int64()), values))
        if LINKS_SCHEMA[col] == pl.String:  # shared_lead: one space-separated string (store.py)
            cols[col] = cols[col].list.join(" ")
    cols["story_id"] = story
    return pl.DataFrame(cols).select([pl.col(c).cast(t) for c, t in LINKS_SCHEMA.items()])


class _LinkSink:
    """Where the links go, chunk by chunk: a Parquet file (row groups of LINK_ROW_GROUP rows,
    with statistics, so a reader filtering on story_id skips the other stories' row groups)
    or, without a path, a list of in-memory frames (small corpora, tests)."""

    def __init__(self, path: Path | None):
        self.path, self.rows, self._writer, self._parts = path, 0, None, []

    def write(self, df: pl.DataFrame) -> None:
        self.rows += df.height
        if self.path is None:
            self._parts.append(df)
            return
        import pyarrow.parquet as pq

        table = df.to_arrow()
        if self._writer is None:
            # statistics on the keys only (a reader skips row groups by story_id): ~15% faster
            # to write. (Dictionary pages for fewer columns wrote faster still but made the
            # incremental run's streaming merge read them 2.5x slower.)
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd",
                                            compression_level=store.ZSTD_LEVEL,
                                            write_statistics=["story_id", "doc_a", "doc_b"])
        self._writer.write_table(table, row_group_size=LINK_ROW_GROUP)

    def result(self) -> Frame:
        """The links written (a LazyFrame over the file, or one DataFrame); may be called again."""
        if self.path is None:
            return pl.concat(self._parts) if self._parts else pl.DataFrame(schema=LINKS_SCHEMA)
        if self._writer is None:
            if not self.path.exists():
                pl.DataFrame(schema=LINKS_SCHEMA).write_parquet(self.path, **LINK_PARQUET)
        else:
            self._writer.close()
            self._writer = None
        return pl.scan_parquet(self.path)


def _with_end_stories(links: pl.LazyFrame, stories_now: pl.DataFrame) -> pl.LazyFrame:
    """`links` with `_sa`, `_sb` (each end's story in `stories_now`, doc_id -> story_id; null
    for an article not there) and `_new` (the link's story: theirs when they are the same,
    else null). A hash lookup per end, not a join: the rows are not moved."""
    ids, sids = stories_now["doc_id"], stories_now["story_id"]
    return (links.with_columns(
        pl.col("doc_a").replace_strict(ids, sids, default=None, return_dtype=pl.String).alias("_sa"),
        pl.col("doc_b").replace_strict(ids, sids, default=None, return_dtype=pl.String).alias("_sb"))
            .with_columns(pl.when(pl.col("_sa") == pl.col("_sb")).then("_sa").alias("_new")))


def _relabel_links(old: pl.LazyFrame, stories_now: pl.DataFrame, path: Path | None,
                   sort: bool = True) -> pl.LazyFrame:
    """Old links (LINKS_SCHEMA rows between two kept articles) with their story_id set from
    `stories_now` (doc_id, story_id of the re-clustered articles): the story when both ends
    are in the same one, else null; sorted as `_write_links` sorts (story_id, nulls first,
    then doc_a, doc_b; unsorted with sort=False, for a caller that sorts). Links touching an
    article missing from `stories_now` (a removed one) are dropped. Written to `path` when
    given (bounded memory), else returned in memory."""
    # the rows (with their evidence lists) are moved once, by the sort
    frame = (_with_end_stories(old, stories_now)
             .filter(pl.col("_sa").is_not_null() & pl.col("_sb").is_not_null())
             .with_columns(pl.col("_new").alias("story_id"))
             .select(list(LINKS_SCHEMA)).cast(LINKS_SCHEMA))
    if sort:
        frame = frame.sort(LINK_ORDER, nulls_last=False)
    if path is None:
        return frame
    frame.sink_parquet(path, **LINK_PARQUET)
    return pl.scan_parquet(path)


def _write_links(ctx: _Corpus, ia: np.ndarray, ib: np.ndarray, score: np.ndarray, story: pl.Series,
                 sink: _LinkSink, n_shared: np.ndarray | None = None, shared: np.ndarray | None = None) -> None:
    """Write the links sorted by story (then doc_a, doc_b), LINK_CHUNK at a time, with their
    evidence spelled out. A link between two articles of different stories (kept for the next
    incremental clustering) has a null story_id and comes first (Polars' null order).
    `n_shared`, `shared`: the links' shared feature codes as `_score_pairs` returns them
    (looked up again with `_shared` when not given)."""
    if len(ia) == 0:
        return
    first = None
    if n_shared is not None and shared is not None:
        first = np.concatenate([[0], np.cumsum(n_shared)]).astype(np.int64)
    rank = ctx.doc_ids.rank("ordinal").to_numpy().astype(np.int32)
    srank = story.rank("dense").to_numpy().astype(np.int32)
    sa, sb = srank[ia], srank[ib]
    lstory = np.where(sa == sb, sa, np.int32(-1))
    ra, rb = rank[ia], rank[ib]
    order = np.lexsort((np.maximum(ra, rb), np.minimum(ra, rb), lstory))
    del ra, rb, sa, sb, rank
    for c in range(0, len(order), LINK_CHUNK):
        o = order[c:c + LINK_CHUNK]
        a, b = ia[o].astype(np.int64), ib[o].astype(np.int64)
        same = lstory[o] >= 0
        st = story.gather(a).zip_with(pl.Series(same), pl.Series([None] * len(a), dtype=pl.String))
        got = None
        if first is not None:
            cnt = first[o + 1] - first[o]
            rows = np.repeat(np.arange(len(o), dtype=np.int32), cnt)
            pos = np.arange(len(rows), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt - first[o], cnt)
            got = (rows, shared[pos])
        sink.write(_evidence_frame(ctx, a, b, score[o], st, got))


# ---------------------------------------------------------------- clustering

def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label (the smallest member index) of each of n nodes (scipy's
    connected components, then each label's first node). Propagating minimum labels in NumPy
    took as many rounds as the longest chain of links (20,000 articles linked one after the
    other: 4.5 s, here 4 ms) and ~20% longer on the ~13M links of the 100k bench store."""
    from scipy import sparse
    from scipy.sparse import csgraph

    if len(a) == 0:
        return np.arange(n, dtype=np.int64)
    graph = sparse.csr_array((np.ones(len(a), dtype=bool), (np.asarray(a, np.int64), np.asarray(b, np.int64))),
                             shape=(n, n))
    _, lab = csgraph.connected_components(graph, directed=True, connection="weak")
    _, first = np.unique(lab, return_index=True)  # (np.unique's index is a label's first node)
    return first[lab].astype(np.int64)


def _circular_median(days: list[int]) -> int:
    """A median day of year (1..366) of dates that may straddle a New Year: the days are read
    relative to the first one (each within half a year of it), then the middle one is taken."""
    ref = days[0]
    rel = sorted(((d - ref + 183) % 366) - 183 for d in days)
    return (ref + rel[len(rel) // 2] - 1) % 366 + 1


_PACKED_BITS = 63  # (a pair of starting groups and a position packed in one uint64 key; tests lower it)


def _walk_group_pairs(order: np.ndarray, a_arr: np.ndarray, b_arr: np.ndarray, ga: np.ndarray, gb: np.ndarray,
                      find: Callable[[int], int], merge: Callable[[int, int], bool]) -> None:
    """The loop of `_average_link` over the links in `order` when it starts from groups (`ga`,
    `gb`: the starting root of each link's two ends) and many links join the same two starting
    groups (`_attach` at 100k on the bench corpus: 3.3 million links between 7,200 pairs).

    Whether a link merges depends only on the two groups its ends are in at its turn. So a link
    between the same two groups as an earlier one, when neither group has changed since, fails
    as that one did, and need not be looked at. Here each pair of starting groups is looked at
    at its first link in the order, and again at its first link after either of its groups
    changed (merged): a heap of (position in `order`, pair), each pair at most once in it. The
    merges are those of taking every link in turn, in the same order, through the same link
    (so with the same root kept): the same groups. Cost: a pair's links are sorted once; the
    merges push the pairs of the groups they change."""
    import heapq

    across = np.flatnonzero(ga != gb)  # (a link inside a starting group never merges)
    if len(across) == 0:
        return
    pos_of = np.empty(len(order), dtype=np.int64)
    pos_of[order] = np.arange(len(order))
    lo_g, hi_g = np.minimum(ga[across], gb[across]), np.maximum(ga[across], gb[across])
    # each pair's links in the order's turn: one sort of (pair, position) packed in one key
    # when it fits (starting groups are member positions), else a lexsort
    m = int(max(ga.max(), gb.max())) + 1
    pos_bits = max(int(len(order)).bit_length(), 1)
    if (m * m).bit_length() + pos_bits <= _PACKED_BITS:
        key = np.sort(((lo_g * m + hi_g).astype(np.uint64) << np.uint64(pos_bits))
                      | pos_of[across].astype(np.uint64))
        pk = key >> np.uint64(pos_bits)
        positions = (key & np.uint64((1 << pos_bits) - 1)).astype(np.int64)
        first = np.concatenate([[0], np.flatnonzero(pk[1:] != pk[:-1]) + 1]) if len(pk) else np.zeros(0, np.int64)
        p_lo, p_hi = (pk[first] // np.uint64(m)).astype(np.int64), (pk[first] % np.uint64(m)).astype(np.int64)
        ptr = np.append(first, len(pk)).tolist()
        del key, pk
    else:
        pkeys, pair = np.unique((lo_g.astype(np.uint64) << np.uint64(32)) | hi_g.astype(np.uint64), return_inverse=True)
        by_pair = np.lexsort((pos_of[across], pair))
        positions = pos_of[across][by_pair]
        ptr = np.concatenate([[0], np.cumsum(np.bincount(pair, minlength=len(pkeys)))]).tolist()
        p_lo = (pkeys >> np.uint64(32)).astype(np.int64)
        p_hi = (pkeys & np.uint64(0xFFFFFFFF)).astype(np.int64)
    n_pairs = len(p_lo)
    del pos_of, lo_g, hi_g
    # the pairs of each starting group (a group's pairs are pushed again when it changes)
    ends = np.concatenate([p_lo, p_hi])
    idx = np.concatenate([np.arange(n_pairs)] * 2)
    o = np.argsort(ends, kind="stable")
    ends, idx = ends[o], idx[o]
    cut = np.flatnonzero(np.diff(ends)) + 1
    pairs_of = dict(zip(ends[np.concatenate([[0], cut])].tolist(), (c.tolist() for c in np.split(idx, cut))))
    starts: dict[int, list[int]] = {}  # root -> the starting groups in its group
    cursor = ptr[:-1]  # per pair: where its next turn is looked for in `positions`
    pending = [True] * n_pairs  # in the heap
    heap = list(zip(positions[ptr[:-1]].tolist(), range(n_pairs)))
    heapq.heapify(heap)
    while heap:
        t, j = heapq.heappop(heap)
        pending[j] = False
        k = int(order[t])
        ra, rb = find(int(a_arr[k])), find(int(b_arr[k]))
        if ra == rb or not merge(ra, rb):
            continue
        root = find(ra)
        other = rb if root == ra else ra
        grown = starts.setdefault(root, [root])
        grown.extend(starts.pop(other, [other]))
        for s0 in grown:
            for j2 in pairs_of.get(s0, ()):
                if pending[j2]:
                    continue
                i = cursor[j2] + int(np.searchsorted(positions[cursor[j2]:ptr[j2 + 1]], t, side="right"))
                cursor[j2] = i
                if i < ptr[j2 + 1]:
                    pending[j2] = True
                    heapq.heappush(heap, (int(positions[i]), j2))


def _average_link(members: np.ndarray, la: np.ndarray, lb: np.ndarray, score: np.ndarray,
                  density: float, ev_doy: np.ndarray | None = None, init: np.ndarray | None = None) -> np.ndarray:
    """Sparse average linkage inside one connected component; returns each member's group
    root (a position in `members`, which must be sorted ascending).

    `init` (optional): the groups to start from, as each member's group root (a position in
    `members`: the group's first member; a root is its own root). Without it every member
    starts alone. Links inside one starting group are skipped; the links between two groups
    count towards their density as any other (see `_attach`).

    With `ev_doy` (each node's event day of year, 0 = unknown), two groups whose median event
    dates are more than MAX_DAYS_APART apart never merge: the 10 August strike and the
    12 September strike stay two stories however many articles recall the other one.

    Written for speed (it runs over every link of a component, and one component can hold
    most of a corpus): nodes are positions 0..m-1 in plain lists, the neighbour counts are
    built from sorted arrays, a group's median date is kept until the group changes, and the
    common case (both ends already in one group) costs two list reads."""
    m = len(members)
    la, lb = np.asarray(la), np.asarray(lb)
    if len(la) and (m == 0 or min(la.min(), lb.min()) < members[0] or max(la.max(), lb.max()) > members[-1]):
        raise ValueError("a link has an end outside the component's members")
    if m and members[-1] - members[0] < 4 * (len(la) + m):  # a map of positions is cheap: a gather
        where = np.full(members[-1] - members[0] + 1, -1, dtype=np.int64)
        where[members - members[0]] = np.arange(m)
        a_arr, b_arr = where[la - members[0]], where[lb - members[0]]
    else:  # sparse members (a small component of a large corpus): a binary search per end
        a_arr, b_arr = np.searchsorted(members, la).astype(np.int64), np.searchsorted(members, lb).astype(np.int64)
    if len(la) and not (_all_members(members, la, a_arr) and _all_members(members, lb, b_arr)):
        raise ValueError("a link has an end outside the component's members")
    if init is None:
        parent = list(range(m))
        size = [1] * m
    else:
        g = np.asarray(init, np.int64)
        parent = g.tolist()
        size = np.bincount(g, minlength=m).tolist()
    dates: list[list[int]] = [[] for _ in range(m)]
    if ev_doy is not None:
        d = ev_doy[members]
        for i in np.flatnonzero(d > 0).tolist():
            dates[parent[i]].append(int(d[i]))  # a starting group's dates, in member order
    median: list[int | None] = [None] * m

    def find(x: int) -> int:
        r = parent[x]
        while parent[r] != r:
            r = parent[r]
        while parent[x] != r:  # the whole path to the root (full compression)
            parent[x], x = r, parent[x]
        return r

    # linked[x][y]: links between groups x and y, from the sorted, counted (x, y) pairs
    if init is not None:  # counted between starting groups (their roots)
        ga, gb = g[a_arr], g[b_arr]  # (each end's starting root: the pair walk reads them too)
        across = ga != gb
        pa, pb = ga[across].astype(np.uint64), gb[across].astype(np.uint64)
    else:
        pa, pb = a_arr.astype(np.uint64), b_arr.astype(np.uint64)
    keys, cnt = np.unique((np.concatenate([pa, pb]) << np.uint64(32)) | np.concatenate([pb, pa]), return_counts=True)
    src = (keys >> np.uint64(32)).astype(np.int64)
    dst, cnt = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64).tolist(), cnt.tolist()
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(src)) + 1, [len(src)]]).tolist()
    linked: list[dict[int, int]] = [{} for _ in range(m)]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        if hi > lo:
            linked[int(src[lo])] = dict(zip(dst[lo:hi], cnt[lo:hi]))

    def merge(ra: int, rb: int) -> bool:
        """Merge the groups of roots ra and rb (ra: the root of the link's first end) when they
        are dense enough and their median dates close enough; returns whether they merged."""
        sa, sb = size[ra], size[rb]
        if linked[ra].get(rb, 0) < density * sa * sb:
            return False
        if dates[ra] and dates[rb]:
            ma = median[ra]
            if ma is None:
                ma = median[ra] = _circular_median(dates[ra])
            mb = median[rb]
            if mb is None:
                mb = median[rb] = _circular_median(dates[rb])
            gap = abs(ma - mb)
            if min(gap, 366 - gap) > MAX_DAYS_APART:
                return False
        if sa < sb:
            ra, rb = rb, ra
        parent[rb] = ra
        size[ra] = sa + sb
        if dates[rb]:
            dates[ra] = dates[ra] + dates[rb]
            dates[rb] = []
            median[ra] = None
        median[rb] = None
        da, db = linked[ra], linked[rb]
        linked[rb] = {}
        da.pop(rb, None)
        for c, n_ab in db.items():
            if c == ra:
                continue
            v = da.get(c, 0) + n_ab
            da[c] = v
            dc = linked[c]
            dc.pop(rb, None)
            dc[ra] = v
        return True

    # strongest first; links of equal score by their two ends, so the groups do not depend on the
    # order the links come in (a long-lived build keeps them as arrays: _Kept.links): sorted by
    # the two ends packed in one key (distinct links have distinct keys), then stably by score,
    # the order of a lexsort on (score, smaller end, larger end) in 40% of its time
    ends = (np.minimum(a_arr, b_arr).astype(np.uint64) << np.uint64(32)) | np.maximum(a_arr, b_arr).astype(np.uint64)
    order = np.argsort(ends)
    order = order[np.argsort(-np.asarray(score, dtype=np.float64)[order], kind="stable")]
    del ends
    if init is not None and len(pa) >= PAIR_WALK_LINKS * max(len(keys) // 2, 1):
        _walk_group_pairs(order, a_arr, b_arr, ga, gb, find, merge)
        return np.fromiter((find(x) for x in range(m)), dtype=np.int64, count=m)
    a_pos, b_pos = a_arr.tolist(), b_arr.tolist()
    for lo in range(0, len(order), LINK_BLOCK):
        block = order[lo:lo + LINK_BLOCK]
        # groups only grow, so a link whose ends are in one group now is still inside one when
        # its turn comes: it is skipped here, with the roots of all ends found at once
        if lo:
            root = np.asarray(parent, np.int64)
            while True:
                up = root[root]
                if np.array_equal(up, root):
                    break
                root = up
            block = block[root[a_arr[block]] != root[b_arr[block]]]
        for k in block.tolist():
            ra, rb = parent[a_pos[k]], parent[b_pos[k]]  # after path compression, mostly the roots
            if parent[ra] != ra:
                ra = find(ra)
            if parent[rb] != rb:
                rb = find(rb)
            if ra != rb:
                merge(ra, rb)
    return np.fromiter((find(x) for x in range(m)), dtype=np.int64, count=m)


def _all_members(members: np.ndarray, ends: np.ndarray, pos: np.ndarray) -> bool:
    """Whether every link end (within members' range) is one of `members`, given the positions
    found for them: the position map gives -1 for an end that is no member, a binary search
    the place it would take (a caller's error would otherwise cluster the wrong articles)."""
    return bool((pos >= 0).all() and (pos < len(members)).all() and (members[pos] == ends).all())


def _date_spans(comp: np.ndarray, ev_doy: np.ndarray | None) -> np.ndarray:
    """Per component label (indexed like `comp`'s values): the days between its earliest and
    latest dated member's event day of year (0 with fewer than two dated members, or without
    dates). Within MAX_DAYS_APART no two group medians can be further apart, so the date
    condition of the average linkage cannot refuse a merge there."""
    n = len(comp)
    if ev_doy is None:
        return np.zeros(n, np.int64)
    d = np.asarray(ev_doy)
    dated = d > 0
    hi = np.full(n, -1, np.int64)
    lo = np.full(n, 10**6, np.int64)
    np.maximum.at(hi, comp[dated], d[dated])
    np.minimum.at(lo, comp[dated], d[dated])
    return np.where(hi >= 0, hi - lo, 0)


def _one_group(comp: np.ndarray, sizes: np.ndarray, la: np.ndarray, lb: np.ndarray,
               narrow: np.ndarray) -> np.ndarray:
    """Per component label (indexed like `comp`'s values): True where the average linkage
    provably ends in one group, so it need not run. That is a component whose members are
    all linked to each other (a clique: each pair once) and whose dates are `narrow` (see
    `_date_spans`): every pair of groups then has all its pairs linked (density 1) and
    medians within the window, so every link merges, whatever the order. In generated and
    real corpora most small stories are such cliques."""
    n = len(comp)
    a, b = np.asarray(la, np.int64), np.asarray(lb, np.int64)
    n_links = np.bincount(comp[a], minlength=n)
    full = (sizes > 2) & (n_links == sizes * (sizes - 1) // 2) & narrow
    if full.any():
        # a clique's count assumes each pair is linked once: check it on the candidates
        on = full[comp[a]]
        key = (np.minimum(a[on], b[on]) << np.int64(32)) | np.maximum(a[on], b[on])
        u, c = np.unique(key, return_counts=True)
        if (c > 1).any():
            full[comp[(u[c > 1] >> np.int64(32))]] = False
    return full


def cluster(n: int, la: np.ndarray, lb: np.ndarray, score: np.ndarray, density: float,
            ev_doy: np.ndarray | None = None) -> np.ndarray:
    """Group n nodes along scored links without chaining; returns each node's cluster label
    (the smallest member index).

    Links (la, lb, score) are taken strongest first; two clusters merge only when at least
    `density` of the pairs between them are linked (a sparse average linkage): one link
    between a strike and the next month's strike does not glue the two stories together, as
    plain connected components would. Runs inside each connected component of the links, so
    memory is bounded by the largest one.
    """
    comp = components(n, la, lb)
    label = comp.copy()
    if len(la) == 0:
        return label
    sizes = np.bincount(comp, minlength=n)
    big = sizes[comp[la]] > 2  # components of two are one link: nothing to refine
    narrow = _date_spans(comp, ev_doy) <= MAX_DAYS_APART
    big &= ~_one_group(comp, sizes, la, lb, narrow)[comp[la]]
    if not big.any():
        return label
    la_b, lb_b, sc_b = la[big], lb[big], score[big]
    cl = comp[la_b]
    lo = np.argsort(cl, kind="stable")
    l_keys, l_start = np.unique(cl[lo], return_index=True)
    l_end = np.append(l_start[1:], len(lo))
    nodes = np.argsort(comp, kind="stable")
    n_start = np.searchsorted(comp[nodes], l_keys, side="left")
    n_end = np.searchsorted(comp[nodes], l_keys, side="right")
    for i in range(len(l_keys)):
        li = lo[l_start[i]:l_end[i]]
        members = nodes[n_start[i]:n_end[i]]  # ascending (a stable argsort)
        # dated members all within the window: the date condition is not checked (_date_spans)
        root = _average_link(members, la_b[li], lb_b[li], sc_b[li], density,
                             None if narrow[l_keys[i]] else ev_doy)
        # each group's label: its smallest member, the first position with its root
        _, first, inv = np.unique(root, return_index=True, return_inverse=True)
        label[members] = members[first[inv]]
    return label


def _attach_mask(comp: np.ndarray, ia: np.ndarray, new_mask: np.ndarray, placed: np.ndarray,
                 affected: np.ndarray) -> np.ndarray:
    """Per article: True where its component (`comp`) is one whose new articles are attached
    in place (`_attach`) rather than clustered again with all its links: a changed
    (`affected`) component with more than ATTACH_MIN_LINKS links and old articles, where the
    articles attached in place since it was last clustered in full (`placed`) and the new ones
    are at most RECLUSTER_SHARE of it. When they are more, the component is clustered again
    in full (and its count starts again)."""
    n = len(comp)
    if not (new_mask.any() and (~new_mask).any()):
        return np.zeros(n, dtype=bool)
    sizes = np.bincount(comp, minlength=n)
    n_links = np.bincount(comp[ia], minlength=n) if len(ia) else np.zeros(n, np.int64)
    n_new = np.bincount(comp[new_mask], minlength=n)
    n_placed = np.bincount(comp[placed], minlength=n)
    ok = (n_links > ATTACH_MIN_LINKS) & (sizes > n_new) & (n_placed + n_new <= RECLUSTER_SHARE * sizes)
    return ok[comp] & affected


def _attach(ia: np.ndarray, ib: np.ndarray, score: np.ndarray, new_link: np.ndarray, att: np.ndarray,
            prev_code: np.ndarray, density: float, ev_doy: np.ndarray | None) -> np.ndarray:
    """The incremental clustering of the `att` articles (see `_attach_mask`): returns a group
    label (a member's index) for every article, meaningful where `att` is set.

    The average linkage (`_average_link`) continues from the previous stories instead of
    starting from single articles: each old story reached by a new link starts as one group,
    each new article alone, and the new links (with the old links between two of those
    stories, which count towards their density) are taken strongest first under the same
    merge rule. So a new article joins the story it is densely linked to, new articles form
    stories of their own, and two old stories merge when a new article makes them dense
    enough; an old story is never split. That is where it can differ from clustering the
    component again from all its links (which `_attach_mask` does once the attached
    articles pass RECLUSTER_SHARE of it). The other old stories of the component stand as
    they were (labelled by their previous story, `prev_code`: a dense code, -1 for new
    articles). Cost: the links of the new articles and between the stories they reach, not
    all the component's links."""
    n = len(att)
    n_codes = max(int(prev_code.max(initial=-1)) + 1, 1)
    old = prev_code >= 0
    # the previous stories as they stand: each labelled by its first article (of `att`)
    label = np.arange(n, dtype=np.int64)
    kept = np.flatnonzero(att & old)
    first = np.full(n_codes, n, dtype=np.int64)
    np.minimum.at(first, prev_code[kept], kept)
    label[kept] = first[prev_code[kept]]
    # the region clustered again: the new articles and the whole stories a new link reaches
    reach = new_link & att[ia]
    codes = prev_code[np.concatenate([ia[reach], ib[reach]])]
    hit = np.zeros(n_codes, dtype=bool)
    hit[codes[codes >= 0]] = True
    region = att & (~old | hit[np.where(old, prev_code, 0)])
    members = np.flatnonzero(region)
    init = np.searchsorted(members, label[members])  # each story's first article is in it
    lk = (reach & region[ib]) | (~new_link & region[ia] & region[ib] & (prev_code[ia] != prev_code[ib]))
    root = _average_link(members, ia[lk], ib[lk], score[lk], density, ev_doy, init=init)
    label[members] = members[root]
    return label


# ---------------------------------------------------------------- the API

def group(articles: pl.DataFrame, doc_entities: pl.DataFrame, previous: StoryState | None = None
          ) -> tuple[pl.DataFrame, pl.DataFrame, StoryState]:
    """Group articles into stories (in memory: for small corpora and tests; the build streams).

    In: articles (doc_id, language, published, text, boilerplate, cited_sources,
    duplicate_of), doc_entities (doc_id, entity_id, mentions), and the state returned by the
    previous call on an earlier version of the corpus (or None).
    Out: (story ids: doc_id, story_id for every article; links: LINKS_SCHEMA, one row per
    pair of articles joined, with the evidence; the new state). Duplicates
    (duplicate_of set) join their original's story through a "duplicate" link.
    """
    prev = previous or empty_state()
    originals = articles.filter(pl.col("duplicate_of").is_null())
    known = prev.signatures.lazy().select("doc_id").join(originals.select("doc_id").lazy(), on="doc_id",
                                                         how="semi").collect()
    new = originals.join(known, on="doc_id", how="anti")
    new_feats, new_sigs = article_features(new, doc_entities) if new.height else (
        pl.DataFrame(schema=FEATURES_SCHEMA), pl.DataFrame(schema=NEW_SIGNATURES_SCHEMA))
    ids, links, state = group_features(articles.select("doc_id", "duplicate_of"), new_feats, new_sigs, prev,
                                       keep_bytes=2**62)
    return ids, links.lazy().collect(), state


def _collect(frame: Frame) -> pl.DataFrame:
    """A frame's rows (a LazyFrame with the streaming engine: bounded memory while reading)."""
    return frame.collect(engine="streaming") if isinstance(frame, pl.LazyFrame) else frame


def group_features(docs: pl.DataFrame, new_feats: pl.DataFrame | None, new_sigs: Frame,
                   prev: StoryState, new_names: pl.DataFrame | None = None,
                   links_path: Path | None = None, defer_links: bool = False,
                   keep_bytes: int | None = None) -> tuple[pl.DataFrame, Frame | None, StoryState]:
    """The grouping from precomputed features (what `group`, the build and the benchmark share).

    `docs` (doc_id, duplicate_of, and story_key: `story_key()`; without it a story is named
    after its smallest doc_id) lists every article of the corpus now; `new_sigs`
    (NEW_SIGNATURES_SCHEMA; a LazyFrame is read once) describe the originals not in `prev`,
    with their features either given as strings in `new_feats`
    (FEATURES_SCHEMA) or already hashed (`encode_features`: new_feats None, the names in
    `new_names`); rows of `prev` whose article is gone are dropped with their links. Only
    pairs with a new article are looked up and scored; the clustering then runs over the links
    of the components that changed, and only the new links have their evidence derived (the
    old ones are copied from `prev.links` with their story set again: `_relabel_links`).
    With `links_path` the links (story_links, sorted by story) are streamed to that Parquet
    file and returned as a LazyFrame over it; otherwise returned as a DataFrame. With
    `defer_links` too, an incremental run's links few enough to handle in memory
    (LINKS_IN_MEMORY) are not written here: the links returned are None, and the returned
    state's `save` writes them (the build saves the state in a thread while it writes the
    articles).

    With `keep_bytes` (a caller that keeps the state in memory: a long-lived build), the returned
    state carries the arrays derived here (`_Kept`; every link too when 16 bytes a link fit in
    `keep_bytes`) for the next run; without it, nothing more is held than the run needs.

    Memory (n articles, F features per article, L links per article, V distinct features):
    about n * (600 + 20 F + 40 L) bytes + 40 V, plus one slice of candidate pairs
    (CANDIDATE_SLICE articles' worth) and one chunk of links: see docs/STORIES.md.
    """
    if new_feats is not None:
        new_sigs, new_names = encode_features(_collect(new_sigs), new_feats)
    keep_ids = docs.filter(pl.col("duplicate_of").is_null()).select("doc_id")
    # the arrays an earlier run derived from this state, when a long-lived build kept them
    # with it (_Kept): the rows that stay are carried, not derived again
    kept = (prev.kept if prev.kept is not None and isinstance(prev.signatures, pl.DataFrame)
            and prev.kept.rows == prev.signatures.height else None)
    # the previous state, read once with its removed articles filtered out (no second copy)
    # (row order matters: it is the order inside a large LSH bucket, so it is kept)
    if kept is not None:
        stay = prev.signatures["doc_id"].is_in(keep_ids["doc_id"].implode()).to_numpy()
        # (the narrow columns only: the kept arrays hold the bands, text signatures and codes)
        narrow = [c for c in prev.signatures.columns if c not in ("feat_bands", "text_sig", "features")]
        old_sigs = prev.signatures.select(narrow).filter(pl.Series(stay))
    else:
        old_sigs = _collect(prev.signatures.lazy().join(keep_ids.lazy(), on="doc_id", how="semi",
                                                        maintain_order="left"))
    fresh = _collect(new_sigs.lazy().join(old_sigs.select("doc_id").lazy(), on="doc_id", how="anti",
                                          maintain_order="left")
                     .join(keep_ids.lazy(), on="doc_id", how="semi", maintain_order="left")
                     .select(list(NEW_SIGNATURES_SCHEMA))
                     .cast(NEW_SIGNATURES_SCHEMA))
    n_old, n = old_sigs.height, old_sigs.height + fresh.height
    # articles attached in place since their component was last clustered in full (_attach)
    placed = np.zeros(n, dtype=bool)
    if "placed" in old_sigs.columns:  # (a state saved before attaching existed has none)
        placed[:n_old] = old_sigs["placed"].fill_null(False).to_numpy()
    doc_ids = pl.concat([old_sigs["doc_id"], fresh["doc_id"]]).rechunk()
    meta = pl.concat([old_sigs.select("language", "published", "story_id"),
                      fresh.select("language", "published", "story_id")]).rechunk()
    # each wide column is copied into one array and dropped from its frame right away, so the
    # state is never held twice
    fb = np.zeros((n, FEAT_PERM // FEAT_ROWS), dtype=np.uint64)
    text_sig = np.empty((n, TEXT_PERM), dtype=np.uint32)
    if kept is not None:
        fb[:n_old] = kept.feat_bands[stay]
        text_sig[:n_old] = kept.text_sig[stay]
    else:
        fb[:n_old] = _matrix(old_sigs["feat_bands"], np.uint64)
        old_sigs = old_sigs.drop("feat_bands")
        text_sig[:n_old] = _matrix(old_sigs["text_sig"], np.uint32)
    text_sig[n_old:] = _matrix(fresh["text_sig"], np.uint32)
    old_sigs, fresh = old_sigs.drop("text_sig", strict=False), fresh.drop("text_sig")
    v_new, o_new = _list_arrays(fresh["features"])
    fresh = fresh.drop("features")

    # integer feature codes and document frequencies over the current corpus: a code is the
    # hash's rank among the corpus's distinct hashes
    if kept is not None:
        # the staying articles' codes carried (renumbered where hashes came or went)
        lens = np.diff(kept.indptr)
        o_old = np.concatenate([[0], np.cumsum(lens[stay])]).astype(np.int64)
        codes, vocab, attrs = _carried_codes(kept, kept.indices[np.repeat(stay, lens)], v_new, new_names)
        del old_sigs, lens
    else:
        # the distinct hashes found by hashing, sorted, and every value mapped to its rank by a
        # hash lookup (Polars' dense rank took 2-3x longer: 32-42 vs 19-22 ms at 500k values,
        # 2.2 vs 0.7 s at 22M)
        v_old, o_old = _list_arrays(old_sigs["features"])
        del old_sigs
        values = np.concatenate([v_old, v_new])
        del v_old
        distinct = pl.Series(values).unique().sort()
        codes = (pl.Series(values).replace_strict(distinct, pl.int_range(len(distinct), dtype=pl.UInt32, eager=True),
                                                  return_dtype=pl.UInt32).to_numpy().astype(np.uint32, copy=False))
        vocab = np.empty(len(distinct), dtype=np.uint64)
        vocab[codes] = values
        del values, distinct
        names = (pl.DataFrame({"fh": vocab}).join(
            pl.concat([prev.names.lazy(), (new_names if new_names is not None else pl.DataFrame(schema=NAMES_SCHEMA))
                       .lazy()]).unique("fh").collect(), on="fh", how="left", maintain_order="left"))
        attrs = _CodeAttrs.of(names)
    names = pl.DataFrame({"fh": vocab, "feature": attrs.feature}, schema=NAMES_SCHEMA)
    start = np.concatenate([o_old[:-1], o_new + o_old[-1]])
    del o_old, o_new
    dfreq = np.bincount(codes, minlength=len(vocab))
    elem_doc = np.repeat(np.arange(n, dtype=np.uint32), np.diff(start))
    new_mask = np.zeros(n, dtype=bool)
    new_mask[n_old:] = True
    if fresh.height:
        # feature bands of the new articles, from their features minus the corpus-wide common ones
        t0 = time.perf_counter()
        common = (dfreq > COMMON_MIN_DOCS) & (dfreq > COMMON_SHARE * n)
        s0 = start[n_old]
        # lead words stay out of the MinHash (same-language evidence, scored on their own)
        keep = ~(common | attrs.is_word)[codes[s0:]]
        counts = np.bincount(elem_doc[s0:][keep] - n_old, minlength=n - n_old)
        fsig = minhash(v_new[keep], np.concatenate([[0], np.cumsum(counts)]), _FEAT_A, _FEAT_B)
        fb_new = band_hashes(fsig, FEAT_ROWS)
        fb_new[counts == 0] = 0  # no features: no bands (0 is dropped at lookup)
        fb[n_old:] = fb_new
        del keep, fsig, fb_new
        log.info("stories: feature signatures of %d articles, %d common features left out (%.1f s)",
                 fresh.height, int(common.sum()), time.perf_counter() - t0)
    del fresh, v_new  # the hashes are vocab[codes] from here on
    w = np.log((n + 1) / (dfreq + 1)) * attrs.kind_w
    is_word = attrs.is_word
    # a lead word no other article uses is evidence for no pair: it weighs nothing, else the
    # many words unique to one lead would dilute every word cosine (see _score_pairs)
    w[is_word & (dfreq <= 1)] = 0.0
    # one norm per channel: the evidence features, and the lead words (see _score_pairs): the
    # squared weights summed along each article's row of the article x code matrix (the same
    # additions in the same order as summing them element by element, in ~half the time)
    x = _code_matrix(n, codes, start, len(vocab))
    w2 = np.zeros(x.shape[1])  # (one column more when the vocabulary is empty)
    w2[:len(w)] = w ** 2
    word = np.zeros(x.shape[1], dtype=bool)
    word[:len(w)] = is_word
    norms = np.sqrt(np.stack([x @ np.where(word, 0.0, w2), x @ np.where(word, w2, 0.0)], axis=1))
    del w2, word
    # event dates: the text's estimate ("t:" features), else the publication date (per article:
    # the staying articles' are carried when kept)
    first = n_old if kept is not None else 0
    t_el = start[first] + np.flatnonzero(attrs.is_t[codes[start[first]:]])
    t_feats = pl.DataFrame({"doc_id": doc_ids.gather(pl.Series(elem_doc[t_el].astype(np.int64))),
                            "feature": attrs.feature.gather(pl.Series(codes[t_el].astype(np.int64)))},
                           schema=FEATURES_SCHEMA)
    ev_full, ev_doy = event_days(meta["published"].slice(first), doc_ids.slice(first), t_feats)
    if kept is not None:
        ev_full, ev_doy = np.concatenate([kept.ev_full[stay], ev_full]), np.concatenate([kept.ev_doy[stay], ev_doy])
    del t_el, t_feats
    lang_codes = meta["language"].fill_null("").cast(pl.Categorical).to_physical().to_numpy().astype(np.int32)
    ctx = _Corpus(
        doc_ids=doc_ids, text_sig=text_sig, lang=lang_codes,
        pub=meta["published"].cast(pl.Int32).fill_null(0).to_numpy(), pub_null=meta["published"].is_null().to_numpy(),
        x=x, w=w, is_word=is_word, norms=norms, ev_full=ev_full, ev_doy=ev_doy,
        labels=attrs.labels, kind=attrs.kind,
        label_rank=attrs.labels.rank("dense").fill_null(0).cast(pl.Int64).to_numpy())
    del x, elem_doc, codes, start  # the matrix holds them (x.indices, x.indptr)

    new_a, new_b, new_s = np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0)
    new_n, new_f = np.zeros(0, np.int64), np.zeros(0, np.uint32)
    if n and new_mask.any():
        tb = band_hashes(text_sig, TEXT_ROWS)
        tb[text_sig[:, 0] == np.iinfo(np.uint32).max] = 0  # empty text: no bands
        t0 = time.perf_counter()
        buckets = _band_buckets([fb, tb], new_mask)
        del tb
        got, n_pairs = [], 0
        # candidates in slices of CANDIDATE_SLICE articles (by the pair's smaller row), each
        # scored and freed before the next: the candidate pairs never all sit in memory
        for lo in range(0, n, CANDIDATE_SLICE):
            pairs = _bucket_pairs(buckets, new_mask, (lo, min(n, lo + CANDIDATE_SLICE)))
            n_pairs += len(pairs)
            got.append(_score_pairs(pairs, ctx))
            del pairs
        del buckets
        new_a, new_b, new_s, new_n, new_f = (np.concatenate([g[k] for g in got]) for k in range(5))
        del got
        log.info("stories: %d candidate pairs for %d new of %d articles, %d new links (%.1f s)", n_pairs,
                 int(new_mask.sum()), n, len(new_a), time.perf_counter() - t0)

    # old links join two kept old articles, new ones at least one new article: never the same pair
    gone = (prev.signatures.select("doc_id").filter(pl.Series(~stay)) if kept is not None
            else _collect(prev.signatures.lazy().select("doc_id").join(keep_ids.lazy(), on="doc_id", how="anti")))
    # the previous links read once, each end as its row here, the k-th article gone as n + k,
    # a duplicate (no row) as null: the old links and the articles that lost a link come from it
    # (each end's row is its code in an Enum of those ids: 2x faster than joining the ids;
    # 4-byte rows, as the old links' arrays were: 17 bytes a link)
    if kept is not None and kept.links is not None:
        # the previous links as the arrays the last run kept, each end mapped to its row here
        # (the k-th article gone to n + k)
        # (4-byte rows when they fit: the gathers below read and write ~13M links at 100k)
        row = np.empty(kept.rows, dtype=np.int32 if n + kept.rows < 2**31 else np.int64)
        row[stay] = np.arange(n_old)
        row[~stay] = n + np.arange(kept.rows - n_old)
        pa, pb = row[kept.links[0]], row[kept.links[1]]
        live = (pa < n) & (pb < n)
        old_a, old_b, old_s = pa[live], pb[live], kept.links[2][live]
        lost = np.concatenate([pb[pa >= n], pa[pb >= n]])
        del row, pa, pb, live
    else:
        ends = pl.Enum(pl.concat([doc_ids, gone["doc_id"]]))
        prev_links = _collect(prev.links.lazy().select(
            *(pl.col(f"doc_{e}").cast(ends, strict=False).to_physical().cast(pl.Int32).alias(f"i{e}") for e in "ab"),
            "score", (pl.col("reason") == "duplicate").alias("dup")))
        old = prev_links.filter(~pl.col("dup") & (pl.col("ia") < n) & (pl.col("ib") < n))
        old_a, old_b, old_s = old["ia"].to_numpy(), old["ib"].to_numpy(), old["score"].to_numpy()
        lost = pl.concat([prev_links.filter(pl.col("ia") >= n)["ib"], prev_links.filter(pl.col("ib") >= n)["ia"]])
        lost = lost.drop_nulls().to_numpy()
        del old, prev_links
    n_old_links = len(old_a)  # links [0, n_old_links) are old, the rest new
    # (cast while concatenating: an astype after it copied every link again)
    ia = np.concatenate([old_a, new_a], dtype=np.int64)
    ib = np.concatenate([old_b, new_b], dtype=np.int64)
    sc = np.concatenate([old_s, new_s], dtype=np.float64)
    del old_a, old_b, old_s, new_a, new_b, new_s
    # the links to be kept (_Kept.links: 16 bytes a link), when the caller keeps the state and
    # they fit in what it keeps beside the rest of it (its signatures and these arrays: the bands
    # and text signatures twice, ~12 bytes a feature; the caller checks the real size again)
    rest = 2 * (fb.nbytes + text_sig.nbytes) + 12 * ctx.x.nnz
    all_links = ((ia.astype(np.int32), ib.astype(np.int32), sc.copy())
                 if keep_bytes is not None and rest + 16 * len(ia) <= keep_bytes else None)

    # Cluster again only the connected components (of all links) that changed: those with a
    # new article, or that lost an article (a link's other end is gone). Elsewhere the previous
    # stories stand as they were.
    t0 = time.perf_counter()
    touched = new_mask.copy()
    if gone.height:
        touched[lost[lost < n]] = True
    del lost
    comp = components(n, ia, ib)
    affected = np.zeros(n, dtype=bool)
    affected[comp[touched]] = True
    affected = affected[comp]
    # large components that changed little take their new articles in place (_attach);
    # the others are clustered again from all their links
    att = _attach_mask(comp, ia, new_mask, placed, affected)
    del comp
    exact = affected & ~att
    lmask = exact[ia] if len(ia) else np.zeros(0, dtype=bool)
    label = cluster(n, ia[lmask], ib[lmask], sc[lmask], scorer().merge_density,
                    ctx.ev_doy if exact.any() else None)
    log.info("stories: re-clustered %d of %d articles, %d of %d links (%.1f s)", int(exact.sum()), n,
             int(lmask.sum()), len(ia), time.perf_counter() - t0)
    if att.any():
        t0 = time.perf_counter()
        prev_code = (meta["story_id"].rank("dense").fill_null(0).to_numpy().astype(np.int64) - 1)
        new_link = np.arange(len(ia)) >= n_old_links
        label[att] = _attach(ia, ib, sc, new_link, att, prev_code, scorer().merge_density, ctx.ev_doy)[att]
        placed = (placed & ~exact) | (new_mask & att)
        log.info("stories: %d new articles attached in place among %d articles of large stable components "
                 "(%.1f s)", int((new_mask & att).sum()), int(att.sum()), time.perf_counter() - t0)
    else:
        placed = placed & ~exact
    # a story is named after the smallest story key of its originals (story_key, story_name);
    # after its smallest doc_id when `docs` has no story_key column
    keyed = "story_key" in docs.columns
    keys = docs.select("doc_id", "story_key") if keyed else docs.select("doc_id", pl.col("doc_id").alias("story_key"))
    members = (pl.DataFrame({"doc_id": doc_ids, "c": label, "redo": affected, "prev": meta["story_id"]})
               .join(keys, on="doc_id", how="left", maintain_order="left"))
    story_names = members.filter("redo").group_by("c").agg(pl.col("story_key").min())
    story_names = (story_names.with_columns(story_name(story_names["story_key"])) if keyed
                   else story_names.rename({"story_key": "story_id"}))
    originals = (members.join(story_names.select("c", "story_id"), on="c", how="left", maintain_order="left")
                 .select("doc_id", pl.when("redo").then("story_id").otherwise(pl.coalesce("prev", "doc_id"))
                         .alias("story_id")))
    del members, label

    # The links, in four parts each sorted by story_id, so a streaming merge keeps the whole
    # table sorted without holding it:
    # - new links (at least one new article): written with their evidence spelled out;
    # - old links of the re-clustered components: copied from the previous table with their
    #   story_id set again (their score and evidence depend only on the two articles' stored
    #   signatures and features, which did not change, so they are not derived again);
    # - old links of the other components: copied unchanged;
    # - the duplicates' links (below).
    dups = docs.filter(pl.col("duplicate_of").is_not_null())
    # duplicates are in their original's story (and linked to it, reason "duplicate")
    dup_story = (dups.join(originals.rename({"doc_id": "duplicate_of"}), on="duplicate_of", how="left")
                 .select("doc_id", pl.coalesce("story_id", "duplicate_of").alias("story_id")))
    # a few hundred thousand links are sorted and written in one go, in memory (faster than
    # writing parts and merging them); more are streamed through sorted Parquet parts
    in_memory = links_path is None or len(ia) + dups.height <= LINKS_IN_MEMORY
    # the new links only (copies: the arrays of all the links are freed here)
    new_links = {"a": ia[n_old_links:].copy(), "b": ib[n_old_links:].copy(), "s": sc[n_old_links:].copy(),
                 "n": new_n, "f": new_f}
    del ia, ib, sc, new_n, new_f

    # (a long-lived build keeps the delta and dropped tables written here for the next run)
    links_out: dict | None = {} if keep_bytes is not None else None

    def links_table() -> Frame:
        t0 = time.perf_counter()
        parts = {k: (links_path.with_name(f"{links_path.stem}.{k}.parquet") if links_path else None)
                 for k in ("redo", "dup", "relabel")}
        redo = _LinkSink(None if in_memory else parts["redo"])
        nl = new_links.copy()  # (and the closure's reference dropped: freed once written)
        new_links.clear()
        _write_links(ctx, nl["a"], nl["b"], nl["s"], originals["story_id"], redo, nl["n"], nl["f"])
        del nl
        dup_sink = _LinkSink(None if in_memory else parts["dup"])
        if dups.height:
            dup_links = (dups.join(dup_story, on="doc_id").select(
                pl.min_horizontal("doc_id", "duplicate_of").alias("doc_a"),
                pl.max_horizontal("doc_id", "duplicate_of").alias("doc_b"),
                pl.lit(1.0).alias("score"), pl.lit(1.0).alias("text_similarity"),
                pl.lit("duplicate").alias("reason"), "story_id").sort("story_id", "doc_a", "doc_b"))
            dup_sink.write(dup_links.select([pl.col(c).cast(t) if c in dup_links.columns else pl.lit(None, t).alias(c)
                                             for c, t in LINKS_SCHEMA.items()]))
        # (story order: store.scan_story_links keeps a table in parts in it too)
        old_links = prev.links.lazy().filter(pl.col("reason") != "duplicate")
        if links_path is not None and prev.links_dir is not None and n_old_links:
            # an incremental run over a stored table: only the links that changed are written
            # (past LINK_DELTA_SHARE of the table it is written whole: by _link_delta when few
            # enough to sort in memory, else it returns None and the parts are merged below)
            # only links with an end whose story changed, or that is gone, can change
            # (the new articles have no base links)
            changed = affected & ~new_mask & originals["story_id"].ne_missing(meta["story_id"]).to_numpy()
            links = _link_delta(prev.links_dir, links_path, pl.concat([doc_ids.filter(pl.Series(changed)),
                                                                       gone["doc_id"]]),
                                originals, redo, dup_sink, whole_in_memory=in_memory,
                                kept_parts=prev.links_parts, out=links_out)
            if links is not None:
                for part in parts.values():
                    if part is not None:
                        part.unlink(missing_ok=True)
                return links
        if in_memory:
            # every old link gets its story again and the table is sorted and written in one go
            # (collected, then sorted eagerly: the rows are nearly in story order already, and
            # the lazy sort of the same rows took ~5x longer at 285,000 links)
            links = pl.concat([_relabel_links(old_links, originals, None, sort=False), redo.result().lazy(),
                               dup_sink.result().lazy()]).collect().sort(LINK_ORDER, nulls_last=False)
            if links_path is not None:
                links = _write_whole(links_path, links)
        elif n_old_links == 0 and dup_sink.rows == 0:  # a first run: nothing to merge
            redo.result()  # closes the file (or writes an empty one)
            for k in ("dup", "relabel"):
                parts[k].unlink(missing_ok=True)
            os.replace(redo.path, links_path)
            links = pl.scan_parquet(links_path)
        else:
            # many links: only those of the re-clustered components get their story again; the
            # others are copied as they were, and the sorted parts are merged while streaming
            redone_ids = doc_ids.filter(pl.Series(affected))
            redone = pl.concat([redone_ids, gone["doc_id"]]).implode()  # only their links can change
            kept = old_links.filter(~pl.col("doc_a").is_in(redone)).select(list(LINKS_SCHEMA)).cast(LINKS_SCHEMA)
            relabel = _relabel_links(old_links.filter(pl.col("doc_a").is_in(redone_ids.implode())),
                                     originals.filter(pl.Series(affected)), parts["relabel"])
            merged = (kept.merge_sorted(relabel, key="story_id").merge_sorted(redo.result().lazy(), key="story_id")
                      .merge_sorted(dup_sink.result().lazy(), key="story_id"))
            links = _replace_links(links_path, parts.values(), lambda path: merged.sink_parquet(
                path, **LINK_PARQUET))
        log.info("stories: %d new links written with their evidence, %d duplicate links, the old links relabelled "
                 "or kept (%.1f s)", redo.rows, dup_sink.rows, time.perf_counter() - t0)
        return links

    # in an incremental run the build defers writing links few enough to handle in memory: the
    # state's save does it (in a thread, while the build writes the articles). Not in a first
    # run, where every link's evidence is made at once: its memory peak could then add to the
    # articles write's (in a full 10k build the peak RSS stayed within the run-to-run spread,
    # 950-1,080 MB, either way; left out to keep the two peaks apart at any size)
    deferred = defer_links and links_path is not None and in_memory and n_old_links > 0
    links = None if deferred else links_table()
    story_ids = pl.concat([originals, dup_story]).unique("doc_id").sort("doc_id").cast(STORY_IDS_SCHEMA)

    # the new state: the articles' signatures and features, straight from the arrays
    state_sigs = pl.DataFrame({
        "doc_id": doc_ids, "language": meta["language"], "published": meta["published"],
        "feat_bands": _array(fb, SIGNATURES_SCHEMA["feat_bands"]),
        "text_sig": _array(text_sig, SIGNATURES_SCHEMA["text_sig"]),
        "features": _list_series(vocab[ctx.x.indices], ctx.x.indptr.astype(np.int64)),
        "story_id": originals["story_id"],
    }, schema=SIGNATURES_SCHEMA).with_columns(pl.Series("placed", placed, dtype=pl.Boolean))
    carried = (_Kept(vocab=vocab, attrs=attrs, indices=ctx.x.indices, indptr=ctx.x.indptr.astype(np.int64, copy=False),
                     feat_bands=fb, text_sig=text_sig, ev_full=ctx.ev_full, ev_doy=ctx.ev_doy, links=all_links)
               if keep_bytes is not None else None)
    return story_ids, links, StoryState(state_sigs, names, links, pending=links_table if deferred else None,
                                        kept=carried, links_out=links_out)


def _carried_codes(kept: _Kept, old_codes: np.ndarray, v_new: np.ndarray, new_names: pl.DataFrame | None
                   ) -> tuple[np.ndarray, np.ndarray, _CodeAttrs]:
    """The feature codes of the corpus now, from the kept arrays of the previous run: the
    staying articles' codes (`old_codes`, in the kept vocabulary) and the new articles'
    hashes (`v_new`). Returns (every code, staying articles first: uint32; the vocabulary now;
    its codes' attributes): what ranking all the hashes again gives, at the cost of the hashes
    that came or went. A hash no article has any more leaves the vocabulary, a new one (named
    in `new_names`) enters it, and the codes in between move by as many places."""
    n0 = len(kept.vocab)
    present = np.bincount(old_codes, minlength=n0) > 0
    found = np.zeros(len(v_new), dtype=bool)
    if n0 and len(v_new):
        pos = np.minimum(np.searchsorted(kept.vocab, v_new), n0 - 1)
        found = kept.vocab[pos] == v_new
        present[pos[found]] = True
    added = _unique_u64(v_new[~found])
    stay = np.flatnonzero(present)
    stay_h = kept.vocab[stay]
    new_code = np.zeros(n0, dtype=np.int64)  # a staying code's place: its rank, plus the new hashes before it
    new_code[stay] = np.arange(len(stay)) + np.searchsorted(added, stay_h)
    at = np.searchsorted(stay_h, added) + np.arange(len(added))  # the new hashes' places
    vocab = np.empty(len(stay) + len(added), dtype=np.uint64)
    vocab[new_code[stay]] = stay_h
    vocab[at] = added
    src = np.empty(len(vocab), dtype=np.int64)  # each code's row in the kept attributes, then the new ones'
    src[new_code[stay]] = stay
    src[at] = n0 + np.arange(len(added))
    named = (new_names if new_names is not None else pl.DataFrame(schema=NAMES_SCHEMA)).unique("fh")
    add_names = pl.DataFrame({"fh": added}, schema={"fh": pl.UInt64}).join(named, on="fh", how="left",
                                                                            maintain_order="left")
    attrs = _CodeAttrs.concat(kept.attrs, _CodeAttrs.of(add_names)).gather(src)
    codes = np.concatenate([new_code[old_codes], np.searchsorted(vocab, v_new)]).astype(np.uint32)
    return codes, vocab, attrs


def links_to_compact(directory: str | os.PathLike, min_links: int | None = None, share: float | None = None) -> bool:
    """Whether the story_links of version `directory` are worth writing again as one file
    (compact_links): kept as a base of at least `min_links` rows (default COMPACT_MIN_LINKS)
    with a delta and dropped keys that pass `share` of it (default COMPACT_SHARE), and not
    compacted yet."""
    d = Path(directory)
    if (d / store.STORY_LINKS_COMPACTED).exists():
        return False
    try:
        n_base, n_dropped, n_delta = store.story_links_file_rows(d)
    except OSError:
        return False
    min_links = COMPACT_MIN_LINKS if min_links is None else min_links
    share = COMPACT_SHARE if share is None else share
    return n_base >= min_links and n_delta + n_dropped > share * n_base


COMPACTING_PREFIX = ".tmp-story_links_compacting-"  # (".tmp-": a version copied by hard links skips it)


def compact_links(directory: str | os.PathLike, min_links: int | None = None, share: float | None = None
                  ) -> Path | None:
    """Write the story_links table of version `directory` (base - dropped + delta, in story
    order as store.scan_story_links reads it, streamed: bounded memory) as one file,
    store.STORY_LINKS_COMPACTED, beside the files it is made from, when links_to_compact says
    so; returns its path, or None when nothing was written. The version's files are not
    changed: the new file is written under a temporary name and renamed into place, so a
    process stopped meanwhile leaves at most a `COMPACTING_PREFIX` file (build._Compaction
    removes it). The next incremental build takes it as its base (_link_delta)."""
    d = Path(directory)
    if not links_to_compact(d, min_links, share):
        return None
    part = d / f"{COMPACTING_PREFIX}{uuid.uuid4().hex}.parquet"
    try:
        store.scan_story_links(d).select(list(LINKS_SCHEMA)).sink_parquet(part, **LINK_PARQUET)
        os.replace(part, d / store.STORY_LINKS_COMPACTED)
    finally:
        part.unlink(missing_ok=True)
    return d / store.STORY_LINKS_COMPACTED


def _link_delta(prev_dir: Path, links_path: Path, moved_ids: pl.Series, originals: pl.DataFrame,
                redo: _LinkSink, dup_sink: _LinkSink, whole_in_memory: bool = True,
                kept_parts: tuple[pl.DataFrame, pl.DataFrame] | None = None,
                out: dict | None = None) -> pl.LazyFrame | None:
    """Write an incremental run's story_links as the previous version's base (hard-linked; its
    compacted table when compact_links wrote one, which then has no delta or dropped keys to
    carry) plus what changed (store.STORY_LINKS_DELTA, STORY_LINKS_DROPPED) and return the table
    (store.scan_story_links); when the changes pass LINK_DELTA_SHARE of the base, the whole
    table (the base rows that stay, and the changed ones, sorted in memory), which becomes the
    next base. None, writing nothing, when the previous version has no links file, or when the
    table is to be written whole but not `whole_in_memory` (the caller then streams it).

    `moved_ids`: the articles whose story changed and those gone (removed, or duplicates now):
    only a link with such an end can change story or go; `originals`: every original's story
    now (doc_id, story_id); `redo`, `dup_sink`: the
    new links and all the duplicates' links. A base row leaves the base (its key is dropped)
    when an end is gone, its story changed (it is then in the delta with the new one) or it
    is a duplicate's link (all of those are in the delta, written again each run). The
    previous delta is carried over with its stories set again. Every dropped key names one
    live base row (store.count_story_links relies on it).

    `kept_parts`: the previous version's delta and dropped tables as written (a long-lived
    build's memory: StoryState.links_parts), read instead of their files. `out`: given the
    delta and dropped tables written here (when written as a delta), as "delta", "dropped"."""
    import pyarrow.parquet as pq

    keys = ["doc_a", "doc_b"]
    base_path = prev_dir / "story_links.parquet"
    if not base_path.exists():
        return None
    delta_path, dropped_path = prev_dir / store.STORY_LINKS_DELTA, prev_dir / store.STORY_LINKS_DROPPED
    no_keys = pl.DataFrame(schema={"doc_a": pl.String, "doc_b": pl.String})
    old_delta_rows: pl.LazyFrame | None
    if (prev_dir / store.STORY_LINKS_COMPACTED).exists():
        # the previous version's table, written again as one file while the build process
        # waited (compact_links): the base, with no delta to carry and no dropped keys
        base_path = prev_dir / store.STORY_LINKS_COMPACTED
        old_delta_rows, dropped_old = None, no_keys
    elif kept_parts is not None:  # the previous delta and dropped keys as kept in memory
        old_delta_rows, dropped_old = kept_parts[0].lazy(), kept_parts[1]
    else:  # else from their files
        old_delta_rows = pl.scan_parquet(delta_path) if delta_path.exists() else None
        dropped_old = pl.read_parquet(dropped_path) if dropped_path.exists() else no_keys
    base = pl.scan_parquet(base_path)
    if dropped_old.height:
        base = base.join(dropped_old.lazy(), on=keys, how="anti")
    dup = pl.col("reason") == "duplicate"
    # the base rows that leave it, found from the key columns alone, among the links of the
    # articles that moved (not all those of the components clustered again: a large component
    # that took a few articles in place holds most links, and few of them change)
    moved_set = moved_ids.implode()
    rows = (base.select(*keys, "story_id", "reason")
            .filter(pl.col("doc_a").is_in(moved_set) | pl.col("doc_b").is_in(moved_set) | dup).collect())
    # (each end's story looked up among those ends only: a map of every original cost 0.15 s at 300k)
    ends = originals.filter(pl.col("doc_id").is_in(pl.concat([rows["doc_a"], rows["doc_b"]]).unique().implode()))
    cand = (_with_end_stories(rows.lazy(), ends)
            .with_columns((pl.col("_sa").is_null() | pl.col("_sb").is_null()).alias("_gone"))
            .filter(dup | pl.col("_gone") | pl.col("_new").ne_missing(pl.col("story_id")))
            .collect())
    # those whose story changed move to the delta with their new story (all their columns are
    # read for them only: the base is sorted by story, so only their stories' row groups)
    restory = cand.filter(~dup & ~pl.col("_gone")).select(*keys, pl.col("story_id").alias("_old"), "_new")
    moved = pl.DataFrame(schema=LINKS_SCHEMA)
    if restory.height:
        old_sids = restory["_old"].drop_nulls().unique().implode()
        of_old = base.filter(pl.col("story_id").is_in(old_sids) | (pl.col("story_id").is_null()
                                                                    if restory["_old"].null_count() else pl.lit(False)))
        moved = (of_old.join(restory.lazy(), on=keys, how="inner").with_columns(pl.col("_new").alias("story_id"))
                 .select(list(LINKS_SCHEMA)).collect())
    old_delta = (_relabel_links(old_delta_rows.filter(~dup), originals, None, sort=False).collect()
                 if old_delta_rows is not None else pl.DataFrame(schema=LINKS_SCHEMA))
    dropped = pl.concat([dropped_old, cand.select(keys)])
    delta = pl.concat([old_delta, moved, _collect(redo.result()), _collect(dup_sink.result())])
    n_base = pq.ParquetFile(base_path).metadata.num_rows
    log.info("stories: links changed since the base: %d in the delta, %d base rows dropped, of %d in the base%s",
             delta.height, dropped.height, n_base,
             "" if delta.height + dropped.height <= LINK_DELTA_SHARE * n_base else ": the table is written whole")
    if delta.height + dropped.height > LINK_DELTA_SHARE * n_base:
        if not whole_in_memory:
            return None
        # written whole from the same parts: the base rows that stay as they were, and the
        # delta (on the 10k bench store ~0.3 s less than setting every old link's story again)
        kept = base.join(cand.lazy().select(keys), on=keys, how="anti").select(list(LINKS_SCHEMA)).cast(LINKS_SCHEMA)
        links_path.unlink(missing_ok=True)
        return _write_whole(links_path, pl.concat([kept.collect(), delta]).sort(LINK_ORDER, nulls_last=False))
    links_path.unlink(missing_ok=True)
    try:  # the previous version's file, shared: nothing writes into it (a new table replaces it)
        os.link(base_path, links_path)
    except OSError:
        shutil.copy2(base_path, links_path)
    delta = delta.sort(LINK_ORDER, nulls_last=False)
    delta.write_parquet(links_path.with_name(store.STORY_LINKS_DELTA), **LINK_PARQUET)
    # sorted by doc_a, with statistics: a reader of one story reads only its links' keys
    # (store.story_links_of)
    dropped = dropped.sort(keys)
    dropped.write_parquet(links_path.with_name(store.STORY_LINKS_DROPPED), **LINK_PARQUET)
    if out is not None:
        out.update(delta=delta, dropped=dropped)
    return store.scan_story_links(links_path.parent)


def _write_whole(links_path: Path, table: pl.DataFrame) -> pl.LazyFrame:
    """Write a links table held in memory (sorted: LINK_ORDER) as `links_path` and scan it."""
    return _replace_links(links_path, [], lambda path: table.write_parquet(path, **LINK_PARQUET))


def _replace_links(links_path: Path, parts: Iterable[Path], write: Callable[[Path], object]) -> pl.LazyFrame:
    """Write the merged links table with `write(path)` next to `links_path`, delete the parts
    it was merged from, move it into place (one rename: a reader never sees half a table) and
    scan it."""
    tmp_path = links_path.with_name(f"{links_path.stem}.merged.parquet")
    write(tmp_path)
    for part in parts:
        part.unlink(missing_ok=True)
    os.replace(tmp_path, links_path)
    return pl.scan_parquet(links_path)


def _list_series(values: np.ndarray, offsets: np.ndarray) -> pl.Series:
    """A List(UInt64) column from flat values and offsets (Arrow buffers, no Python objects)."""
    import pyarrow as pa

    arr = pa.LargeListArray.from_arrays(_arrow_numbers(offsets, np.int64, pa.int64()),
                                        _arrow_numbers(values, np.uint64, pa.uint64()))
    return pl.Series(pl.from_arrow(arr)).cast(pl.List(pl.UInt64))


# ---------------------------------------------------------------- evaluation helper

def pairwise_prf(pred: list[str], gold: list[str]) -> tuple[float, float, float, int, int, int]:
    """Pairwise precision, recall, F1 of a grouping against gold labels of the same items.

    A pair of items is predicted together when they share a predicted label, and truly
    together when they share a gold label. Returns (P, R, F1, true pairs found, predicted
    pairs, gold pairs); P (R) is 1.0 when nothing is predicted (gold) together.
    """
    if len(pred) != len(gold):
        raise ValueError("pred and gold must label the same items")
    df = pl.DataFrame({"p": pred, "g": gold}, schema={"p": pl.String, "g": pl.String})

    def pairs(col: list[str]) -> int:
        c = df.group_by(col).agg(pl.len().alias("n"))["n"].cast(pl.Int64)
        return int((c * (c - 1) // 2).sum())

    tp, npred, ngold = pairs(["p", "g"]), pairs(["p"]), pairs(["g"])
    p = tp / npred if npred else 1.0
    r = tp / ngold if ngold else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f, tp, npred, ngold

