"""Overview: size of the selection, date coverage (undated counted, never dropped),
articles over time, outlets, languages, and outlet by language."""
import streamlit as st

from presslens import charts, ui

ui.through_app()  # a fresh server's first session may run this file without app.py

ui.header("Overview", "How big the story is, when it was published, by whom and in which languages. "
          "Click any bar or circle to filter by it.")
s = ui.require_articles()
c = st.columns(6)
c[0].metric("Articles", f"{ui.value(s, 'articles', 0):,}")
c[1].metric("Outlets", f"{ui.value(s, 'outlets', 0):,}")
c[2].metric("Languages", f"{ui.value(s, 'languages', 0):,}")
c[3].metric("Entities", f"{ui.value(ui.data('entity_total'), 'entities', 0):,}")
first, last = ui.value(s, "first"), ui.value(s, "last")
c[4].metric("Dated", f"{ui.value(s, 'dated', 0):,}", help="Articles with a publication date.")
c[5].metric("Undated", f"{ui.value(s, 'undated', 0):,}", help="Articles whose date could not be found. "
            "They are left out of the time chart only.")
if first:
    st.caption(f"Date coverage: **{first.isoformat()}** to **{last.isoformat()}**.")

st.subheader("Articles over time")
over_time = ui.data("over_time", ui.granularity())
if over_time.height:
    ui.chart(charts.time_bars(over_time), "time", pick=("period",))
else:
    st.info("None of these articles has a publication date, so there is nothing to place on a time axis.")
undated = ui.value(s, "undated", 0)
if undated and not ui.current_filters().undated:
    left, right = st.columns([3, 1])
    left.caption(ui.undated_caption(undated))
    right.button("Show the undated articles", on_click=ui.show_undated, key=ui.k("undated-btn"))

left, right = st.columns(2)
with left:
    st.subheader("Outlets")
    outlets = ui.data("outlets")
    ui.chart(charts.hbar(outlets, "outlet", "articles", share="share"), "outlets", pick=("outlets",))
with right:
    st.subheader("Languages")
    langs = ui.data("languages")
    ui.chart(charts.hbar(langs, "language", "articles", share="share", labels=ui.lang_labels()), "languages", pick=("languages",))

st.subheader("Outlet by language")
ui.chart(charts.bubbles(ui.data("outlet_language"), x="language", y="outlet", size="articles", custom=["outlet", "language"],
                        labels=ui.lang_labels()), "outlet-language", pick=("outlets", "languages"))

ui.article_table("overview")
