"""Presentation: small collected DataFrames -> Plotly figures and the article reader HTML.

Every chart mark carries the ids it stands for in `customdata` (outlet name, language
code, entity id, period start/end, doc id), so a click can be turned into the filter it
stands for (`picked`). Only simple bar and scatter traces are used where clicks matter:
Streamlit's selection events are reliable on those.

`article_html(text, mentions, boilerplate, cited)` builds the reader: every piece of the
untrusted article text goes through html.escape, control characters are made visible,
and nothing in the text can become markup, a link or an image.
"""
from __future__ import annotations

import html
from typing import Callable, Iterable, Mapping

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

# One colour per entity type: strong for chart marks, light for text highlights.
TYPE_COLORS = {"PER": "#e8590c", "LOC": "#2b8a3e", "ORG": "#1971c2", "PRO": "#9c36b5", "EVT": "#c92a2a", "MISC": "#868e96"}
TYPE_BG = {"PER": "#ffe8cc", "LOC": "#d3f9d8", "ORG": "#d0ebff", "PRO": "#f3d9fa", "EVT": "#ffe3e3", "MISC": "#f1f3f5"}
TYPE_NAMES = {"PER": "person", "LOC": "place", "ORG": "organisation", "PRO": "product", "EVT": "event", "MISC": "other"}
BAR = "#3b5bdb"
# The look of every figure. Set as the default template instead of per figure: assigning a
# template to a figure validates and deep-copies it (~50-100 ms per figure on this machine).
pio.templates.default = "plotly_white"
FONT = dict(family="Source Sans Pro, sans-serif", size=13)
# Labels longer than this are cut in axis ticks (the full text stays in the hover).
MAX_LABEL = 34


def _cut(s: str | None) -> str:
    s = "" if s is None else str(s)
    return s if len(s) <= MAX_LABEL else s[: MAX_LABEL - 1] + "…"


def _int_ticks(top: float) -> dict:
    """Counts are whole numbers: no 0.2, 0.4 ticks on small axes."""
    return {"dtick": 1, "tickformat": "d"} if top <= 8 else {"tickformat": ",d"}


def _layout(height: int, title: str | None = None, showlegend: bool = False, **kw) -> dict:
    """The layout every figure shares (plus `kw`), in plotly's canonical form."""
    out = dict(
        height=height, margin=dict(l=8, r=24, t=36 if title else 8, b=8),
        font=FONT, showlegend=showlegend, dragmode=False, clickmode="event+select",
        hoverlabel=dict(font=dict(size=12)), **kw,
    )
    if title:
        out["title"] = dict(text=title)
    return out


def _axis(title: str | None = None, **kw) -> dict:
    return dict(kw, title=dict(text=title)) if title else kw


def _figure(traces: list[dict], layout: dict) -> go.Figure:
    """A figure from plain trace and layout dicts, built without plotly's validation.

    Validating (go.Figure(...), update_layout...) costs 10-20 ms CPU per small figure
    and the dashboard draws five per page on every rerun; these specs are written in the
    canonical form validation would produce (tests/test_charts.py checks that validating
    them changes nothing), so the check is skipped here."""
    return go.Figure({"data": traces, "layout": layout}, _validate=False)


def hbar(df: pl.DataFrame, label: str, value: str, ids: Iterable[str] | None = None, share: str | None = None,
         colors: Iterable[str] | None = None, value_name: str = "articles", title: str | None = None,
         extra: str | None = None, labels: Mapping[str, str] | None = None) -> go.Figure:
    """Horizontal bars, largest on top; customdata[0] is the id, text shows count (and share).

    `labels` maps a value of the `label` column to the text shown for it (e.g. ru -> Russian).
    """
    names = labels or {}
    labels = [_cut(names.get(x, x)) for x in df[label].to_list()]
    values = df[value].to_list()
    ids = list(ids) if ids is not None else df[label].to_list()
    full = [names.get(x, x) for x in df[label].to_list()]
    if share:
        text = [f"{v:,}  ({s:.0%})" for v, s in zip(values, df[share].to_list())]
    else:
        text = [f"{v:,}" for v in values]
    extra_vals = df[extra].to_list() if extra else [None] * len(values)
    hover = [
        f"<b>{html.escape(str(n))}</b><br>{value_name}: {v:,}" + (f"<br>{html.escape(str(e))}" if e is not None else "")
        for n, v, e in zip(full, values, extra_vals)
    ]
    # Unique y keys even when two cut labels collide.
    y = [lab if labels.count(lab) == 1 else f"{lab} ({i})" for i, lab in enumerate(labels)]
    bar = dict(type="bar", x=values, y=y, orientation="h", customdata=[[i] for i in ids], text=text,
               textposition="outside", cliponaxis=False,
               marker=dict(color=list(colors) if colors is not None else BAR), hovertext=hover, hoverinfo="text")
    top = max(values) if values else 1
    return _figure([bar], _layout(
        height=max(160, 30 * len(values) + 70), title=title,
        yaxis=dict(autorange="reversed", automargin=True),
        # Room on the right for the "count (share)" labels printed outside the bars.
        xaxis=_axis(value_name, range=[0, top * (1.35 if share else 1.15)], showgrid=True, **_int_ticks(top))))


