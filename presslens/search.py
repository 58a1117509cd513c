"""Full-text search over article titles and bodies (tantivy), built incrementally with the store.

In:  the final articles table of a build (doc_id, title, text, language, boilerplate).
Out: ``<version dir>/search/``: a tantivy index plus a key -> row map, so a query answers
     with positions in ``articles.parquet`` row order (what every page filters on).

Analysis, one field per language (an article goes into the field of its ``language``):

- ``ru``  simple tokenizer -> lowercase -> Snowball Russian (also folds ё to е), in Rust.
- ``en``  simple -> lowercase -> ASCII folding -> Snowball English, in Rust.
- ``ro``  simple -> lowercase -> ASCII folding -> Snowball Romanian, then a light Python step
          that also strips the genitive/dative -e/-i the Snowball rules keep (Moscovei ->
          Moscova, Ucrainei -> Ucraina). Folding first makes "Bucuresti" find "București".
- ``uk``  tantivy has no Ukrainian stemmer: a light suffix stripper in Python (``uk_key``),
          with the і/о/е/ї/є alternation of the last syllable folded (Київ/Києва, Львів/Львова).
- ``xx``  any other language: simple -> lowercase -> ASCII folding, no stemming.

The uk and ro keys are made in Python and indexed as space-separated keys (whitespace
tokenizer), one key per word, so positions and phrases work as in the Rust-analysed fields.

Boilerplate spans (page clutter) are not indexed, as mentions inside them are not counted.
The query is parsed here (not by tantivy's parser) so that each word is analysed by each
field's own analyser and a malformed query yields a sentence, never an exception:
words (all must match), "quoted phrases", OR between words or phrases, -word / -"phrase".

On-disk layout (per version, immutable once published)::

    v-*/search/            tantivy files; segment files hard-linked from the previous version
    v-*/search/skeys.npy   uint64 per row of articles.parquet: hash of (doc_id, title, language),
                           Polars' hash: comparable only within one Polars version (SKEY_HASH)
    v-*/search/ords.npy    int64 per row: the article's ordinal in the index
    v-*/search/presslens.json   format version, next free ordinal, counts

Every indexed article carries an ordinal (``ord``), stable while it stays unchanged, and
``bit`` = 2**(ord % 52) as fast fields. Rows shift between versions; ordinals do not, so a
reused segment stays valid and a per-version array maps ordinal -> row. A query's hits
come back as one histogram aggregation over ``ord`` (buckets of 52) summing ``bit``: each
bucket's sum is the exact bitmask of its matching ordinals (distinct powers of two below
2**52 add exactly in float64), which is ~50x fewer Python objects than one per hit.

A version's index holds exactly that version's articles: the next build links the segment
files (tantivy never rewrites a file: deletes and merges write new files, meta.json is
replaced by rename) into a new directory and applies its deletes and adds there, so a
reader of version N never sees documents of N+1.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
import tantivy

from presslens import fsio

# Bump when analysis or layout changes: the next build then indexes everything again.
# 4: skeys from Polars' hash (see _skeys)
FORMAT_VERSION = "4"

SEARCH_DIR = "search"

# Field per article language; everything else goes to "xx" (no stemming).
FIELDS = ("ru", "uk", "ro", "en", "xx")
LANGUAGE_FIELD = {"ru": "ru", "uk": "uk", "ro": "ro", "en": "en"}

# Rows read from articles.parquet per batch while indexing: bounds the text held in memory
# (~40 MB at 2 KB an article) and matches the store's 50k-row Parquet row groups.
BATCH_ROWS = 20_000
# An incremental build indexes a few rows, mostly the new ones at the end of the table: it
# picks them by doc id, this many at a time (see _rows_to_index), so it does not decompress
# the text of every article for a hundred of them.
INCREMENTAL_BATCH_ROWS = 1_000

# Writer heap shared by its threads: tantivy flushes a segment when it fills; bigger means
# fewer, larger segments (faster queries) at the cost of RAM during the build.
WRITER_HEAP = 256_000_000

# An incremental build adding at most this many articles indexes them with one writer thread,
# not two: each thread makes a segment of its own at every commit, and tantivy's default merge
# policy (not settable from Python) merges once ~8 small segments gather; at 10,000 articles that
# merge rewrites the whole index (~250 ms). One segment a rebuild merges half as often: on the
# 10k bench store, 16 chained 1% rebuilds of the index took 97 ms of CPU each on average with
# one thread, 135 ms with two (a merge every 7th rebuild instead of every 4th).
ONE_THREAD_MAX_ROWS = 5_000

# Above this share of changed articles, a fresh index is cheaper than deletes + merges.
FULL_REBUILD_SHARE = 0.5

_ORD, _BIT = "ord", "bit"
# Ordinals per histogram bucket: the bucket's bit sum must stay exact in float64.
_BLOCK = 52
# Buckets per aggregation call (tantivy refuses more than 65,000 per request). Several
# smaller calls beat one big one: CPU ms median of 7 on 1M articles, 60,000 vs 4,096
# buckets a call: 114 vs 92 (a word in 279k articles), 99 vs 61 (92k), 58 vs 40 (19k),
# 86 vs 47 (talks); 2,048 and 1,024 were no better than 4,096.
_BUCKETS_PER_CALL = 4_096
# Below this many hits, reading the hit list is cheaper than the aggregation.
_FEW_HITS = 2_000
# Ordinals left unused by deleted articles before a build starts a fresh index.
_MAX_ORD_WASTE = 1.0


class SearchSyntaxError(ValueError):
    """A query the analyst typed that cannot be run; str(exc) is a sentence for the UI."""


# ------------------------------------------------------------------ analysis

def _analyzer(*filters: tantivy.Filter) -> tantivy.TextAnalyzer:
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    for f in filters:
        builder = builder.filter(f)
    return builder.build()


@lru_cache(maxsize=1)
def _native() -> dict[str, tantivy.TextAnalyzer]:
    """The Rust analysers, by field name (built once per process)."""
    lower, fold = tantivy.Filter.lowercase, tantivy.Filter.ascii_fold
    stem = tantivy.Filter.stemmer
    return {
        "ru": _analyzer(lower(), stem("russian")),
        "en": _analyzer(lower(), fold(), stem("english")),
        "ro": _analyzer(lower(), fold(), stem("romanian")),
        "xx": _analyzer(lower(), fold()),
    }


@lru_cache(maxsize=1)
def _keyed() -> tantivy.TextAnalyzer:
    """Analyser of the uk and ro fields: their text is already a space-separated list of
    keys made in Python (cheaper than building a tantivy Token object per word)."""
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


_UK_VOWELS = "аеиоуюяіїє"
# Endings tried longest first; adjective endings before noun/verb ones (Porter-style order).
_UK_ADJ = sorted("ими іми ого ому ього ьому ій ий ої ьої ою ею єю их іх им ім ем".split(), key=len, reverse=True)
_UK_NOUN = sorted(("ями ами ові еві єві ям ам ом ем єм ах ях ів їв ей ти ть ла ло ли ав ив ся сь "
                   "а е и й о у ь ю я і ї є").split(), key=len, reverse=True)
# The vowel of the last syllable alternates in Ukrainian (Київ/Києва, Львів/Львова, рік/року).
_UK_FOLD = re.compile(r"[іїоеє](?=[^аеиоуюяіїє*]+$)")
# A word: letters/digits, possibly joined by an apostrophe (пам'ять, дерев’яний).
_UK_WORD = re.compile(r"[^\W_]+(?:['’ʼ][^\W_]+)*")
# Stems are kept at least this long, so short words are not stripped to nothing.
_UK_MIN_STEM = 3


# ~200 bytes an entry: 50 MB at most; word frequencies are Zipfian, so hits dominate.
@lru_cache(maxsize=1 << 18)
def uk_key(word: str) -> str:
    """Index key of a Ukrainian word: lowercase, apostrophes dropped, ґ->г, inflectional
    ending stripped (within the region after the first vowel), final vowel alternation folded.

    Путін, Путіна, Путіним -> пут*н;  Київ, Києва, Києві -> ки*в.
    """
    w = word.lower().replace("’", "").replace("'", "").replace("ʼ", "").replace("ґ", "г")
    if len(w) < _UK_MIN_STEM or not any(c in _UK_VOWELS for c in w):
        return w
    region = next(i for i, c in enumerate(w) if c in _UK_VOWELS) + 1
    floor = max(region, _UK_MIN_STEM)
    s = w
    for endings in (_UK_ADJ, _UK_NOUN):
        e = next((e for e in endings if w.endswith(e) and len(w) - len(e) >= floor), None)
        if e is not None:
            s = w[: -len(e)]
            break
    if s.endswith("ь"):
        s = s[:-1]
    m = _UK_FOLD.search(s)
    if m and m.start() > 0:
        s = s[: m.start()] + "*" + s[m.end():]
    return s


@lru_cache(maxsize=1 << 18)
def _ro_fix(stem: str) -> str:
    """Second step after Snowball Romanian: drop the trailing -e/-i it keeps in oblique cases
    (moscove -> moscov, ucraine -> ucrain, rusi -> rus), keeping at least 3 letters."""
    s = stem.rstrip("ei")
    return s if len(s) >= 3 else stem


def _tokens(text: str, field: str) -> list[tuple[str, int, int]]:
    """(key, start, end) of every token of `text` as field `field` indexes it; offsets are
    Python character offsets into `text`."""
    if field == "uk":
        return [(uk_key(m.group()), m.start(), m.end()) for m in _UK_WORD.finditer(text)]
    toks = _native()[field].pre_tokenize(text).tokens
    if field == "ro":
        return [(_ro_fix(t.text), t.char_offset_from, t.char_offset_to) for t in toks]
    return [(t.text, t.char_offset_from, t.char_offset_to) for t in toks]


def _keys(text: str, field: str) -> list[str]:
    """The index keys of `text` in field `field`, in order (what a query term becomes)."""
    if field == "uk":
        return list(map(uk_key, _UK_WORD.findall(text)))
    keys = _native()[field].analyze(text)
    return list(map(_ro_fix, keys)) if field == "ro" else keys


def field_for(language: str | None) -> str:
    """The index field an article of this language goes to."""
    return LANGUAGE_FIELD.get((language or "").lower(), "xx")


# ------------------------------------------------------------------ query syntax

@dataclass(frozen=True)
class Item:
    text: str       # the word or the phrase as typed (without quotes)
    phrase: bool


@dataclass(frozen=True)
class ParsedQuery:
    groups: tuple[tuple[Item, ...], ...]   # all groups must match; any item of a group
    excluded: tuple[Item, ...]             # none may match

    @property
    def empty(self) -> bool:
        return not self.groups and not self.excluded


def parse(query: str) -> ParsedQuery:
    """Parse the analyst's syntax; raises SearchSyntaxError with a sentence for the UI.

    words -> all must match; "a phrase"; a OR b; -word and -"a phrase" exclude.
    """
    query = query or ""
    raw: list[tuple[str, Item | None, bool]] = []  # (kind, item, negated); kind: item | or
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
            continue
        neg = False
        if c in "-+" and i + 1 < n and not query[i + 1].isspace():
            neg, i = c == "-", i + 1
            c = query[i]
        if c == '"':
            j = query.find('"', i + 1)
            if j < 0:
                raise SearchSyntaxError('A quotation mark is not closed: end the phrase with a second ".')
            body = query[i + 1: j].strip()
            i = j + 1
            if body:
                raw.append(("item", Item(body, True), neg))
            continue
        j = i
        while j < n and not query[j].isspace() and query[j] != '"':
            j += 1
        word = query[i:j]
        i = j
        if word == "OR" and not neg:
            raw.append(("or", None, False))
        elif word not in ("-", "+"):
            raw.append(("item", Item(word, False), neg))

    groups: list[list[Item]] = []
    excluded: list[Item] = []
    pending_or = False
    raw_neg_last = False
    prev_kind = None
    for kind, item, neg in raw:
        if kind == "or":
            if prev_kind != "item" or pending_or:
                raise SearchSyntaxError('"OR" needs a word or a phrase on both sides, e.g. Kyiv OR Kiev.')
            if raw_neg_last:
                raise SearchSyntaxError("An excluded term (-word) cannot be joined with OR; exclude it on its own.")
            pending_or = True
        else:
            assert item is not None
            if neg:
                if pending_or:
                    raise SearchSyntaxError("An excluded term (-word) cannot be joined with OR; exclude it on its own.")
                excluded.append(item)
            elif pending_or:
                groups[-1].append(item)
            else:
                groups.append([item])
            pending_or = False
            raw_neg_last = neg
        prev_kind = kind
    if pending_or:
        raise SearchSyntaxError('"OR" needs a word or a phrase on both sides, e.g. Kyiv OR Kiev.')
    if excluded and not groups:
        raise SearchSyntaxError('Add at least one word to look for: "-word" only leaves articles out.')
    return ParsedQuery(tuple(tuple(g) for g in groups), tuple(excluded))


def parse_error(query: str) -> str | None:
    """The sentence to show for a malformed query, or None when it can be run."""
    try:
        parsed = parse(query)
    except SearchSyntaxError as exc:
        return str(exc)
    if query.strip() and parsed.empty:
        return 'Nothing to search for: type a word or a "phrase".'
    if any(not any(_keys(it.text, f) for f in FIELDS) for g in parsed.groups for it in g):
        return 'Nothing to search for in a term made only of punctuation: type a word or a "phrase".'
    return None


# ------------------------------------------------------------------ build

# Polars' hash is stable only within one Polars version: skeys made by another version are
# not compared (the index is then built afresh, as after a FORMAT_VERSION change).
SKEY_HASH = f"polars {pl.__version__}"


def _skeys(ids: pl.DataFrame) -> np.ndarray:
    """64-bit key per row of (doc_id, title, language): what the index holds for an article
    (its text is fixed by doc_id, which hashes it), so a changed title or language re-indexes
    it. Vectorised (Polars' hash of the three joined): 0.17 s for 1M articles (Cyrillic
    titles), where a blake2b per row in Python took 2.6 s and held the GIL the build's other
    threads need."""
    joined = pl.concat_str([pl.col("doc_id"), pl.col("title").fill_null(""), pl.col("language").fill_null("")],
                           separator="\0")
    return ids.select(joined.hash(seed=0x5EA2C4).alias("k"))["k"].to_numpy().astype(np.uint64, copy=False)


def _indexed_text(title: str | None, text: str | None, boilerplate: list | None) -> str:
    """Title and body with boilerplate spans removed (offsets do not matter to the index)."""
    body = text or ""
    if boilerplate:
        parts, pos = [], 0
        for span in sorted(boilerplate):
            s, e = int(span[0]), int(span[1])
            if s > pos:
                parts.append(body[pos:s])
            pos = max(pos, e)
        parts.append(body[pos:])
        body = "\n".join(parts)
    return f"{title}\n{body}" if title else body


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_unsigned_field(_ORD, indexed=True, fast=True)
    sb.add_float_field(_BIT, fast=True)
    for f in FIELDS:
        sb.add_text_field(f, stored=False, tokenizer_name=f"pl_{f}", index_option="position")
    return sb.build()


def _register(index: tantivy.Index) -> None:
    for name, analyzer in _native().items():
        index.register_tokenizer(f"pl_{name}", analyzer)
    for name in ("uk", "ro"):
        index.register_tokenizer(f"pl_{name}", _keyed())


def _document(ordinal: int, title: str | None, text: str | None, language: str | None,
              boilerplate: list | None) -> tantivy.Document:
    field = field_for(language)
    content = _indexed_text(title, text, boilerplate)
    doc = tantivy.Document()
    doc.add_unsigned(_ORD, ordinal)
    doc.add_float(_BIT, float(1 << (ordinal % _BLOCK)))
    if field in ("uk", "ro"):
        content = " ".join(_keys(content, field))
    doc.add_text(field, content)
    return doc


# tantivy files a writer rewrites (copied into the next version, not hard-linked)
TANTIVY_MUTABLE = frozenset({"meta.json", ".managed.json"})


def _ours(name: str) -> bool:
    """presslens's own files in a search folder (written anew by every build)."""
    return name.endswith(".npy") or name == "presslens.json"


