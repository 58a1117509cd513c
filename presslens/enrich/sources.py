"""Cited sources: who an article attributes its claims to (NHK, ISW, Financial Times...).

In:  the article text, its language (ISO 639-1 or "und") and its boilerplate spans.
Out: cited(...) -> list[Cited(name, start, end, evidence)], one per attribution found, in
     text order; `name` is canonical (data/sources.csv aliases: ЦТАК -> KCNA, Институт
     изучения войны -> ISW), [start, end) is where the name is written, `evidence` the
     sentence around it. Names inside boilerplate are never returned.
     relay_outlets(...) -> [(name, offset)]: the publishing outlet named by a relay formula
     ("передають Патріоти України", "передает X", ", reports UNN") - used by metadata.

Rules (general patterns for ru, uk, ro, en):
- a cue before the name: "по данным / according to / potrivit / за даними / пише / scrie /
  told / consultați de / говорится в отчете / со ссылкой на ..." (a few words may sit
  between cue and a known name: "по данным японского вещателя NHK");
- a verb after the name: "NHK отмечает", "ISW said", "В ISW объясняют", "Reuters scrie";
- relay verbs (передают/передає/reports) name the publishing outlet, not a source,
  unless the name is a known source in the alias table.
A name in the alias table is always accepted. An unknown name is kept as written when it
looks like an organisation: an acronym, a quoted title, a name with a media word (News,
Times, Agency...), a name after a media noun ("издание", "agency", "publicația"), or a
Latin-script name in a Cyrillic article (people are transliterated, media keep Latin).
"""
from __future__ import annotations

import bisect
import csv
import functools
import re
from pathlib import Path

from presslens.enrich import textcase
from presslens.records import Cited

SOURCES_CSV = Path(__file__).resolve().parents[2] / "data" / "sources.csv"

_CYR = "А-Яа-яЁёІіЇїЄєҐґ"
# Cyrillic words this long inflect in names ("Института", "Інституту", "Кореї"): a final
# vowel or soft sign may change and up to three letters of ending may follow. Shorter
# words and acronyms (ТАСС, ЦТАК) are matched exactly.
_INFLECT_MIN = 5
_CYR_ENDING_VOWELS = "аяоеэиыіїуюйьєё"


def _alias_pattern(alias: str) -> str:
    parts = []
    for word in alias.split():
        if re.fullmatch(rf"[{_CYR}]+", word) and len(word) >= _INFLECT_MIN and not word.isupper():
            stem = word[:-1] if word[-1].lower() in _CYR_ENDING_VOWELS else word
            parts.append(re.escape(stem) + rf"[{_CYR}]{{0,3}}")
        else:
            parts.append(re.escape(word))
    return r"[\s\u00a0]+".join(parts)


@functools.lru_cache(maxsize=1)
def _table():
    """(list of (compiled full-match alias pattern, canonical), search pattern source).

    Aliases match case-sensitively: names are written as in the table, and ignoring
    case would turn brand names into common words (Политико ~ политику)."""
    entries: list[tuple[str, str]] = []
    if SOURCES_CSV.exists():
        with SOURCES_CSV.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(line for line in fh if not line.lstrip().startswith("#")):
                name = (row.get("name") or "").strip()
                if not name:
                    continue
                aliases = {name} | {a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()}
                entries += [(a, name) for a in aliases]
    entries.sort(key=lambda e: len(e[0]), reverse=True)
    compiled = []
    alts = []
    for alias, name in entries:
        pat = _alias_pattern(alias)
        compiled.append((re.compile(pat), name))
        alts.append(pat)
    source = "|".join(alts) if alts else r"(?!x)x"
    return compiled, source


@functools.lru_cache(maxsize=4096)  # names repeat across articles; each miss tries every alias
def canonical(name: str) -> str | None:
    """Canonical source name for a name as written, or None when not in the table."""
    name = " ".join(name.split())
    for rx, canon in _table()[0]:
        if rx.fullmatch(name):
            return canon
    return None


