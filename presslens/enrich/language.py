"""Language of an article, of its paragraphs and of any short text.

In:  the article text and its boilerplate spans (boilerplate.find); clutter is left out.
Out: LanguageResult(language, confidence, mixed, languages, paragraphs):
  - language: ISO 639-1 code ("ru", "uk", "ro", "en", "be", "sr", ...) or "und" when the
    text gives no evidence (fewer than MIN_LETTERS letters, or only a short name such as
    "Томас Браун"), is too mixed (no language reaches UND_BELOW of the detected text), or
    is Serbian-or-Macedonian without a clear lead for either (see identify);
  - confidence (0..1): the detectors' agreed probability for the chosen language,
    letter-weighted over the paragraphs and damped for short texts (see _damp);
  - mixed / languages: the languages holding at least MIXED_SHARE of the detected letters
    (and MIXED_MIN_LETTERS letters); mixed is True when there are two or more;
  - paragraphs: Paragraph(start, end, language, confidence) for every paragraph (non-empty
    line outside boilerplate) long enough to call (PARA_MIN_LETTERS), at most
    MAX_PARAGRAPHS of them per article, spread evenly over the text.

How one piece of text is identified (identify):
  1. Script: Cyrillic, Latin or other, by counting letters (one NumPy histogram over the
     code points, see _char_tables; the counts are those of the regexes it stands for).
  2. Cyrillic letters settle what the alphabets allow: a language is ruled out when at
     least FOREIGN_SHARE of the Cyrillic letters are not in its alphabet (і/ї/є rule out
     Russian, ы/э Ukrainian, ў everything but Belarusian, ђ/ћ everything but Serbian...).
  3. langdetect 1.0.9 (seeded), restricted to the profiles of that script (4 Cyrillic,
     31 Latin, the 20 others for other scripts), with compiled n-gram extraction, each
     text token's n-gram vectors read once per process (cached), and the trials written
     out per language: exactly langdetect's own probabilities (see _LangdetectState) at a
     fraction of the cost.
  4. lingua (low-accuracy mode, restricted to the same script's languages, plus be and sr
     which langdetect has no model for) is asked when the text is short
     (< LINGUA_BELOW_LETTERS letters), when langdetect is unsure (< LINGUA_UNSURE_BELOW),
     or when Belarusian or Serbian is still possible. Each language's score is the mean of
     the probabilities of the detectors that have a model for it.
  5. Serbian vs Macedonian (langdetect knows only Macedonian), when the letters allow
     both (no ђ/ћ, no ѓ/ќ/ѕ) and the call is sr, mk or uk (letters that fit Serbian leave
     no evidence for Ukrainian): function words only one of them uses (_SR_WORDS,
     _MK_WORDS: је/у/био... against во/со/тоа...) decide; without them (or with both
     kinds) lingua decides, Macedonian only with a clear lead (MK_OVER_SR), else `und`.
  6. Romanian against other Romance languages: ă ș ț (and the cedilla forms) settle it.

Article cost is bounded: paragraphs with the same letter signature (script and the
languages their letters allow) are identified once, on a sample of at most
GROUP_SAMPLE_CHARS; at most MAX_PARAGRAPHS paragraphs are looked at, and only the first
MAX_TEXT_CHARS of a text are read. Models are loaded once per process (warm_up).
Results repeat: langdetect is seeded (0) and lingua is deterministic.
"""
from __future__ import annotations

import re
import threading
from itertools import chain, islice
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


# Fewer letters than this is no evidence of a language ("Да.", "OK, 12:30", "№ 5").
# Single news sentences of 6-10 letters ("Там дебилы.") are still called right by the
# two detectors together most of the time, so the bar is "a handful of letters".
MIN_LETTERS = 5
# A text of at most this many words, each capitalised, is a name ("Томас Браун", "Kim
# Jong Un"): names are written alike across languages, so it is `und`.
NAME_MAX_WORDS = 3
# A paragraph needs this many letters to get its own entry; shorter lines (labels,
# captions, one-line quotes) are left to the article-level result.
PARA_MIN_LETTERS = 80
# One piece of text is identified from at most this many characters: a few hundred
# characters settle the language and the cost grows with length.
PARA_MAX_CHARS = 300
# Paragraphs sharing a letter signature are identified once, on a sample of their text
# this long (each paragraph contributing its start, so a long first paragraph does not
# stand for all).
GROUP_SAMPLE_CHARS = 600
# At most this many paragraphs are looked at per article, spread over the text.
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
# Texts with fewer letters than this get a proportionally lower confidence: the
# detectors report ~0.99 even on a few words, which overstates what short texts support.
FULL_CONFIDENCE_LETTERS = 200
# lingua is asked on texts shorter than this (langdetect's random n-gram sampling is
# weakest on a sentence or two; lingua is built for short text) ...
LINGUA_BELOW_LETTERS = 200
# ... and on any text where langdetect's best probability is below this.
LINGUA_UNSURE_BELOW = 0.9
# A language is ruled out by its alphabet when at least this share of the Cyrillic
# letters are foreign to it: one letter in a sentence is enough, while a Russian article
# quoting "Київ" once (one ї in a thousand letters) keeps Russian.
FOREIGN_SHARE = 0.01
# Without a word or letter that tells Serbian from Macedonian (see _SR_WORDS), Macedonian
# is reported over Serbian only when lingua gives it this share of the two (Serbian must
# not be reported as Macedonian: the rule); Serbian needs a plain majority. In
# between the text is `und`.
MK_OVER_SR = 0.9
# ... and only when lingua gives the two together at least this much: below it lingua
# prefers a language the letters rule out and has no opinion on Serbian vs Macedonian.
SR_MK_MIN_MASS = 0.2
# Serbian vs Macedonian when the letters allow both (no ђ/ћ, no ѓ/ќ/ѕ): common function
# words that the other language does not use. Chosen from the two grammars, not from the
# evaluation sentences: Serbian "је/су" (is/are; Macedonian "е/се"), "у" (in; mk "во"),
# "са" (with; mk "со"), "био/били" (mk "бил/биле"), "који/које" (mk "кој/кое"), "као"
# (mk "како"), "није/нису", "где/када/још/због" (mk "каде/кога/уште/поради"),
# "године" (mk "години"); Macedonian "во", "со", "ги", "кои", "кое", "тоа", "тие",
# "биле", "беше", "многу", "околу", "денес" (Serbian "у, са, их, који, које, то, они,
# били, беше is archaic, много, око(ло), данас"). The Macedonian copula "е" is left out:
# Serbian writes "н. е." (of the common era).
_SR_WORDS = frozenset("је су није нису у са био били који које као где када још због године".split())
_MK_WORDS = frozenset("во со ги кои кое тоа тие биле многу околу денес".split())
_CYR_WORD_RE = re.compile(r"[\u0400-\u04FF]+")
# Romanian letters (comma-below and cedilla forms, ă) that other Romance languages lack;
# at least _DISTINCT_MIN of them making up _DISTINCT_SHARE of the letters turn another
# Romance call into Romanian.
_RO_ONLY_RE = re.compile("[ăĂșȘțȚşŞţŢ]")
_ROMANCE_CODES = {"it", "es", "pt", "ca", "fr", "ro", "la", "gl"}
_DISTINCT_MIN = 2
_DISTINCT_SHARE = 0.01
# When a rule overrules the models, their probability says nothing about the new
# language: report this moderate confidence instead.
OVERRULED_CONFIDENCE = 0.75

