"""Publication dates: the page's own markup, the vote between sources, refused dates, and
`python -m presslens.eval dates`. Pages here are small made-up HTML in the usual shapes
(schema.org JSON-LD, OpenGraph, <time>), not copies of the eval pages."""
from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from presslens.enrich import enrich, metadata
from presslens.eval import main as eval_main
from presslens.eval_dates import evaluate
from presslens.ingest.html import markup_dates, read_html
from presslens.records import RawRecord

D = dt.date


def _page(head: str = "", body: str = "") -> str:
    text = " ".join(["The council voted on the new budget after a long debate in the city hall."] * 8)
    return (f"<html><head><title>Budget vote</title>{head}</head><body><article><h1>Budget vote</h1>"
            f"{body}<p>{text}</p><p>{text}</p></article></body></html>")


def _json_ld(obj) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


def _published(html: str, url: str | None = None, today: dt.date | None = None):
    record = RawRecord(path="p.html", text="Budget vote\n\nThe council voted.", html=html, url=url)
    return metadata.published(record, record.text, [], "en", today=today)


# ---------------------------------------------------------------------------------------
# markup
# ---------------------------------------------------------------------------------------


def test_json_ld_article_date_comes_before_other_objects():
    html = _page(_json_ld({"@graph": [
        {"@type": "WebSite", "datePublished": "2010-01-01"},
        {"@type": "NewsArticle", "datePublished": "2024-06-19T22:30:00+03:00",
         "dateModified": "2024-06-21T08:00:00+03:00"},
    ]}))
    first = markup_dates(html)[0]
    # The date as the outlet wrote it (its own time zone), not converted, never the modified one.
    assert (first.source, first.value) == ("json-ld", D(2024, 6, 19))
    assert "NewsArticle" in first.evidence


def test_meta_and_time_vocabularies():
    html = _page('<meta property="article:modified_time" content="2024-07-01T10:00:00Z">'
                 '<meta content="2024-06-18T09:00:00Z" property="article:published_time">',
                 '<time class="updated" datetime="2024-07-02">2 July</time>'
                 '<time itemprop="datePublished" datetime="2024-06-18">18 June</time>')
    got = [(c.source, c.value) for c in markup_dates(html)]
    assert got == [("meta", D(2024, 6, 18)), ("time", D(2024, 6, 18))]


@pytest.mark.skipif(not Path("/usr/share/zoneinfo/zone.tab").exists(), reason="no system time-zone table")
def test_utc_timestamps_are_read_in_the_sites_time_zone():
    html = _page('<meta property="article:published_time" content="2024-06-18T23:15:00Z">')
    # Italy has one time zone: 23:15 UTC is 01:15 on the 19th in Rome.
    assert markup_dates(html, "https://www.giornale.example.it/a")[0].value == D(2024, 6, 19)
    # .com names no country, .ca has several zones: the date stays as written.
    assert markup_dates(html, "https://news.example.com/a")[0].value == D(2024, 6, 18)
    assert markup_dates(html, "https://news.example.ca/a")[0].value == D(2024, 6, 18)
    # A timestamp with the outlet's own offset is its local date already.
    local = _page('<meta property="article:published_time" content="2024-06-18T23:15:00+02:00">')
    assert markup_dates(local, "https://www.giornale.example.it/a")[0].value == D(2024, 6, 18)


def test_page_without_dates_has_no_markup_candidates():
    assert markup_dates(_page()) == []
    assert markup_dates("<html><script type='application/ld+json'>{broken</script></html>") == []


# ---------------------------------------------------------------------------------------
# the vote
# ---------------------------------------------------------------------------------------


def test_sources_that_agree_win_and_are_named():
    html = _page(_json_ld({"@type": "NewsArticle", "datePublished": "2024-06-19"})
                 + '<meta property="article:published_time" content="2024-06-19T10:00:00Z">')
    ev = _published(html, url="https://example.com/2024/06/18/budget-vote")
    assert ev.value == D(2024, 6, 19)
    assert ev.source == "json-ld"
    assert "also meta" in ev.evidence


