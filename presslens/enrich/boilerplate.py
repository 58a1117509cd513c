"""Page clutter in scraped article text, as spans (the text itself is never changed).

In:  the article text exactly as decoded.
Out: sorted, non-overlapping [start, end) character spans judged to be page clutter;
     spans separated only by whitespace are merged into one.

What counts as clutter (general line patterns for ru, uk, ro, en):
- price tickers: price lines ("$64.57", "46.930.01", "+1.2%") and the short asset-name
  line next to each ("Brent", "Bitcoin", "Газ TTF", "Золото");
- view counters ("• 36492 views", "1 234 просмотра", "переглядів", "vizualizări");
- related-headline blocks: a headline, a line that is only a date/time, and a teaser; or
  a short line carrying a news-item timestamp ("... - Zelensky07.02.2025, 20:37"); only
  after the article head, where a date line is the article's own dateline;
- calls to action: "Read also / Читайте также / Читайте також / Citește și",
  "Subscribe / Подписывайтесь / Підписуйтесь", "follow us on Google News / Ne puteți urmări
  și pe Google News", "Подробнее читайте на ..." (from the phrase to the end of its line,
  also inside a run-on paragraph when the phrase starts a new sentence);
- photo credits ("Sursa foto: Dreamstime", "Фото: ...", "Sursa: Arhiva EVZ"), from the
  credit to the end of its line;
- one-word page labels on their own line ("Details", "Подробности", "Деталі").
"""
from __future__ import annotations

import re

from presslens.enrich import textcase
from presslens.enrich.metadata import DATETIME_RE, is_date_line, may_hold_date

# ---- price tickers -------------------------------------------------------------------
_CUR = r"[$€£¥₴₽]"
# A number printed as a price: thousands groups and two decimals ("41.500.06",
# "111,059.60"), or any number with a currency sign. Two decimals keep plain years
# and list numbers ("2024", "1.") out.
_PRICE = (
    rf"(?:{_CUR}\s?[+-]?\d[\d.,\s]*\d|{_CUR}\s?\d|[+-]?\d{{1,3}}(?:[.,\s]\d{{3}})*[.,]\d{{2}}"
    rf"(?:\s?{_CUR})?|\d[\d.,]*\s?(?:USD|EUR|UAH|RUB|RON|грн|руб|lei))"
)
_PCT = r"[+\-−▲▼]?\s?\d+(?:[.,]\d+)?\s?%"
_PRICE_LINE_RE = re.compile(
    rf"^\s*(?:{_PRICE}|{_PCT})(?:\s+(?:{_PCT}|[+\-−▲▼]\s?\d+(?:[.,]\d+)?))*\s*$", re.IGNORECASE
)
# An asset label: short (tickers say "Brent", "S&P 500", "Газ TTF", "EUR/USD"), at most
# three words, no sentence punctuation.
_LABEL_MAX_CHARS = 24
_LABEL_RE = re.compile(r"^\s*[^\W\d_][\w&/.\- ]{0,23}\s*$")
# A label and its price on one line ("Bitcoin $111,059.60", "Нефть Brent 64,57 $ -0,3%").
_LABEL_PRICE_RE = re.compile(
    rf"^\s*[^\W\d_][\w&/\- ]{{0,23}}?\s+(?:{_PRICE})(?:\s+(?:{_PCT}|[+\-−]\s?\d+(?:[.,]\d+)?))*\s*$",
    re.IGNORECASE,
)

# ---- view counters -------------------------------------------------------------------
# The counter follows a bullet or bar, or opens its line: "The clip drew 36,000 views"
# inside a sentence is text, not a counter.
_VIEWS_RE = re.compile(
    r"(?:[•·|👁]\s*|^\s*)\d[\d\s.,  ]*\s*(?:[kKтТ]\s*)?"
    r"(?:views?|просмотр(?:ов|а)?|переглян\w*|перегляд(?:ів|и)?|vizualiz[aă]ri|afi[sș][aă]ri)\b",
    re.IGNORECASE,
)
# Every counter word holds one of these: a lowered text without them has no counter.
_VIEWS_NEEDLES = ("view", "просмотр", "перегля", "vizualiz", "afis", "afiș")

