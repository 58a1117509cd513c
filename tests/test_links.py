"""presslens.links: Filters <-> URL parameters, and what happens to bad links."""
from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from presslens import links
from presslens.query import Filters

VOCAB = links.Vocabulary(
    languages=frozenset({"ru", "uk", "en", "ro"}),
    outlets=frozenset({"ТАСС", "Reuters", "Outlet, with comma", "(unknown outlet)"}),
    sources=frozenset({"ISW", "NHK"}),
    entities=frozenset({"Q7747", "Q56226"}),
    docs=frozenset({"abc123"}),
    stories=frozenset({"story-1"}),
    version="v1",
)


def test_round_trip_keeps_every_field():
    f = Filters.make(languages=("uk", "ru"), outlets=("Outlet, with comma", "ТАСС"), sources=("ISW",),
                     entities=("Q7747", "Q56226"), date_from=dt.date(2024, 6, 1), date_to=dt.date(2024, 6, 30),
                     search="дроны & drones")
    params = links.to_params(f, doc="abc123", version="v1")
    state = links.parse(params, VOCAB)
    assert state.filters == f
    assert state.doc == "abc123"
    assert state.ignored == ()
    assert not state.stale


def test_round_trip_through_a_real_query_string():
    f = Filters.make(languages=("ru",), outlets=("Outlet, with comma",), undated=True, search="a=b&c")
    url = links.page_url("sources", f, None, "v1")
    parts = urlsplit(url)
    assert parts.path == "/sources"
    assert links.parse(parse_qs(parts.query), VOCAB).filters == f


def test_default_page_is_the_root_and_empty_filters_give_a_bare_url():
    assert links.page_url("overview", Filters()) == "/"
    assert links.page_url("overview", Filters(), version="v1") == "/?v=v1"
    assert links.page_url("articles", Filters(), doc="abc123", base="http://h:1/") == "http://h:1/articles?doc=abc123"


def test_filters_are_hashable_and_normalised():
    a = Filters.make(languages=["ru", "uk", "ru"], search="  x ")
    b = Filters.make(languages=("uk", "ru"), search="x")
    assert a == b and hash(a) == hash(b)
    assert a.languages == ("ru", "uk")


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"lang": ["xx"]}, "lang=xx: unknown language"),
        ({"outlet": ["Nobody"]}, "outlet=Nobody: unknown outlet"),
        ({"source": ["CNN"]}, "source=CNN: unknown cited source"),
        ({"entity": ["Q1"]}, "entity=Q1: unknown entity"),
        ({"from": ["yesterday"]}, "from=yesterday: not a date"),
        ({"to": ["2024-02-30"]}, "to=2024-02-30: not a date"),
        ({"doc": ["../../etc/passwd"]}, "doc=../../etc/passwd: no such article"),
        ({"doc": ["nosuchdoc"]}, "doc=nosuchdoc: no such article"),
        ({"q": ["x" * 5000]}, "q: longer than"),
        ({"q": ["a\x00b"]}, "q: contains control characters"),
        ({"lang": ["ru", "ru"]}, "lang=ru: repeated"),
        ({"outlet": ["x" * 300]}, "longer than 200 characters"),
        ({"hack": ["1"]}, "hack: unknown parameter"),
        ({"undated": ["maybe"]}, "undated=maybe: use undated=1"),
        ({"v": ["../x"]}, "not a corpus version"),
        ({"q": ["a", "b"]}, "q: given 2 times"),
    ],
)
def test_bad_values_are_ignored_with_a_notice(params, fragment):
    state = links.parse(params, VOCAB)
    assert any(fragment in n for n in state.ignored), state.ignored


def test_bad_values_do_not_lose_the_good_ones():
    state = links.parse({"lang": ["xx", "ru"], "from": ["nope"], "to": ["2024-07-01"], "doc": ["../../etc/passwd"]}, VOCAB)
    assert state.filters.languages == ("ru",)
    assert state.filters.date_to == dt.date(2024, 7, 1) and state.filters.date_from is None
    assert state.doc is None
    assert len(state.ignored) == 3


def test_too_many_values_are_cut():
    state = links.parse({"lang": ["ru"] + ["xx"] * 500}, VOCAB)
    assert state.filters.languages == ("ru",)
    assert any(f"only the first {links.MAX_VALUES}" in n for n in state.ignored)
    # one notice per kept-but-bad value, never one per value of a huge list
    assert len(state.ignored) <= links.MAX_VALUES + 1


def test_notices_quote_values_safely():
    state = links.parse({"lang": ["`x`<script>" + "y" * 100]}, VOCAB)
    (notice,) = state.ignored
    assert "`" not in notice and len(notice) < 100


def test_reversed_dates_are_swapped_with_a_notice():
    state = links.parse({"from": ["2024-07-01"], "to": ["2024-06-01"]}, VOCAB)
    assert (state.filters.date_from, state.filters.date_to) == (dt.date(2024, 6, 1), dt.date(2024, 7, 1))
    assert any("swapped" in n for n in state.ignored)


def test_undated_and_range_do_not_combine():
    state = links.parse({"from": ["2024-06-01"], "undated": ["1"]}, VOCAB)
    assert state.filters.date_from == dt.date(2024, 6, 1) and not state.filters.undated
    assert links.parse({"undated": ["1"]}, VOCAB).filters.undated


