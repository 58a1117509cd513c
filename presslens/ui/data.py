"""Cached query results for the pages, answered from the serving index.

`index()` -> the serving index of the live store version (presslens.index), loaded once
per server process with st.cache_resource keyed by the version directory: every session
shares the same memory-mapped arrays. `data(name, *args)` -> a small DataFrame from
presslens.query for the current filters, cached with st.cache_data on (store directory,
store version, Filters, args); `raw(...)` the same without filters; `value(df, column)`
the first value of a one-row result; `article_text(doc_id)` one article's text from disk.
"""
from __future__ import annotations

import gc
import threading
from pathlib import Path

import polars as pl
import streamlit as st

from presslens import index as index_mod
from presslens import query
from presslens.query import Filters
from presslens.ui.state import current_filters
from presslens.ui.storage import info


# Rows shown in article tables (the export has them all).
LIST_LIMIT = 500
# Entities offered in the sidebar picker (plus any already selected).
PICKER_LIMIT = 500
# Bars and bubble rows per chart: the biggest outlets / sources (a corpus may have
# thousands of outlets; a chart of thousands of bars is unreadable and slow to draw).
CHART_OUTLETS = 25
CHART_SOURCES = 30
MATRIX_ROWS = 20
# Confidence bins on the Languages page (0.05 wide: fine enough to see a low tail).
CONFIDENCE_BINS = 20
# Data health: an outlet with at least CLUSTER_MIN dated articles in view, CLUSTER_SHARE of
# them on one day, is flagged (real outlets publish over many days; one day is a scrape date).
CLUSTER_MIN = 5
CLUSTER_SHARE = 0.8
# Stories listed on the Stories page (the biggest in view; more is a scroll nobody reads).
STORY_LIMIT = 50
# Articles listed under the confidence chart as "least confident" (below this confidence).
LOW_CONFIDENCE = 0.8


@st.cache_resource(show_spinner="Loading the serving index …", max_entries=4)
def _index(directory: str) -> index_mod.Index:
    ix = index_mod.load(directory)
    # the filter-independent values a first search or count needs, off the first render's path
    threading.Thread(target=_warm, args=(ix,), name="presslens-warm", daemon=True).start()
    return ix


def _warm(ix: index_mod.Index) -> None:
    """Background warm-up of a freshly loaded index (query.warm), then gc.freeze(): the
    objects alive now (imports, the index's frames) move out of the cyclic collector's
    generations, so its full collections stop rescanning them (they were 40-100 ms pauses
    landing in random reruns at 1M). Frozen objects are only ever freed by refcounting."""
    query.warm(ix)
    gc.freeze()


def index() -> index_mod.Index:
    """The serving index of the store version this run resolved (shared by all sessions)."""
    return _index(str(info().directory))


