"""The documents of a CoNLL-2003 file as plain-text articles, for story grouping.

Usage::

    python -m presslens.eval conll-docs /work/shared/ner-train/conll2003-en/data/conll/en/test.conllu OUT

CoNLL-2003 (Reuters news of August and December 1996) keeps each article's document boundary
(``-DOCSTART-``) and its sentences as tokens, one per line (``index<TAB>token<TAB>tag``). This
writes document k as ``OUT/NNN.txt``: its first sentence (the headline) on the first line, then
one sentence a line, the tokens joined with the spaces the tokenizer took out put back only where
English text has them (none before , . ; : ! ? ) % or 's, none after ( or $). The dateline's
ISO date (a line such as "SPRINGFIELD 1996-12-06") stays in the text, where the build's date
step finds it. The texts are read by path and written outside the repository (the corpus is for
research use only); only labels that name the files (``NNN.txt``) are committed.

``--chunks N`` splits the documents, in file order, into N folders of equal size (the last one
smaller) named after OUT: ``OUT-k1/000.txt`` ... ``OUT-kN/NNN.txt``, numbering kept. Run 8's
four story-gold chunks of the train file (docs/STORIES.md) are
``conll-docs .../train.conllu ROOT/conll-train --chunks 4``: 237, 237, 237 and 235 documents.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

_NO_SPACE_BEFORE = re.compile(r" (?=[,.;:!?)%]|'s\b|n't\b|'re\b|'ve\b|'ll\b|'d\b|'m\b)")
_NO_SPACE_AFTER = re.compile(r"(?<=[($]) ")


def read_documents(path: Path) -> list[list[list[str]]]:
    """The documents of a CoNLL file: each a list of sentences, each a list of tokens."""
    docs: list[list[list[str]]] = []
    doc: list[list[str]] | None = None
    sentence: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 2 or not cols[1]:
                if sentence and doc is not None:
                    doc.append(sentence)
                sentence = []
                continue
            if cols[1] == "-DOCSTART-":
                if doc:
                    docs.append(doc)
                doc, sentence = [], []
                continue
            if doc is None:  # tokens before any -DOCSTART-: a first document
                doc = []
            sentence.append(cols[1])
    if sentence and doc is not None:
        doc.append(sentence)
    if doc:
        docs.append(doc)
    return docs


def detokenize(tokens: list[str]) -> str:
    """One sentence's tokens as text (English spacing; see the module doc)."""
    return _NO_SPACE_AFTER.sub("", _NO_SPACE_BEFORE.sub("", " ".join(tokens)))


def write_documents(conllu: Path, out: Path, chunks: int = 0) -> int:
    """Write every document of `conllu` as out/NNN.txt (with `chunks`, as out-kC/NNN.txt: C the
    document's chunk, of ceil(documents / chunks) documents each); returns how many."""
    docs = read_documents(conllu)
    width = max(3, len(str(len(docs) - 1)))
    size = -(-len(docs) // chunks) if chunks else 0
    for k, doc in enumerate(docs):
        folder = out.parent / f"{out.name}-k{k // size + 1}" if size else out
        folder.mkdir(parents=True, exist_ok=True)
        text = "\n".join(detokenize(s) for s in doc) + "\n"
        (folder / f"{k:0{width}d}.txt").write_text(text, encoding="utf-8")
    return len(docs)


def add_parser(sub) -> None:
    """Register the `conll-docs` subcommand on an argparse subparsers object."""
    p = sub.add_parser("conll-docs", help="write the documents of a CoNLL-2003 file as plain-text articles")
    p.add_argument("conllu", type=Path, help="a CoNLL file with -DOCSTART- lines (index<TAB>token<TAB>tag)")
    p.add_argument("out", type=Path, help="folder to write NNN.txt into (outside the repository)")
    p.add_argument("--chunks", type=int, default=0,
                   help="split the documents in file order into this many folders OUT-k1 ... OUT-kN")
    p.set_defaults(run=run)


def run(args) -> int:
    if not args.conllu.is_file():
        print(f"error: {args.conllu} is not a file", file=sys.stderr)
        return 2
    if args.chunks < 0:
        print(f"error: --chunks must be a positive number, not {args.chunks}", file=sys.stderr)
        return 2
    n = write_documents(args.conllu, args.out, args.chunks)
    where = f"{args.out}-k1 ... {args.out.name}-k{args.chunks}" if args.chunks else str(args.out)
    print(f"{n} documents written to {where}")
    return 0
