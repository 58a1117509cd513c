"""What the Stories page shows, as pure functions over the store's tables.

In: the articles of the current view (a LazyFrame with doc_id, story_id, outlet, language,
published, title, duplicate_of), the story_links table, doc_entities and entities.
Out: small DataFrames: the largest stories, one story's timeline, the entities and sources
its articles share, and how each outlet's version differs. No Streamlit here; duplicates
(duplicate_of set) are listed in the timeline but not counted.
"""
from __future__ import annotations

import numpy as np
import polars as pl
from presslens.index import UNKNOWN_OUTLET


def largest_stories(articles: pl.LazyFrame, limit: int = 50, min_size: int = 2) -> pl.DataFrame:
    """The biggest stories of the view: story_id, size (articles, duplicates excluded),
    languages and outlets (sorted lists), n_outlets, first and last publication date, and
    the title of its first article. Stories smaller than `min_size` are left out."""
    originals = articles.filter(pl.col("duplicate_of").is_null() & pl.col("story_id").is_not_null())
    return (
        originals.sort("published", "doc_id", nulls_last=True)
        .group_by("story_id")
        .agg(
            pl.len().alias("size"),
            pl.col("language").drop_nulls().unique().sort().alias("languages"),
            pl.col("outlet").drop_nulls().unique().sort().alias("outlets"),
            pl.col("outlet").drop_nulls().n_unique().alias("n_outlets"),
            pl.col("published").min().alias("first"),
            pl.col("published").max().alias("last"),
            pl.col("title").first().alias("title"),
        )
        .filter(pl.col("size") >= min_size)
        .sort(["size", "n_outlets", "story_id"], descending=[True, True, False])
        .head(limit)
        .collect()
    )


def story_timeline(articles: pl.LazyFrame, story_id: str | tuple[str, ...]) -> pl.DataFrame:
    """Every article of one story (or of several viewed as one) in publication order (undated last): doc_id, published,
    outlet (or "(unknown outlet)", as everywhere else), language, title, duplicate_of, and `first`: True for the
    earliest dated original (the first publisher; ties: all of them)."""
    s = (articles.filter(pl.col("story_id").is_in(_ids(story_id)))
         .select("doc_id", "published", pl.col("outlet").fill_null(UNKNOWN_OUTLET), "language", "title",
                 "duplicate_of")
         .sort("published", "doc_id", nulls_last=True).collect())
    first_day = s.filter(pl.col("duplicate_of").is_null())["published"].min()
    return s.with_columns(
        ((pl.col("published") == pl.lit(first_day, pl.Date)) & pl.col("duplicate_of").is_null()).fill_null(False).alias("first"))


def story_shared(links: pl.LazyFrame, doc_ids: list[str], entities: pl.LazyFrame | None = None) -> pl.DataFrame:
    """The evidence that holds a story together: every shared entity, source, figure and
    date with the number of links (pairs of its articles) that share it, most shared first.
    Columns: kind (entity, source, figure, date), value, name (display name of an entity
    when `entities` is given, else the value), links."""
    ids = pl.DataFrame({"doc_id": doc_ids}, schema={"doc_id": pl.String}).lazy()
    inside = (links.join(ids.rename({"doc_id": "doc_a"}), on="doc_a", how="semi")
              .join(ids.rename({"doc_id": "doc_b"}), on="doc_b", how="semi"))
    parts = [inside.select(pl.lit(kind).alias("kind"), pl.col(col).alias("value")).explode("value")
             for kind, col in (("entity", "shared_entities"), ("source", "shared_sources"),
                               ("figure", "shared_numbers"), ("date", "shared_dates"))]
    out = (pl.concat(parts).drop_nulls("value").group_by("kind", "value").agg(pl.len().alias("links")))
    if entities is not None:
        out = out.join(entities.select(pl.col("entity_id").alias("value"), "name"), on="value", how="left")
    else:
        out = out.with_columns(pl.lit(None, pl.String).alias("name"))
    return (out.with_columns(pl.coalesce("name", "value").alias("name"))
            .select("kind", "value", "name", "links").sort(["links", "kind", "value"], descending=[True, False, False])
            .collect())


def _ids(story_id: str | tuple[str, ...]) -> list[str]:
    return [story_id] if isinstance(story_id, str) else list(story_id)


