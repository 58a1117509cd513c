"""Streamlit glue: the only presslens module that imports streamlit.

What goes in and out:
- `ensure_store()` -> StoreInfo of PRESSLENS_STORE, building it from PRESSLENS_CORPUS
  (with a progress bar) when it is missing or, once per session, when it is stale.
- State: one plain dict in st.session_state (`_state()`), the single source of truth for
  filters and the open article. It is seeded from the URL on a session's first run and
  whenever the browser brings a URL that differs from the one we wrote last (Back,
  Forward, an edited link); it is written back to the URL on every run (`write_url`).
  Widgets are seeded from it and write to it in on_change callbacks; their keys carry a
  generation counter bumped on every change made elsewhere (chart click, chip, clear,
  URL), so they are recreated with the new values.
- `data(name, *args)` -> a collected DataFrame from presslens.query, cached with
  st.cache_data on (store directory, store version, Filters, args).
- Drawing helpers the pages call: sidebar, chart (click = filter), article table
  (click = open), reader, exports, empty state.
"""
from __future__ import annotations

import html
import logging
import os
import threading
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl
import streamlit as st

from presslens import charts, links, query, store
from presslens.query import Filters

log = logging.getLogger("presslens.ui")

KEY = "_presslens"
_BUILD_LOCK = threading.Lock()  # one build at a time per server process
# Rows shown in article tables (the export has them all).
LIST_LIMIT = 500
# Entities offered in the sidebar picker (plus any already selected).
PICKER_LIMIT = 500


# ---------------------------------------------------------------- paths, store


def store_root() -> Path:
    return Path(os.environ.get("PRESSLENS_STORE", "data/store"))


def corpus_root() -> Path:
    return Path(os.environ.get("PRESSLENS_CORPUS", "data/corpus"))


def _state() -> dict:
    if KEY not in st.session_state:
        st.session_state[KEY] = {
            "filters": Filters(), "doc": None, "gen": 0, "written": None, "seeded": False,
            "notices": (), "stale_link": None, "goto": None, "checked": False, "timings": {},
            "page": links.PAGES[0], "pages": {},
        }
    return st.session_state[KEY]


def ensure_store() -> store.StoreInfo:
    """The live store; built first (with a visible progress bar) when missing or stale."""
    s = _state()
    root, corpus = store_root(), corpus_root()
    info = store.current(root)
    need = info is None
    if info is not None and not s["checked"]:
        # Checking staleness stats every corpus file: once per session, not per page.
        s["checked"] = True
        try:
            from presslens import build
            need = bool(build.is_stale(str(corpus), str(root)))
        except ImportError:
            need = False
        except Exception as exc:  # a broken check must not hide the data we have
            st.warning(f"Could not check whether the store is up to date: {exc}")
    if need:
        if not corpus.is_dir():
            if info is None:
                st.error(f"No store at `{root}` and no corpus folder at `{corpus}`. "
                         "Set PRESSLENS_CORPUS to a folder of articles (or PRESSLENS_STORE to a built store).")
                st.stop()
        else:
            try:
                from presslens import build
            except ImportError:
                if info is None:
                    st.error(f"No store at `{root}` yet. Build it with "
                             f"`python -m presslens build --corpus {corpus} --store {root}`.")
                    st.stop()
            else:
                with _BUILD_LOCK:
                    bar = st.progress(0.0, text=f"Building the store from {corpus} …")

                    def progress(done: int, total: int) -> None:
                        frac = min(1.0, done / total) if total else 1.0
                        bar.progress(frac, text=f"Building the store from {corpus}: {done:,} of {total:,} files")

                    started = time.perf_counter()
                    summary = build.build(str(corpus), str(root), progress=progress)
                    bar.empty()
                    log.info("built store in %.1fs: %s", time.perf_counter() - started, summary)
                st.toast(f"Store built from {corpus} ({time.perf_counter() - started:.1f}s).")
                info = store.current(root)
    if info is None:
        st.error(f"The store at `{root}` could not be read (no CURRENT version).")
        st.stop()
    return info


def info() -> store.StoreInfo:
    s = _state()
    if "info" not in s:  # a page run without app.py (should not happen): still work
        start()
    return s["info"]


def start() -> None:
    """First thing every run: the store (built if needed), then the state from the URL."""
    _state()["info"] = ensure_store()
    sync_from_url()


def granularity() -> str:
    """Time bucket for the current filters' date span (days, weeks or months)."""
    s = data("summary")
    return query.granularity(value(s, "first"), value(s, "last"))


