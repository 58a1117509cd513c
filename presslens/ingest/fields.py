"""Field values -> RawRecord metadata: column aliases, dates, languages.

In:  column names of an export (CSV header, JSON keys, Parquet schema) and cell values
     of any type (str, int, float, date, datetime, dict, None).
Out: `match_columns(names) -> {field: [column, ...]}` (columns in alias priority order),
     `parse_date(value) -> date | None` (never raises), `clean_str`, `clean_language`.

Shared by the tabular readers and the metadata.csv sidecar, so both accept the same
spellings. Unparseable values become None: a bad date is missing metadata, not a reason
to drop an article.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from email.utils import parsedate_to_datetime

# Column aliases per RawRecord field, in priority order (first non-empty value wins per
# row). Names are compared after `normalise_name` (case, spaces, "_" and "-" ignored),
# so "Full_Text", "full text" and "fullText" all match "fulltext".
ALIASES: dict[str, tuple[str, ...]] = {
    "text": ("text", "fulltext", "content", "body", "article", "articletext", "articlebody", "maintext"),
    "title": ("title", "headline"),
    "url": ("url", "link", "articleurl", "sourceurl"),
    "published": (
        "published", "publishedat", "publishdate", "pubdate", "date", "datepublished", "publicationdate",
    ),
    # "domain" last: a display name ("Reuters") is more useful than "reuters.com".
    "outlet": ("outlet", "publisher", "media", "source", "sitename", "sourcename", "site", "domain"),
    "language": ("language", "lang", "languagecode"),
}
METADATA_FIELDS = ("title", "url", "outlet", "published", "language")

# Written publication dates outside this range are typos ("0024-06-19", "20240-1-1"); an
# archive of 19th-century newspapers is still a corpus, so the range starts in 1800.
_MIN_YEAR, _MAX_YEAR = 1800, 2100
# Days that exports write when they have no date: epoch zero and the defaults of Excel,
# .NET and SQL Server. Read as a date they would pile every undated article onto one day.
_PLACEHOLDER_DAYS = frozenset(
    {dt.date(1970, 1, 1), dt.date(1900, 1, 1), dt.date(1899, 12, 30), dt.date(1899, 12, 31), dt.date(1753, 1, 1)}
)
# Unix timestamps: seconds between 1971 and 2100, or the same in milliseconds.
_EPOCH_S = (31_536_000, 4_102_444_800)

_NAME_JUNK = re.compile(r"[\s_\-.]+")
_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])")
_DMY = re.compile(r"(\d{1,2})([./])(\d{1,2})\2(\d{4})(?![\d])")

# Language names and common wrong codes -> ISO 639-1 for the four corpus languages.
_LANGUAGE_NAMES = {
    "russian": "ru", "русский": "ru", "rus": "ru",
    "ukrainian": "uk", "українська": "uk", "украинский": "uk", "ukr": "uk", "ua": "uk",
    "romanian": "ro", "română": "ro", "romana": "ro", "moldovan": "ro", "ron": "ro", "rum": "ro", "mo": "ro",
    "english": "en", "eng": "en",
}


def normalise_name(name: object) -> str:
    """Column name -> comparison key: lower case without spaces, '_', '-' or '.'."""
    return _NAME_JUNK.sub("", str(name).strip().lower())


def match_columns(names: list[str]) -> dict[str, list[str]]:
    """Which actual columns feed each field, best alias first; fields without one are absent."""
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(normalise_name(name), name)
    found: dict[str, list[str]] = {}
    for field, aliases in ALIASES.items():
        cols = [by_key[a] for a in aliases if a in by_key]
        if cols:
            found[field] = cols
    return found


def first_value(row: dict, columns: list[str] | None) -> object:
    """The first value among `columns` that is not empty (None, '', whitespace, NaN)."""
    for col in columns or ():
        value = row.get(col)
        if value is None:
            continue
        if isinstance(value, str) and not value.strip():
            continue
        if isinstance(value, float) and math.isnan(value):
            continue
        return value
    return None


def clean_str(value: object) -> str | None:
    """A metadata value as a stripped string, or None. Dicts give their 'name' (NewsAPI
    exports have "source": {"id": ..., "name": "BBC News"}); lists give None."""
    if isinstance(value, dict):
        value = value.get("name") or value.get("title")
    if value is None or isinstance(value, (list, tuple, bool)):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = valid_unicode(str(value).strip())
    return text or None


# A lone UTF-16 surrogate: JSON can write one ("\ud800"), but it is no character, and
# UTF-8 (Parquet, the search index, lingua) cannot hold it.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD, as a decoder replaces bytes it
    cannot read: the article is kept (it was rejected as "could not be analysed")."""
    return _SURROGATE_RE.sub("\ufffd", text) if _SURROGATE_RE.search(text) else text


def clean_language(value: object) -> str | None:
    """'ru', 'RU', 'ru-RU', 'Russian', 'ua' -> an ISO 639-1 code; anything else -> None."""
    text = clean_str(value)
    if text is None:
        return None
    key = text.lower()
    if key in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[key]
    primary = re.split(r"[-_]", key, maxsplit=1)[0]
    if primary in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[primary]
    if len(primary) == 2 and primary.isascii() and primary.isalpha():
        return primary
    return None


def parse_date(value: object) -> dt.date | None:
    """A publication date from whatever an export holds, or None when it is not a date.

    Accepts date/datetime objects, ISO 8601 dates and datetimes (with or without a time
    zone, "T" or space, "Z"), YYYY/M/D and D.M.YYYY, RFC 2822 ("Wed, 19 Jun 2024
    10:00:00 +0300", as in RSS), and Unix timestamps in seconds or milliseconds. A
    datetime keeps the calendar date it was written with (its own time zone), because
    that is the date the outlet printed.
    """
    try:
        return _parse_date(value)
    except (ValueError, TypeError, OverflowError, IndexError):
        return None


def _parse_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return _plausible(value.date())
    if isinstance(value, dt.date):
        return _plausible(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return None
        seconds = float(value)
        if _EPOCH_S[0] * 1000 <= seconds < _EPOCH_S[1] * 1000:
            seconds /= 1000
        if _EPOCH_S[0] <= seconds < _EPOCH_S[1]:
            return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).date()
        return None
    text = str(value).strip()
    if not text:
        return None
    if text.isdigit() and len(text) in (10, 13):
        return _parse_date(int(text))
    try:
        return _plausible(dt.datetime.fromisoformat(text).date())
    except ValueError:
        pass
    m = _YMD.match(text)
    if m:
        return _plausible(dt.date(int(m[1]), int(m[2]), int(m[3])))
    m = _DMY.match(text)
    if m:
        first, second, year = int(m[1]), int(m[3]), int(m[4])
        if m[2] == ".":  # 19.06.2024: day first, as everywhere dots are used
            return _plausible(dt.date(year, second, first))
        if first > 12:  # 19/06/2024
            return _plausible(dt.date(year, second, first))
        if second > 12:  # 06/19/2024
            return _plausible(dt.date(year, first, second))
        return None  # 06/07/2024: June 7 or July 6? Unknown beats wrong.
    try:
        return _plausible(parsedate_to_datetime(text).date())
    except (ValueError, TypeError, IndexError):
        return None


def _plausible(day: dt.date) -> dt.date | None:
    if day in _PLACEHOLDER_DAYS:
        return None
    return day if _MIN_YEAR <= day.year <= _MAX_YEAR else None
