"""Readers for the gold NER corpora used to train and evaluate the entity models.

In: a corpus folder under the shared training data (read by path, never copied).
Out: documents as `Doc(doc_id, text, spans)`, spans being (start, end, type) character
ranges into `text`, with each corpus's types mapped to ours (PER LOC ORG PRO EVT MISC);
types that are not names (dates, money, jobs, nationalities...) are dropped.

Type mapping (documented in docs/MODEL_CARD.md):
- NEREL (ru): PERSON -> PER; COUNTRY CITY STATE_OR_PROVINCE DISTRICT LOCATION FACILITY
  -> LOC; ORGANIZATION -> ORG; PRODUCT WORK_OF_ART -> PRO; EVENT -> EVT; others dropped.
  Nested: only spans that open with a capitalised word or a digit are names; of those,
  the outermost wins.
- factRuEval-2016 (ru): Person -> PER, Location/LocOrg/Facility -> LOC, Org -> ORG,
  Project -> PRO; an object is the range of its name spans (descriptor spans such as
  "мэрии" are left out).
- NER-UK 2.0 (uk): PERS -> PER, LOC -> LOC, ORG -> ORG, MISC -> MISC, ART -> PRO, DOC -> PRO;
  others dropped.
- RONEC (ro): PERSON -> PER, GPE LOC FACILITY -> LOC, ORG/ORGANIZATION -> ORG, EVENT -> EVT,
  WORK_OF_ART PRODUCT -> PRO; others dropped. RONEC tags role words (președintele) as PERSON: lower
  case words opening a span are cut off, and spans without a capital letter are dropped.
- CoNLL-2003 (en): PER LOC ORG MISC as they are.
- BSNLP (ru, uk): PER LOC ORG PRO EVT as they are.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple


class Doc(NamedTuple):
    doc_id: str
    text: str
    spans: list  # [(start, end, type)]


NEREL_TYPES = {
    "PERSON": "PER", "COUNTRY": "LOC", "CITY": "LOC", "STATE_OR_PROVINCE": "LOC", "DISTRICT": "LOC",
    "LOCATION": "LOC", "FACILITY": "LOC", "ORGANIZATION": "ORG", "PRODUCT": "PRO", "WORK_OF_ART": "PRO",
    "EVENT": "EVT",
}
FACTRU_TYPES = {"Person": "PER", "Location": "LOC", "LocOrg": "LOC", "Facility": "LOC", "Org": "ORG", "Project": "PRO"}
NERUK_TYPES = {"PERS": "PER", "LOC": "LOC", "ORG": "ORG", "MISC": "MISC", "ART": "PRO", "DOC": "PRO"}
# v1 spells two of them ORGANIZATION and PRODUCT.
RONEC_TYPES = {"PERSON": "PER", "GPE": "LOC", "LOC": "LOC", "FACILITY": "LOC", "ORG": "ORG", "ORGANIZATION": "ORG",
               "EVENT": "EVT", "WORK_OF_ART": "PRO", "PRODUCT": "PRO"}
CONLL_TYPES = {"PER": "PER", "LOC": "LOC", "ORG": "ORG", "MISC": "MISC"}


def _name_start(text: str, s: int) -> bool:
    """A name opens with a capital letter or a digit (NEREL EVENT "выборы" is not a name)."""
    c = text[s:s + 1]
    return c.isupper() or c.isdigit()


def outermost(spans: list) -> list:
    """Spans not contained in a longer one; of partly overlapping spans the first wins."""
    out = []
    for s, e, t in sorted(spans, key=lambda x: (x[0], -(x[1] - x[0]))):
        if out and s < out[-1][1]:
            continue
        out.append((s, e, t))
    return out


def read_nerel(folder: Path) -> list[Doc]:
    """NEREL BRAT files of one split folder (train, dev or test)."""
    docs = []
    for txt in sorted(folder.glob("*.txt")):
        text = txt.read_text(encoding="utf-8")
        ann = txt.with_suffix(".ann")
        spans = []
        if ann.exists():
            for line in ann.read_text(encoding="utf-8").splitlines():
                if not line.startswith("T"):
                    continue
                parts = line.split("\t")
                if len(parts) < 2:
                    continue
                head = parts[1].split(" ", 1)
                ty = NEREL_TYPES.get(head[0])
                if ty is None or ";" in head[1]:
                    continue  # not a name type, or a discontinuous span
                s, e = (int(x) for x in head[1].split())
                if _name_start(text, s):
                    spans.append((s, e, ty))
        docs.append(Doc(f"nerel/{folder.name}/{txt.stem}", text, outermost(spans)))
    return docs


def read_factru(folder: Path) -> list[Doc]:
    """factRuEval-2016 documents of devset/ or testset/ (objects layer, name spans only)."""
    docs = []
    for txt in sorted(folder.glob("*.txt")):
        text = txt.read_text(encoding="utf-8-sig")
        stem = txt.with_suffix("")
        spans_f, objs_f = Path(f"{stem}.spans"), Path(f"{stem}.objects")
        if not spans_f.exists() or not objs_f.exists():
            continue
        sp = {}
        for line in spans_f.read_text(encoding="utf-8").splitlines():
            p = line.split("#")[0].split()
            if len(p) >= 4:
                sp[p[0]] = (p[1], int(p[2]), int(p[2]) + int(p[3]))
        spans = []
        for line in objs_f.read_text(encoding="utf-8").splitlines():
            p = line.split("#")[0].split()
            if len(p) < 3 or p[1] not in FACTRU_TYPES:
                continue
            parts = [sp[x] for x in p[2:] if x in sp and not sp[x][0].endswith("descr")]
            if not parts:
                continue
            s, e = min(x[1] for x in parts), max(x[2] for x in parts)
            if e - s < 80 and _name_start(text, s) and "\n" not in text[s:e]:
                spans.append((s, e, FACTRU_TYPES[p[1]]))
        docs.append(Doc(f"factru/{folder.name}/{txt.stem}", text, outermost(spans)))
    return docs


def read_neruk(root: Path, split: str) -> list[Doc]:
    """NER-UK 2.0 documents of the DEV (training) or TEST list of dev-test-split.txt."""
    data = root / "v2.0" / "data"
    wanted: dict[str, set[str]] = {"DEV": set(), "TEST": set()}
    cur = None
    for line in (data / "dev-test-split.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line in wanted:
            cur = line
        elif line and cur:
            wanted[cur].add(line)
    docs = []
    for sub in ("bruk", "ng"):
        for txt in sorted((data / sub).glob("*.txt")):
            if txt.stem not in wanted[split]:
                continue
            text = txt.read_text(encoding="utf-8")
            spans = []
            ann = txt.with_suffix(".ann")
            for line in ann.read_text(encoding="utf-8").splitlines() if ann.exists() else []:
                p = line.split("\t")
                if len(p) >= 4 and p[1] in NERUK_TYPES:
                    spans.append((int(p[2]), int(p[3]), NERUK_TYPES[p[1]]))
            docs.append(Doc(f"ner-uk/{sub}/{txt.stem}", text, outermost(spans)))
    return docs


def _bio_doc(doc_id: str, tokens: list[str], tags: list[str], space_after: list[bool], types: dict,
             cut_lower_start: bool = False) -> Doc:
    """A Doc from tokens with BIO tags, joined with the spaces given."""
    pieces, starts = [], []
    pos = 0
    for tok, sp in zip(tokens, space_after):
        starts.append(pos)
        pieces.append(tok + (" " if sp else ""))
        pos += len(tok) + (1 if sp else 0)
    text = "".join(pieces)
    spans = []
    cur = None
    for k, tag in enumerate(list(tags) + ["O"]):
        if cur and not (tag.startswith("I-") and tag[2:] == cur[2]):
            spans.append(cur)
            cur = None
        if tag.startswith("B-") or (tag.startswith("I-") and cur is None):
            cur = [k, k + 1, tag[2:]]
        elif cur:
            cur[1] = k + 1
    out = []
    for a, b, t in spans:
        ty = types.get(t)
        if ty is None:
            continue
        if cut_lower_start:
            while a < b and not any(c.isupper() for c in tokens[a][:1]):
                a += 1
            if a >= b:
                continue
        if not any(c.isupper() for tok in tokens[a:b] for c in tok):
            continue
        out.append((starts[a], starts[b - 1] + len(tokens[b - 1]), ty))
    return Doc(doc_id, text, out)


def read_ronec_v1(path: Path, exclude: set[str] | None = None) -> list[Doc]:
    """RONEC v1 (CoNLL-U Plus, IOB in the last column), one Doc per sentence; sentences whose
    text is in `exclude` are left out."""
    docs = []
    toks, tags, spaces, sid, stext = [], [], [], "", ""
    def flush():
        if toks and (exclude is None or _norm(stext or " ".join(toks)) not in exclude):
            docs.append(_bio_doc(f"ronec-v1/{sid}", list(toks), list(tags), list(spaces), RONEC_TYPES, True))
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                flush()
                toks, tags, spaces, sid, stext = [], [], [], "", ""
                continue
            if line.startswith("#"):
                if line.startswith("# sent_id"):
                    sid = line.split("=", 1)[1].strip()
                elif line.startswith("# text"):
                    stext = line.split("=", 1)[1].strip()
                continue
            p = line.split("\t")
            if len(p) < 11 or "-" in p[0] or "." in p[0]:
                continue
            toks.append(p[1])
            tags.append(p[-1])
            spaces.append("SpaceAfter=No" not in p[9])
    flush()
    return docs


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", s).lower()


def read_ronec_json(path: Path, half: int | None = None) -> list[Doc]:
    """RONEC v2 JSON split (list of {tokens, ner_tags, space_after}); with `half` 0 or 1 only
    the sentences at even or odd positions (one half trains, the other is held out)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if half is not None:
        data = data[half::2]
    return [_bio_doc(f"ronec-v2/{d['id']}", d["tokens"], d["ner_tags"], d["space_after"], RONEC_TYPES, True)
            for d in data]


