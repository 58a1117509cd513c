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
# Page files are named <slug>_page.py on purpose: Streamlit also auto-discovers pages/ and,
# on a fresh server or in AppTest, a file whose name equals a url_path is run on its own,
# without this script (no sidebar, no state). Distinct names make it fall back to app.py.
PAGES = {
    "overview": st.Page("pages/overview_page.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    "sources": st.Page("pages/sources_page.py", title="Sources", icon=":material/campaign:", url_path="sources"),
    "languages": st.Page("pages/languages_page.py", title="Languages", icon=":material/translate:", url_path="languages"),
    "entities": st.Page("pages/entities_page.py", title="Entities", icon=":material/groups:", url_path="entities"),
    "stories": st.Page("pages/stories_page.py", title="Stories", icon=":material/hub:", url_path="stories"),
    "health": st.Page("pages/health_page.py", title="Data health", icon=":material/health_and_safety:", url_path="health"),
    "articles": st.Page("pages/articles_page.py", title="Articles", icon=":material/article:", url_path="articles"),
}

if ui.locked():  # PRESSLENS_PASSWORD set and not yet given: nothing of the corpus is drawn
    st.navigation(list(PAGES.values()), position="hidden")  # pages known, none listed or run
    ui.password_page()  # stops the run
ui.start()
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