def show_undated() -> None:
    set_filters(current_filters().with_(undated=True))


# ---------------------------------------------------------------- cached data


def _tables(directory: str) -> query.Tables:
    return query.Tables.scan(store.StoreInfo(Path(directory).parent, "", Path(directory), {}))


def _q(name: str, t: query.Tables, f: Filters, args: tuple) -> pl.LazyFrame:
    a = query.filter_articles(t, f)
    de, en, me = t.doc_entities, t.entities, t.mentions
    table = {
        "summary": lambda: query.summary(a, de),
        "over_time": lambda every: query.over_time(a, every),
        "outlets": lambda: query.outlet_counts(a),
        "languages": lambda: query.language_counts(a),
        "outlet_language": lambda: query.outlet_language(a),
        "sources": lambda: query.source_counts(a),
        "outlet_source": lambda: query.outlet_source(a),
        "uncited": lambda: query.uncited_count(a),
        "confidence": lambda: query.confidence_points(a),
        "mixed": lambda: query.mixed_articles(a),
        "top_entities": lambda et=None, limit=25: query.top_entities(a, de, en, et, limit),
        "entity_types": lambda: query.entity_type_counts(a, de, en),
        "entity_split": lambda ids, by: query.entity_split(a, de, en, ids, by),
        "entity_over_time": lambda eid, every: query.entity_over_time(a, de, eid, every),
        "cooccurring": lambda eid: query.cooccurring(a, de, en, eid),
        "surface_forms": lambda eid: query.surface_forms(a, me, eid),
        "entity_info": lambda ids: query.entity_info(en, list(ids)),
        "entity_choices": lambda: query.entity_choices(en, PICKER_LIMIT),
        "articles": lambda limit=LIST_LIMIT: query.article_list(a, de, en, limit),
        "export": lambda: query.export_frame(a, de, en),
        "article_meta": lambda doc: query.article_meta(t, doc),
        "article_mentions": lambda doc: query.article_mentions(t, doc),
        "vocabulary": lambda: query.vocabulary(t),
        "existing_entities": lambda ids: query.existing(en, "entity_id", list(ids)),
        "existing_docs": lambda ids: query.existing(t.articles, "doc_id", list(ids)),
        "rejects": lambda: t.rejects.select("path", "record", "reason"),
    }[name]
    return table(*args)


@st.cache_data(show_spinner=False, max_entries=1024)
def _cached(directory: str, version: str, name: str, f: Filters, args: tuple) -> pl.DataFrame:
    return _q(name, _tables(directory), f, args).collect()


def data(name: str, *args, filters: Filters | None = None) -> pl.DataFrame:
    """A query result for the current filters (or `filters`), cached per store version."""
    i = info()
    return _cached(str(i.directory), i.version, name, filters if filters is not None else current_filters(), tuple(args))


def raw(name: str, *args) -> pl.DataFrame:
    """A query result that does not depend on the filters (vocabulary, one article)."""
    return data(name, *args, filters=Filters())


def value(df: pl.DataFrame, column: str, default=None):
    """The first value of a column (for one-row results), or default."""
    return df[column][0] if df.height and column in df.columns and df[column][0] is not None else default


# ---------------------------------------------------------------- state <-> URL


def current_filters() -> Filters:
    return _state()["filters"]


def current_doc() -> str | None:
    return _state()["doc"]


def _url_params() -> dict[str, list[str]]:
    qp = st.query_params
    return {k: qp.get_all(k) for k in qp.keys() if k not in links.STREAMLIT_OWN}


def sync_from_url() -> None:
    """Seed the state from the URL on the first run, and on Back/Forward/edited URLs."""
    s = _state()
    params = _url_params()
    if s["seeded"] and (not params or params == s["written"]):
        return  # a nav click drops the query string: the state is still the truth
    ents, docs = links.requested_ids(params)
    voc = raw("vocabulary")
    vocab = links.Vocabulary(
        languages=frozenset(value(voc, "languages", [])), outlets=frozenset(value(voc, "outlets", [])),
        sources=frozenset(value(voc, "sources", [])),
        entities=frozenset(raw("existing_entities", tuple(ents))["entity_id"].to_list()) if ents else frozenset(),
        docs=frozenset(raw("existing_docs", tuple(docs))["doc_id"].to_list()) if docs else frozenset(),
        version=info().version,
    )
    ls = links.parse(params, vocab)
    s.update(filters=ls.filters, doc=ls.doc, notices=ls.ignored, seeded=True,
             stale_link=ls.link_version if ls.stale else None)
    s["gen"] += 1