def read_conll(path: Path) -> list[Doc]:
    """CoNLL-2003 (idx TAB token TAB tag); one Doc per -DOCSTART- document, sentences on lines."""
    docs = []
    sents: list[tuple[list, list]] = []
    toks: list[str] = []
    tags: list[str] = []

    def flush_doc():
        if sents:
            all_t, all_g, sp = [], [], []
            for t, g in sents:
                all_t += t
                all_g += g + []
                sp += [True] * len(t)
            # sentences joined by newlines: the space after a sentence's last token becomes "\n"
            d = _bio_doc(f"conll/{path.stem}/{len(docs)}", all_t, all_g, sp, CONLL_TYPES)
            text = list(d.text)
            pos = 0
            for t, _ in sents:
                pos += sum(len(x) + 1 for x in t)
                if pos - 1 < len(text):
                    text[pos - 1] = "\n"
            docs.append(Doc(d.doc_id, "".join(text), d.spans))
        sents.clear()

    with open(path, encoding="utf-8") as fh:
        for line in fh:
            p = line.rstrip("\n").split("\t")
            if len(p) < 3:
                if toks:
                    sents.append((toks, tags))
                toks, tags = [], []
                continue
            if p[1] == "-DOCSTART-":
                if toks:
                    sents.append((toks, tags))
                toks, tags = [], []
                flush_doc()
                continue
            toks.append(p[1])
            tags.append(p[2])
    if toks:
        sents.append((toks, tags))
    flush_doc()
    return docs


def read_bsnlp(root: Path, lang: str, topics: set[str] | None = None) -> list[Doc]:
    """BSNLP documents of one language (raw/<topic>/<lang>/*.txt with ner/.../*.tsv)."""
    docs = []
    for txt in sorted((root / "raw").glob(f"*/{lang}/*.txt")):
        topic = txt.parent.parent.name
        if topics is not None and topic not in topics:
            continue
        tsv = root / "ner" / topic / lang / (txt.stem + ".tsv")
        if not tsv.exists():
            continue
        text = txt.read_text(encoding="utf-8")
        spans = []
        for line in tsv.read_text(encoding="utf-8").splitlines():
            p = line.split("\t")
            if len(p) >= 5 and p[0].isdigit() and p[1].isdigit():
                spans.append((int(p[0]), int(p[1]), p[4]))
        docs.append(Doc(f"bsnlp/{topic}/{lang}/{txt.stem}", text, outermost(spans)))
    return docs
