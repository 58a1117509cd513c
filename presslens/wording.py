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


# How often the story grouping is right, measured on hand-labelled news it never saw (docs/STORIES.md).
# Wire news: the four CoNLL-2003 train chunks held out in run 8's leave-one-topic-out (`python -m
# presslens.eval stories-loto ROOT --gold data/eval/stories_gold.csv
# data/eval/stories_gold_conll_train.csv --with-rules`; the English NER was trained on those
# documents, so their entities are cleaner than a user's) and CoNLL val (run 7 for the rules, run 8
# for the model: `python -m presslens.eval stories DIR --gold data/eval/stories_gold_conll_val.csv`).
# BSNLP: asia_bibi and brexit, held out in the same leave-one-topic-out; ryanair is left out (the
# rules, part of the default too, were designed on it), and so is CoNLL test (a tuning set).
# Per scorer: (pair precision range, pair recall range) on each kind, and the pairwise F1 range.
GROUPING_MEASURED = {
    "model": {"wire": ("20-62%", "57-72%"), "bsnlp": ("44-56%", "25-42%"), "f1": "0.305-0.630"},
    "rules": {"wire": ("18-50%", "52-78%"), "bsnlp": ("40-54%", "28-36%"), "f1": "0.281-0.564"},
}


def grouping_reliability(scorer: str | None) -> str | None:
    """What the Stories page tells an analyst about how far its stories can be trusted (Markdown),
    for the scorer that grouped the store (`stories.built_by`); None when no grouping of ours
    made the stories (they came with the articles)."""
    if scorer is None:
        return None
    if scorer not in GROUPING_MEASURED:
        return ("These stories were grouped by a pair model of your own (PRESSLENS_STORY_MODEL): how often it is "
                "right is not measured here. `python -m presslens.eval stories FOLDER --gold LABELS.csv` measures it "
                "on articles you have grouped by hand.")
    m = GROUPING_MEASURED[scorer]
    return (
        "Stories are grouped by machine and are not always right. Measured on hand-labelled news the grouping "
        "never saw:\n\n"
        f"- **A day of wire news** (five sets of 216-237 Reuters articles): {m['wire'][0]} of the article pairs it puts "
        f"in one story report the same event, and it finds {m['wire'][1]} of the pairs that do. Reports of one day "
        "about the same people get chained into one story: open it and use *Split this story*.\n"
        f"- **One running story told in Russian and Ukrainian** (BSNLP topics): {m['bsnlp'][0]} of the pairs it "
        f"groups are right, but it finds only {m['bsnlp'][1]} of the true pairs: one event is often split over "
        "several stories. A story's *Related stories* lists the likely other parts; join them to read them as one.\n\n"
        f"Pairwise F1 on these sets: {m['f1']} (the goal is 0.8).")

