"""Dashboard queries: Filters + the serving index in, small Polars DataFrames out.

Everything here is vectorised over the integer-coded arrays of presslens.index (numpy
masks, bincounts, CSR slices; Polars only on small results): no Python loops over rows,
no map_elements, and never a scan of the mention rows while a page renders.

- `Filters` is the frozen, hashable description of what the analyst is looking at
  (presslens.links turns it into URL parameters and back).
- `selected_rows(ix, f)` -> the sorted article rows listed for `f`; every other function
  aggregates the articles counted for `f`.

Filter semantics: within one field values are alternatives (ru OR uk); across fields all
must hold; several entities mean articles naming ALL of them (that is how an analyst
narrows down: "Putin and Kim"). A date range keeps dated articles only; `undated=True`
keeps only the articles without a date, so the undated ones are never silently lost.

Duplicates (issue 10): an article whose `duplicate_of` is set is never counted; with
`duplicates=True` the lists show the copies too (each marked `duplicate`).

Search: when the index carries a full-text engine (`ix.searcher.doc_rows(text)`, see
presslens.search), its hits plus the articles naming an entity whose name contains the
text; without one, a case-insensitive substring match over titles, outlets, URLs, cited
sources and every written form and name of every entity.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from presslens import index as index_mod
from presslens.index import UNDATED_DAY, UNDETERMINED, UNKNOWN_OUTLET, Index

# Label of the undated bucket in charts.
UNDATED = "undated"
ENTITY_TYPES = ("PER", "LOC", "ORG", "PRO", "EVT", "MISC")
# Columns listed for each article (everything light: no text, no span lists).
LIST_COLUMNS = list(index_mod.ARTICLE_COLUMNS)
# Above this share of all article -> entity pairs in the selection, walking the postings
# block by block under a per-pair mask beats gathering the selected articles' slices (1M
# articles / 18M pairs, CPU ms slices vs blocks on random selections: 24 vs 40 at 5%,
# 55 vs 64 at 20%, 73 vs 66 at 30%, 112 vs 91 at 45%; a search word selecting 28% of the
# articles, longer than most, 114 vs 69). Selections above half the originals count
# their complement.
COMPRESS_SHARE = 0.25
# entity_split reads the selected articles' postings when they hold this many times fewer
# pairs than the chosen entities' postings: a sliced pair costs ~6 postings (1M articles,
# the 12 top entities' 6.8M postings ~27-37 ms CPU whatever the selection; the articles'
# pairs ~25-30 ms per million: 76 vs 32 ms at 2.5M pairs, 42 vs 35 at 1.2M, 26 vs 30 at
# 0.7M, 18 vs 27 at 0.3M). It was 2, which sent 1.2-3.4M pairs down the slower path.
SPLIT_FACTOR = 6.0
# _split_cells drops an entity's uncounted postings before counting when the selection holds
# fewer than this share of the articles (1M articles, the 12 most named entities' 7M
# postings: 42-48 vs 82-93 ms CPU at 28% selected, 98-102 vs 66-72 ms at 84%).
SPARSE_SHARE = 0.5
# Articles per chunk when a selection's postings are counted: bounds the int64 temporaries
# (positions, codes, weights) to ~10 MB each whatever the selection (one pass over 400k
# articles' 7M pairs held ~250 MB at once, which set the app's peak memory).
COUNT_CHUNK = 65_536
# Blocks of articles walked by the per-pair mask path: BLOCK_CHUNKS * COUNT_CHUNK articles
# (~4.7M pairs at 1M / 18M, a 5 MB mask; fewer blocks, fewer passes over the entity bins).
BLOCK_CHUNKS = 4
EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Filters:
    """What the analyst is looking at. Tuples are sorted and de-duplicated (see `make`)."""

    languages: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    undated: bool = False
    search: str = ""
    # list duplicate copies too (they are never counted either way)
    duplicates: bool = False
    # one story (presslens.stories story_id): only its articles
    story: str = ""
    # the story split at this link strength (story_view.split_story; None: as built), and one
    # part of it (1 = the largest; 0: the whole story). Both need `story`.
    split: float | None = None
    part: int = 0
    # more stories viewed together with `story`, as one (an event the grouping split in two);
    # a joined view cannot be split
    joined: tuple[str, ...] = ()
    # only articles of stories told by several outlets ("outlets") or in several languages
    # ("languages") across the whole store (so "Russian articles of stories told in several
    # languages" works); "" any
    story_span: str = ""

    @classmethod
    def make(cls, **kw) -> "Filters":
        for name in ("languages", "outlets", "sources", "entities"):
            if name in kw:
                kw[name] = tuple(sorted(set(kw[name] or ())))
        if "search" in kw:
            kw["search"] = (kw["search"] or "").strip()
        if "story" in kw:
            kw["story"] = (kw["story"] or "").strip()
            if not kw["story"]:  # a split, its part and the joined stories belong to a story
                kw["split"], kw["part"], kw["joined"] = None, 0, ()
        if "joined" in kw:
            kw["joined"] = tuple(sorted(set(kw["joined"] or ()) - {kw.get("story", "")})) if kw.get("story") else ()
            if kw["joined"]:
                kw["split"], kw["part"] = None, 0
        if kw.get("split") is None and "part" in kw:
            kw["part"] = 0
        return cls(**kw)

    def with_(self, **kw) -> "Filters":
        """A copy with some fields replaced (multi-valued fields normalised)."""
        merged = {name: getattr(self, name) for name in self.__dataclass_fields__}
        merged.update(kw)
        if kw.get("date_from") or kw.get("date_to"):
            merged["undated"] = False
        if kw.get("undated"):
            merged["date_from"] = merged["date_to"] = None
        return Filters.make(**merged)

    def add(self, field_name: str, value: str) -> "Filters":
        """A copy with `value` added to a multi-valued field."""
        return self.with_(**{field_name: (*getattr(self, field_name), value)})

    def without(self, field_name: str, value: str | None = None) -> "Filters":
        """A copy with one value (or the whole field when value is None) removed."""
        if field_name in ("date", "date_from", "date_to"):
            return replace(self, date_from=None, date_to=None)
        if field_name == "story":
            return replace(self, story="", split=None, part=0, joined=())
        if field_name == "split":
            return replace(self, split=None, part=0)
        current = getattr(self, field_name)
        if isinstance(current, tuple):
            return replace(self, **{field_name: tuple(v for v in current if value is not None and v != value)})
        return replace(self, **{field_name: type(current)()})

    @property
    def viewed_stories(self) -> tuple[str, ...]:
        """The story and those joined to it (empty without a story)."""
        return (self.story, *self.joined) if self.story else ()

    @property
    def active(self) -> bool:
        return self != Filters()

    @property
    def narrows(self) -> bool:
        """True when a filter removes articles (the duplicates switch only changes lists)."""
        return replace(self, duplicates=False) != Filters()


# ---------------------------------------------------------------- array helpers


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def _date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


def _lookup(dictionary: pl.Series, values) -> np.ndarray:
    """Codes of the `values` present in a sorted dictionary (absent ones dropped)."""
    if not len(values) or dictionary.len() == 0:
        return np.zeros(0, np.int64)
    q = pl.Series(list(values), dtype=pl.String)
    pos = dictionary.search_sorted(q, side="left").to_numpy().astype(np.int64)
    ok = pos < dictionary.len()
    pos, q = pos[ok], q.filter(pl.Series(ok))
    return pos[(dictionary.gather(pos) == q).to_numpy()]


def _lut(size: int, codes: np.ndarray) -> np.ndarray:
    lut = np.zeros(size + 1, bool)
    lut[codes] = True
    return lut


def gather_ranges(indptr: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """Positions of every value of the given CSR owners, concatenated in owner order."""
    owners = np.asarray(owners, dtype=np.int64)
    starts = indptr[owners]
    return _ranges(starts, indptr[owners + 1] - starts)


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Positions start, start+1, ..., start+len-1 of every (start, len), concatenated."""
    lens = np.asarray(lens, dtype=np.int64)
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    excl = np.cumsum(lens) - lens
    return np.repeat(starts - excl, lens) + np.arange(total, dtype=np.int64)


def _src_rows(ix: Index) -> np.ndarray:
    """The article row of every citation (src postings), once per process."""
    return ix.memo(("src_rows",), lambda: np.repeat(np.arange(ix.n, dtype=np.int32), np.diff(ix.src_indptr)),
                   keep=True)


def _rows_mask(n: int, rows: np.ndarray) -> np.ndarray:
    m = np.zeros(n, bool)
    m[rows] = True
    return m


# ---------------------------------------------------------------- selection


def _entity_names_lower(ix: Index) -> tuple[pl.Series, pl.Series]:
    """Every entity's name and known names, lowercased once per process (lowercasing 200k
    names per new search word was ~110 ms of its ~300 at 1M articles; the match is ~10 ms)."""
    return ix.memo(("entity_names_lower",), lambda: (
        ix.entities["name"].str.to_lowercase(), ix.entities["names"].str.to_lowercase()), keep=True)


def _originals(ix: Index) -> tuple[np.ndarray, int]:
    """The mask of the articles that are not copies, and how many they are (once per process)."""
    originals = ix.memo(("originals",), lambda: ~np.asarray(ix.dup), keep=True)
    return originals, ix.memo(("n_originals",), lambda: int(originals.sum()), keep=True)


def warm(ix: Index) -> None:
    """Compute the per-process values that do not depend on the filters but that a first
    view would otherwise pay for (the first search word paid ~55 ms at 1M articles to
    lowercase the entity names). Meant for a background thread right after the index is
    loaded: a view asking for one of them meanwhile waits for it (Index.memo), and any
    failure here is left for that view to meet and report."""
    try:
        _entity_names_lower(ix)
        _originals(ix)
        _ae_lens(ix)
    except Exception:  # noqa: BLE001 - a warm-up must never take the server down
        return


