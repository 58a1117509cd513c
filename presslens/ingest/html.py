"""Saved web page (bytes) -> one RawRecord with the article's main text and metadata.

In:  the raw bytes of an .html/.htm file and its path relative to the corpus root.
Out: `read_html(data, relpath) -> (records, rejects)`: one RawRecord whose `text` is the
     main text trafilatura extracts (menus, footers and related links removed), with
     `title`, `url` (canonical / og:url), `outlet` (site name), `published` (htmldate,
     via trafilatura, from the page's markup) and `language` (the <html lang> attribute)
     marked with provenance "html"; or a Reject when the page has no article text.

Decoding: BOM, strict UTF-8, then the page's own <meta charset> competing with the
legacy encodings (see text.decode), because saved pages do declare the wrong charset.
"""
from __future__ import annotations

import logging
import re

import trafilatura

from presslens.ingest.fields import clean_language, clean_str, parse_date
from presslens.ingest.text import DecodeError, decode
from presslens.records import RawRecord, Reject

# The <meta charset> / http-equiv declaration must sit in the first 1024 bytes (HTML
# standard); 4 KiB allows for long <head> comments in saved pages.
_HEAD_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HTML_LANG = re.compile(r"""<html[^>]*\slang\s*=\s*["']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)""", re.I)

# Dates from markup only (meta tags, JSON-LD, <time>, the URL): a date guessed from the
# free text is left to presslens.enrich.metadata, which labels it "text", not "html".
_DATE_PARAMS = {"original_date": True, "extensive_search": False}

# trafilatura logs every page it cannot parse at ERROR level; our Reject says it better.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def read_html(data: bytes, relpath: str) -> tuple[list[RawRecord], list[Reject]]:
    """Extract the article from a saved web page; see the module docstring."""
    head = data[:_HEAD_BYTES]
    declared = _META_CHARSET.search(head)
    try:
        decoded = decode(data, declared[1].decode("ascii", "replace") if declared else None)
    except DecodeError as err:
        return [], [Reject(relpath, f"This web page {err}.")]
    return extract(decoded.text, relpath, decoded.encoding)


def extract(html: str, relpath: str, encoding: str | None) -> tuple[list[RawRecord], list[Reject]]:
    """Decoded HTML -> a RawRecord (or a Reject when there is no article text)."""
    doc = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        date_extraction_params=_DATE_PARAMS,
    )
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        return [], [
            Reject(
                relpath,
                "No article text found in this web page: it may be an index or login page, "
                "or its text is loaded by JavaScript and was not saved with it.",
            )
        ]
    record = RawRecord(path=relpath, text=text, encoding=encoding, html=html)
    values = {
        "title": clean_str(doc.title),
        "url": clean_str(doc.url),
        "outlet": clean_str(doc.sitename),
        "published": parse_date(doc.date),
    }
    lang = _HTML_LANG.search(html, 0, _HEAD_BYTES * 4)
    values["language"] = clean_language(lang[1]) if lang else None
    for name, value in values.items():
        if value is not None:
            setattr(record, name, value)
            record.provenance[name] = "html"
    return [record], []
