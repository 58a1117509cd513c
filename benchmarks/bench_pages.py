"""Server-side time of every dashboard page under several filters, the serving index's load
time, peak memory, and the entity questions side by side with DuckDB over the same Parquet.

    python benchmarks/bench_pages.py --store /tmp/pl-100k [--runs 5] [--sessions 20]
    python benchmarks/generate.py store /tmp/pl-1m --articles 1000000   # a store to measure

Runs the real app script through streamlit.testing.v1.AppTest (no browser: this is the
Python time a page costs the server per rerun, which is what grows with the corpus).
PRESSLENS_CORPUS points at a folder that does not exist, so the prebuilt store is used.

What is printed:
- index load: memory-mapping the serving index (what the first session of a server pays).
- first render: the first page of a fresh server (index load + every query uncached).
- per page x filter (none, a language, an entity, a date range, a search word, the largest story):
  "new view" = a rerun whose query results are not cached yet (st.cache_data cleared
  before every run; the index stays loaded, as in a running server), median and worst of
  --runs; "cached" = the same view again (what a widget click that changes nothing costs).
  Each as wall time and as CPU time, of AppTest.run() (this process) and of the thread
  that runs the page script (the server's work; AppTest also converts every message into
  its element tree, which a server does not). On a shared machine wall time grows with
  the other work; CPU time is the comparable figure.
- first view of a new search word: on every page, --new-words words that no view has
  searched yet (the full-text search, the masks and the counts all new), median and worst.
- peak RSS of this process after every page and filter (the app's memory; measured
  before DuckDB runs), and after --sessions more sessions with distinct filters.
- entity questions (top-20 entities unfiltered and filtered by a language, one entity by
  month, co-mentions of one entity), each through presslens.query (per-process memo
  cleared before every run) and as SQL in DuckDB over the store's Parquet files
  (doc_entities + articles), median of --runs, with the ratio and whether the answers agree.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ["overview", "sources", "languages", "entities", "articles", "stories", "health"]
# A word of the generated titles (benchmarks/generate.py TOPICS) in ~5% of the articles.
SEARCH_WORD = "drones"


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_now() -> str:
    """Current resident memory split into anonymous (heap) and file-backed (memory-mapped
    index pages, libraries), from /proc/self/status (Linux; empty elsewhere)."""
    try:
        status = dict(line.split(":", 1) for line in open("/proc/self/status", encoding="ascii"))
    except OSError:
        return ""
    mb = {k: int(status[k].split()[0]) / 1024 for k in ("VmRSS", "RssAnon", "RssFile") if k in status}
    return f" (now {mb.get('VmRSS', 0):.0f} MB: {mb.get('RssAnon', 0):.0f} anonymous, {mb.get('RssFile', 0):.0f} file-backed)"


def _timed(fn, runs: int, before=None, cpu: list[float] | None = None) -> list[float]:
    """Wall seconds of `runs` calls of fn (CPU seconds of this process appended to `cpu`)."""
    out = []
    for _ in range(runs):
        if before:
            before()
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - t)
        if cpu is not None:
            cpu.append(time.process_time() - c)
    return out


def _ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:5.0f} {max(xs) * 1000:5.0f}"


# (wall, CPU) seconds of the last script run, measured in the thread that runs the script:
# the server's own work for a rerun. AppTest.run also turns every message into its
# element tree in this thread (dataframes to pandas, figures from JSON), which a server
# never does; that is in the AppTest figures, not in these.
SCRIPT: dict[str, float] = {}


def _measure_script_thread() -> None:
    from streamlit.testing.v1 import local_script_runner as lsr

    run = lsr.LocalScriptRunner._run_script_thread

    def timed(self):
        t, c = time.perf_counter(), time.thread_time()
        try:
            run(self)
        finally:
            SCRIPT["wall"], SCRIPT["cpu"] = time.perf_counter() - t, time.thread_time() - c

    lsr.LocalScriptRunner._run_script_thread = timed


def page_runs(args, info, filters: dict[str, dict]) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    _measure_script_thread()

    def app(page: str, params: dict) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        for k, v in params.items():
            at.query_params[k] = v
        at.switch_page(f"pages/{page}.py")
        return at

    st.cache_data.clear()
    st.cache_resource.clear()
    at = app("overview", {})
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    if at.exception:
        raise SystemExit(f"overview: {at.exception[0].message}")
    print(f"first render (fresh server: index load + uncached queries, overview page): {first * 1000:.0f} ms "
          f"(script {SCRIPT['wall'] * 1000:.0f} ms, {SCRIPT['cpu'] * 1000:.0f} ms CPU)")
    print("\nms, median and worst of --runs. AppTest: AppTest.run() wall and CPU time of the process; script: wall")
    print("and CPU time of the thread running the page script (the server's work, without AppTest turning")
    print("the messages into its element tree). On a shared machine other work inflates wall, not CPU.")
    print(f"\n{'':21s} {'------------- new view (query results not cached) -------------':>63s} {'------ cached ------':>24s}")
    print(f"{'page':10s} {'filter':10s} {'AppTest wall':>15s} {'AppTest cpu':>15s} {'script wall':>15s} {'script cpu':>15s}"
          f" {'AppTest wall':>12s} {'script cpu':>11s}")
    rows: dict[str, list] = {"AppTest wall": [], "AppTest cpu": [], "script wall": [], "script cpu": []}
    for page in args.pages.split(","):
        for fname, params in filters.items():
            at = app(page, params)
            new_cpu, s_wall, s_cpu = [], [], []

            def run_new() -> None:
                at.run()
                s_wall.append(SCRIPT["wall"])
                s_cpu.append(SCRIPT["cpu"])

            new = _timed(run_new, args.runs, before=st.cache_data.clear, cpu=new_cpu)
            if at.exception:
                print(f"{page:10s} {fname:10s} EXCEPTION {at.exception[0].message}")
                continue
            c_cpu: list[float] = []

            def run_cached() -> None:
                at.run()
                c_cpu.append(SCRIPT["cpu"])

            cached = _timed(run_cached, args.runs)
            for name, xs in zip(rows, (new, new_cpu, s_wall, s_cpu)):
                rows[name].append((max(xs), statistics.median(xs), page, fname))
            print(f"{page:10s} {fname:10s} {_ms(new):>15s} {_ms(new_cpu):>15s} {_ms(s_wall):>15s} {_ms(s_cpu):>15s}"
                  f" {_ms(cached):>12s} {_ms(c_cpu):>11s}", flush=True)
    print()
    for label, rs in rows.items():
        meds = sorted(m for _, m, _, _ in rs)
        slow = max(rs, key=lambda r: r[1])
        print(f"new views, {label:12s}: median of medians {statistics.median(meds) * 1000:4.0f} ms, slowest median "
              f"{meds[-1] * 1000:4.0f} ms ({slow[2]} / {slow[3]}), worst single run {max(rs)[0] * 1000:5.0f} ms "
              f"({max(rs)[2]} / {max(rs)[3]})")
    print(f"peak RSS after every page and filter: {rss_mb():.0f} MB{rss_now()}")
    if args.new_words:
        new_word_runs(args, app)
    if args.sessions:
        words = ["missiles", "sanctions", "summit", "talks", "treaty", "border", "army", "visit", "envoy", "energy"]
        for i in range(args.sessions):
            params = {"q": words[i % len(words)]} if i % 2 else {"lang": ["ru", "uk", "ro", "en"][i % 4], "from": f"202{1 + i % 4}-01-01"}
            at = app(PAGES[i % len(PAGES)], params)
            at.run()
        print(f"peak RSS after {args.sessions} more sessions with distinct filters: {rss_mb():.0f} MB{rss_now()}")


def new_word_runs(args, app) -> None:
    """The first view of a search word no page has asked for yet, on every page (what an
    analyst pays typing a new word wherever they are): --new-words words per page, dealt
    round-robin from the generator's topics by frequency so every page gets frequent ones."""
    import streamlit as st

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import TOPICS

    pages = args.pages.split(",")
    pool = [w for w in TOPICS if w != SEARCH_WORD]
    print(f"\nfirst view of a new search word (never searched in this process), script wall / CPU ms:")
    worst: list[tuple[float, float, str, str]] = []
    for i, page in enumerate(pages):
        words = pool[i::len(pages)][:args.new_words]
        walls, cpus = [], []
        for word in words:
            at = app(page, {"q": word})
            st.cache_data.clear()
            at.run()
            if at.exception:
                print(f"{page:10s} {word}: EXCEPTION {at.exception[0].message}")
                continue
            walls.append(SCRIPT["wall"])
            cpus.append(SCRIPT["cpu"])
            worst.append((SCRIPT["wall"], SCRIPT["cpu"], page, word))
        if walls:
            print(f"{page:10s} {', '.join(words):36s} wall median {statistics.median(walls) * 1000:4.0f} worst "
                  f"{max(walls) * 1000:4.0f}   cpu median {statistics.median(cpus) * 1000:4.0f} worst {max(cpus) * 1000:4.0f}",
                  flush=True)
    if worst:
        w = max(worst)
        print(f"new words: median {statistics.median(x[0] for x in worst) * 1000:.0f} ms, worst {w[0] * 1000:.0f} ms "
              f"wall ({w[2]} / {w[3]}), worst CPU {max(x[1] for x in worst) * 1000:.0f} ms")


