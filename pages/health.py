"""Data health: what an analyst must know before trusting the charts. Inputs that could not
be read, duplicate copies, undated articles, uncertain or mixed language, unknown outlets,
and outlets whose dates cluster on one day; each number leads to what is behind it."""
import streamlit as st

from presslens import ui

ui.through_app()  # a fresh server's first session may run this file without app.py

ui.header("Data health", "What to check before trusting the charts: every number counts the articles in view "
          "(rejected inputs: the whole corpus). Use the buttons and tables to see what is behind a number.")
rejects = ui.raw("rejects")
h = ui.data("health")
clusters = ui.data("date_clusters")
c = st.columns(4)
c[0].metric("Rejected inputs", f"{rejects.height:,}")
c[1].metric("Duplicate copies", f"{ui.value(h, 'duplicates', 0):,}")
c[2].metric("Undated", f"{ui.value(h, 'undated', 0):,}")
c[3].metric("Unknown outlet", f"{ui.value(h, 'unknown_outlet', 0):,}")
c = st.columns(4)
c[0].metric("Uncertain language", f"{ui.value(h, 'uncertain', 0):,}",
            help=f"Language detected with confidence below {ui.LOW_CONFIDENCE}")
c[1].metric("Language undetermined", f"{ui.value(h, 'undetermined', 0):,}")
c[2].metric("Mixed language", f"{ui.value(h, 'mixed', 0):,}")
c[3].metric("Outlets with clustered dates", f"{clusters.height:,}")

st.subheader("Rejected inputs")
if rejects.height:
    st.dataframe(rejects, hide_index=True, width="stretch")
else:
    st.caption("Every input file was read.")
ui.require_articles()

st.subheader("Articles behind the numbers")
left, right = st.columns(2)
with left:
    if ui.value(h, "duplicates", 0):
        ui.filter_button("List the duplicate copies", "dup", duplicates=True)
    if ui.value(h, "undated", 0):
        ui.filter_button("Show only the undated articles", "undated", undated=True)
    if ui.value(h, "unknown_outlet", 0):
        ui.filter_button("Show the articles with an unknown outlet", "unknown", outlets=(ui.UNKNOWN_OUTLET,))
    if not (ui.value(h, "duplicates", 0) or ui.value(h, "undated", 0) or ui.value(h, "unknown_outlet", 0)):
        st.caption("No duplicate copies, undated articles or unknown outlets in view.")
with right:
    st.markdown("**Outlets whose dates cluster on one day**")
    if clusters.height:
        ui.cluster_table(clusters, "clusters")
        st.caption(f"At least {ui.CLUSTER_MIN} dated articles, {ui.CLUSTER_SHARE:.0%} of them on one day: likely a "
                   "scrape date, not publication dates. Click a row to see them.")
    else:
        st.caption(f"No outlet has {ui.CLUSTER_SHARE:.0%} of its dated articles (at least {ui.CLUSTER_MIN}) on one day.")

st.subheader("Uncertain or mixed language")
low = ui.data("low_confidence")
mixed = ui.data("mixed")
if low.height:
    ui.doc_table(low, "health-low")
if mixed.height:
    ui.doc_table(mixed, "health-mixed")
if not (low.height or mixed.height):
    st.caption("Every article in view was detected confidently and in one language.")

ui.article_table("health")
