"""Cached query results for the pages.

`data(name, *args)` -> a collected DataFrame from presslens.query for the current filters,
cached with st.cache_data on (store directory, store version, Filters, args); `raw(...)`
the same without filters; `value(df, column)` the first value of a one-row result.
"""
from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st

from presslens import query, store
from presslens.query import Filters
from presslens.ui.state import current_filters
from presslens.ui.storage import info


# Rows shown in article tables (the export has them all).
LIST_LIMIT = 500
# Entities offered in the sidebar picker (plus any already selected).
PICKER_LIMIT = 500


def _tables(directory: str) -> query.Tables:
    return query.Tables.scan(store.StoreInfo(Path(directory).parent, "", Path(directory), {}))


def _q(name: str, t: query.Tables, f: Filters, args: tuple) -> pl.LazyFrame:
    a = query.filter_articles(t, f)
    de, en, me = t.doc_entities, t.entities, t.mentions
    table = {
        "summary": lambda: query.summary(a, de),
        "over_time": lambda every: query.over_time(a, every),
        "outlets": lambda: query.outlet_counts(a),
        "languages": lambda: query.language_counts(a),
        "outlet_language": lambda: query.outlet_language(a),
        "sources": lambda: query.source_counts(a),
        "outlet_source": lambda: query.outlet_source(a),
        "uncited": lambda: query.uncited_count(a),
        "confidence": lambda: query.confidence_points(a),
        "mixed": lambda: query.mixed_articles(a),
        "top_entities": lambda et=None, limit=25: query.top_entities(a, de, en, et, limit),
        "entity_types": lambda: query.entity_type_counts(a, de, en),
        "entity_split": lambda ids, by: query.entity_split(a, de, en, ids, by),
        "entity_over_time": lambda eid, every: query.entity_over_time(a, de, eid, every),
        "cooccurring": lambda eid: query.cooccurring(a, de, en, eid),
        "surface_forms": lambda eid: query.surface_forms(a, me, eid),
        "entity_info": lambda ids: query.entity_info(en, list(ids)),
        "entity_choices": lambda: query.entity_choices(en, PICKER_LIMIT),
        "articles": lambda limit=LIST_LIMIT: query.article_list(a, de, en, limit),
        "export": lambda: query.export_frame(a, de, en),
        "article_meta": lambda doc: query.article_meta(t, doc),
        "article_mentions": lambda doc: query.article_mentions(t, doc),
        "vocabulary": lambda: query.vocabulary(t),
        "existing_entities": lambda ids: query.existing(en, "entity_id", list(ids)),
        "existing_docs": lambda ids: query.existing(t.articles, "doc_id", list(ids)),
        "rejects": lambda: t.rejects.select("path", "record", "reason"),
    }[name]
    return table(*args)


@st.cache_data(show_spinner=False, max_entries=1024)
def _cached(directory: str, version: str, name: str, f: Filters, args: tuple) -> pl.DataFrame:
    return _q(name, _tables(directory), f, args).collect()


def data(name: str, *args, filters: Filters | None = None) -> pl.DataFrame:
    """A query result for the current filters (or `filters`), cached per store version."""
    i = info()
    return _cached(str(i.directory), i.version, name, filters if filters is not None else current_filters(), tuple(args))


def raw(name: str, *args) -> pl.DataFrame:
    """A query result that does not depend on the filters (vocabulary, one article)."""
    return data(name, *args, filters=Filters())


def value(df: pl.DataFrame, column: str, default=None):
    """The first value of a column (for one-row results), or default."""
    return df[column][0] if df.height and column in df.columns and df[column][0] is not None else default


def granularity() -> str:
    """Time bucket for the current filters' date span (days, weeks or months)."""
    s = data("summary")
    return query.granularity(value(s, "first"), value(s, "last"))