def _search_mask(ix: Index, needle: str) -> np.ndarray:
    """Articles matching the search text (see the module docstring)."""
    def compute() -> np.ndarray:
        n = ix.n
        low = needle.lower()

        def has(s: pl.Series) -> np.ndarray:
            return s.str.to_lowercase().str.contains(low, literal=True).fill_null(False).to_numpy()

        name_low, names_low = _entity_names_lower(ix)

        def has_low(s: pl.Series) -> np.ndarray:
            return s.str.contains(low, literal=True).fill_null(False).to_numpy()

        ent_hit = np.flatnonzero(has_low(name_low) | has_low(names_low))
        m = _rows_mask(n, ix.ea_row[gather_ranges(ix.ea_indptr, ent_hit)])
        if ix.searcher is not None:
            try:
                hits = np.asarray(ix.searcher.doc_rows(needle), dtype=np.int64)
            except Exception:  # a query the engine cannot parse matches by names only
                hits = np.zeros(0, np.int64)
            m[hits[(hits >= 0) & (hits < n)]] = True
            return m
        m |= has(ix.article_column("title")) | has(ix.article_column("url")) | has(ix.article_column("outlet_domain"))
        m |= _lut(ix.outlets.len(), np.flatnonzero(has(ix.outlets)))[ix.outlet]
        src_hit = _lut(ix.sources.len(), np.flatnonzero(has(ix.sources)))[ix.src_code]
        m[_src_rows(ix)[src_hit]] = True
        f = ix.forms
        form_hit = _lut(f.height, np.flatnonzero(has(f["surface"]) | has(f["lemma"])))
        if form_hit.any():
            m[ix.ef_row[form_hit[ix.ef_form]]] = True
        return m

    return ix.memo(("search", needle), compute)


def _base_mask(ix: Index, f: Filters) -> np.ndarray:
    """Articles matching every filter, duplicates included."""
    f = replace(f, duplicates=False)

    def compute() -> np.ndarray:
        n = ix.n
        m = np.ones(n, bool)
        if f.languages:
            m &= _lut(ix.languages.len(), _lookup(ix.languages, f.languages))[ix.lang]
        if f.outlets:
            m &= _lut(ix.outlets.len(), _lookup(ix.outlets, f.outlets))[ix.outlet]
        if f.sources:
            hit = _lut(ix.sources.len(), _lookup(ix.sources, f.sources))[ix.src_code]
            m &= _rows_mask(n, _src_rows(ix)[hit])
        if f.date_from is not None:
            m &= ix.day >= _day(f.date_from)
        if f.date_to is not None:
            m &= (ix.day <= _day(f.date_to)) & (ix.day != UNDATED_DAY)
        if f.undated:
            m &= ix.day == UNDATED_DAY
        if f.entities:
            codes = ix.entity_codes(f.entities)
            if (codes < 0).any():
                return np.zeros(n, bool)
            # entity postings hold each article once per entity: naming all = hit count
            rows = ix.ea_row[gather_ranges(ix.ea_indptr, codes)]
            m &= np.bincount(rows, minlength=n) == len(codes)
        if f.story:
            code = _lookup(ix.stories, (f.story,)) if ix.stories is not None else np.zeros(0, np.int64)
            if code.size == 0:
                return np.zeros(n, bool)
            if f.joined:  # the story and those joined to it, as one
                m &= _lut(ix.stories.len(), np.concatenate([code, _lookup(ix.stories, f.joined)]))[ix.story]
            else:
                m &= ix.story == code[0]
            if f.split is not None and f.part:
                m &= _part_mask(ix, f.story, f.split, f.part)
        if f.story_span in ("outlets", "languages"):
            m &= _spanning(ix, f.story_span)[ix.story]
        if f.search:
            m &= _search_mask(ix, f.search)
        return m

    return ix.memo(("base", f), compute)


def counted_mask(ix: Index, f: Filters) -> np.ndarray:
    """Articles counted for `f`: matching every filter, duplicates never counted."""
    key = replace(f, duplicates=False)
    return ix.memo(("counted", key), lambda: _base_mask(ix, key) & ~ix.dup)


def selected_rows(ix: Index, f: Filters) -> np.ndarray:
    """Sorted article rows (articles.parquet row order) listed for `f`: the counted ones,
    plus the duplicate copies when `f.duplicates`."""
    m = _base_mask(ix, f) if f.duplicates else counted_mask(ix, f)
    return np.flatnonzero(m)


def _count_entities_direct(ix: Index, mask: np.ndarray, selected: int) -> tuple[np.ndarray, np.ndarray]:
    """Per entity code: (mentions, articles) within the `selected` articles in `mask`.

    A selection holding few of the article -> entity pairs gathers its articles' slices of
    those postings; a bigger one walks the postings block by block, keeping the pairs of
    selected articles under a per-pair mask (no int64 positions of millions of pairs)."""
    lens = _ae_lens(ix)
    if selected == 0:
        return np.zeros(ix.n_entities, np.int64), np.zeros(ix.n_entities, np.int64)
    share = selected / max(ix.n, 1)
    # the pairs are counted only where the articles' share leaves the choice open
    few = share < COMPRESS_SHARE / 2 or (share < 2 * COMPRESS_SHARE and int(lens[mask].sum(dtype=np.int64))
                                         < COMPRESS_SHARE * int(ix.ae_indptr[-1]))
    if few:
        rows = np.flatnonzero(mask)
        parts = (_slice_counts(ix, rows[i:i + COUNT_CHUNK]) for i in range(0, rows.size, COUNT_CHUNK))
    else:
        step = BLOCK_CHUNKS * COUNT_CHUNK
        parts = (_block_counts(ix, mask, lens, lo, min(lo + step, ix.n)) for lo in range(0, ix.n, step))
    zero = (np.zeros(ix.n_entities, np.int64), np.zeros(ix.n_entities, np.int64))
    return functools.reduce(lambda acc, part: (acc[0] + part[0], acc[1] + part[1]), parts, zero)


def _ae_lens(ix: Index) -> np.ndarray:
    """Entities per article (lengths of the article -> entity postings), once per process."""
    return ix.memo(("ae_lens",), lambda: np.diff(ix.ae_indptr).astype(np.int32), keep=True)


