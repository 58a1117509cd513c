"""Load benchmark: many concurrent sessions clicking through every page of the real app.

    python benchmarks/bench_load.py --store STORE [--sessions 20] [--seconds 60] [--extra 20]

Starts `streamlit run app.py` on localhost (the project's .streamlit/config.toml applies)
with PRESSLENS_STORE=STORE, then drives it with websocket clients that speak Streamlit's
own protocol (the BackMsg/ForwardMsg protobufs the browser sends and receives), so twenty
sessions cost the server what twenty browsers would, without twenty Chromiums on the
machine. Each session opens the landing page, then for `--seconds` goes round every page
of the navigation, every third step with a shared-link filter (a language, the undated
articles...), and times each rerun from the request to the server's "script finished".

Reported: reruns done, errors (exceptions drawn on a page, runs that did not finish,
dropped connections), rerun time percentiles, the server's peak RSS (VmHWM), and memory per
session: after the timed phase the sessions stay connected, `--extra` more sessions each go
once round every page with the same filters (every query is then a cache hit, so what they
add is their own session state), and the RSS growth divided by their number is printed.

The store is served as it is: PRESSLENS_CORPUS is set to a folder that does not exist, so
the app never rebuilds a generated store (a generated store's manifest may name the seed
corpus; an existing empty folder would let an app without store protection rebuild the
store from nothing).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Shared-link filters mixed into the click path (every third step): a few distinct views
# per page, as colleagues' links would bring; the empty string is the whole corpus.
FILTERS = ["", "lang=ru", "lang=en&lang=uk", "undated=1", "q=Putin"]
# A rerun that has not finished after this long counts as an error (the page hangs).
RUN_TIMEOUT_S = 120.0
# How often the server's memory is sampled.
RSS_EVERY_S = 0.25


def _rss_kb(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process in kB, from /proc/PID/status."""
    cur = peak = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1])
    return cur, peak


class SessionStopped(Exception):
    """A session gave up (a run did not finish in time); the error is already recorded."""


@dataclass
class Stats:
    times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    runs: int = 0


