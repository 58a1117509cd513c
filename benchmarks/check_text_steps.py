"""Do the text rules (boilerplate, metadata, sources, story text evidence) give identical
outputs across a code change? A wider check than check_outputs.py for these steps alone.

    nice python benchmarks/check_text_steps.py --save BEFORE.pkl      # on the old code
    nice python benchmarks/check_text_steps.py --compare BEFORE.pkl   # on the new code

Texts are read by path from the shared data (never copied into the repository): the BSNLP
raw ru/uk news, every NEREL v1.1 text (ru), every NER-UK 2.0 text (uk), the seeds, and the
RONEC v2 valid (ro) and CoNLL-2003 test (en) documents (one text per document); and
variants of a third of them with lines of page clutter, datelines, credits and attribution
formulas spliced in (SNIPPETS), upper-cased, case-swapped, joined into one line, or with a
character outside textcase.CASE_SAFE. For each text it records:
- boilerplate.find(text), metadata.is_date_line of each line;
- metadata.title / outlet / published / date_candidates with the text's boilerplate and
  language, and again with no boilerplate and language "und";
- sources.cited and sources.relay_outlets, both ways too;
- stories.text_evidence over batches of 100 texts (evidence lists and MinHash signatures),
  with the boilerplate and languages, and without either;
- stories._scan, numbers_and_dates, news_sentences and event_date of the text.
Languages come from presslens.enrich.language.detect on --save and are stored in the file,
so --compare reuses them (the language step is not under test here). --compare prints the
first differences and exits 1 when any output differs. CPU seconds are printed.
"""
from __future__ import annotations

import argparse
import glob
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SHARED = Path("/work/shared")
BATCH = 100


def texts(shared: Path) -> dict[str, str]:
    """{key: text} for every text named in the module doc."""
    out: dict[str, str] = {}
    pats = ["eval-dev/bsnlp/raw/*/*/*.txt", "ner-train/nerel/NEREL-v1.1/*/*.txt",
            "ner-train/ner-uk/v2.0/data/*/*.txt", "seeds/*.txt"]
    for pat in pats:
        for p in sorted(glob.glob(str(shared / pat))):
            out[p] = Path(p).read_text(encoding="utf-8")
    from presslens.enrich.ner import corpora

    for d in corpora.read_ronec_json(shared / "ner-train/ronec/v2_valid.json"):
        out[f"ronec:{d.doc_id}"] = d.text
    for d in corpora.read_conll(shared / "ner-train/conll2003-en/data/conll/en/test.conllu"):
        out[f"conll:{d.doc_id}"] = d.text
    return out


# Lines of page clutter, datelines, credits and attribution formulas in the four languages
# (as scraped pages print them), spliced into real texts by `stress`: the real texts alone
# rarely reach these rules.
SNIPPETS = (
    "Читайте также: Другие новости дня", "Читайте також: Інші новини дня", "Citește și: Alte știri ale zilei",
    "Read also: Other news of the day", "Подпишитесь на наш канал в Telegram", "Підписуйтесь на наш Telegram-канал",
    "Urmărește-ne pe Google News", "Follow us on Google News", "Ne puteți urmări și pe Google News",
    "Фото: Getty Images", "Sursa foto: Shutterstock", "Photo: AP", "Foto: Arhiva Adevărul", "Sursa: Arhiva EVZ",
    "Фото: архив ТСН", "Photo: Archive Kyiv Post", "Джерело фото: Reuters", "Источник: korrespondent.net",
    "Подробнее читайте на ru.tsn.ua", "Детальніше читайте на www.unian.ua", "Read more on www.kyivpost.com",
    "Citește mai multe pe digi24.ro", "Source: https://www.example.md/news", "Детальнее читайте на www.example.md",
    "• 36492 views", "1 234 просмотра", "| 5 678 переглядів", "👁 12 345 vizualizări", "3,4 тыс. просмотров",
    "Monday, 3 June 2024, 10:15", "п’ятниця, 22 листопад 2024, 23:55", "23.06.2024 | Политика", "2024-6-23 09:25 |",
    "Опубликовано: 23 июня 2024 в 10:15", "22 листопада 2024 р.", "23 iunie 2024, 10:15", "June 3, 2023 — Troops advanced.",
    "Another story headline - Zelensky07.02.2025, 20:37", "A teaser of the other story that ends abruptly...",
    "KYIV, June 3 (Reuters) - Troops advanced in the south, officials said on Monday.",
    "МОСКВА, 23 июн — РИА Новости. Войска продвинулись.", "Одеса • Південний Вісник", "Kyiv • UNN", "/ТАСС/",
    "Oil", "$80.12", "Gold", "$2,345.10", "Brent", "64,57 $ -0,3%", "Bitcoin $111,059.60", "+1.2%",
    "Details", "Подробности", "Деталі", "Detalii", "Реклама",
    "Войска продвинулись на юге, пишет The Guardian, передают Новости Юга.",
    "Війська просунулися на півдні, передає Вісті Півдня.",
    "Troops advanced in the south, officials said, reports Southern News.",
    "Войска продвинулись на юге страны, передает ТАСС.", "Як пише Kyiv Post, переговори зайшли в глухий кут.",
    "По данным издания «Коммерсантъ», переговоры зашли в тупик.", "Officials told CNN that the talks had stalled.",
    "The Institute for the Study of War said the offensive would continue.",
    "Analiștii citați de Bloomberg cred că ofensiva va continua, mai scrie presa.",
    "Trupele ruse au avansat în sud, potrivit Reuters. Mai multe detalii vor urma.",
    "Народ ликовал\".Читайте также: Другие новости. Конец.", "Done.Read more: the full story",
    "По оценкам ISW, наступление продолжится 25-26 июля 2018 года, а 10.08.2018 в 08:46 было 230 тысяч.",
    "Напомним, ранее 3 мая 2017 сообщалось о 1,5 млн. Earlier, on July 25, 2018, 25 and 26 August...",
)
# Characters outside textcase.CASE_SAFE (Greek, dotted I, long s, rounded ve, Kelvin sign):
# a text holding one takes the case-insensitive patterns' own path.
ODD = ("Ελλάδα", "İstanbul", "ſ", "\u1c80", "\u212a")


