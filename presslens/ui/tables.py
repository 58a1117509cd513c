"""Page building blocks: headers, empty states, charts whose marks filter, article tables
whose rows open the reader, and the small tables of the Languages and Entities pages."""
from __future__ import annotations

import logging
from functools import partial

import polars as pl
import streamlit as st

from presslens import charts, query, stories
from presslens.wording import grouping_reliability, plural
from presslens.ui.data import LIST_LIMIT, data, raw, story_title, value
from presslens.ui.labels import entity_names, lang_labels
from presslens.ui.state import _state, clear_filters, current_filters, gen, k, open_article, set_filters
from presslens.ui.storage import info


log = logging.getLogger("presslens.ui")


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
        elif field == "split":
            f = f.with_(split=float(vals[0]), part=0)
    set_filters(f)


def chart(fig, key: str, pick: tuple[str, ...] = ()) -> None:
    """Draw a figure; when `pick` names the filter fields in customdata order, a click applies them."""
    wkey = k(f"chart-{key}")
    config = {"displayModeBar": False, "scrollZoom": False}
    if pick:
        st.plotly_chart(fig, key=wkey, on_select=partial(_apply_pick, pick, wkey), selection_mode="points", config=config)
    else:
        st.plotly_chart(fig, key=wkey, config=config)


def _selected_row(key: str, n: int) -> int | None:
    """The first row a dataframe widget's selection (row or cell) points at, or None."""
    ev = st.session_state.get(key)
    try:
        sel = ev["selection"]
        rows = list(sel.get("rows") or []) + [c[0] for c in (sel.get("cells") or [])]
    except (KeyError, TypeError):
        return None
    return rows[0] if rows and 0 <= rows[0] < n else None


def _open_from_table(key: str, doc_ids: tuple[str, ...]) -> None:
    i = _selected_row(key, len(doc_ids))
    if i is not None:
        open_article(doc_ids[i])


# Article table columns and their widths in pixels. Together with the row-selection column
# (~35 px) they fit the ~980 px main area of a 1440 px wide window with the sidebar open, so
# no column is cut off behind a horizontal scroll bar; long cells end in "…" (full text on
# hover and in the reader). Content-sized columns made the table ~1,160 px wide.
ARTICLE_COLUMNS = {
    "title": ("Title", 300),
    "outlet": ("Outlet", 120),
    "published": ("Date", 85),
    "language": ("Language", 105),
    "top_entities": ("Top entities", 200),
    "cited_sources": ("Cited sources", 120),
}


def article_table(key: str, title: str = "Articles behind this view", limit: int = LIST_LIMIT) -> None:
    """The filtered articles (title, outlet, date, language, top entities); a click opens one."""
    df = data("articles", limit)
    total = value(data("summary"), "articles", 0)
    st.subheader(title)
    shown = f"{df.height:,} of {plural(total, 'article')}" if total > df.height else plural(total, "article")
    st.caption(f"{shown} · click a row to open it in the reader")
    view = df.select(
        (pl.when(pl.col("duplicate")).then(pl.lit("⧉ copy · ")).otherwise(pl.lit("")) + pl.col("title").fill_null("(no title)"))
        .alias("title"),
        "outlet", pl.col("published").cast(pl.String).fill_null("undated"),
        pl.col("language").replace_strict(lang_labels(df["language"].unique().to_list()), default=pl.col("language")),
        pl.col("top_entities").list.join(", "), pl.col("cited_sources").list.join(", "),
    )
    wkey = k(f"table-{key}")
    st.dataframe(
        view, key=wkey, on_select=partial(_open_from_table, wkey, tuple(df["doc_id"].to_list())),
        selection_mode=["single-row", "single-cell"], hide_index=True, width="stretch",
        column_config={name: st.column_config.TextColumn(label, width=px) for name, (label, px) in ARTICLE_COLUMNS.items()},
    )


def _on_duplicates(key: str) -> None:
    set_filters(current_filters().with_(duplicates=bool(st.session_state.get(key))))