def write_url() -> None:
    """Rewrite the query string from the state (runs every time: nav clicks drop it)."""
    s = _state()
    doc = s["doc"] if s["page"] == "articles" else None
    params = links.to_params(s["filters"], doc, info().version)
    normal = links.normalise(params)
    if _url_params() != normal:
        st.query_params.from_dict(params)
    s["written"] = normal


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
        st.switch_page(s["pages"][target])


# ---------------------------------------------------------------- labels


def md(s) -> str:
    """Escape text for Streamlit markdown (labels, captions): no links, images or HTML."""
    out = []
    for ch in str(s):
        if ch in "\\`*_{}[]()<>#+-.!|~$:":
            out.append("\\" + ch)
        elif not ch.isprintable():
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


@st.cache_data(show_spinner=False)
def _language_names() -> dict[str, str]:
    try:
        from babel import Locale

        return dict(Locale("en").languages)
    except Exception:
        return {}


def lang_label(code: str | None) -> str:
    if not code or code == "und":
        return "undetermined"
    name = _language_names().get(code)
    return f"{name} ({code})" if name else code


def lang_labels(codes=None) -> dict[str, str]:
    """code -> "Russian (ru)" for the given codes (default: every language in the store)."""
    if codes is None:
        codes = value(raw("vocabulary"), "languages", [])
    return {c: lang_label(c) for c in codes}


def entity_names(ids) -> dict[str, str]:
    ids = tuple(sorted(set(ids)))
    if not ids:
        return {}
    df = raw("entity_info", ids)
    return dict(zip(df["entity_id"].to_list(), df["name"].to_list()))


# ---------------------------------------------------------------- chrome: notices, sidebar, link


def notices() -> None:
    s = _state()
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
        st.markdown(f"**presslens** · {n_all:,} articles · corpus `{i.version}`")
        st.text_input("Search", value=f.search, key=k("w-search"), on_change=_on_widget, args=("search", k("w-search")),
                      placeholder="title, outlet, source, any name form", help="Matches titles, outlets, URLs, cited sources "
                      "and every written form of every named entity (case-insensitive).")
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
        chips = links.describe(f, entity_names(f.entities))
        if chips:
            st.markdown("**Active filters** (click to remove)")
            for n, (field, label, val) in enumerate(chips):
                st.button(f"✕ {md(label)}", key=f"chip-{n}-{gen()}", on_click=_remove, args=(field, val), type="tertiary")
            st.button("Clear all filters", key=f"clear-{gen()}", on_click=clear_filters, type="primary", width="stretch")
        else:
            st.caption("No filters: showing the whole corpus.")
        st.markdown("**Link to this view**")
        st.code(view_url(), language=None, wrap_lines=True)


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


# ---------------------------------------------------------------- page building blocks


def header(title: str, caption: str) -> None:
    st.title(title)
    st.caption(caption)


def require_articles() -> pl.DataFrame:
    """The summary row; when nothing matches, a clear message and a way back (then stop)."""
    s = data("summary")
    if value(s, "articles", 0) == 0:
        if current_filters().active:
            st.info("No articles match these filters. Remove a filter in the sidebar, or start again:", icon="🔍")
            st.button("Clear all filters", key=f"empty-clear-{gen()}", on_click=clear_filters, type="primary")
        else:
            st.info("The corpus has no articles yet. Inputs that could not be read are listed below.", icon="📭")
            rejects = raw("rejects")
            if rejects.height:
                st.dataframe(rejects, hide_index=True)
        st.stop()
    return s


def _apply_pick(pick: tuple[str, ...], key: str) -> None:
    rows = charts.picked(st.session_state.get(key))
    if not rows:
        return
    f = current_filters()
    for field_pos, field in enumerate(pick):
        vals = [r[field_pos] for r in rows if len(r) > field_pos and r[field_pos] is not None]
        if not vals:
            continue
        if field == "period":
            starts = [r[field_pos] for r in rows]
            ends = [r[field_pos + 1] for r in rows if len(r) > field_pos + 1]
            import datetime as dt
            f = f.with_(date_from=dt.date.fromisoformat(min(starts)), date_to=dt.date.fromisoformat(max(ends or starts)))
        elif field == "doc":
            open_article(str(vals[0]))
        elif field == "entities":
            for v in vals:
                f = f.add("entities", str(v))
        elif field in ("languages", "outlets", "sources"):
            f = f.with_(**{field: tuple(str(v) for v in vals)})
    set_filters(f)


