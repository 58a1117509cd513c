"""The URL format: Filters (+ open article, corpus version, page) <-> query parameters.

This is the only module that knows parameter names. In: a mapping of parameter name to
the list of its values (as `st.query_params.get_all` gives them) and a `Vocabulary` of
what the store knows. Out: a `LinkState` with valid Filters plus a list of human-readable
notices about everything that was ignored. Nothing here raises on bad input.

Format (repeated keys for multi-valued fields, so values may contain commas)::

    /<page>?lang=ru&lang=uk&outlet=TASS&source=ISW&entity=Q7747&from=2024-06-01&to=2024-06-30
            &undated=1&q=drones&story=<story_id>&doc=<doc_id>&v=<corpus version>

- lang, outlet, source, entity: any number (up to MAX_VALUES); alternatives within a
  field, entities must all be named in an article.
- from, to: ISO dates (YYYY-MM-DD), inclusive. undated=1: only articles without a date.
- dup=1: list duplicate copies too (they are never counted either way).
- story: one story (presslens.stories story_id); unknown ids are ignored with a notice.
- join: more stories viewed together with `story` as one (any number, like lang).
- split: with a story, the story split at this link strength (a number from 0.05 to 1, two
  decimals); part: with a split, one of its parts (1 = the largest). Out-of-range parts are
  ignored with a notice by the app (the parser does not know how many there are).
- span=outlets / span=languages: the Stories page lists only stories told by several outlets /
  in several languages.
- q: search text. doc: the article open in the reader. v: the corpus version the link
  was made on (a different current version is reported, not an error).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Mapping, Sequence
from urllib.parse import urlencode

from presslens.query import Filters

MULTI = {"lang": "languages", "outlet": "outlets", "source": "sources", "entity": "entities", "join": "joined"}
SINGLE = ("from", "to", "undated", "dup", "q", "story", "split", "part", "span", "doc", "v")
# span= values: the Filters.story_span they set, and how a chip names them
SPANS = {"outlets": "stories told by several outlets", "languages": "stories told in several languages"}
# The weakest link strength a split may ask for (a link's score is at least the build's
# threshold; below it a split changes nothing) and the most parts a link may name.
SPLIT_MIN, MAX_PART = 0.05, 100_000
# Parameters Streamlit itself uses; never ours to complain about.
STREAMLIT_OWN = {"embed", "embed_options"}
# More values than anyone picks by hand: beyond this a URL is garbage or an attack.
MAX_VALUES = 50
# Longest outlet/source/entity id/search text we accept (real ones are far shorter).
MAX_LEN = 200
# Doc and entity ids are hashes or gazetteer ids: a safe alphabet, checked before any lookup.
ID_RE = re.compile(r"^[\w.:\-]{1,128}$")

LABELS = {"lang": "language", "outlet": "outlet", "source": "cited source", "entity": "entity", "join": "story joined"}

# Page slugs (st.navigation url_path); the first is the default page served at "/".
PAGES = ("overview", "sources", "languages", "entities", "stories", "health", "articles")


@dataclass(frozen=True)
class Vocabulary:
    """Known values of the current store. `entities`/`docs` only need to contain the ids
    asked for (see `requested_ids`), so a million-article store is never loaded whole."""

    languages: frozenset[str] = frozenset()
    outlets: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    entities: frozenset[str] = frozenset()
    docs: frozenset[str] = frozenset()
    stories: frozenset[str] = frozenset()
    version: str | None = None


@dataclass(frozen=True)
class LinkState:
    filters: Filters = Filters()
    doc: str | None = None
    link_version: str | None = None
    ignored: tuple[str, ...] = ()
    stale: bool = False  # the link was made on another corpus version


def _short(value: str, n: int = 40) -> str:
    """A value safe to quote in a notice: no backticks or control characters, cut to n chars."""
    clean = "".join(ch if ch.isprintable() and ch != "`" else "?" for ch in value)
    return clean if len(clean) <= n else clean[: n - 1] + "…"


def normalise(params: Mapping[str, Sequence[str] | str]) -> dict[str, list[str]]:
    """Any mapping (st.query_params.to_dict(), a dict of lists) -> dict of lists of str."""
    out: dict[str, list[str]] = {}
    for key, value in params.items():
        out[str(key)] = [value] if isinstance(value, str) else [str(v) for v in value]
    return out


def requested_ids(params: Mapping[str, Sequence[str] | str]) -> tuple[list[str], list[str]]:
    """Well-formed entity ids and doc ids asked for by the URL (to look up before `parse`)."""
    p = normalise(params)
    ents = [v for v in p.get("entity", [])[:MAX_VALUES] if ID_RE.match(v)]
    docs = [v for v in p.get("doc", [])[:1] if ID_RE.match(v)]
    return ents, docs


def requested_story(params: Mapping[str, Sequence[str] | str]) -> list[str]:
    """The well-formed story ids asked for by the URL (the story, then the stories joined to
    it), to look up before `parse`."""
    p = normalise(params)
    return [v for v in p.get("story", [])[:1] + p.get("join", [])[:MAX_VALUES] if ID_RE.match(v)]


def _date(value: str) -> dt.date | None:
    if len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def parse(params: Mapping[str, Sequence[str] | str], vocab: Vocabulary) -> LinkState:
    """Query parameters -> LinkState; every ignored value is named in `ignored`."""
    p = normalise(params)
    ignored: list[str] = []
    known = {"lang": vocab.languages, "outlet": vocab.outlets, "source": vocab.sources, "entity": vocab.entities,
             "join": vocab.stories}
    fields: dict = {}
    for key, values in p.items():
        if key in STREAMLIT_OWN:
            continue
        if key not in MULTI and key not in SINGLE:
            ignored.append(f"{_short(key)}: unknown parameter")
            continue
        if key in SINGLE and len(values) > 1:
            ignored.append(f"{key}: given {len(values)} times, only the first is used")
            values = values[:1]
        if key in MULTI:
            if len(values) > MAX_VALUES:
                ignored.append(f"{key}: {len(values)} values, only the first {MAX_VALUES} are used")
                values = values[:MAX_VALUES]
            kept: list[str] = []
            for v in values:
                if len(v) > MAX_LEN:
                    ignored.append(f"{key}={_short(v)}: longer than {MAX_LEN} characters")
                elif v in kept:
                    ignored.append(f"{key}={_short(v)}: repeated")
                elif v not in known[key]:
                    ignored.append(f"{key}={_short(v)}: unknown {LABELS[key]} in this corpus")
                else:
                    kept.append(v)
            fields[MULTI[key]] = tuple(kept)
    one = {k: p[k][0] for k in SINGLE if p.get(k)}
    for key in ("from", "to"):
        if key in one:
            d = _date(one[key])
            if d is None:
                ignored.append(f"{key}={_short(one[key])}: not a date (use YYYY-MM-DD)")
            else:
                fields["date_from" if key == "from" else "date_to"] = d
    if fields.get("date_from") and fields.get("date_to") and fields["date_from"] > fields["date_to"]:
        ignored.append("from/to: 'from' was after 'to', swapped them")
        fields["date_from"], fields["date_to"] = fields["date_to"], fields["date_from"]
    if "undated" in one:
        if one["undated"] in ("1", "true"):
            if fields.get("date_from") or fields.get("date_to"):
                ignored.append("undated=1: cannot be combined with a date range, kept the range")
            else:
                fields["undated"] = True
        elif one["undated"] not in ("0", "false"):
            ignored.append(f"undated={_short(one['undated'])}: use undated=1")
    if "dup" in one:
        if one["dup"] in ("1", "true"):
            fields["duplicates"] = True
        elif one["dup"] not in ("0", "false"):
            ignored.append(f"dup={_short(one['dup'])}: use dup=1")
    if "q" in one:
        if len(one["q"]) > MAX_LEN:
            ignored.append(f"q: longer than {MAX_LEN} characters")
        elif any(not ch.isprintable() for ch in one["q"]):
            ignored.append("q: contains control characters")
        else:
            fields["search"] = one["q"]
    if "story" in one:
        if ID_RE.match(one["story"]) and one["story"] in vocab.stories:
            fields["story"] = one["story"]
        else:
            ignored.append(f"story={_short(one['story'])}: no such story in this corpus")
    if fields.get("joined") and not fields.get("story"):
        ignored.append("join: joining stories needs a story (story=)")
    if "split" in one and fields.get("joined") and fields.get("story"):
        ignored.append(f"split={_short(one['split'])}: stories joined in one view cannot be split")
    elif "split" in one:
        split = _split(one["split"])
        if not fields.get("story"):
            ignored.append(f"split={_short(one['split'])}: a split needs a story")
        elif split is None:
            ignored.append(f"split={_short(one['split'])}: not a link strength (use a number from {SPLIT_MIN:g} to 1)")
        else:
            fields["split"] = split
    if "part" in one:
        if fields.get("split") is None:
            ignored.append(f"part={_short(one['part'])}: a part needs a story split (split=)")
        elif not re.fullmatch(r"[1-9]\d{0,5}", one["part"]) or int(one["part"]) > MAX_PART:
            ignored.append(f"part={_short(one['part'])}: not a part number (1 is the largest)")
        else:
            fields["part"] = int(one["part"])
    if "span" in one:
        if one["span"] in SPANS:
            fields["story_span"] = one["span"]
        else:
            ignored.append(f"span={_short(one['span'])}: use span=outlets or span=languages")
    doc = None
    if "doc" in one:
        if ID_RE.match(one["doc"]) and one["doc"] in vocab.docs:
            doc = one["doc"]
        else:
            ignored.append(f"doc={_short(one['doc'])}: no such article in this corpus")
    link_version = one.get("v")
    if link_version is not None and (len(link_version) > 64 or not ID_RE.match(link_version)):
        ignored.append(f"v={_short(link_version)}: not a corpus version")
        link_version = None
    stale = bool(link_version and vocab.version and link_version != vocab.version)
    return LinkState(Filters.make(**fields), doc, link_version, tuple(ignored), stale)


def to_params(filters: Filters, doc: str | None = None, version: str | None = None) -> dict[str, list[str] | str]:
    """Filters -> query parameters (only what is set), in a stable order."""
    out: dict[str, list[str] | str] = {}
    for key, name in MULTI.items():
        values = getattr(filters, name)
        if values:
            out[key] = list(values)
    if filters.date_from:
        out["from"] = filters.date_from.isoformat()
    if filters.date_to:
        out["to"] = filters.date_to.isoformat()
    if filters.undated:
        out["undated"] = "1"
    if filters.duplicates:
        out["dup"] = "1"
    if filters.search:
        out["q"] = filters.search
    if filters.story:
        out["story"] = filters.story
        if filters.split is not None:
            out["split"] = f"{filters.split:g}"
            if filters.part:
                out["part"] = str(filters.part)
    if filters.story_span:
        out["span"] = filters.story_span
    if doc:
        out["doc"] = doc
    if version:
        out["v"] = version
    return out


def query_string(filters: Filters, doc: str | None = None, version: str | None = None) -> str:
    return urlencode(to_params(filters, doc, version), doseq=True)


def page_url(page: str, filters: Filters, doc: str | None = None, version: str | None = None, base: str = "") -> str:
    """The URL of a page showing `filters` (relative unless `base`, e.g. 'http://host:8501', is given)."""
    path = "" if page == PAGES[0] else page
    qs = query_string(filters, doc, version)
    return f"{base.rstrip('/')}/{path}" + (f"?{qs}" if qs else "")


def describe(filters: Filters, names: Mapping[str, str] | None = None) -> list[tuple[str, str, str | None]]:
    """Active filters as (field, label, value) for chips: value None means the whole field."""
    names = names or {}
    out: list[tuple[str, str, str | None]] = []
    for key, name in MULTI.items():
        if key == "join":
            continue  # after the story's chip, below
        for v in getattr(filters, name):
            shown = names.get(v, v) if key == "entity" else v
            out.append((name, f"{LABELS[key]}: {shown}", v))
    if filters.date_from or filters.date_to:
        a = filters.date_from.isoformat() if filters.date_from else "…"
        b = filters.date_to.isoformat() if filters.date_to else "…"
        out.append(("date_from", f"dates: {a} – {b}", None))
    if filters.undated:
        out.append(("undated", "undated only", None))
    if filters.duplicates:
        out.append(("duplicates", "duplicate copies listed", None))
    if filters.search:
        out.append(("search", f"search: {filters.search}", None))
    if filters.story:
        out.append(("story", f"story: {names.get(filters.story, filters.story)}", None))
        out.extend(("joined", f"{LABELS['join']}: {names.get(v, v)}", v) for v in filters.joined)
        if filters.split is not None:
            out.append(("split", f"split at link strength ≥ {filters.split:g}"
                        + (f", part {filters.part}" if filters.part else ""), None))
    if filters.story_span:
        out.append(("story_span", SPANS.get(filters.story_span, filters.story_span), None))
    return out


def _split(value: str) -> float | None:
    """A link strength from the URL: a plain decimal from SPLIT_MIN to 1, rounded to 2 places."""
    if not re.fullmatch(r"[01]?\.\d{1,6}|[01]", value):
        return None
    x = round(float(value), 2)
    return x if SPLIT_MIN <= x <= 1 else None
