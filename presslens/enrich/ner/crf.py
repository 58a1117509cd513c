"""The learned entity detector: a linear-chain CRF (python-crfsuite) per language.

In: an article text, its word tokens (ner.text.tokens) and language. Out: typed spans
(first token index, last token index + 1, PER/LOC/ORG/PRO/EVT/MISC) from BIO tags.

Features of a token (all strings, crfsuite weights them): the lower-cased word, prefix
and suffixes, word shape, length, whether it opens a sentence, the punctuation before and
after it, whether the article also writes it in lower case or capitalised in mid-sentence,
and per language a dictionary view: pymorphy3 part of speech, case and name tags (Name,
Surn, Patr, Geox, Orgn, Abbr) for ru/uk; simplemma's "known word" for ro/en. The same
features of the two words either side are added with a position prefix.

The models are trained by `python -m presslens.train` (docs/MODEL_CARD.md) and shipped in
presslens/models/ner-<lang>.crfsuite; each loads once per process.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from presslens.enrich.ner import morph
from presslens.enrich.ner.text import Token, sentence_start

MODEL_DIR = Path(__file__).resolve().parents[2] / "models"
LANGS = ("ru", "uk", "ro", "en")
TYPES = ("PER", "LOC", "ORG", "PRO", "EVT", "MISC")
# Name tags of pymorphy3 worth a feature of their own.
MORPH_TAGS = ("Name", "Surn", "Patr", "Geox", "Orgn", "Abbr", "Trad")
CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct", "voct")
_PUNCT_KEEP = re.compile(r"[^\s]")


def model_path(lang: str) -> Path:
    return MODEL_DIR / f"ner-{lang}.crfsuite"


def _shape(w: str) -> str:
    """Word shape with runs collapsed: Путин -> Xx, NATO -> X, easyJet -> xXx, 737 -> d."""
    out = []
    for c in w:
        k = "X" if c.isupper() else "x" if c.isalpha() else "d" if c.isdigit() else "'"
        if not out or out[-1] != k:
            out.append(k)
    return "".join(out[:4])


def _utf8(s: str) -> str:
    """The string with lone surrogates replaced (crfsuite takes UTF-8 only; untrusted text
    may hold them)."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "replace").decode("utf-8")


def _sep(s: str) -> str:
    """The punctuation between two words, normalised: '' for plain space, 'NL' for a line break."""
    if "\n" in s:
        return "NL"
    return _utf8("".join(_PUNCT_KEEP.findall(s))[:3])


@functools.lru_cache(maxsize=200_000)
def _slavic(word: str, lang: str) -> tuple[str, ...]:
    """Dictionary features of a Cyrillic word in ru/uk: POS, case, name tags, known."""
    ml = morph.morph_lang(lang, word)
    if not ml:
        return ()
    ps = morph.parses(word, ml)
    if not ps:
        return ()
    p = ps[0]
    g = p.tag.grammemes
    out = [f"pos={p.tag.POS}"]
    for c in CASES:
        if c in g:
            out.append(f"case={c}")
            break
    known, gram = morph.word_info(word, ml)
    for t in MORPH_TAGS:
        if t in gram:
            out.append(f"tag={t}")
    if word[:1].isupper():
        low = word.lower()
        lk = morph.known_parses(low, ml)
        if lk:
            out.append("lowknown")
            if not any(morph.PROPER & q.tag.grammemes for q in lk):
                out.append("lowcommon")
    elif not known:
        out.append("unknown")
    if p.normal_form != word.lower():
        out.append(f"lem={p.normal_form}")
    return tuple(out)


@functools.lru_cache(maxsize=200_000)
def _latin_known(word: str, lang: str) -> bool:
    try:
        import simplemma

        return simplemma.is_known(word, lang)
    except Exception:
        return False