# Every alias starts with one of these capitals.
_ALIAS_FIRST = "[A-ZА-ЯЁІЇЄҐ]"


@functools.lru_cache(maxsize=1)
def _known_re() -> re.Pattern:
    """All table aliases as one pattern: rf"(?<![\\w])(?={_ALIAS_FIRST})(?:aliases)(?![\\w])",
    written as one group per capital with the word-start test after it
    (textcase.letter_groups), so the scan skips to capitals at C speed (~3x faster)."""
    source = _table()[1]
    if not _table()[0]:
        return re.compile(source)  # no table: matches nothing
    return re.compile(textcase.letter_groups([source], after_first=r"(?<!\w.)", first=_ALIAS_FIRST) + r"(?![\w])")


# Up to four plain words may stand between a cue and a known name
# ("according to the Japanese broadcaster NHK", "по данным японского вещателя NHK").
_BRIDGE_RE = re.compile(r"[ \u00a0]*(?:[^\s,.;:!?()«»\"“”„]+[ \u00a0]+){0,4}")
# Between a known name and the verb after it: spaces, a closing bracket or quote.
_GAP_RE = re.compile(r"[\s\u00a0]*[)»\"”]?[\s\u00a0]*")


# Unknown names: Latin capitalised words (with lower-case joiners inside), acronyms in
# either script, or a quoted title.
_LWORD = r"[A-Z][\w&'’+-]*(?:\.[A-Za-z]+)*"
_LATIN_NAME = rf"(?:The[ \u00a0]+)?{_LWORD}(?:[ \u00a0]+(?:(?:of|for|the|and|on|de|du|la)[ \u00a0]+)?{_LWORD}){{0,4}}"
_ACRONYM = r"[A-ZА-ЯЁІЇЄҐ][A-ZА-ЯЁІЇЄҐ0-9]{1,6}(?:\.[A-Za-z]{2,4})?(?![\w])"
_QUOTED = r"[«\"„“](?P<q>[^»\"”“\n]{2,60})[»\"”“]"
_UNKNOWN = rf"(?:{_QUOTED}|(?P<u>{_ACRONYM}(?:[ \u00a0]+{_LWORD})?|{_LATIN_NAME}))"

# Nouns for media and institutions: a name right after one is an organisation.
_MEDIA_NOUN = (
    r"(?:издани\w*|агентств\w*|вещател\w*|газет\w*|телеканал\w*|журнал\w*|портал\w*|сайт\w*|"
    r"видання|мовник\w*|центр\w*|институт\w*|інститут\w*|аналитическ\w+\s+центр\w*|"
    r"publicați\w*|publicati\w*|agenți\w*|agenti\w*|ziar\w*|cotidian\w*|postul|televiziun\w*|"
    r"institut\w*|outlet|agency|broadcaster|newspaper|channel|network|magazine|website|"
    r"publication|think[- ]tank|daily|tabloid|institute)"
)
_UNKNOWN_AFTER_RE = re.compile(
    rf"[ \u00a0]*(?:(?:the|a|an)[ \u00a0]+)?(?P<bridge>(?:[\w’'-]+[ \u00a0]+){{0,3}}?{_MEDIA_NOUN}[ \u00a0]+)?{_UNKNOWN}",
)
_UNKNOWN_BEFORE_RE = re.compile(
    rf"(?:^|(?<=[\s(«\"“„—–,.:;]))(?:{_UNKNOWN})[\s\u00a0]*[)»\"”]?[\s\u00a0]*$"
)

