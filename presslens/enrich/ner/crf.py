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
import logging
import re
from pathlib import Path

from presslens.enrich.ner import morph
from presslens.enrich.ner.text import Token, gap_opens_sentence, sentence_start

_log = logging.getLogger("presslens.ner")
MODEL_DIR = Path(__file__).resolve().parents[2] / "models"
LANGS = ("ru", "uk", "ro", "en")
TYPES = ("PER", "LOC", "ORG", "PRO", "EVT", "MISC")
# Name tags of pymorphy3 worth a feature of their own.
MORPH_TAGS = ("Name", "Surn", "Patr", "Geox", "Orgn", "Abbr", "Trad")
CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct", "voct")
_PUNCT_KEEP = re.compile(r"[^\s]")


def model_path(lang: str) -> Path:
    """The crfsuite model file of `lang`: MODEL_DIR/ner-<lang>.crfsuite when it is there (a
    model just trained), else the committed xz-packed copy (ner-<lang>.crfsuite.xz, a third of
    the size) unpacked once per machine into the cache folder; the plain path when neither
    exists (has_model is then False)."""
    plain = MODEL_DIR / f"ner-{lang}.crfsuite"
    packed = plain.with_name(plain.name + ".xz")
    if plain.exists() or not packed.exists():
        return plain
    return _unpacked(packed)


@functools.lru_cache(maxsize=None)
def _unpacked(packed: Path) -> Path:
    """`packed` (an .xz file) unpacked into the cache folder under a name holding its content
    hash, so a changed model is never read from a stale copy; written to a temporary file and
    renamed, so a concurrent process never reads half a model. Where the cache folder cannot
    be written, the system's temporary folder is used."""
    import hashlib
    import lzma
    import tempfile

    from presslens.enrich.lexicon import cache_dir
    from presslens.fsio import write_atomic

    data = packed.read_bytes()
    name = f"{packed.stem.removesuffix('.crfsuite')}-{hashlib.sha1(data).hexdigest()[:16]}.crfsuite"
    for folder in (cache_dir() / "models", Path(tempfile.gettempdir()) / "presslens-models"):
        target = folder / name
        if target.exists():
            return target
        try:
            write_atomic(target, lzma.decompress(data))
            return target
        except OSError as exc:
            _log.warning("NER model %s: cannot unpack into %s (%s)", packed, folder, exc)
    raise OSError(f"NER model {packed}: no writable folder to unpack it into")


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
        from presslens.enrich import lexicon

        return lexicon.is_known(word, lang)
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
    """The crfsuite tagger of a language (None when no model file is shipped for it).
    The build tags with the same weights through `compiled` (see there); this tagger is
    the reference it is checked against (tests/test_entities.py)."""
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
    _compiled_file.cache_clear()


def has_model(lang: str) -> bool:
    return lang in LANGS and model_path(lang).exists()


# ---------------------------------------------------------------------------------------
# Tagging without feature strings
# ---------------------------------------------------------------------------------------
#
# crfsuite tags a token from the names of its features: pycrfsuite copies each name to a
# C++ string and crfsuite looks it up in the model's dictionary, ~0.5 us per feature and
# ~30 features per token, plus building the names of the neighbours' features in Python.
# Here the model file is read once into arrays (attribute name -> row of weights per
# label, transition matrix) and each distinct word's feature rows are looked up once per
# process; a token's score per label is the sum of its rows, added in crfsuite's order
# (feature by feature, from 0.0), and the best label sequence is crfsuite's Viterbi
# (first maximum wins, as its strict "<"). The floating-point operations are the same as
# crfsuite's, so the labels are identical (tests/test_entities.py checks it against
# pycrfsuite on real text, odd separators and lone surrogates included).

# Distinct words (and separators) whose feature ids are kept per model; the caches are
# emptied when full, which bounds memory on any input (~200 bytes a word; a news corpus has
# a few hundred thousand distinct word forms per language).
WORD_CACHE_SIZE = 200_000
# The features a word gives a neighbour (w=, sh=, s3=, pos=, case=, the name tags): at
# most this many (6 plus the 7 name tags of MORPH_TAGS).
_NEAR_MAX = 14
_OFFSETS = (-2, -1, 1, 2)