# ---- calls to action (read also / subscribe / follow / read more on) --------------------
_CTA = (
    # ru
    r"читайте\s+(?:также|еще|ещё|нас|больше)|смотрите\s+также|см\.\s+также|"
    r"подписывайтесь|подпишитесь|следите\s+за\s+(?:нами|новостями)|"
    r"(?:подробнее|детальнее|больше\s+новостей)\s+(?:читайте|читать|смотрите)|"
    r"присоединяйтесь\s+к\s+нам|"
    # uk
    r"читайте\s+(?:також|більше)|дивіться\s+також|підписуйтес[ья]|підпишіться|"
    r"слідкуйте\s+за|стежте\s+за|(?:детальніше|докладніше|більше)\s+(?:читайте|читати)|"
    r"приєднуйтесь\s+до|"
    # ro
    r"cite[sș]te\s+(?:[sș]i|mai\s+mult\w*|tot)|citi[tț]i\s+[sș]i|vezi\s+[sș]i|"
    r"urm[aă]re[sș]te[-\s]ne|ne\s+pute[tț]i\s+urm[aă]ri|abona[tț]i-v[aă]|aboneaz[aă]-te|"
    # en
    r"read\s+(?:also|more|next|the\s+full)|see\s+also|related\s*:|subscribe\s+(?:to|for)|"
    r"sign\s+up\s+(?:for|to)|follow\s+us|join\s+us\s+on|"
    # any language: following a channel
    r"google\s+news\b"
)
# At the start of a line (any case) the phrase makes the rest of the line clutter.
_CTA_LINE_RE = re.compile(rf"^[\s\W]*(?:{_CTA})", re.IGNORECASE)
# Inside a line, only where a new sentence starts with a capital (run-on scraped pages
# glue "...народа\".Читайте также: ..." to the body). Lower case inside a sentence
# ("read more about it") is running text.
_CTA_INLINE_RE = re.compile(rf"(?<=[.!?…\"»”)])\s*(?=[A-ZА-ЯЁІЇЄҐ])(?:{_CTA})", re.IGNORECASE)
# Whether the lowered text has one at all (searched once over the whole text: a text where it
# finds nothing has no inline call in any line). The capitals, under IGNORECASE, are these
# letters of either case; the sentence mark is matched rather than looked behind for, which
# finds a call exactly when the look-behind would, and lets `re` skip to the marks.
_CTA_INLINE_LOW = textcase.twin(_CTA_INLINE_RE, rf"[.!?…\"»”)]\s*(?=[a-zа-яёіїєґ])(?:{_CTA})")
# "Follow us on Google News" style lines: a short line naming a channel.
_CHANNEL_LINE_RE = re.compile(
    r"\b(?:google\s+news|telegram|viber|whatsapp|youtube|facebook|instagram|tiktok)\b", re.IGNORECASE
)
# ...together with an imperative or "our channel": a line merely naming Telegram
# ("Telegram-канал сообщил...") is text.
_CHANNEL_VERB_RE = re.compile(
    r"(?:подписывайтесь|подпишитесь|підписуйтес|підпишіться|abonea|abona[tț]i|subscribe|"
    r"follow|urm[aă]re[sș]te|urm[aă]ri[tț]i|следите|слідкуйте|стежте|join|приєднуйтес|"
    r"присоединяйтесь|наш\w*\s+канал|our\s+channel|canalul\s+nostru)",
    re.IGNORECASE,
)
# Channel lines are short; a long line naming Telegram is an article about Telegram.
_CHANNEL_LINE_MAX = 160

# ---- photo credits -------------------------------------------------------------------
# "Sursa foto: X", "Foto: X", "Фото: X", "Photo: X", "Sursa: Arhiva X" up to the line end.
# The credit must end its line and be short: a credit, not a paragraph starting "Foto:".
_CREDIT_RE = re.compile(
    r"(?:(?<=\s)|(?<=^)|(?<=[.,;]))"
    r"(?:sursa\s+foto|surs[aă]\s+imagine|credit\s+foto|foto(?:grafie)?|photo(?:\s+credit)?|"
    r"image(?:\s+credit)?|ілюстрація|иллюстрация|фото(?:графия)?|світлина|"
    r"источник\s+фото|джерело\s+фото|"
    r"(?:sursa|source|источник|джерело)(?=\s*:\s*(?:arhiva|archive|архив|архів)\b))"
    r"\s*[:©]\s*[^\n]{1,80}$",
    re.IGNORECASE | re.MULTILINE,
)
_CREDIT_LOW = textcase.twin(_CREDIT_RE)
# Every credit word holds one of these: a lowered text without them has no credit.
_CREDIT_NEEDLES = ("foto", "photo", "image", "credit", "surs", "ілюстрац", "иллюстрац", "фото", "світлин",
                   "источник", "джерело", "source")

# ---- page labels ---------------------------------------------------------------------
# Section labels of news templates, alone on a line.
_LABELS = {
    "details", "supplement", "advertisement", "ad", "related", "share", "comments",
    "подробности", "дополнение", "реклама", "поделиться", "комментарии",
    "деталі", "доповнення", "поділитися", "коментарі",
    "detalii", "publicitate", "distribuie", "comentarii",
}

# ---- related-headline blocks -----------------------------------------------------------
# The article head (title, dek, dateline, byline) ends at the first long paragraph or
# after this many non-empty lines; a date line there is the article's own dateline.
_HEAD_MAX_LINES = 5
_BODY_LINE_CHARS = 200
# A related headline is a short line; teasers are short or end truncated ("...").
_HEADLINE_MAX_CHARS = 250
_TEASER_MAX_CHARS = 320
# A line carrying a news-item timestamp or a view counter is a related item only when
# short: a long paragraph mentioning a date and time is body text.
_STAMPED_LINE_MAX_CHARS = 300


