"""Plain data types passed between the ingest, enrich and store stages.

Readers (presslens.ingest) produce RawRecord and Reject; enrichers (presslens.enrich)
turn a RawRecord into an article row plus Mention rows; presslens.store writes them.
No stage imports Streamlit.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class RawRecord:
    """One document as read from the corpus, before enrichment.

    `text` is the decoded text, verbatim: every offset in the store indexes it.
    `path` is relative to the corpus root (POSIX separators); `record` is the line or row
    number inside a multi-document file (jsonl/csv/parquet), None for one-document files.
    Metadata fields are None when the input did not carry them.
    """

    path: str
    text: str
    record: int | None = None
    title: str | None = None
    url: str | None = None
    outlet: str | None = None
    published: dt.date | None = None
    language: str | None = None
    # Where each given metadata value came from (e.g. {"published": "field", "outlet": "sidecar"}).
    provenance: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    # Raw HTML of a saved web page, when the input was HTML (for date/site extraction).
    html: str | None = None


@dataclass
class Reject:
    """An input that could not be ingested, with a reason a person understands."""

    path: str
    reason: str
    record: int | None = None


@dataclass
class Mention:
    """One entity mention: [start, end) offsets into the article text."""

    start: int
    end: int
    surface: str
    lemma: str
    entity_id: str
    entity_type: str  # PER, LOC, ORG, PRO, EVT or MISC
    name: str | None = None  # canonical display name, when known


@dataclass
class Cited:
    """A cited source attributed in the text, normalised to one name."""

    name: str
    start: int
    end: int
    evidence: str


@dataclass
class Evidence:
    """A metadata value and the line of text (or field) it came from."""

    value: object
    source: str  # field, sidecar, url, html, text, none
    evidence: str = ""