class CompiledModel:
    """The weights of one crfsuite model file as arrays, with per-word partial scores.

    A token's score per label is crfsuite's sum, from 0.0, of the weights of its
    features in this order: "b", the word's own features, start, doc_lower, doc_midcap,
    pre=, post=, then the neighbours' features at -2, -1, +1, +2. The first part depends
    on the word only, so it is summed once per distinct word (`prefix`); the rest is
    added column by column over all tokens of a text at once (NumPy), each column one
    feature per token (a zero row where a token has none: adding 0.0 changes no sum)."""

    def __init__(self, path: Path) -> None:
        import numpy as np

        labels, attrs, feats = _read_crfsuite(Path(path))
        self.labels = labels
        self.attr_id = {a: i for i, a in enumerate(attrs)}
        n_labels = len(labels)
        # One extra zero row: the id of "no feature".
        self.weights = np.zeros((len(attrs) + 1, n_labels))
        self.pad = len(attrs)
        self.trans = np.zeros((n_labels, n_labels))
        state = feats["type"] == 0
        self.weights[feats["src"][state], feats["dst"][state]] = feats["w"][state]
        self.trans[feats["src"][~state], feats["dst"][~state]] = feats["w"][~state]
        get = self.aid
        self.bias = get("b")
        self.start = get("start")
        self.doc_lower = get("doc_lower")
        self.doc_midcap = get("doc_midcap")
        self.pads = tuple(get(f"{d}:pad") for d in _OFFSETS)
        self._reset()

    def _reset(self) -> None:
        import numpy as np

        self._slot: dict[str, dict[str, int]] = {}  # language -> word -> row
        self._rows = 0
        self._seps: dict[str, tuple[int, int, bool]] = {}
        # Feature name -> attribute id (`pad` when not in the model), and a neighbour
        # feature's name -> its ids at -2, -1, +1, +2 (None when not in the model): most
        # feature names (shapes, suffixes, tags) are shared by many words.
        self._fid: dict[str, int] = {}
        self._near_ids: dict[str, tuple[int | None, ...]] = {}
        cap = 1024
        self.prefix = np.zeros((cap, len(self.labels)))  # per word: 0.0 + b + own features
        self.near = np.full((cap, len(_OFFSETS), _NEAR_MAX), self.pad, dtype=np.intp)
        self.near_len = np.zeros(cap, dtype=np.intp)

    def aid(self, name: str) -> int | None:
        """The attribute id crfsuite finds for a feature name (None: not in the model).
        crfsuite reads the name as a C string, so it ends at the first NUL."""
        return self.attr_id.get(name.partition("\x00")[0])

    def slots(self, words: list[str], lang: str) -> list[int]:
        """Row of each word in `prefix` and `near` (computed on a word's first use)."""
        get = self._slot.setdefault(lang, {}).get
        out = [get(w, -1) for w in words]
        if -1 in out:
            if self._rows + len(words) > WORD_CACHE_SIZE:
                self._reset()
                get = self._slot.setdefault(lang, {}).get
                out = [-1] * len(words)
            self._add_words(list(dict.fromkeys(w for w, k in zip(words, out) if k == -1)), lang)
            out = [get(w) for w in words]
        return out

    def _add_words(self, new: list[str], lang: str) -> None:
        """Rows of `prefix` and `near` for words not seen yet, all at once.

        A word's prefix is crfsuite's sum, in order from 0.0, of the weights of "b" and its
        own features: its ids padded with the zero row into one rectangle, summed by
        np.add.accumulate along each row (strictly one addition after another; an added
        0.0 changes no sum, and 0.0 + x is x)."""
        import numpy as np

        k0, m = self._rows, len(new)
        while k0 + m > len(self.prefix):
            self.prefix = np.concatenate([self.prefix, np.zeros_like(self.prefix)])
            self.near = np.concatenate([self.near, np.full_like(self.near, self.pad)])
            self.near_len = np.concatenate([self.near_len, np.zeros_like(self.near_len)])
        pad, fid, near_ids = self.pad, self._fid, self._near_ids
        first = [pad] if self.bias is None else [pad, self.bias]  # 0.0 first, as crfsuite
        own_rows, near_rows, widths = [], [], []
        for w in new:
            f, near = _own(w, lang)
            row = list(first)
            for x in f:
                i = fid.get(x)
                if i is None:
                    a = self.aid(x)
                    i = fid[x] = pad if a is None else a
                row.append(i)
            own_rows.append(row)
            per = []
            for x in near:
                hit = near_ids.get(x)
                if hit is None:
                    hit = near_ids[x] = tuple(self.aid(p + x) for p in ("-2:", "-1:", "1:", "2:"))
                per.append(hit)
            slots = [[i for i in col if i is not None] for col in zip(*per)] if per else [[]] * len(_OFFSETS)
            widths.append(max(map(len, slots)))
            near_rows.append([x + [pad] * (_NEAR_MAX - len(x)) for x in slots])
        width = max(len(r) for r in own_rows)
        ids = np.array([r + [pad] * (width - len(r)) for r in own_rows], dtype=np.intp)
        if width:
            self.prefix[k0 : k0 + m] = np.add.accumulate(self.weights[ids], axis=1)[:, -1]
        self.near[k0 : k0 + m] = near_rows
        self.near_len[k0 : k0 + m] = widths
        table = self._slot[lang]
        for k, w in enumerate(new):
            table[w] = k0 + k
        self._rows += m

    def sep(self, s: str) -> tuple[int, int, bool]:
        """Ids of the "pre=" and "post=" features of a separator (`pad` if unknown), and
        whether a word after it (following a word) opens a sentence."""
        hit = self._seps.get(s)
        if hit is None:
            if len(self._seps) >= WORD_CACHE_SIZE:
                self._seps.clear()
            v = _sep(s)
            pre, post = self.aid("pre=" + v), self.aid("post=" + v)
            hit = self._seps[s] = (self.pad if pre is None else pre, self.pad if post is None else post,
                                   gap_opens_sentence(s))
        return hit

    def scores(self, text: str, toks: list[Token], lang: str):
        """crfsuite's state score of every token and label (float64 [tokens, labels])."""
        import numpy as np

        n = len(toks)
        words = [t.text for t in toks]
        slots = np.array(self.slots(words, lang), dtype=np.intp)
        state = self.prefix[slots]  # a copy
        w = self.weights
        pad = self.pad
        lowered = {x for x in words if x[:1].islower()}
        sep = self.sep
        known = self._seps.get  # most separators are known: no method call for them
        between = [known(g := text[a[1] : b[0]]) or sep(g) for a, b in zip(toks, toks[1:])]  # (start, end, text)
        starts = [sentence_start(text, toks[0].start)] + [x[2] for x in between]
        midcap = {x for x, ss in zip(words, starts) if not ss and x[:1].isupper()}
        cols = []
        if self.start is not None:
            cols.append([self.start if ss else pad for ss in starts])
        titled = [x[:1].isupper() and not x.isupper() for x in words]
        if self.doc_lower is not None:
            cols.append([self.doc_lower if c and x.lower() in lowered else pad for x, c in zip(words, titled)])
        if self.doc_midcap is not None:
            cols.append([self.doc_midcap if c and x in midcap else pad for x, c in zip(words, titled)])
        first, last = toks[0], toks[-1]
        cols.append([sep(text[max(0, first.start - 3) : first.start])[0]] + [x[0] for x in between])
        cols.append([x[1] for x in between] + [sep(text[last.end : last.end + 3])[1]])
        for col in np.array(cols, dtype=np.intp):
            state += w[col]
        width = int(self.near_len[slots].max())
        near = self.near[slots]
        for slot, d in enumerate(_OFFSETS):
            ids = np.full((n, width), pad, dtype=np.intp)
            if d < 0:
                ids[-d:] = near[: n + d, slot, :width]
                edge = slice(0, min(-d, n))
            else:
                ids[: max(0, n - d)] = near[d:, slot, :width]
                edge = slice(max(0, n - d), n)
            if self.pads[slot] is not None:
                ids[edge, 0] = self.pads[slot]
            for col in ids.T:
                state += w[col]
        return state