def duplicates_switch() -> None:
    """A toggle listing duplicate copies too (shown only when the view has some); copies
    are never counted, the switch changes lists only."""
    copies = value(data("summary"), "duplicates", 0)
    if copies:
        wkey = k("dup-switch")
        st.toggle(f"List duplicate copies too ({copies:,} in view, never counted)", value=current_filters().duplicates,
                  key=wkey, on_change=_on_duplicates, args=(wkey,))


def doc_table(df: pl.DataFrame, key: str) -> None:
    """Any frame with a doc_id column as a table whose rows open the article (doc_id hidden)."""
    wkey = k(f"doctable-{key}")
    st.dataframe(df.drop("doc_id"), key=wkey, on_select=partial(_open_from_table, wkey, tuple(df["doc_id"].to_list())),
                 selection_mode=["single-row", "single-cell"], hide_index=True, width="stretch")


def language_table(langs: pl.DataFrame) -> pl.DataFrame:
    """The per-language table shown on the Languages page."""
    return langs.select(
        pl.col("language").replace_strict(lang_labels(), default=pl.col("language")).alias("Language"),
        pl.col("articles").alias("Articles"),
        (pl.col("share") * 100).round(1).alias("Share %"),
        pl.col("mean_confidence").round(2).alias("Mean confidence"),
        pl.col("mixed").alias("Mixed-language"),
    )


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


def footer_timing(page: str, seconds: float) -> None:
    _state()["timings"][page] = seconds
    log.info("page %s rendered in %.0f ms", page, seconds * 1000)
    st.caption(f"Rendered in {seconds * 1000:.0f} ms · store `{info().directory.name}`")


# ---------------------------------------------------------------- stories


def _pick_story(key: str, story_ids: tuple[str, ...]) -> None:
    i = _selected_row(key, len(story_ids))
    if i is not None:
        set_filters(current_filters().with_(story=story_ids[i], split=None, part=0, joined=()))  # that story alone


def split_control() -> None:
    """The link strength the chosen story is split at ("as built": not split). Changing it
    shows the whole story again (part numbers belong to one strength)."""
    f = current_filters()
    options: list = [None, *query.SPLIT_STEPS]
    if f.split is not None and f.split not in options:  # a link may carry any two-decimal value
        options = sorted([f.split, *query.SPLIT_STEPS])
        options.insert(0, None)
    wkey = k("story-split")

    def changed() -> None:
        set_filters(current_filters().with_(split=st.session_state[wkey], part=0))

    st.select_slider("Split at link strength", options, value=f.split, key=wkey, on_change=changed,
                     format_func=lambda v: "as built" if v is None else f"≥ {v:g}",
                     help="Group this story's articles again from only its links at least this strong: a story "
                          "chained together by weak links (same people, another day or event) falls apart into parts.")


def grouping_note() -> None:
    """How far the store's stories can be trusted (the measured figures of the scorer that
    grouped them), folded under the Stories header; nothing when the stories came with the
    articles."""
    text = grouping_reliability(stories.built_by(str(info().directory)))
    if text:
        with st.expander("How far to trust these stories"):
            st.markdown(text)
            _label_download()


def _label_download() -> None:
    """The articles in view as a story label file to correct by hand and measure the grouping
    with (`python -m presslens.eval stories`), when there are few enough to label."""
    n = value(data("summary"), "articles", 0)
    st.markdown("**On your own articles.** Download the articles in view with the story each was put in, "
                "correct the `story` column by hand (articles reporting one event share a value), then run "
                "`python -m presslens.eval stories CORPUS_FOLDER --gold labels.csv`: it groups those articles again "
                "and prints the pairwise precision, recall and F1 against your labels.")
    if n > query.LABEL_MAX:
        st.caption(f"{n:,} articles are in view: narrow the view to at most {query.LABEL_MAX:,} (a date range, an "
                   "outlet, a search) to label them by hand.")
        return
    labels = data("story_labels")
    if labels["path"].is_duplicated().any():
        st.caption("Some articles in view share a file (records of a CSV or JSON-lines file): the evaluation reads "
                   "one article per file, so it cannot take labels for them. Narrow the view to articles of their "
                   "own files to label them.")
        return
    from presslens import export

    st.download_button(f"Download {plural(n, 'article')} as story labels (CSV)",
                       data=export.neutralise(labels).write_csv().encode("utf-8"),
                       file_name="presslens-story-labels.csv", mime="text/csv", icon="📥", on_click="ignore",
                       key=k("story-labels"))