def test_disagreement_asks_htmldate_and_the_url_wins_alone():
    html = _page('<meta property="article:published_time" content="2024-06-19T10:00:00Z">')
    # One markup date against the URL: htmldate is asked (it trusts the URL it is given).
    ev = _published(html, url="https://example.com/2024/06/18/budget-vote")
    assert (ev.value, ev.source) == (D(2024, 6, 18), "url") and "also htmldate" in ev.evidence
    ev = _published(_page(), url="https://example.com/2024/06/18/budget-vote")
    assert (ev.value, ev.source) == (D(2024, 6, 18), "url")


def test_html_reader_leaves_the_date_to_the_vote():
    html = _page(_json_ld({"@type": "NewsArticle", "datePublished": "2024-06-19"}))
    (record,), rejects = read_html(html.encode("utf-8"), "p.html")
    assert not rejects and record.published is None and record.html
    row, _mentions = enrich(record)
    assert row["published"] == D(2024, 6, 19) and row["date_source"] == "json-ld"
    assert "datePublished" in row["date_evidence"]


# ---------------------------------------------------------------------------------------
# implausible dates are refused (issue 10)
# ---------------------------------------------------------------------------------------

BUILD_DAY = D(2026, 11, 30)


def test_future_field_date_is_refused_with_its_reason():
    record = RawRecord(path="a.txt", text="Budget vote\n\nThe council voted.", published=D(2099, 1, 1),
                       provenance={"published": "field"})
    ev = metadata.published(record, record.text, [], "en", today=BUILD_DAY)
    assert ev.value is None and ev.source == "none"
    assert "2099-01-01" in ev.evidence and "after the build date (2026-11-30)" in ev.evidence


def test_day_after_build_is_accepted_two_days_after_is_not():
    for day, ok in ((D(2026, 12, 1), True), (D(2026, 12, 2), False), (D(1900, 1, 1), True), (D(1899, 12, 31), False)):
        record = RawRecord(path="a.txt", text="x", published=day, provenance={"published": "sidecar"})
        ev = metadata.published(record, "x", [], "en", today=BUILD_DAY)
        assert (ev.value == day) is ok, day
        if not ok:
            assert ev.source == "none" and "sidecar published refused" in ev.evidence


def test_refused_field_falls_back_to_another_source():
    record = RawRecord(path="a.txt", text="Budget vote\n\nThe council voted.", published=D(1850, 3, 1),
                       url="https://example.com/2024/06/18/budget-vote", provenance={"published": "field"})
    ev = metadata.published(record, record.text, [], "en", today=BUILD_DAY)
    assert (ev.value, ev.source) == (D(2024, 6, 18), "url")
    assert "1850-03-01 is before 1900" in ev.evidence


def test_refused_page_date_through_enrich():
    html = _page(_json_ld({"@type": "NewsArticle", "datePublished": "2099-01-01"}))
    (record,), _ = read_html(html.encode("utf-8"), "p.html")
    row, _mentions = enrich(record)
    assert row["text"] and row["published"] is None and row["date_source"] == "none"
    assert "2099-01-01" in row["date_evidence"] and "refused" in row["date_evidence"]


# ---------------------------------------------------------------------------------------
# python -m presslens.eval dates
# ---------------------------------------------------------------------------------------


def test_dates_eval_scores_ours_and_htmldate(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.html").write_text(_page(_json_ld({"@type": "NewsArticle", "datePublished": "2024-06-19"})),
                                  encoding="utf-8")
    (pages / "b.html").write_text(_page(), encoding="utf-8")
    (tmp_path / "gold.json").write_text(json.dumps({
        "a.html": {"url": "https://example.com/news/budget", "date": "2024-06-19"},
        "b.html": {"url": "https://example.com/2024/05/02/budget", "date": "2024-05-02"},
    }), encoding="utf-8")
    out = io.StringIO()
    res = evaluate(tmp_path, out=out)
    assert res["n"] == 2 and res["ours"] == 1.0
    assert res["won"] == {"json-ld": 1, "url": 1}
    text = out.getvalue()
    assert "htmldate alone" in text and "winning source" in text


def test_dates_eval_refuses_a_wrong_folder(tmp_path, capsys):
    assert eval_main(["dates", str(tmp_path)]) == 2
    assert "gold.json" in capsys.readouterr().err
