"""Where a full build's CPU time goes, per article: enrichment, the workers' other steps
and the client's assembly and post-build hooks (stories, search index, serving index).

    nice python benchmarks/profile_build.py [--articles 2000] [--top 0] [--rebuild 0.01] [--reuse]

Builds a corpus of real news texts (benchmarks/bench_build.py's recipe: BSNLP ru/uk
articles, repeated with shuffled sentences) in one process (workers=1, so every step is
in the profile), under cProfile, and prints CPU ms per article of each step (cumulative
time of its function; the profiler's overhead inflates the Python-heavy steps, so compare
shares, and use bench_build.py for throughput). --top N adds the N functions with the most
own time. --rebuild F profiles instead an incremental rebuild after changing a share F of the
files (bench_build.py's `touch`; the full build before it runs unprofiled on 2 workers);
--reuse keeps the corpus and store of the last run in --workdir (each run changes other files).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_build import DEFAULT_TEXTS, make_real_corpus, touch  # noqa: E402

from presslens import build as b  # noqa: E402

# (label, file suffix, function name) of the steps reported, in build order.
STEPS = [
    ("enrich (all steps)", "presslens/enrich/__init__.py", "enrich"),
    ("  entities", "presslens/enrich/entities.py", "extract"),
    ("  language", "presslens/enrich/language.py", "detect"),
    ("  sources", "presslens/enrich/sources.py", "cited"),
    ("story text evidence (workers)", "presslens/stories.py", "text_evidence"),
    ("shard writes (workers)", "presslens/build.py", "_write_shard"),
    ("assembly (client, all)", "presslens/build.py", "_assemble"),
    ("planning (client)", "presslens/build.py", "_plan"),
    ("  entities table", "presslens/build.py", "_entities_table"),
    ("  story grouping hook", "presslens/build.py", "_group_stories"),
    ("  post-build hooks", "presslens/build.py", "_post_build"),
    ("    search index", "presslens/search.py", "build"),
    ("    serving index", "presslens/build.py", "_build_index"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--texts", default=DEFAULT_TEXTS)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/presslens-profile-build"))
    ap.add_argument("--top", type=int, default=0)
    ap.add_argument("--rebuild", type=float, default=0.0)
    ap.add_argument("--reuse", action="store_true")
    args = ap.parse_args()
    corpus, st = args.workdir / "corpus", args.workdir / "store"
    if not (args.reuse and st.exists()):
        shutil.rmtree(args.workdir, ignore_errors=True)
        make_real_corpus(corpus, args.articles, args.texts)
        if args.rebuild:
            t = time.perf_counter()
            b.build(corpus, st, workers=2)
            print(f"full build (2 workers, unprofiled): {time.perf_counter() - t:.1f} s")
    from presslens.enrich import warm

    warm()
    if args.rebuild:
        print(f"changed {touch(corpus, args.rebuild, seed=time.time_ns() % 100_000)} files")
    prof = cProfile.Profile(time.process_time)
    c0 = time.process_time()
    prof.enable()
    w0 = time.perf_counter()
    s = b.build(corpus, st, workers=1)
    prof.disable()
    print(f"wall {time.perf_counter() - w0:.2f} s (under cProfile)")
    total = time.process_time() - c0
    n = s["articles"]
    stats = pstats.Stats(prof)
    print(f"{n} articles, one process, under cProfile: {1000 * total / n:.2f} ms CPU per article in all")
    for label, suffix, fn in STEPS:
        cum = sum(v[3] for (f, _line, name), v in stats.stats.items() if f.endswith(suffix) and name == fn)
        print(f"  {label:<32} {1000 * cum / n:7.2f} ms  {100 * cum / total:5.1f}%")
    if args.top:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