def outlet_differences(articles: pl.LazyFrame, doc_entities: pl.LazyFrame, story_id: str | tuple[str, ...],
                       entities: pl.LazyFrame | None = None) -> pl.DataFrame:
    """How each outlet told the story: per outlet, the entities its articles name that no
    other outlet's article in the story names. Columns: outlet, articles, only_here (list of
    entity names, most mentioned first), n_only; outlets sorted by article count."""
    docs = (articles.filter(pl.col("story_id").is_in(_ids(story_id)) & pl.col("duplicate_of").is_null())
            .select("doc_id", pl.col("outlet").fill_null(UNKNOWN_OUTLET)))
    per = doc_entities.join(docs, on="doc_id").group_by("outlet", "entity_id").agg(
        pl.col("mentions").sum().alias("mentions"))
    spread = per.group_by("entity_id").agg(pl.col("outlet").n_unique().alias("n_outlets"))
    only = per.join(spread, on="entity_id").filter(pl.col("n_outlets") == 1)
    if entities is not None:
        only = only.join(entities.select("entity_id", "name"), on="entity_id", how="left")
    else:
        only = only.with_columns(pl.lit(None, pl.String).alias("name"))
    only = (only.with_columns(pl.coalesce("name", "entity_id").alias("name"))
            .sort(["outlet", "mentions", "name"], descending=[False, True, False])
            .group_by("outlet", maintain_order=True).agg(pl.col("name").alias("only_here")))
    counts = docs.group_by("outlet").agg(pl.len().alias("articles"))
    return (counts.join(only, on="outlet", how="left")
            .with_columns(pl.col("only_here").fill_null(pl.lit([], pl.List(pl.String))))
            .with_columns(pl.col("only_here").list.len().alias("n_only"))
            .sort(["articles", "outlet"], descending=[True, False]).collect())


def split_story(links: pl.DataFrame, members: pl.DataFrame, min_score: float, density: float) -> pl.DataFrame:
    """One story split at a stricter link strength: its articles grouped again from only the
    links scoring at least `min_score`, with the build's clustering (presslens.stories.cluster,
    merge `density`), so a story chained together by weak links falls apart into the events
    its strong links hold.

    `members`: the story's original articles (doc_id, published); `links`: its story_links rows
    (doc_a, doc_b, score; a link to an article that is no member is ignored). Out: doc_id, part
    (1 = the largest part; ties: the earliest first publication, then the smallest doc_id; an
    article whose every link is weaker is a part of its own), part_size, in `members`' order."""
    return _split(_link_rows(links, members), members, min_score, density)


def split_profile(links: pl.DataFrame, members: pl.DataFrame, steps, density: float) -> pl.DataFrame:
    """`split_story` at each link strength of `steps`: split, parts (how many), largest (the
    largest part's articles). Empty when the story has no members."""
    rows, lk = [], _link_rows(links, members)
    for step in steps:
        parts = _split(lk, members, step, density)
        if parts.height:
            rows.append((float(step), int(parts["part"].max()), int(parts["part_size"].max())))
    return pl.DataFrame(rows, schema={"split": pl.Float64, "parts": pl.Int64, "largest": pl.Int64}, orient="row")


def _link_rows(links: pl.DataFrame, members: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The links between two members as (member row a, member row b, score) arrays."""
    pos = members.select("doc_id").with_row_index("i")
    inside = (links.select("doc_a", "doc_b", "score")
              .join(pos.rename({"doc_id": "doc_a", "i": "a"}), on="doc_a")
              .join(pos.rename({"doc_id": "doc_b", "i": "b"}), on="doc_b"))
    return (inside["a"].to_numpy().astype(np.int64), inside["b"].to_numpy().astype(np.int64),
            inside["score"].to_numpy().astype(np.float64))


def _split(lk: tuple[np.ndarray, np.ndarray, np.ndarray], members: pl.DataFrame, min_score: float,
           density: float) -> pl.DataFrame:
    from presslens import stories

    n = members.height
    if n == 0:
        return pl.DataFrame(schema={"doc_id": pl.String, "part": pl.Int64, "part_size": pl.Int64})
    la, lb, score = lk
    strong = score >= min_score
    label = stories.cluster(n, la[strong], lb[strong], score[strong], density)
    df = pl.DataFrame({"doc_id": members["doc_id"], "label": label, "published": members["published"]})
    order = (df.group_by("label").agg(pl.len().alias("part_size"), pl.col("published").min().alias("first"),
                                      pl.col("doc_id").min().alias("min_doc"))
             .sort(["part_size", "first", "min_doc"], descending=[True, False, False], nulls_last=True)
             .with_row_index("part", offset=1).select(pl.col("part").cast(pl.Int64), "label", "part_size"))
    return df.join(order, on="label", how="left", maintain_order="left").select(
        "doc_id", "part", pl.col("part_size").cast(pl.Int64))


def cut_links(links: pl.DataFrame, parts: pl.DataFrame) -> pl.DataFrame:
    """The links of a split story that join two different parts (what the split cut), the
    strongest first: doc_a, doc_b, part_a, part_b, score and the evidence columns."""
    p = parts.select("doc_id", "part")
    return (links.join(p.rename({"doc_id": "doc_a", "part": "part_a"}), on="doc_a")
            .join(p.rename({"doc_id": "doc_b", "part": "part_b"}), on="doc_b")
            .filter(pl.col("part_a") != pl.col("part_b"))
            .sort(["score", "doc_a", "doc_b"], descending=[True, False, False]))