# Standard alphabets (lower case) of the Cyrillic languages told apart here.
ALPHABETS: dict[str, frozenset[str]] = {
    "ru": frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя"),
    "uk": frozenset("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"),
    "be": frozenset("абвгґдеёжзійклмнопрстуўфхцчшыьэюя"),
    "bg": frozenset("абвгдежзийклмнопрстуфхцчшщъьюя"),
    "mk": frozenset("абвгдѓежзѕијклљмнњопрстќуфхцчџш"),
    "sr": frozenset("абвгдђежзијклљмнњопрстћуфхцчџш"),
}
CYRILLIC = tuple(ALPHABETS)

# langdetect profiles per script ("other" scripts use all 55 profiles).
_LD_CYRILLIC = ("bg", "mk", "ru", "uk")
_LD_LATIN = ("af", "ca", "cs", "cy", "da", "de", "en", "es", "et", "fi", "fr", "hr", "hu", "id",
             "it", "lt", "lv", "nl", "no", "pl", "pt", "ro", "sk", "sl", "so", "sq", "sv", "sw",
             "tl", "tr", "vi")
# lingua languages per script: the same as langdetect's, plus the two Cyrillic languages
# langdetect lacks. lingua calls Norwegian Bokmål "nb"; langdetect calls it "no".
_LI_CYRILLIC = ("be", "bg", "mk", "ru", "sr", "uk")
_LI_LATIN = tuple("nb" if c == "no" else c for c in _LD_LATIN)
_LI_CODE_MAP = {"nb": "no"}
# langdetect codes that are not plain ISO 639-1.
_LD_CODE_MAP = {"zh-cn": "zh", "zh-tw": "zh"}

_CYRILLIC_RE = re.compile(r"[\u0400-\u04FF]")
_LATIN_RE = re.compile(r"[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]")
_LETTER_RE = re.compile(r"[^\W\d_]")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’ʼ-][^\W\d_]+)*")
_NON_ASCII_LATIN_RE = re.compile(r"[\u00C0-\u024F\u1E00-\u1EFF]")
# A Latin i written inside a Cyrillic word (old Ukrainian and Belarusian web text: "вiн").
# (Written to start with [iI] so that the regex engine skips to those letters.)
_LATIN_I_RE = re.compile(r"[iI](?:(?<=[\u0400-\u04FF][iI])|(?=[\u0400-\u04FF]))")


# Per-character facts, as bit flags in one table over every code point (_char_tables):
# a letter ([^\W\d_]), in the Cyrillic block, in the Latin ranges (_LATIN_RE), upper
# case (str.isupper), a non-ASCII Latin character (_NON_ASCII_LATIN_RE), a Romanian-only
# letter (_RO_ONLY_RE). Each flag is taken from the regex or test it stands for, so the
# counts are those of the regexes, made with NumPy over the text's code points instead
# of one regex pass (or one Python step) per character and per question.
_FLAGS = (_LETTER_RE, _CYRILLIC_RE, _LATIN_RE, "upper", _NON_ASCII_LATIN_RE, _RO_ONLY_RE)
_N_CLASSES = 1 << len(_FLAGS)
# Each code point's key: its class (flag combination), or for the 256 characters of the
# Cyrillic block (U+0400-U+04FF) _N_CLASSES + its place in the block, so that one
# histogram of keys gives both the flag counts and the Cyrillic letters' counts.
_N_KEYS = _N_CLASSES + 256
# The key of code points whose plane (65,536 code points) is not classified yet: planes
# other than the first are classified when a text first holds one of their characters.
_UNCLASSIFIED = _N_KEYS
# A text's profile (_profile): the flag counts, then for each of CYRILLIC the letters
# foreign to its alphabet after lower-casing (as cyrillic_candidates counts them), then
# the number of і and ў (lower-cased).
_P_FOREIGN = len(_FLAGS)
_P_BE_MARKS = _P_FOREIGN + len(CYRILLIC)
_tables: tuple | None = None  # (key per code point, profile matrix, lower-casing folds into the block)
_planes_done: set[int] = set()