def _read_crfsuite(path: Path):
    """(labels, attribute names, features) of a crfsuite CRF1d model file: features as a
    structured array of (type 0 state / 1 transition, src, dst, weight). Layout of
    crfsuite's crf1d_model.c: a 48-byte header of offsets, a FEAT chunk of 20-byte
    features, and the label and attribute names in CQDB chunks."""
    import struct

    import numpy as np

    b = path.read_bytes()
    magic, _size, typ, _ver, _nf, n_labels, n_attrs, off_f, off_l, off_a, _olr, _oar = struct.unpack_from(
        "<4sI4sIIIIIIIII", b, 0)
    if magic != b"lCRF" or typ != b"FOMC":
        raise ValueError(f"{path} is not a crfsuite CRF1d model")
    chunk, _csize, num = struct.unpack_from("<4sII", b, off_f)
    if chunk != b"FEAT":
        raise ValueError(f"{path}: no feature chunk")
    feats = np.frombuffer(b, dtype=np.dtype([("type", "<u4"), ("src", "<u4"), ("dst", "<u4"), ("w", "<f8")]),
                          count=num, offset=off_f + 12)

    def names(off: int, n: int) -> list[str]:
        cid, _s, _flag, _bo, bwd_size, bwd_off = struct.unpack_from("<4sIIIII", b, off)
        if cid != b"CQDB" or bwd_size != n:
            raise ValueError(f"{path}: bad name table")
        out = []
        for i, o in enumerate(struct.unpack_from(f"<{n}I", b, off + bwd_off)):
            rid, ksize = struct.unpack_from("<II", b, off + o)
            if rid != i:
                raise ValueError(f"{path}: bad name table")
            out.append(b[off + o + 8 : off + o + 7 + ksize].decode("utf-8", "surrogateescape"))
        return out

    return names(off_l, n_labels), names(off_a, n_attrs), feats


