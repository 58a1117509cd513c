"""Publication dates of saved web pages: presslens against htmldate alone.

Usage::

    python -m presslens.eval dates /work/shared/eval-dev/htmldate [--show-errors]

Input: ``gold.json`` (``{file: {"url": ..., "date": "YYYY-MM-DD"}}``) and ``pages/<file>``
(the saved HTML, bytes as downloaded) - the layout of htmldate's evaluation set.

Each page is read as the build reads it (presslens.ingest.html.read_html: decoding,
trafilatura's main text), its URL given as a metadata sidecar would give it, then
presslens.enrich.metadata.published picks the date. htmldate alone is
``find_date(html, original_date=True, url=url)`` on the same decoded page. Output: the
accuracy of both (exact day), how often each source won for us and how often it was
right, how many pages the reader rejected (no article text: their date is still scored
from the markup), the CPU ms per page of our date step (run first, on pages htmldate has
not cached) and how many pages needed htmldate.
"""
from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path


def load_gold(root: Path) -> dict[str, dict]:
    """{file: {"url": str, "date": "YYYY-MM-DD"}} from gold.json."""
    return json.loads((root / "gold.json").read_text(encoding="utf-8"))


def evaluate(root: Path, show_errors: bool = False, out=sys.stdout) -> dict:
    """Score ours and htmldate alone on every page of gold.json; print; return figures."""
    from htmldate import find_date
    from htmldate.meta import reset_caches

    from presslens.enrich import boilerplate, metadata
    from presslens.ingest import html as html_mod
    from presslens.ingest.html import read_html
    from presslens.ingest.text import decode
    from presslens.records import RawRecord

    gold = load_gold(root)
    n = ours_right = alone_right = rejected = 0
    won: Counter = Counter()
    won_right: Counter = Counter()
    cpu_ours = 0.0
    htmldate_asked = 0
    errors = []
    for name, g in sorted(gold.items()):
        path = root / "pages" / name
        if not path.exists():
            print(f"warning: {path} is missing, skipped", file=sys.stderr)
            continue
        data = path.read_bytes()
        n += 1
        records, _rejects = read_html(data, name)
        if records:
            record = records[0]
        else:
            rejected += 1
            record = RawRecord(path=name, text="", html=decode(data, None).text)
        record.url = g.get("url") or record.url
        record.provenance["url"] = "sidecar"
        spans = boilerplate.find(record.text)
        reset_caches()
        t0 = time.process_time()
        asked = html_mod.HTMLDATE_CALLS
        ev = metadata.published(record, record.text, spans, "und")
        cpu_ours += time.process_time() - t0
        htmldate_asked += html_mod.HTMLDATE_CALLS > asked
        got = ev.value.isoformat() if ev.value else None
        right = got == g["date"]
        ours_right += right
        won[ev.source] += 1
        won_right[ev.source] += right

        html = record.html or decode(data, None).text
        try:
            alone = find_date(html, original_date=True, url=g.get("url"))
        except Exception:  # htmldate raises on some markup: counted as no date
            alone = None
        alone_right += alone == g["date"]
        if not right:
            errors.append((name, g["date"], got, ev.source, ev.evidence[:120], alone))
    if not n:
        print("error: no pages scored", file=out)
        return {}
    print(f"pages: {n} (reader rejected {rejected} as having no article text; their dates are "
          "scored from the markup)", file=out)
    print(f"ours:           {ours_right / n:.3f} ({ours_right}/{n})  date step CPU {cpu_ours / n * 1000:.1f} "
          f"ms/page; htmldate asked on {htmldate_asked} pages (when the other sources do not agree)", file=out)
    print(f"htmldate alone: {alone_right / n:.3f} ({alone_right}/{n})  find_date(original_date=True, url=...)",
          file=out)
    print("winning source (ours): " + ", ".join(
        f"{src} {won[src]} ({won_right[src]} right)" for src in sorted(won, key=lambda s: -won[s])), file=out)
    if show_errors:
        for e in errors:
            print("  wrong: " + " | ".join(map(str, e)), file=out)
    return {"n": n, "ours": ours_right / n, "htmldate": alone_right / n, "won": dict(won),
            "won_right": dict(won_right), "rejected": rejected, "errors": errors}


def add_parser(sub) -> None:
    """Register the `dates` subcommand on an argparse subparsers object."""
    p = sub.add_parser("dates", help="publication dates of web pages: ours vs htmldate alone")
    p.add_argument("root", type=Path)
    p.add_argument("--show-errors", action="store_true", help="list the pages we got wrong")
    p.set_defaults(run=run)


def run(args) -> int:
    root: Path = args.root
    if not (root / "gold.json").is_file() or not (root / "pages").is_dir():
        print(f"error: {root} has no gold.json and pages/ folder (expected the htmldate layout)", file=sys.stderr)
        return 2
    evaluate(root, args.show_errors)
    return 0