def entity_questions(args, info, eid: str, lang: str) -> None:
    import duckdb

    from presslens import index, query as q
    from presslens.query import Filters

    ix = index.load(info.directory, attach_search=False)
    d = info.directory
    con = duckdb.connect()
    con.execute(f"CREATE VIEW a AS SELECT * FROM read_parquet('{d / 'articles.parquet'}')")
    con.execute(f"CREATE VIEW de AS SELECT * FROM read_parquet('{d / 'doc_entities.parquet'}')")
    orig = "a.duplicate_of IS NULL"
    sql = {
        "top-20 entities, unfiltered": (
            f"SELECT entity_id, sum(mentions) m, count(*) n FROM de JOIN a USING (doc_id) WHERE {orig} "
            "GROUP BY 1 ORDER BY m DESC, n DESC, entity_id LIMIT 20"),
        f"top-20 entities, language={lang}": (
            f"SELECT entity_id, sum(mentions) m, count(*) n FROM de JOIN a USING (doc_id) WHERE {orig} "
            f"AND a.language = '{lang}' GROUP BY 1 ORDER BY m DESC, n DESC, entity_id LIMIT 20"),
        "one entity by month": (
            f"SELECT date_trunc('month', a.published) p, sum(mentions) m, count(*) n FROM de JOIN a USING (doc_id) "
            f"WHERE {orig} AND de.entity_id = '{eid}' AND a.published IS NOT NULL GROUP BY 1 ORDER BY 1"),
        "co-mentions of one entity": (
            f"WITH d AS (SELECT doc_id FROM de WHERE entity_id = '{eid}') "
            f"SELECT de.entity_id, count(*) n, sum(mentions) m FROM de JOIN d USING (doc_id) JOIN a USING (doc_id) "
            f"WHERE {orig} AND de.entity_id <> '{eid}' GROUP BY 1 ORDER BY n DESC, m DESC, entity_id LIMIT 20"),
    }
    ours = {
        "top-20 entities, unfiltered": lambda: q.top_entities(ix, Filters(), limit=20),
        f"top-20 entities, language={lang}": lambda: q.top_entities(ix, Filters.make(languages=(lang,)), limit=20),
        "one entity by month": lambda: q.entity_over_time(ix, Filters(), eid, "1mo"),
        "co-mentions of one entity": lambda: q.cooccurring(ix, Filters(), eid, 20),
    }
    print(f"\nentity questions (entity {eid}, the most mentioned), median of {args.runs} runs:")
    print(f"{'question':34s} {'presslens ms':>13s} {'DuckDB ms':>10s} {'ratio':>7s}  same answer")
    for name, stmt in sql.items():
        con.execute(stmt).fetchall()  # DuckDB: first run reads the Parquet metadata
        t_db = _timed(lambda: con.execute(stmt).fetchall(), args.runs)
        t_us = _timed(ours[name], args.runs, before=ix._memo.clear)
        res_db = con.execute(stmt).fetchall()
        res = ours[name]()
        if "month" in name:
            same = [int(r[1]) for r in res_db] == res["mentions"].to_list()
        elif "co-mentions" in name:
            same = [r[0] for r in res_db] == res["entity_id"].to_list()
        else:
            same = [r[0] for r in res_db] == res["entity_id"].to_list()
        mu, md = statistics.median(t_us), statistics.median(t_db)
        print(f"{name:34s} {mu * 1000:13.1f} {md * 1000:10.1f} {md / mu:6.0f}x  {'yes' if same else 'NO'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sessions", type=int, default=20, help="extra sessions for the shared-memory check (0: skip)")
    ap.add_argument("--skip-pages", action="store_true", help="only the index load and the entity questions")
    ap.add_argument("--pages", default=",".join(PAGES), help="comma-separated pages to time (default: all)")
    ap.add_argument("--new-words", type=int, default=3,
                    help="per page, time the first view of this many search words not searched before (0: skip)")
    ap.add_argument("--skip-exports", action="store_true",
                    help="replace ui.exports() by a no-op (the eager export of the whole view on every rerun, "
                         "which the on-demand streaming export replaces) to time the rest of the Articles page")
    args = ap.parse_args()
    os.environ["PRESSLENS_STORE"] = str(Path(args.store).resolve())
    os.environ["PRESSLENS_CORPUS"] = "/nonexistent-presslens-corpus"
    os.chdir(ROOT)

    import numpy as np
    import polars as pl

    from presslens import index, store

    info = store.current(args.store)
    if info is None:
        raise SystemExit(f"no store at {args.store}")
    print(f"store {info.version}: {info.manifest.get('articles'):,} articles, {info.manifest.get('mentions'):,} mentions"
          f" (import: tables {info.manifest.get('tables_seconds')} s, index {info.manifest.get('index_seconds')} s)")
    t = time.perf_counter()
    ix = index.load(info.directory, attach_search=False)
    print(f"index load: {(time.perf_counter() - t) * 1000:.0f} ms "
          f"({sum(f.stat().st_size for f in (info.directory / index.INDEX_DIR).iterdir()) / 2**20:.0f} MB on disk)")
    top = ix.entities.with_row_index("code").sort(["mention_count", "entity_id"], descending=[True, False])
    eid = top["entity_id"][0]
    mid = top["entity_id"][2]
    lang = ix.languages.to_list()[int(pl.Series(ix.lang).value_counts(sort=True)[0, 0])]
    # the largest story: the Stories page opens it (timeline, shared evidence from its links,
    # each outlet's version); on the other pages it is one more filter
    story = (ix.stories[int(np.argmax(np.bincount(np.asarray(ix.story))))]
             if ix.stories is not None and len(ix.stories) else None)
    del ix
    filters = {
        "none": {},
        "language": {"lang": lang},
        "entity": {"entity": mid},
        "dates": {"from": "2022-03-01", "to": "2022-08-31"},
        "search": {"q": SEARCH_WORD},
        **({"story": {"story": story}} if story is not None else {}),
    }
    if args.skip_exports:
        from presslens import ui

        ui.exports = lambda: None
        print("(Articles page timed without the eager export block: --skip-exports)")
    if not args.skip_pages:
        page_runs(args, info, filters)
    entity_questions(args, info, eid, lang)
    print(f"\npeak RSS of the whole run (DuckDB included): {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