def test_a_link_from_another_corpus_version_is_flagged():
    assert links.parse({"v": ["old123"]}, VOCAB).stale
    assert not links.parse({"v": ["v1"]}, VOCAB).stale
    assert not links.parse({}, VOCAB).stale


def test_streamlit_own_parameters_are_not_reported():
    assert links.parse({"embed": ["true"], "embed_options": ["x"]}, VOCAB).ignored == ()


def test_requested_ids_only_passes_well_formed_ids():
    ents, docs = links.requested_ids({"entity": ["Q1", "../x", "Q2"], "doc": ["../../etc/passwd"]})
    assert ents == ["Q1", "Q2"] and docs == []


def test_describe_lists_every_active_filter():
    f = Filters.make(languages=("ru",), entities=("Q7747",), date_from=dt.date(2024, 1, 1), search="kim")
    labels = [label for _, label, _ in links.describe(f, {"Q7747": "Vladimir Putin"})]
    assert labels == ["language: ru", "entity: Vladimir Putin", "dates: 2024-01-01 – …", "search: kim"]


def test_story_round_trips_and_bad_story_ids_are_ignored_with_a_notice():
    f = Filters.make(languages=("ru",), story="story-1")
    params = links.to_params(f)
    assert params["story"] == "story-1"
    assert links.parse(params, VOCAB).filters == f
    assert links.requested_story(params) == ["story-1"]
    for bad in ("story-2", "../x", "<script>"):
        state = links.parse({"story": bad, "lang": "ru"}, VOCAB)
        assert state.filters == Filters.make(languages=("ru",))
        assert any(n.startswith("story=") and "no such story" in n for n in state.ignored)
    assert ("story", "story: story-1", None) in links.describe(f)
    assert ("story", "story: Drones", None) in links.describe(f, {"story-1": "Drones"})
    assert "story=story-1" in links.page_url("stories", f)


def test_a_story_split_and_part_round_trip_and_bad_values_are_ignored_with_a_notice():
    f = Filters.make(story="story-1", split=0.55, part=2)
    params = links.to_params(f)
    assert params["split"] == "0.55" and params["part"] == "2"
    assert links.parse(params, VOCAB).filters == f
    assert ("split", "split at link strength ≥ 0.55, part 2", None) in links.describe(f)
    # leaving the story or the split takes the split and the part with it
    assert f.without("story") == Filters() and f.with_(story="") == Filters()
    assert f.without("split") == Filters.make(story="story-1")
    cases = {
        ("1.5", "1"): "split=1.5: not a link strength",
        ("0", "1"): "split=0: not a link strength",
        ("abc", "1"): "split=abc: not a link strength",
        ("0.5", "0"): "part=0: not a part number",
        ("0.5", "x"): "part=x: not a part number",
        ("0.5", "-1"): "part=-1: not a part number",
    }
    for (split, part), notice in cases.items():
        state = links.parse({"story": "story-1", "split": split, "part": part}, VOCAB)
        assert any(n.startswith(notice) for n in state.ignored), (split, part, state.ignored)
        assert state.filters.story == "story-1"
        if split == "0.5":
            assert state.filters.split == 0.5 and state.filters.part == 0
        else:
            assert state.filters.split is None and state.filters.part == 0
    state = links.parse({"split": "0.5", "part": "1"}, VOCAB)  # no story: neither applies
    assert state.filters == Filters()
    assert any("a split needs a story" in n for n in state.ignored)
    assert any("a part needs a story split" in n for n in state.ignored)


def test_story_span_round_trips_and_a_bad_value_is_ignored_with_a_notice():
    for span in ("outlets", "languages"):
        f = Filters.make(story_span=span)
        params = links.to_params(f)
        assert params == {"span": span} and links.parse(params, VOCAB).filters == f
        assert ("story_span", links.SPANS[span], None) in links.describe(f)
    state = links.parse({"span": "everything", "lang": "ru"}, VOCAB)
    assert state.filters == Filters.make(languages=("ru",))
    assert any(n.startswith("span=everything: use span=outlets or span=languages") for n in state.ignored)


def test_joined_stories_round_trip_and_bad_joins_are_ignored_with_a_notice():
    vocab = links.Vocabulary(**{**VOCAB.__dict__, "stories": frozenset({"story-1", "story-2", "story-3"})})
    f = Filters.make(story="story-1", joined=("story-3", "story-2"))
    params = links.to_params(f)
    assert params["join"] == ["story-2", "story-3"] and links.parse(params, vocab).filters == f
    assert links.requested_story(params) == ["story-1", "story-2", "story-3"]
    chips = [c[0] for c in links.describe(f, {"story-2": "Strike"})]
    assert chips == ["story", "joined", "joined"]  # the story's chip first, then those joined to it
    assert ("joined", "story joined: Strike", "story-2") in links.describe(f, {"story-2": "Strike"})
    state = links.parse({"story": "story-1", "join": ["story-2", "nope"]}, vocab)
    assert state.filters == Filters.make(story="story-1", joined=("story-2",))
    assert any(n.startswith("join=nope: unknown story joined") for n in state.ignored)
    state = links.parse({"join": "story-2"}, vocab)  # no story to join it to
    assert state.filters == Filters() and any("joining stories needs a story" in n for n in state.ignored)
    state = links.parse({"story": "story-1", "join": "story-2", "split": "0.5"}, vocab)
    assert state.filters.split is None and state.filters.joined == ("story-2",)
    assert any(n.startswith("split=0.5: stories joined in one view cannot be split") for n in state.ignored)
