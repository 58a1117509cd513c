"""Saved web page (bytes) -> one RawRecord with the article's main text and metadata.

In:  the raw bytes of an .html/.htm file and its path relative to the corpus root.
Out: `read_html(data, relpath) -> (records, rejects)`: one RawRecord whose `text` is the
     main text trafilatura extracts (menus, footers and related links removed), with
     `title`, `url` (canonical / og:url), `outlet` (site name) and `language` (the
     <html lang> attribute) marked with provenance "html", and the page itself in
     `html`; or a Reject when the page has no article text. The publication date is
     not set here: presslens.enrich.metadata.published weighs the page's own dates
     (`markup_dates`: JSON-LD, <meta>, <time>; `htmldate_date`) against the URL and the
     dateline, and says which source won.

Decoding: BOM, strict UTF-8, then the page's own <meta charset> competing with the
legacy encodings (see text.decode), because saved pages do declare the wrong charset.
"""
from __future__ import annotations

import datetime as dt
import functools
import html as html_lib
import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import trafilatura

from presslens.ingest.fields import clean_language, clean_str, parse_date
from presslens.ingest.text import DecodeError, decode
from presslens.records import RawRecord, Reject

# The <meta charset> / http-equiv declaration must sit in the first 1024 bytes (HTML
# standard); 4 KiB allows for long <head> comments in saved pages.
_HEAD_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HTML_LANG = re.compile(r"""<html[^>]*\slang\s*=\s*["']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)""", re.I)

# Dates from markup only (meta tags, JSON-LD, <time>, the URL): a date guessed from the
# free text is left to presslens.enrich.metadata, which labels it "text", not "html".
_DATE_PARAMS = {"original_date": True, "extensive_search": False}

# trafilatura logs every page it cannot parse at ERROR level; our Reject says it better.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def read_html(data: bytes, relpath: str) -> tuple[list[RawRecord], list[Reject]]:
    """Extract the article from a saved web page; see the module docstring."""
    head = data[:_HEAD_BYTES]
    declared = _META_CHARSET.search(head)
    try:
        decoded = decode(data, declared[1].decode("ascii", "replace") if declared else None)
    except DecodeError as err:
        return [], [Reject(relpath, f"This web page {err}.")]
    return extract(decoded.text, relpath, decoded.encoding)


def extract(html: str, relpath: str, encoding: str | None) -> tuple[list[RawRecord], list[Reject]]:
    """Decoded HTML -> a RawRecord (or a Reject when there is no article text)."""
    doc = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        date_extraction_params=_DATE_PARAMS,
    )
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        return [], [
            Reject(
                relpath,
                "No article text found in this web page: it may be an index or login page, "
                "or its text is loaded by JavaScript and was not saved with it.",
            )
        ]
    record = RawRecord(path=relpath, text=text, encoding=encoding, html=html)
    values = {
        "title": clean_str(doc.title),
        "url": clean_str(doc.url),
        "outlet": clean_str(doc.sitename),
    }
    lang = _HTML_LANG.search(html, 0, _HEAD_BYTES * 4)
    values["language"] = clean_language(lang[1]) if lang else None
    for name, value in values.items():
        if value is not None:
            setattr(record, name, value)
            record.provenance[name] = "html"
    return [record], []


# ---------------------------------------------------------------------------------------
# Publication date candidates from the page's markup
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateCandidate:
    """A publication date a page states, where it states it, and the text it was read from."""

    source: str  # json-ld, meta, time, htmldate
    value: dt.date
    evidence: str