def type_colors(types: Iterable[str]) -> list[str]:
    return [TYPE_COLORS.get(t, TYPE_COLORS["MISC"]) for t in types]


def time_bars(df: pl.DataFrame, value: str = "articles", title: str | None = None, color: str = BAR) -> go.Figure:
    """Bars per period; customdata = [period start ISO, period end ISO]."""
    starts = df["period"].to_list()
    ends = df["period_end"].to_list()
    values = df[value].to_list()
    hover = [f"{a.isoformat()}" + (f" – {b.isoformat()}" if b != a else "") + f"<br>{value}: {v:,}"
             for a, b, v in zip(starts, ends, values)]
    bar = dict(
        type="bar", x=[a.isoformat() for a in starts], y=values,
        customdata=[[a.isoformat(), b.isoformat()] for a, b in zip(starts, ends)],
        marker=dict(color=color), hovertext=hover, hoverinfo="text", text=[str(v) for v in values], textposition="outside",
        cliponaxis=False,
        # Each bar as wide as its period (80%), so one lone period is not stretched across the axis.
        width=[((b - a).days + 1) * 86_400_000 * 0.8 for a, b in zip(starts, ends)],
    )
    top = max(values) if values else 1
    xaxis: dict = dict(type="date")
    if starts and len(starts) < 4:
        # Few periods: pad the axis by a few periods on each side so the ticks are dates, not milliseconds.
        import datetime as _dt
        pad = _dt.timedelta(days=((ends[0] - starts[0]).days + 1) * 3)
        xaxis["range"] = [(min(starts) - pad).isoformat(), (max(ends) + pad).isoformat()]
    return _figure([bar], _layout(height=300, title=title, bargap=0.15, xaxis=xaxis,
                                  yaxis=_axis(value, range=[0, top * 1.15], **_int_ticks(top))))


def bubbles(df: pl.DataFrame, x: str, y: str, size: str, custom: list[str], title: str | None = None,
            x_label: str | None = None, y_label: str | None = None, labels: Mapping[str, str] | None = None,
            color: str = BAR) -> go.Figure:
    """A clickable matrix: one sized circle per (x, y) cell with its count printed on it.

    Used instead of heatmaps (whose selection events are unreliable); customdata holds
    the values of the `custom` columns, in order.
    """
    labels = labels or {}
    full_x = [labels.get(v, v) for v in df[x].to_list()]
    ys = [_cut(labels.get(v, v)) for v in df[y].to_list()]
    ticks, angle, room = _column_labels(full_x)
    xs = [ticks[v] for v in full_x]
    n = df[size].to_list()
    biggest = max(n) if n else 1
    scatter = dict(
        type="scatter", x=xs, y=ys, mode="markers+text", text=[str(v) for v in n], textposition="middle center",
        textfont=dict(color="white", size=11),
        marker=dict(size=[14 + 30 * (v / biggest) ** 0.5 for v in n], color=color, opacity=0.85, line=dict(width=0)),
        customdata=[list(r) for r in df.select(custom).rows()],
        hovertext=[f"{html.escape(str(a))} · {html.escape(str(b))}: {c:,}" for a, b, c in zip(df[y].to_list(), full_x, n)],
        hoverinfo="text",
    )
    rows = len(set(ys)) or 1
    # Column labels straight (few columns, wrapped) or vertical (many): a slanted label's end
    # sits beside the next column, which reads as the wrong column's label.
    # The label room is added to the height, so the rows keep their 42 px whatever the labels.
    return _figure([scatter], _layout(
        height=max(180, 42 * rows + 90) + room, title=title,
        xaxis=_axis(x_label, type="category", side="top", automargin=True, tickangle=angle),
        yaxis=_axis(y_label, type="category", autorange="reversed", automargin=True)))


