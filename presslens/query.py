"""Dashboard queries: Filters + lazy store tables in, small lazy result frames out.

Everything here is pure lazy Polars (expressions only: no Python loops over rows, no
map_elements). The caller (presslens.ui) collects once, at its st.cache_data boundary.

- `Filters` is the frozen, hashable description of what the analyst is looking at
  (presslens.links turns it into URL parameters and back).
- `Tables` bundles the LazyFrames of one store version (`Tables.scan(info)`).
- `filter_articles(t, f)` -> the article rows (never the `text` column) matching `f`;
  every other function aggregates such a frame.

Filter semantics: within one field values are alternatives (ru OR uk); across fields all
must hold; several entities mean articles naming ALL of them (that is how an analyst
narrows down: "Putin and Kim"). A date range keeps dated articles only; `undated=True`
keeps only the articles without a date, so the undated ones are never silently lost.
The text search looks at titles, outlets, URLs, cited sources and every written form of
every entity mention; it does not scan article bodies (those stay on disk, read only
for the one article shown).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import polars as pl

from presslens import store

# Shown (and filterable) in place of a missing outlet, so unattributed articles stay visible.
UNKNOWN_OUTLET = "(unknown outlet)"
# Label of the undated bucket in charts.
UNDATED = "undated"
ENTITY_TYPES = ("PER", "LOC", "ORG", "PRO", "EVT", "MISC")
# Columns listed for each article (everything light: no text, no span lists).
LIST_COLUMNS = [
    "doc_id", "title", "outlet", "published", "language", "language_confidence",
    "mixed_language", "languages", "cited_sources", "url", "path", "duplicate_of",
    "n_chars", "n_mentions",
]


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

    @classmethod
    def make(cls, **kw) -> "Filters":
        for name in ("languages", "outlets", "sources", "entities"):
            if name in kw:
                kw[name] = tuple(sorted(set(kw[name] or ())))
        if "search" in kw:
            kw["search"] = (kw["search"] or "").strip()
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
        current = getattr(self, field_name)
        if isinstance(current, tuple):
            return replace(self, **{field_name: tuple(v for v in current if value is not None and v != value)})
        return replace(self, **{field_name: type(current)()})

    @property
    def active(self) -> bool:
        return self != Filters()


@dataclass(frozen=True)
class Tables:
    """The lazily scanned tables of one store version."""

    articles: pl.LazyFrame
    mentions: pl.LazyFrame
    entities: pl.LazyFrame
    doc_entities: pl.LazyFrame
    rejects: pl.LazyFrame

    @classmethod
    def scan(cls, info: store.StoreInfo) -> "Tables":
        return cls(**{name: store.scan(info, name) for name in ("articles", "mentions", "entities", "doc_entities", "rejects")})

    @classmethod
    def from_frames(cls, **frames: pl.DataFrame) -> "Tables":
        """For tests: tables from in-memory frames, conformed to the store schema."""
        return cls(**{
            name: store.conform(frames.get(name, store.empty(name)), name).lazy()
            for name in ("articles", "mentions", "entities", "doc_entities", "rejects")
        })


def _outlet_label() -> pl.Expr:
    return pl.col("outlet").fill_null(UNKNOWN_OUTLET).alias("outlet")


def _docs_with_all(doc_entities: pl.LazyFrame, entity_ids: tuple[str, ...]) -> pl.LazyFrame:
    return (
        doc_entities.filter(pl.col("entity_id").is_in(list(entity_ids)))
        .group_by("doc_id")
        .agg(pl.col("entity_id").n_unique().alias("n"))
        .filter(pl.col("n") == len(entity_ids))
        .select("doc_id")
    )


def _search_hits(t: Tables, needle: str) -> pl.LazyFrame:
    """doc_ids whose title/outlet/url/cited sources or any entity form contains `needle`."""
    low = needle.lower()

    def has(col: pl.Expr) -> pl.Expr:
        return col.str.to_lowercase().str.contains(low, literal=True).fill_null(False)

    meta = t.articles.filter(
        has(pl.col("title")) | has(pl.col("outlet")) | has(pl.col("url")) | has(pl.col("outlet_domain"))
        | has(pl.col("cited_sources").list.join(" | "))
    ).select("doc_id")
    forms = t.mentions.filter(has(pl.col("surface")) | has(pl.col("lemma"))).select("doc_id")
    names = (
        t.entities.filter(has(pl.col("name")))
        .select("entity_id")
        .join(t.doc_entities, on="entity_id", how="inner")
        .select("doc_id")
    )
    return pl.concat([meta, forms, names]).unique()


def filter_articles(t: Tables, f: Filters) -> pl.LazyFrame:
    """Article rows (LIST_COLUMNS plus outlet evidence/date source; no text) matching `f`."""
    cols = [c for c in store.ARTICLE_LIST_COLUMNS]
    lf = t.articles.select(cols).with_columns(_outlet_label())
    if f.languages:
        lf = lf.filter(pl.col("language").is_in(list(f.languages)))
    if f.outlets:
        lf = lf.filter(pl.col("outlet").is_in(list(f.outlets)))
    if f.sources:
        lf = lf.filter(
            pl.col("cited_sources")
            .list.set_intersection(pl.lit(list(f.sources), dtype=pl.List(pl.String)))
            .list.len()
            .fill_null(0)
            > 0
        )
    if f.date_from is not None:
        lf = lf.filter(pl.col("published") >= f.date_from)
    if f.date_to is not None:
        lf = lf.filter(pl.col("published") <= f.date_to)
    if f.undated:
        lf = lf.filter(pl.col("published").is_null())
    if f.entities:
        lf = lf.join(_docs_with_all(t.doc_entities, f.entities), on="doc_id", how="semi")
    if f.search:
        lf = lf.join(_search_hits(t, f.search), on="doc_id", how="semi")
    return lf


# ---------------------------------------------------------------- overview


def summary(arts: pl.LazyFrame, doc_entities: pl.LazyFrame) -> pl.LazyFrame:
    """One row: articles, outlets, languages, entities, dated, undated, first, last."""
    ents = doc_entities.join(arts.select("doc_id"), on="doc_id", how="semi").select(
        pl.col("entity_id").n_unique().alias("entities")
    )
    base = arts.select(
        pl.len().alias("articles"),
        pl.col("outlet").filter(pl.col("outlet") != UNKNOWN_OUTLET).n_unique().alias("outlets"),  # not an outlet
        pl.col("language").n_unique().alias("languages"),
        pl.col("published").is_not_null().sum().alias("dated"),
        pl.col("published").is_null().sum().alias("undated"),
        pl.col("published").min().alias("first"),
        pl.col("published").max().alias("last"),
    )
    return pl.concat([base, ents], how="horizontal")


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
    start = pl.col("period")
    if every == "1d":
        return start
    if every == "1w":
        return start + pl.duration(days=6)
    return start.dt.offset_by("1mo") - pl.duration(days=1)


def over_time(arts: pl.LazyFrame, every: str) -> pl.LazyFrame:
    """Dated articles per period: period (start), period_end, articles."""
    return (
        arts.filter(pl.col("published").is_not_null())
        .group_by(pl.col("published").dt.truncate(every).alias("period"))
        .agg(pl.len().alias("articles"))
        .with_columns(_period_end(every).alias("period_end"))
        .sort("period")
    )


def _with_share(lf: pl.LazyFrame, count: str, total: pl.Expr | int) -> pl.LazyFrame:
    return lf.with_columns((pl.col(count) / total).alias("share"))


def outlet_counts(arts: pl.LazyFrame) -> pl.LazyFrame:
    """outlet, articles, share (of the filtered articles), sorted by articles."""
    lf = arts.group_by("outlet").agg(pl.len().alias("articles"))
    return _with_share(lf, "articles", pl.col("articles").sum()).sort(["articles", "outlet"], descending=[True, False])


def language_counts(arts: pl.LazyFrame) -> pl.LazyFrame:
    """language, articles, share, mean_confidence, mixed (articles flagged mixed-language)."""
    lf = arts.with_columns(pl.col("language").fill_null("und")).group_by("language").agg(
        pl.len().alias("articles"),
        pl.col("language_confidence").mean().alias("mean_confidence"),
        pl.col("mixed_language").fill_null(False).sum().alias("mixed"),
    )
    return _with_share(lf, "articles", pl.col("articles").sum()).sort(["articles", "language"], descending=[True, False])


def outlet_language(arts: pl.LazyFrame) -> pl.LazyFrame:
    """outlet, language, articles."""
    return (
        arts.with_columns(pl.col("language").fill_null("und"))
        .group_by("outlet", "language")
        .agg(pl.len().alias("articles"))
        .sort(["outlet", "language"])
    )


def _cited(arts: pl.LazyFrame) -> pl.LazyFrame:
    return (
        arts.select("doc_id", "outlet", pl.col("cited_sources").alias("source"))
        .explode("source")
        .filter(pl.col("source").is_not_null())
        .unique(["doc_id", "source"])
    )


def source_counts(arts: pl.LazyFrame) -> pl.LazyFrame:
    """source, articles citing it, share of the filtered articles citing it."""
    total = arts.select(pl.len().alias("total"))
    lf = _cited(arts).group_by("source").agg(pl.len().alias("articles"))
    return (
        lf.join(total, how="cross")
        .with_columns((pl.col("articles") / pl.col("total")).alias("share"))
        .drop("total")
        .sort(["articles", "source"], descending=[True, False])
    )


def outlet_source(arts: pl.LazyFrame) -> pl.LazyFrame:
    """outlet, source, articles (articles of that outlet citing that source)."""
    return _cited(arts).group_by("outlet", "source").agg(pl.len().alias("articles")).sort(["outlet", "source"])


def uncited_count(arts: pl.LazyFrame) -> pl.LazyFrame:
    """One row: articles that cite no source."""
    return arts.select(
        (pl.col("cited_sources").list.len().fill_null(0) == 0).sum().alias("uncited")
    )


# ---------------------------------------------------------------- languages


def confidence_points(arts: pl.LazyFrame, limit: int | None = None) -> pl.LazyFrame:
    """One point per article: doc_id, title, outlet, language, language_confidence,
    mixed_language; least confident first, at most `limit` of them (None: all)."""
    out = arts.select(
        "doc_id", "title", "outlet", pl.col("language").fill_null("und"),
        pl.col("language_confidence").fill_null(0.0), pl.col("mixed_language").fill_null(False),
    ).sort("language_confidence", "doc_id")
    return out.head(limit) if limit is not None else out


def mixed_articles(arts: pl.LazyFrame) -> pl.LazyFrame:
    """Articles flagged as mixed-language: doc_id, title, outlet, language, languages."""
    return arts.filter(pl.col("mixed_language").fill_null(False)).select(
        "doc_id", "title", "outlet", "language", pl.col("languages").list.join(", ").alias("languages")
    )


# ---------------------------------------------------------------- entities


def _doc_entities_in(arts: pl.LazyFrame, doc_entities: pl.LazyFrame) -> pl.LazyFrame:
    return doc_entities.join(arts.select("doc_id", "outlet", "language", "published"), on="doc_id", how="inner")


def top_entities(arts: pl.LazyFrame, doc_entities: pl.LazyFrame, entities: pl.LazyFrame,
                 entity_type: str | None = None, limit: int = 25) -> pl.LazyFrame:
    """entity_id, name, entity_type, mentions, articles (in the filtered articles), top `limit`."""
    ents = entities.select("entity_id", "name", "entity_type")
    if entity_type:
        ents = ents.filter(pl.col("entity_type") == entity_type)
    return (
        _doc_entities_in(arts, doc_entities)
        .group_by("entity_id")
        .agg(pl.col("mentions").sum().cast(pl.Int64).alias("mentions"), pl.col("doc_id").n_unique().alias("articles"))
        .join(ents, on="entity_id", how="inner")
        .with_columns(pl.col("name").fill_null(pl.col("entity_id")))
        .sort(["mentions", "articles", "name"], descending=[True, True, False])
        .head(limit)
        .select("entity_id", "name", "entity_type", "mentions", "articles")
    )


def entity_type_counts(arts: pl.LazyFrame, doc_entities: pl.LazyFrame, entities: pl.LazyFrame) -> pl.LazyFrame:
    """entity_type, entities, mentions in the filtered articles."""
    return (
        _doc_entities_in(arts, doc_entities)
        .join(entities.select("entity_id", "entity_type"), on="entity_id", how="inner")
        .group_by("entity_type")
        .agg(pl.col("entity_id").n_unique().alias("entities"), pl.col("mentions").sum().cast(pl.Int64).alias("mentions"))
        .sort("mentions", descending=True)
    )


def entity_split(arts: pl.LazyFrame, doc_entities: pl.LazyFrame, entities: pl.LazyFrame,
                 entity_ids: tuple[str, ...], by: str) -> pl.LazyFrame:
    """entity_id, name, <by> (language or outlet), mentions, articles for the given entities."""
    return (
        _doc_entities_in(arts, doc_entities)
        .filter(pl.col("entity_id").is_in(list(entity_ids)))
        .group_by("entity_id", by)
        .agg(pl.col("mentions").sum().cast(pl.Int64).alias("mentions"), pl.col("doc_id").n_unique().alias("articles"))
        .join(entities.select("entity_id", "name"), on="entity_id", how="left")
        .with_columns(pl.col("name").fill_null(pl.col("entity_id")))
        .sort(["name", by])
    )


def entity_over_time(arts: pl.LazyFrame, doc_entities: pl.LazyFrame, entity_id: str, every: str) -> pl.LazyFrame:
    """period, period_end, mentions, articles of one entity (dated articles only)."""
    return (
        _doc_entities_in(arts, doc_entities)
        .filter((pl.col("entity_id") == entity_id) & pl.col("published").is_not_null())
        .group_by(pl.col("published").dt.truncate(every).alias("period"))
        .agg(pl.col("mentions").sum().cast(pl.Int64).alias("mentions"), pl.col("doc_id").n_unique().alias("articles"))
        .with_columns(_period_end(every).alias("period_end"))
        .sort("period")
    )


def cooccurring(arts: pl.LazyFrame, doc_entities: pl.LazyFrame, entities: pl.LazyFrame,
                entity_id: str, limit: int = 20) -> pl.LazyFrame:
    """Entities named in the same filtered articles as `entity_id`: entity_id, name, entity_type, articles, mentions."""
    de = _doc_entities_in(arts, doc_entities)
    docs = de.filter(pl.col("entity_id") == entity_id).select("doc_id")
    return (
        de.join(docs, on="doc_id", how="semi")
        .filter(pl.col("entity_id") != entity_id)
        .group_by("entity_id")
        .agg(pl.col("doc_id").n_unique().alias("articles"), pl.col("mentions").sum().cast(pl.Int64).alias("mentions"))
        .join(entities.select("entity_id", "name", "entity_type"), on="entity_id", how="inner")
        .sort(["articles", "mentions", "name"], descending=[True, True, False])
        .head(limit)
    )


def surface_forms(arts: pl.LazyFrame, mentions: pl.LazyFrame, entity_id: str) -> pl.LazyFrame:
    """Every written form of one entity in the filtered articles: surface, lemma, language, mentions, articles."""
    return (
        mentions.filter(pl.col("entity_id") == entity_id)
        .join(arts.select("doc_id", "language"), on="doc_id", how="inner")
        .group_by("surface", "lemma", "language")
        .agg(pl.len().alias("mentions"), pl.col("doc_id").n_unique().alias("articles"))
        .sort(["mentions", "surface"], descending=[True, False])
    )


def entity_info(entities: pl.LazyFrame, entity_ids: list[str]) -> pl.LazyFrame:
    """entity_id, name, entity_type, mention_count, doc_count, names ("lang: name; ...") for the given ids."""
    return entities.filter(pl.col("entity_id").is_in(entity_ids)).select(
        "entity_id", pl.col("name").fill_null(pl.col("entity_id")), "entity_type", "mention_count", "doc_count",
        pl.col("names").list.eval(pl.element().struct.field("language") + ": " + pl.element().struct.field("name"))
        .list.join("; ").alias("names"),
    )


def entity_choices(entities: pl.LazyFrame, limit: int = 500) -> pl.LazyFrame:
    """The most mentioned entities (entity_id, name, entity_type) for pickers."""
    return (
        entities.select("entity_id", pl.col("name").fill_null(pl.col("entity_id")), "entity_type", "mention_count")
        .sort(["mention_count", "name"], descending=[True, False])
        .head(limit)
    )


# ---------------------------------------------------------------- articles


def article_list(arts: pl.LazyFrame, doc_entities: pl.LazyFrame, entities: pl.LazyFrame,
                 limit: int | None = 500, top: int = 5) -> pl.LazyFrame:
    """Filtered articles, newest first (undated last), each with its `top` entities by mentions."""
    tops = (
        doc_entities.join(arts.select("doc_id"), on="doc_id", how="semi")
        .join(entities.select("entity_id", pl.col("name").fill_null(pl.col("entity_id"))), on="entity_id", how="left")
        .group_by("doc_id")
        .agg(pl.col("name").sort_by(["mentions", "name"], descending=[True, False]).head(top).alias("top_entities"))
    )
    lf = (
        arts.join(tops, on="doc_id", how="left")
        .with_columns(pl.col("top_entities").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .sort(["published", "title", "doc_id"], descending=[True, False, False], nulls_last=True)
    )
    return lf.head(limit) if limit else lf


def export_frame(arts: pl.LazyFrame, doc_entities: pl.LazyFrame, entities: pl.LazyFrame) -> pl.LazyFrame:
    """Filtered articles' metadata plus their entity lists (names, ids, types) for download."""
    ents = (
        doc_entities.join(arts.select("doc_id"), on="doc_id", how="semi")
        .join(entities.select("entity_id", pl.col("name").fill_null(pl.col("entity_id")), "entity_type"), on="entity_id", how="left")
        .sort(["doc_id", "mentions", "name"], descending=[False, True, False])
        .group_by("doc_id", maintain_order=True)
        .agg(
            pl.col("name").alias("entities"),
            pl.col("entity_id").alias("entity_ids"),
            pl.col("entity_type").alias("entity_types"),
            pl.col("mentions").cast(pl.Int64).alias("entity_mentions"),
        )
    )
    keep = ["doc_id", "title", "outlet", "outlet_domain", "published", "date_source", "language",
            "language_confidence", "mixed_language", "cited_sources", "url", "path", "duplicate_of", "n_chars", "n_mentions"]
    return arts.select(keep).join(ents, on="doc_id", how="left").sort(["published", "doc_id"], nulls_last=True)


