"""Sources: the publishing outlets and the sources they cite (counts and shares), and
which outlets cite which sources."""
import streamlit as st

from presslens import charts, ui

ui.through_app()  # a fresh server's first session may run this file without app.py

ui.header("Sources", "Who publishes the story and whom they cite. Shares are of the articles in view; "
          "an article can cite several sources. Click a bar or circle to filter by it.")
s = ui.require_articles()
total = ui.value(s, "articles", 0)
left, right = st.columns(2)
with left:
    st.subheader("Publishing outlets")
    ui.chart(charts.hbar(ui.data("outlets"), "outlet", "articles", share="share"), "outlets", pick=("outlets",))
with right:
    st.subheader("Cited sources")
    cited = ui.data("sources")
    uncited = ui.value(ui.data("uncited"), "uncited", 0)
    if cited.height:
        ui.chart(charts.hbar(cited, "source", "articles", share="share", value_name="articles citing"), "sources", pick=("sources",))
    else:
        st.info("No cited source was found in these articles.")
    st.caption(ui.uncited_caption(uncited, total))

st.subheader("Which outlets cite which sources")
matrix = ui.data("outlet_source")
if matrix.height:
    ui.chart(charts.bubbles(matrix, x="source", y="outlet", size="articles", custom=["outlet", "source"]),
             "outlet-source", pick=("outlets", "sources"))
    st.caption("Each circle: the number of that outlet's articles citing that source. Click one to see them.")
else:
    st.info("No outlet in view cites a recognised source.")

ui.article_table("sources")