@dataclass(frozen=True)
class _Prev:
    directory: Path
    skeys: np.ndarray   # per row of the previous version
    ords: np.ndarray    # per row of the previous version
    next_ord: int


def _previous(previous_version_dir: Path | None) -> _Prev | None:
    if previous_version_dir is None:
        return None
    d = Path(previous_version_dir) / SEARCH_DIR
    try:
        meta = json.loads((d / "presslens.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION or meta.get("skey_hash") != SKEY_HASH:
            return None
        return _Prev(d, np.load(d / "skeys.npy"), np.load(d / "ords.npy"), int(meta["next_ord"]))
    except (OSError, ValueError, KeyError):
        return None


def _plan(skeys: np.ndarray, prev: _Prev | None) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """(ordinal per row, previous ordinals to delete, next free ordinal, full rebuild?).
    A row whose skey was indexed before keeps its ordinal; new rows get fresh ordinals."""
    n = len(skeys)
    full = (np.arange(n, dtype=np.int64), np.empty(0, dtype=np.int64), n, True)
    if prev is None or len(prev.skeys) == 0:
        return full
    order = np.argsort(prev.skeys, kind="stable")
    sorted_keys = prev.skeys[order]
    pos = np.minimum(np.searchsorted(sorted_keys, skeys), len(sorted_keys) - 1)
    found = sorted_keys[pos] == skeys
    # a skey repeated within this version (duplicate doc_id) reuses the old ordinal once
    first = np.zeros(n, dtype=bool)
    first[np.unique(skeys, return_index=True)[1]] = True
    found &= first
    ords = np.where(found, prev.ords[order][pos], -1)
    to_delete = np.setdiff1d(prev.ords, ords[found])
    n_new = int((~found).sum())
    next_ord = prev.next_ord + n_new
    if (n_new + len(to_delete) > FULL_REBUILD_SHARE * max(n, len(prev.skeys), 1)
            or next_ord > (1 + _MAX_ORD_WASTE) * n + 10_000):
        return full
    ords[~found] = np.arange(prev.next_ord, next_ord)
    return ords, to_delete, next_ord, False


def _rows_to_index(articles: pl.LazyFrame, doc_ids: pl.Series, rows_todo: np.ndarray, full: bool,
                   cols: list[str]) -> Iterator[tuple[np.ndarray, pl.DataFrame]]:
    """(rows, their `cols` in that order) for the rows of `articles` to index, a batch at a
    time. A full build reads the table in slices of BATCH_ROWS. An incremental one picks its
    few rows by doc id (INCREMENTAL_BATCH_ROWS ids a batch): a filter the scans under
    `articles` apply as they read, so only those rows' text is decoded, where a slice near the
    end of the table (new rows are last) read every row before it (a 1% rebuild at 10k: reading
    and adding the rows ~0.2 -> ~0.08 s, ad hoc). By slices too when the doc ids are not unique."""
    if not full and doc_ids.n_unique() == len(doc_ids):
        for lo in range(0, len(rows_todo), INCREMENTAL_BATCH_ROWS):
            rows = rows_todo[lo:lo + INCREMENTAL_BATCH_ROWS]
            want = doc_ids.gather(pl.Series(rows.astype(np.int64)))
            got = articles.filter(pl.col("doc_id").is_in(want.implode())).select("doc_id", *cols).collect()
            yield rows, pl.DataFrame({"doc_id": want}).join(got, on="doc_id", how="left",
                                                            maintain_order="left").select(cols)
        return
    step = BATCH_ROWS if full else INCREMENTAL_BATCH_ROWS
    for start in range(0, len(doc_ids), step):
        lo, hi = np.searchsorted(rows_todo, [start, start + step])
        if lo == hi:
            continue
        batch = articles.slice(start, step).select(cols).collect()
        local = rows_todo[lo:hi] - start
        if len(local) < batch.height:
            batch = batch[local]
        yield rows_todo[lo:hi], batch


def build(store_root: Path, version_dir: Path, articles: pl.LazyFrame,
          previous_version_dir: Path | None) -> dict:
    """Write ``version_dir/search`` for the articles of this version (in their row order).

    Reuses the previous version's index for every article whose (doc_id, title, language)
    is unchanged: its segment files are hard-linked, and only removed articles are deleted
    and new or changed ones added. Returns counts {"indexed", "reused", "deleted", "full"}.
    """
    del store_root  # the layout lives entirely inside the version directory
    out = Path(version_dir) / SEARCH_DIR
    if out.exists():
        shutil.rmtree(out)
    ids = articles.select("doc_id", "title", "language").collect()
    skeys = _skeys(ids)
    n = len(skeys)
    prev = _previous(previous_version_dir)
    ords, to_delete, next_ord, full = _plan(skeys, prev)
    if full:
        out.mkdir(parents=True)
        index = tantivy.Index(_schema(), path=str(out), reuse=False)
        rows_todo = np.arange(n)
    else:
        assert prev is not None
        fsio.hardlink_tree(prev.directory, out, skip=_ours, copy=TANTIVY_MUTABLE)
        index = tantivy.Index.open(str(out))
        rows_todo = np.flatnonzero(ords >= prev.next_ord)
    _register(index)
    threads = 1 if not full and len(rows_todo) <= ONE_THREAD_MAX_ROWS else min(2, os.cpu_count() or 1)
    writer = index.writer(heap_size=WRITER_HEAP, num_threads=threads)
    if len(to_delete):
        # by query, not delete_documents_by_term: the bindings turn an int below 2**63 into
        # an i64 term, which never matches this u64 field (so nothing would be deleted).
        writer.delete_documents_by_query(tantivy.Query.term_set_query(index.schema, _ORD, to_delete.tolist()))
    cols = ["title", "text", "language", "boilerplate"]
    for rows, batch in _rows_to_index(articles, ids["doc_id"], rows_todo, full, cols):
        for r, (title, text, lang, bp) in zip(rows.tolist(), batch.iter_rows()):
            writer.add_document(_document(int(ords[r]), title, text, lang, bp))
    writer.commit()
    writer.wait_merging_threads()
    writer = None

    np.save(out / "skeys.npy", skeys)
    np.save(out / "ords.npy", ords.astype(np.int64))
    stats = {"format": FORMAT_VERSION, "skey_hash": SKEY_HASH, "articles": n, "next_ord": int(next_ord),
             "indexed": int(len(rows_todo)), "reused": int(n - len(rows_todo)), "deleted": int(len(to_delete)),
             "full": full}
    (out / "presslens.json").write_text(json.dumps(stats), encoding="utf-8")
    return stats


# ------------------------------------------------------------------ search

class Searcher:
    """Search one published version. Cheap to share between sessions and threads."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.index = tantivy.Index.open(str(directory))
        _register(self.index)
        self.schema = self.index.schema
        self._searcher = self.index.searcher()
        meta = json.loads((directory / "presslens.json").read_text(encoding="utf-8"))
        ords = np.load(directory / "ords.npy")
        self._n = len(ords)
        self._next_ord = int(meta["next_ord"])
        # ordinal -> row (-1: not in this version); 8 bytes an ordinal, ~8-16 MB at 1M
        self._ord2row = np.full(self._next_ord, -1, dtype=np.int64)
        self._ord2row[ords] = np.arange(self._n, dtype=np.int64)
        self._doc_ids: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def num_articles(self) -> int:
        return self._n

    # -- query construction
    def _item_query(self, item: Item) -> tantivy.Query | None:
        subs = []
        for f in FIELDS:
            keys = _keys(item.text, f)
            if not keys:
                continue
            if len(keys) == 1:
                q = tantivy.Query.term_query(self.schema, f, keys[0])
            else:
                q = tantivy.Query.phrase_query(self.schema, f, keys)
            subs.append((tantivy.Occur.Should, q))
        return tantivy.Query.boolean_query(subs) if subs else None

    def query(self, query: str) -> tantivy.Query | None:
        """The tantivy query for the analyst's text; None for an empty query.
        Raises SearchSyntaxError (a sentence for the UI) when it cannot be run."""
        error = parse_error(query)
        if error:
            raise SearchSyntaxError(error)
        parsed = parse(query)
        if parsed.empty:
            return None
        clauses = []
        for group in parsed.groups:
            subs = [q for q in (self._item_query(it) for it in group) if q is not None]
            clauses.append((tantivy.Occur.Must, tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, q) for q in subs])))
        for it in parsed.excluded:
            q = self._item_query(it)
            if q is not None:
                clauses.append((tantivy.Occur.MustNot, q))
        return tantivy.Query.boolean_query(clauses)

    # -- answers
    def count(self, query: str) -> int:
        """Number of matching articles (no hit list is built)."""
        q = self.query(query)
        if q is None:
            return self.num_articles
        return self._searcher.search(q, limit=1, count=True).count

    def doc_rows(self, query: str) -> np.ndarray:
        """Rows (positions in articles.parquet) of the matching articles, sorted, unique.
        An empty query matches every article. Raises SearchSyntaxError for a malformed one."""
        q = self.query(query)
        if q is None:
            return np.arange(self.num_articles, dtype=np.int64)
        # One pass gives the count and, when there are few hits, all of them.
        first = self._searcher.search(q, limit=max(1, min(_FEW_HITS, self._n)), count=True)
        if first.count == 0:
            return np.empty(0, dtype=np.int64)
        if first.count <= _FEW_HITS:
            hits = first.hits
            ords = np.fromiter(self._searcher.fast_field_values(_ORD, [a for _, a in hits]),
                               dtype=np.int64, count=len(hits))
        else:
            ords = self._ords_by_aggregation(q)
        rows = self._ord2row[ords]
        rows.sort()
        return rows

    def _ords_by_aggregation(self, q: tantivy.Query) -> np.ndarray:
        """Ordinals of all hits from histogram buckets of 52 ordinals whose `bit` sums are
        the buckets' bitmasks (see the module docstring)."""
        parts = []
        span = _BLOCK * _BUCKETS_PER_CALL
        for lo in range(0, max(self._next_ord, 1), span):
            hist = {"field": _ORD, "interval": _BLOCK, "min_doc_count": 1}
            if self._next_ord > span:
                hist["hard_bounds"] = {"min": lo, "max": lo + span - 1}
            agg = {"h": {"histogram": hist, "aggs": {"m": {"sum": {"field": _BIT}}}}}
            buckets = self._searcher.aggregate(q, agg)["h"]["buckets"]
            if not buckets:
                continue
            base = np.fromiter((b["key"] for b in buckets), dtype=np.float64, count=len(buckets)).astype(np.int64)
            masks = np.fromiter((b["m"]["value"] for b in buckets), dtype=np.float64,
                                count=len(buckets)).astype(np.uint64)
            bits = np.unpackbits(masks.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
            bi, bj = np.nonzero(bits)
            parts.append(base[bi] + bj)
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def doc_ids(self, query: str) -> list[str]:
        """doc_ids of the matching articles, in articles.parquet row order."""
        rows = self.doc_rows(query)
        with self._lock:
            if self._doc_ids is None:
                path = self.directory.parent / "articles.parquet"
                self._doc_ids = pl.read_parquet(path, columns=["doc_id"])["doc_id"].to_numpy()
        return self._doc_ids[rows].tolist()


@lru_cache(maxsize=8)
def _open(directory: str, stamp: float) -> Searcher:
    return Searcher(Path(directory))


def open(version_dir: Path) -> Searcher | None:  # noqa: A001 - the API name the app uses
    """The searcher of a store version, or None when it has no search index. Cached per
    directory (a version directory never changes once published)."""
    d = Path(version_dir) / SEARCH_DIR
    meta = d / "presslens.json"
    try:
        stamp = meta.stat().st_mtime
        if json.loads(meta.read_text(encoding="utf-8")).get("format") != FORMAT_VERSION:
            return None
    except (OSError, ValueError):
        return None
    return _open(str(d.resolve()), stamp)


# ------------------------------------------------------------------ highlighting

def hit_spans(text: str, query: str, language: str | None) -> list[tuple[int, int]]:
    """[start, end) character offsets in `text` of what `query` matches, inflected forms
    included, analysed as the index analyses an article of `language`. Phrases are
    highlighted as one span. A malformed or empty query gives no spans."""
    try:
        parsed = parse(query)
    except SearchSyntaxError:
        return []
    items = [it for g in parsed.groups for it in g]
    if not items or not text:
        return []
    field = field_for(language)
    toks = _tokens(text, field)
    keys = [k for k, _, _ in toks]
    spans: set[tuple[int, int]] = set()
    for it in items:
        q = _keys(it.text, field)
        if not q:
            continue
        m = len(q)
        first = q[0]
        for i, k in enumerate(keys):
            if k == first and keys[i:i + m] == q:
                spans.add((toks[i][1], toks[i + m - 1][2]))
    # merge overlaps (a word inside a highlighted phrase)
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def snippets(text: str, query: str, language: str | None, width: int = 80, limit: int = 3) -> list[str]:
    """Up to `limit` keyword-in-context excerpts (plain text, about `width` characters of
    context around each hit, cut at spaces, "…" where cut). Escape before showing as HTML."""
    spans = hit_spans(text, query, language)
    out: list[str] = []
    covered = -1
    half = max(width // 2, 10)
    for s, e in spans:
        if s < covered:
            continue
        a, b = max(0, s - half), min(len(text), e + half)
        if a > 0:
            sp = text.find(" ", a, s)
            a = sp + 1 if sp >= 0 else a
        if b < len(text):
            sp = text.rfind(" ", e, b)
            b = sp if sp >= 0 else b
        piece = " ".join(text[a:b].split())
        out.append(("…" if a > 0 else "") + piece + ("…" if b < len(text) else ""))
        covered = b
        if len(out) >= limit:
            break
    return out