def _q(name: str, ix: index_mod.Index, f: Filters, args: tuple) -> pl.DataFrame:
    table = {
        "summary": lambda: query.summary(ix, f, entities=False),
        "entity_total": lambda: pl.DataFrame({"entities": [query.entity_total(ix, f)]}),
        "over_time": lambda every: query.over_time(ix, f, every),
        "outlets": lambda limit=CHART_OUTLETS: query.outlet_counts(ix, f, limit),
        "languages": lambda: query.language_counts(ix, f),
        "outlet_language": lambda: query.outlet_language(ix, f, CHART_OUTLETS),
        "sources": lambda limit=CHART_SOURCES: query.source_counts(ix, f, limit),
        "outlet_source": lambda: query.outlet_source(ix, f, MATRIX_ROWS, MATRIX_ROWS),
        "uncited": lambda: query.uncited_count(ix, f),
        "confidence": lambda bins=CONFIDENCE_BINS: query.confidence_histogram(ix, f, bins),
        "low_confidence": lambda below=LOW_CONFIDENCE, limit=200: query.low_confidence(ix, f, below, limit),
        "mixed": lambda: query.mixed_articles(ix, f),
        "top_entities": lambda et=None, limit=25: query.top_entities(ix, f, et, limit),
        "entity_types": lambda: query.entity_type_counts(ix, f),
        "entity_split": lambda ids, by, top=MATRIX_ROWS: query.entity_split(ix, f, ids, by, top),
        "entity_over_time": lambda eid, every: query.entity_over_time(ix, f, eid, every),
        "cooccurring": lambda eid: query.cooccurring(ix, f, eid),
        "surface_forms": lambda eid: query.surface_forms(ix, f, eid),
        "entity_info": lambda ids: query.entity_info(ix, ids),
        "entity_choices": lambda: query.entity_choices(ix, PICKER_LIMIT),
        "articles": lambda limit=LIST_LIMIT: query.article_list(ix, f, limit),
        "export": lambda: query.export_frame(ix, f),
        "article_meta": lambda doc: query.article_meta(ix, doc),
        "article_mentions": lambda doc: query.article_mentions(ix, doc),
        "vocabulary": lambda: query.vocabulary(ix),
        "existing_entities": lambda ids: query.existing(ix, "entity_id", ids),
        "existing_docs": lambda ids: query.existing(ix, "doc_id", ids),
        "existing_stories": lambda ids: query.existing(ix, "story_id", ids),
        "stories": lambda limit=STORY_LIMIT: query.story_list(ix, f, limit),
        "story_labels": lambda: query.story_labels(ix, f),
        "story_timeline": lambda: query.story_timeline(ix, f),
        "story_shared": lambda: query.story_shared(ix, f),
        "story_outlets": lambda: query.story_outlets(ix, f),
        "story_parts": lambda: query.story_parts(ix, f),
        "story_cut": lambda: query.story_cut(ix, f),
        "story_split_profile": lambda: query.story_split_profile(ix, f.with_(split=None)),
        "related_stories": lambda: query.related_stories(ix, f.with_(split=None)),
        "story_links_count": lambda story: pl.DataFrame({"links": [query.story_links_count(ix, story)]}),
        "story_part_count": lambda story, split: pl.DataFrame(
            {"parts": [int(query.story_split(ix, story, split)["part"].max() or 0)]}),
        "health": lambda below=LOW_CONFIDENCE: query.health_counts(ix, f, below),
        "date_clusters": lambda: query.date_clusters(ix, f, CLUSTER_MIN, CLUSTER_SHARE),
        "rejects": lambda: pl.read_parquet(Path(ix.directory) / "rejects.parquet", columns=["path", "record", "reason"]),
    }[name]
    return table(*args)


@st.cache_data(show_spinner=False, max_entries=1024)
def _cached(directory: str, version: str, name: str, f: Filters, args: tuple) -> pl.DataFrame:
    return _q(name, _index(directory), f, args)


def data(name: str, *args, filters: Filters | None = None) -> pl.DataFrame:
    """A query result for the current filters (or `filters`), cached per store version."""
    i = info()
    return _cached(str(i.directory), i.version, name, filters if filters is not None else current_filters(), tuple(args))


def raw(name: str, *args) -> pl.DataFrame:
    """A query result that does not depend on the filters (vocabulary, one article)."""
    return data(name, *args, filters=Filters())


def article_text(doc_id: str) -> str | None:
    """The text of one article, read from its Parquet row group (never cached: it is big)."""
    return index_mod.read_text(index(), doc_id)


def story_title(story_id: str) -> str:
    """A story's name for chips and pickers: the title of its first article (its id when untitled)."""
    return value(data("story_timeline", filters=Filters.make(story=story_id)), "title") or story_id


def value(df: pl.DataFrame, column: str, default=None):
    """The first value of a column (for one-row results), or default."""
    return df[column][0] if df.height and column in df.columns and df[column][0] is not None else default


def granularity() -> str:
    """Time bucket for the current filters' date span (days, weeks or months)."""
    s = data("summary")
    return query.granularity(value(s, "first"), value(s, "last"))