# Words that name a media organisation (an unknown name holding one is accepted).
_MEDIA_WORD_RE = re.compile(
    r"\b(?:News|Times|Post|Journal|Herald|Telegraph|Guardian|Press|Agency|Institute|Daily|"
    r"Insider|Review|Monitor|Gazette|Tribune|Radio|TV|Television|Media|Network|Channel|"
    r"Bureau|Service|Centre|Center|Council|Foundation|Observer|Express|Mail|Star|Wire|Week|"
    r"Magazine|Report|Today|Online|Ziarul|Agenția|Institutul|Pravda|Pravda)\b"
)
# Country and bloc acronyms follow cues as subjects, not as cited media.
_NOT_SOURCE = {
    "сша", "рф", "кндр", "кнр", "рк", "ес", "єс", "днр", "лнр", "us", "usa", "uk", "eu",
    "dprk", "rok", "sua", "ue", "rpdc", "the", "a", "an", "it", "this", "he", "she", "they",
    "we", "i", "ukraine", "russia", "україна", "россия", "росія", "moscow", "kyiv", "kiev",
    # "the media" in ru/uk/ro/en: a generic attribution, not a source
    "сми", "змі", "presa", "media",
}
# Quoted unknown names longer than this are quotations, not titles ("«Коммерсантъ»").
_QUOTED_MAX_WORDS = 3

# Cues standing before the name. Each entry: (pattern, kind) where kind is "cue", or
# "relay" for verbs that name the publishing outlet unless the name is a known source.
_CUES_BEFORE = [
    # ru
    r"по\s+(?:данным|информации|сведениям|оценкам?|подсчетам|подсчётам)",
    r"(?:об\s+этом|как|про\s+це|як)\s+(?:передает|передаёт|передают|передає|передають)",
    r"согласно(?:\s+(?:данным|информации|оценке|сообщению))?",
    r"со\s+ссылкой\s+на", r"ссылаясь\s+на",
    r"(?:сообщает|сообщают|сообщил[аио]?|пишет|пишут|заявляет|заявляют|заявил[аио]?|"
    r"отмечает|отмечают|утверждает|утверждают|подчеркивает|подчёркивает|информирует|уточняет)",
    r"говорится\s+в\s+(?:\w+\s+){0,2}?(?:докладе|отчете|отчёте|сообщении|материале|статье|"
    r"публикации|исследовании|заявлении|обзоре|анализе|сводке|бюллетене|релизе|расследовании)",
    r"\bв\s+(?:новом\s+|свежем\s+|последнем\s+|ежедневном\s+|очередном\s+)?(?:докладе|отчете|отчёте|"
    r"обзоре|анализе|сводке|материале|расследовании)",
    # uk
    r"за\s+(?:даними|інформацією|повідомленням|оцінкою|оцінками|підрахунками|словами)",
    r"згідно\s+(?:з|із)(?:\s+(?:даними|повідомленням|інформацією|оцінкою))?",
    r"з\s+посиланням\s+на", r"посилаючись\s+на",
    r"(?:повідомляє|повідомляють|повідомив|повідомила|повідомило|повідомили|пише|пишуть|"
    r"заявляє|заявляють|заявив|заявила|заявило|заявили|зазначає|зазначають|стверджує|наголошує|"
    r"інформує|уточнює)",
    r"йдеться\s+(?:у|в)\s+(?:\w+\s+){0,2}?(?:звіті|доповіді|повідомленні|матеріалі|статті|"
    r"публікації|дослідженні|заяві|огляді|аналізі|зведенні|розслідуванні)",
    r"\b(?:у|в)\s+(?:новому\s+|свіжому\s+|останньому\s+|щоденному\s+|черговому\s+)?(?:звіті|"
    r"доповіді|огляді|аналізі|зведенні|розслідуванні)",
    # ro
    r"potrivit", r"conform", r"citând", r"citand",
    r"(?:citat|citată|citați|citate|consultat|consultată|consultați|consultate|intervievat\w*)\s+de",
    r"(?:mai\s+)?(?:scrie|relatează|informează|notează|afirmă|susține|precizează|anunță|arată|"
    r"estimează|raportează)",
    r"a\s+(?:relatat|scris|informat|notat|anunțat|precizat|raportat|transmis)",
    r"după\s+cum\s+(?:scrie|relatează|informează|notează|arată)",
    r"(?:într-un|intr-un|în)\s+(?:nou\s+)?(?:raport|articol|analiză|material|studiu)\s+(?:al|publicat\s+de|realizat\s+de)",
    # en
    r"according\s+to", r"told", r"(?:cited|quoted|reported|interviewed)\s+by", r"citing",
    r"(?:in|from)\s+a\s+(?:new\s+|recent\s+|latest\s+|daily\s+)?(?:report|analysis|statement|"
    r"assessment|update|article|story|study)\s+(?:by|from|of)",
    r"(?:writes|wrote|reported|said|says)",
]
# Relay verbs name the publishing outlet in a trailing reporting clause, after a comma
# or dash ("..., передають Патріоти України.", "— передает X", ", reports UNN."); the
# name must end the clause. ("Об этом передает X" cites X: see _CUES_BEFORE.)
_RELAY_BEFORE = [
    r"(?:(?<=,)|(?<=,\s)|(?<=[—–]\s))"
    r"(?:передают|передает|передаёт|передають|передає)",
    r"(?:(?<=,)|(?<=,\s))(?:reports|reported)",
]
_CUE_BEFORE_RE = re.compile(r"(?<![\w])(?:" + "|".join(_CUES_BEFORE) + r")(?![\w])", re.IGNORECASE)
_RELAY_RE = re.compile(r"(?<![\w])(?:" + "|".join(_RELAY_BEFORE) + r")(?![\w])", re.IGNORECASE)
# The same patterns, case-sensitive, for lowered text (textcase: same matches, ~5x faster;
# the cues grouped by first letter, ~2x more).
_CUE_BEFORE_LOW = textcase.twin(_CUE_BEFORE_RE, textcase.word_alternation(_CUES_BEFORE) + r"(?![\w])")
_RELAY_LOW = textcase.twin(_RELAY_RE)
# Every relay verb holds one of these: a lowered text without them has no relay formula.
_RELAY_NEEDLES = ("переда", "report")

