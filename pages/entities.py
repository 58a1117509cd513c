"""Entities: top people, places, organisations... by mentions and articles, split by
language and outlet; for one entity its mentions over time, co-occurring entities and
every written form counted."""
import streamlit as st

from presslens import charts, ui

ui.through_app()  # a fresh server's first session may run this file without app.py

ui.header("Entities", "Who and what is named, counted once per real-world entity whatever the language or "
          "inflection. Click a bar or circle to filter by it.")
ui.require_articles()
types = ui.entity_type_options()
if not types:
    st.info("No entity is named in these articles.")
    ui.article_table("entities")
    st.stop()
chosen_type = st.segmented_control("Type", ["All", *types], default="All", key=ui.k("etype"),
                                   format_func=lambda t: t if t == "All" else f"{t} · {charts.TYPE_NAMES.get(t, t)}")
top = ui.data("top_entities", None if chosen_type in (None, "All") else chosen_type, 25)
left, right = st.columns([3, 2])
with left:
    st.subheader("Top entities")
    ui.chart(charts.hbar(top, "name", "mentions", ids=top["entity_id"], colors=charts.type_colors(top["entity_type"]),
                         value_name="mentions", extra="articles"), "top", pick=("entities",))
    st.caption("Bar length: mentions (boilerplate excluded); hover for the number of articles. Colour: type.")
with right:
    st.subheader("Mentions and articles")
    st.dataframe(top.select("name", "entity_type", "mentions", "articles"), hide_index=True, width="stretch",
                 column_config={"name": "Entity", "entity_type": "Type", "mentions": "Mentions", "articles": "Articles"})

top12 = ui.ids(top, n=12)
left, right = st.columns(2)
with left:
    st.subheader("By language")
    ui.chart(charts.bubbles(ui.data("entity_split", top12, "language"), x="language", y="name", size="mentions",
                            custom=["entity_id", "language"], labels=ui.lang_labels()), "by-language", pick=("entities", "languages"))
with right:
    st.subheader("By outlet")
    ui.chart(charts.bubbles(ui.data("entity_split", top12, "outlet"), x="outlet", y="name", size="mentions",
                            custom=["entity_id", "outlet"]), "by-outlet", pick=("entities", "outlets"))

st.divider()
st.subheader("One entity in detail")
choices = ui.focus_choices(top)
focus = st.selectbox("Entity", list(choices), format_func=lambda e: choices[e], key=ui.k("focus"),
                     help="Choosing an entity here also filters the dashboard to the articles naming it.",
                     on_change=ui.focus_entity, args=(ui.k("focus"),))
if focus:
    stats = ui.entity_stats(focus)
    c = st.columns(4)
    c[0].metric("Mentions in view", f"{stats['mentions']:,}")
    c[1].metric("Articles in view", f"{stats['articles']:,}")
    c[2].metric("Mentions in corpus", f"{stats['corpus_mentions'] or 0:,}")
    c[3].metric("Articles in corpus", f"{stats['corpus_articles'] or 0:,}")
    if stats["names"]:
        st.caption(f"Known names: {ui.md(stats['names'])}")
    left, right = st.columns(2)
    with left:
        st.markdown("**Mentions over time**")
        timeline = ui.data("entity_over_time", focus, ui.granularity())
        if timeline.height:
            ui.chart(charts.time_bars(timeline, value="mentions", color=charts.TYPE_COLORS.get(stats["entity_type"], charts.BAR)),
                     "entity-time", pick=("period",))
        else:
            st.caption("No dated article names this entity.")
        st.markdown("**Every written form, counted**")
        st.dataframe(ui.surface_table(ui.data("surface_forms", focus)), hide_index=True, width="stretch")
    with right:
        st.markdown("**Named in the same articles**")
        co = ui.data("cooccurring", focus)
        if co.height:
            ui.chart(charts.hbar(co, "name", "articles", ids=co["entity_id"], colors=charts.type_colors(co["entity_type"]),
                                 value_name="articles together", extra="mentions"), "cooccurring", pick=("entities",))
        else:
            st.caption("No other entity is named alongside it.")

ui.article_table("entities")
