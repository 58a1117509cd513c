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
- publication dates: two articles dated more than `MAX_DAYS_APART` apart are never linked;
- near-duplicate text (word 5-gram shingles) is the strongest evidence, within one language.

Scale: never all pairs. Each article gets two MinHash signatures (its evidence features and
its text shingles); candidate pairs are the articles that collide in at least one LSH band.
Only candidates are scored. Every step is columnar (Polars joins, NumPy reductions) over
integer codes, so a million articles fit in memory (see benchmarks/bench_stories.py).
Incremental: the signatures, features and links are kept in `StoryState`; with a previous
state only the new articles are hashed and looked up against all bands, links of removed
articles are dropped, and the rest are kept (their scores used the IDF of the run that
made them; documented in docs/STORIES.md).

Stories are the connected components of the links; a story's id is the smallest doc_id in
it (deterministic, and unchanged when unrelated articles are added).
"""
from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from presslens import store

# ---------------------------------------------------------------- parameters
# Tuned on the "tune" half of data/eval/stories_gold.csv only (see docs/STORIES.md).

# Two articles dated further apart than this report different events (a strike and the
# next strike a month later share every entity); follow-ups a few days later still group.
MAX_DAYS_APART = 4
# IDF-weighted cosine of the evidence features above which two articles are one story.
LINK_THRESHOLD = 0.15
# At least this many shared informative features (IDF above MIN_IDF): one shared rare
# name alone is not an event.
MIN_SHARED = 2
# Features in more than ~1/e^MIN_IDF of the articles carry no event evidence (Ryanair in a
# Ryanair corpus); they still count in the cosine with their small weight.
MIN_IDF = 1.0
# Multiplier of the IDF weight per kind of evidence: a calendar date or a figure written in
# both texts says "same event" more than a shared name does (tuned on the tune split).
KIND_WEIGHT = {"e": 1.5, "s": 1.0, "n": 1.0, "d": 3.0, "l": 4.0}
# The title and lead state the event: a figure or date found there also counts as an "l"
# feature (ln:250, ld:08-10) on top of its ordinary one.
LEAD_CHARS = 400
# Two groups of articles merge into one story only when this share of the pairs between
# them are linked (see `cluster`).
MERGE_DENSITY = 0.15
# Estimated Jaccard of 5-gram shingles above which two same-language texts are near-duplicates.
NEAR_DUP_JACCARD = 0.5
SHINGLE_WORDS = 5

# MinHash/LSH shape. Evidence features: 64 hashes in 32 bands of 2 rows, so a pair with
# Jaccard 0.3 is a candidate with probability 1-(1-0.3^2)^32 = 0.95, one with 0.1 with 0.28.
FEAT_PERM, FEAT_ROWS = 64, 2
# Text shingles: 32 hashes in 16 bands of 2 rows (Jaccard 0.5 -> candidate with p = 0.99).
TEXT_PERM, TEXT_ROWS = 32, 2
# Buckets holding more articles than this are skipped: a bucket that large is a feature
# everybody shares, and it would make O(size^2) pairs.
MAX_BUCKET = 200
# Candidate pairs scored per chunk (bounds the memory of the feature join).
PAIR_CHUNK = 400_000
# Seeds of the hash families: fixed so that signatures persisted by one run match the next.
_RNG = np.random.default_rng(20261130)
_FEAT_A = _RNG.integers(1, 2**63, FEAT_PERM, dtype=np.uint64) | np.uint64(1)
_FEAT_B = _RNG.integers(0, 2**63, FEAT_PERM, dtype=np.uint64)
_TEXT_A = _RNG.integers(1, 2**63, TEXT_PERM, dtype=np.uint64) | np.uint64(1)
_TEXT_B = _RNG.integers(0, 2**63, TEXT_PERM, dtype=np.uint64)
# Bumped when features or hashing change: a state with another version is rebuilt from scratch.
STATE_VERSION = "1"

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
_MONTH_STEMS = sorted(((s, m) for m, stems in _MONTHS.items() for s in stems), key=lambda x: -len(x[0]))
_MONTH_RE = "|".join(re.escape(s) for s, _ in _MONTH_STEMS)
# "25 июля", "25-26 июля" (the second day), "25 липня", "25 iulie"
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:\s*[-–]\s*\d{{1,2}})?\s+({_MONTH_RE})\w*", re.IGNORECASE)
_DAY_MONTH_RANGE = re.compile(rf"\b(\d{{1,2}})\s*[-–]\s*(\d{{1,2}})\s+({_MONTH_RE})\w*", re.IGNORECASE)
# "July 25", "Aug. 10"
_MONTH_DAY = re.compile(rf"\b({_MONTH_RE})\w*\.?\s+(\d{{1,2}})\b", re.IGNORECASE)
# "10.08.2018", "10/08/2018"
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{2,4})\b")
# Times of day (08:46) are page furniture, not evidence.
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
# A number with thousands separators or a decimal part, then an optional scale word.
_NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:[ \u00a0\u202f.,]\d{3})+|\d+)(?:[.,](\d+))?(?![\w])"
    r"(?:\s*(тыс|тис|thousand|mii|млн|мільйон|million|milioane|млрд|мільярд|billion|miliarde)\w*\.?)?",
    re.IGNORECASE,
)
_SCALE = {"тыс": 1e3, "тис": 1e3, "thousand": 1e3, "mii": 1e3, "млн": 1e6, "мільйон": 1e6,
          "million": 1e6, "milioane": 1e6, "млрд": 1e9, "мільярд": 1e9, "billion": 1e9, "miliarde": 1e9}


def _month_of(word: str) -> int | None:
    w = word.casefold()
    for stem, m in _MONTH_STEMS:
        if w.startswith(stem):
            return m
    return None


def numbers_and_dates(text: str) -> set[str]:
    """The numbers ("n:230000") and calendar dates ("d:07-25") written in `text`.

    Language-independent: "230 тысяч", "230 000" and "230,000" are all n:230000;
    "25 июля", "25 липня", "July 25" and "25.07.2018" are all d:07-25. Numbers below 10
    are dropped (counts of everything), and so are times of day and the parts of dates.
    """
    out: set[str] = set()
    taken: list[tuple[int, int]] = []
    for m in _DAY_MONTH_RANGE.finditer(text):
        mon = _month_of(m.group(3))
        if mon:
            for d in (m.group(1), m.group(2)):
                if 1 <= int(d) <= 31:
                    out.add(f"d:{mon:02d}-{int(d):02d}")
            taken.append(m.span())
    for m in _DAY_MONTH.finditer(text):
        mon, d = _month_of(m.group(2)), int(m.group(1))
        if mon and 1 <= d <= 31:
            out.add(f"d:{mon:02d}-{d:02d}")
            taken.append(m.span())
    for m in _MONTH_DAY.finditer(text):
        mon, d = _month_of(m.group(1)), int(m.group(2))
        if mon and 1 <= d <= 31:
            out.add(f"d:{mon:02d}-{d:02d}")
            taken.append(m.span())
    for m in _NUMERIC_DATE.finditer(text):
        d, mon = int(m.group(1)), int(m.group(2))
        if 1 <= d <= 31 and 1 <= mon <= 12:
            out.add(f"d:{mon:02d}-{d:02d}")
            taken.append(m.span())
    taken.extend(m.span() for m in _TIME.finditer(text))
    taken.sort()
    starts = [s for s, _ in taken]
    import bisect

    for m in _NUMBER.finditer(text):
        s = m.start()
        i = bisect.bisect_right(starts, s) - 1
        if i >= 0 and taken[i][0] <= s < taken[i][1]:
            continue
        whole = re.sub(r"[ \u00a0\u202f.,]", "", m.group(1))
        value = float(whole + ("." + m.group(2) if m.group(2) else ""))
        if m.group(3):
            scale = next((v for k, v in _SCALE.items() if m.group(3).casefold().startswith(k)), 1.0)
            value *= scale
        if value < 10:
            continue
        out.add(f"n:{value:g}" if value < 1e15 else f"n:{value:.3e}")
    return out


# ---------------------------------------------------------------- text shingles

_WORD = re.compile(r"\w+", re.UNICODE)


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


def shingle_hashes(text: str) -> np.ndarray:
    """Stable 64-bit hashes of the word 5-grams of `text` (case-folded), unique."""
    words = _WORD.findall(text.casefold())
    if not words:
        return np.zeros(0, dtype=np.uint64)
    wh = np.fromiter((zlib.crc32(w.encode("utf-8", "surrogatepass")) for w in words), dtype=np.uint64,
                     count=len(words))
    k = min(SHINGLE_WORDS, len(wh))
    h = np.zeros(len(wh) - k + 1, dtype=np.uint64)
    mult = np.uint64(0x9E3779B97F4A7C15)
    for i in range(k):
        h = h * mult + wh[i:len(wh) - k + 1 + i]
    return np.unique(h)


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


def _stable_hash64(strings: list[str]) -> np.ndarray:
    return np.fromiter((int.from_bytes(hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                                       "little") for s in strings), dtype=np.uint64, count=len(strings))


# ---------------------------------------------------------------- features

FEATURES_SCHEMA = {"doc_id": pl.String, "feature": pl.String}
SIGNATURES_SCHEMA = {
    "doc_id": pl.String,
    "language": pl.String,
    "published": pl.Date,
    "feat_bands": pl.List(pl.UInt64),
    "text_sig": pl.List(pl.UInt32),
    "text_bands": pl.List(pl.UInt64),
}
LINKS_SCHEMA = store.STORY_LINKS_SCHEMA
STORY_IDS_SCHEMA = {"doc_id": pl.String, "story_id": pl.String}


def article_features(articles: pl.DataFrame, doc_entities: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Evidence features and text signatures of some articles.

    In: articles (doc_id, language, published, text, boilerplate, cited_sources) and their
    doc_entities. Out: (features: doc_id, feature — "e:<entity_id>", "s:<source>", "n:<number>",
    "d:<MM-DD>"; signatures: SIGNATURES_SCHEMA with the LSH band keys of both signatures).
    The text is only read here, so a caller can feed articles in batches.
    """
    docs = articles["doc_id"].to_list()
    texts = articles["text"].to_list()
    bps = articles["boilerplate"].to_list() if "boilerplate" in articles.columns else [None] * len(docs)
    srcs = articles["cited_sources"].to_list() if "cited_sources" in articles.columns else [None] * len(docs)
    feat_rows_doc: list[str] = []
    feat_rows: list[str] = []
    shingles: list[np.ndarray] = []
    for did, text, bp, src in zip(docs, texts, bps, srcs):
        core = core_text(text or "", bp)
        for f in numbers_and_dates(core):
            feat_rows_doc.append(did)
            feat_rows.append(f)
        for f in numbers_and_dates(core[:LEAD_CHARS]):
            feat_rows_doc.append(did)
            feat_rows.append("l" + f)
        for s in set(src or ()):
            feat_rows_doc.append(did)
            feat_rows.append("s:" + s.casefold())
        shingles.append(shingle_hashes(core))
    feats = pl.DataFrame({"doc_id": feat_rows_doc, "feature": feat_rows}, schema=FEATURES_SCHEMA)
    ents = (doc_entities.join(articles.select("doc_id"), on="doc_id", how="semi")
            .select("doc_id", ("e:" + pl.col("entity_id")).alias("feature")))
    feats = pl.concat([feats, ents]).unique().sort("doc_id", "feature")
    sigs = _signatures(articles.select("doc_id", "language", "published"), feats, shingles)
    return feats, sigs