def span_control() -> None:
    """Which stories the list shows: all, those told by several outlets, or in several languages."""
    options = ("", "outlets", "languages")
    labels = {"": "all stories", "outlets": "by several outlets", "languages": "in several languages"}
    f = current_filters()
    wkey = k("story-span")

    def changed() -> None:
        set_filters(current_filters().with_(story_span=st.session_state[wkey] or ""))

    st.radio("Show", options, index=options.index(f.story_span) if f.story_span in options else 0, key=wkey,
             format_func=labels.get, horizontal=True, on_change=changed)


def _pick_part(key: str, parts: tuple[int, ...]) -> None:
    i = _selected_row(key, len(parts))
    if i is not None:
        set_filters(current_filters().with_(part=parts[i]))


def part_table(parts: pl.DataFrame, key: str) -> None:
    """The parts of the split story (presslens.query.story_parts); a row click follows one part
    (on every page, like a story)."""
    shown = current_filters().part
    view = parts.select(
        pl.when(pl.col("part") == shown).then(pl.lit("▶")).otherwise(pl.lit("")).alias("Shown"),
        pl.col("part").alias("Part"), pl.col("articles").alias("Articles"), pl.col("in_view").alias("In view"),
        pl.col("title").fill_null("(none in view)").alias("First article in view"), *_spread_columns())
    _pick_table(view, k(f"parts-{key}"), _pick_part, tuple(parts["part"].to_list()))


def cut_table(cut: pl.DataFrame) -> pl.DataFrame:
    """The links a split cut, for display (both titles, their parts, strength, what they share)."""
    return cut.select(pl.col("title_a").fill_null("(no title)").alias("Article"), pl.col("part_a").alias("Part"),
                      pl.col("title_b").fill_null("(no title)").alias("Linked to"), pl.col("part_b").alias("Its part"),
                      pl.col("score").round(2).alias("Strength"), pl.col("shared").list.join(", ").alias("Shared names"))


def story_table(stories: pl.DataFrame, key: str) -> None:
    """The largest stories (presslens.query.story_list) as a table; a row click filters the
    dashboard to that story."""
    view = stories.select(
        pl.col("title").fill_null("(no title)").alias("First article"), pl.col("size").alias("Articles"),
        *_spread_columns())
    _pick_table(view, k(f"stories-{key}"), _pick_story, tuple(stories["story_id"].to_list()))


def _spread_columns() -> list[pl.Expr]:
    """A story's (or part's) languages, outlets and first and last date, for display."""
    return [pl.col("languages").list.join(", ").alias("Languages"), pl.col("outlets").list.join(", ").alias("Outlets"),
            pl.col("first").cast(pl.String).fill_null("undated").alias("First"),
            pl.col("last").cast(pl.String).fill_null("undated").alias("Last")]


def _pick_table(view: pl.DataFrame, wkey: str, on_pick, values: tuple) -> None:
    """A table whose row (or cell) click calls on_pick(wkey, values): the row's value applies."""
    st.dataframe(view, key=wkey, on_select=partial(on_pick, wkey, values),
                 selection_mode=["single-row", "single-cell"], hide_index=True, width="stretch")