def _char_tables() -> tuple:
    """(uint16 key of every code point, (profile rows x _N_KEYS + 1) 0/1 matrix, folds),
    built once (~0.03 s: the first plane; see _classify_planes). `folds` is True when
    lower-casing maps each Cyrillic block character to one block character and no other
    character into the block (checked here on this Python's Unicode data): then the
    lower-cased Cyrillic letters are counted without lower-casing the text."""
    global _tables
    if _tables is None:
        import numpy as np

        with _tables_lock:
            if _tables is not None:
                return _tables
            key = np.full(0x110000, _UNCLASSIFIED, dtype=np.uint16)
            first_plane = _plane_classes(0)
            block = np.arange(0x400, 0x500)
            classes = np.concatenate([np.arange(_N_CLASSES), first_plane[block], [0]])
            _classify_plane(key, 0, first_plane)
            rows = [(classes >> bit) & 1 for bit in range(len(_FLAGS))]
            lowered = [chr(c).lower() for c in range(0x400, 0x500)]
            everything = np.arange(0x110000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
            in_block = _codes(everything.lower()) - 0x400
            folds = (all(len(ch) == 1 and "\u0400" <= ch <= "\u04ff" for ch in lowered)
                     and int((in_block < 256).sum()) == 256)
            fold = [ord(ch) - 0x400 if folds else 0 for ch in lowered]
            for lang in CYRILLIC:
                rows.append(np.array([0] * _N_CLASSES + [chr(0x400 + f) not in ALPHABETS[lang] for f in fold] + [0]))
            rows.append(np.array([0] * _N_CLASSES + [chr(0x400 + f) in "іў" for f in fold] + [0]))
            # float64: the products with BLAS; every count is an integer far below 2**53, exact.
            _tables = (key, np.array(rows, dtype=np.float64), folds)
    return _tables


_tables_lock = threading.Lock()


def _plane_classes(plane: int):
    """The class (flag bits, see _FLAGS) of every code point of `plane`."""
    import numpy as np

    first = plane << 16
    chars = np.arange(first, first + 0x10000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    cls = np.zeros(0x10000, dtype=np.uint16)
    for bit, flag in enumerate(_FLAGS):
        if flag == "upper":
            members = [i for i, ch in enumerate(chars) if ch.isupper()]
        else:
            members = _codes("".join(flag.findall(chars))) - first
        cls[members] |= 1 << bit
    return cls


def _classify_plane(key, plane: int, cls=None) -> None:
    """Write the keys of `plane` (its classes `cls` when given) into `key` (the Cyrillic
    block's own keys in plane 0)."""
    import numpy as np

    if plane in _planes_done:
        return
    first = plane << 16
    cls = _plane_classes(plane) if cls is None else cls.copy()
    if plane == 0:
        cls[0x400:0x500] = _N_CLASSES + np.arange(256)
    key[first:first + 0x10000] = cls
    _planes_done.add(plane)


def _classify_planes(codes) -> None:
    """Classify the planes of `codes` not classified yet (once per process and plane)."""
    import numpy as np

    key = _char_tables()[0]
    with _tables_lock:
        for plane in np.unique(codes[key.take(codes) == _UNCLASSIFIED] >> 16).tolist():
            _classify_plane(key, plane)


def _codes(text: str):
    """The code points of `text` as a NumPy uint32 array (lone surrogates included)."""
    import numpy as np

    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _profile(text: str) -> list[int]:
    """[letters, Cyrillic-block characters, Latin-range characters, upper-case
    characters, non-ASCII Latin characters, Romanian-only letters, the Cyrillic letters
    foreign to each of CYRILLIC, і and ў] of `text` (lower-cased for the last two parts)."""
    import numpy as np

    key, matrix, _ = _char_tables()
    codes = _codes(text)
    hist = np.bincount(key.take(codes), minlength=_N_KEYS + 1)
    if hist[_UNCLASSIFIED]:
        _classify_planes(codes)
        hist = np.bincount(key.take(codes), minlength=_N_KEYS + 1)
    return (matrix @ hist).astype(np.int64).tolist()


def _profiles(texts: list[str]) -> list[list[int]]:
    """_profile of each of `texts`, with one pass over all of them."""
    import numpy as np

    if not texts:
        return []
    key, matrix, _ = _char_tables()
    codes = _codes("\n".join(texts))
    keys = key.take(codes).astype(np.intp)
    if keys.size and keys.max() == _UNCLASSIFIED:
        _classify_planes(codes)
        keys = key.take(codes).astype(np.intp)
    hists = []
    start = 0
    for text in texts:
        end = start + len(text)
        hists.append(np.bincount(keys[start:end], minlength=_N_KEYS + 1))
        start = end + 1
    return (np.array(hists) @ matrix.T).astype(np.int64).tolist()


def _script(letters: int, cyr: int, lat: int) -> str | None:
    """'cyrillic', 'latin' or 'other' by the majority of `letters` (Cyrillic `cyr`, Latin
    `lat`: counts from _profile); None without letters."""
    if not letters:
        return None
    if cyr >= lat and cyr * 2 >= letters:
        return "cyrillic"
    if lat > cyr and lat * 2 >= letters:
        return "latin"
    return "other"


def cyrillic_candidates(text: str) -> tuple[str, ...]:
    """Cyrillic languages whose alphabet fits the text's Cyrillic letters (see
    FOREIGN_SHARE). When every language is ruled out (a mix), those with the fewest
    foreign letters are kept."""
    return _candidates(_profile(text), 0, text)


# The Latin i made Cyrillic (_LATIN_I_RE) is "і": foreign to these alphabets.
_I_FOREIGN = tuple(int("і" not in ALPHABETS[lang]) for lang in CYRILLIC)


def _candidates(profile: list[int], extra_i: int, text: str) -> tuple[str, ...]:
    """cyrillic_candidates of `text`, given the _profile of `text` before `extra_i` Latin
    i's in it were made Cyrillic "і"."""
    if not _char_tables()[2]:
        return _candidates_counted(text)
    total = profile[1] + extra_i
    if not total:
        return CYRILLIC
    foreign = {lang: n + extra_i * extra
               for lang, n, extra in zip(CYRILLIC, profile[_P_FOREIGN:_P_BE_MARKS], _I_FOREIGN)}
    return _fits(foreign, total, profile[_P_BE_MARKS] + extra_i)


def _candidates_counted(text: str) -> tuple[str, ...]:
    """cyrillic_candidates by counting the lower-cased text's characters (used when
    lower-casing does not keep to the Cyrillic block, see _char_tables)."""
    from collections import Counter

    counts = {ch: n for ch, n in Counter(text.lower()).items() if "\u0400" <= ch <= "\u04ff"}
    total = sum(counts.values())
    if not total:
        return CYRILLIC
    foreign = {lang: sum(n for ch, n in counts.items() if ch not in alpha) for lang, alpha in ALPHABETS.items()}
    return _fits(foreign, total, counts.get("і", 0) + counts.get("ў", 0))


def _fits(foreign: dict[str, int], total: int, be_marks: int) -> tuple[str, ...]:
    """The Cyrillic languages allowed by `foreign` letters among `total` Cyrillic ones and
    the number of і/ў (see cyrillic_candidates)."""
    fits = tuple(lang for lang in CYRILLIC if not foreign[lang] or foreign[lang] / total < FOREIGN_SHARE)
    if "be" in fits and len(fits) > 1 and not be_marks:
        # Belarusian writes і where the others write и (and has ў): without either letter
        # a text is not Belarusian, whatever else its alphabet allows.
        fits = tuple(lang for lang in fits if lang != "be")
    if fits:
        return fits
    least = min(foreign.values())
    return tuple(lang for lang in CYRILLIC if foreign[lang] == least)


def _fix_latin_i(text: str) -> tuple[str, int]:
    """(`text` with a Latin i written inside a Cyrillic word made Cyrillic, how many)."""
    return _LATIN_I_RE.subn("і", text) if "i" in text or "I" in text else (text, 0)


def is_name(text: str) -> bool:
    """True for a short run of capitalised words only ("Томас Браун", "Kim Jong Un")."""
    words = [m.group() for m in islice(_WORD_RE.finditer(text), NAME_MAX_WORDS + 1)]
    return 0 < len(words) <= NAME_MAX_WORDS and all(w[0].isupper() for w in words)


# ---------------------------------------------------------------------------------------
# langdetect: restricted profiles, compiled n-gram extraction
# ---------------------------------------------------------------------------------------

_lock = threading.Lock()
_factories: dict[str, object] = {}
_states: dict[str, "_LangdetectState"] = {}
_lingua: dict[str, object] = {}
_norm_table: dict[int, str] | None = None
_SPACES_RE = re.compile(" +")
_ASCII_AZ_RE = re.compile(r"[A-z]")
_NON_LATIN_RE = re.compile(r"[\u0300-\U0010FFFF]")
_LATIN_EXT_ADDITIONAL_RE = re.compile(r"[\u1E00-\u1EFF]")


def _normalisation_table() -> dict[int, str]:
    """langdetect's per-character normalisation (NGram.normalize) as a str.translate
    table over the Basic Multilingual Plane (built once, ~0.1 s; characters outside the
    BMP are left as they are by NGram.normalize too)."""
    global _norm_table
    if _norm_table is None:
        from langdetect.utils.ngram import NGram

        table = {}
        for code in range(0x10000):
            if 0xD800 <= code <= 0xDFFF:
                continue
            ch = chr(code)
            norm = NGram.normalize(ch)
            if norm != ch:
                table[code] = norm
        _norm_table = table
    return _norm_table


def _detector_class(state: "_LangdetectState"):
    """A langdetect Detector whose text cleaning and n-gram extraction use compiled
    regexes and str.translate instead of a Python loop per character, and whose
    probabilities come from `state` (cached n-gram vectors per token, the trials unrolled
    per language). The features (the list of n-grams, in langdetect's order) are identical
    to langdetect's own, so the seeded random sampling and the probabilities are too
    (tests/test_language.py checks this against langdetect on text in many scripts)."""
    from langdetect.detector import Detector
    from langdetect.lang_detect_exception import ErrorCode, LangDetectException
    from langdetect.utils.ngram import NGram

    table = _normalisation_table()

    class _FastDetector(Detector):
        def append(self, text: str) -> None:
            text = self.URL_RE.sub(" ", text)
            text = self.MAIL_RE.sub(" ", text)
            text = NGram.normalize_vi(text)
            # langdetect drops a space following a space, over the first max_text_length chars.
            self.text += _SPACES_RE.sub(" ", text[: self.max_text_length])

        def cleaning_text(self) -> None:
            latin = len(_ASCII_AZ_RE.findall(self.text))
            non_latin = len(_NON_LATIN_RE.findall(self.text)) - len(_LATIN_EXT_ADDITIONAL_RE.findall(self.text))
            if latin * 2 < non_latin:
                self.text = _ASCII_AZ_RE.sub("", self.text)

        def _extract_ngrams(self) -> list[str]:
            return extract_ngrams(self.text, self.word_lang_prob_map, table)

        def _detect_block(self) -> None:
            # Detector._detect_block: cleaning_text, then the vectors of the known n-grams
            # in langdetect's order, then the seeded trials (same floats, same draws).
            numbers = state.numbers(self.text)
            if not len(numbers):
                raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
            self.random.seed(self.seed)
            self.langprob = state.trials(numbers, self.n_trial, self.alpha, self.random)

    return _FastDetector


# The token caches of one script's langdetect state hold at most this many tokens each
# (then they start again): ~0.26 kB a token with its key (measured on news tokens), so
# ~13 MB a cache, while the frequent tokens of news (the ones that repeat) fit many times
# over: 540 BSNLP articles hold 10,660 distinct tokens in their first 600 characters.
TOKEN_CACHE_MAX = 50_000


def _trial_routine(n_lang: int):
    """langdetect's trial loop (Detector._detect_block after the n-gram extraction) for
    `n_lang` languages, written out with one local variable per language.

    The same float operations in the same order as langdetect's (prob[i] *= weight + q;
    every 5th step prob[i] / sum(prob), stop when max(prob) > CONV_THRESHOLD or after
    ITERATION_LIMIT steps; the trials averaged as langprob[j] += prob[j] / n_trial), and
    the same random draws: random.choice(vectors) is vectors[_randbelow(len(vectors))]
    (here rows[numbers[r]]), whose draws (getrandbits(k) until below n) are made here
    directly (_inline_choice_ok checks at start-up that this Python draws the same indices)."""
    ps = [f"p{j}" for j in range(n_lang)]
    P = ", ".join(ps) + ","
    acc = ", ".join(f"a{j}" for j in range(n_lang)) + ","
    step = ["r = getrandbits(k)", "while r >= n:", "    r = getrandbits(k)",
            ", ".join(f"q{j}" for j in range(n_lang)) + ", = rows[numbers[r]]",
            *(f"p{j} = p{j} * (weight + q{j})" for j in range(n_lang))]
    normalise = ["total = sum((" + P + "))", *(f"p{j} = p{j} / total" for j in range(n_lang))]
    stop = "max((" + P + ")) > conv or i >= limit"

    def block(lines: list[str], depth: int) -> str:
        return "".join(" " * (4 * depth) + line + "\n" for line in lines)

    # Steps i = 0, 1, 2, ...: each draws a vector and updates; steps 0, 5, 10, ... then
    # normalise and test for the stop. Written as step 0 + test, then blocks of five.
    src = ("def trials(numbers, rows, n_trial, alpha0, rnd, alpha_width, base_freq, conv, limit):\n"
           + block(["getrandbits = rnd.getrandbits", "gauss = rnd.gauss", "n = len(numbers)",
                    "k = n.bit_length()", f"init = 1.0 / {n_lang}",
                    f"{acc} = " + "0.0, " * n_lang, "for _ in range(n_trial):"], 1)
           + block([f"{P} = " + "init, " * n_lang, "alpha = alpha0 + gauss(0.0, 1.0) * alpha_width",
                    "weight = alpha / base_freq", "i = 0", *step, *normalise, f"if not ({stop}):"], 2)
           + block(["while True:"], 3)
           + block(step * 5 + ["i += 5", *normalise, f"if {stop}:", "    break"], 4)
           + block([f"a{j} += p{j} / n_trial" for j in range(n_lang)], 2)
           + block([f"return [{acc}]"], 1))
    namespace: dict = {}
    exec(compile(src, f"<langdetect trials, {n_lang} languages>", "exec"), namespace)
    return namespace["trials"]


def _inline_choice_ok() -> bool:
    """True when random.Random.choice(seq) draws seq[getrandbits(k) until below n] with
    k = n.bit_length(), as _trial_routine assumes (CPython 3.x); checked on a few lengths."""
    import random

    for n in (1, 2, 3, 5, 8, 17, 100, 1000, 4097, 65536):
        seq = range(n)
        a, b = random.Random(n), random.Random(n)
        k = n.bit_length()
        for _ in range(50):
            r = b.getrandbits(k)
            while r >= n:
                r = b.getrandbits(k)
            if a.choice(seq) != r:
                return False
    return True


class _LangdetectState:
    """What langdetect needs for one script's profiles, kept once per process: the
    profiles' n-gram vectors (each known n-gram numbered), the language list, the seed,
    the trial routine, and caches of each text token's n-gram numbers.

    langdetect's n-grams never span a space (after normalisation), so the list of n-grams
    of a text is the concatenation, token by token (the text split at its spaces), of
    each token's own list as a token followed by a space; only the text's last token may
    lack that space, and it is read on its own. Tokens repeat (news vocabulary), so each
    is read once and its n-gram numbers (packed in bytes, so that a text's list is one
    bytes join) and its Latin / non-Latin letter counts (for langdetect's cleaning step)
    are looked up after that."""

    def __init__(self, fac) -> None:
        from langdetect.detector import Detector

        from array import array

        self.known = fac.word_lang_prob_map
        self.rows = list(self.known.values())  # n-gram number -> its probability vector
        # (langdetect samples only n-grams whose vector is non-empty: all of them in 1.0.9)
        self.number = {gram: i for i, (gram, vec) in enumerate(self.known.items()) if vec}
        self.typecode = "H" if len(self.rows) <= 1 << 16 else "I"
        self._pack = lambda numbers: array(self.typecode, numbers).tobytes()
        self.langlist = list(fac.langlist)
        self.seed = fac.seed
        self.table = _normalisation_table()
        self.tokens: dict[str, tuple[bytes, int, int]] = {}  # token -> (numbers, latin, non-Latin)
        self.stripped: dict[str, bytes] = {}  # token -> numbers with [A-z] removed
        self.final: dict[str, bytes] = {}  # a text's last token -> numbers (no space after it)
        self._trials = _trial_routine(len(self.langlist))
        self._inline = _inline_choice_ok()
        self._params = (Detector.ALPHA_WIDTH, Detector.BASE_FREQ, Detector.CONV_THRESHOLD, Detector.ITERATION_LIMIT)
        self._detector = Detector

    def _read(self, text: str) -> bytes:
        """Numbers of the known n-grams of `text` (a token, perhaps followed by a space), in
        langdetect's order, uncached: the n-grams of _all_ngrams, read word by word (the
        normalised text split at its spaces; a word followed by a space reads that space
        too) without building the unknown ones."""
        get = self.number.get
        out = []
        words = text.translate(self.table).split(" ")
        last = len(words) - 1
        for k, word in enumerate(words):
            if not word:
                continue
            s = " " + word + " " if k < last else " " + word
            upper_before = False
            for i in range(1, len(s)):
                upper = s[i].isupper()
                if not (upper and upper_before):  # nothing at a capital following a capital
                    v = get(s[i])
                    if v is not None:
                        out.append(v)
                    v = get(s[i - 1:i + 1])
                    if v is not None:
                        out.append(v)
                    if i > 1:  # (the trigram ending at a word's first letter spans a space)
                        v = get(s[i - 2:i + 1])
                        if v is not None:
                            out.append(v)
                upper_before = upper
        return self._pack(out)

    @staticmethod
    def _remember(cache: dict, key: str, value):
        if len(cache) >= TOKEN_CACHE_MAX:
            cache.clear()
        cache[key] = value
        return value

    def _token(self, tok: str) -> tuple[bytes, int, int]:
        entry = self.tokens.get(tok)
        if entry is None:
            latin = len(_ASCII_AZ_RE.findall(tok))
            non_latin = len(_NON_LATIN_RE.findall(tok)) - len(_LATIN_EXT_ADDITIONAL_RE.findall(tok))
            entry = self._remember(self.tokens, tok, (self._read(tok + " "), latin, non_latin))
        return entry

    def _stripped(self, tok: str) -> bytes:
        vecs = self.stripped.get(tok)
        if vecs is None:
            vecs = self._remember(self.stripped, tok, self._read(_ASCII_AZ_RE.sub("", tok) + " "))
        return vecs

    def _final(self, tok: str) -> bytes:
        vecs = self.final.get(tok)
        if vecs is None:
            vecs = self._remember(self.final, tok, self._read(tok))
        return vecs

    def vectors(self, text: str) -> list:
        """The n-gram vectors langdetect samples from for `text` (see numbers)."""
        return [self.rows[i] for i in self.numbers(text)]

    def numbers(self, text: str):
        """The numbers of the n-grams langdetect samples from for `text` as
        Detector.append left it (cleaning_text included: [A-z] dropped when the text is
        mostly non-Latin), in its order, as a sequence of ints (a memoryview)."""
        toks = text.split(" ")
        entries = list(map(self.tokens.get, toks))
        try:
            vecs, latin, non_latin = zip(*entries)
        except TypeError:  # tokens not seen before
            entries = list(map(self._token, toks))
            vecs, latin, non_latin = zip(*entries)
        last = toks[-1]
        if sum(latin) * 2 < sum(non_latin):
            vecs = [self._stripped(t) if n else v for t, v, n in zip(toks, vecs, latin)]
            last = _ASCII_AZ_RE.sub("", last)
        else:
            vecs = list(vecs)
        if last:  # the text's last token: no space follows it
            vecs[-1] = self._final(last)
        return memoryview(b"".join(vecs)).cast(self.typecode)

    def trials(self, numbers, n_trial: int, alpha: float, rnd) -> list[float]:
        """langdetect's langprob for the n-grams `numbers` (non-empty), `rnd` freshly seeded."""
        if not self._inline:
            vectors = [self.rows[i] for i in numbers]
            return _reference_trials(self._detector, vectors, n_trial, alpha, rnd, len(self.langlist))
        return self._trials(numbers, self.rows, n_trial, alpha, rnd, *self._params)


def _reference_trials(det, vectors: list, n_trial: int, alpha0: float, rnd, n_lang: int) -> list[float]:
    """Detector._detect_block's trials as langdetect writes them (used only when this
    Python's random.choice draws differently from what _trial_routine inlines)."""
    langprob = [0.0] * n_lang
    for _ in range(n_trial):
        prob = [1.0 / n_lang] * n_lang
        alpha = alpha0 + rnd.gauss(0.0, 1.0) * det.ALPHA_WIDTH
        weight = alpha / det.BASE_FREQ
        i = 0
        while True:
            vec = rnd.choice(vectors)
            prob = [p * (weight + q) for p, q in zip(prob, vec)]
            if i % 5 == 0:
                total = sum(prob)
                prob = [p / total for p in prob]
                if max(prob) > det.CONV_THRESHOLD or i >= det.ITERATION_LIMIT:
                    break
            i += 1
        for j in range(n_lang):
            langprob[j] += prob[j] / n_trial
    return langprob


def _upper_table() -> dict[int, str]:
    """str.translate table turning every upper-case character into "U" (built once)."""
    global _upper
    if _upper is None:
        _upper = {c: "U" for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and chr(c).isupper()}
    return _upper


_upper: dict[int, str] | None = None
_TWO_UPPER_RE = re.compile("(?=UU)")


def extract_ngrams(text: str, known, table: dict[int, str]) -> list[str]:
    """langdetect's n-grams of `text` that are in `known`, in langdetect's order.

    langdetect (NGram.add_char) reads the normalised text one character at a time: a word
    is read with a leading space and, unless it ends the text, a trailing one; at each
    character it takes the 1-, 2- and 3-gram ending there, never a trigram spanning two
    words, and nothing at an upper-case letter that follows one. Here the same list is
    built with compiled operations: one str.translate, one regex to collapse space runs,
    and map/zip/filter over the whole string."""
    # langdetect never takes a lone space or a trigram with a space in the middle (it
    # would span two words); its profiles hold no such key, which _factory checks, so
    # the membership filter alone drops them.
    return list(filter(known.__contains__, _all_ngrams(text, table)))


def _all_ngrams(text: str, table: dict[int, str]) -> list[str]:
    """Every 1-, 2- and 3-gram langdetect reads in `text`, in its order, before the filter
    on its profiles ("" where it takes none); see extract_ngrams."""
    s = " " + _SPACES_RE.sub(" ", text.translate(table)).lstrip(" ")
    n = len(s)
    if n < 2:
        return []
    unis = s[1:]
    bis = list(map(str.__add__, s, unis))
    tris = list(map(str.__add__, bis, s[2:]))
    tris.insert(0, "")
    flat = list(chain.from_iterable(zip(unis, bis, tris)))
    mask = s.translate(_upper_table())
    if "UU" in mask:
        for m in _TWO_UPPER_RE.finditer(mask):
            k = 3 * m.start()  # grams ending at position m.start() + 1 start at 3 * m.start()
            flat[k] = flat[k + 1] = flat[k + 2] = ""
    return flat


def _factory(group: str):
    """A seeded langdetect factory holding only the profiles of `group` (loaded once)."""
    fac = _factories.get(group)
    if fac is not None:
        return fac
    with _lock:
        fac = _factories.get(group)
        if fac is None:
            import os

            from langdetect import DetectorFactory
            from langdetect.detector_factory import PROFILES_DIRECTORY

            codes = {"cyrillic": _LD_CYRILLIC, "latin": _LD_LATIN}.get(group) or tuple(
                sorted(set(os.listdir(PROFILES_DIRECTORY)) - set(_LD_CYRILLIC) - set(_LD_LATIN)))
            profiles = []
            for code in codes:
                with open(os.path.join(PROFILES_DIRECTORY, code), encoding="utf-8") as fh:
                    profiles.append(fh.read())
            fac = DetectorFactory()
            fac.load_json_profile(profiles)
            if " " in fac.word_lang_prob_map or any(
                    len(k) == 3 and k[1] == " " for k in fac.word_lang_prob_map):
                raise RuntimeError("langdetect profiles hold n-grams extract_ngrams assumes absent")
            fac.set_seed(0)
            state = _LangdetectState(fac)
            fac.detector_class = _detector_class(state)
            _states[group] = state
            _factories[group] = fac
    return fac


def langdetect_probs(text: str, group: str) -> dict[str, float]:
    """langdetect's probability for every language of `group` ('cyrillic', 'latin',
    'other'); {} when the text has no n-gram langdetect knows. The same figures as a
    seeded langdetect Detector with n_trial=N_TRIAL restricted to the group's profiles
    (Detector.append, cleaning_text and the trials, done by _LangdetectState)."""
    import random

    from langdetect.detector import Detector

    _factory(group)
    state = _states[group]
    numbers = state.numbers(_ld_append(text, Detector))
    if not len(numbers):
        return {}
    langprob = state.trials(numbers, N_TRIAL, Detector.ALPHA_DEFAULT, random.Random(state.seed))
    out: dict[str, float] = {}
    for code, p in zip(state.langlist, langprob):
        code = _LD_CODE_MAP.get(code, code)
        out[code] = out.get(code, 0.0) + float(p)
    return out


def _ld_append(text: str, det) -> str:
    """Detector.append's text before its space runs are collapsed (the tokens between
    spaces are what _LangdetectState reads): URLs and e-mail addresses blanked,
    Vietnamese letter + combining mark pairs composed, cut at max_text_length. Each
    substitution runs only when the text holds what it needs (http, @, a combining mark)."""
    from langdetect.utils.ngram import NGram

    if "http" in text:
        text = det.URL_RE.sub(" ", text)
    if "@" in text:
        text = det.MAIL_RE.sub(" ", text)
    if any(mark in text for mark in NGram.DMARK_CLASS):
        text = NGram.normalize_vi(text)
    return text[:_LD_MAX_TEXT_LENGTH]


# Detector's default max_text_length (langdetect 1.0.9): what append reads of a text.
_LD_MAX_TEXT_LENGTH = 10000


def _lingua_detector(group: str):
    """lingua in low-accuracy mode for the languages of `group` (built once, models
    preloaded); None for scripts without a lingua set."""
    codes = {"cyrillic": _LI_CYRILLIC, "latin": _LI_LATIN}.get(group)
    if codes is None:
        return None
    det = _lingua.get(group)
    if det is not None:
        return det
    with _lock:
        det = _lingua.get(group)
        if det is None:
            from lingua import IsoCode639_1, LanguageDetectorBuilder

            det = (LanguageDetectorBuilder.from_iso_codes_639_1(*[getattr(IsoCode639_1, c.upper()) for c in codes])
                   .with_low_accuracy_mode().with_preloaded_language_models().build())
            _lingua[group] = det
    return det


def lingua_probs(text: str, group: str) -> dict[str, float]:
    """lingua's confidence for every language of `group`; {} for other scripts."""
    det = _lingua_detector(group)
    if det is None:
        return {}
    out = {}
    for v in det.compute_language_confidence_values(text):
        code = v.language.iso_code_639_1.name.lower()
        out[_LI_CODE_MAP.get(code, code)] = float(v.value)
    return out


def warm_up(groups: tuple[str, ...] = ("cyrillic", "latin")) -> None:
    """Load the models and tables for `groups` now (call once per worker before timing or
    work). The profiles of other scripts (Greek, Arabic, CJK...: 20 langdetect profiles,
    ~60 MB) are loaded on the first text that needs them."""
    _normalisation_table()
    _char_tables()
    for group in groups:
        _factory(group)
        _lingua_detector(group)


# ---------------------------------------------------------------------------------------
# One piece of text
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """The decision on one piece of text and what each detector said."""

    language: str
    confidence: float
    langdetect: dict[str, float] = field(default_factory=dict)
    lingua: dict[str, float] = field(default_factory=dict)
    rule: str = ""  # the letter rule that decided, if any


_UND = Call("und", 0.0)


DETECTORS = ("langdetect", "lingua")


def identify(text: str, max_chars: int = PARA_MAX_CHARS, detectors: tuple[str, ...] = DETECTORS) -> Call:
    """Language of one piece of text (a sentence, a paragraph); see the module doc.

    Only the first `max_chars` characters are read. `detectors` can leave one detector
    out (for measuring what each contributes); the letter rules always apply."""
    sample = text[:max_chars]
    profile = _profile(sample)
    letters, cyr, lat, cased, _accents, ro = profile[:_P_FOREIGN]
    if letters < MIN_LETTERS or is_name(sample):
        return _UND
    group = _script(letters, cyr, lat)
    if group is None:
        return _UND
    cands: tuple[str, ...] | None = None
    if group == "cyrillic":
        fixed, n_fixed = _fix_latin_i(sample)
        if n_fixed:
            cased -= sample.count("I") - fixed.count("I")  # an I made Cyrillic is lower case
            sample = fixed
        cands = _candidates(profile, n_fixed, sample)
        if len(cands) == 1 and cands[0] in ("be", "sr"):
            # Letters only this language has (ў; ђ/ћ): langdetect has no model for it.
            return Call(cands[0], OVERRULED_CONFIDENCE, rule="alphabet")
    # langdetect skips words in capitals: read a text set in capitals in lower case.
    ld_text = sample.lower() if cased * 2 > letters else sample
    ld = langdetect_probs(ld_text, group) if "langdetect" in detectors else {}
    ask_lingua = "lingua" in detectors and (
        letters < LINGUA_BELOW_LETTERS or max(ld.values(), default=0.0) < LINGUA_UNSURE_BELOW
        or (cands is not None and bool({"be", "sr"} & set(cands))))
    li = lingua_probs(sample, group) if ask_lingua else {}
    allowed = set(cands) if cands is not None else set(ld) | set(li)
    scores: dict[str, float] = {}
    for lang in allowed:
        votes = [d[lang] for d in (ld, li) if lang in d]
        if votes:
            scores[lang] = sum(votes) / len(votes)
    if not scores or max(scores.values()) <= 0.0:
        return Call("und", 0.0, ld, li)
    # On a tie (each detector sure of a different language) lingua's pick wins: it is the
    # one built for short text, and ties happen on short text.
    top = max(sorted(scores), key=lambda c: (round(scores[c], 6), li.get(c, 0.0)))
    conf, rule = scores[top], ""
    if top in ("sr", "mk", "uk") and {"sr", "mk"} <= allowed:
        # Letters that fit Serbian's alphabet leave no evidence for Ukrainian (і ї є ґ й
        # щ ь ю я would have ruled Serbian out), so a "uk" call is decided here too.
        top, conf, rule = _serbian_or_macedonian(li, sample)
    elif top in _ROMANCE_CODES and top != "ro":
        if ro >= _DISTINCT_MIN and ro / letters >= _DISTINCT_SHARE:
            top, conf, rule = "ro", max(scores.get("ro", 0.0), OVERRULED_CONFIDENCE), "ro letters"
    return Call(top, round(conf, 4), ld, li, rule)


def sr_mk_words(text: str) -> tuple[int, int]:
    """How many words of `text` only Serbian uses, and only Macedonian (see _SR_WORDS)."""
    words = [w.lower() for w in _CYR_WORD_RE.findall(text)]
    return sum(w in _SR_WORDS for w in words), sum(w in _MK_WORDS for w in words)


def _serbian_or_macedonian(li: dict[str, float], text: str) -> tuple[str, float, str]:
    """Serbian vs Macedonian for text whose letters allow both: words only one of them
    uses decide; without such words (or with both kinds) lingua decides (langdetect has
    no Serbian model), Macedonian only with a clear lead (MK_OVER_SR)."""
    sr, mk = li.get("sr", 0.0), li.get("mk", 0.0)
    sr_words, mk_words = sr_mk_words(text)
    if sr_words and not mk_words:
        return "sr", max(sr, OVERRULED_CONFIDENCE), "sr words"
    if mk_words and not sr_words:
        return "mk", max(mk, OVERRULED_CONFIDENCE), "mk words"
    if sr + mk < SR_MK_MIN_MASS:
        return "und", 0.0, "sr/mk unclear"
    share_mk = mk / (sr + mk)
    if share_mk >= MK_OVER_SR:
        return "mk", mk, "sr/mk"
    if share_mk < 0.5:
        return "sr", sr, "sr/mk"
    return "und", 0.0, "sr/mk unclear"


# ---------------------------------------------------------------------------------------
# Articles
# ---------------------------------------------------------------------------------------


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


def signature(text: str) -> tuple:
    """What a paragraph's letters say without a model: its script, and for Cyrillic the
    languages its alphabet allows, for Latin whether it has Romanian letters, other
    non-ASCII letters, or none. Paragraphs with one signature are identified together."""
    return _signature(text, _profile(text))


def _signature(text: str, profile: list[int]) -> tuple:
    """signature(text), given _profile(text)."""
    letters, cyr, lat, _cased, accents, ro = profile[:_P_FOREIGN]
    group = _script(letters, cyr, lat)
    if group == "cyrillic":
        fixed, n_fixed = _fix_latin_i(text)
        return (group, _candidates(profile, n_fixed, fixed))
    if group == "latin":
        if ro >= _DISTINCT_MIN and ro / (letters or 1) >= _DISTINCT_SHARE:
            return (group, "ro letters")
        return (group, "accents" if accents else "ascii")
    return (group,)


def _group_sample(texts: list[str]) -> str:
    """Up to GROUP_SAMPLE_CHARS of a group of paragraphs, each contributing its start."""
    per = max(PARA_MAX_CHARS // 2, GROUP_SAMPLE_CHARS // len(texts))
    return "\n".join(t[:per] for t in texts)[:GROUP_SAMPLE_CHARS]


def detect(text: str, boilerplate: list[tuple[int, int]]) -> LanguageResult:
    """Article and paragraph languages of `text` outside `boilerplate` (see module doc)."""
    paras = _paragraphs((text or "")[:MAX_TEXT_CHARS], boilerplate)
    stats = _profiles([p[2] for p in paras])
    letters_total = sum(c[0] for c in stats)
    if letters_total < MIN_LETTERS:
        return LanguageResult("und", 0.0)

    # (start, end, clean text, letters, _profile of the clean text)
    eligible = [p + (c[0], c) for p, c in zip(paras, stats) if c[0] >= PARA_MIN_LETTERS]
    if len(eligible) > MAX_PARAGRAPHS:
        step = len(eligible) / MAX_PARAGRAPHS
        eligible = [eligible[int(i * step)] for i in range(MAX_PARAGRAPHS)]

    if not eligible:
        # Only short lines: one call on all of them together.
        joined = "\n".join(p[2] for p in paras)[:ARTICLE_MAX_CHARS]
        call = identify(joined, GROUP_SAMPLE_CHARS)
        if call.language == "und":
            return LanguageResult("und", 0.0)
        return LanguageResult(call.language, _damp(call.confidence, letters_total), False, [call.language], [])

    # Paragraphs with the same letter signature are identified once, together; a
    # Cyrillic group whose alphabet allows a language already found is given that one.
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(eligible):
        groups.setdefault(_signature(p[2], p[4]), []).append(i)
    order = sorted(groups, key=lambda sig: -sum(eligible[i][3] for i in groups[sig]))
    calls: dict[int, Call] = {}
    found: list[tuple[tuple, Call]] = []
    for sig in order:
        idx = groups[sig]
        call = None
        if sig[0] == "cyrillic":
            for prev_sig, prev in found:
                if prev_sig[0] == "cyrillic" and prev.language in sig[1]:
                    call = prev
                    break
        if call is None:
            call = identify(_group_sample([eligible[i][2] for i in idx]), GROUP_SAMPLE_CHARS)
            found.append((sig, call))
        for i in idx:
            calls[i] = call

    results: list[Paragraph] = []
    weights: dict[str, float] = {}
    conf_mass: dict[str, float] = {}
    detected_letters = 0
    for i, (start, end, _clean, n, _c) in enumerate(eligible):
        call = calls[i]
        results.append(Paragraph(start, end, call.language, round(call.confidence, 4)))
        if call.language == "und":
            continue
        detected_letters += n
        weights[call.language] = weights.get(call.language, 0.0) + n
        conf_mass[call.language] = conf_mass.get(call.language, 0.0) + n * call.confidence

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
