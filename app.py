"""presslens dashboard entry point: `streamlit run app.py`.

Page config, the optional password gate, the store (built with a progress bar when
missing, never replaced by another corpus's data: presslens.guard), the shared
state <-> URL sync, the sidebar filters, and st.navigation over pages/ (every page is
registered here and only here; tests/test_pages.py reads this registry).
"""
import time

import streamlit as st

from presslens import ui

st.set_page_config(page_title="presslens", page_icon="📰", layout="wide")

# slug (URL path, see presslens.links.PAGES) -> page; the first is the default page at "/".
# Page files are named <slug>.py, after their url_path: on a fresh server Streamlit's first
# session still auto-discovers pages/ and runs the file a link names on its own; the file's
# first line (ui.through_app) then reruns it through this script. Any other name made that
# first session show a "Page not found" dialog over the page (streamlit/streamlit#9992).
PAGES = {
    "overview": st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    "sources": st.Page("pages/sources.py", title="Sources", icon=":material/campaign:", url_path="sources"),
    "languages": st.Page("pages/languages.py", title="Languages", icon=":material/translate:", url_path="languages"),
    "entities": st.Page("pages/entities.py", title="Entities", icon=":material/groups:", url_path="entities"),
    "stories": st.Page("pages/stories.py", title="Stories", icon=":material/hub:", url_path="stories"),
    "health": st.Page("pages/health.py", title="Data health", icon=":material/health_and_safety:", url_path="health"),
    "articles": st.Page("pages/articles.py", title="Articles", icon=":material/article:", url_path="articles"),
}

if ui.locked():  # PRESSLENS_PASSWORD set and not yet given: nothing of the corpus is drawn
    st.navigation(list(PAGES.values()), position="hidden")  # pages known, none listed or run
    ui.password_page()  # stops the run
ui.start()
ui.keep_query_on_nav()  # before st.navigation: a nav click's page switch carries the view's query
page = st.navigation(list(PAGES.values()))
ui.register_pages(PAGES)
ui.set_page(next((slug for slug, p in PAGES.items() if p is page or p.title == page.title), "overview"))
ui.follow_goto()
ui.write_url()
ui.sidebar()
ui.notices()
started = time.perf_counter()
page.run()
ui.footer_timing(page.title, time.perf_counter() - started)