# Column labels: up to this many columns are written horizontally, wrapped in lines of at
# most COLUMN_LINE characters (a 2-column layout gives each chart ~600 px: 4 columns of
# ~140 px hold ~16 characters a line); more columns are written vertically.
MAX_STRAIGHT_COLUMNS = 4
COLUMN_LINE = 16
COLUMN_MAX = 24  # longer column labels are cut (the hover has the full text)


def _column_labels(values: list) -> tuple[dict, int, int]:
    """Column label text per value, the tick angle (0 or -90) and the pixels they need."""
    distinct = list(dict.fromkeys(values))
    cut = {v: _cut_to(str(v), COLUMN_MAX) for v in distinct}
    if len(distinct) <= MAX_STRAIGHT_COLUMNS:
        wrapped = {v: "<br>".join(_wrap(c, COLUMN_LINE)) for v, c in cut.items()}
        lines = max((w.count("<br>") + 1 for w in wrapped.values()), default=1)
        return _unique(wrapped), 0, 16 * (lines - 1)
    longest = max((len(c) for c in cut.values()), default=1)
    return _unique(cut), -90, 7 * longest


def _unique(labels: dict) -> dict:
    """Two values cut to the same label would share a column: number the later ones."""
    seen: dict[str, int] = {}
    out = {}
    for v, lab in labels.items():
        seen[lab] = seen.get(lab, 0) + 1
        out[v] = lab if seen[lab] == 1 else f"{lab} ({seen[lab]})"
    return out


def _cut_to(s: str, limit: int) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap; a word longer than the line stays whole on its own line."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return [html.escape(line) for line in lines] or [""]


def confidence_strip(df: pl.DataFrame, labels: Mapping[str, str] | None = None) -> go.Figure:
    """One point per article at its detection confidence, a row per language; customdata[0] = doc_id."""
    labels = labels or {}
    mixed = df["mixed_language"].to_list()
    scatter = dict(
        type="scatter", x=df["language_confidence"].to_list(), y=[labels.get(v, v) for v in df["language"].to_list()],
        mode="markers", customdata=[[d] for d in df["doc_id"].to_list()],
        marker=dict(size=13, color=["#e8590c" if m else BAR for m in mixed], symbol=["diamond" if m else "circle" for m in mixed],
                    opacity=0.8, line=dict(width=1, color="white")),
        hovertext=[f"<b>{html.escape(_cut(t))}</b><br>{html.escape(str(o))}<br>confidence {c:.2f}" + (" · mixed" if m else "")
                   for t, o, c, m in zip(df["title"].to_list(), df["outlet"].to_list(), df["language_confidence"].to_list(), mixed)],
        hoverinfo="text",
    )
    return _figure([scatter], _layout(height=max(180, 50 * df["language"].n_unique() + 80),
                                      xaxis=_axis("detection confidence", range=[-0.02, 1.05]),
                                      yaxis=dict(type="category", automargin=True)))


def confidence_bars(df: pl.DataFrame, labels: Mapping[str, str] | None = None) -> go.Figure:
    """Detection confidence as a distribution: one bar series per language over confidence
    bins (from query.confidence_histogram); customdata[0] = the language code."""
    labels = labels or {}
    traces = []
    for lang in sorted(set(df["language"].to_list())):
        part = df.filter(pl.col("language") == lang)
        mids = [(a + b) / 2 for a, b in zip(part["bin_start"].to_list(), part["bin_end"].to_list())]
        traces.append(dict(
            type="bar", x=mids, y=part["articles"].to_list(), name=html.escape(labels.get(lang, lang)),
            width=[(b - a) * 0.9 for a, b in zip(part["bin_start"].to_list(), part["bin_end"].to_list())],
            customdata=[[lang]] * part.height,
            hovertext=[f"<b>{html.escape(labels.get(lang, lang))}</b><br>confidence {a:.2f}–{b:.2f}<br>{n:,} articles"
                       + (f" ({m:,} mixed-language)" if m else "")
                       for a, b, n, m in zip(part["bin_start"].to_list(), part["bin_end"].to_list(),
                                             part["articles"].to_list(), part["mixed"].to_list())],
            hoverinfo="text",
        ))
    return _figure(traces, _layout(height=300, barmode="stack", legend=dict(orientation="h", y=-0.25),
                                   xaxis=_axis("detection confidence", range=[0, 1.0]),
                                   yaxis=_axis("articles", rangemode="tozero")))


