"""Sentences the dashboard shows about counts and evidence (pure text, no Streamlit).

In: numbers and the provenance fields of the store (outlet_source/outlet_evidence,
date_source/date_evidence). Out: plain English a user reads without knowing the store's
column values ("1 article", not "1 articles"; "from the web page's metadata (published)",
not "from html: published"). The UI escapes these for Markdown when it draws them.
"""
from __future__ import annotations

# Evidence quoted from an article is cut to this many characters (the reader shows the text).
EVIDENCE_CHARS = 90

_IRREGULAR = {"entity": "entities", "person": "people", "country": "countries"}


def plural(n: int, word: str, many: str | None = None) -> str:
    """"1 article", "2 articles", "1,234 articles" (thousands separated)."""
    if n == 1:
        return f"1 {word}"
    return f"{n:,} {many or _IRREGULAR.get(word, word + 's')}"


def uncited_caption(uncited: int, total: int) -> str:
    """What the Sources page says under the cited-sources chart, without a double negative."""
    if total == 0:
        return "No article in view."
    cited = total - uncited
    if uncited == 0:
        return ("The only article in view cites a recognised source." if total == 1
                else f"All {total:,} articles in view cite at least one recognised source.")
    if cited == 0:
        return ("The only article in view cites no recognised source." if total == 1
                else f"None of the {total:,} articles in view cites a recognised source.")
    return (f"{plural(cited, 'article')} of {total:,} cite at least one recognised source; "
            f"{uncited:,} cite{'s' if uncited == 1 else ''} none.")


def undated_caption(undated: int) -> str:
    """Under the time chart: the articles it cannot show, and that they still count."""
    if undated == 1:
        return "1 undated article is not on this chart but is counted everywhere else."
    return f"{undated:,} undated articles are not on this chart but are counted everywhere else."


def _quote(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > EVIDENCE_CHARS:
        text = text[: EVIDENCE_CHARS - 1] + "…"
    return f"“{text}”"


def evidence(source: str | None, detail: str | None, what: str) -> str:
    """Where a value (`what`: "outlet" or "date") came from, as a short sentence.

    source: the store's *_source value (text, html, field, url, sidecar, none, ...);
    detail: the *_evidence value (a quote, a field or tag name, or why nothing was kept).
    """
    detail = (detail or "").strip()
    source = (source or "none").strip().lower()
    if source in ("", "none"):
        # The date helper records why a date was refused here (e.g. a year after the build).
        return f"No {what} found in the file." if not detail else f"No {what} kept: {detail}"
    if source == "text":
        return f"Found in the text: {_quote(detail)}" if detail else "Found in the text."
    if source == "html":
        # The evidence is then a field name (published, outlet) or "html metadata": no news.
        return "From the web page's metadata."
    if source == "field":
        return f"From the record's “{detail}” field." if detail else "From a field of the record."
    if source == "url":
        return f"From the article's URL: {_quote(detail)}" if detail else "From the article's URL."
    if source == "sidecar":
        return "From metadata.csv, the corpus's metadata file."
    return f"From {source}: {_quote(detail)}" if detail else f"From {source}."
