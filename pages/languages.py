"""Languages: the language split, how confident detection was (binned), the least confident
detections and the articles that mix languages."""
import streamlit as st

from presslens import charts, ui

ui.through_app()  # a fresh server's first session may run this file without app.py

ui.header("Languages", "Which languages the story is told in and how sure the detector was. "
          "Click a bar to filter by language, a row to open that article.")
ui.require_articles()
langs = ui.data("languages")
left, right = st.columns(2)
with left:
    st.subheader("Language split")
    ui.chart(charts.hbar(langs, "language", "articles", share="share", labels=ui.lang_labels()), "languages", pick=("languages",))
with right:
    st.subheader("Detection confidence")
    ui.chart(charts.confidence_bars(ui.data("confidence"), labels=ui.lang_labels()), "confidence", pick=("languages",))
    st.caption("Articles per confidence band, stacked by language. Click a bar to filter by its language.")

st.subheader("Per language")
st.dataframe(ui.language_table(langs), hide_index=True, width="stretch")

st.subheader("Least confident detections")
low = ui.data("low_confidence")
if low.height:
    ui.doc_table(low, "low-confidence")
else:
    st.caption("Every article in view was detected with confidence 0.8 or more.")

st.subheader("Mixed-language articles")
mixed = ui.data("mixed")
if mixed.height:
    ui.doc_table(mixed, "mixed")
else:
    st.caption("No article in view mixes languages.")

ui.article_table("languages")
