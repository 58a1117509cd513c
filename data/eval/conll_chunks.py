"""Split the CoNLL-2003 train documents (written by `python -m presslens.eval conll-docs`) into the
four story-gold chunks of run 8 (docs/STORIES.md): ROOT/conll-train-k1 holds 000-236, k2 237-473,
k3 474-710, k4 711-945 (document order, which runs roughly in date order).

    python -m presslens.eval conll-docs /work/shared/ner-train/conll2003-en/data/conll/en/train.conllu DOCS
    python data/eval/conll_chunks.py DOCS ROOT

The texts stay outside the repository (research use only); ROOT is the folder the gold paths of
data/eval/stories_gold_conll_train.csv are relative to.
"""
import shutil
import sys
from pathlib import Path

CHUNK = 237


def main(docs: Path, root: Path) -> int:
    files = sorted(docs.glob("[0-9][0-9][0-9].txt"))
    if len(files) != 946:
        print(f"error: expected the 946 documents of the CoNLL-2003 train file in {docs}, found {len(files)}",
              file=sys.stderr)
        return 2
    for f in files:
        k = min(int(f.stem) // CHUNK + 1, 4)
        out = root / f"conll-train-k{k}"
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, out / f.name)
    print(f"946 documents in {root}/conll-train-k1..k4")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])) if len(sys.argv) == 3 else 2)
