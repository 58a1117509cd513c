"""Train the entity models (one CRF per language) from the shared gold corpora.

Usage::

    python -m presslens.train [--lang ru,uk,ro,en] [--data /work/shared] [--out presslens/models]
                              [--holdout-topic TOPIC] [--max-docs N] [--iterations N]

Training data per language (the corpora's own test splits are never read here):
- ru: NEREL v1.1 train + factRuEval-2016 (dev and test sets) + BSNLP ru (dev topics);
- uk: NER-UK 2.0 DEV list (its training half) + BSNLP uk (dev topics);
- ro: RONEC v1 without the sentences of RONEC v2 validation, plus the even-numbered half
  of RONEC v2 validation (its odd half is our Romanian held-out set; RONEC's test sentences
  are absent from the v1 file and not in the shared data);
- en: CoNLL-2003 train.
BSNLP documents are repeated BSNLP_WEIGHT times: they follow the annotation scheme the
product is measured by (PER LOC ORG PRO EVT on names only).

`--holdout-topic T` leaves BSNLP topic T out (leave-one-topic-out figures: train without
T, then `python -m presslens.eval bsnlp DIR --holdout T --models OUT`). `--max-docs N`
takes the first N documents of each corpus (the test suite trains in seconds that way).
Output: OUT/ner-<lang>.crfsuite, and a line per model with its size and training time.
"""
from __future__ import annotations

import argparse
import lzma
import sys
import time
from pathlib import Path

from presslens.enrich.ner import corpora, crf
from presslens.enrich.ner.text import tokens

DEFAULT_DATA = Path("/work/shared")
# BSNLP documents count this many times in training (see module docstring).
BSNLP_WEIGHT = 2
# RONEC v2 sentences count this many times (they follow the newer, denser annotation).
RONEC_V2_WEIGHT = 2
# crfsuite settings chosen on NEREL dev / CoNLL val / a slice of training data (not on
# any test split): L1 keeps the model small (a few MB), L2 smooths it.
C1 = 0.1
C2 = 0.05
MAX_ITERATIONS = 120
# Features seen fewer times than this in training are dropped (model size).
MIN_FREQ = 2


def training_docs(lang: str, data: Path, holdout_topic: str | None = None, max_docs: int | None = None):
    """(docs, weight) pairs of the training data of one language."""
    nt = data / "ner-train"
    bsnlp_root = data / "eval-dev" / "bsnlp"
    topics = None
    if bsnlp_root.is_dir():
        topics = {p.name for p in (bsnlp_root / "raw").iterdir() if p.is_dir()} - {holdout_topic}
    parts: list[tuple[list, int]] = []
    if lang == "ru":
        parts.append((corpora.read_nerel(nt / "nerel" / "NEREL-v1.1" / "train"), 1))
        parts.append((corpora.read_factru(nt / "factRuEval-2016" / "devset")
                      + corpora.read_factru(nt / "factRuEval-2016" / "testset"), 1))
    elif lang == "uk":
        parts.append((corpora.read_neruk(nt / "ner-uk", "DEV"), 1))
    elif lang == "ro":
        v2 = nt / "ronec" / "v2_valid.json"
        held = {corpora._norm(d.text) for d in corpora.read_ronec_json(v2)}
        parts.append((corpora.read_ronec_v1(nt / "ronec" / "v1_iob.conllup", held), 1))
        # RONEC v2 was annotated afresh, more densely than v1: its even half trains (counted
        # twice), its odd half is the held-out set.
        parts.append((corpora.read_ronec_json(v2, half=0), RONEC_V2_WEIGHT))
    elif lang == "en":
        parts.append((corpora.read_conll(nt / "conll2003-en" / "data" / "conll" / "en" / "train.conllu"), 1))
    else:
        raise ValueError(f"no training data for language {lang!r}")
    if lang in ("ru", "uk") and topics:
        parts.append((corpora.read_bsnlp(bsnlp_root, lang, topics), BSNLP_WEIGHT))
    if max_docs is not None:
        parts = [(docs[:max_docs], w) for docs, w in parts]
    return parts


def train(lang: str, parts, out: Path, iterations: int = MAX_ITERATIONS, verbose: bool = False) -> dict:
    """Train one CRF on (docs, weight) parts and write it to `out`; returns counts."""
    import pycrfsuite

    tr = pycrfsuite.Trainer(verbose=verbose)
    n_docs = n_toks = 0
    for docs, weight in parts:
        for d in docs:
            toks = tokens(d.text)
            if not toks:
                continue
            x = crf.features(d.text, toks, lang)
            y = crf.bio_labels(toks, d.spans)
            for _ in range(weight):
                tr.append(x, y)
            n_docs += 1
            n_toks += len(toks)
    tr.set_params({"c1": C1, "c2": C2, "max_iterations": iterations, "feature.minfreq": MIN_FREQ,
                   "feature.possible_transitions": True})
    out.parent.mkdir(parents=True, exist_ok=True)
    tr.train(str(out))
    return {"docs": n_docs, "tokens": n_toks}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m presslens.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--lang", default="ru,uk,ro,en", help="comma-separated languages (default: all four)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding ner-train/ and eval-dev/")
    ap.add_argument("--out", type=Path, default=crf.MODEL_DIR, help="where the model files go")
    ap.add_argument("--holdout-topic", help="leave this BSNLP topic out of training")
    ap.add_argument("--max-docs", type=int, help="at most this many documents per corpus (quick runs)")
    ap.add_argument("--iterations", type=int, default=MAX_ITERATIONS)
    args = ap.parse_args(argv)
    langs = [x.strip() for x in args.lang.split(",") if x.strip()]
    bad = [x for x in langs if x not in crf.LANGS]
    if bad:
        print(f"error: unknown language(s) {bad}; choose from {list(crf.LANGS)}", file=sys.stderr)
        return 2
    if not (args.data / "ner-train").is_dir():
        print(f"error: {args.data} has no ner-train/ folder", file=sys.stderr)
        return 2
    for lang in langs:
        t0 = time.time()
        parts = training_docs(lang, args.data, args.holdout_topic, args.max_docs)
        path = args.out / f"ner-{lang}.crfsuite"
        info = train(lang, parts, path, args.iterations)
        # the xz-packed copy is what the repository holds (crf.model_path unpacks it)
        packed = path.with_name(path.name + ".xz")
        packed.write_bytes(lzma.compress(path.read_bytes(), preset=9 | lzma.PRESET_EXTREME))
        print(f"{lang}: {info['docs']} docs, {info['tokens']} tokens -> {path} "
              f"({path.stat().st_size / 1e6:.1f} MB, {time.time() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
