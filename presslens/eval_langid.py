"""Language of single sentences: presslens against plain langdetect.

Usage::

    python -m presslens.eval langid /work/shared/eval-dev/langid [--half all|tune|report] [--ablation]

Input: a folder of ``<iso639-1>.txt`` files, one sentence a line, the file name being the
sentence's language (the lingua-py test-set layout). Blank lines are skipped.

Output (stdout), one row per language: sentences, plain langdetect's accuracy (langdetect
1.0.9, all 55 profiles, seeded, as the library is used out of the box) and ours
(presslens.enrich.language.detect on the sentence alone) on the report half (odd lines)
and on the whole file, how many of ours are `und`, and for Belarusian and Serbian (no
langdetect model) how many are reported as Ukrainian or Macedonian by each. Lines are split
by position: even lines (0, 2, ...) are the tuning half, odd lines the report half, so
that rules tuned on one half are reported on the other. ``--ablation`` adds ours with
langdetect only and with lingua only (the letter rules always on), to show what each
detector contributes. Timing is CPU ms per sentence.
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# Languages a wrong call must never be for these gold languages (the rule:
# Belarusian and Serbian, which langdetect has no model for, must not come out as
# Ukrainian or Macedonian).
FORBIDDEN = {"be": ("uk", "mk"), "sr": ("uk", "mk")}
HALVES = ("all", "tune", "report")


def read_langid(root: Path) -> dict[str, list[str]]:
    """{language: sentences} from <lang>.txt files (blank lines skipped)."""
    out = {}
    for path in sorted(root.glob("*.txt")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
        out[path.stem] = [ln for ln in lines if ln]
    return out


def half(lines: list[str], which: str) -> list[str]:
    """The tuning half (even positions), the report half (odd positions) or all."""
    if which == "tune":
        return lines[0::2]
    if which == "report":
        return lines[1::2]
    return list(lines)


def plain_langdetect():
    """langdetect as used out of the box (all profiles, 7 trials), seeded: text -> code."""
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0

    def call(text: str) -> str:
        try:
            code = detect(text)
        except LangDetectException:
            return "und"
        return {"zh-cn": "zh", "zh-tw": "zh"}.get(code, code)

    return call


def ours():
    """presslens's article detector on the sentence alone: text -> code."""
    from presslens.enrich import language

    language.warm_up()
    return lambda text: language.detect(text, []).language


def ours_with(detectors: tuple[str, ...]):
    """Ours with only the named detectors (letter rules kept): text -> code."""
    from presslens.enrich import language

    language.warm_up()
    return lambda text: language.identify(text, language.GROUP_SAMPLE_CHARS, detectors).language


@dataclass
class Score:
    n: int = 0
    right: int = 0
    und: int = 0
    forbidden: int = 0
    cpu: float = 0.0
    wrong: Counter = field(default_factory=Counter)

    @property
    def accuracy(self) -> float:
        return self.right / self.n if self.n else 0.0


def score(call, lang: str, sentences: list[str]) -> Score:
    """Accuracy of `call` on sentences whose language is `lang`."""
    s = Score()
    bad = FORBIDDEN.get(lang, ())
    t0 = time.process_time()
    for text in sentences:
        got = call(text)
        s.n += 1
        s.right += got == lang
        s.und += got == "und"
        s.forbidden += got in bad
        if got != lang:
            s.wrong[got] += 1
    s.cpu = time.process_time() - t0
    return s


def evaluate(root: Path, which: str = "all", ablation: bool = False, out=sys.stdout) -> dict:
    """Score plain langdetect and ours per language; print the table; return the scores
    as {system: {half: {lang: Score}}}."""
    data = read_langid(root)
    systems = {"plain": plain_langdetect(), "ours": ours()}
    if ablation:
        systems["ours-langdetect-only"] = ours_with(("langdetect",))
        systems["ours-lingua-only"] = ours_with(("lingua",))
    halves = ("report", "all") if which == "all" else (which,)
    res: dict[str, dict[str, dict[str, Score]]] = {name: {h: {} for h in halves} for name in systems}
    for lang, lines in data.items():
        for h in halves:
            for name, call in systems.items():
                res[name][h][lang] = score(call, lang, half(lines, h))
    names = list(systems)
    for h in halves:
        label = {"report": "report half (odd lines)", "tune": "tuning half (even lines)",
                 "all": "whole files"}[h]
        print(f"\n== {label} ==", file=out)
        print(f"{'lang':4} {'n':>4} " + " ".join(f"{n[:18]:>18}" for n in names) + "  ours: und  wrong (most common)",
              file=out)
        for lang in data:
            cells = []
            for name in names:
                sc = res[name][h][lang]
                cell = f"{sc.accuracy:.3f}"
                if lang in FORBIDDEN:
                    cell += f" ({sc.forbidden} uk/mk)"
                cells.append(f"{cell:>18}")
            o = res["ours"][h][lang]
            wrong = ", ".join(f"{k} {v}" for k, v in o.wrong.most_common(3))
            print(f"{lang:4} {o.n:4d} " + " ".join(cells) + f"  {o.und:9d}  {wrong}", file=out)
        n_all = sum(sc.n for sc in res["ours"][h].values()) or 1
        times = "  ".join(f"{name} {sum(sc.cpu for sc in res[name][h].values()) / n_all * 1000:.2f}"
                          for name in names)
        print(f"CPU ms/sentence: {times}", file=out)
    print("\n(accuracy = share of sentences given their file's language; be and sr: langdetect has "
          "no model, '(k uk/mk)' counts sentences reported as Ukrainian or Macedonian)", file=out)
    return res


def add_parser(sub) -> None:
    """Register the `langid` subcommand on an argparse subparsers object."""
    p = sub.add_parser("langid", help="language of single sentences: ours vs plain langdetect")
    p.add_argument("root", type=Path)
    p.add_argument("--half", choices=HALVES, default="all",
                   help="all: report half and whole files (default); tune/report: that half only")
    p.add_argument("--ablation", action="store_true",
                   help="also score ours with langdetect only and with lingua only")
    p.set_defaults(run=run)


def run(args) -> int:
    root: Path = args.root
    if not root.is_dir() or not any(root.glob("*.txt")):
        print(f"error: {root} has no <language>.txt files (expected the langid layout)", file=sys.stderr)
        return 2
    evaluate(root, args.half, args.ablation)
    return 0