def _split_lines(text: str) -> list[tuple[int, int, str]]:
    """(start, end, line) for each line; end excludes "\\n" and a trailing "\\r"."""
    out = []
    pos = 0
    for raw in text.split("\n"):
        end = pos + len(raw)
        line_end = end - 1 if raw.endswith("\r") else end
        out.append((pos, line_end, text[pos:line_end]))
        pos = end + 1
    return out


def _is_price(line: str) -> bool:
    return bool(_PRICE_LINE_RE.match(line)) or bool(_LABEL_PRICE_RE.match(line))


def _is_label(line: str) -> bool:
    s = line.strip()
    return len(s) <= _LABEL_MAX_CHARS and len(s.split()) <= 3 and bool(_LABEL_RE.match(s))


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) so it starts and ends on non-space characters."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def find(text: str) -> list[tuple[int, int]]:
    """Spans of page clutter in `text` (see the module docstring for the rules)."""
    if not text:
        return []
    lines = _split_lines(text)
    nonempty = [i for i, (_s, _e, ln) in enumerate(lines) if ln.strip()]
    spans: list[tuple[int, int]] = []

    def mark_line(i: int) -> None:
        s, e, _ = lines[i]
        spans.append(_strip_span(text, s, e))

    # Article head: lines before the first long paragraph, at most _HEAD_MAX_LINES.
    head: set[int] = set()
    for i in nonempty[:_HEAD_MAX_LINES]:
        if len(lines[i][2].strip()) >= _BODY_LINE_CHARS:
            break
        head.add(i)

    # Tickers: price lines, plus an adjacent asset label (the line just before, or just
    # after when the ticker prints the price first).
    price = {i for i in nonempty if _is_price(lines[i][2])}
    for i in sorted(price):
        mark_line(i)
        for j in (i - 1, i + 1):
            if 0 <= j < len(lines) and j not in price and lines[j][2].strip() and _is_label(lines[j][2]):
                if j == i + 1 and (i + 2 not in price):
                    continue  # label after a price only inside an alternating run
                mark_line(j)

    pos_in_nonempty = {i: k for k, i in enumerate(nonempty)}
    # Patterns that cannot match any line of this text are not tried line by line.
    low = textcase.lowered(text)
    may_count = textcase.has_any(low, _VIEWS_NEEDLES)
    may_call = low is None or _CTA_INLINE_LOW.search(low) is not None
    for i in nonempty:
        s, e, line = lines[i]
        stripped = line.strip()

        # Page labels.
        if stripped.rstrip(":").casefold() in _LABELS:
            mark_line(i)
            continue

        # View counters: the whole line when it is a short item line after the head,
        # otherwise only the counter.
        views = list(_VIEWS_RE.finditer(line)) if may_count else ()
        if views:
            if i not in head and len(stripped) <= _STAMPED_LINE_MAX_CHARS:
                mark_line(i)
            else:
                for m in views:
                    spans.append(_strip_span(text, s + m.start(), s + m.end()))

        # A short line with a news-item timestamp glued to a headline (not a pure date
        # line, handled below as part of a block).
        if (
            i not in head
            and len(stripped) <= _STAMPED_LINE_MAX_CHARS
            and ":" in line and may_hold_date(line)  # a clock time and a year: cheap tests first
            and DATETIME_RE.search(line)
            and not is_date_line(line)
        ):
            mark_line(i)

        # Related-headline block: headline / date-only line / teaser.
        if i not in head and len(stripped) <= 80 and is_date_line(line):
            mark_line(i)
            k = pos_in_nonempty[i]
            if k > 0:
                prev = nonempty[k - 1]
                if len(lines[prev][2].strip()) <= _HEADLINE_MAX_CHARS:
                    mark_line(prev)
            if k + 1 < len(nonempty):
                nxt = nonempty[k + 1]
                t = lines[nxt][2].strip()
                if len(t) <= _TEASER_MAX_CHARS or t.endswith(("...", "…")):
                    mark_line(nxt)

        # Calls to action: from the phrase to the end of the line.
        m = _CTA_LINE_RE.match(line)
        if m:
            mark_line(i)
        else:
            m = _CTA_INLINE_RE.search(line) if may_call else None
            if m:
                spans.append(_strip_span(text, s + m.start(), e))
        if (
            not m
            and len(stripped) <= _CHANNEL_LINE_MAX
            and _CHANNEL_LINE_RE.search(line)
            and _CHANNEL_VERB_RE.search(line)
        ):
            mark_line(i)

    # Photo credits.
    for m in textcase.finditer(_CREDIT_RE, _CREDIT_LOW, text, low, _CREDIT_NEEDLES):
        spans.append(_strip_span(text, m.start(), m.end()))

    return _merge(text, spans)


def _merge(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort, drop empties, and merge spans that overlap or are separated by whitespace."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(sp for sp in spans if sp[1] > sp[0]):
        if out and (s <= out[-1][1] or not text[out[-1][1]:s].strip()):
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """True when [start, end) overlaps a boilerplate span (spans sorted, non-overlapping)."""
    import bisect

    k = bisect.bisect_right(spans, (start, float("inf"))) - 1
    for j in (k, k + 1):
        if 0 <= j < len(spans) and spans[j][0] < end and start < spans[j][1]:
            return True
    return False