def related_table(related: pl.DataFrame, key: str) -> None:
    """Stories that name what the chosen one names, near its dates (presslens.query.related_stories);
    a row click opens that story."""
    view = related.select(
        pl.col("title").fill_null("(no title)").alias("First article"), pl.col("articles").alias("Articles"),
        pl.col("shared").list.join(", ").alias("Names it shares"),
        pl.col("first").cast(pl.String).fill_null("undated").alias("First"),
        pl.col("last").cast(pl.String).fill_null("undated").alias("Last"))
    _pick_table(view, k(f"related-{key}"), _pick_story, tuple(related["story_id"].to_list()))


def join_control(related: pl.DataFrame) -> None:
    """Stories viewed together with the chosen one, as one (Filters.joined): picked among the
    related stories (and those already joined)."""
    f = current_filters()
    titles = dict(zip(related["story_id"].to_list(), related["title"].fill_null("(no title)").to_list()))
    for sid in f.joined:
        titles.setdefault(sid, story_title(sid))
    wkey = k("story-join")

    def changed() -> None:
        set_filters(current_filters().with_(joined=tuple(st.session_state[wkey])))

    st.multiselect("View together with this story", list(titles), default=list(f.joined), key=wkey,
                   format_func=lambda sid: titles.get(sid, sid), on_change=changed,
                   help="One event the grouping split into several stories: its timeline, evidence and outlets "
                        "as one story, on every page (join= in the link).")


def leave_story() -> None:
    set_filters(current_filters().with_(story=""))


def shared_table(shared: pl.DataFrame) -> pl.DataFrame:
    """The story's shared evidence for display (kind, what, links sharing it)."""
    kinds = {"entity": "entity", "source": "cited source", "figure": "figure", "date": "date"}
    return shared.select(pl.col("kind").replace_strict(kinds, default=pl.col("kind")).alias("Shared"),
                         pl.col("name").alias("What"), pl.col("links").alias("Pairs of articles"))


def outlet_table(diff: pl.DataFrame) -> pl.DataFrame:
    """Per outlet: its articles in the story and the entities only it names."""
    return diff.select(pl.col("outlet").alias("Outlet"), pl.col("articles").alias("Articles"),
                       pl.col("only_here").list.join(", ").alias("Names that no other outlet names"))


def story_summary(timeline: pl.DataFrame) -> dict:
    """Counts for the chosen story's header: articles (copies excluded), outlets, languages,
    the first publisher(s) and the first date."""
    orig = timeline.filter(pl.col("duplicate_of").is_null())
    first = orig.filter(pl.col("first"))
    return {"articles": orig.height, "outlets": orig["outlet"].n_unique(), "languages": orig["language"].n_unique(),
            "first": ", ".join(first["outlet"].unique(maintain_order=True).to_list()) or "undated only",
            "first_date": value(first, "published")}


# ---------------------------------------------------------------- data health


def filter_button(label: str, key: str, **changes) -> None:
    """A button that narrows the dashboard (Filters.with_(**changes)) to the articles behind a number."""
    st.button(label, key=k(f"drill-{key}"), on_click=lambda: set_filters(current_filters().with_(**changes)))


def _pick_cluster(key: str, outlets: tuple[str, ...], days: tuple) -> None:
    i = _selected_row(key, len(outlets))
    if i is not None:
        set_filters(current_filters().with_(outlets=(outlets[i],), date_from=days[i], date_to=days[i]))


def cluster_table(clusters: pl.DataFrame, key: str) -> None:
    """Outlets whose dates cluster on one day; a row click shows that outlet's articles of that day."""
    view = clusters.select(pl.col("outlet").alias("Outlet"), pl.col("articles").alias("Dated articles"),
                           pl.col("day").cast(pl.String).alias("Day"), pl.col("on_day").alias("On that day"),
                           (pl.col("share") * 100).round(0).cast(pl.Int64).alias("Share %"))
    wkey = k(f"clusters-{key}")
    st.dataframe(view, key=wkey, hide_index=True, width="stretch", selection_mode=["single-row", "single-cell"],
                 on_select=partial(_pick_cluster, wkey, tuple(clusters["outlet"].to_list()), tuple(clusters["day"].to_list())))
