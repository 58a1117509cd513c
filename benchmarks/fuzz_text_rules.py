"""Do two versions of the text rules agree on random texts? (speed work must not move them)

    mkdir -p /tmp/old && git archive main | tar -x -C /tmp/old      # the code to compare with
    nice python benchmarks/fuzz_text_rules.py --against /tmp/old [--texts 20000] [--seed 3]

Random texts are made of the words the rules' own patterns are written with (cue and relay
verbs, credit, read-more, archive and counter words, known source names; random case), other
names, dates, times, figures and punctuation (spaces, non-breaking spaces, line breaks,
quotes), and characters outside presslens.enrich.textcase.CASE_SAFE. For each text, in
both versions: boilerplate.find; sources.cited and relay_outlets; metadata.outlet,
published and title (languages "ru" and "und"), is_date_line and the dateline date of
each line; stories._scan, numbers_and_dates, news_sentences, event_date, event_date_feature
and lead_words (ru/uk/en/ro/None). And stories.text_evidence (evidence lists and MinHash
signatures, dtype and shape included) over batches of 1-64 of the same texts, some empty,
some several joined (past LEAD_CHARS), a few with a Greek capital sigma or the letters
U+A7D2/U+A7D4 (see stories._LOWER_CUT_UNSAFE), with random boilerplate spans (overlapping,
unsorted, past the end) and languages ru/uk/en/ro/None (another random stream: the texts
are those of the same seed without it). An exception is an output too (its type and
message). Prints the first differences; exit status 1 when any differs.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def _load(root: Path):
    """(sources, metadata, boilerplate, stories, records) of the presslens package under root."""
    for name in [k for k in sys.modules if k == "presslens" or k.startswith("presslens.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        from presslens import records, stories
        from presslens.enrich import boilerplate, metadata, sources
    finally:
        sys.path.pop(0)
    if not Path(sources.__file__).resolve().is_relative_to(root.resolve()):
        raise SystemExit(f"presslens was not loaded from {root}")
    return sources, metadata, boilerplate, stories, records


def _words(S, M, B) -> list[str]:
    """The words the patterns are written with."""
    found: set[str] = set()
    for rx in (S._CUE_BEFORE_RE, S._VERB_AFTER_RE, S._RELAY_RE, M._READ_ON_RE, M._ARCHIVE_RE, B._CREDIT_RE,
               B._VIEWS_RE, B._CTA_LINE_RE, B._CHANNEL_LINE_RE, M.DATE_RE, M._DATE_FILLER_RE, M._DATELINE_START_RE):
        src = re.sub(r"\\[swbdWSBD]", " ", rx.pattern)
        found |= set(re.findall(r"[^\W\d_]{2,}", src))
    found |= {w for alias, _name in S._table()[0] for w in re.findall(r"[^\W\d_]{2,}", alias.pattern)}
    return sorted(found)


EXTRA = ["23 June 2024", "June 23, 2024", "2024-06-23", "23/06/2024", "10:15 PM", "9:05 a.m.", "22 листопада 2024 р.",
         "ТАСС", "Reuters", "ISW", "NHK", "The Guardian", "UNN", "«Коммерсантъ»", "Kyiv Post", "Digi24", "ru.tsn.ua",
         "www.example.md", "https://unn.ua/x", "2024", "2018", "23.06.2024", "10/08/18", "10:15", "08:46", "25-26",
         "230 000", "1,5", "25", "7", "июня", "липня", "July", "Aug.", "тыс", "млн", "Institute for the Study of War",
         "Associated Press", "Новости Юга", "Напомним", "Earlier", "Ранее", "$80.12", "+1.2%", "•", "|", "Details",
         "Ελλάδα", "ſ", "İ", "\u1c80", "\u212a"]
SEPS = [" ", " ", " ", ", ", ". ", "\n", "\n\n", ": ", " — ", "\u00a0", "-", "» ", "(", ")", "...", "! ", "\""]


def _text(rng: random.Random, words: list[str]) -> str:
    parts = []
    for _ in range(rng.randint(1, 40)):
        if rng.random() < 0.6:
            w = rng.choice(words)
            r = rng.random()
            w = w.upper() if r < 0.15 else w.capitalize() if r < 0.4 else w
        else:
            w = rng.choice(EXTRA)
        parts += [w, rng.choice(SEPS)]
    return "".join(parts)


def _outputs(mods, text: str) -> list:
    S, M, B, ST, R = mods
    out: list = []

    def run(fn):
        try:
            out.append(fn())
        except Exception as exc:  # an exception is an output: both versions must raise it
            out.append(("raised", type(exc).__name__, str(exc)))

    spans: list = []

    def bp():
        spans[:] = B.find(text)
        return list(spans)
    run(bp)
    for lang in ("ru", "und"):
        rec = R.RawRecord(path="x", text=text)
        run(lambda: [(c.name, c.start, c.end, c.evidence) for c in S.cited(text, lang, spans)])
        run(lambda: S.relay_outlets(text, spans))
        for fn in (M.outlet, M.published, M.title):
            run(lambda: (lambda e: (e.value, e.source, e.evidence))(fn(rec, text, spans, lang)))
    lines = text.split("\n")
    run(lambda: [M.is_date_line(ln) for ln in lines])
    run(lambda: [M._dateline_date(ln, "en") for ln in lines])
    run(lambda: ST._scan(text))
    run(lambda: sorted(ST.numbers_and_dates(text)))
    run(lambda: ST.news_sentences(text))
    run(lambda: ST.event_date(text))
    run(lambda: ST.event_date_feature(text))
    for lang in ("ru", "uk", "en", "ro", None):
        run(lambda: sorted(ST.lead_words(text, lang)))
    return out


def _spans(rng: random.Random, n: int) -> list[list[int]] | None:
    """Random boilerplate spans of a text of n characters (None or [] too)."""
    r = rng.random()
    if r < 0.3:
        return None
    if r < 0.4:
        return []
    out = []
    for _ in range(rng.randint(1, 4)):
        s = rng.randint(0, n + 2)
        out.append([s, s + rng.randint(0, max(1, n // 3))])
    return out


def _evidence(mods, texts: list[str], bps: list, langs: list) -> list:
    """text_evidence of a batch with and without its boilerplate and languages."""
    ST = mods[3]
    out: list = []
    for args in ((texts, bps, langs), (texts,)):
        try:
            ev, sig = ST.text_evidence(*args)
            out.append((ev, str(sig.dtype), sig.shape, sig.tobytes()))
        except Exception as exc:
            out.append(("raised", type(exc).__name__, str(exc)))
    return out


def _check_evidence(old, new, brng: random.Random, texts: list[str]) -> int:
    """Compare text_evidence of both versions over `texts` in random batches: batches that differ."""
    bad, i = 0, 0
    while i < len(texts):
        batch = list(texts[i:i + brng.randint(1, 64)])
        i += len(batch)
        # some empty, some several texts joined (past LEAD_CHARS: figures cut at the lead's end)
        batch = [("" if r < 0.03 else brng.choice(("", "\n", " ", ". ")).join(brng.choices(texts, k=brng.randint(2, 8)))
                  if r < 0.4 else t) for t, r in ((t, brng.random()) for t in batch)]
        if brng.random() < 0.15:  # rarely, characters that change where words end when lower-cased
            j = brng.randrange(len(batch))
            batch[j] += brng.choice((" ΟΔΟΣ.ΑΒ ΣΤΑ ΣΑΣ", " Σ", "ΑΣ\u0345Β", " \ua7d2\ua7d4x İI"))
        bps = [_spans(brng, len(t)) for t in batch]
        langs = [brng.choice(("ru", "uk", "en", "ro", None, "ru-RU", "und")) for _ in batch]
        a, b = _evidence(old, batch, bps, langs), _evidence(new, batch, bps, langs)
        if a != b:
            bad += 1
            if bad <= 3:
                print(f"text_evidence differs on a batch of {len(batch)} texts (first: {batch[0][:200]!r})")
                for x, y in zip(a, b):
                    if x != y and x[0] != "raised" and y[0] != "raised":
                        for k, (ex, ey) in enumerate(zip(x[0], y[0])):
                            if ex != ey:
                                print(f"  text {k}: before {ex}\n          after  {ey}")
                                break
                        if x[1:] != y[1:]:
                            print("  signatures differ")
                    elif x != y:
                        print(f"    before: {str(x)[:300]}\n    after:  {str(y)[:300]}")
    return bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", required=True, help="a checkout of the code to compare with")
    ap.add_argument("--texts", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    old = _load(Path(args.against))
    new = _load(HERE)
    words = _words(*new[:3])
    rng = random.Random(args.seed)
    brng = random.Random(args.seed + 1_000_003)
    bad = 0
    done: list[str] = []
    for _ in range(args.texts):
        text = _text(rng, words)
        done.append(text)
        a, b = _outputs(old, text), _outputs(new, text)
        if a != b:
            bad += 1
            if bad <= 3:
                diff = [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x != y]
                print(f"{text!r}\n  output {diff[0][0]}:\n    before: {str(diff[0][1])[:400]}\n    after:  {str(diff[0][2])[:400]}")
    print(f"{args.texts} random texts ({len(words)} pattern words): {bad} differ")
    ev_bad = _check_evidence(old, new, brng, done)
    print(f"text_evidence over the same texts in random batches: {ev_bad} batches differ")
    bad += ev_bad
    print("IDENTICAL" if not bad else "DIFFERENT")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
