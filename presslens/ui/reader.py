"""The reader: one article's metadata with its evidence, and its text with every counted
mention highlighted (all text escaped: article text is untrusted)."""
from __future__ import annotations

import streamlit as st

from presslens import charts, links
from presslens.ui.data import article_text, raw
from presslens.ui.labels import lang_label, md
from presslens.ui.state import current_filters, k, open_article, set_filters
from presslens.ui.storage import info



def reader(doc_id: str) -> None:
    """The open article: metadata with evidence, then the text with highlights."""
    meta = raw("article_meta", doc_id)
    if meta.height == 0:
        st.warning("This article is not in the current corpus version.")
        return
    row = meta.row(0, named=True)
    text = article_text(doc_id) or ""
    mentions = raw("article_mentions", doc_id)
    st.button("✕ Close article", key=k("close-doc"), on_click=open_article, args=(None,), type="tertiary")
    st.subheader(md(row["title"] or "(no title)"), anchor=False)
    if row.get("duplicate_of"):
        st.caption(f"⧉ Duplicate: a copy of article `{md(row['duplicate_of'])}`. Listed, but counted once "
                   "(as the original) in every number.")
    date = row["published"].isoformat() if row["published"] else "undated"
    cols = st.columns(4)
    cols[0].markdown(f"**Outlet**  \n{md(row['outlet'] or 'unknown')}")
    cols[0].caption(f"from {md(row['outlet_source'] or 'none')}: {md(row['outlet_evidence'] or '—')}")
    cols[1].markdown(f"**Published**  \n{date}")
    cols[1].caption(f"from {md(row['date_source'] or 'none')}: {md(row['date_evidence'] or '—')}")
    conf = row["language_confidence"]
    cols[2].markdown(f"**Language**  \n{md(lang_label(row['language']))}")
    cols[2].caption(f"confidence {conf:.2f}" + (" · mixed: " + md(", ".join(row["languages"] or [])) if row["mixed_language"] else "")
                    if conf is not None else "")
    cols[3].markdown(f"**Cited sources**  \n{md(', '.join(row['cited_sources'] or []) or 'none found')}")
    cols[3].caption(f"{len(mentions):,} counted mentions · {row['n_chars'] or len(text):,} characters")
    if row["url"]:
        st.caption(f"URL: {md(row['url'])} · file: {md(row['path'])}")
    else:
        st.caption(f"file: {md(row['path'])}")
    if mentions.height:
        ents = mentions.unique("entity_id", keep="first", maintain_order=True)
        labels = dict(zip(ents["entity_id"].to_list(), ents["name"].to_list()))
        types = dict(zip(ents["entity_id"].to_list(), ents["entity_type"].to_list()))
        pkey = k("reader-pick")
        st.pills("Filter the dashboard by an entity in this article", options=list(labels),
                 format_func=lambda e: f"{labels[e]} · {types[e]}", key=pkey, selection_mode="single",
                 on_change=_pick_entity, args=(pkey,))
    st.html(charts.legend_html(sorted(set(mentions["entity_type"].to_list())) if mentions.height else []))
    f = current_filters()
    st.html(charts.article_html(
        text, mentions, row["boilerplate"], row["cited_spans"],
        entity_link=lambda eid: links.page_url("entities", f.add("entities", eid), None, info().version),
    ))


def _pick_entity(key: str) -> None:
    eid = st.session_state.get(key)
    if eid:
        set_filters(current_filters().add("entities", eid))
