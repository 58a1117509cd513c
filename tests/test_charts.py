"""The figures are built without plotly's validation (presslens.charts._figure, for speed):
validating each one must change nothing, so the browser gets exactly what a validated
figure would send."""
import datetime as dt
import json

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
import pytest

from presslens import charts


def _validated_json(fig: go.Figure) -> dict:
    return json.loads(pio.to_json(go.Figure(fig.to_dict()), validate=True))


def _figures() -> dict[str, go.Figure]:
    top = pl.DataFrame({"entity_id": ["E1", "E2"], "name": ["Путин", "A very long entity name that gets cut in ticks"],
                        "entity_type": ["PER", "LOC"], "mentions": [30, 7], "articles": [5, 2], "share": [0.6, 0.4]})
    days = [dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    timeline = pl.DataFrame({"period": days, "period_end": [dt.date(2024, 1, 31), dt.date(2024, 2, 29)], "mentions": [3, 9]})
    split = pl.DataFrame({"entity_id": ["E1", "E1", "E2"], "name": ["Путин", "Путин", "Kyiv"], "language": ["ru", "uk", "uk"],
                          "mentions": [5, 2, 1]})
    hist = pl.DataFrame({"language": ["ru", "ru", "uk"], "bin_start": [0.5, 0.95, 0.9], "bin_end": [0.55, 1.0, 0.95],
                         "articles": [2, 40, 7], "mixed": [1, 0, 0]})
    story = pl.DataFrame({"doc_id": ["d1", "d2"], "published": [dt.date(2024, 1, 1), None], "outlet": ["a.ru", "b.ua"],
                          "language": ["ru", None], "title": ["<b>x</b>", None], "first": [True, False]})
    strip = pl.DataFrame({"doc_id": ["d1"], "language": ["ru"], "language_confidence": [0.4], "mixed_language": [True],
                          "title": ["t"], "outlet": ["o"]})
    return {
        "hbar": charts.hbar(top, "name", "mentions", ids=top["entity_id"], colors=charts.type_colors(top["entity_type"]),
                            value_name="mentions", extra="articles", title="Top"),
        "hbar-share": charts.hbar(top, "name", "articles", share="share", labels={"Путин": "P"}),
        "hbar-empty": charts.hbar(top.clear(), "name", "articles"),
        "time": charts.time_bars(timeline, value="mentions", color="#e8590c"),
        "time-long": charts.time_bars(pl.DataFrame({"period": days * 3, "period_end": days * 3, "articles": [1] * 6})),
        "bubbles": charts.bubbles(split, x="language", y="name", size="mentions", custom=["entity_id", "language"],
                                  labels={"ru": "Russian"}, x_label="x", y_label="y"),
        "confidence": charts.confidence_bars(hist, labels={"ru": "Russian"}),
        "strip": charts.confidence_strip(strip),
        "story": charts.story_timeline(story),
        "story-split": charts.story_timeline(story.with_columns(pl.Series("part", [1, None], dtype=pl.Int64))),
        "split-profile": charts.split_profile(pl.DataFrame({"split": [0.2, 0.25, 0.3], "parts": [1, 1, 3],
                                                            "largest": [5, 5, 2]}), 0.25),
    }


@pytest.mark.parametrize("name", list(_figures()))
def test_unvalidated_figures_are_what_validation_gives(name):
    fig = _figures()[name]
    assert json.loads(pio.to_json(fig, validate=False)) == _validated_json(fig)


def test_split_profile_bars_carry_their_strength_and_mark_the_one_in_use():
    (bars,) = _figures()["split-profile"].data
    assert list(bars.x) == ["≥ 0.2", "≥ 0.25", "≥ 0.3"] and list(bars.y) == [1, 1, 3]
    assert [list(c) for c in bars.customdata] == [[0.2], [0.25], [0.3]]  # a click splits there
    assert bars.marker.color[1] == charts.BAR and bars.marker.color[0] != charts.BAR
    assert bars.hovertext[2] == "at link strength ≥ 0.3: 3 parts, the largest 2 articles"
    story = _figures()["story-split"].data
    assert sorted(h.split("<br>")[0] for t in story for h in t.hovertext) == ["(no title)", "part 1 · first · &lt;b&gt;x&lt;/b&gt;"]


def test_marks_carry_their_ids():
    fig = _figures()["bubbles"]
    assert [list(c) for c in fig.data[0].customdata] == [["E1", "ru"], ["E1", "uk"], ["E2", "uk"]]