# Verbs after the name ("NHK отмечает", "В ISW объясняют", "Reuters scrie", "ISW said").
_VERBS_AFTER = (
    r"сообщает|сообщают|сообщил[аио]?|пишет|пишут|отмечает|отмечают|отметил[аио]?|заявляет|"
    r"заявил[аио]?|заявляют|утверждает|утверждают|подчеркивает|подчеркнул[аио]?|считает|считают|"
    r"информирует|уточняет|уточнил[аио]?|добавляет|объясняют|объясняет|полагают|уверены|"
    r"повідомляє|повідомляють|повідомив|повідомила|повідомило|повідомили|пише|пишуть|зазначає|"
    r"зазначають|зазначив|зазначила|заявляє|заявив|заявила|заявило|стверджує|наголошує|наголосив|"
    r"інформує|уточнює|додає|пояснюють|пояснює|вважають|вважає|"
    r"scrie|relatează|informează|notează|susține|afirmă|anunță|precizează|arată|estimează|"
    r"a\s+relatat|a\s+scris|a\s+informat|a\s+notat|a\s+anunțat|a\s+precizat|"
    r"reports|reported|said|says|writes|wrote|notes|noted|stated|added|estimates|assessed|"
    r"assesses|concluded|explained"
)
_VERB_AFTER_RE = re.compile(rf"(?<![\w])(?:{_VERBS_AFTER})(?![\w])", re.IGNORECASE)
_VERB_AFTER_LOW = textcase.twin(_VERB_AFTER_RE, textcase.word_alternation([_VERBS_AFTER]) + r"(?![\w])")


def _relays(text: str, low: str | None):
    """The relay verbs of `text` (matches of _RELAY_RE; `low` is textcase.lowered(text))."""
    return textcase.finditer(_RELAY_RE, _RELAY_LOW, text, low, _RELAY_NEEDLES)

# Only this much of a text is searched (news articles are far shorter; a book-length
# file must not cost seconds).
SCAN_MAX_CHARS = 200_000
# How far back from a verb a name may start (long official names).
_LOOKBACK = 90


