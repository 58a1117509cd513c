"""Latin display names for entities known only in Cyrillic.

In:  a name in Russian or Ukrainian Cyrillic (Кан Сун Нам, Щит свободи Ульчі). Out: a Latin
     transliteration for the English interface (Kan Sun Nam, Shchyt svobody Ulchi).

The entities table's `name` is "the display name, English where known". When the gazetteer
has no English name, the build used the most frequent base form, which for an entity seen
only in ru/uk articles is Cyrillic: unreadable for most users of an English interface.
`with_latin_names` transliterates such display names and keeps the original among the
entity's known names (`names`, with its language), so search and the detail view still
show it.

Schemes (reversible enough to recognise the original, and what news agencies use):
- Ukrainian: the official Ukrainian national transliteration (Cabinet of Ministers
  resolution 55 of 2010), including its word-initial forms (Є -> Ye, Ї -> Yi, Й -> Y,
  Ю -> Yu, Я -> Ya) and "zgh" for зг; the soft sign and apostrophe are dropped.
- Russian: BGN/PCGN without diacritics or the separator dots (Ё -> Yo, Ы -> Y, Э -> E,
  Ъ/Ь dropped), the common simplified form in English-language news.
A name counts as Ukrainian when it holds a letter only Ukrainian uses (і ї є ґ) or when
the entity's known names give Ukrainian as its only Cyrillic language.
"""
from __future__ import annotations

import functools
import re

import polars as pl

_RU = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}
_UK = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia", "'": "", "’": "", "ʼ": "",
}
# Ukrainian letters written differently at the start of a word (resolution 55, 2010).
_UK_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_UK_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def has_cyrillic(text: str | None) -> bool:
    return bool(text) and bool(_CYRILLIC.search(text))


def guess_language(name: str, languages: tuple[str, ...] = ()) -> str:
    """"uk" or "ru" for a Cyrillic name: by letters only Ukrainian has, else by the
    languages the entity was seen in (only uk -> uk), else "ru"."""
    if _UK_ONLY.search(name):
        return "uk"
    cyr = [lang for lang in languages if lang in ("ru", "uk")]
    return "uk" if cyr and all(lang == "uk" for lang in cyr) else "ru"


def _case(src: str, out: str) -> str:
    """Copy the case of the Cyrillic letter onto its Latin rendering (Щ -> Shch, ЩИТ -> SHCHYT)."""
    if not src.isupper() or not out:
        return out
    return out.upper() if len(out) == 1 else out[0].upper() + out[1:]


# (cached: every build makes the entities table again, and a rebuild's names are mostly the
# previous build's; ~0.04 s of a warm 1% rebuild at 10k, 900 Cyrillic names)
@functools.lru_cache(maxsize=65_536)
def to_latin(name: str, language: str = "ru") -> str:
    """Transliterate the Cyrillic letters of `name` (others are kept as they are)."""
    table = _UK if language == "uk" else _RU
    out: list[str] = []
    prev = ""
    for i, ch in enumerate(name):
        low = ch.lower()
        at_start = i == 0 or not (prev.isalpha() or prev in "'’ʼ")
        if language == "uk" and low == "г" and prev.lower() == "з":
            rendered = "gh"  # зг -> zgh, so it is not read as zh
        elif language == "uk" and at_start and low in _UK_INITIAL:
            rendered = _UK_INITIAL[low]
        elif low in table:
            rendered = table[low]
        else:
            out.append(ch)
            prev = ch
            continue
        # An all-caps word (ВПС) stays all caps; a capitalised one gets one capital.
        word_upper = ch.isupper() and (
            (i + 1 < len(name) and name[i + 1].isupper()) or (i > 0 and name[i - 1].isupper()))
        out.append(rendered.upper() if word_upper else _case(ch, rendered))
        prev = ch
    return "".join(out)


def latin_display(name: str | None, languages: tuple[str, ...] = ()) -> str | None:
    """The display name for an English interface: `name` itself unless it is Cyrillic."""
    if not has_cyrillic(name):
        return name
    return to_latin(name, guess_language(name, languages))


_NAMES = pl.List(pl.Struct({"language": pl.String, "name": pl.String}))


def with_latin_names(entities: pl.DataFrame) -> pl.DataFrame:
    """Entities table -> the same with Cyrillic display names transliterated, the original
    name kept in `names` (added with its language when it is not there already).

    Only the rows with a Cyrillic name are read into Python; the others keep their columns
    as they are (building a list-of-struct column from Python objects costs ~40 us a row:
    seconds for the hundreds of thousands of entities of a large corpus)."""
    if entities.height == 0:
        return entities
    cyr = entities["name"].str.contains(_CYRILLIC.pattern).fill_null(False)
    if not cyr.any():
        return entities
    at = pl.int_range(entities.height, dtype=pl.UInt32, eager=True).alias("_row")
    rows = entities.with_columns(at).filter(cyr)
    new_names, langs, add = [], [], []
    for name, names in rows.select("name", "names").iter_rows():
        names = names or []
        lang = guess_language(name, tuple(n["language"] for n in names if n.get("language")))
        new_names.append(to_latin(name, lang))
        langs.append(lang)
        add.append(not any(n.get("name") == name for n in names))
    original = pl.DataFrame({"language": langs, "name": rows["name"]},
                            schema={"language": pl.String, "name": pl.String}).to_struct("o")
    changed = rows.with_columns(
        pl.Series("name", new_names, dtype=pl.String),
        pl.when(pl.Series(add)).then(pl.col("names").fill_null(pl.lit([], _NAMES))
                                     .list.concat(pl.concat_list(pl.lit(original))))
        .otherwise(pl.col("names").fill_null(pl.lit([], _NAMES))).cast(_NAMES).alias("names"))
    kept = entities.with_columns(at).filter(~cyr).with_columns(pl.col("names").fill_null(pl.lit([], _NAMES)))
    return (pl.concat([kept, changed], how="vertical_relaxed")
            .sort("_row").drop("_row").select(entities.columns).cast(entities.schema))
