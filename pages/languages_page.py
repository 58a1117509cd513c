"""Languages: the language split, how confident detection was for each article, and the
articles that mix languages."""
import streamlit as st

from presslens import charts, ui

ui.header("Languages", "Which languages the story is told in and how sure the detector was. "
          "Click a bar to filter by language, a point to open that article.")
ui.require_articles()
langs = ui.data("languages")
left, right = st.columns(2)
with left:
    st.subheader("Language split")
    ui.chart(charts.hbar(langs, "language", "articles", share="share", labels=ui.lang_labels()), "languages", pick=("languages",))
with right:
    st.subheader("Detection confidence")
    ui.chart(charts.confidence_strip(ui.data("confidence", ui.CONFIDENCE_POINTS), labels=ui.lang_labels()),
             "confidence", pick=("doc",))
    st.caption(ui.confidence_caption(ui.value(ui.data("summary"), "articles", 0)))

st.subheader("Per language")
st.dataframe(ui.language_table(langs), hide_index=True, width="stretch")

st.subheader("Mixed-language articles")
mixed = ui.data("mixed")
if mixed.height:
    ui.doc_table(mixed, "mixed")
else:
    st.caption("No article in view mixes languages.")

ui.article_table("languages")