def stress(items: dict[str, str], every: int = 3) -> dict[str, str]:
    """Variants of every `every`-th text (seeded): snippets spliced in between lines, the
    same upper-cased, with swapped case, and with an odd character added."""
    import random

    rng = random.Random(20261130)
    out: dict[str, str] = {}
    for k in list(items)[::every]:
        lines = items[k].split("\n")
        for _ in range(rng.randint(2, 8)):
            lines.insert(rng.randint(0, len(lines)), rng.choice(SNIPPETS))
        text = "\n".join(lines)
        out[f"stress:{k}"] = text
        choice = rng.randint(0, 3)
        if choice == 0:
            out[f"upper:{k}"] = text.upper()
        elif choice == 1:
            out[f"swap:{k}"] = text.swapcase()
        elif choice == 2:
            out[f"odd:{k}"] = text + " " + rng.choice(ODD)
        else:
            out[f"oneline:{k}"] = " ".join(lines)
    return out


def _ev(e) -> tuple:
    return (e.value, e.source, e.evidence)


def outputs(items: dict[str, str], langs: dict[str, str]) -> dict[str, dict]:
    """{part: {key: output}} for the parts named in the module doc."""
    from presslens import stories
    from presslens.enrich import boilerplate, metadata, sources
    from presslens.records import RawRecord

    out: dict[str, dict] = {}

    def timed(part: str, fn) -> None:
        t = time.process_time()
        res = out.setdefault(part, {})
        fn(res)
        print(f"{part}: {len(res)} outputs, {time.process_time() - t:.2f} s CPU", flush=True)

    bps: dict[str, list] = {}

    def do_bp(res):
        for k, text in items.items():
            bps[k] = res[k] = boilerplate.find(text)
    timed("boilerplate", do_bp)

    def do_date_lines(res):
        for k, text in items.items():
            res[k] = [metadata.is_date_line(ln) for ln in text.split("\n")]
    timed("is_date_line", do_date_lines)

    for way in ("given", "bare"):
        def bl(k):
            return (bps[k], langs[k]) if way == "given" else ([], "und")

        def do_meta(res):
            for k, text in items.items():
                bp, lang = bl(k)
                rec = RawRecord(path=k, text=text, encoding="utf-8")
                res[k] = (_ev(metadata.title(rec, text, bp, lang)), _ev(metadata.outlet(rec, text, bp, lang)),
                          _ev(metadata.published(rec, text, bp, lang)),
                          metadata.date_candidates(rec, text, bp, lang))
        timed(f"metadata-{way}", do_meta)

        def do_sources(res):
            for k, text in items.items():
                bp, lang = bl(k)
                res[k] = ([(c.name, c.start, c.end, c.evidence) for c in sources.cited(text, lang, bp)],
                          sources.relay_outlets(text, bp))
        timed(f"sources-{way}", do_sources)

        def do_te(res):
            keys = list(items)
            for i in range(0, len(keys), BATCH):
                ks = keys[i:i + BATCH]
                if way == "given":
                    ev, sig = stories.text_evidence([items[k] for k in ks], [[list(s) for s in bps[k]] for k in ks],
                                                    [langs[k] for k in ks])
                else:
                    ev, sig = stories.text_evidence([items[k] for k in ks])
                for k, e, s in zip(ks, ev, sig.tolist()):
                    res[k] = (e, s)
        timed(f"text_evidence-{way}", do_te)

    def do_story_parts(res):
        for k, text in items.items():
            res[k] = (stories._scan(text), sorted(stories.numbers_and_dates(text)), stories.news_sentences(text),
                      stories.event_date(text), stories.event_date_feature(text[:3000]))
    timed("stories-parts", do_story_parts)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--save")
    g.add_argument("--compare")
    ap.add_argument("--shared", default=str(SHARED))
    args = ap.parse_args()
    items = texts(Path(args.shared))
    items.update(stress(items))
    print(f"{len(items)} texts, {sum(map(len, items.values())):,} characters", flush=True)
    if args.save:
        from presslens.enrich import language

        t = time.process_time()
        langs = {k: language.detect(v, []).language for k, v in items.items()}
        print(f"languages: {time.process_time() - t:.1f} s CPU", flush=True)
    else:
        with open(args.compare, "rb") as fh:
            base = pickle.load(fh)
        langs = base["languages"]
    out = outputs(items, langs)
    if args.save:
        out["languages"] = langs
        with open(args.save, "wb") as fh:
            pickle.dump(out, fh)
        print(f"saved {args.save}")
        return 0
    bad = 0
    for part, res in out.items():
        old = base.get(part, {})
        diff = [k for k in res.keys() | old.keys() if res.get(k) != old.get(k)]
        print(f"{part}: {len(diff)} of {len(res)} differ")
        for k in sorted(diff)[:3]:
            print(f"  {k}\n    before: {str(old.get(k))[:600]}\n    after:  {str(res.get(k))[:600]}")
        bad += len(diff)
    print("IDENTICAL" if not bad else f"DIFFERENT: {bad} outputs")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