# Texts every array model must tag exactly as pycrfsuite does before a process uses it
# (names, titles, quotes, brackets, abbreviations in both scripts); a model file the array
# reader does not understand, or any disagreement, leaves that process on pycrfsuite itself.
_PROBES = (
    "Президент России Владимир Путин встретился в Пхеньяне с Ким Чен Ыном, сообщает ТАСС. "
    "«Газпром» (ПАО) — молчит; Верховна Рада України ухвалила закон.",
    "On Monday, Boris Johnson told the BBC that Traian Băsescu and NATO would meet in Bruxelles (UE).",
)


@functools.lru_cache(maxsize=8)
def _compiled_file(path: str, _stamp: tuple, lang: str) -> CompiledModel | None:
    from presslens.enrich.ner.text import tokens

    try:
        m = CompiledModel(Path(path))
        ref = tagger(lang, path)
        for text in _PROBES:
            toks = tokens(text)
            if viterbi(m, m.scores(text, toks, lang)) != ref.tag(features(text, toks, lang)):
                raise ValueError(f"labels differ from pycrfsuite's on {text[:40]!r}")
        m._reset()  # start the per-word cache empty, as for any text
        return m
    except Exception as err:  # noqa: BLE001 - any failure means: use the library itself
        _log.warning("NER model %s: array tagging disagrees with pycrfsuite (%s); tagging with pycrfsuite", path, err)
        return None


def compiled(lang: str, path: str | None = None) -> CompiledModel | None:
    """The model of a language as arrays, loaded and checked against pycrfsuite on
    `_PROBES` once per process and file version; None when no model file is shipped for
    the language or when the check fails (then `detect` tags with pycrfsuite)."""
    p = Path(path) if path else model_path(lang)
    try:
        st = p.stat()
    except OSError:
        return None
    return _compiled_file(str(p), (st.st_mtime_ns, st.st_size), lang)


def viterbi(m: CompiledModel, state) -> list[str]:
    """crfsuite's best label sequence for the state scores (crf1dc_viterbi: the same
    additions, and the first maximum wins, as its strict "<")."""
    import numpy as np

    n, n_labels = state.shape
    trans = m.trans
    back = np.zeros((n, n_labels), dtype=np.intp)
    cols = np.arange(n_labels)
    alpha = state[0]
    for t in range(1, n):
        s = alpha[:, None] + trans  # s[i, j]: the best path to (t-1, i), then i -> j
        b = s.argmax(axis=0)
        back[t] = b
        alpha = s[b, cols] + state[t]
    best = [0] * n
    best[-1] = int(alpha.argmax())
    bl = back.tolist()
    for t in range(n - 1, 0, -1):
        best[t - 1] = bl[t][best[t]]
    labels = m.labels
    return [labels[i] for i in best]