def _sentence(text: str, start: int, end: int, limit: int = 240) -> str:
    """The sentence around [start, end), cut to `limit` characters."""
    left = max(text.rfind(ch, 0, start) for ch in ".!?\n")
    left = max(left + 1, start - limit // 2)
    rights = [i for i in (text.find(ch, end) for ch in ".!?\n") if i >= 0]
    right = min(rights) + 1 if rights else len(text)
    right = min(right, end + limit // 2)
    return " ".join(text[left:right].split())


def _inside(start: int, end: int, spans) -> bool:
    return any(s < end and start < e for s, e in spans)


def _mostly_cyrillic(text: str) -> bool:
    cyr = len(re.findall(rf"[{_CYR}]", text[:3000]))
    lat = len(re.findall(r"[A-Za-z]", text[:3000]))
    return cyr > lat


def _org_like(name: str, bridged: bool, quoted: bool, cyrillic_article: bool) -> bool:
    if name.casefold() in _NOT_SOURCE:
        return False
    if quoted:
        return bridged or (len(name.split()) <= _QUOTED_MAX_WORDS and name[:1].isupper()
                           and not re.search(r"[,;:!?()]", name))
    if bridged:
        return True
    if re.search(r"[A-ZА-ЯЁІЇЄҐ]{2,}", name):  # an acronym inside (NK News, ISW, ЦТАК)
        return True
    if _MEDIA_WORD_RE.search(name):
        return True
    return cyrillic_article and bool(re.match(r"[A-Za-z]", name))


_EDGE = " \u00a0.,;:-–—'’\"«»“”„()"  # stripped from both ends of a name
_JOINERS_RE = re.compile(r"(?:\s+(?:of|for|the|and|on|de|du|la))+$")  # dangling ("Institute for the")


def _trim_span(raw: str) -> tuple[str, int, int]:
    """A captured name cleaned up: (name, start, end), where raw[start:end] is the name as the
    text writes it. Quotes, punctuation and dangling joiners are cut from its ends and its
    spaces written as single plain ones, so `name` can be shorter than its span
    ("Kyiv\u00a0 News" -> "Kyiv News" over 11 characters)."""
    start = len(raw) - len(raw.lstrip(_EDGE))
    core = raw[start:start + len(raw[start:].rstrip(_EDGE))]
    joiners = _JOINERS_RE.search(core)
    if joiners:
        core = core[:joiners.start()]
    name = " ".join(core.split())
    if not name:
        return "", start, start
    start += len(core) - len(core.lstrip())  # whitespace the edge characters do not list ("\n")
    return name, start, start + len(core.strip())


def _trim(name: str) -> str:
    return _trim_span(name)[0]


def _after_cue(text: str, pos: int, known: list, cyrillic_article: bool):
    """(name, start, end, known) for a name right after a cue ending at `pos`, or None.
    `known` is the sorted list of (start, end, written name) of table names in the text."""
    k = bisect.bisect_left(known, (pos,))
    if k < len(known):
        s, e, written = known[k]
        if _BRIDGE_RE.fullmatch(text, pos, s):
            return canonical(written) or written, s, e, True
    m = _UNKNOWN_AFTER_RE.match(text, pos)
    if not m:
        return None
    g = "q" if m.group("q") else "u"
    name, a, z = _trim_span(m.group(g))
    if not name or not _org_like(name, bool(m.group("bridge")), bool(m.group("q")), cyrillic_article):
        return None
    return name, m.start(g) + a, m.start(g) + z, False


def _before_verb(text: str, pos: int, known: list, cyrillic_article: bool):
    """(name, start, end, known) for a name ending right before a verb at `pos`."""
    k = bisect.bisect_left(known, (pos,)) - 1
    if k >= 0:
        s, e, written = known[k]
        if e <= pos and _GAP_RE.fullmatch(text, e, pos):
            return canonical(written) or written, s, e, True
    lo = max(0, pos - _LOOKBACK)
    window = text[lo:pos]
    m = _UNKNOWN_BEFORE_RE.search(window)
    if not m:
        return None
    g = "q" if m.group("q") else "u"
    name, a, z = _trim_span(m.group(g))
    if not name or not _org_like(name, False, bool(m.group("q")), cyrillic_article):
        return None
    # Name-first unknowns must be acronyms or media names: "Kirby said" is a person.
    if not (m.group("q") or re.search(r"[A-ZА-ЯЁІЇЄҐ]{2,}", name) or _MEDIA_WORD_RE.search(name)):
        return None
    return name, lo + m.start(g) + a, lo + m.start(g) + z, False


def cited(text: str, language: str, boilerplate) -> list[Cited]:
    """Attributed sources in `text` outside `boilerplate` (see the module docstring)."""
    if not text:
        return []
    text = text[:SCAN_MAX_CHARS]  # a prefix: offsets stay valid for the full text
    spans = sorted(boilerplate or [])
    cyr = language in ("ru", "uk", "bg", "be") or (language in ("und", "", None) and _mostly_cyrillic(text))
    found: dict[tuple[int, int], Cited] = {}
    known = [(m.start(), m.end(), m.group()) for m in _known_re().finditer(text)]
    low = textcase.lowered(text)

    def add(hit) -> None:
        if not hit:
            return
        name, s, e, _known = hit
        if e <= s or _inside(s, e, spans):
            return
        if (s, e) not in found:
            found[(s, e)] = Cited(name, s, e, _sentence(text, s, e))

    for m in textcase.finditer(_CUE_BEFORE_RE, _CUE_BEFORE_LOW, text, low):
        if _inside(m.start(), m.end(), spans):
            continue
        add(_after_cue(text, m.end(), known, cyr))
    for m in _relays(text, low):
        if _inside(m.start(), m.end(), spans):
            continue
        hit = _after_cue(text, m.end(), known, cyr)
        if hit and hit[3]:  # a known source relayed ("передает ТАСС") is cited
            add(hit)
    for m in textcase.finditer(_VERB_AFTER_RE, _VERB_AFTER_LOW, text, low):
        if _inside(m.start(), m.end(), spans):
            continue
        add(_before_verb(text, m.start(), known, cyr))

    # A relayed outlet is never its own cited source.
    outlets = {n.casefold() for n, _p in relay_outlets(text, spans)}
    return [c for _k, c in sorted(found.items()) if c.name.casefold() not in outlets]


# A publishing outlet's name as relay formulas print it: 1-4 capitalised words in any of
# the four scripts ("Патріоти України", "UNN", "Digi24").
_OUTLET_WORD = r"[A-ZА-ЯЁІЇЄҐĂÂÎȘȚ][\w’'&+-]*(?:\.[\w-]+)*"
_RELAY_NAME_RE = re.compile(
    rf"[ \u00a0]+(?P<name>{_OUTLET_WORD}(?:[ \u00a0]+{_OUTLET_WORD}){{0,3}})"
    r"(?=\s*(?:[.!?;,)]|$|з\s+посиланням|со\s+ссылкой|ссылаясь|citing|quoting))"
)


def relay_outlets(text: str, boilerplate) -> list[tuple[str, int]]:
    """Outlets named by relay formulas outside boilerplate, in text order: (name, offset).

    A relayed name that is a known cited source ("передает ТАСС") is not an outlet."""
    return list(_relay_outlets(text, tuple(sorted(tuple(s) for s in boilerplate or []))))


# cited() and metadata.outlet() both ask for one article's relay outlets.
@functools.lru_cache(maxsize=8)
def _relay_outlets(text: str, spans: tuple) -> tuple[tuple[str, int], ...]:
    out = []
    for m in _relays(text, textcase.lowered(text)):
        n = _RELAY_NAME_RE.match(text, m.end())
        if not n or _inside(m.start(), n.end(), spans):
            continue
        name = _trim(n.group("name"))
        if not name or name.casefold() in _NOT_SOURCE or canonical(name):
            continue
        out.append((name, n.start("name")))
    return tuple(out)
