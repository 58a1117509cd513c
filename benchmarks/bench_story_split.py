"""What splitting a story costs the Stories page, on a built store's largest stories.

    python benchmarks/bench_story_split.py STORE [--stories 3] [--splits 0.5 0.8]

For each of the store's largest stories (by articles, copies included) and each link strength:
the parts (`query.story_parts`: the story's links read and clustered again, then described),
the links the split cut (`query.story_cut`) and the mask of part 1 (`counted_mask` with `part`),
each timed once in this process (the first call pays the read; the app then caches it); per story
its related stories (`query.related_stories`) and the split profile (`query.story_split_profile`: one clustering per strength of
`query.SPLIT_STEPS`; not drawn above PROFILE_MAX_LINKS links); then, for span=languages and
span=outlets, the per-story flags (once per index) and the Stories list.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from presslens import index, query, store  # noqa: E402
from presslens.query import Filters  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store")
    ap.add_argument("--stories", type=int, default=3)
    ap.add_argument("--skip", type=int, default=0, help="start after this many of the largest stories")
    ap.add_argument("--splits", type=float, nargs="+", default=[0.5, 0.8])
    args = ap.parse_args()
    info = store.current(args.store)
    if info is None:
        print(f"no store at {args.store}", file=sys.stderr)
        return 2
    t = time.perf_counter()
    ix = index.load(str(info.directory))
    print(f"index load {time.perf_counter() - t:.2f} s")
    counts = np.bincount(np.asarray(ix.story))
    for code in np.argsort(-counts, kind="stable")[args.skip:args.skip + args.stories]:
        sid = ix.stories[int(code)]
        n_links = query.story_links_count(ix, sid)  # reads the story's links once (the queries reuse them)
        t = time.perf_counter()
        profile = query.story_split_profile(ix, Filters.make(story=sid))
        print(f"story {sid}: {counts[code]:,} articles, {n_links:,} links: profile {(time.perf_counter() - t) * 1000:.0f} ms "
              + (f"(parts by strength {profile['parts'].to_list()})" if profile.height
                 else f"(not drawn: over {query.PROFILE_MAX_LINKS:,} links)"))
        f = Filters.make(story=sid)
        query.counted_mask(ix, Filters())  # the view's mask, cached in the app
        t = time.perf_counter()
        related = query.related_stories(ix, f)
        print(f"story {sid}: related stories {(time.perf_counter() - t) * 1000:.0f} ms ({related.height} listed)")
        for split in args.splits:
            f = Filters.make(story=sid, split=split)
            t = time.perf_counter()
            parts = query.story_parts(ix, f)
            t_parts = time.perf_counter() - t
            t = time.perf_counter()
            cut = query.story_cut(ix, f)
            t_cut = time.perf_counter() - t
            t = time.perf_counter()
            n = int(query.counted_mask(ix, f.with_(part=1)).sum())
            t_mask = time.perf_counter() - t
            print(f"story {sid}: {counts[code]:,} articles, {n_links:,} links, split {split:g}: {parts.height} parts "
                  f"(largest {parts['articles'].max()}), {cut.height} cut links shown; parts {t_parts * 1000:.0f} ms, "
                  f"cut {t_cut * 1000:.0f} ms, part-1 mask {t_mask * 1000:.0f} ms ({n} articles)")
    for span in ("languages", "outlets"):
        t = time.perf_counter()
        n = int(query._spanning(ix, span).sum())
        t_mask = time.perf_counter() - t
        t = time.perf_counter()
        listed = query.story_list(ix, Filters.make(story_span=span))
        print(f"span={span}: {n:,} of {ix.stories.len():,} stories span; per-story flags {t_mask * 1000:.0f} ms (once "
              f"per index), story list {(time.perf_counter() - t) * 1000:.0f} ms ({listed.height} listed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