# Sequences decoded side by side by `viterbi_many`: each NumPy call of a step then works on
# this many tokens at once (measured on real news, 11 labels: about 20 us a step at 32
# lanes, against about 6 us a token one sequence at a time; more lanes make the steps
# slower than they save).
VITERBI_LANES = 32
# Most tokens `detect_many` decodes in one `viterbi_many` call: its arrays take ~200 bytes
# a token (scores, back pointers) with 11-13 labels, so ~10 MB at most, whatever the batch.
DECODE_TOKENS = 50_000


def viterbi_many(m: CompiledModel, states: list, as_indices: bool = False) -> list:
    """crfsuite's best label sequence of each state-score array, as `viterbi` gives it, for
    many sequences at once.

    The sequences are packed into VITERBI_LANES lanes (longest first, each into the lane
    that frees up first), one after another in a lane, and every step of the recursion
    runs on all lanes at once. Each token gets exactly the additions `viterbi` makes (the
    best of alpha[t-1, i] + trans[i, j], the first maximum winning, plus state[t, j]); a
    lane's first token of a sequence takes its state scores as they are (crfsuite's
    alpha[0] = state[0]), dropping what the step computed from the previous sequence there.
    Empty arrays give []. With `as_indices`, each sequence's labels come as an array of
    label indices (into m.labels)."""
    import heapq

    import numpy as np

    out: list = [[] for _ in states]
    lens = [len(s) for s in states]
    order = sorted((k for k in range(len(states)) if lens[k]), key=lambda k: -lens[k])
    if not order:
        return out
    n_labels = len(m.labels)
    n_lanes = min(VITERBI_LANES, len(order))
    free = [(0, lane) for lane in range(n_lanes)]  # (first free step, lane)
    place: dict[int, tuple[int, int]] = {}  # sequence -> (lane, first step)
    for k in order:
        t0, lane = heapq.heappop(free)
        place[k] = (lane, t0)
        heapq.heappush(free, (t0 + lens[k], lane))
    n_steps = max(t for t, _ in free)
    state = np.zeros((n_steps, n_lanes, n_labels))
    starts: dict[int, list[int]] = {}  # step -> lanes where a sequence starts
    ends: dict[int, tuple[list[int], list[int]]] = {}  # step -> (lanes, sequences) ending there
    for k, (lane, t0) in place.items():
        state[t0 : t0 + lens[k], lane] = states[k]
        starts.setdefault(t0, []).append(lane)
        e = ends.setdefault(t0 + lens[k] - 1, ([], []))
        e[0].append(lane)
        e[1].append(k)
    trans_t = np.ascontiguousarray(m.trans.T)  # [j, i]: to label j from label i
    back = np.zeros((n_steps, n_lanes, n_labels), dtype=np.intp)
    s = np.empty((n_lanes, n_labels, n_labels))  # s[lane, j, i] = alpha[lane, i] + trans[i, j]
    flat = s.reshape(n_lanes * n_labels, n_labels)
    rows = np.arange(n_lanes * n_labels)
    alpha = state[0].copy()
    final = np.empty((len(states), n_labels))
    for t in range(n_steps):
        if t:
            np.add(alpha[:, None, :], trans_t, out=s)
            b = back[t]
            np.argmax(s, axis=2, out=b)  # the first maximum, as crfsuite's strict "<"
            alpha = flat[rows, b.ravel()].reshape(n_lanes, n_labels)
            alpha += state[t]
            fresh = starts.get(t)
            if fresh:
                alpha[fresh] = state[t, fresh]
        e = ends.get(t)
        if e:
            final[e[1]] = alpha[e[0]]
    last = final.argmax(axis=1)
    path = np.empty((n_steps, n_lanes), dtype=np.intp)
    cur = np.zeros(n_lanes, dtype=np.intp)
    lane_ids = np.arange(n_lanes)
    for t in range(n_steps - 1, -1, -1):
        e = ends.get(t)
        if e:
            cur[e[0]] = last[e[1]]
        path[t] = cur
        cur = back[t, lane_ids, cur]
    labels = m.labels
    for k, (lane, t0) in place.items():
        p = path[t0 : t0 + lens[k], lane]
        out[k] = p.copy() if as_indices else [labels[i] for i in p.tolist()]
    return out


