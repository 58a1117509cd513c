"""Stories: the same news across outlets and languages. The largest stories in view; a
chosen story (the `story` filter) as its timeline with the first publisher marked, the
evidence its articles share, and what each outlet names that no other does."""
import streamlit as st

from presslens import charts, ui

ui.through_app()  # a fresh server's first session may run this file without app.py


def split_story() -> None:
    """The split control, and with a split: the parts (a click follows one) and the links cut."""
    f = ui.current_filters()
    with st.expander("Split this story", expanded=f.split is not None):
        if f.joined:
            st.caption("Stories joined in one view cannot be split: remove the joined stories (below, or their "
                       "chips in the sidebar) to split this one.")
            return
        n_links = ui.value(ui.raw("story_links_count", f.story), "links", 0)
        if n_links == 0:
            st.caption("No links are recorded between this story's articles (a story of one article, or one that "
                       "came with imported articles), so there is nothing to split.")
            return
        if n_links > ui.PROFILE_MAX_LINKS:
            st.caption(f"{n_links:,} links hold this story: the profile of its parts by link strength is not drawn "
                       f"(over {ui.PROFILE_MAX_LINKS:,}); a split at one strength below still works.")
        elif n_links <= ui.PROFILE_EAGER_LINKS or f.split is not None:
            profile = ui.data("story_split_profile")
            ui.chart(charts.split_profile(profile, f.split), "split-profile", pick=("split",))
            st.caption("Parts at each link strength. Click a bar to split the story there.")
        else:
            st.caption(f"{n_links:,} links hold this story: choose a strength below, and the profile of its parts at "
                       "every strength is drawn here.")
        ui.split_control()
        if f.split is None:
            st.caption("Grouped as built. A stricter link strength splits a story whose articles are held together "
                       "by a few weak links into the events its strong links hold.")
            return
        parts = ui.data("story_parts")
        st.caption(f"At link strength ≥ {f.split:g} the story falls into {ui.plural(parts.height, 'part')}. "
                   "Click a part to follow it on every page.")
        ui.part_table(parts, "split")
        if f.part:
            st.button(f"← The whole story (part {f.part} shown)", key=ui.k("whole-story"),
                      on_click=lambda: ui.set_filters(ui.current_filters().with_(part=0)))
        cut = ui.data("story_cut")
        if cut.height:
            st.markdown("**Links the split cut** (strongest first)")
            st.dataframe(ui.cut_table(cut), hide_index=True, width="stretch")


ui.header("Stories", "Articles reporting the same event, grouped across languages and outlets by shared entities, "
          "cited sources, figures and dates. Click a story to follow it; click a mark to read the article.")
ui.require_articles()
ui.grouping_note()
story = ui.current_filters().story
if not story:
    top = ui.data("stories")
    st.subheader("Largest stories in view")
    ui.span_control()
    if top.height:
        ui.story_table(top, "top")
        st.caption("Articles: originals in view (copies not counted). Click a row to follow that story.")
    elif ui.current_filters().story_span:
        st.info("No story told " + ("by several outlets" if ui.current_filters().story_span == "outlets"
                                    else "in several languages") + " has more than one article in view.")
    else:
        st.info("No story in view has more than one article: every article here reports its own event.")
else:
    timeline = ui.data("story_timeline")
    facts = ui.story_summary(timeline)
    c = st.columns(4)
    c[0].metric("Articles", f"{facts['articles']:,}")
    c[1].metric("Outlets", f"{facts['outlets']:,}")
    c[2].metric("Languages", f"{facts['languages']:,}")
    c[3].metric("First published", str(facts["first_date"] or "undated"))
    st.caption(f"First publisher: {ui.md(facts['first'])}")
    if ui.current_filters().joined:
        st.caption(f"{len(ui.current_filters().joined) + 1} stories viewed as one (the grouping kept them apart); "
                   "remove a joined story's chip in the sidebar to drop it.")
    st.button("← All stories", key=ui.k("leave-story"), on_click=ui.leave_story)
    split_story()
    st.subheader("Timeline")
    if timeline.height:
        ui.chart(charts.story_timeline(timeline, ui.lang_labels()), "story-timeline", pick=("doc",))
        st.caption("Each mark is an article (colour: language; ★ the first publisher). Click one to read it.")
    left, right = st.columns(2)
    with left:
        st.subheader("What its articles share")
        shared = ui.data("story_shared")
        if shared.height:
            st.dataframe(ui.shared_table(shared), hide_index=True, width="stretch")
        else:
            st.caption("No recorded evidence links these articles in this view.")
    with right:
        st.subheader("What each outlet names that others don't")
        st.dataframe(ui.outlet_table(ui.data("story_outlets")), hide_index=True, width="stretch")
    st.subheader("Related stories")
    related = ui.data("related_stories")
    if related.height or ui.current_filters().joined:
        ui.join_control(related)
    if related.height:
        ui.related_table(related, "story")
        st.caption(f"Other stories in view naming the same people, places and organisations within "
                   f"{ui.RELATED_WINDOW_DAYS} days of this one (the rarest names count most): another part of the "
                   "same event, or what came next. Click one to open it.")
    else:
        st.caption(f"No other story in view names this story's people, places or organisations within "
                   f"{ui.RELATED_WINDOW_DAYS} days of it.")

ui.article_table("stories")
