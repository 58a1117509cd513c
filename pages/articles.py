"""Articles: the filtered list (search in the sidebar), exports, and the reader with every
counted mention highlighted by type, page clutter dimmed and cited sources marked."""
import streamlit as st

from presslens import ui

ui.through_app()  # a fresh server's first session may run this file without app.py

ui.header("Articles", "The articles behind the current view. Click a row to read it; in the reader, click a "
          "highlighted name (or pick it below the metadata) to filter the dashboard by that entity.")
doc = ui.current_doc()
if doc:
    ui.reader(doc)
    st.divider()
ui.require_articles()
ui.exports()
ui.duplicates_switch()
ui.article_table("articles", title="Articles in view")