def spans_from_path(labels: list[str], path) -> list[tuple[int, int, str]]:
    """`spans_from_labels` of the labels at indices `path` (a NumPy integer array), in a
    few NumPy calls: a token continues the span before it when its label is I-X and the
    token before has a B-X or I-X label; every other B-/I- token opens a span, which runs up
    to the next token that does not continue it."""
    import numpy as np

    kinds, types, names = _label_kinds(tuple(labels))
    n = len(path)
    if not n:
        return []
    kind = kinds[path]
    typ = types[path]
    cont = np.zeros(n, dtype=bool)
    cont[1:] = (kind[1:] == 2) & (typ[1:] == typ[:-1])  # O's type is -1: never equal to an I-'s
    first = np.flatnonzero((kind != 0) & ~cont)
    if not len(first):
        return []
    stops = np.append(np.flatnonzero(~cont), n)  # where a span, if one is open, has ended
    ends = stops[np.searchsorted(stops, first, side="right")]
    return [(i, j, names[t]) for i, j, t in zip(first.tolist(), ends.tolist(), typ[first].tolist())]


@functools.lru_cache(maxsize=32)
def _label_kinds(labels: tuple[str, ...]):
    """Per label: kind (1 B-, 2 I-, 0 anything else), type id, and the type names."""
    import numpy as np

    names: list[str] = []
    kinds, types = [], []
    for lab in labels:
        k = 1 if lab.startswith("B-") else 2 if lab.startswith("I-") else 0
        kinds.append(k)
        if k and lab[2:] not in names:
            names.append(lab[2:])
        types.append(names.index(lab[2:]) if k else -1)
    return np.array(kinds, dtype=np.int8), np.array(types, dtype=np.intp), names


def detect_many(items: list[tuple[str, list[Token], str]], model: str | None = None) -> list:
    """`detect` of many (text, tokens, language) at once: the same spans, with the Viterbi
    of each language's texts run side by side (`viterbi_many`). An item whose scoring
    raises gets the exception in place of its spans; the others are unaffected."""
    out: list = [[] for _ in items]
    by_lang: dict[str, list[int]] = {}
    for k, (_text, toks, lang) in enumerate(items):
        if toks:
            by_lang.setdefault(lang, []).append(k)
    for lang, idx in by_lang.items():
        m = compiled(lang, model)
        if m is None:
            for k in idx:
                try:
                    out[k] = detect(*items[k], model=model)
                except Exception as exc:  # noqa: BLE001 - the caller makes it this item's reject
                    out[k] = exc
            continue
        ok, states, n_tokens = [], [], 0
        for pos, k in enumerate(idx):
            try:
                states.append(m.scores(*items[k]))
                ok.append(k)
                n_tokens += len(items[k][1])
            except Exception as exc:  # noqa: BLE001 - as above
                out[k] = exc
            if n_tokens >= DECODE_TOKENS or pos == len(idx) - 1:
                for j, spans in zip(ok, _decode(m, states)):
                    out[j] = spans
                ok, states, n_tokens = [], [], 0
    return out


def _decode(m: CompiledModel, states: list) -> list:
    """The spans of each state-score array by viterbi_many; should it raise, each sequence
    decoded alone (`viterbi`), so that only a sequence that itself fails gets an exception
    in place of its spans."""
    try:
        return [spans_from_path(m.labels, p) for p in viterbi_many(m, states, as_indices=True)]
    except Exception:  # noqa: BLE001 - fall back to one at a time, failures per sequence
        out: list = []
        for st in states:
            try:
                out.append(spans_from_labels(viterbi(m, st)))
            except Exception as exc:  # noqa: BLE001 - the caller makes it this item's reject
                out.append(exc)
        return out


def detect(text: str, toks: list[Token], lang: str, model: str | None = None) -> list[tuple[int, int, str]]:
    """Typed token ranges (i, j, type) found by the language's model ([] without a model):
    tagged through the checked array model, else by pycrfsuite itself."""
    if not toks:
        return []
    m = compiled(lang, model)
    if m is None:
        t = tagger(lang, model)
        return spans_from_labels(t.tag(features(text, toks, lang))) if t is not None else []
    return spans_from_labels(viterbi(m, m.scores(text, toks, lang)))


def detect_reference(text: str, toks: list[Token], lang: str, model: str | None = None) -> list[str]:
    """Labels from pycrfsuite itself on the feature strings (what `detect` must equal)."""
    t = tagger(lang, model)
    if t is None or not toks:
        return []
    return t.tag(features(text, toks, lang))