def picked(event) -> list[list]:
    """customdata of the points selected in a st.plotly_chart selection event ([] when none)."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        try:
            points = event.selection.points
        except AttributeError:
            return []
    out = []
    for p in points or []:
        cd = p.get("customdata") if isinstance(p, Mapping) else None
        if cd is None:
            continue
        out.append(list(cd) if isinstance(cd, (list, tuple)) else [cd])
    return out


# Language colours of the story timeline (other languages grey).
LANG_COLORS = {"ru": "#c92a2a", "uk": "#1971c2", "ro": "#e67700", "en": "#2b8a3e"}


def story_timeline(df: pl.DataFrame, labels: Mapping[str, str] | None = None) -> go.Figure:
    """One story's articles as marks by date (x; "undated" last) and outlet (y), coloured by
    language; the first publisher is a larger star. customdata: [doc_id] (click opens it).
    `df`: presslens.story_view.story_timeline's columns (and `part` when the story is split:
    the hover text names it)."""
    labels = labels or {}
    traces = []
    days = [d.isoformat() if d is not None else "undated" for d in df["published"].to_list()]
    # a split story (query.story_timeline with Filters.split): each mark names its part
    parts = [f"part {p} · " if p is not None else "" for p in df["part"].to_list()] if "part" in df.columns \
        else [""] * df.height
    order = sorted({d for d in days if d != "undated"}) + (["undated"] if "undated" in days else [])
    for lang in sorted(set(df["language"].fill_null("und").to_list())):
        idx = [i for i, v in enumerate(df["language"].fill_null("und").to_list()) if v == lang]
        first = [bool(df["first"][i]) for i in idx]
        traces.append(dict(
            type="scatter", x=[days[i] for i in idx], y=[_cut(df["outlet"][i]) for i in idx], mode="markers",
            name=labels.get(lang, lang),
            marker=dict(size=[22 if f else 13 for f in first], symbol=["star" if f else "circle" for f in first],
                        color=LANG_COLORS.get(lang, "#868e96"), line=dict(width=1, color="white")),
            customdata=[[df["doc_id"][i]] for i in idx],
            hovertext=[f"{parts[i]}{'first · ' if f else ''}{html.escape(str(df['title'][i] or '(no title)'))}<br>"
                       f"{html.escape(str(df['outlet'][i]))} · {days[i]}" for i, f in zip(idx, first)],
            hoverinfo="text",
        ))
    rows = df["outlet"].n_unique() or 1
    return _figure(traces, _layout(height=max(200, 40 * rows + 110), showlegend=True,
                                   xaxis=dict(type="category", categoryorder="array", categoryarray=order),
                                   yaxis=dict(type="category", automargin=True)))


def split_profile(df: pl.DataFrame, current: float | None = None) -> go.Figure:
    """How a story falls apart as the link strength rises: one bar per strength (x), its height
    the number of parts; the strength in use is drawn darker. customdata: [split] (a click
    splits the story there). `df`: presslens.query.story_split_profile's columns."""
    labels = [f"≥ {v:g}" for v in df["split"].to_list()]
    trace = dict(
        type="bar", x=labels, y=df["parts"].to_list(),
        marker=dict(color=[BAR if current is not None and abs(v - current) < 1e-9 else "#bac8ff"
                           for v in df["split"].to_list()]),
        customdata=[[v] for v in df["split"].to_list()],
        hovertext=[f"at link strength {lab}: {p} part{'s' * (p != 1)}, the largest {n} article{'s' * (n != 1)}"
                   for lab, p, n in zip(labels, df["parts"].to_list(), df["largest"].to_list())],
        hoverinfo="text",
    )
    yaxis = dict(title=dict(text="parts"), rangemode="tozero")
    if (df["parts"].max() or 0) < 8:
        yaxis["dtick"] = 1  # whole parts, not 0.5 steps
    return _figure([trace], _layout(height=220, xaxis=dict(type="category", title=dict(text="link strength")),
                                    yaxis=yaxis))


# ---------------------------------------------------------------- reader

READER_CSS = """
<style>
.pl-reader{white-space:pre-wrap;font-family:Georgia,'Times New Roman',serif;font-size:1.02rem;line-height:1.7;
  padding:1rem 1.2rem;border:1px solid #e9ecef;border-radius:6px;background:#fff;color:#212529;overflow-wrap:anywhere}
.pl-reader mark{padding:0 2px;border-radius:3px;color:inherit}
.pl-reader a.pl-ent{color:inherit;text-decoration:none}
.pl-reader .pl-bp{color:#adb5bd}
.pl-reader .pl-bp mark{opacity:.6}
.pl-reader .pl-cite{border-bottom:2px dotted #495057;font-weight:600}
.pl-reader .pl-hit{outline:2px solid #f08c00;outline-offset:1px;border-radius:2px;background:#fff3bf}
.pl-reader .pl-ctl{color:#c92a2a;font-family:monospace;font-size:.85em}
.pl-legend span{display:inline-block;margin:0 .6rem .3rem 0;padding:0 .4rem;border-radius:3px;font-size:.85rem}
</style>
"""


