"""Session state and its URL: one plain dict in st.session_state, seeded from the URL.

The dict (`_state()`) is the single source of truth for filters, the open article and the
page. It is seeded from the URL on a session's first run and whenever the browser brings a
URL that differs from the one we wrote last (Back, Forward, an edited link), and written
back to the URL on every run (`write_url`). Widgets are seeded from it and write to it in
on_change callbacks; their keys carry a generation counter (`k`) bumped on every change
made elsewhere (chart click, chip, clear, URL), so they are recreated with the new values.
"""
from __future__ import annotations

import streamlit as st

from presslens import links
from presslens.query import Filters


KEY = "_presslens"


def _state() -> dict:
    if KEY not in st.session_state:
        st.session_state[KEY] = {
            "filters": Filters(), "doc": None, "gen": 0, "written": None, "seeded": False,
            "notices": (), "stale_link": None, "goto": None, "checked": False, "timings": {},
            "page": links.PAGES[0], "pages": {},
        }
    return st.session_state[KEY]


def current_filters() -> Filters:
    return _state()["filters"]


def current_doc() -> str | None:
    return _state()["doc"]


def _url_params() -> dict[str, list[str]]:
    qp = st.query_params
    return {k: qp.get_all(k) for k in qp.keys() if k not in links.STREAMLIT_OWN}


def sync_from_url() -> None:
    """Seed the state from the URL on the first run, and on Back/Forward/edited URLs."""
    from presslens.ui.data import raw, value  # late: data and storage import this module
    from presslens.ui.storage import info

    s = _state()
    params = _url_params()
    if s["seeded"] and (not params or params == s["written"]):
        return  # a nav click drops the query string: the state is still the truth
    ents, docs = links.requested_ids(params)
    story = links.requested_story(params)
    voc = raw("vocabulary")
    vocab = links.Vocabulary(
        languages=frozenset(value(voc, "languages", [])), outlets=frozenset(value(voc, "outlets", [])),
        sources=frozenset(value(voc, "sources", [])),
        entities=frozenset(raw("existing_entities", tuple(ents))["entity_id"].to_list()) if ents else frozenset(),
        docs=frozenset(raw("existing_docs", tuple(docs))["doc_id"].to_list()) if docs else frozenset(),
        stories=frozenset(raw("existing_stories", tuple(story))["story_id"].to_list()) if story else frozenset(),
        version=info().version,
    )
    ls = links.parse(params, vocab)
    f, ignored = ls.filters, ls.ignored
    if f.part:  # the parser cannot know how many parts the split has
        n_parts = value(raw("story_part_count", f.story, f.split), "parts", 0)
        if f.part > n_parts:
            ignored += (f"part={f.part}: the story has {n_parts} part{'s' * (n_parts != 1)} at link strength "
                        f"{f.split:g}",)
            f = f.with_(part=0)
    s.update(filters=f, doc=ls.doc, notices=ignored, seeded=True,
             stale_link=ls.link_version if ls.stale else None)
    s["gen"] += 1


def write_url() -> None:
    """Rewrite the query string from the state (runs every time: nav clicks drop it).

    Each change of the query string the browser sees is one history entry, so the URL is
    changed only when the view changed. A sidebar navigation click reaches the server
    without the query string while the browser's address keeps the previous one (Streamlit
    pushes it with the new path): that previous one (`written`) is the base then. The
    corpus version alone is not a new view: it is not added to an address that lacks it
    (the landing page would take two history entries); it comes with the next change, and
    the sidebar's "Link to this view" always carries it.
    """
    from presslens.ui.storage import info  # late: storage imports this module

    s = _state()
    doc = s["doc"] if s["page"] == "articles" else None
    params = links.to_params(s["filters"], doc, info().version)
    normal = links.normalise(params)
    current = _url_params()
    shown = current if current or not s["seeded"] or s["written"] is None else s["written"]
    desired = shown if _without_version(shown) == _without_version(normal) else normal
    if current != desired:
        # Same text as the address bar when only the nav click dropped it: Streamlit then
        # updates its own copy without a new history entry.
        st.query_params.from_dict(desired)
    s["written"] = desired


