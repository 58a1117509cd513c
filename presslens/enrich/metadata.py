"""Article metadata: title, publishing outlet and publication date, each with its evidence.

In:  a RawRecord (its given metadata fields win), the article text, the boilerplate spans
     from boilerplate.find and the article language (ISO 639-1 or "und").
Out: presslens.records.Evidence(value, source, evidence):
  - title(...)     value = str or None;  source = field/sidecar/... (record) or text or none
  - outlet(...)    value = (display name, domain or None) or None;
                   source = field/sidecar (record.outlet), url (record.url), text, none
  - published(...) value = datetime.date or None;
                   source = field/sidecar (record.published), or the source that won the
                   vote: url, json-ld, meta, time, htmldate, text; none (no plausible date)
  `evidence` is the field name, the URL, the markup or the line of text the value was read
  from (and the sources that agreed); for a refused date, why it was refused.

The date grammar below (month names in en/ru/uk/ro, numeric forms, weekday names) is
also used by boilerplate.find to recognise the date lines of related-headline blocks.
All text rules are general patterns for the four corpus languages (ru, uk, ro, en).
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import re
from pathlib import Path
from urllib.parse import urlsplit

from presslens.enrich import textcase
from presslens.records import Evidence, RawRecord

# ---------------------------------------------------------------------------------------
# Date grammar
# ---------------------------------------------------------------------------------------

# Month names (full, genitive/nominative, common abbreviations) -> month number.
# Ukrainian uses the genitive in dates ("22 листопада") but scraped pages also print the
# nominative ("22 листопад"), so both are listed. Romanian "mai" and Russian "мая" are May.
_MONTHS: dict[int, tuple[str, ...]] = {
    1: ("january", "jan", "января", "январь", "янв", "січня", "січень", "січ", "ianuarie", "ian"),
    2: ("february", "feb", "февраля", "февраль", "фев", "лютого", "лютий", "лют", "februarie", "febr"),
    3: ("march", "mar", "марта", "март", "мар", "березня", "березень", "бер", "martie"),
    4: ("april", "apr", "апреля", "апрель", "апр", "квітня", "квітень", "квіт", "aprilie"),
    5: ("may", "мая", "май", "травня", "травень", "трав", "mai"),
    6: ("june", "jun", "июня", "июнь", "июн", "червня", "червень", "черв", "iunie", "iun"),
    7: ("july", "jul", "июля", "июль", "июл", "липня", "липень", "лип", "iulie", "iul"),
    8: ("august", "aug", "августа", "август", "авг", "серпня", "серпень", "серп"),
    9: ("september", "sept", "sep", "сентября", "сентябрь", "сент", "сен", "вересня",
        "вересень", "вер", "septembrie"),
    10: ("october", "oct", "октября", "октябрь", "окт", "жовтня", "жовтень", "жовт", "octombrie"),
    11: ("november", "nov", "ноября", "ноябрь", "нояб", "ноя", "листопада", "листопад", "лист",
         "noiembrie", "noi"),
    12: ("december", "dec", "декабря", "декабрь", "дек", "грудня", "грудень", "груд", "decembrie"),
}
MONTH_NUMBER: dict[str, int] = {name: num for num, names in _MONTHS.items() for name in names}
# Longest first so "листопада" wins over "листопад" and "sept" over "sep".
_MONTH_ALT = "|".join(sorted(map(re.escape, MONTH_NUMBER), key=len, reverse=True))

# Weekday names that precede a date on news pages ("п’ятниця, 22 листопад 2024, 23:55").
_WEEKDAYS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun|"
    "понедельник|вторник|среда|четверг|пятница|суббота|воскресенье|"
    "понеділок|вівторок|середа|четвер|п[’'ʼ`]?ятниця|субота|неділя|"
    "luni|marți|marti|miercuri|joi|vineri|sâmbătă|sambata|duminică|duminica"
)

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\.?)?"
# Numeric dates: ISO-like year first (2024-6-23, 2024/06/23, 2024.06.23) and
# day first (23.06.2024, 23/06/2024, 23-06-2024).
_YMD = r"(?P<y1>(?:19|20)\d{2})[-/.](?P<m1>\d{1,2})[-/.](?P<d1>\d{1,2})(?!\d)"
_DMY = r"(?<!\d)(?P<d2>\d{1,2})(?P<sep2>[./-])(?P<m2>\d{1,2})(?P=sep2)(?P<y2>(?:19|20)\d{2})(?!\d)"
# Word dates: "23 июня 2024", "22 листопада 2024 р.", "23 iunie 2024", "23rd June 2024".
_DMonY = (
    rf"(?<!\d)(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?P<mon3>{_MONTH_ALT})\.?,?\s+"
    r"(?P<y3>(?:19|20)\d{2})(?!\d)"
)
# "June 23, 2024", "Jun. 3 2024".
_MonDY = (
    rf"(?<![^\W\d_])(?P<mon4>{_MONTH_ALT})\.?\s+(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?,?\s+"
    r"(?P<y4>(?:19|20)\d{2})(?!\d)"
)
DATE_RE = re.compile(rf"(?:{_YMD}|{_DMY}|{_DMonY}|{_MonDY})", re.IGNORECASE)
TIME_RE = re.compile(rf"(?<![\d:]){_TIME}(?![\d:])")
# The same date grammar without named groups, to embed it twice in one pattern.
_DATE_PLAIN = re.sub(r"\(\?P<\w+>", "(?:", DATE_RE.pattern.replace("(?P=sep2)", "[./-]"))
# A date and a clock time next to each other: the timestamp of a news item.
DATETIME_RE = re.compile(
    rf"(?:(?:{_DATE_PLAIN})[\s,|•·/-]{{0,4}}(?:{_TIME})"
    rf"|(?:{_TIME})[\s,|•·/-]{{0,4}}(?:{_DATE_PLAIN}))",
    re.IGNORECASE,
)
# Words allowed around a date on a line that is "only a date": weekday, year suffixes
# (г., года, року, р.), publication labels. Whatever else remains must be punctuation.
_DATE_FILLER_RE = re.compile(
    rf"\b(?:{_WEEKDAYS})\b|\b(?:г|года|году|р|року|year)\b\.?|"
    r"\b(?:published|updated|posted|опубликовано|обновлено|опубліковано|оновлено|"
    r"publicat|actualizat|дата|data)\b:?|\b(?:at|в|о|la|ora)\b",
    re.IGNORECASE,
)

# Plausible publication years: news archives start in the 1990s; +1 tolerates time zones.
_MIN_YEAR = 1990


def parse_date(m: re.Match, language: str = "und") -> dt.date | None:
    """Turn a DATE_RE match into a date, or None when it is not a real calendar date."""
    g = m.groupdict()
    try:
        if g.get("y1"):
            y, mo, d = int(g["y1"]), int(g["m1"]), int(g["d1"])
        elif g.get("y2"):
            y, a, b = int(g["y2"]), int(g["d2"]), int(g["m2"])
            # Day first is the norm in ru/uk/ro (and British) usage; a US-style
            # month-first reading is taken only for English slashes or when day-first
            # is impossible (e.g. 06/23/2024).
            if (g["sep2"] == "/" and language == "en" and a <= 12) or b > 12:
                a, b = b, a
            d, mo = a, b
        elif g.get("y3"):
            y, mo, d = int(g["y3"]), MONTH_NUMBER[g["mon3"].lower()], int(g["d3"])
        else:
            y, mo, d = int(g["y4"]), MONTH_NUMBER[g["mon4"].lower()], int(g["d4"])
        value = dt.date(y, mo, d)
    except (ValueError, KeyError, TypeError):
        return None
    if not _MIN_YEAR <= value.year <= dt.date.today().year + 1:
        return None
    return value


def may_hold_date(s: str) -> bool:
    """False when `s` cannot hold a DATE_RE match: every one writes its year as 19xx or
    20xx (two substring tests, far cheaper than the pattern)."""
    return "19" in s or "20" in s


# The case-insensitive date patterns as case-sensitive twins for lowered lines (textcase:
# same matches at the same offsets, ~2.5x faster; parse_date lower-cases month names anyway).
_DATE_LOW = textcase.twin(DATE_RE)
_DATE_FILLER_LOW = textcase.twin(_DATE_FILLER_RE)


def _date_patterns(line: str) -> tuple[str, re.Pattern, re.Pattern]:
    """(line or its lowered copy, DATE_RE or its twin, _DATE_FILLER_RE or its twin)."""
    low = textcase.lower_if_safe(line)
    return (line, DATE_RE, _DATE_FILLER_RE) if low is None else (low, _DATE_LOW, _DATE_FILLER_LOW)


def is_date_line(line: str) -> bool:
    """True when a line holds a date and nothing else but a weekday, a time, labels and
    punctuation: "п’ятниця, 22 листопад 2024, 23:55", "2024-6-23 09:25 |", "23.06.2024"."""
    if not may_hold_date(line):
        return False
    # On the lowered line every step below blanks the same spans (TIME_RE's [AaPp][Mm] too),
    # and what is left has letters exactly when the original's rest has.
    line, date_re, filler_re = _date_patterns(line)
    if not date_re.search(line):
        return False
    rest = date_re.sub(" ", line)
    rest = TIME_RE.sub(" ", rest)
    rest = filler_re.sub(" ", rest)
    return not re.search(r"[^\W_]", rest)


# ---------------------------------------------------------------------------------------
# Helpers over lines and boilerplate
# ---------------------------------------------------------------------------------------

# How many non-boilerplate lines count as the article head (title, dek, dateline, byline).
# Datelines and "City • OUTLET" lines live there; later dates are body or related stories.
HEAD_LINES = 4
# Longest line taken as a title; longer first lines are body text and get cut.
TITLE_MAX_CHARS = 250
# A title candidate needs this many letters (skips "Details", bullets, counters).
TITLE_MIN_LETTERS = 12


def _lines(text: str):
    """(start, end, line) for every line; end excludes the newline (and a trailing \\r).
    A generator over str.find, so reading the first lines of a huge text is cheap."""
    pos = 0
    size = len(text)
    while pos <= size:
        nl = text.find("\n", pos)
        end = size if nl < 0 else nl
        line_end = end - 1 if end > pos and text[end - 1] == "\r" else end
        yield pos, line_end, text[pos:line_end]
        if nl < 0:
            return
        pos = nl + 1


# Head lines are cut to this many characters before date/outlet patterns run on them:
# datelines and bylines are short, and a one-line 300 KB "paragraph" must stay cheap.
HEAD_LINE_MAX_CHARS = 400
# Outlet evidence (read-more lines, relay formulas, credits) is looked for in this much
# of the text; its end is checked too, where "read more on DOMAIN" lines sit.
OUTLET_SCAN_CHARS = 50_000


def _clean_lines(text: str, boilerplate, limit: int | None = None):
    """Non-empty lines with their boilerplate parts blanked out (offsets kept), each cut
    to HEAD_LINE_MAX_CHARS; at most `limit` lines. A generator: it stops early."""
    spans = sorted(boilerplate or [])
    n = 0
    for start, end, line in _lines(text):
        if limit is not None and n >= limit:
            return
        if not line.strip():
            continue
        end = min(end, start + HEAD_LINE_MAX_CHARS)
        cleaned = line[: end - start]
        for s, e in spans:  # blank boilerplate parts by slicing (offsets stay the same)
            if s < end and start < e:
                a, b = max(s, start) - start, min(e, end) - start
                cleaned = cleaned[:a] + " " * (b - a) + cleaned[b:]
        if cleaned.strip():
            n += 1
            yield start, end, cleaned


def head_lines(text: str, boilerplate, n: int = HEAD_LINES) -> list[tuple[int, int, str]]:
    """The first `n` non-empty, non-boilerplate lines (boilerplate parts blanked)."""
    return list(_clean_lines(text, boilerplate, n))


_NON_LETTER_RE = re.compile(r"[\W\d_]+")


def _letters(s: str) -> int:
    """How many letters `s` holds (str.isalpha, counted by the regex engine, not a loop)."""
    return len(s) - sum(len(m) for m in _NON_LETTER_RE.findall(s))


# ---------------------------------------------------------------------------------------
# Title
# ---------------------------------------------------------------------------------------


def title(record: RawRecord, text: str, boilerplate, language: str) -> Evidence:
    """record.title when given; else the first substantial non-boilerplate line that is
    not a dateline or a "City • OUTLET" line, cut to TITLE_MAX_CHARS at a word boundary."""
    if record.title:
        return Evidence(record.title, record.provenance.get("title", "field"), "title")
    for _s, _e, line in _clean_lines(text, boilerplate):
        line = " ".join(line.split())
        if _letters(line) < TITLE_MIN_LETTERS or is_date_line(line) or _dateline_outlet(line):
            continue
        value = line
        if len(value) > TITLE_MAX_CHARS:
            cut = value[:TITLE_MAX_CHARS].rsplit(" ", 1)[0]
            value = cut.rstrip(" ,;:-–—") + "…"
        return Evidence(value, "text", line[:300])
    return Evidence(None, "none")


# ---------------------------------------------------------------------------------------
# Outlet
# ---------------------------------------------------------------------------------------

OUTLETS_CSV = Path(__file__).resolve().parents[2] / "data" / "outlets.csv"


@functools.lru_cache(maxsize=1)
def _outlet_table() -> tuple[dict[str, str], dict[str, str]]:
    """(domain -> display name, lower-cased alias -> display name) from data/outlets.csv.

    Columns: name, domains (| separated), aliases (| separated). Lines starting with #
    are comments. A missing file gives empty tables (names are then kept as written)."""
    by_domain: dict[str, str] = {}
    by_alias: dict[str, str] = {}
    if not OUTLETS_CSV.exists():
        return by_domain, by_alias
    with OUTLETS_CSV.open(encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.lstrip().startswith("#"))
        for row in rows:
            name = (row.get("name") or "").strip()
            if not name:
                continue
            by_alias[name.casefold()] = name
            for dom in (row.get("domains") or "").split("|"):
                if dom.strip():
                    by_domain[dom.strip().lower()] = name
            for alias in (row.get("aliases") or "").split("|"):
                if alias.strip():
                    by_alias[alias.strip().casefold()] = name
    return by_domain, by_alias


def outlet_for_domain(domain: str) -> str:
    """Display name for a domain: the table entry for it or for a parent domain
    (ru.tsn.ua -> tsn.ua -> TSN); else the domain itself without "www."."""
    domain = domain.lower().strip(".")
    if domain.startswith("www."):
        domain = domain[4:]
    by_domain, _ = _outlet_table()
    parts = domain.split(".")
    for i in range(len(parts) - 1):
        hit = by_domain.get(".".join(parts[i:]))
        if hit:
            return hit
    return domain


def outlet_for_name(name: str) -> str:
    """Canonical display name for an outlet name as written (table alias), else the name."""
    name = " ".join(name.split()).strip(" .,;:«»\"'“”„")
    return _outlet_table()[1].get(name.casefold(), name)


_DOMAIN = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,12}"
# "read the full story on DOMAIN": a page pointing at its own site.
_READ_ON_RE = re.compile(
    r"(?:подробнее|детальнее|больше|полностью)\s+(?:читайте|читать|новостей)\s+на|"
    r"(?:детальніше|докладніше|більше|повністю)\s+(?:читайте|читати|новин)\s+на|"
    r"read\s+(?:more|the\s+full\s+(?:story|article))\s+(?:on|at)|"
    r"(?:citește|citeste|citiți|cititi)\s+(?:mai\s+multe|mai\s+mult|tot\s+articolul|articolul)\s+(?:pe|la)"
    rf"|(?:источник|джерело|sursa|source)\s*:"
    rf"(?=\s*(?:https?://)?(?:www\.)?{_DOMAIN}\b)",
    re.IGNORECASE,
)
_READ_ON_LOW = textcase.twin(_READ_ON_RE, textcase.letter_groups([_READ_ON_RE.pattern]))
# Every "read more" or "source:" formula holds one of these: a lowered text without them has none.
_READ_ON_NEEDLES = ("чита", "новост", "новин", "read", "cite", "citi", "источник", "джерело", "sursa", "source")
_DOMAIN_AFTER_RE = re.compile(rf"\s*(?:https?://)?(?:www\.)?(?P<domain>{_DOMAIN})\b", re.IGNORECASE)

# A proper name as outlets write it: capitalised words in any of the four scripts,
# acronyms, digits and joiners; 1-5 words.
_CAP = r"[A-ZА-ЯЁІЇЄҐĂÂÎȘȚŞŢ0-9]"
_NAMEWORD = rf"{_CAP}[\w’'&+-]*(?:\.[\w-]+)*"
OUTLET_NAME = rf"{_NAMEWORD}(?:[ \u00a0]+{_NAMEWORD}){{0,4}}"

# Head line "Kyiv • UNN", "Київ | Укрінформ": a city, a bullet or bar, the outlet.
_DATELINE_OUTLET_RE = re.compile(
    rf"^\s*(?P<city>{_CAP}[\w’'-]+(?:[ -]{_CAP}[\w’'-]+){{0,2}})\s*[•·|]\s*(?P<name>{OUTLET_NAME})\s*$"
)
# Wire datelines: "KYIV, June 3 (Reuters) -", "МОСКВА, 23 июн — РИА Новости.", "/ТАСС/".
_WIRE_DATELINE_RE = re.compile(
    rf"^\s*{_CAP}[\w’'-]+(?:[ -]{_CAP}[\w’'-]+){{0,2}},\s+[^\n()]{{1,30}}?"
    rf"(?:\((?P<n1>(?=[^\W\d_]){OUTLET_NAME})\)\s*[-—–]|\s[-—–]\s(?P<n2>(?=[^\W\d_]){OUTLET_NAME})\.|"
    rf"/(?P<n3>(?=[^\W\d_]){OUTLET_NAME})/)"
)
# Archive photo credit: a publication crediting its own archive ("Sursa: Arhiva EVZ",
# "Фото: архив ТСН", "Photo: Archive Kyiv Post").
_ARCHIVE_RE = re.compile(
    rf"(?:sursa(?:\s+foto)?|foto|photo|source|фото|источник|джерело)\s*:\s*"
    rf"(?:arhiva|archive|архив|архів)\s+(?P<name>{OUTLET_NAME})",
    re.IGNORECASE,
)
# Every archive credit holds one of these: a lowered text without them has none.
_ARCHIVE_NEEDLES = ("arhiv", "archiv", "архив", "архів")


def _dateline_outlet(line: str) -> str | None:
    m = _DATELINE_OUTLET_RE.match(line)
    if not m or (may_hold_date(line) and DATE_RE.search(line)) or TIME_RE.search(line):
        return None
    return m.group("name")


def outlet(record: RawRecord, text: str, boilerplate, language: str) -> Evidence:
    """The publishing outlet as (display name, domain or None).

    Order: record.outlet, then record.url's domain, then explicit evidence in the text:
    1. a "read more on DOMAIN" line (may be boilerplate: it is a credit by nature);
    2. a head line "City • OUTLET" or a wire dateline "CITY, date (OUTLET) -";
    3. a relay formula outside boilerplate: "передають X", "передает X", "reports X"
       (sources.relay_outlets: X is not a known cited source);
    4. an archive photo credit "Sursa: Arhiva X".
    Else unknown (value None, source "none")."""
    if record.outlet:
        name = outlet_for_name(record.outlet)
        domain = None
        if record.url:
            domain = _url_domain(record.url)
        return Evidence((name, domain), record.provenance.get("outlet", "field"), record.outlet)
    if record.url:
        domain = _url_domain(record.url)
        if domain:
            return Evidence((outlet_for_domain(domain), domain), "url", record.url)

    scan = _scan_text(text)
    low = textcase.lowered(scan)
    for m in textcase.finditer(_READ_ON_RE, _READ_ON_LOW, scan, low, _READ_ON_NEEDLES):
        d = _DOMAIN_AFTER_RE.match(scan, m.end())
        if d:
            domain = d.group("domain").lower()
            if domain.startswith("www."):
                domain = domain[4:]
            return Evidence((outlet_for_domain(domain), domain), "text", _line_at(scan, m.start()))

    for _s, _e, line in head_lines(text, boilerplate):
        name = _dateline_outlet(line)
        if not name:
            m = _WIRE_DATELINE_RE.match(line)
            name = m and (m.group("n1") or m.group("n2") or m.group("n3"))
        if name:
            return Evidence((outlet_for_name(name), None), "text", " ".join(line.split()))

    from presslens.enrich import sources  # local import: sources has no metadata dependency

    relays = sources.relay_outlets(text[:OUTLET_SCAN_CHARS], boilerplate)
    if relays:
        name, pos = relays[0]
        return Evidence((outlet_for_name(name), None), "text", _line_at(text, pos))

    for m in _ARCHIVE_RE.finditer(scan) if textcase.has_any(low, _ARCHIVE_NEEDLES) else ():
        return Evidence((outlet_for_name(m.group("name")), None), "text", _line_at(scan, m.start()))
    return Evidence(None, "none")


def _scan_text(text: str) -> str:
    """The part of a text searched for outlet evidence: all of it when short, else its
    first OUTLET_SCAN_CHARS and last OUTLET_SCAN_CHARS // 5 characters."""
    if len(text) <= OUTLET_SCAN_CHARS + OUTLET_SCAN_CHARS // 5:
        return text
    return text[:OUTLET_SCAN_CHARS] + "\n" + text[-(OUTLET_SCAN_CHARS // 5):]


def _url_domain(url: str) -> str | None:
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def _line_at(text: str, pos: int, limit: int = 300) -> str:
    """The (stripped) line containing position `pos`, cut to `limit` characters around it."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    end = len(text) if end < 0 else end
    if end - start > limit:
        start = max(start, pos - limit // 3)
        end = min(end, start + limit)
    return " ".join(text[start:end].split())


# ---------------------------------------------------------------------------------------
# Publication date
# ---------------------------------------------------------------------------------------

# Dates in URL paths: /2024/06/23/, /2024-06-23-slug, _20240623_ (validated as dates).
_URL_DATE_RES = (
    re.compile(r"/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})(?:/|$|[-_])"),
    re.compile(r"(?<!\d)((?:19|20)\d{2})-(\d{2})-(\d{2})(?!\d)"),
    re.compile(r"[/_-]((?:19|20)\d{2})(\d{2})(\d{2})(?:[/_.-]|$)"),
)
# A dateline may open the first paragraph: optional city / label, the date, an optional
# time, then the line ends or a separator ("June 3, 2023 — ...", "23.06.2024 | ...").
_LEAD_LABEL = (
    rf"(?:{_CAP}[\w’'-]+(?:[ -]{_CAP}[\w’'-]+){{0,2}},\s+)?"
    rf"(?:(?:{_WEEKDAYS}),?\s+)?"
    r"(?:(?:published|updated|posted|опубликовано|обновлено|опубліковано|оновлено|publicat|"
    r"actualizat)\s*:?\s*)?"
)
_DATELINE_START_RE = re.compile(rf"^\s*{_LEAD_LABEL}(?=\d|[^\W\d_])", re.IGNORECASE)
_AFTER_DATE_RE = re.compile(
    rf"^(?:\s*(?:г\.|года|року|р\.))?(?:[\s,]*(?:в|о|at|la|ora)?\s*{_TIME})?\s*(?:$|[|—–•/(]|-\s)",
    re.IGNORECASE,
)


# A wire-service dateline: the place in capitals (up to four words), optionally ", Region",
# then a numeric date: "LONDON 1996-08-30", "VAIL, Colorado 1996-12-06", "RIO DE JANEIRO
# 1996-12-06" (Reuters' style). Case-sensitive: running text does not open in capitals.
_UPPER = "A-ZÀ-ÖØ-ÞА-ЯЁІЇЄҐĂÂÎȘȚŞŢ"
_WIRE_PLACE_RE = re.compile(
    rf"^\s*[{_UPPER}][{_UPPER}'’.-]+(?:[ -][{_UPPER}][{_UPPER}'’.-]*){{0,3}}"
    rf"(?:,\s+[{_UPPER}][\w'’.-]*(?:\s+[{_UPPER}][\w'’.-]*){{0,3}})?\s+(?=\d)"
)


def _dateline_date(line: str, language: str) -> dt.date | None:
    """The date of a head line that is a dateline (date-only line, a line opening with
    a date followed by a separator, or a wire dateline: place in capitals, then the date);
    None for a date inside running text."""
    if not may_hold_date(line):  # no date, so neither a dateline nor a date-only line
        return None
    w = _WIRE_PLACE_RE.match(line)
    if w:
        subject, date_re, _filler = _date_patterns(line)
        m = date_re.match(subject, w.end())
        if m and _AFTER_DATE_RE.match(line[m.end():]):
            return parse_date(m, language)
    m0 = _DATELINE_START_RE.match(line)
    if not m0:
        return None
    subject, date_re, _filler = _date_patterns(line)  # same offsets; parse_date lowers month names
    m = date_re.match(subject, m0.end())
    if not m or not _AFTER_DATE_RE.match(line[m.end():]):
        if not is_date_line(line):
            return None
        m = date_re.search(subject)
        if not m:
            return None
    return parse_date(m, language)


# Where a publication date can come from, in order of trust when sources disagree and
# tie: a full date in the URL path is written by the publisher's system on publication;
# JSON-LD datePublished and <meta> dates are the page's own structured data; a marked
# <time> element is visible markup; htmldate combines those with heuristics over the
# page; a dateline is read from the text.
DATE_SOURCES = ("url", "json-ld", "meta", "time", "htmldate", "text")
_DATE_RANK = {name: i for i, name in enumerate(DATE_SOURCES)}
# Publication dates before this year are refused (issue 10's rule: archives of news on the
# web do not go back further; earlier values are typos or placeholders).
REFUSE_BEFORE_YEAR = 1900
# ... and so are dates after the build date plus this margin (time zones ahead of ours).
FUTURE_MARGIN = dt.timedelta(days=1)


def refusal(value: dt.date, today: dt.date | None = None) -> str | None:
    """Why a publication date is implausible (a sentence), or None when it is plausible:
    before REFUSE_BEFORE_YEAR, or after the build date plus FUTURE_MARGIN."""
    today = today or dt.date.today()
    if value.year < REFUSE_BEFORE_YEAR:
        return f"{value.isoformat()} is before {REFUSE_BEFORE_YEAR}"
    if value > today + FUTURE_MARGIN:
        return f"{value.isoformat()} is after the build date ({today.isoformat()}) plus one day"
    return None


def _url_date(url: str) -> dt.date | None:
    path = urlsplit(url).path if "//" in url else url
    for rx in _URL_DATE_RES:
        m = rx.search(path)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
    return None


def date_candidates(record: RawRecord, text: str, boilerplate, language: str,
                    with_htmldate: bool = True) -> list[tuple[str, dt.date, str]]:
    """Every publication date the record states: (source, date, evidence), one per source
    (its most trusted value): the URL path, the page's JSON-LD, <meta> and marked <time>
    (for saved web pages), htmldate (when `with_htmldate`), the head dateline."""
    out: list[tuple[str, dt.date, str]] = []
    if record.url:
        value = _url_date(record.url)
        if value:
            out.append(("url", value, record.url))
    if record.html:
        from presslens.ingest import html as html_dates  # local: ingest depends on nothing here

        seen = set()
        for c in html_dates.markup_dates(record.html, record.url):
            if c.source not in seen:
                seen.add(c.source)
                out.append((c.source, c.value, c.evidence))
        if with_htmldate:
            c = html_dates.htmldate_date(record.html, record.url)
            if c:
                out.append((c.source, c.value, c.evidence))
    for _s, _e, line in head_lines(text, boilerplate):
        value = _dateline_date(line, language)
        if value:
            out.append(("text", value, " ".join(line.split())[:300]))
            break
    return out


def _vote(cands: list[tuple[str, dt.date, str]]) -> tuple[dt.date, list[tuple[str, dt.date, str]]] | None:
    """The date most sources agree on (ties: the most trusted source); with its sources."""
    if not cands:
        return None
    by_date: dict[dt.date, list[tuple[str, dt.date, str]]] = {}
    for c in cands:
        by_date.setdefault(c[1], []).append(c)
    best = min(by_date, key=lambda d: (-len(by_date[d]), min(_DATE_RANK[c[0]] for c in by_date[d])))
    return best, sorted(by_date[best], key=lambda c: _DATE_RANK[c[0]])


def published(record: RawRecord, text: str, boilerplate, language: str,
              today: dt.date | None = None) -> Evidence:
    """The publication date, with the source that won and its evidence.

    record.published (field/sidecar/export column) is taken as given. Otherwise every
    source the record offers votes (date_candidates): the date named by the most sources
    wins, ties going to the more trusted source (DATE_SOURCES order); the evidence names
    the winner's text and the sources that agreed. htmldate (the costly one, ~30 ms a
    page) is asked only when the other sources of a web page do not already agree two to
    one. Dates inside boilerplate (related headlines, tickers) or later in the body are
    never taken. Implausible dates (see `refusal`) are refused whatever their source: the
    next source is used, and when none is left the date is null with the reason as its
    evidence (source "none")."""
    refused: list[str] = []
    if record.published:
        source = record.provenance.get("published", "field")
        why = refusal(record.published, today)
        if why is None:
            return Evidence(record.published, source, "published")
        refused.append(f"{source} published refused: {why}")

    def plausible(cands):
        keep = []
        for c in cands:
            why = refusal(c[1], today)
            if why is None:
                keep.append(c)
            elif not any(r.startswith(f"{c[0]} ") for r in refused):
                refused.append(f"{c[0]} date refused: {why}")
        return keep

    cands = plausible(date_candidates(record, text, boilerplate, language, with_htmldate=False))
    vote = _vote(cands)
    if record.html and (vote is None or len(vote[1]) < 2 or len(cands) > len(vote[1]) * 2 - 1):
        from presslens.ingest import html as html_dates

        c = html_dates.htmldate_date(record.html, record.url)
        if c:
            cands = cands + plausible([(c.source, c.value, c.evidence)])
            vote = _vote(cands)
    if vote is None:
        return Evidence(None, "none", "; ".join(refused))
    value, agreeing = vote
    source, _v, evidence = agreeing[0]
    others = [c[0] for c in agreeing[1:]]
    if others:
        evidence = f"{evidence} (also {', '.join(others)})"
    if refused:
        evidence = f"{evidence}; {'; '.join(refused)}"
    return Evidence(value, source, evidence)