# schema.org types whose datePublished is the article's (not the site's or a breadcrumb's).
_ARTICLE_TYPES = frozenset({
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "socialmediaposting", "liveblogposting",
    "scholarlyarticle", "techarticle", "report", "webpage", "itempage", "creativework", "videoobject",
})
# <meta> names/properties/itemprops that hold the original publication date, from the
# public vocabularies: OpenGraph (article:published_time), schema.org microdata
# (datePublished), Dublin Core (DC.date.issued), and the conventions of common publishing
# platforms (pubdate, parsely-pub-date, sailthru.date). Modification dates are left out.
PUBLISHED_META = (
    "article:published_time", "og:published_time", "og:article:published_time", "article:published",
    "datepublished", "date_published", "published_time", "published-date", "publish-date", "publish_date",
    "publishdate", "pubdate", "pub_date", "publication_date", "publication-date", "dc.date.issued",
    "dcterms.issued", "dc.date.created", "dcterms.created", "dc.date", "dcterms.date", "date",
    "parsely-pub-date", "sailthru.date", "article.published", "article_date_original",
    "original-publish-date", "datecreated",
)
_META_RANK = {name: i for i, name in enumerate(PUBLISHED_META)}
_TAG_RE = re.compile(r"<(meta|time)\b([^>]*)>", re.I)
_ATTR_RE = re.compile(r"""([a-zA-Z_:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_JSON_LD_RE = re.compile(
    r"""<script[^>]+type\s*=\s*["']?application/ld\+json["']?[^>]*>(.*?)</script>""", re.I | re.S)
# A <time> element stands for the publication when it is marked as such (pubdate
# attribute, itemprop datePublished, or a class naming publication).
_TIME_PUBLISHED_RE = re.compile(r"\bpubdate\b|datepublished|publish|posted|created", re.I)
# Pages are searched this far for markup dates: <head> and article header come first.
_MARKUP_SCAN_CHARS = 1_000_000


# A timestamp written in UTC ("...T23:15:00Z", "+00:00") is an instant, not the date the
# outlet printed; when the site's country-code domain names a country with a single time
# zone (IANA zone.tab), the instant is read in that zone. Other values keep the calendar
# date they were written with.
_UTC_STAMP_RE = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?\s*(?:Z|[+-]00:?00|UTC|GMT)\s*$", re.I)
_ZONE_TAB = "/usr/share/zoneinfo/zone.tab"
# Country-code domains that are not the ISO 3166 code of their country.
_TLD_COUNTRY = {"uk": "GB"}


@functools.lru_cache(maxsize=1)
def _country_zones() -> dict[str, list[str]]:
    """ISO country code -> its IANA time zones (from the system's zone.tab; {} if absent)."""
    zones: dict[str, list[str]] = {}
    try:
        with open(_ZONE_TAB, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("#") or not line.strip():
                    continue
                parts = line.split("\t")
                if len(parts) >= 3:
                    zones.setdefault(parts[0].upper(), []).append(parts[2].strip())
    except OSError:
        return {}
    return zones


def site_zone(url: str | None):
    """The time zone of a site's country when its domain is a country code of a country with
    one time zone (news.example.it -> Europe/Rome); None otherwise (.com, .ca, .ru...)."""
    if not url:
        return None
    host = urlsplit(url if "//" in url else "//" + url).hostname or ""
    tld = host.rsplit(".", 1)[-1].lower()
    if len(tld) != 2 or not tld.isalpha():
        return None
    zones = _country_zones().get(_TLD_COUNTRY.get(tld, tld.upper()), [])
    if len(zones) != 1:
        return None
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(zones[0])
    except Exception:  # no tz database on this machine: keep dates as written
        return None


def markup_day(value: str, zone=None) -> dt.date | None:
    """The publication day a markup value states: a UTC timestamp read in `zone` when
    given, anything else by fields.parse_date (its own calendar date)."""
    if zone is not None:
        m = _UTC_STAMP_RE.match(value)
        if m:
            try:
                stamp = dt.datetime.fromisoformat(f"{m.group(1)}T{int(m.group(2)):02d}:{int(m.group(3)):02d}"
                                                  f":{int(m.group(4) or 0):02d}+00:00")
                return stamp.astimezone(zone).date()
            except ValueError:
                pass
    return parse_date(value)


def _attrs(raw: str) -> dict[str, str]:
    out = {}
    for m in _ATTR_RE.finditer(raw):
        value = m.group(2) if m.group(2) is not None else m.group(3) if m.group(3) is not None else m.group(4)
        out.setdefault(m.group(1).lower(), html_lib.unescape(value or "").strip())
    return out


def _json_ld_dates(html: str, zone=None) -> list[DateCandidate]:
    """datePublished of the page's JSON-LD objects, article types first."""
    found: list[tuple[int, DateCandidate]] = []

    def walk(node, depth: int = 0) -> None:
        if depth > 12:
            return
        if isinstance(node, list):
            for item in node:
                walk(item, depth + 1)
            return
        if not isinstance(node, dict):
            return
        value = node.get("datePublished")
        if isinstance(value, str):
            day = markup_day(value, zone)
            if day is not None:
                types = node.get("@type")
                types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
                is_article = any(isinstance(t, str) and t.lower() in _ARTICLE_TYPES for t in types)
                label = "/".join(t for t in types if isinstance(t, str)) or "object"
                found.append((0 if is_article else 1, DateCandidate(
                    "json-ld", day, f"JSON-LD {label} datePublished {value[:40]}")))
        for key, item in node.items():
            if key != "datePublished" and isinstance(item, (dict, list)):
                walk(item, depth + 1)

    for m in _JSON_LD_RE.finditer(html, 0, _MARKUP_SCAN_CHARS):
        raw = m.group(1).strip()
        if raw.startswith("<!--"):
            raw = raw[4:].rsplit("-->", 1)[0]
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        walk(data)
    found.sort(key=lambda pair: pair[0])
    return [c for _rank, c in found]


def _tag_dates(html: str, zone=None) -> tuple[list[DateCandidate], list[DateCandidate]]:
    """(meta candidates in vocabulary order, marked <time datetime> candidates in page order)."""
    metas: list[tuple[int, int, DateCandidate]] = []
    times: list[DateCandidate] = []
    for i, m in enumerate(_TAG_RE.finditer(html, 0, _MARKUP_SCAN_CHARS)):
        attrs = _attrs(m.group(2))
        if m.group(1).lower() == "meta":
            content = attrs.get("content")
            if not content:
                continue
            for key in ("property", "name", "itemprop", "http-equiv"):
                name = attrs.get(key, "").lower()
                rank = _META_RANK.get(name)
                if rank is not None:
                    day = markup_day(content, zone)
                    if day is not None:
                        metas.append((rank, i, DateCandidate("meta", day, f'meta {key}="{name}" {content[:40]}')))
                    break
        else:
            value = attrs.get("datetime")
            if not value:
                continue
            marks = " ".join([*attrs, attrs.get("itemprop", ""), attrs.get("class", "")])
            if _TIME_PUBLISHED_RE.search(marks):
                day = markup_day(value, zone)
                if day is not None:
                    times.append(DateCandidate("time", day, f'<time datetime="{value[:40]}">'))
    metas.sort(key=lambda t: (t[0], t[1]))
    return [c for _r, _i, c in metas], times


def markup_dates(html: str, url: str | None = None) -> list[DateCandidate]:
    """Publication dates the page states in its markup, in order of trust: JSON-LD
    datePublished (article types first), then <meta> (OpenGraph, schema.org, Dublin
    Core, platform conventions, in PUBLISHED_META order), then marked <time datetime>.
    `url` (the page's) lets UTC timestamps be read in the site's time zone (site_zone)."""
    zone = site_zone(url)
    metas, times = _tag_dates(html, zone)
    return _json_ld_dates(html, zone) + metas + times


# How many times htmldate was asked in this process (the eval reports it: it is the costly
# source, ~30 ms a page when the markup has no date).
HTMLDATE_CALLS = 0


def htmldate_date(html: str, url: str | None = None) -> DateCandidate | None:
    """htmldate's original publication date for the page (its full search, which also
    reads the text when the markup has no date); None when it finds none."""
    global HTMLDATE_CALLS
    HTMLDATE_CALLS += 1
    try:
        from htmldate import find_date

        found = find_date(html, original_date=True, url=url, outputformat="%Y-%m-%d")
    except Exception:  # htmldate raises on odd markup; the other sources still count
        return None
    day = parse_date(found) if found else None
    return DateCandidate("htmldate", day, f"htmldate {found}") if day else None