def keep_query_on_nav() -> None:
    """Called just before st.navigation. A sidebar navigation click reaches the server with
    an empty query string; Streamlit then pushes the new page's path with whatever query it
    holds when it handles the page switch, and our `write_url` (after st.navigation) sends
    the view's query in a separate message. In Streamlit 1.67 the browser handles these two
    in either order, so a click took one history entry or, at random, two ("/articles",
    then "/articles?lang=ru"), and Back stopped on the bare one. Restoring the last written
    query here, before the page switch message, makes the switch carry it: one entry. (The
    article `doc` is left out: it belongs to the Articles page only, and write_url adds it
    back there.)"""
    s = _state()
    if s["seeded"] and s["written"] and not _url_params():
        keep = {k: v for k, v in s["written"].items() if k != "doc"}
        if keep:
            st.query_params.from_dict(keep)


def _without_version(params: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: v for k, v in params.items() if k != "v"}


def set_filters(f: Filters, *, bump: bool = True) -> None:
    s = _state()
    if f != s["filters"]:
        s["filters"] = f
        s["notices"] = ()
    if bump:
        s["gen"] += 1


def open_article(doc_id: str | None) -> None:
    s = _state()
    s["doc"] = doc_id
    if doc_id and s["page"] != "articles":
        s["goto"] = "articles"


def clear_filters() -> None:
    set_filters(Filters())


def show_undated() -> None:
    set_filters(current_filters().with_(undated=True))


def gen() -> int:
    return _state()["gen"]


def k(name: str) -> str:
    """A widget key that changes whenever the state was changed from elsewhere."""
    return f"{name}-{gen()}"


def register_pages(pages: dict) -> None:
    _state()["pages"] = pages


def set_page(slug: str) -> None:
    s = _state()
    s["page"] = slug


def follow_goto() -> None:
    s = _state()
    target, s["goto"] = s["goto"], None
    if target and target != s["page"] and target in s["pages"]:
        from presslens.ui.storage import info  # late: storage imports this module

        # The new page's query string goes with the switch (not the path, then an empty
        # query, then the query). Streamlit 1.67 still records two history entries: the
        # frontend pushes the new query on the old path (page_info_changed), then the new
        # path (new session); it replaces instead of pushing only during Back/Forward, and
        # no server call changes path and query at once. The first entry is harmless: on
        # Back, write_url rewrites it (replace, not push) to the previous view's address.
        doc = s["doc"] if target == "articles" else None
        params = links.to_params(s["filters"], doc, info().version)
        s["written"] = links.normalise(params)
        st.switch_page(s["pages"][target], query_params=params)


def through_app() -> None:
    """First line of every page file. On a fresh server, before any session has run app.py,
    Streamlit still treats pages/ as a legacy auto-discovered folder: the first session to
    open a link like /stories?story=... runs pages/stories.py on its own (no sidebar, no
    state, no URL sync). Here that run leaves legacy mode for the whole server and runs
    app.py in its place, which resolves the same page by its url_path and draws it, in this
    same run (so a click that started the run is not lost), then ends the run. (Streamlit
    1.67, streamlit/streamlit#9992: the page file is named after its url_path so that the
    legacy lookup finds it instead of showing a "Page not found" dialog over the page.
    AppTest starts every run in that legacy mode.)"""
    from pathlib import Path

    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if not getattr(PagesManager, "uses_pages_directory", None):
        return
    PagesManager.uses_pages_directory = False
    ctx = get_script_run_ctx()
    main = Path(ctx.pages_manager.main_script_path if ctx else Path(__file__).resolve().parents[2] / "app.py")
    exec(compile(main.read_text(encoding="utf-8"), str(main), "exec"), {"__name__": "__main__", "__file__": str(main)})
    st.stop()
