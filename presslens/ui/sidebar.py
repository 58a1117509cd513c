"""The chrome every page shares: link notices, the sidebar filters, the link to this view."""
from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

from presslens import links, search
from presslens.wording import plural
from presslens.query import Filters
from presslens.ui.data import raw, story_title, value
from presslens.ui.labels import entity_names, lang_label, md
from presslens.ui.state import _state, clear_filters, current_filters, gen, k, set_filters
from presslens.ui.storage import info



def notices() -> None:
    s = _state()
    note = s.get("store_note")
    if note:  # which store is shown, when it is not what PRESSLENS_CORPUS asked for (guard.py)
        level, message = note
        if level == "warning":
            st.warning(md(message), icon="⚠️")
        else:
            st.caption(md(message))
    if s.get("updated_from"):
        st.info(f"The corpus was updated while this page was open: it is now at version `{info().version}` "
                f"(was `{md(s['updated_from'])}`). Everything on this page is from the new version.", icon="🔄")
    if s["notices"]:
        items = "\n".join(f"- `{n}`" for n in s["notices"])
        st.warning(f"Some parts of the link were ignored:\n{items}", icon="⚠️")
    if s["stale_link"]:
        st.info(f"This link was made on corpus version `{md(s['stale_link'])}`; the corpus is now at version "
                f"`{info().version}`. Counts and articles may differ from what the sender saw.", icon="ℹ️")


def _on_widget(field: str, key: str) -> None:
    v = st.session_state.get(key)
    f = current_filters()
    if field == "search":
        set_filters(f.with_(search=v or ""), bump=False)
    elif field == "dates":
        v = tuple(v or ())
        if len(v) == 2:
            set_filters(f.with_(date_from=v[0], date_to=v[1]), bump=True)
        elif len(v) == 0:
            set_filters(f.without("date"), bump=False)
    elif field == "undated":
        set_filters(f.with_(undated=bool(v)) if v else Filters.make(**{**f.__dict__, "undated": False}), bump=True)
    else:
        set_filters(f.with_(**{field: tuple(v or ())}), bump=False)


def _remove(field: str, val: str | None) -> None:
    f = current_filters()
    if field == "undated":
        set_filters(Filters.make(**{**f.__dict__, "undated": False}))
    elif field == "search":
        set_filters(f.with_(search=""))
    else:
        set_filters(f.without(field, val))


def sidebar() -> None:
    """The shared filters, what is active, clear, and the link to this view."""
    f = current_filters()
    voc = raw("vocabulary")
    span = raw("summary")
    with st.sidebar:
        i = info()
        n_all = value(span, "articles", 0)
        st.markdown(f"**presslens** · {plural(n_all, 'article')} · corpus `{i.version}`")
        st.text_input("Search", value=f.search, key=k("w-search"), on_change=_on_widget, args=("search", k("w-search")),
                      placeholder='words, "a phrase", a OR b, -word',
                      help="Finds words and phrases in article titles and texts, in their inflected forms "
                      "(ru, uk, ro, en: Путин finds Путина), and articles naming an entity whose name contains "
                      "the text. All words must match; \"quotes\" for a phrase, OR for alternatives, "
                      "-word to exclude. Page clutter is not searched.")
        problem = search.parse_error(f.search) if f.search else None
        if problem:
            st.warning(f"Search: {md(problem)}", icon="⚠️")
        langs = value(voc, "languages", [])
        st.multiselect("Languages", options=langs, default=[x for x in f.languages if x in langs], format_func=lang_label,
                       key=k("w-lang"), on_change=_on_widget, args=("languages", k("w-lang")), placeholder="all languages")
        outlets = value(voc, "outlets", [])
        st.multiselect("Outlets", options=outlets, default=[x for x in f.outlets if x in outlets], key=k("w-outlet"),
                       on_change=_on_widget, args=("outlets", k("w-outlet")), placeholder="all outlets")
        sources = value(voc, "sources", [])
        st.multiselect("Cited sources", options=sources, default=[x for x in f.sources if x in sources], key=k("w-source"),
                       on_change=_on_widget, args=("sources", k("w-source")), placeholder="any or no cited source")
        choices = raw("entity_choices")
        names = dict(zip(choices["entity_id"].to_list(), (f"{n} · {t}" for n, t in zip(choices["name"].to_list(), choices["entity_type"].to_list()))))
        missing = [e for e in f.entities if e not in names]
        names.update(entity_names(missing))
        st.multiselect("Entities (articles naming all)", options=list(names), default=list(f.entities), format_func=lambda e: names.get(e, e),
                       key=k("w-entity"), on_change=_on_widget, args=("entities", k("w-entity")), placeholder="any entity")
        first, last = value(span, "first"), value(span, "last")
        if first and last:
            current = (f.date_from, f.date_to) if f.date_from and f.date_to else ()
            st.date_input("Published between", value=current, min_value=min(first, f.date_from or first),
                          max_value=max(last, f.date_to or last), key=k("w-dates"), on_change=_on_widget,
                          args=("dates", k("w-dates")), format="YYYY-MM-DD")
        undated = value(span, "undated", 0)
        if undated:
            st.checkbox(f"Only undated articles ({undated:,})", value=f.undated, key=k("w-undated"),
                        on_change=_on_widget, args=("undated", k("w-undated")))
        chips = links.describe(f, {**entity_names(f.entities), **_story_names(f)})
        if chips:
            st.markdown("**Active filters** (click to remove)")
            for n, (field, label, val) in enumerate(chips):
                st.button(f"✕ {md(label)}", key=f"chip-{n}-{gen()}", on_click=_remove, args=(field, val), type="tertiary")
            st.button("Clear all filters", key=f"clear-{gen()}", on_click=clear_filters, type="primary", width="stretch")
        else:
            st.caption("No filters: showing the whole corpus.")
        st.markdown("**Link to this view**")
        st.code(view_url(), language=None, wrap_lines=True)


# Longest story title shown on its filter chip (the chip sits in the narrow sidebar).
STORY_CHIP = 60


def _story_names(f: Filters) -> dict[str, str]:
    """The chip name of the chosen story and of each story joined to it: the title of its first
    article (its id when untitled)."""
    return {sid: _chip_title(story_title(sid)) for sid in f.viewed_stories}


def _chip_title(title: str) -> str:
    return title if len(title) <= STORY_CHIP else title[: STORY_CHIP - 1] + "…"


def view_url() -> str:
    s = _state()
    base = ""
    try:
        u = st.context.url
        if u:
            parts = urlsplit(u)
            base = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    except Exception:
        base = ""
    doc = s["doc"] if s["page"] == "articles" else None
    return links.page_url(s["page"], s["filters"], doc, info().version, base=base)