class Session:
    """One browser tab: a websocket to /_stcore/stream speaking BackMsg/ForwardMsg."""

    def __init__(self, base: str, stats: Stats, name: str):
        self.base, self.stats, self.name = base, stats, name
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash
        self.ws = None

    async def connect(self) -> None:
        import websockets

        url = self.base.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = await websockets.connect(url, subprotocols=["streamlit"], origin=self.base,
                                           max_size=None, open_timeout=60, ping_interval=None)

    async def run(self, page_hash: str = "", page_name: str = "", query: str = "") -> float | None:
        """Ask for one script run (a page open or a navigation click); seconds until finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = query
        cs.page_script_hash = page_hash
        cs.page_name = page_name
        cs.context_info.timezone = "UTC"
        cs.context_info.locale = "en-US"
        cs.context_info.url = f"{self.base}/{page_name}{'?' + query if query else ''}"
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        where = f"{self.name} {page_name or page_hash[:8] or '/'}?{query}"
        while True:
            left = RUN_TIMEOUT_S - (time.perf_counter() - started)
            try:
                raw = await asyncio.wait_for(self.ws.recv(), timeout=max(left, 0.01))
            except asyncio.TimeoutError:
                self.stats.errors.append(f"{where}: no 'script finished' after {RUN_TIMEOUT_S:.0f} s")
                # Its late messages would be taken for the next run's: this session stops here.
                raise SessionStopped(where) from None
            except Exception as exc:  # connection dropped
                self.stats.errors.append(f"{where}: connection lost ({type(exc).__name__}: {exc})")
                raise
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in fm.navigation.app_pages}
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                if fm.delta.new_element.WhichOneof("type") == "exception":
                    ex = fm.delta.new_element.exception
                    self.stats.errors.append(f"{where}: exception on the page: {ex.type} {ex.message[:200]}")
            elif kind == "script_finished":
                status = fm.script_finished
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    self.stats.errors.append(f"{where}: script failed to compile")
                if status in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR):
                    took = time.perf_counter() - started
                    self.stats.times.append(took)
                    self.stats.runs += 1
                    return took
                # FINISHED_EARLY_FOR_RERUN: the app switched page or reran; the run goes on.

    async def tour(self, until: float | None, offset: int) -> None:
        """Open the landing page, then click through every page until `until` (or once)."""
        try:
            await self._tour(until, offset)
        except SessionStopped:
            await self.close()

    async def _tour(self, until: float | None, offset: int) -> None:
        await self.run()
        if not self.pages:
            self.stats.errors.append(f"{self.name}: the app sent no navigation (no pages)")
            return
        names = list(self.pages)
        step = offset
        while True:
            for name in names:
                query = FILTERS[(step // 3) % len(FILTERS)] if step % 3 == 0 else ""
                await self.run(self.pages[name], name, query)
                step += 1
                if until is not None and time.perf_counter() >= until:
                    return
            if until is None:
                return

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def _drive(base: str, pid: int, sessions: int, seconds: float, extra: int) -> dict:
    stats = Stats()
    samples: list[tuple[float, int]] = []
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            samples.append((time.perf_counter(), _rss_kb(pid)[0]))
            await asyncio.sleep(RSS_EVERY_S)

    sampler = asyncio.create_task(sample())
    # Warm-up: one session loads the store and every page once (first-load costs apart).
    warm = Session(base, Stats(), "warm-up")
    await warm.connect()
    await warm.tour(None, 0)
    await warm.close()
    rss_warm = _rss_kb(pid)[0]

    tabs = [Session(base, stats, f"s{i:02d}") for i in range(sessions)]
    await asyncio.gather(*(t.connect() for t in tabs))
    until = time.perf_counter() + seconds
    t0 = time.perf_counter()
    results = await asyncio.gather(*(t.tour(until, i) for i, t in enumerate(tabs)), return_exceptions=True)
    load_seconds = time.perf_counter() - t0
    for r in results:
        if isinstance(r, Exception) and not stats.errors:
            stats.errors.append(f"session failed: {type(r).__name__}: {r}")
    await asyncio.sleep(2)
    rss_after_load = _rss_kb(pid)[0]

    # Memory per session: `extra` more sessions, each once round every page (cache hits).
    extra_stats = Stats()
    more = [Session(base, extra_stats, f"x{i:02d}") for i in range(extra)]
    for s in more:  # one after the other: their memory, not a burst of concurrent work
        await s.connect()
        await s.tour(None, 0)
    await asyncio.sleep(2)
    rss_after_extra = _rss_kb(pid)[0]
    await asyncio.gather(*(t.close() for t in tabs + more), return_exceptions=True)
    stop.set()
    await sampler
    return {"stats": stats, "extra": extra_stats, "rss_warm": rss_warm, "rss_after_load": rss_after_load,
            "rss_after_extra": rss_after_extra, "peak": _rss_kb(pid)[1], "load_seconds": load_seconds,
            "samples": samples}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", required=True, help="a built store (e.g. from benchmarks/generate.py)")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--extra", type=int, default=20, help="sessions added afterwards to measure memory per session")
    ap.add_argument("--log", default=None, help="server log file (default: a temporary file)")
    args = ap.parse_args()
    try:
        import websockets  # noqa: F401
    except ImportError:
        print("bench_load needs the websockets package: pip install -r requirements-dev.txt", file=sys.stderr)
        return 2
    store_dir = Path(args.store).resolve()
    sys.path.insert(0, str(ROOT))
    from presslens import store

    info = store.current(store_dir)
    if info is None:
        print(f"No store at {store_dir}", file=sys.stderr)
        return 2
    from presslens import devserver

    scratch = Path(tempfile.mkdtemp(prefix="presslens-bench-"))
    no_corpus = scratch / "no-corpus"  # never created: the store is served as it is
    log_path = Path(args.log) if args.log else Path(tempfile.mkstemp(prefix="presslens-bench-", suffix=".log")[1])
    try:
        with devserver.streamlit_server(store_dir, no_corpus, log_path, timeout=120) as (base, proc):
            rss_idle = _rss_kb(proc.pid)[0]
            out = asyncio.run(_drive(base, proc.pid, args.sessions, args.seconds, args.extra))
    except devserver.ServerDidNotStart:
        print(f"streamlit did not start; log: {log_path}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    s: Stats = out["stats"]
    x: Stats = out["extra"]
    per_session = (out["rss_after_extra"] - out["rss_after_load"]) / max(args.extra, 1)
    print(f"store: {store_dir} ({info.manifest.get('articles', '?')} articles, version {info.version})")
    print(f"load: {args.sessions} concurrent sessions for {out['load_seconds']:.0f} s "
          f"(websocket clients; {os.cpu_count()} cores, shared machine)")
    print(f"reruns: {s.runs} ({s.runs / out['load_seconds']:.1f}/s)   errors: {len(s.errors) + len(x.errors)}")
    for e in (s.errors + x.errors)[:10]:
        print(f"  error: {e}")
    if s.times:
        print(f"rerun time: p50 {_pct(s.times, 0.5) * 1000:.0f} ms, p95 {_pct(s.times, 0.95) * 1000:.0f} ms, "
              f"max {max(s.times) * 1000:.0f} ms, mean {statistics.mean(s.times) * 1000:.0f} ms")
    if x.times:
        print(f"single-session rerun time (after the load, cache warm): p50 {_pct(x.times, 0.5) * 1000:.0f} ms, "
              f"p95 {_pct(x.times, 0.95) * 1000:.0f} ms")
    mb = 1024
    print(f"server RSS: idle {rss_idle / mb:.0f} MB, after warm-up {out['rss_warm'] / mb:.0f} MB, "
          f"after the load {out['rss_after_load'] / mb:.0f} MB, peak {out['peak'] / mb:.0f} MB")
    print(f"memory per session: {per_session:.0f} kB ({args.extra} more sessions, each round every page once: "
          f"{out['rss_after_load'] / mb:.0f} -> {out['rss_after_extra'] / mb:.0f} MB)")
    print(f"server log: {log_path}")
    return 1 if (s.errors or x.errors) else 0


if __name__ == "__main__":
    sys.exit(main())