def _sums_and_counts(keys: np.ndarray, weights: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(np.bincount(keys, weights), np.bincount(keys)) as int64, in one weighted pass when
    exact: each weight carries a 1 above the bits any bin's weight sum can reach, so a bin
    sums to (count << shift) + weight sum, exact while below 2**53 (integers in float64)."""
    total = int(weights.sum(dtype=np.int64))
    shift = max(total.bit_length(), 1)
    if keys.size == 0 or (keys.size << shift) + total >= 1 << 53:
        return (np.bincount(keys, weights=weights, minlength=size).astype(np.int64),
                np.bincount(keys, minlength=size).astype(np.int64))
    w = weights.astype(np.float64)
    w += float(1 << shift)
    packed = np.bincount(keys, weights=w, minlength=size).astype(np.int64)
    return packed & ((1 << shift) - 1), packed >> shift


def _slice_counts(ix: Index, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per entity code: (mentions, articles) in the article -> entity postings of `rows`."""
    idx = gather_ranges(ix.ae_indptr, rows)
    return _sums_and_counts(ix.ae_ent[idx], ix.ae_cnt[idx], ix.n_entities)


def _block_counts(ix: Index, mask: np.ndarray, lens: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Per entity code: (mentions, articles) in the postings of the articles of rows
    [lo, hi) that are in `mask` (one contiguous block of the article -> entity postings)."""
    a, b = int(ix.ae_indptr[lo]), int(ix.ae_indptr[hi])
    keep = np.repeat(mask[lo:hi], lens[lo:hi])
    return _sums_and_counts(ix.ae_ent[a:b][keep], ix.ae_cnt[a:b][keep], ix.n_entities)


def _count_entities(ix: Index, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per entity code: (mentions, articles) within the articles in `mask`.

    When `mask` holds only originals and most of them, the few originals outside it are
    counted instead and subtracted from the precomputed corpus totals (exact integers)."""
    selected = int(mask.sum())
    originals, n_orig = _originals(ix)
    if selected > n_orig // 2 and not (mask & ~originals).any():
        rest = originals & ~mask
        rest_men, rest_docs = _count_entities_direct(ix, rest, n_orig - selected)
        total_men = ix.entities["mention_count"].to_numpy().astype(np.int64)
        total_docs = ix.entities["doc_count"].to_numpy().astype(np.int64)
        return total_men - rest_men, total_docs - rest_docs
    return _count_entities_direct(ix, mask, selected)


def entity_counts(ix: Index, f: Filters) -> tuple[np.ndarray, np.ndarray]:
    """Per entity code: (mentions, articles) in the counted articles (unfiltered: precomputed)."""
    key = replace(f, duplicates=False)
    if not key.narrows:
        return ix.entities["mention_count"].to_numpy(), ix.entities["doc_count"].to_numpy()
    if key == Filters.make(languages=key.languages):
        # languages only: sums of the precomputed entity x language table
        size = ix.languages.len()
        cols = _lookup(ix.languages, key.languages)
        men = np.asarray(ix.el_men).reshape(-1, size)[:, cols].sum(axis=1)
        docs = np.asarray(ix.el_docs).reshape(-1, size)[:, cols].sum(axis=1)
        return men.astype(np.int64), docs.astype(np.int64)
    return ix.memo(("entities", key), lambda: _count_entities(ix, counted_mask(ix, key)))


# ---------------------------------------------------------------- overview


def _known_outlets(ix: Index, m: np.ndarray) -> int:
    """Distinct outlets among the articles in `m`; "(unknown outlet)" is listed in charts
    but is not an outlet, so it is not counted here."""
    present = np.bincount(ix.outlet[m], minlength=ix.outlets.len()) > 0
    unknown = _lookup(ix.outlets, (UNKNOWN_OUTLET,))
    present[unknown[unknown >= 0]] = False
    return int(present.sum())


def summary(ix: Index, f: Filters, entities: bool = True) -> pl.DataFrame:
    """One row: articles, outlets, languages, entities, dated, undated, first, last, and
    duplicates (copies matching the filters, listed on request but never counted).

    `entities=False` leaves "entities" null: it is the one figure that needs the entity
    counts of the selection (~80 ms for a new search word in 28% of 1M articles), and most
    pages ask for the summary only to know the selection is not empty."""
    m = counted_mask(ix, f)
    day = ix.day[m]
    dated = day[day != UNDATED_DAY]
    return pl.DataFrame({
        "articles": [int(m.sum())],
        "outlets": [_known_outlets(ix, m)],
        "languages": [int(np.count_nonzero(np.bincount(ix.lang[m], minlength=1)))],
        "entities": [entity_total(ix, f) if entities else None],
        "dated": [int(dated.size)],
        "undated": [int(day.size - dated.size)],
        "first": [_date(dated.min()) if dated.size else None],
        "last": [_date(dated.max()) if dated.size else None],
        "duplicates": [int((_base_mask(ix, f) & ix.dup).sum())],
    }, schema={"articles": pl.Int64, "outlets": pl.Int64, "languages": pl.Int64, "entities": pl.Int64,
               "dated": pl.Int64, "undated": pl.Int64, "first": pl.Date, "last": pl.Date, "duplicates": pl.Int64})


def entity_total(ix: Index, f: Filters) -> int:
    """Distinct entities named in the counted articles of `f`."""
    return int(np.count_nonzero(entity_counts(ix, f)[1]))


def granularity(first: dt.date | None, last: dt.date | None) -> str:
    """Bucket size for a time chart: days up to ~3 months, weeks up to ~2 years, else months."""
    if first is None or last is None:
        return "1d"
    span = (last - first).days
    if span <= 92:
        return "1d"
    if span <= 730:
        return "1w"
    return "1mo"


def _period_end(every: str) -> pl.Expr:
    """The last day of the period starting at column "period"."""
    return pl.col("period").dt.offset_by(every) - pl.duration(days=1)


def _period_bounds(days: np.ndarray, every: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(first day, last day) of the period holding each day (days since 1970-01-01) for the
    buckets of `granularity` (weeks start on Monday, as Polars' truncate), in numpy; None
    for another bucket size."""
    days = days.astype(np.int64)
    if every == "1d":
        return days, days
    if every == "1w":
        start = days - (days + 3) % 7  # 1970-01-01 was a Thursday
        return start, start + 6
    if every == "1mo":
        month = days.astype("datetime64[D]").astype("datetime64[M]")
        return (month.astype("datetime64[D]").astype(np.int64),
                (month + 1).astype("datetime64[D]").astype(np.int64) - 1)
    return None


def _per_period(days: np.ndarray, every: str, **weights: np.ndarray | None) -> pl.DataFrame:
    """period, <weights...>, period_end from per-article day numbers (undated dropped); a
    weight given as None counts the days' rows."""
    keep = days != UNDATED_DAY
    days = days[keep]
    cols = {name: (w[keep] if w is not None else None) for name, w in weights.items()}
    schema = {"period": pl.Date, **{k: pl.Int64 for k in cols}, "period_end": pl.Date}
    if days.size == 0:
        return pl.DataFrame(schema=schema)
    lo = int(days.min())
    # a weight of None counts rows (a plain bincount: ~6x faster than one weighted by ones)
    per_day = {k: np.bincount(days - lo, weights=w).astype(np.int64) for k, w in cols.items()}
    nz = np.flatnonzero(np.sum([v for v in per_day.values()], axis=0))
    bounds = _period_bounds(nz + lo, every)
    if bounds is None:  # another bucket size: Polars truncates
        df = pl.DataFrame({"day": (nz + lo).astype(np.int32), **{k: v[nz] for k, v in per_day.items()}})
        df = (df.group_by(pl.col("day").cast(pl.Date).dt.truncate(every).alias("period"))
              .agg(pl.col(k).sum() for k in cols))
        return df.with_columns(_period_end(every).alias("period_end")).sort("period").select(list(schema))
    # a few thousand distinct days at most: group them by period start in numpy (Polars'
    # group-by costs more in thread start-up than in work on inputs this small)
    starts, first = np.unique(bounds[0], return_index=True)
    group = np.searchsorted(starts, bounds[0])
    return pl.DataFrame({
        "period": starts.astype(np.int32), **{k: np.bincount(group, weights=v[nz]).astype(np.int64)
                                             for k, v in per_day.items()},
        "period_end": bounds[1][first].astype(np.int32),
    }).with_columns(pl.col("period").cast(pl.Date), pl.col("period_end").cast(pl.Date)).select(list(schema))


def over_time(ix: Index, f: Filters, every: str) -> pl.DataFrame:
    """Dated articles per period: period (start), articles, period_end."""
    m = counted_mask(ix, f)
    days = ix.day[m]
    return _per_period(days, every, articles=None)


def _top_codes(counts: np.ndarray, limit: int | None, candidates: np.ndarray | None = None) -> np.ndarray:
    """Codes with a non-zero count (or, given, the codes where `candidates` is true); with
    `limit`, only the `limit` largest counts among them (ties at the cut all kept; callers
    sort exactly)."""
    nz = np.flatnonzero(counts if candidates is None else candidates)
    if limit and nz.size > limit:
        vals = counts[nz]
        cut = np.partition(vals, nz.size - limit)[nz.size - limit]
        nz = nz[vals >= cut]
    return nz


def _counts_frame(labels: pl.Series, counts: np.ndarray, name: str, total: int | None = None,
                  limit: int | None = None) -> pl.DataFrame:
    nz = _top_codes(counts, limit)
    df = pl.DataFrame({name: labels.gather(nz), "articles": counts[nz].astype(np.int64)},
                      schema={name: pl.String, "articles": pl.Int64})
    denom = total if total is not None else int(counts.sum())
    df = df.with_columns((pl.col("articles") / max(denom, 1)).alias("share")).sort(
        ["articles", name], descending=[True, False])
    return df.head(limit) if limit else df


def outlet_counts(ix: Index, f: Filters, limit: int | None = None) -> pl.DataFrame:
    """outlet, articles, share (of the counted articles), sorted by articles; the `limit`
    biggest outlets when given (shares stay of all counted articles)."""
    m = counted_mask(ix, f)
    return _counts_frame(ix.outlets, np.bincount(ix.outlet[m], minlength=ix.outlets.len()), "outlet", limit=limit)


def language_counts(ix: Index, f: Filters) -> pl.DataFrame:
    """language, articles, share, mean_confidence, mixed (articles flagged mixed-language)."""
    m = counted_mask(ix, f)
    lang = ix.lang[m]
    size = ix.languages.len()
    n = np.bincount(lang, minlength=size)
    conf = np.bincount(lang, weights=ix.conf[m], minlength=size)
    mixed = np.bincount(lang, weights=ix.mixed[m], minlength=size)
    nz = np.flatnonzero(n)
    df = pl.DataFrame({"language": ix.languages.gather(nz), "articles": n[nz].astype(np.int64),
                       "mean_confidence": conf[nz] / n[nz], "mixed": mixed[nz].astype(np.int64)})
    return df.with_columns((pl.col("articles") / max(int(n.sum()), 1)).alias("share")).select(
        "language", "articles", "share", "mean_confidence", "mixed").sort(["articles", "language"], descending=[True, False])


def _pair_counts(a: np.ndarray, b: np.ndarray, size_b: int, labels_a: pl.Series, labels_b: pl.Series,
                 name_a: str, name_b: str, top_a: int | None = None, top_b: int | None = None) -> pl.DataFrame:
    """Counts of (a, b) code pairs; with top_a/top_b only the most frequent a / b values."""
    keep = np.ones(a.size, bool)
    if top_a and a.size:
        keep &= _lut(labels_a.len(), _top_codes(np.bincount(a, minlength=labels_a.len()), top_a))[a]
    if top_b and b.size:
        keep &= _lut(size_b, _top_codes(np.bincount(b, minlength=size_b), top_b))[b]
    a, b = a[keep], b[keep]
    key = a.astype(np.int64) * size_b + b
    counts = np.bincount(key) if key.size else np.zeros(0, np.int64)
    nz = np.flatnonzero(counts)
    return pl.DataFrame({name_a: labels_a.gather(nz // size_b), name_b: labels_b.gather(nz % size_b),
                         "articles": counts[nz].astype(np.int64)}).sort([name_a, name_b])


def outlet_language(ix: Index, f: Filters, top_outlets: int | None = None) -> pl.DataFrame:
    """outlet, language, articles (only the `top_outlets` biggest outlets when given)."""
    m = counted_mask(ix, f)
    return _pair_counts(ix.outlet[m], ix.lang[m], ix.languages.len(), ix.outlets, ix.languages, "outlet", "language",
                        top_a=top_outlets)


def _cited_pairs(ix: Index, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(article row, source code) of every citation by the articles in `m`."""
    rows = _src_rows(ix)
    pm = m[rows]
    return rows[pm], ix.src_code[pm]


def source_counts(ix: Index, f: Filters, limit: int | None = None) -> pl.DataFrame:
    """source, articles citing it, share of the counted articles citing it (the `limit`
    most cited when given)."""
    m = counted_mask(ix, f)
    _, src = _cited_pairs(ix, m)
    return _counts_frame(ix.sources, np.bincount(src, minlength=ix.sources.len()), "source", total=int(m.sum()),
                         limit=limit)


def outlet_source(ix: Index, f: Filters, top_outlets: int | None = None, top_sources: int | None = None) -> pl.DataFrame:
    """outlet, source, articles (articles of that outlet citing that source); only the
    most citing outlets / most cited sources when limits are given."""
    m = counted_mask(ix, f)
    rows, src = _cited_pairs(ix, m)
    return _pair_counts(ix.outlet[rows], src, ix.sources.len(), ix.outlets, ix.sources, "outlet", "source",
                        top_a=top_outlets, top_b=top_sources)


def uncited_count(ix: Index, f: Filters) -> pl.DataFrame:
    """One row: counted articles that cite no source."""
    m = counted_mask(ix, f)
    return pl.DataFrame({"uncited": [int((m & (np.diff(ix.src_indptr) == 0)).sum())]})


# ---------------------------------------------------------------- languages


def confidence_histogram(ix: Index, f: Filters, bins: int = 20) -> pl.DataFrame:
    """Detection confidence as a distribution: language, bin_start, bin_end, articles, mixed
    (how many of them are mixed-language), one row per non-empty bin."""
    m = counted_mask(ix, f)
    lang = ix.lang[m].astype(np.int64)
    b = np.clip((ix.conf[m] * bins).astype(np.int64), 0, bins - 1)
    key = lang * bins + b
    n = np.bincount(key) if key.size else np.zeros(0, np.int64)
    mixed = np.bincount(key, weights=ix.mixed[m]) if key.size else np.zeros(0)
    nz = np.flatnonzero(n)
    return pl.DataFrame({
        "language": ix.languages.gather(nz // bins),
        "bin_start": (nz % bins) / bins,
        "bin_end": (nz % bins + 1) / bins,
        "articles": n[nz].astype(np.int64),
        "mixed": mixed[nz].astype(np.int64),
    }, schema={"language": pl.String, "bin_start": pl.Float64, "bin_end": pl.Float64,
               "articles": pl.Int64, "mixed": pl.Int64}).sort(["language", "bin_start"])


def _article_rows(ix: Index, rows: np.ndarray, columns: list[str]) -> pl.DataFrame:
    return ix.article_rows(rows, columns)


def low_confidence(ix: Index, f: Filters, below: float = 0.8, limit: int = 200) -> pl.DataFrame:
    """The least confident detections in view (confidence < `below`), lowest first:
    doc_id, title, outlet, language, language_confidence, mixed_language."""
    rows = selected_rows(ix, f)
    conf = ix.conf[rows]
    rows, conf = rows[conf < below], conf[conf < below]
    if rows.size > limit:
        keep = np.argpartition(conf, limit - 1)[:limit]
        rows, conf = rows[keep], conf[keep]
    rows = rows[np.lexsort((rows, conf))]
    return _article_rows(ix, rows, ["doc_id", "title", "outlet", "language", "language_confidence", "mixed_language"])


def mixed_articles(ix: Index, f: Filters, limit: int = 500) -> pl.DataFrame:
    """Articles flagged as mixed-language: doc_id, title, outlet, language, languages."""
    rows = selected_rows(ix, f)
    rows = rows[ix.mixed[rows]]
    if rows.size > limit:
        rows = rows[np.sort(np.argpartition(ix.list_rank[rows], limit - 1)[:limit])]
    rows = rows[np.argsort(ix.list_rank[rows], kind="stable")]
    return _article_rows(ix, rows, ["doc_id", "title", "outlet", "language", "languages"]).with_columns(
        pl.col("languages").list.join(", "))


# ---------------------------------------------------------------- entities


def _entity_frame(ix: Index, codes: np.ndarray, **cols: np.ndarray) -> pl.DataFrame:
    e = ix.entities[pl.Series(codes.astype(np.int64))] if codes.size else ix.entities.clear()
    return e.select("entity_id", "name", "entity_type").with_columns(
        pl.Series(k, v.astype(np.int64), dtype=pl.Int64) for k, v in cols.items())


def top_entities(ix: Index, f: Filters, entity_type: str | None = None, limit: int = 25) -> pl.DataFrame:
    """entity_id, name, entity_type, mentions, articles (in the counted articles), top `limit`
    by mentions, then articles, then name."""
    men, docs = entity_counts(ix, f)
    cand = docs > 0
    if entity_type:
        cand &= (ix.entities["entity_type"] == entity_type).to_numpy()
    codes = _top_codes(men, limit, cand)
    return (_entity_frame(ix, codes, mentions=men[codes], articles=docs[codes])
            .sort(["mentions", "articles", "name"], descending=[True, True, False]).head(limit))


def _type_codes(ix: Index) -> tuple[pl.Series, np.ndarray]:
    """(sorted entity types, type code per entity code), once per process."""
    def compute():
        types = ix.entities["entity_type"].fill_null("MISC")
        labels = types.unique().sort()
        return labels, labels.search_sorted(types).to_numpy().astype(np.int64)
    return ix.memo(("entity_types",), compute, keep=True)


def entity_type_counts(ix: Index, f: Filters) -> pl.DataFrame:
    """entity_type, entities, mentions in the counted articles."""
    men, docs = entity_counts(ix, f)
    labels, code = _type_codes(ix)
    named = docs > 0
    n = np.bincount(code[named], minlength=labels.len())
    mentions = np.bincount(code[named], weights=men[named], minlength=labels.len()).astype(np.int64)
    nz = np.flatnonzero(n)
    return pl.DataFrame({"entity_type": labels.gather(nz), "entities": n[nz].astype(np.int64), "mentions": mentions[nz]},
                        schema={"entity_type": pl.String, "entities": pl.Int64, "mentions": pl.Int64}).sort(
        ["mentions", "entity_type"], descending=[True, False])


def _postings(ix: Index, codes: np.ndarray, f: Filters) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(position of the entity in `codes`, article row, mentions) of the given entities'
    postings restricted to the articles counted for `f` (each entity's postings are one
    slice). Memoised per selection: the detail view of one entity asks for them twice
    (its timeline and its co-mentions)."""
    key = replace(f, duplicates=False)

    def one(m: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(ix.ea_row[a:b])
        keep = np.flatnonzero(m[rows])  # positions, not a mask: a selection keeps part of a long slice
        return rows[keep], np.asarray(ix.ea_cnt[a:b])[keep]

    def compute() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if codes.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        m = counted_mask(ix, key)
        parts = [one(m, a, b) for a, b in zip(ix.ea_indptr[codes].tolist(), ix.ea_indptr[codes + 1].tolist())]  # a few
        which = np.repeat(np.arange(codes.size), [r.size for r, _ in parts])
        return which, np.concatenate([r for r, _ in parts]), np.concatenate([c for _, c in parts])

    return ix.memo(("postings", key, tuple(np.asarray(codes).tolist())), compute)


def entity_split(ix: Index, f: Filters, entity_ids: tuple[str, ...], by: str, top: int | None = None) -> pl.DataFrame:
    """entity_id, name, <by> (language or outlet), mentions, articles for the given entities;
    with `top`, only the `top` values of <by> naming these entities most.

    Both splits come from one (entity x outlet x language) count of these entities
    (`_split_cells`, memoised per selection), so a page asking for both pays once."""
    codes = ix.entity_codes(entity_ids)
    codes = codes[codes >= 0]
    labels = ix.languages if by == "language" else ix.outlets
    size = labels.len()
    men3, docs3 = _split_cells(ix, f, codes)
    axis = 1 if by == "language" else 2  # cells are (entity, outlet, language)
    # an article has one outlet and one language: its cell counts it once, so sums over
    # the other axis count articles exactly
    men, docs = men3.sum(axis=axis), docs3.sum(axis=axis)
    if top and docs.any():
        kept = _lut(size, _top_codes(men.sum(axis=0), top))[:size]
        docs[:, ~kept] = 0
    nz = np.flatnonzero(docs)
    men, docs = men.ravel(), docs.ravel()
    e = _entity_frame(ix, codes[nz // max(size, 1)], mentions=men[nz], articles=docs[nz])
    return e.select("entity_id", "name", pl.Series(by, labels.gather(nz % max(size, 1)), dtype=pl.String),
                    "mentions", "articles").sort(["name", by])


def _split_cells(ix: Index, f: Filters, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mentions, articles) of the given entity codes in the counted articles of `f`, per
    (outlet, language) cell: two int64 arrays of shape (codes, outlets, languages).

    Unfiltered or languages only: the precomputed entity x (outlet, language) table (a few
    thousand cells per entity). Otherwise either the selected articles' slices of the
    article -> entity postings (a small selection) or, entity by entity, the postings'
    cell codes under a per-article mask (never all postings of all entities at once, so no
    temporary grows with the number of entities asked)."""
    nl, no = ix.languages.len(), ix.outlets.len()
    width = nl * no
    key = replace(f, duplicates=False)

    def compute() -> tuple[np.ndarray, np.ndarray]:
        men = np.zeros((codes.size, width), np.int64)
        docs = np.zeros((codes.size, width), np.int64)
        if codes.size == 0 or width == 0:
            pass
        elif key == Filters.make(languages=key.languages) or (
                codes.size == 1 and _only_entity(key, str(ix.entities["entity_id"][int(codes[0])]))):
            # unfiltered, languages only, or one entity filtered by itself: precomputed
            idx = gather_ranges(ix.eo_indptr, codes)
            flat = np.repeat(np.arange(codes.size) * width, np.diff(ix.eo_indptr)[codes]) + ix.eo_key[idx]
            men.ravel()[flat], docs.ravel()[flat] = ix.eo_men[idx], ix.eo_docs[idx]
            if key.languages:
                off = ~_lut(nl, _lookup(ix.languages, key.languages))[:nl]
                men.reshape(codes.size, no, nl)[:, :, off] = 0
                docs.reshape(codes.size, no, nl)[:, :, off] = 0
        elif _split_by_articles(ix, key, codes):
            rows = np.flatnonzero(counted_mask(ix, key))
            idx = gather_ranges(ix.ae_indptr, rows)
            where = np.full(ix.n_entities, -1, np.int64)
            where[codes] = np.arange(codes.size)
            pos = where[ix.ae_ent[idx]]
            hit = pos >= 0
            row_of = np.repeat(rows, np.diff(ix.ae_indptr)[rows])[hit]
            k = pos[hit] * width + ix.outlet[row_of].astype(np.int64) * nl + ix.lang[row_of]
            cnt = ix.ae_cnt[idx[hit]]
            del idx, pos, hit, row_of
            men, docs = (c.reshape(codes.size, width) for c in _sums_and_counts(k, cnt, codes.size * width))
        else:
            cell = _masked_cell(ix, key)
            sparse = int(counted_mask(ix, key).sum()) < SPARSE_SHARE * ix.n
            per = [_cell_counts(cell, ix.ea_row[lo:hi], ix.ea_cnt[lo:hi], width, sparse)
                   for lo, hi in zip(ix.ea_indptr[codes].tolist(), ix.ea_indptr[codes + 1].tolist())]  # a few entities
            men, docs = np.stack([m for m, _ in per]), np.stack([d for _, d in per])
        return men.reshape(codes.size, no, nl), docs.reshape(codes.size, no, nl)

    men3, docs3 = ix.memo(("split", key, tuple(codes.tolist())), compute)
    return men3.copy(), docs3.copy()


def _cell_counts(cell: np.ndarray, rows: np.ndarray, cnt: np.ndarray, width: int,
                 sparse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(mentions, articles) per cell of one entity's postings (`rows`, `cnt`), cells from
    the per-article `cell` codes (`width` = not counted, dropped). `sparse`: most postings
    are not counted, so they are dropped before the (weighted) counts rather than binned."""
    k = cell[rows]
    if sparse:
        keep = np.flatnonzero(k != width)
        k, cnt = k[keep], cnt[keep]
    men, docs = _sums_and_counts(k, cnt, width + 1)
    return men[:width], docs[:width]


def _split_by_articles(ix: Index, f: Filters, codes: np.ndarray) -> bool:
    """Whether entity_split should read the selected articles' postings rather than the
    entities' (distinct entities whose postings outnumber the selection's pairs, estimated
    at the mean pairs per article, by SPLIT_FACTOR: gathering CSR slices costs more a pair)."""
    if codes.size == 0 or np.unique(codes).size != codes.size:
        return False
    postings = int((ix.ea_indptr[codes + 1] - ix.ea_indptr[codes]).sum())
    pairs = int(counted_mask(ix, f).sum()) * ix.meta.get("pairs", 0) / max(ix.n, 1)
    return pairs * SPLIT_FACTOR < postings


def _masked_cell(ix: Index, f: Filters) -> np.ndarray:
    """Per article: its (outlet, language) cell (outlet * languages + language) when counted
    for `f`, else outlets * languages, a bin past the last (memoised per selection)."""
    key = replace(f, duplicates=False)

    def compute() -> np.ndarray:
        nl = ix.languages.len()
        cell = ix.outlet.astype(np.int32) * nl + ix.lang
        return np.where(counted_mask(ix, key), cell, nl * ix.outlets.len()).astype(np.int32)

    return ix.memo(("masked_cell", key), compute)


def _only_entity(f: Filters, entity_id: str) -> bool:
    """True when `f` selects exactly the articles naming `entity_id` (languages aside): then
    every count of that entity within `f` is its precomputed count over originals. That is
    the usual drill-down: choosing an entity for the detail view also filters by it."""
    return replace(f, duplicates=False, languages=()) == Filters.make(entities=(entity_id,))


def entity_over_time(ix: Index, f: Filters, entity_id: str, every: str) -> pl.DataFrame:
    """period, mentions, articles, period_end of one entity (dated counted articles only)."""
    codes = ix.entity_codes((entity_id,))
    codes = codes[codes >= 0]
    if codes.size and (not f.narrows or (_only_entity(f, entity_id) and not f.languages)):
        # unfiltered (or filtered by this entity only): the entity's precomputed per-day counts
        lo, hi = ix.ed_indptr[codes[0]], ix.ed_indptr[codes[0] + 1]
        return _per_period(np.asarray(ix.ed_day[lo:hi]), every, mentions=np.asarray(ix.ed_men[lo:hi]),
                           articles=np.asarray(ix.ed_docs[lo:hi])).select("period", "period_end", "mentions", "articles")
    _, rows, cnt = _postings(ix, codes, f)
    return _per_period(ix.day[rows], every, mentions=cnt, articles=None).select("period", "period_end", "mentions", "articles")


def cooccurring(ix: Index, f: Filters, entity_id: str, limit: int = 20) -> pl.DataFrame:
    """Entities named in the same counted articles as `entity_id`: entity_id, name,
    entity_type, articles, mentions (top `limit` by articles together)."""
    codes = ix.entity_codes((entity_id,))
    codes = codes[codes >= 0]
    counted = counted_mask(ix, f)
    _, rows, _ = _postings(ix, codes, f)
    together = _rows_mask(ix.n, rows)
    rest = counted & ~together
    if int(rest.sum()) < rows.size:
        # the entity is named in most articles in view: count the few without it and subtract
        all_men, all_docs = entity_counts(ix, f)
        rest_men, rest_docs = _count_entities(ix, rest)
        men, docs = all_men - rest_men, all_docs - rest_docs
    else:
        men, docs = _count_entities(ix, together)
    cand = docs > 0
    cand[codes] = False
    top = _top_codes(docs, limit, cand)
    return (_entity_frame(ix, top, articles=docs[top], mentions=men[top])
            .sort(["articles", "mentions", "name"], descending=[True, True, False]).head(limit))


def surface_forms(ix: Index, f: Filters, entity_id: str) -> pl.DataFrame:
    """Every written form of one entity in the counted articles: surface, lemma, language,
    mentions, articles (from the entity's (article, form) postings, not the mention table)."""
    codes = ix.entity_codes((entity_id,))
    schema = {"surface": pl.String, "lemma": pl.String, "language": pl.String, "mentions": pl.Int64, "articles": pl.Int64}
    if codes.size == 0 or codes[0] < 0:
        return pl.DataFrame(schema=schema)
    size = ix.languages.len()
    fk = replace(f, duplicates=False)
    # the entity's precomputed (form x language) keys and counts, over originals
    slo, shi = int(ix.sf_indptr[codes[0]]), int(ix.sf_indptr[codes[0] + 1])
    keys, men, docs = (np.asarray(ix.sf_key[slo:shi], np.int64), np.asarray(ix.sf_men[slo:shi], np.int64),
                       np.asarray(ix.sf_docs[slo:shi], np.int64))
    if f.narrows and (fk == Filters.make(languages=fk.languages) or _only_entity(fk, entity_id)):
        # languages (and this entity) only: the precomputed counts, other languages left out
        if fk.languages:
            on = _lut(size, _lookup(ix.languages, fk.languages))[keys % size]
            keys, men, docs = keys[on], men[on], docs[on]
    elif f.narrows:
        keys, men, docs = _forms_within(ix, int(codes[0]), counted_mask(ix, f), keys // max(size, 1))
    return _forms_frame(ix, keys, men, docs)


def _forms_within(ix: Index, code: int, m: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(form x language keys, mentions, articles) of entity `code`'s written forms in the
    articles of `m`; `known`: the form codes its precomputed table lists (all of them).

    The entity's (entity, article) pairs are masked first (one per article, not one per
    mention: the most named entity has 1M pairs, 7.8M mentions at 1M articles); only the
    selected pairs' distinct (article, form) entries are read, each one article of one form."""
    lo, hi = int(ix.ea_indptr[code]), int(ix.ea_indptr[code + 1])
    rows, nf = np.asarray(ix.ea_row[lo:hi]), np.asarray(ix.ea_nf[lo:hi])
    keep = np.flatnonzero(m[rows])
    # a pair's entries end where the entries of the entity's pairs up to it end (the
    # running sum over all its pairs, then only the selected ones: each step one pass)
    ends = np.cumsum(nf, dtype=np.int64)[keep]
    nf, rows = nf[keep].astype(np.int64), rows[keep]
    pos = _ranges(int(ix.ef_indptr[code]) + ends - nf, nf)
    forms, cnt = np.asarray(ix.ef_form[pos]), np.asarray(ix.ef_cnt[pos])
    size = max(ix.languages.len(), 1)
    # the entity's few written forms numbered 0..k-1, so the counts below have k x languages
    # bins, not (all forms) x languages (1.2M at 1M articles: most of the time went there)
    eforms = np.unique(np.asarray(known, np.int64))
    lut = np.full(ix.forms.height, -1, np.int64)
    lut[eforms] = np.arange(eforms.size)
    compact = lut[forms]
    if compact.size and compact.min() < 0:  # a table not covering its mentions: count every form seen
        eforms = np.unique(forms).astype(np.int64)
        compact = np.searchsorted(eforms, forms)
    key = compact * size + np.repeat(np.asarray(ix.lang)[rows], nf)
    width = eforms.size * size
    men_c, docs_c = _sums_and_counts(key, cnt, width)
    nz = np.flatnonzero(docs_c)
    return eforms[nz // size] * size + nz % size, men_c[nz], docs_c[nz].astype(np.int64)


def _forms_frame(ix: Index, keys: np.ndarray, men: np.ndarray, docs: np.ndarray) -> pl.DataFrame:
    """surface_forms' frame from (form x language) keys and their counts."""
    size = max(ix.languages.len(), 1)
    fr = ix.forms[pl.Series(keys // size)] if keys.size else ix.forms.clear()
    return (fr.select("surface", "lemma").with_columns(
        pl.Series("language", ix.languages.gather(keys % size)),
        pl.Series("mentions", men.astype(np.int64)), pl.Series("articles", docs.astype(np.int64)))
        .sort(["mentions", "surface"], descending=[True, False]))


def entity_info(ix: Index, entity_ids) -> pl.DataFrame:
    """entity_id, name, entity_type, mention_count, doc_count, names ("lang: name; ...") for
    the given ids (unknown ids left out); corpus-wide counts over originals."""
    codes = ix.entity_codes(tuple(entity_ids))
    codes = codes[codes >= 0]
    e = ix.entities[pl.Series(codes)] if codes.size else ix.entities.clear()
    return e.select("entity_id", "name", "entity_type", "mention_count", "doc_count", "names")


def entity_choices(ix: Index, limit: int = 500) -> pl.DataFrame:
    """The most mentioned entities (entity_id, name, entity_type) for pickers."""
    men = ix.entities["mention_count"].to_numpy()
    codes = _top_codes(men, limit)
    return (_entity_frame(ix, codes, mention_count=men[codes])
            .sort(["mention_count", "name"], descending=[True, False]).head(limit))


# ---------------------------------------------------------------- articles


def _top_entities_of(ix: Index, rows: np.ndarray, top: int) -> pl.DataFrame:
    """pos (index into rows), top_entities (names by mentions, then name)."""
    idx = gather_ranges(ix.ae_indptr, rows)
    lens = ix.ae_indptr[rows + 1] - ix.ae_indptr[rows]
    ents = ix.ae_ent[idx]
    names = ix.entities["name"].gather(pl.Series(ents.astype(np.int64))) if ents.size else pl.Series([], dtype=pl.String)
    return (pl.DataFrame({"pos": np.repeat(np.arange(rows.size), lens), "mentions": ix.ae_cnt[idx].astype(np.int64),
                          "name": names})
            .sort(["pos", "mentions", "name"], descending=[False, True, False])
            .group_by("pos", maintain_order=True).agg(pl.col("name").head(top).alias("top_entities")))


def article_list(ix: Index, f: Filters, limit: int | None = 500, top: int = 5) -> pl.DataFrame:
    """Listed articles, newest first (undated last, then title, doc_id), each with its `top`
    entities by mentions and a `duplicate` mark (copies appear only with f.duplicates)."""
    rows = selected_rows(ix, f)
    rank = ix.list_rank[rows]
    if limit and rows.size > limit:
        keep = np.argpartition(rank, limit - 1)[:limit]
        rows, rank = rows[keep], rank[keep]
    rows = rows[np.argsort(rank, kind="stable")]
    df = _article_rows(ix, rows, LIST_COLUMNS).with_row_index("pos")
    tops = _top_entities_of(ix, rows, top)
    return (df.join(tops, on="pos", how="left")
            .with_columns(pl.col("top_entities").fill_null(pl.lit([], dtype=pl.List(pl.String))),
                          pl.col("duplicate_of").is_not_null().alias("duplicate"))
            .sort("pos").drop("pos"))


def export_frame(ix: Index, f: Filters, rows: np.ndarray | None = None) -> pl.DataFrame:
    """Listed articles' metadata plus their entity lists (names, ids, types, mentions), in
    store order; `rows` (from selected_rows) to export a slice at a time."""
    rows = selected_rows(ix, f) if rows is None else np.asarray(rows, dtype=np.int64)
    df = (_article_rows(ix, rows, LIST_COLUMNS).with_columns(_story_ids(ix, rows))
          .with_row_index("pos"))
    idx = gather_ranges(ix.ae_indptr, rows)
    lens = ix.ae_indptr[rows + 1] - ix.ae_indptr[rows]
    ents = ix.ae_ent[idx].astype(np.int64)
    e = ix.entities[pl.Series(ents)] if ents.size else ix.entities.clear()
    pairs = (e.select("entity_id", "name", "entity_type")
             .with_columns(pl.Series("pos", np.repeat(np.arange(rows.size), lens).astype(np.uint32)),
                           pl.Series("entity_mentions", ix.ae_cnt[idx].astype(np.int64)))
             .sort(["pos", "entity_mentions", "name"], descending=[False, True, False])
             .group_by("pos", maintain_order=True)
             .agg(pl.col("name").alias("entities"), pl.col("entity_id").alias("entity_ids"),
                  pl.col("entity_type").alias("entity_types"), "entity_mentions"))
    return df.join(pairs, on="pos", how="left").sort("pos").drop("pos")


def flatten_lists(df: pl.DataFrame) -> pl.DataFrame:
    """For CSV: every list column joined with '; ' (CSV has no lists)."""
    return df.with_columns(
        pl.col(c).cast(pl.List(pl.String)).list.join("; ") for c, dt_ in df.schema.items() if isinstance(dt_, pl.List)
    )


def article_meta(ix: Index, doc_id: str) -> pl.DataFrame:
    """All metadata (no text) of one article, with its evidence columns (one row, or none
    for an unknown id), read from its Parquet row group only."""
    from presslens import store

    return index_mod.read_article(ix, doc_id, [*store.ARTICLE_LIST_COLUMNS, "cited_spans"])


def article_mentions(ix: Index, doc_id: str) -> pl.DataFrame:
    """Mentions of one article with entity names: start, end, surface, lemma, entity_id,
    entity_type, name (read from the mention table's row groups holding that doc_id)."""
    m = index_mod.read_mentions(ix, doc_id)
    codes = ix.entity_codes(m["entity_id"].fill_null("").to_list())
    known = pl.Series("known", codes >= 0, dtype=pl.Boolean)
    names = ix.entities["name"].gather(pl.Series(np.where(codes >= 0, codes, 0))) if ix.n_entities and codes.size \
        else pl.Series([None] * codes.size, dtype=pl.String)
    return (m.with_columns(pl.when(known).then(names).otherwise(pl.col("surface")).alias("name"))
            .select("start", "end", "surface", "lemma", "entity_id", "entity_type", "name").sort("start"))


# ---------------------------------------------------------------- stories (the Stories page)

# Article columns the story views need (presslens.story_view's input).
STORY_COLUMNS = ["doc_id", "published", "outlet", "language", "title", "duplicate_of"]


def _story_ids(ix: Index, rows: np.ndarray) -> pl.Series:
    """The story id of each article row."""
    sid = ix.stories.gather(pl.Series(np.asarray(ix.story)[rows].astype(np.int64))) if rows.size \
        else pl.Series([], dtype=pl.String)
    return pl.Series("story_id", sid, dtype=pl.String)


def _story_frame(ix: Index, rows: np.ndarray) -> pl.DataFrame:
    """story_view's article input for the given rows: STORY_COLUMNS plus story_id, the
    unknown outlet as null (it is not an outlet)."""
    df = _article_rows(ix, rows, STORY_COLUMNS)
    return df.with_columns(_story_ids(ix, rows),
                           pl.when(pl.col("outlet") == UNKNOWN_OUTLET).then(None).otherwise(pl.col("outlet")).alias("outlet"))


# The most articles a story label file holds (story_labels): its labels are corrected by hand.
LABEL_MAX = 2_000


def story_labels(ix: Index, f: Filters) -> pl.DataFrame:
    """The articles in view as a story label file for `python -m presslens.eval stories`
    (eval.read_story_gold): path and story (the grouping's story id, for the analyst to correct),
    then title, outlet, published and language to read them by; each story's articles together,
    by date. Copies are left out, as the grouping and its evaluation leave them out."""
    rows = selected_rows(ix, f.with_(duplicates=False))
    df = _article_rows(ix, rows, ["path", "title", "outlet", "published", "language"])
    return (df.with_columns(_story_ids(ix, rows).alias("story"))
            .select("path", "story", "title", "outlet", "published", "language")
            .sort("story", "published", "path", nulls_last=True))


def story_list(ix: Index, f: Filters, limit: int = 50, min_size: int = 2) -> pl.DataFrame:
    """The largest stories among the counted articles (story_view.largest_stories): sizes
    by a bincount over story codes, then the few biggest stories' rows only."""
    from presslens import story_view

    m = counted_mask(ix, f)
    size = ix.stories.len() if ix.stories is not None else 0
    story = np.asarray(ix.story)
    counts = np.bincount(story[m], minlength=size) if size else np.zeros(0, np.int64)
    counts = np.where(counts >= min_size, counts, 0)
    top = _top_codes(counts, limit)
    if limit and top.size > limit:
        # Ties at the cut (thousands of stories of two articles, say): the page's order is
        # size, then number of outlets, then story id, so the tied stories' outlets are
        # counted from the outlet codes and only the first `limit` stories' rows are read
        # (reading every tied story's rows took ~0.4 s at 1M)
        n_outlets = _spread(ix, np.flatnonzero(m & _lut(size, top)[story]), "outlets", size)
        top = top[np.lexsort((top, -n_outlets[top], -counts[top]))[:limit]]  # story codes sort as the ids
    rows = np.flatnonzero(m & _lut(size, top)[story]) if top.size else np.zeros(0, np.int64)
    return story_view.largest_stories(_story_frame(ix, rows).lazy(), limit, min_size)


def _spread(ix: Index, rows: np.ndarray, field: str, size: int) -> np.ndarray:
    """Per story code (`size` of them): how many distinct known outlets ("outlets": the unknown
    outlet is none, as in _known_outlets) or languages ("languages": undetermined is none) the
    article `rows` have."""
    codes = np.asarray(ix.outlet if field == "outlets" else ix.lang)[rows].astype(np.int64)
    names = ix.outlets if field == "outlets" else ix.languages
    known = ~np.isin(codes, _lookup(names, (UNKNOWN_OUTLET if field == "outlets" else UNDETERMINED,)))
    n_codes = max(names.len(), 1)
    pairs = np.unique(np.asarray(ix.story)[rows][known].astype(np.int64) * n_codes + codes[known])
    return np.bincount(pairs // n_codes, minlength=size)


def _spanning(ix: Index, field: str) -> np.ndarray:
    """Per story code: True when the story's originals, in the whole store, come from at least
    two known outlets ("outlets") or are in at least two languages ("languages")."""
    def compute() -> np.ndarray:
        size = ix.stories.len() if ix.stories is not None else 0
        return _spread(ix, np.flatnonzero(~ix.dup), field, size) >= 2

    return ix.memo(("spanning", field), compute, keep=True)


def story_timeline(ix: Index, f: Filters) -> pl.DataFrame:
    """The chosen story's listed articles in date order with the first publisher marked
    (story_view.story_timeline), with each article's `part` when the story is split; empty when
    no story is chosen."""
    from presslens import story_view

    rows = selected_rows(ix, f) if f.story else np.zeros(0, np.int64)
    out = story_view.story_timeline(_story_frame(ix, rows).lazy(), f.viewed_stories)
    if f.story and f.split is not None:  # the marks name their part
        out = out.join(story_split(ix, f.story, f.split).select("doc_id", "part"), on="doc_id", how="left",
                       maintain_order="left")
    return out


# Link strengths a story may be split at (the Stories page's choices and its split profile; a
# link's score is the pair model's probability or the rules' similarity, near-copies their text
# similarity). Links below the build's threshold were never made, so lower values change nothing.
SPLIT_STEPS = tuple(round(0.2 + 0.05 * i, 2) for i in range(16))  # 0.2 ... 0.95
# A story with more links than this gets no split profile (one clustering of its links per step:
# ~0.1-0.2 s each at 20,000-90,000 links); a split at one strength still works.
PROFILE_MAX_LINKS = 20_000
# Up to this many links the profile is drawn as soon as the story opens (~0.1 s at most on the
# 100k bench store: 16 clusterings); above it only once the analyst splits the story (0.25-1.2 s
# at 7,000-19,000 links there, `benchmarks/bench_story_split.py`).
PROFILE_EAGER_LINKS = 2_000


def _story_links(ix: Index, story: str) -> pl.DataFrame:
    """The story_links rows of one story, read once per index (store.story_links_of)."""
    from presslens import store

    return ix.memo(("story_links", story), lambda: store.story_links_of(ix.directory, story))


def story_links_count(ix: Index, story: str) -> int:
    """How many links hold `story` together (its story_links rows)."""
    return _story_links(ix, story).height


def story_split_profile(ix: Index, f: Filters) -> pl.DataFrame:
    """How the chosen story falls apart as the link strength rises (story_view.split_profile
    over SPLIT_STEPS): split, parts, largest. Empty without a story, or when the story has more
    than PROFILE_MAX_LINKS links."""
    from presslens import stories, story_view

    if not f.story or story_links_count(ix, f.story) > PROFILE_MAX_LINKS:
        return pl.DataFrame(schema={"split": pl.Float64, "parts": pl.Int64, "largest": pl.Int64})
    originals = _story_members(ix, f.story).filter(pl.col("duplicate_of").is_null())
    return story_view.split_profile(_story_links(ix, f.story), originals, SPLIT_STEPS, stories.scorer().merge_density)


def story_split(ix: Index, story: str, split: float) -> pl.DataFrame:
    """Every article of `story` (duplicates too, whatever the filters) with its part when the
    story is split at link strength `split` (story_view.split_story over the story's links and
    original articles; a duplicate copy takes its original's part): row, doc_id, part,
    part_size. The same parts on every page and with any other filter, so `part` in a link
    always names the same articles."""
    return ix.memo(("story_split", story, split), lambda: _story_split(ix, story, split))


def _story_members(ix: Index, story: str) -> pl.DataFrame:
    """Every article of `story`, copies too, whatever the filters: row, doc_id, published,
    duplicate_of (read once per index)."""
    def compute() -> pl.DataFrame:
        code = _lookup(ix.stories, (story,)) if ix.stories is not None else np.zeros(0, np.int64)
        rows = np.flatnonzero(np.asarray(ix.story) == code[0]) if code.size else np.zeros(0, np.int64)
        return _article_rows(ix, rows, ["doc_id", "published", "duplicate_of"]).with_columns(
            pl.Series("row", rows, dtype=pl.Int64))

    return ix.memo(("story_members", story), compute)


def _story_split(ix: Index, story: str, split: float) -> pl.DataFrame:
    from presslens import stories, story_view

    arts = _story_members(ix, story)
    originals = arts.filter(pl.col("duplicate_of").is_null())
    parts = story_view.split_story(_story_links(ix, story), originals, split, stories.scorer().merge_density)
    by_original = arts.with_columns(pl.coalesce("duplicate_of", "doc_id").alias("original"))
    return (by_original.join(parts.rename({"doc_id": "original"}), on="original", how="inner")
            .select("row", "doc_id", "part", "part_size").sort("row"))


def _part_mask(ix: Index, story: str, split: float, part: int) -> np.ndarray:
    m = np.zeros(ix.n, bool)
    s = story_split(ix, story, split)
    m[s.filter(pl.col("part") == part)["row"].to_numpy()] = True
    return m


def story_parts(ix: Index, f: Filters) -> pl.DataFrame:
    """The parts of the chosen story split at `f.split` (empty without both), each with what
    the analyst needs to tell them apart, from the counted articles in view: part, articles
    (all the part's originals, whatever the view), in_view, first and last publication date,
    languages, outlets and the title of its first article in view."""
    if not f.story or f.split is None:
        return pl.DataFrame(schema={"part": pl.Int64, "articles": pl.Int64, "in_view": pl.UInt32,
                                    "first": pl.Date, "last": pl.Date, "languages": pl.List(pl.String),
                                    "outlets": pl.List(pl.String), "title": pl.String})
    s = story_split(ix, f.story, f.split)
    view = replace(f, part=0)
    m = counted_mask(ix, view)
    rows = s["row"].to_numpy()
    shown = s.filter(pl.Series(m[rows]) if rows.size else pl.Series([], dtype=pl.Boolean))
    arts = _story_frame(ix, shown["row"].to_numpy()).with_columns(shown["part"])
    sizes = s.group_by("part").agg(pl.col("part_size").first().alias("articles"))
    per = (arts.sort("published", "doc_id", nulls_last=True).group_by("part").agg(
        pl.len().alias("in_view"), pl.col("published").min().alias("first"), pl.col("published").max().alias("last"),
        pl.col("language").drop_nulls().unique().sort().alias("languages"),
        pl.col("outlet").drop_nulls().unique().sort().alias("outlets"), pl.col("title").first().alias("title")))
    return sizes.join(per, on="part", how="left").with_columns(pl.col("in_view").fill_null(0)).select(
        "part", pl.col("articles").cast(pl.Int64), "in_view", "first", "last", "languages", "outlets", "title").sort("part")


def story_cut(ix: Index, f: Filters, limit: int = 50) -> pl.DataFrame:
    """The links the split of the chosen story cut (they join two of its parts), strongest
    first, with both articles' titles: title_a, part_a, title_b, part_b, score, shared (the
    entity names and sources the two share)."""
    from presslens import story_view

    if not f.story or f.split is None:
        return pl.DataFrame(schema={"doc_a": pl.String, "title_a": pl.String, "part_a": pl.Int64,
                                    "doc_b": pl.String, "title_b": pl.String, "part_b": pl.Int64,
                                    "score": pl.Float64, "shared": pl.List(pl.String)})
    s = story_split(ix, f.story, f.split)
    cut = story_view.cut_links(_story_links(ix, f.story), s.select("doc_id", "part")).head(limit)
    ends = s.filter(pl.col("doc_id").is_in(pl.concat([cut["doc_a"], cut["doc_b"]]).implode()))
    titles = _article_rows(ix, ends["row"].to_numpy(), ["doc_id", "title"])  # the cut links' articles only
    ids = sorted({e for ents in cut["shared_entities"].to_list() for e in (ents or [])})
    codes = ix.entity_codes(ids)  # the cut links' entities only, not a dict of every entity
    names = {e: ix.entities["name"][int(c)] for e, c in zip(ids, codes) if c >= 0}
    shared = [[names.get(e, e) for e in (ents or [])] + list(srcs or [])
              for ents, srcs in zip(cut["shared_entities"].to_list(), cut["shared_sources"].to_list())]
    return (cut.select("doc_a", "part_a", "doc_b", "part_b", pl.col("score").cast(pl.Float64))
            .with_columns(pl.Series("shared", shared, dtype=pl.List(pl.String)))
            .join(titles.rename({"doc_id": "doc_a", "title": "title_a"}), on="doc_a", how="left", maintain_order="left")
            .join(titles.rename({"doc_id": "doc_b", "title": "title_b"}), on="doc_b", how="left", maintain_order="left")
            .select("doc_a", "title_a", "part_a", "doc_b", "title_b", "part_b", "score", "shared"))


# Related stories (`related_stories`): the chosen story's most telling entities looked up ...
RELATED_ENTITIES = 20
# ... leaving out those named in more than this share of the store (they relate everything; in
# a store so small that the share is under RELATED_MIN_DF articles, none is left out) ...
RELATED_MAX_DF_SHARE = 0.01  # 1M generated store: 18-22 ms a story (at 5%: 37-77 ms, postings of 50k articles)
RELATED_MIN_DF = 20
# ... among the articles within this many days of the story's dates (undated ones always) ...
RELATED_WINDOW_DAYS = 14
# ... and listing this many stories, each with its most specific shared names.
RELATED_LIMIT = 10
RELATED_NAMES = 5


def related_stories(ix: Index, f: Filters, limit: int = RELATED_LIMIT) -> pl.DataFrame:
    """Other stories in view that name what the chosen story names, near its dates: the other
    half of one event the grouping split in two, or what happened next. The story's entities
    are weighed by how many of its articles name them times their rarity (log(1 + N / df)),
    the RELATED_ENTITIES heaviest (named in at most RELATED_MAX_DF_SHARE of the store, or in at
    most RELATED_MIN_DF articles) looked up in the entity postings; each other story scores the rarity
    of the distinct entities it shares. Only counted articles of the view without the story
    (its other filters hold) dated within RELATED_WINDOW_DAYS of the story's dates (or undated).
    Columns: story_id, score, shared (entity names, rarest first), articles (in view), first,
    last, title (its first article in view); best first."""
    empty = pl.DataFrame(schema={"story_id": pl.String, "score": pl.Float64, "shared": pl.List(pl.String),
                                 "articles": pl.Int64, "first": pl.Date, "last": pl.Date, "title": pl.String})
    code = _lookup(ix.stories, (f.story,)) if f.story and ix.stories is not None else np.zeros(0, np.int64)
    if code.size == 0:
        return empty
    story = np.asarray(ix.story).astype(np.int64)
    viewed = _lut(ix.stories.len(), np.concatenate([code, _lookup(ix.stories, f.joined)]))
    mine = np.flatnonzero(viewed[story] & ~ix.dup)
    ents = np.asarray(ix.ae_ent)[gather_ranges(ix.ae_indptr, mine)].astype(np.int64)
    if ents.size == 0:
        return empty
    uniq, cnt = np.unique(ents, return_counts=True)
    indptr = np.asarray(ix.ea_indptr)
    df = (indptr[uniq + 1] - indptr[uniq]).astype(np.float64)
    rarity = np.log1p(ix.n / np.maximum(df, 1.0))
    ok = df <= max(RELATED_MAX_DF_SHARE * ix.n, RELATED_MIN_DF)
    weight = np.where(ok, cnt * rarity, -1.0)
    pick = np.argsort(-weight, kind="stable")[:RELATED_ENTITIES]
    pick = pick[weight[pick] > 0]
    chosen, chosen_rarity = uniq[pick], rarity[pick]
    lens = indptr[chosen + 1] - indptr[chosen]
    rows = np.asarray(ix.ea_row)[gather_ranges(ix.ea_indptr, chosen)].astype(np.int64)
    ent_at = np.repeat(np.arange(chosen.size), lens)
    view = counted_mask(ix, f.with_(story="", joined=()))
    day = np.asarray(ix.day).astype(np.int64)
    my_days = day[mine][day[mine] != UNDATED_DAY]
    near = (day[rows] == UNDATED_DAY) if my_days.size else np.ones(rows.size, bool)
    if my_days.size:
        near |= (day[rows] >= my_days.min() - RELATED_WINDOW_DAYS) & (day[rows] <= my_days.max() + RELATED_WINDOW_DAYS)
    keep = view[rows] & ~viewed[story[rows]] & near
    pairs = pl.DataFrame({"code": story[rows][keep], "e": ent_at[keep]}).unique()
    if pairs.height == 0:
        return empty
    e = pairs["e"].to_numpy()
    pairs = pairs.with_columns(pl.Series("rarity", chosen_rarity[e]),
                               ix.entities["name"].gather(pl.Series(chosen[e])).alias("name"))
    scores = pairs.group_by("code").agg(pl.col("rarity").sum().alias("score")).sort(
        ["score", "code"], descending=[True, False]).head(limit)
    top = scores["code"].to_numpy().astype(np.int64)
    shared = (pairs.filter(pl.col("code").is_in(scores["code"].implode()))
              .sort(["code", "rarity", "name"], descending=[False, True, False])
              .group_by("code", maintain_order=True).agg(pl.col("name").head(RELATED_NAMES).alias("shared")))
    size = ix.stories.len()
    arts = _story_frame(ix, np.flatnonzero(view & _lut(size, top)[story]))
    per = (arts.sort("published", "doc_id", nulls_last=True).group_by("story_id").agg(
        pl.len().cast(pl.Int64).alias("articles"), pl.col("published").min().alias("first"),
        pl.col("published").max().alias("last"), pl.col("title").first().alias("title")))
    return (scores.with_columns(ix.stories.gather(pl.Series(top)).alias("story_id"))
            .join(shared, on="code", how="left", maintain_order="left")
            .join(per, on="story_id", how="left", maintain_order="left")
            .select("story_id", pl.col("score").cast(pl.Float64), "shared", "articles", "first", "last", "title"))


def story_shared(ix: Index, f: Filters) -> pl.DataFrame:
    """The entities, sources, figures and dates shared by links between the chosen story's
    counted articles (story_view.story_shared over the version's story_links table)."""
    from presslens import store, story_view

    rows = np.flatnonzero(counted_mask(ix, f)) if f.story else np.zeros(0, np.int64)
    doc_ids = ix.article_rows(rows, ["doc_id"])["doc_id"].to_list()
    # the table's files are sorted by story_id: their row-group statistics let the reader skip
    # every other story's rows instead of scanning all the links
    links = (pl.concat([_story_links(ix, sid) for sid in f.viewed_stories]) if f.story
             else store.empty("story_links")).lazy()
    return story_view.story_shared(links, doc_ids, ix.entities.select("entity_id", "name").lazy())


def story_outlets(ix: Index, f: Filters) -> pl.DataFrame:
    """Per outlet of the chosen story, the entities only its articles name
    (story_view.outlet_differences, mentions from the article -> entity postings)."""
    from presslens import story_view

    rows = np.flatnonzero(counted_mask(ix, f)) if f.story else np.zeros(0, np.int64)
    arts = _story_frame(ix, rows)
    idx = gather_ranges(ix.ae_indptr, rows)
    lens = ix.ae_indptr[rows + 1] - ix.ae_indptr[rows]
    ents = ix.ae_ent[idx].astype(np.int64)
    de = pl.DataFrame({
        "doc_id": arts["doc_id"].gather(pl.Series(np.repeat(np.arange(rows.size), lens).astype(np.int64))),
        "entity_id": ix.entities["entity_id"].gather(pl.Series(ents)) if ents.size else pl.Series([], dtype=pl.String),
        "mentions": ix.ae_cnt[idx].astype(np.int64),
    }, schema={"doc_id": pl.String, "entity_id": pl.String, "mentions": pl.Int64})
    return story_view.outlet_differences(arts.lazy(), de.lazy(), f.viewed_stories,
                                         ix.entities.select("entity_id", "name").lazy())


# ---------------------------------------------------------------- data health


def health_counts(ix: Index, f: Filters, below: float = 0.8) -> pl.DataFrame:
    """One row of what to know before trusting the charts, over the articles in view:
    articles (counted), duplicates (copies matching the filters, never counted), undated,
    uncertain (language confidence < `below`), undetermined (language "und"), mixed
    (mixed-language), unknown_outlet."""
    m = counted_mask(ix, f)
    und = _lookup(ix.languages, (UNDETERMINED,))
    unknown = _lookup(ix.outlets, (UNKNOWN_OUTLET,))
    return pl.DataFrame({
        "articles": [int(m.sum())],
        "duplicates": [int((_base_mask(ix, f) & ix.dup).sum())],
        "undated": [int((ix.day[m] == UNDATED_DAY).sum())],
        "uncertain": [int((ix.conf[m] < below).sum())],
        "undetermined": [int((ix.lang[m] == und[0]).sum()) if und.size else 0],
        "mixed": [int(ix.mixed[m].sum())],
        "unknown_outlet": [int((ix.outlet[m] == unknown[0]).sum()) if unknown.size else 0],
    }, schema={k: pl.Int64 for k in ("articles", "duplicates", "undated", "uncertain", "undetermined", "mixed",
                                     "unknown_outlet")})


def date_clusters(ix: Index, f: Filters, min_articles: int = 5, share: float = 0.8) -> pl.DataFrame:
    """Outlets whose dated articles in view fall on one day suspiciously often (a scrape
    date rather than publication dates): outlet, articles (dated), day (the commonest),
    on_day, share; outlets with at least `min_articles` dated articles and at least `share`
    of them on that day, biggest first. The unknown outlet is not an outlet: left out."""
    m = counted_mask(ix, f) & (ix.day != UNDATED_DAY)
    per = (pl.DataFrame({"o": np.asarray(ix.outlet)[m], "day": np.asarray(ix.day)[m]})
           .group_by("o", "day").agg(pl.len().alias("on_day"))
           .with_columns(pl.col("on_day").sum().over("o").alias("articles"))
           .sort(["o", "on_day", "day"], descending=[False, True, False])
           .group_by("o", maintain_order=True).first()
           .filter((pl.col("articles") >= min_articles) & (pl.col("on_day") >= share * pl.col("articles"))))
    out = per.select(pl.Series("outlet", ix.outlets.gather(per["o"].cast(pl.Int64)) if per.height else [], pl.String),
                     pl.col("articles").cast(pl.Int64), pl.col("day").cast(pl.Date),
                     pl.col("on_day").cast(pl.Int64), (pl.col("on_day") / pl.col("articles")).alias("share"))
    return out.filter(pl.col("outlet") != UNKNOWN_OUTLET).sort(["articles", "outlet"], descending=[True, False])


# ---------------------------------------------------------------- vocabulary (for URL validation)


def vocabulary(ix: Index) -> pl.DataFrame:
    """One row of lists: languages, outlets, sources known to the store (small sets)."""
    return pl.DataFrame({"languages": [ix.languages.to_list()], "outlets": [ix.outlets.to_list()],
                         "sources": [ix.sources.to_list()]},
                        schema={"languages": pl.List(pl.String), "outlets": pl.List(pl.String),
                                "sources": pl.List(pl.String)})


def existing(ix: Index, column: str, values) -> pl.DataFrame:
    """Which of `values` are known entity ids (column "entity_id"), doc ids ("doc_id") or
    story ids ("story_id")."""
    values = list(values)
    if column == "story_id":
        found = np.zeros(len(values), bool) if ix.stories is None else np.asarray(
            [_lookup(ix.stories, (v,)).size > 0 for v in values], bool)  # a URL asks for one story
    else:
        found = (ix.entity_codes(values) if column == "entity_id" else ix.rows_of(values)) >= 0
    return pl.DataFrame({column: pl.Series(values, dtype=pl.String).filter(pl.Series(found, dtype=pl.Boolean))})


__all__ = [
    "Filters", "UNKNOWN_OUTLET", "UNDETERMINED", "UNDATED", "ENTITY_TYPES", "LIST_COLUMNS", "selected_rows",
    "counted_mask", "entity_counts", "summary", "entity_total", "granularity", "over_time", "outlet_counts", "language_counts",
    "outlet_language", "source_counts", "outlet_source", "uncited_count", "confidence_histogram", "low_confidence",
    "mixed_articles", "top_entities", "entity_type_counts", "entity_split", "entity_over_time", "cooccurring",
    "surface_forms", "entity_info", "entity_choices", "article_list", "export_frame", "flatten_lists",
    "article_meta", "article_mentions", "vocabulary", "existing", "story_list", "story_timeline", "story_shared",
    "story_split", "story_parts", "story_cut", "story_split_profile", "story_links_count", "SPLIT_STEPS", "related_stories",
    "story_outlets", "health_counts", "date_clusters",
]