def chart(fig, key: str, pick: tuple[str, ...] = ()) -> None:
    """Draw a figure; when `pick` names the filter fields in customdata order, a click applies them."""
    wkey = k(f"chart-{key}")
    config = {"displayModeBar": False, "scrollZoom": False}
    if pick:
        st.plotly_chart(fig, key=wkey, on_select=partial(_apply_pick, pick, wkey), selection_mode="points", config=config)
    else:
        st.plotly_chart(fig, key=wkey, config=config)


def _open_from_table(key: str, doc_ids: tuple[str, ...]) -> None:
    ev = st.session_state.get(key)
    try:
        sel = ev["selection"]
        rows = list(sel.get("rows") or []) + [c[0] for c in (sel.get("cells") or [])]
    except (KeyError, TypeError):
        rows = []
    if rows and 0 <= rows[0] < len(doc_ids):
        open_article(doc_ids[rows[0]])


def article_table(key: str, title: str = "Articles behind this view", limit: int = LIST_LIMIT) -> None:
    """The filtered articles (title, outlet, date, language, top entities); a click opens one."""
    df = data("articles", limit)
    total = value(data("summary"), "articles", 0)
    st.subheader(title)
    shown = f"{df.height:,} of {total:,}" if total > df.height else f"{total:,}"
    st.caption(f"{shown} articles · click a row to open it in the reader")
    view = df.select(
        pl.col("title").fill_null("(no title)"), "outlet", pl.col("published").cast(pl.String).fill_null("undated"),
        pl.col("language").replace_strict(lang_labels(df["language"].unique().to_list()), default=pl.col("language")),
        pl.col("top_entities").list.join(", "), pl.col("cited_sources").list.join(", "),
    )
    wkey = k(f"table-{key}")
    st.dataframe(
        view, key=wkey, on_select=partial(_open_from_table, wkey, tuple(df["doc_id"].to_list())),
        selection_mode=["single-row", "single-cell"], hide_index=True, width="stretch",
        column_config={
            "title": st.column_config.TextColumn("Title", width="large"),
            "outlet": st.column_config.TextColumn("Outlet"),
            "published": st.column_config.TextColumn("Date"),
            "language": st.column_config.TextColumn("Language"),
            "top_entities": st.column_config.TextColumn("Top entities", width="medium"),
            "cited_sources": st.column_config.TextColumn("Cited sources"),
        },
    )


def exports() -> None:
    df = data("export")
    c1, c2 = st.columns(2)
    c1.download_button("Download CSV", query.flatten_lists(df).write_csv().encode("utf-8"), file_name="presslens-articles.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore", key="dl-csv")
    import io

    buf = io.BytesIO()
    df.write_parquet(buf)
    c2.download_button("Download Parquet", buf.getvalue(), file_name="presslens-articles.parquet",
                       mime="application/vnd.apache.parquet", icon=":material/download:", on_click="ignore", key="dl-parquet")


def reader(doc_id: str) -> None:
    """The open article: metadata with evidence, then the text with highlights."""
    meta = raw("article_meta", doc_id)
    if meta.height == 0:
        st.warning("This article is not in the current corpus version.")
        return
    row = meta.row(0, named=True)
    text = store.read_text(info(), doc_id) or ""
    mentions = raw("article_mentions", doc_id)
    st.button("✕ Close article", key=k("close-doc"), on_click=open_article, args=(None,), type="tertiary")
    st.subheader(md(row["title"] or "(no title)"), anchor=False)
    date = row["published"].isoformat() if row["published"] else "undated"
    cols = st.columns(4)
    cols[0].markdown(f"**Outlet**  \n{md(row['outlet'] or 'unknown')}")
    cols[0].caption(f"from {md(row['outlet_source'] or 'none')}: {md(row['outlet_evidence'] or '—')}")
    cols[1].markdown(f"**Published**  \n{date}")
    cols[1].caption(f"from {md(row['date_source'] or 'none')}: {md(row['date_evidence'] or '—')}")
    conf = row["language_confidence"]
    cols[2].markdown(f"**Language**  \n{md(lang_label(row['language']))}")
    cols[2].caption(f"confidence {conf:.2f}" + (" · mixed: " + md(", ".join(row["languages"] or [])) if row["mixed_language"] else "")
                    if conf is not None else "")
    cols[3].markdown(f"**Cited sources**  \n{md(', '.join(row['cited_sources'] or []) or 'none found')}")
    cols[3].caption(f"{len(mentions):,} counted mentions · {row['n_chars'] or len(text):,} characters")
    if row["url"]:
        st.caption(f"URL: {md(row['url'])} · file: {md(row['path'])}")
    else:
        st.caption(f"file: {md(row['path'])}")
    if mentions.height:
        ents = mentions.unique("entity_id", keep="first", maintain_order=True)
        labels = dict(zip(ents["entity_id"].to_list(), ents["name"].to_list()))
        types = dict(zip(ents["entity_id"].to_list(), ents["entity_type"].to_list()))
        pkey = k("reader-pick")
        st.pills("Filter the dashboard by an entity in this article", options=list(labels),
                 format_func=lambda e: f"{labels[e]} · {types[e]}", key=pkey, selection_mode="single",
                 on_change=_pick_entity, args=(pkey,))
    st.html(charts.legend_html(sorted(set(mentions["entity_type"].to_list())) if mentions.height else []))
    f = current_filters()
    st.html(charts.article_html(
        text, mentions, row["boilerplate"], row["cited_spans"],
        entity_link=lambda eid: links.page_url("entities", f.add("entities", eid), None, info().version),
    ))