@functools.lru_cache(maxsize=200_000)
def _own(tok: str, lang: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(features of the word itself, the subset given to its neighbours)."""
    f = _own_features(_utf8(tok), lang)
    return tuple(f), tuple(x for x in f if x.startswith(_NEIGHBOUR_KEYS))


def _own_features(tok: str, lang: str) -> list[str]:
    low = tok.lower()
    f = [f"w={low}", f"sh={_shape(tok)}", f"s2={low[-2:]}", f"s3={low[-3:]}", f"p3={low[:3]}"]
    if len(low) > 4:
        f.append(f"s4={low[-4:]}")
    n = len(tok)
    f.append("len=" + ("1" if n == 1 else "2" if n == 2 else "3" if n == 3 else "s" if n < 7 else "l"))
    if lang in ("ru", "uk"):
        f.extend(_slavic(tok, lang))
    elif lang in ("ro", "en") and tok[:1].isupper() and not tok.isupper():
        if _latin_known(low, lang):
            f.append("lowknown")
    return f


# Features copied from the neighbours (prefix -2/-1/+1/+2): the most telling ones only,
# to keep the model small.
_NEIGHBOUR_KEYS = ("w=", "sh=", "pos=", "case=", "tag=", "s3=")
_PREFIX = {-2: "-2:", -1: "-1:", 1: "1:", 2: "2:"}


def features(text: str, toks: list[Token], lang: str) -> list[list[str]]:
    """Feature strings per token of one text."""
    n = len(toks)
    if not n:
        return []
    lowered = {t.text for t in toks if t.text[:1].islower()}
    midcap = set()
    starts = []
    for t in toks:
        ss = sentence_start(text, t.start)
        starts.append(ss)
        if not ss and t.text[:1].isupper():
            midcap.add(t.text)
    own = []
    nb = []
    for k, t in enumerate(toks):
        f, near = _own(t.text, lang)
        f = list(f)
        nb.append(near)
        if starts[k]:
            f.append("start")
        if t.text[:1].isupper() and not t.text.isupper():
            if t.text.lower() in lowered:
                f.append("doc_lower")
            if t.text in midcap:
                f.append("doc_midcap")
        own.append(f)
    out = []
    for k, t in enumerate(toks):
        f = ["b"] + own[k]
        before = text[toks[k - 1].end : t.start] if k else text[max(0, t.start - 3) : t.start]
        after = text[t.end : toks[k + 1].start] if k + 1 < n else text[t.end : t.end + 3]
        f.append("pre=" + _sep(before))
        f.append("post=" + _sep(after))
        for d in (-2, -1, 1, 2):
            j = k + d
            if 0 <= j < n:
                p = _PREFIX[d]
                f.extend([p + x for x in nb[j]])
            else:
                f.append(f"{d}:pad")
        out.append(f)
    return out


def bio_labels(toks: list[Token], spans: list) -> list[str]:
    """BIO label per token from character spans (start, end, type): a token inside a span
    (overlapping it) gets the span's label."""
    labels = ["O"] * len(toks)
    import bisect

    starts = [t.start for t in toks]
    for s, e, ty in spans:
        i = bisect.bisect_right(starts, s) - 1
        if i < 0 or toks[i].end <= s:
            i += 1
        first = True
        while i < len(toks) and toks[i].start < e:
            if labels[i] == "O":
                labels[i] = ("B-" if first else "I-") + ty
            first = False
            i += 1
    return labels


def spans_from_labels(labels: list[str]) -> list[tuple[int, int, str]]:
    """Token ranges [i, j) with their type from BIO labels (a stray I- opens a span)."""
    out = []
    cur = None
    for k, lab in enumerate(labels + ["O"]):
        if cur and not (lab.startswith("I-") and lab[2:] == cur[2]):
            out.append(tuple(cur))
            cur = None
        if lab.startswith("B-") or (lab.startswith("I-") and cur is None):
            cur = [k, k + 1, lab[2:]]
        elif cur:
            cur[1] = k + 1
    return out


@functools.lru_cache(maxsize=8)
def tagger(lang: str, path: str | None = None):
    """The crfsuite tagger of a language (None when no model file is shipped for it)."""
    import pycrfsuite

    p = Path(path) if path else model_path(lang)
    if not p.exists():
        return None
    t = pycrfsuite.Tagger()
    t.open(str(p))
    return t


def set_model_dir(path: Path) -> None:
    """Use the models in `path` from now on (held-out evaluation of models trained without
    some data); the loaded taggers are dropped."""
    global MODEL_DIR
    MODEL_DIR = Path(path)
    tagger.cache_clear()


def has_model(lang: str) -> bool:
    return lang in LANGS and model_path(lang).exists()


def detect(text: str, toks: list[Token], lang: str, model: str | None = None) -> list[tuple[int, int, str]]:
    """Typed token ranges (i, j, type) found by the language's model ([] without a model)."""
    t = tagger(lang, model)
    if t is None or not toks:
        return []
    return spans_from_labels(t.tag(features(text, toks, lang)))