def flatten_lists(df: pl.DataFrame) -> pl.DataFrame:
    """For CSV: every list column joined with '; ' (CSV has no lists)."""
    return df.with_columns(
        pl.col(c).cast(pl.List(pl.String)).list.join("; ") for c, dt_ in df.schema.items() if isinstance(dt_, pl.List)
    )


def article_meta(t: Tables, doc_id: str) -> pl.LazyFrame:
    """All metadata (no text) of one article, with its evidence columns."""
    cols = [c for c in store.ARTICLE_LIST_COLUMNS] + ["cited_spans"]
    return t.articles.filter(pl.col("doc_id") == doc_id).select(cols)


def article_mentions(t: Tables, doc_id: str) -> pl.LazyFrame:
    """Mentions of one article with entity names: start, end, surface, entity_id, entity_type, name."""
    return (
        t.mentions.filter(pl.col("doc_id") == doc_id)
        .join(t.entities.select("entity_id", "name"), on="entity_id", how="left")
        .with_columns(pl.col("name").fill_null(pl.col("surface")))
        .select("start", "end", "surface", "lemma", "entity_id", "entity_type", "name")
        .sort("start")
    )


# ---------------------------------------------------------------- vocabulary (for URL validation)


def vocabulary(t: Tables) -> pl.LazyFrame:
    """One row of lists: languages, outlets, sources known to the store (small sets)."""
    langs = t.articles.select(pl.col("language").fill_null("und").unique().sort().implode().alias("languages"))
    outlets = t.articles.select(_outlet_label()).select(pl.col("outlet").unique().sort().implode().alias("outlets"))
    sources = (
        t.articles.select(pl.col("cited_sources").explode().alias("s"))
        .filter(pl.col("s").is_not_null())
        .select(pl.col("s").unique().sort().implode().alias("sources"))
    )
    return pl.concat([langs, outlets, sources], how="horizontal")


def existing(lf: pl.LazyFrame, column: str, values: list[str]) -> pl.LazyFrame:
    """Which of `values` occur in `lf[column]` (for validating entity and doc ids from a URL)."""
    return lf.select(column).filter(pl.col(column).is_in(values)).unique()