def _signatures(meta: pl.DataFrame, feats: pl.DataFrame, shingles: list[np.ndarray]) -> pl.DataFrame:
    """SIGNATURES_SCHEMA rows for `meta`'s articles from their features and shingle hashes."""
    n = meta.height
    order = pl.DataFrame({"doc_id": meta["doc_id"], "_i": np.arange(n, dtype=np.uint32)})
    uniq = feats["feature"].unique()
    fh = pl.DataFrame({"feature": uniq, "_h": _stable_hash64(uniq.to_list())}, schema={"feature": pl.String, "_h": pl.UInt64})
    fi = feats.join(order, on="doc_id").join(fh, on="feature").sort("_i")
    counts = np.bincount(fi["_i"].to_numpy(), minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    fsig = minhash(fi["_h"].to_numpy(), offsets, _FEAT_A, _FEAT_B)
    fb = band_hashes(fsig, FEAT_ROWS)
    fb[counts == 0] = 0  # no features: no bands (0 is dropped at lookup)
    tcounts = np.array([len(s) for s in shingles], dtype=np.int64)
    toffsets = np.concatenate([[0], np.cumsum(tcounts)])
    tvals = np.concatenate(shingles) if shingles else np.zeros(0, dtype=np.uint64)
    tsig = minhash(tvals, toffsets, _TEXT_A, _TEXT_B)
    tb = band_hashes(tsig, TEXT_ROWS)
    tb[tcounts == 0] = 0
    return pl.DataFrame({
        "doc_id": meta["doc_id"],
        "language": meta["language"],
        "published": meta["published"],
        "feat_bands": pl.Series(fb.tolist(), dtype=pl.List(pl.UInt64)) if n else pl.Series([], dtype=pl.List(pl.UInt64)),
        "text_sig": pl.Series(tsig.tolist(), dtype=pl.List(pl.UInt32)) if n else pl.Series([], dtype=pl.List(pl.UInt32)),
        "text_bands": pl.Series(tb.tolist(), dtype=pl.List(pl.UInt64)) if n else pl.Series([], dtype=pl.List(pl.UInt64)),
    }, schema=SIGNATURES_SCHEMA)


# ---------------------------------------------------------------- state

@dataclass(frozen=True)
class StoryState:
    """What an incremental run needs from the previous one (persisted as three Parquet files)."""

    signatures: pl.DataFrame  # SIGNATURES_SCHEMA, one row per grouped (non-duplicate) article
    features: pl.DataFrame  # FEATURES_SCHEMA
    links: pl.DataFrame  # LINKS_SCHEMA

    def save(self, directory: str | Path) -> None:
        """Write story_signatures/story_features/story_links.parquet into `directory`."""
        d = Path(directory)
        self.signatures.write_parquet(d / "story_signatures.parquet", compression="zstd")
        self.features.write_parquet(d / "story_features.parquet", compression="zstd")
        self.links.write_parquet(d / "story_links.parquet", compression="zstd")
        (d / "story_state_version").write_text(STATE_VERSION, encoding="utf-8")

    @staticmethod
    def load(directory: str | Path) -> "StoryState | None":
        """The state saved in `directory`, or None when missing or made by another version."""
        d = Path(directory)
        try:
            if (d / "story_state_version").read_text(encoding="utf-8").strip() != STATE_VERSION:
                return None
            return StoryState(pl.read_parquet(d / "story_signatures.parquet"),
                              pl.read_parquet(d / "story_features.parquet"),
                              pl.read_parquet(d / "story_links.parquet"))
        except (OSError, pl.exceptions.PolarsError):
            return None


def empty_state() -> StoryState:
    return StoryState(pl.DataFrame(schema=SIGNATURES_SCHEMA), pl.DataFrame(schema=FEATURES_SCHEMA),
                      pl.DataFrame(schema=LINKS_SCHEMA))


# ---------------------------------------------------------------- candidates

def _band_pairs(bands_all: np.ndarray, new_mask: np.ndarray) -> np.ndarray:
    """Candidate pairs (i < j, as uint64 keys i<<32|j) of rows colliding in some band,
    where at least one of the two rows is new. `bands_all` is [n, n_bands] uint64."""
    n, nb = bands_all.shape
    keys: list[np.ndarray] = []
    idx = np.arange(n, dtype=np.uint32)
    for k in range(nb):
        df = pl.DataFrame({"h": bands_all[:, k], "i": idx, "new": new_mask}).filter(pl.col("h") != 0)
        # only buckets that contain a new row and are small enough
        buckets = (df.group_by("h").agg(pl.len().alias("size"), pl.col("new").any().alias("has_new"))
                   .filter((pl.col("size") > 1) & (pl.col("size") <= MAX_BUCKET) & pl.col("has_new")))
        if buckets.height == 0:
            continue
        m = df.join(buckets.select("h"), on="h")
        pairs = (m.join(m, on="h", suffix="_b")
                 .filter((pl.col("i") < pl.col("i_b")) & (pl.col("new") | pl.col("new_b"))))
        if pairs.height:
            keys.append((pairs["i"].to_numpy().astype(np.uint64) << np.uint64(32)) | pairs["i_b"].to_numpy().astype(np.uint64))
    if not keys:
        return np.zeros(0, dtype=np.uint64)
    return np.unique(np.concatenate(keys))


# ---------------------------------------------------------------- scoring

def _score_pairs(pairs: np.ndarray, sigs: pl.DataFrame, fcodes: pl.DataFrame, idf: pl.DataFrame,
                 norms: np.ndarray) -> pl.DataFrame:
    """Score candidate pairs; returns the ones that link, with their evidence (LINKS_SCHEMA)."""
    out: list[pl.DataFrame] = []
    text_sig = np.array(sigs["text_sig"].to_list(), dtype=np.uint32).reshape(sigs.height, TEXT_PERM) if sigs.height else np.zeros((0, TEXT_PERM), np.uint32)
    tempty = text_sig[:, 0] == np.iinfo(np.uint32).max
    lang = sigs["language"].fill_null("").to_numpy()
    pub = sigs["published"].cast(pl.Int32).to_numpy()  # days since epoch, null -> masked
    pub_null = sigs["published"].is_null().to_numpy()
    doc_ids = sigs["doc_id"]
    for c in range(0, len(pairs), PAIR_CHUNK):
        chunk = pairs[c:c + PAIR_CHUNK]
        a = (chunk >> np.uint64(32)).astype(np.int64)
        b = (chunk & np.uint64(0xFFFFFFFF)).astype(np.int64)
        # date gate
        both_dated = ~pub_null[a] & ~pub_null[b]
        days = np.where(both_dated, np.abs(np.nan_to_num(pub[a].astype(np.float64)) - np.nan_to_num(pub[b].astype(np.float64))), -1)
        ok = ~(both_dated & (days > MAX_DAYS_APART))
        a, b, days = a[ok], b[ok], days[ok]
        if len(a) == 0:
            continue
        tsim = (text_sig[a] == text_sig[b]).mean(axis=1)
        tsim[tempty[a] | tempty[b]] = 0.0
        same_lang = lang[a] == lang[b]
        near_dup = same_lang & (tsim >= NEAR_DUP_JACCARD)
        p = pl.DataFrame({"a": a.astype(np.uint32), "b": b.astype(np.uint32)}).with_row_index("pair")
        shared = (p.join(fcodes.rename({"i": "a"}), on="a")
                  .join(fcodes.rename({"i": "b"}), on=["b", "f"], how="semi")
                  .join(idf, on="f"))
        agg = shared.group_by("pair").agg(
            (pl.col("w") ** 2).sum().alias("dot"),
            (pl.col("w") >= MIN_IDF).sum().alias("n_info"),
            pl.col("f"),
        )
        full = p.join(agg, on="pair", how="left").sort("pair").with_columns(
            pl.col("dot").fill_null(0.0), pl.col("n_info").fill_null(0))
        dot = full["dot"].to_numpy()
        cos = dot / np.maximum(norms[a] * norms[b], 1e-12)
        evidence = (cos >= LINK_THRESHOLD) & (full["n_info"].to_numpy() >= MIN_SHARED)
        keep = near_dup | evidence
        if not keep.any():
            continue
        score = np.where(near_dup, np.maximum(tsim, cos), cos)
        res = full.with_columns(
            pl.Series("score", score), pl.Series("text_similarity", tsim),
            pl.Series("reason", np.where(near_dup, "near-duplicate", "shared evidence")),
            pl.Series("days_apart", days.astype(np.int64)).replace(-1, None),
        ).filter(pl.Series(keep))
        out.append(res)
    if not out:
        return pl.DataFrame(schema=LINKS_SCHEMA)
    res = pl.concat(out)
    names = res.select("pair", "f").explode("f").join(idf.select("f", "feature"), on="f", how="left")
    lists = names.group_by("pair").agg(
        pl.col("feature").filter(pl.col("feature").str.starts_with("e:")).str.slice(2).sort().alias("shared_entities"),
        pl.col("feature").filter(pl.col("feature").str.starts_with("s:")).str.slice(2).sort().alias("shared_sources"),
        pl.col("feature").filter(pl.col("feature").str.starts_with("n:")).str.slice(2).sort().alias("shared_numbers"),
        pl.col("feature").filter(pl.col("feature").str.starts_with("d:")).str.slice(2).sort().alias("shared_dates"),
        pl.col("feature").filter(pl.col("feature").str.starts_with("l")).str.slice(1).sort().alias("shared_lead"),
    )
    res = res.drop("f").join(lists, on="pair", how="left")
    da = doc_ids.gather(res["a"].cast(pl.Int64))
    db = doc_ids.gather(res["b"].cast(pl.Int64))
    res = res.with_columns(pl.Series("x", da), pl.Series("y", db)).with_columns(
        pl.min_horizontal("x", "y").alias("doc_a"), pl.max_horizontal("x", "y").alias("doc_b"))
    return res.select([pl.col(c).cast(t) if c in res.columns else pl.lit(None, t).alias(c)
                       for c, t in LINKS_SCHEMA.items()])


# ---------------------------------------------------------------- components

def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label (the smallest member index) of each of n nodes."""
    label = np.arange(n, dtype=np.int64)
    if len(a) == 0:
        return label
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    while True:
        m = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, m)
        np.minimum.at(new, b, m)
        new = new[new]  # pointer jumping
        while True:
            nxt = new[new]
            if np.array_equal(nxt, new):
                break
            new = nxt
        if np.array_equal(new, label):
            return label
        label = new


def cluster(n: int, a: np.ndarray, b: np.ndarray, score: np.ndarray, density: float) -> np.ndarray:
    """Group n nodes along scored links without chaining; returns each node's cluster
    label (the smallest member index).

    Links are taken strongest first; two clusters merge only when at least `density` of
    the pairs between them are linked (a sparse average linkage): a single link between a
    strike story and the next strike's story no longer glues the two together, as plain
    connected components would. Pure Python over the links (fine for a few million links).
    """
    parent = list(range(n))
    size = [1] * n

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    adj: list[dict[int, int] | None] = [None] * n
    for x, y in zip(a.tolist(), b.tolist()):
        if x == y:
            continue
        for u, v in ((x, y), (y, x)):
            d = adj[u]
            if d is None:
                d = adj[u] = {}
            d[v] = d.get(v, 0) + 1
    for k in np.argsort(-score, kind="stable").tolist():
        ra, rb = find(int(a[k])), find(int(b[k]))
        if ra == rb:
            continue
        links = (adj[ra] or {}).get(rb, 0)
        if links < density * size[ra] * size[rb]:
            continue
        if size[ra] < size[rb]:
            ra, rb = rb, ra
        parent[rb] = ra
        size[ra] += size[rb]
        da, db = adj[ra] or {}, adj[rb] or {}
        for c, cnt in db.items():
            if c == ra:
                continue
            da[c] = da.get(c, 0) + cnt
            dc = adj[c]
            dc.pop(rb, None)
            dc[ra] = da[c]
        da.pop(rb, None)
        adj[ra], adj[rb] = da, None
    roots = np.array([find(i) for i in range(n)], dtype=np.int64)
    # label = smallest member index of each cluster
    order = np.argsort(roots, kind="stable")
    first = np.full(n, n, dtype=np.int64)
    np.minimum.at(first, roots, np.arange(n))
    return first[roots]


# ---------------------------------------------------------------- the API

def group(articles: pl.DataFrame, doc_entities: pl.DataFrame, previous: StoryState | None = None
          ) -> tuple[pl.DataFrame, pl.DataFrame, StoryState]:
    """Group articles into stories.

    In: articles (doc_id, language, published, text, boilerplate, cited_sources,
    duplicate_of), doc_entities (doc_id, entity_id, mentions), and the state returned by the
    previous call on an earlier version of the corpus (or None).
    Out: (story ids: doc_id, story_id for every article; links: LINKS_SCHEMA, one row per
    pair of articles joined, with the evidence; the new state). Duplicates
    (duplicate_of set) join their original's story through a "duplicate" link.
    """
    prev = previous or empty_state()
    originals = articles.filter(pl.col("duplicate_of").is_null())
    known = prev.signatures.join(originals.select("doc_id"), on="doc_id", how="semi")
    new = originals.join(known.select("doc_id"), on="doc_id", how="anti")
    new_feats, new_sigs = article_features(new, doc_entities) if new.height else (
        pl.DataFrame(schema=FEATURES_SCHEMA), pl.DataFrame(schema=SIGNATURES_SCHEMA))
    return group_features(articles.select("doc_id", "duplicate_of"), new_feats, new_sigs, prev)


def group_features(docs: pl.DataFrame, new_feats: pl.DataFrame, new_sigs: pl.DataFrame,
                   prev: StoryState) -> tuple[pl.DataFrame, pl.DataFrame, StoryState]:
    """The grouping from precomputed features (what `group` and the benchmark share).

    `docs` (doc_id, duplicate_of) lists every article of the corpus now; `new_sigs` and
    `new_feats` describe the originals not in `prev`; rows of `prev` whose article is gone
    are dropped.
    """
    keep_ids = docs.filter(pl.col("duplicate_of").is_null()).select("doc_id")
    old_sigs = prev.signatures.join(keep_ids, on="doc_id", how="semi")
    sigs = pl.concat([old_sigs, new_sigs.join(old_sigs.select("doc_id"), on="doc_id", how="anti")])
    feats = pl.concat([prev.features.join(old_sigs.select("doc_id"), on="doc_id", how="semi"),
                       new_feats.join(old_sigs.select("doc_id"), on="doc_id", how="anti")])
    old_links = prev.links.filter(pl.col("reason") != "duplicate").join(
        keep_ids.rename({"doc_id": "doc_a"}), on="doc_a", how="semi").join(
        keep_ids.rename({"doc_id": "doc_b"}), on="doc_b", how="semi")
    n = sigs.height
    new_mask = ~sigs["doc_id"].is_in(old_sigs["doc_id"].implode()).to_numpy() if n else np.zeros(0, bool)

    new_links = pl.DataFrame(schema=LINKS_SCHEMA)
    if n and new_mask.any():
        fb = np.array(sigs["feat_bands"].to_list(), dtype=np.uint64).reshape(n, FEAT_PERM // FEAT_ROWS)
        tb = np.array(sigs["text_bands"].to_list(), dtype=np.uint64).reshape(n, TEXT_PERM // TEXT_ROWS)
        pairs = _band_pairs(np.concatenate([fb, tb], axis=1), new_mask)
        del fb, tb
        # integer feature codes and IDF over the current corpus
        order = pl.DataFrame({"doc_id": sigs["doc_id"], "i": np.arange(n, dtype=np.uint32)})
        dfreq = feats.group_by("feature").agg(pl.len().alias("df")).sort("feature").with_row_index("f")
        kind_w = pl.col("feature").str.slice(0, 1).replace_strict(KIND_WEIGHT, default=1.0, return_dtype=pl.Float64)
        idf = dfreq.select("f", "feature", (np.log((n + 1) / (pl.col("df") + 1)) * kind_w).alias("w"))
        fcodes = feats.join(order, on="doc_id").join(dfreq.select("f", "feature"), on="feature").select("i", "f")
        norm2 = (fcodes.join(idf.select("f", "w"), on="f").group_by("i").agg((pl.col("w") ** 2).sum().alias("n2")))
        norms = np.zeros(n)
        norms[norm2["i"].to_numpy()] = np.sqrt(norm2["n2"].to_numpy())
        new_links = _score_pairs(pairs, sigs, fcodes, idf, norms)
    links = pl.concat([old_links, new_links]).unique(["doc_a", "doc_b"], keep="last", maintain_order=True)

    # duplicates: a link to their original
    dups = docs.filter(pl.col("duplicate_of").is_not_null())
    dup_links = pl.DataFrame({
        "doc_a": dups["duplicate_of"], "doc_b": dups["doc_id"],
    }).with_columns(pl.lit(1.0).alias("score"), pl.lit(1.0).alias("text_similarity"),
                    pl.lit("duplicate").alias("reason"))
    dup_links = dup_links.select([pl.col(c).cast(t) if c in dup_links.columns else pl.lit(None, t).alias(c)
                                  for c, t in LINKS_SCHEMA.items()])
    all_links = pl.concat([links, dup_links]).sort("doc_a", "doc_b")

    ids = docs.select("doc_id").unique().sort("doc_id")["doc_id"]
    index = pl.DataFrame({"doc_id": ids, "k": np.arange(len(ids), dtype=np.int64)})
    ea = all_links.select("doc_a", "doc_b").join(index.rename({"doc_id": "doc_a", "k": "ka"}), on="doc_a").join(
        index.rename({"doc_id": "doc_b", "k": "kb"}), on="doc_b")
    ea = ea.join(all_links.select("doc_a", "doc_b", "score"), on=["doc_a", "doc_b"])
    comp = cluster(len(ids), ea["ka"].to_numpy(), ea["kb"].to_numpy(), ea["score"].to_numpy(), MERGE_DENSITY)
    # ids are sorted, so the smallest index of a component is its smallest doc_id
    story_ids = pl.DataFrame({"doc_id": ids, "story_id": ids.gather(comp)}, schema=STORY_IDS_SCHEMA)
    state = StoryState(sigs, feats, all_links)
    return story_ids, all_links, state


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