def _visible(s: str) -> str:
    """Escape HTML and make control characters (except newline and tab) visible as symbols."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in "\n\t":
            out.append(ch)
        elif o < 32 or o == 127 or 0x80 <= o < 0xA0:
            out.append(f'<span class="pl-ctl">{html.escape(chr(0x2400 + o) if o < 32 else "␡" if o == 127 else "�")}</span>')
        else:
            out.append(html.escape(ch))
    return "".join(out)


def article_html(text: str, mentions: pl.DataFrame, boilerplate: Iterable[Iterable[int]] | None = None,
                 cited: Iterable[Mapping] | None = None, entity_link: Callable[[str], str] | None = None,
                 hits: Iterable[tuple[int, int]] | None = None) -> str:
    """The reader HTML of one article.

    mentions: start, end, entity_id, entity_type, name (counted mentions, highlighted by type);
    boilerplate: [start, end) spans shown dimmed; cited: dicts with name, start, end (underlined).
    entity_link(entity_id) -> URL makes each mention a link that filters the dashboard by it.
    hits: [start, end) spans of the sidebar search's matches (outlined, on top of any mention).
    """
    n = len(text)
    spans_m = [(max(0, s), min(n, e), eid, et, nm) for s, e, eid, et, nm in
               mentions.select("start", "end", "entity_id", "entity_type", "name").rows() if 0 <= s < e <= n]
    spans_b = [(max(0, int(s)), min(n, int(e))) for s, e in (boilerplate or []) if s is not None and e is not None and s < e]
    spans_c = [(max(0, int(c["start"])), min(n, int(c["end"])), c.get("name") or "") for c in (cited or [])
               if c.get("start") is not None and c.get("end") is not None and c["start"] < c["end"]]
    spans_h = [(max(0, int(s)), min(n, int(e))) for s, e in (hits or []) if s is not None and e is not None and s < e]
    cuts = {0, n}
    for s, e in spans_h:
        cuts.update((s, e))
    for s, e, *_ in spans_m + spans_c:
        cuts.update((s, e))
    for s, e in spans_b:
        cuts.update((s, e))
    cuts = sorted(c for c in cuts if 0 <= c <= n)
    spans_m.sort()
    parts = [READER_CSS, '<div class="pl-reader">']
    for a, b in zip(cuts, cuts[1:]):
        piece = _visible(text[a:b])
        m = next((x for x in spans_m if x[0] <= a and b <= x[1]), None)
        if m is not None:
            _, _, eid, et, nm = m
            label = html.escape(f"{nm} · {TYPE_NAMES.get(et, et)}", quote=True)
            piece = f'<mark class="pl-m pl-{html.escape(str(et))}" style="background:{TYPE_BG.get(et, TYPE_BG["MISC"])}" title="{label}">{piece}</mark>'
            if entity_link is not None:
                piece = f'<a class="pl-ent" href="{html.escape(entity_link(eid), quote=True)}" target="_self">{piece}</a>'
        c = next((x for x in spans_c if x[0] <= a and b <= x[1]), None)
        if c is not None:
            piece = f'<span class="pl-cite" title="{html.escape("cited source: " + c[2], quote=True)}">{piece}</span>'
        if any(s <= a and b <= e for s, e in spans_h):
            piece = f'<span class="pl-hit" title="search match">{piece}</span>'
        if any(s <= a and b <= e for s, e in spans_b):
            piece = f'<span class="pl-bp" title="page clutter (not counted)">{piece}</span>'
        parts.append(piece)
    parts.append("</div>")
    return "".join(parts)


def legend_html(types: Iterable[str]) -> str:
    items = "".join(
        f'<span style="background:{TYPE_BG.get(t, TYPE_BG["MISC"])}">{html.escape(TYPE_NAMES.get(t, t))}</span>' for t in types
    )
    return (READER_CSS + f'<div class="pl-legend">{items}<span class="pl-cite" style="border-bottom:2px dotted #495057">cited source</span>'
            '<span style="color:#adb5bd">page clutter (dimmed, not counted)</span></div>')