def _pick_entity(key: str) -> None:
    eid = st.session_state.get(key)
    if eid:
        set_filters(current_filters().add("entities", eid))


def footer_timing(page: str, seconds: float) -> None:
    _state()["timings"][page] = seconds
    log.info("page %s rendered in %.0f ms", page, seconds * 1000)
    st.caption(f"Rendered in {seconds * 1000:.0f} ms · store `{info().directory.name}`")


def language_table(langs: pl.DataFrame) -> pl.DataFrame:
    """The per-language table shown on the Languages page."""
    return langs.select(
        pl.col("language").replace_strict(lang_labels(), default=pl.col("language")).alias("Language"),
        pl.col("articles").alias("Articles"),
        (pl.col("share") * 100).round(1).alias("Share %"),
        pl.col("mean_confidence").round(2).alias("Mean confidence"),
        pl.col("mixed").alias("Mixed-language"),
    )


def doc_table(df: pl.DataFrame, key: str) -> None:
    """Any frame with a doc_id column as a table whose rows open the article (doc_id hidden)."""
    wkey = k(f"doctable-{key}")
    st.dataframe(df.drop("doc_id"), key=wkey, on_select=partial(_open_from_table, wkey, tuple(df["doc_id"].to_list())),
                 selection_mode=["single-row", "single-cell"], hide_index=True, width="stretch")


def entity_type_options() -> list[str]:
    """Entity types present in the current view, in the fixed order of query.ENTITY_TYPES."""
    present = set(data("entity_types")["entity_type"].to_list())
    return [t for t in query.ENTITY_TYPES if t in present] + sorted(present - set(query.ENTITY_TYPES))


def focus_choices(top: pl.DataFrame) -> dict[str, str]:
    """Entities offered for the detail view: the filtered entities first, then the top ones."""
    chosen = current_filters().entities
    names = entity_names(chosen)
    out = {e: names.get(e, e) for e in chosen}
    for e, n, t in top.select("entity_id", "name", "entity_type").rows():
        out.setdefault(e, f"{n} · {t}")
    return out


def ids(df: pl.DataFrame, column: str = "entity_id", n: int | None = None) -> tuple[str, ...]:
    vals = df[column].to_list() if column in df.columns else []
    return tuple(vals[:n] if n else vals)


def focus_entity(key: str) -> None:
    eid = st.session_state.get(key)
    if eid and eid not in current_filters().entities:
        set_filters(current_filters().add("entities", eid))


def surface_table(forms: pl.DataFrame) -> pl.DataFrame:
    return forms.select(
        pl.col("surface").alias("Written as"), pl.col("lemma").alias("Base form"),
        pl.col("language").replace_strict(lang_labels(), default=pl.col("language")).alias("Language"),
        pl.col("mentions").alias("Mentions"), pl.col("articles").alias("Articles"),
    )


def entity_stats(eid: str) -> dict:
    """Counts for the entity detail header: in view (filters applied) and in the whole corpus."""
    split = data("entity_split", (eid,), "language")
    details = raw("entity_info", (eid,))
    return {
        "mentions": int(split["mentions"].sum()) if split.height else 0,
        "articles": int(split["articles"].sum()) if split.height else 0,  # one language per article
        "corpus_mentions": value(details, "mention_count", 0),
        "corpus_articles": value(details, "doc_count", 0),
        "names": value(details, "names", ""),
        "entity_type": value(details, "entity_type"),
    }
