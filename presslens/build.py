"""Build a store from a corpus folder: ingest -> enrich -> Parquet, incremental and parallel.

In:  a corpus folder (any mix of txt/html/jsonl/json/csv/parquet, optional metadata.csv),
     as a local path or an fsspec URL (s3://, gs://, memory://, file://).
Out: a new published version of the store (presslens.store), local path or URL, and a
     summary dict.

How it scales:
- Each input file is keyed by its content hash, its sidecar row and PIPELINE_VERSION. A file
  whose size and mtime are unchanged is not even re-hashed; a file whose key is unchanged
  keeps its rows from the previous version. Only new or changed files are processed. When
  files were only touched (same content), a local store gets a version with the same data
  (hard links) whose files table records their new mtimes, so they are not hashed again.
- Changed files are cut into tasks (a few files each, fewer towards the end; see
  _task_sizes) and run by an engine: "local" (this process for a few files, else a pool
  of worker processes, one per core) or "dask" (a Dask cluster: a LocalCluster, or an
  existing scheduler). Every engine runs the same function, run_task; workers load their
  models once (enrich.warm) before the first file. A task that raises is retried file by
  file; a file whose own task still fails becomes a reject with the error as its reason,
  and the build goes on.
- A file is read in batches of at most `batch_records` records (ingest.read_batches:
  big exports are streamed), and each batch's rows go straight to a Parquet shard, so a
  worker's memory is bounded by the batch, not by the file or the corpus.
- The final tables are assembled lazily (polars, streaming sinks) from the shards and the
  previous version's reused rows, post-build steps add their files, and the version is
  published atomically (presslens.store.publish). A store given as a URL is built in a
  local staging copy (its live version is downloaded first) and uploaded; CURRENT is
  switched last, with one object write.
"""
from __future__ import annotations

import atexit
import gc
import hashlib
import json
import logging
import math
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import threading
import time
import types
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import polars as pl

from presslens import fsio, ingest, search, store
from presslens.records import Reject

Progress = Callable[[int, int], None]
log = logging.getLogger(__name__)

# The engines build() knows; the CLI offers exactly these.
ENGINES = ("local", "dask")

# Most files per worker task: large enough to amortise task round trips, small enough that
# the progress bar moves. Fewer when there is little to do (see _chunk_size).
CHUNK_FILES = 200
# Aim for this many tasks per worker, so the last tasks do not leave workers idle.
TASKS_PER_WORKER = 4
# Records (and characters of text) of consecutive files a worker enriches together
# (run_task, enrich_many): the entity model's decoding of a language's texts runs side by
# side, ~5x cheaper per article from a few dozen texts on (crf.viterbi_many); the bound
# keeps the batch's intermediate state (tokens, scores) to a few MB.
GATHER_RECORDS = 128
GATHER_CHARS = 1_000_000
# Fewest files per task when tasks shrink towards the end of a build (_task_sizes): a task
# has a fixed cost (story evidence set-up, three Parquet shards, ~15 ms), about one file's.
MIN_TASK_FILES = 10

# When this many files in a row failed in their own tasks before any task succeeded, the
# engine itself is broken (workers cannot start, the cluster is gone): the build stops.
FAILED_BEFORE_ABORT = 20

# Below this many files to process, the local engine works in this process: starting
# workers and loading the NLP models in each costs more than it saves. Each spawned worker
# pays ~1 s to start and import and ~5 s to load its models (enrich.warm, and simplemma's
# ru/uk dictionaries for the story lead words); enrichment is ~16 ms of CPU an article
# (bench_build.py, 10k real articles). With 2 workers the pool saves ~8 ms an article of
# wall time and costs ~1 s more to start, plus a second copy of the model loading in CPU:
# it pays off from ~120 files on an idle machine (later on a busy one).
PARALLEL_MIN_FILES = 120
# How often `build --watch` looks for changed files (stat only: ~0.13 s at 10,000 files).
WATCH_INTERVAL_S = 2.0
# ...but a look at a large corpus is long (100,000 files: ~1.1 s; 1M: ~10 s), so the watcher
# waits at least this many times its last look's duration before the next one: it uses at
# most ~1/(1+WATCH_LOOK_SPACING) of a core to look, however large the corpus.
WATCH_LOOK_SPACING = 4.0
# ...and starts a build at least this long after the previous one started, so files that keep
# arriving are taken together: every build publishes a version, and a replaced version stays
# on disk store.RETIRED_GRACE_S (600 s) for its readers (at 10,000 articles ~30 MB each, so a
# build every 2 s would keep ~9 GB; every 10 s at most ~1.8 GB).
WATCH_MIN_GAP_S = 10.0


def _sha1_file(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sidecar_hash(row: dict | None) -> str:
    if not row:
        return "-"
    return hashlib.sha1(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()[:12]


def doc_id_for(path: str, record: int | None, text: str) -> str:
    """Stable id: a hash of the text and where it sits (path, record), so two copies of the
    same text in two files get two ids (one points to the other through duplicate_of)."""
    h = hashlib.sha1(f"{path}\0{record if record is not None else ''}\0".encode())
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


def dedup_key(text: str, boilerplate: list[list[int]]) -> str:
    """Hash of the text with boilerplate spans removed and all whitespace collapsed."""
    parts, pos = [], 0
    for s, e in sorted(boilerplate):
        parts.append(text[pos:s])
        pos = max(pos, e)
    parts.append(text[pos:])
    core = " ".join("".join(parts).split())
    return hashlib.sha1(core.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# ---------------------------------------------------------------- worker side

@dataclass(frozen=True)
class Task:
    """A unit of work for any engine: some files of one corpus, enriched into shards.

    `corpus` and `shard_dir` are local paths or URLs every worker can reach; `items` are
    (relpath, sidecar row); shards are named "<table>-<task_id>-<file>-<batch>.parquet"."""

    task_id: str
    corpus: str
    items: tuple[tuple[str, dict | None], ...]
    shard_dir: str
    batch_records: int


def init_worker() -> None:
    """Worker initializer (process pool and Dask workers): load every model once, before
    the first file, so no file pays for it."""
    from presslens.enrich import warm

    warm()


def _init_pool_worker() -> None:
    """The local pool's initializer: init_worker, with Ctrl-C left to the build process.
    A terminal's Ctrl-C reaches every process of its group; the build process stops the pool
    itself (shutdown_workers), so its workers need not die mid-task printing tracebacks."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    init_worker()


def run_task(task: Task) -> dict:
    """Worker: read and enrich the task's files, write their rows to Parquet shards.

    Out: {"task_id", "files", "articles", "rejects", "shards": [names]}; rejects are
    shards too (a 1 GiB export may reject a million rows). Reading and analysis errors of
    one file or record are rejects; anything else raises (the driver then retries the
    files one by one). The records of consecutive files are enriched together, up to
    GATHER_RECORDS records or GATHER_CHARS characters (enrich_many: the entity model
    decodes them side by side); their rows reach the shard buffer in file order, as one
    file at a time would give them."""
    buf = _ShardBuffer(task)
    pending: list[tuple[list, list[dict]]] = []  # (records, rejects) of a file batch, in order
    n_records = n_chars = 0
    for rel, side in task.items:
        for records, rejects in _read_file(task, rel, side):
            pending.append((records, rejects))
            n_records += len(records)
            n_chars += sum(len(r.text) for r in records)
            if n_records >= GATHER_RECORDS or n_chars >= GATHER_CHARS:
                _enrich_pending(pending, buf)
                pending, n_records, n_chars = [], 0, 0
        buf.files += 1
    _enrich_pending(pending, buf)
    buf.flush()
    return {"task_id": task.task_id, "files": buf.files, "articles": buf.n_articles, "rejects": buf.n_rejects,
            "shards": buf.shards}


def _enrich_pending(pending: list[tuple[list, list[dict]]], buf: _ShardBuffer) -> None:
    """Enrich the records of the pending file batches together and add each batch's rows
    (articles, mentions, rejects) to the shard buffer in order."""
    rows = _enrich_batch([r for records, _ in pending for r in records])
    k = 0
    for records, rejects in pending:
        articles: list[dict] = []
        mentions: list[dict] = []
        for row, ments, reject in rows[k : k + len(records)]:
            if reject is not None:
                rejects.append(reject)
                continue
            articles.append(row)
            mentions.extend(ments)
        k += len(records)
        buf.add(articles, mentions, rejects)


class _ShardBuffer:
    """Rows of a task waiting to be written: flushed to one shard per table whenever
    they reach the batch size (records or characters of text), and at the end of the
    task. Small files share shards (one shard per file would mean 30,000 tiny Parquet
    files for 10,000 articles); a big file is cut into several."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.articles: list[dict] = []
        self.mentions: list[dict] = []
        self.rejects: list[dict] = []
        self.chars = 0
        self.files = self.n_articles = self.n_rejects = self.flushes = 0
        self.shards: list[str] = []

    def add(self, articles: list[dict], mentions: list[dict], rejects: list[dict]) -> None:
        self.articles.extend(articles)
        self.mentions.extend(mentions)
        self.rejects.extend(rejects)
        self.n_articles += len(articles)
        self.n_rejects += len(rejects)
        self.chars += sum(a["n_chars"] for a in articles)
        if (len(self.articles) >= self.task.batch_records or self.chars >= ingest.BATCH_CHARS
                or len(self.rejects) >= self.task.batch_records):
            self.flush()

    def flush(self) -> None:
        _add_story_evidence(self.articles)
        for table in ("articles", "mentions", "rejects"):
            rows = getattr(self, table)
            if rows:
                name = f"{table}-{self.task.task_id}-{self.flushes:05d}.parquet"
                self.shards.append(_write_shard(rows, table, self.task.shard_dir, name))
            setattr(self, table, [])
        self.chars = 0
        self.flushes += 1


def _write_shard(rows: list[dict], table: str, shard_dir: str, name: str) -> str:
    df = store.conform(pl.DataFrame(rows, schema=store.REJECTS_SCHEMA) if table == "rejects"
                       else pl.DataFrame(rows, infer_schema_length=None), table)
    fsio.write_parquet(df, shard_dir.rstrip("/") + "/" + name)
    return name


def _read_file(task: Task, rel: str, side: dict | None) -> Iterator[tuple[list, list[dict]]]:
    """One file's batches (records, rejects as rows): only one batch of the file is in
    memory at a time. A remote file that cannot be fetched gives one reject for the file."""
    loc = fsio.Location(task.corpus)
    try:
        with fsio.local_copy(loc, rel) as path:
            for records, rej in ingest.read_batches(path, rel, side, task.batch_records):
                yield records, [{"path": r.path, "record": r.record, "reason": r.reason} for r in rej]
    except (OSError, ValueError) as exc:  # a remote file that vanished or could not be copied
        if loc.local:
            raise
        reason = f"The file could not be fetched from the corpus ({type(exc).__name__}: {exc})."
        yield [], [{"path": rel, "record": None, "reason": reason}]


def _gathered(records: list) -> Iterator[list]:
    """`records` in runs of at most GATHER_RECORDS records and GATHER_CHARS characters (a
    run holds at least one record): enrich_many keeps every text's tokens until its batch
    is decoded, so one export batch (1,000 records, up to 32 M characters) is analysed a run
    at a time, not at once."""
    run: list = []
    chars = 0
    for rec in records:
        if run and (len(run) >= GATHER_RECORDS or chars + len(rec.text) > GATHER_CHARS):
            yield run
            run, chars = [], 0
        run.append(rec)
        chars += len(rec.text)
    if run:
        yield run


def _enrich_batch(records: list) -> list[tuple[dict | None, list[dict], dict | None]]:
    """Enrich records into (article row, mention rows, None) each, or (None, [], reject
    row) for a record whose analysis raises (the others are unaffected)."""
    from presslens.enrich import enrich_many

    out = []
    results = (res for run in _gathered(records) for res in enrich_many(run))
    for rec, res in zip(records, results):
        if isinstance(res, Exception):
            out.append((None, [], {"path": rec.path, "record": rec.record,
                                   "reason": f"Could not be analysed ({type(res).__name__}: {res})."}))
            continue
        row, ments = res
        did = doc_id_for(rec.path, rec.record, rec.text)
        row["doc_id"] = did
        row["dedup_key"] = dedup_key(rec.text, row["boilerplate"])
        out.append((row, [{"doc_id": did, "start": m.start, "end": m.end, "surface": m.surface,
                           "lemma": m.lemma, "entity_id": m.entity_id, "entity_type": m.entity_type,
                           "name": m.name} for m in ments], None))
    return out


def _add_story_evidence(articles: list[dict]) -> None:
    """The text-only story evidence of article rows (presslens.stories.text_evidence),
    computed by the workers in parallel rather than in the serial hook, once per shard:
    it is vectorised over its batch, and a batch of one (a .txt file) costs ~5 ms of
    set-up, a batch of 1,000 ~0.5 ms an article."""
    if not articles:
        return
    from presslens import stories

    evidence, text_minhash = stories.text_evidence([a["text"] for a in articles],
                                                   [a["boilerplate"] for a in articles],
                                                   [a.get("language") for a in articles])
    for a, ev, sig in zip(articles, evidence, text_minhash.tolist()):
        a["story_evidence"], a["text_minhash"] = " ".join(ev), sig  # (store.ARTICLES_SCHEMA)


# ---------------------------------------------------------------- stopping

BuildStopped = store.BuildStopped
# How often a build waiting for its workers looks whether it was asked to stop (seconds).
STOP_POLL_S = 0.2
# A stopped build waits this long at most for its Dask tasks already running (_Dask.abandon),
# asking the workers every DASK_ABANDON_POLL_S seconds (each time a call to every worker); a
# build that may be stopped looks at its stop event every DASK_POLL_S seconds while it waits for
# a task to end (_Dask.results).
DASK_ABANDON_WAIT_S = 600
DASK_ABANDON_POLL_S = 0.5
DASK_POLL_S = 0.05


def _stop_point(stop: threading.Event | None) -> None:
    """A step boundary of a build that may be stopped (`build(stop=)`): raise BuildStopped
    when asked to. A build is stopped only here, between steps, never by an exception raised
    in whatever code runs when a signal arrives (Polars would panic in a callback; a library
    could swallow it, and the build would publish and go on)."""
    if stop is not None and stop.is_set():
        raise BuildStopped("the build was stopped before it published its version")


# ---------------------------------------------------------------- engines

class _Runner:
    """Runs tasks; results come back as (task, result or None, exception or None)."""

    def submit(self, task: Task) -> None:
        raise NotImplementedError

    def results(self, stop: threading.Event | None = None) -> Iterator[tuple[Task, dict | None, BaseException | None]]:
        """Each task's outcome as it ends; raises BuildStopped when `stop` is set meanwhile."""
        raise NotImplementedError

    def abandon(self) -> None:
        """The build ended before every task did: tasks not started are dropped, and those
        running are waited for (they write into the build's folder, which is removed next)."""

    def close(self) -> None:
        pass


class _InProcess(_Runner):
    """This process, one task at a time (small rebuilds, workers=1). Models load lazily."""

    def __init__(self) -> None:
        self.queue: deque[Task] = deque()

    def submit(self, task: Task) -> None:
        self.queue.append(task)

    def results(self, stop=None):
        while self.queue:
            _stop_point(stop)
            task = self.queue.popleft()
            try:
                yield task, run_task(task), None
            except Exception as exc:
                yield task, None, exc

    def abandon(self) -> None:
        self.queue.clear()


# Worker pools kept between builds when build(keep_workers=True): {workers: pool}.
_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(n: int, keep: bool) -> ProcessPoolExecutor:
    pool = _POOLS.pop(n, None) if keep else None
    if pool is None or getattr(pool, "_broken", False):
        pool = ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"), initializer=_init_pool_worker)
    if keep:
        _POOLS[n] = pool
    return pool


# Pools being started by start_workers: {workers: one future per worker, done once its models
# are loaded}. A build uses a kept pool for a few files only once it is warm (_runner).
_WARMING: dict[int, list[Future]] = {}


def _worker_ready() -> int:
    """A task that only says the worker is up (its initializer has loaded the models)."""
    return os.getpid()


def start_workers(workers: int | None = None) -> None:
    """Start the kept worker pool of build(keep_workers=True) now, each worker loading its
    models in the background (`build --watch`: the first change it sees is then enriched by
    warm workers, not by this process). Until every worker is ready, builds of fewer than
    PARALLEL_MIN_FILES files still run in this process. Nothing to start with one worker."""
    n = workers or os.cpu_count() or 1
    if n == 1 or (n in _POOLS and not getattr(_POOLS[n], "_broken", False)):
        return
    pool = _pool(n, keep=True)
    with _plain_main():  # each submit starts one more process while none is idle
        _WARMING[n] = [pool.submit(_worker_ready) for _ in range(n)]


def _pool_warm(n: int) -> bool:
    """A kept pool of `n` workers exists, works, and has loaded its models."""
    pool = _POOLS.get(n)
    if pool is None or getattr(pool, "_broken", False):
        return False
    return all(f.done() and f.exception() is None for f in _WARMING.get(n, []))


def shutdown_workers() -> None:
    """Stop the worker pools and local Dask clusters kept by build(keep_workers=True)."""
    global _builds_since_collect
    for pool in _POOLS.values():
        pool.shutdown(cancel_futures=True)
    _POOLS.clear()
    _WARMING.clear()
    for client, cluster in _DASK.values():
        client.close()
        if cluster is not None:
            cluster.close()
    _DASK.clear()
    for w in _WATCHES.values():
        w.close()
    _WATCHES.clear()
    forget_kept_tables()
    _builds_since_collect = FULL_COLLECT_EVERY - 1
    gc.unfreeze()  # no long-lived build any more: collections see every object again


# A long-lived build process (keep_workers=True: `build --watch`, or a program that builds
# again and again) keeps the articles table it last published in memory, and its next build
# takes the unchanged articles from there instead of decoding articles.parquet again, every
# text included (a warm 1% rebuild at 10,000 articles: the table's write on the critical path
# ~0.36 -> ~0.20 s); likewise the story state's signatures and feature names (the story step
# reads them whole: ~0.04 s), with the arrays the story step derived from them (stories._Kept:
# the vocabulary and codes, bands, event dates), which the next story step carries instead of
# deriving them again. A table is recognised by its file's identity (device, inode,
# size, mtime): files in a version are never written in place, and a version that hard-links
# it (touched files: _restat_version) is served from memory too. Only a table of at most this
# many bytes in memory is kept (~60,000 articles of ~2,000 characters): the build's memory
# stays bounded by it, not by the corpus; larger tables are read and streamed as before.
KEPT_TABLE_MAX_BYTES = 256 * 2**20
# How much larger than its zstd Parquet file the articles table is in memory, to decide
# before reading it (~4.2x on the 10k bench corpus: 9.5 MB on disk, 39.8 MB in memory).
ARTICLES_MEMORY_RATIO = 5
# {"articles" | "story state" | "links delta": (the files' identities, what they hold)}
_MEMO: dict[str, tuple[Any, Any]] = {}
_MEMO_LOCK = threading.Lock()


def _file_key(path: Path) -> tuple[int, int, int, int] | None:
    """A file's identity (device, inode, size, mtime_ns), or None when it cannot be statted."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _recall(slot: str, paths: list[Path]) -> Any:
    """What `_keep(slot, ...)` kept, when the files at `paths` are the ones it was kept for."""
    keys = tuple(_file_key(p) for p in paths)
    with _MEMO_LOCK:
        kept = _MEMO.get(slot)
        if kept is not None and None not in keys and kept[0] == keys:
            return kept[1]
    return None


def _keep(slot: str, paths: list[Path], value: pl.DataFrame | tuple | None) -> None:
    """Keep `value` (a table, or a tuple of tables and objects with an `nbytes()`) as what the
    files at `paths` (a published version's) hold; forget the slot instead when `value` is
    None, larger than KEPT_TABLE_MAX_BYTES in memory, or a file cannot be statted."""
    keys = tuple(_file_key(p) for p in paths)
    parts = value if isinstance(value, tuple) else (value,)
    small = value is not None and sum(f.estimated_size() if isinstance(f, pl.DataFrame) else f.nbytes()
                                      for f in parts) <= KEPT_TABLE_MAX_BYTES
    with _MEMO_LOCK:
        if not small or None in keys:
            _MEMO.pop(slot, None)
        else:
            _MEMO[slot] = (keys, value)


def _state_files(directory: Path) -> list[Path]:
    return [directory / "story_signatures.parquet", directory / "story_features.parquet"]


def _delta_files(directory: Path) -> list[Path]:
    """The story links' delta and dropped-keys files (kept with the story state, see _keep):
    the base they apply to is story_links.parquet, named too, so that a version whose links
    were written whole (no delta files) never matches."""
    return [directory / store.STORY_LINKS_DELTA, directory / store.STORY_LINKS_DROPPED,
            directory / "story_links.parquet"]


def forget_kept_tables() -> None:
    """Forget every table kept in memory by builds of this process (the articles and the
    story state; shutdown_workers does it too)."""
    with _MEMO_LOCK:
        _MEMO.clear()


atexit.register(shutdown_workers)


@contextmanager
def _plain_main() -> Iterator[None]:
    """While worker processes start: a `__main__` module without a file.

    A spawned worker first re-runs the parent's main script (multiprocessing's spawn
    start method). Under `streamlit run` that is app.py (Streamlit installs the page
    script as `__main__`), so every worker of a build started from the app would run the
    app headless and die, and the build would fail. The workers need nothing from the
    main script: run_task and init_worker live in this module."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


class _Pool(_Runner):
    """A pool of spawned worker processes on this machine (started by submit, under
    _plain_main)."""

    def __init__(self, n: int, keep: bool) -> None:
        self.n, self.keep = n, keep
        self.pool = _pool(n, keep)
        self.pending: dict[Future, Task] = {}

    def submit(self, task: Task) -> None:
        with _plain_main():  # the pool starts its processes in submit
            try:
                self.pending[self.pool.submit(run_task, task)] = task
            except BrokenProcessPool:
                self.pool = _pool(self.n, self.keep) if self.keep else ProcessPoolExecutor(
                    max_workers=self.n, mp_context=mp.get_context("spawn"), initializer=_init_pool_worker)
                self.pending[self.pool.submit(run_task, task)] = task

    def results(self, stop=None):
        while self.pending:
            _stop_point(stop)
            done, _ = wait(list(self.pending), timeout=None if stop is None else STOP_POLL_S,
                           return_when=FIRST_COMPLETED)
            for fut in done:
                task = self.pending.pop(fut)
                exc = fut.exception()
                yield task, (None if exc else fut.result()), exc

    def abandon(self) -> None:
        for fut in self.pending:
            fut.cancel()
        wait(list(self.pending))
        self.pending.clear()

    def close(self) -> None:
        if not self.keep:
            self.pool.shutdown(cancel_futures=True)


# Dask clients kept between builds: {(scheduler or "local", workers): (client, cluster)}.
_DASK: dict[tuple[str, int], tuple[Any, Any]] = {}


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while processes are started here (in the main thread), so they start
    with it ignored: a terminal's Ctrl-C reaches every process of its group, and a local Dask
    cluster's nannies and workers would die mid-task printing tracebacks (asyncio installs its
    Ctrl-C handler only where SIGINT has the default one). This process handles Ctrl-C and
    closes the cluster (shutdown_workers)."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


class _Dask(_Runner):
    """Tasks on a Dask cluster: an existing scheduler, or a LocalCluster of `n` worker
    processes (one thread each: the NLP code is pure Python and holds the GIL)."""

    def __init__(self, n: int, scheduler: str | None, keep: bool) -> None:
        from dask.distributed import Client, LocalCluster, WorkerPlugin
        from distributed import as_completed

        class _Warm(WorkerPlugin):
            name = "presslens-warm"

            def setup(self, worker):  # noqa: ARG002  runs once on each worker
                init_worker()

        self.keep = keep
        key = (scheduler or "local", n)
        cached = _DASK.pop(key, None) if keep else None
        if cached is None:
            cluster = None
            if scheduler:
                client = Client(scheduler)
            else:
                with _sigint_ignored():  # its processes inherit it: Ctrl-C is the build's to handle
                    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=40)
                client = Client(cluster)
            client.register_plugin(_Warm(), name="presslens-warm")
            cached = (client, cluster)
        if keep:
            _DASK[key] = cached
        self.client, self.cluster = cached
        # Task sizing follows the cluster's real size (threads across all workers).
        workers = self.client.scheduler_info().get("workers", {})
        self.n_workers = sum(w.get("nthreads", 1) for w in workers.values()) or n
        self.pending: dict[Any, Task] = {}
        self.ac = as_completed()

    def submit(self, task: Task) -> None:
        fut = self.client.submit(run_task, task, pure=False, key=f"presslens-{task.task_id}-{uuid.uuid4().hex[:8]}")
        self.pending[fut] = task
        self.ac.add(fut)

    def results(self, stop=None):
        while not self.ac.is_empty():
            _stop_point(stop)
            if stop is not None and not self.ac.has_ready():
                # (taking the next would block until a task ends, a long one too: the stop is
                # looked at meanwhile, so the tasks not started are dropped at once, as the
                # local pool does)
                time.sleep(DASK_POLL_S)
                continue
            try:
                fut = next(self.ac)
            except StopIteration:
                return
            task = self.pending.pop(fut)
            if fut.status == "finished":
                yield task, fut.result(), None
            else:
                try:
                    exc = fut.exception()
                except BaseException as err:  # cancelled: the cluster went away
                    exc = err
                yield task, None, exc
            fut.release()

    def abandon(self) -> None:
        """Tasks not started are cancelled; Dask cannot stop one a worker is running (it goes
        on, its result dropped), so those are waited for, as their workers report them
        (DASK_ABANDON_WAIT_S at most): a task writes its shards into the build's folder,
        which is removed next, or on remote storage next to the store."""
        if not self.pending:
            return
        keys = {str(f.key) for f in self.pending}
        self.client.cancel(list(self.pending))
        self.pending.clear()
        deadline = time.monotonic() + DASK_ABANDON_WAIT_S
        while True:
            try:
                running = self.client.run(_executing_keys)
            except Exception as exc:  # noqa: BLE001  (workers gone: nothing of theirs runs)
                log.warning("could not ask the Dask workers which tasks still run: %s", exc)
                return
            if not keys.intersection(k for ks in running.values() for k in ks):
                return
            if time.monotonic() > deadline:
                log.warning("Dask tasks of a stopped build still run after %d s; not waiting longer",
                            DASK_ABANDON_WAIT_S)
                return
            time.sleep(DASK_ABANDON_POLL_S)

    def close(self) -> None:
        if not self.keep:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()


def _executing_keys(dask_worker: Any) -> list[str]:
    """The keys of the tasks a Dask worker's threads are running (cancelled ones included:
    they stay there until their thread returns); run on each worker by Client.run."""
    state = dask_worker.state
    return [str(ts.key) for ts in (*state.executing, *state.long_running)]


def _runner(engine: str, n_workers: int, n_files: int, scheduler: str | None, keep: bool) -> _Runner:
    if engine == "dask":
        return _Dask(n_workers, scheduler, keep)
    warm_pool = keep and _pool_warm(n_workers)
    if (n_files < PARALLEL_MIN_FILES and not warm_pool) or n_workers == 1:
        return _InProcess()
    return _Pool(n_workers, keep)


def _chunk_size(n_files: int, n_workers: int) -> int:
    """Files per task: about TASKS_PER_WORKER tasks per worker, at most CHUNK_FILES."""
    return max(1, min(CHUNK_FILES, math.ceil(n_files / max(1, n_workers * TASKS_PER_WORKER))))


def _task_sizes(n_files: int, n_workers: int) -> list[int]:
    """Files per task, in submission order (guided scheduling): each task takes
    _chunk_size of the files still unassigned, so tasks shrink towards the end of the
    build. Workers take tasks in this order, so the last ones to finish are small and no
    worker idles long while another finishes a 200-file task (about 2.5 s of one core).

    A small job (at most GATHER_RECORDS files per worker: a rebuild after a small change) is
    cut into one task per worker instead, of equal file counts: each worker then decodes its
    files' entities in one batch and pays a task's fixed costs once. On the 10k benchmark
    store, a warm 1% rebuild (100 files, 2 workers): workers' CPU 0.49 -> 0.38 s, tasks
    0.27 -> 0.21 s wall (four pairs of rebuilds, alternated)."""
    if 0 < n_files <= max(1, n_workers) * GATHER_RECORDS:
        k = min(max(1, n_workers), n_files)
        base, extra = divmod(n_files, k)
        return [base + 1] * extra + [base] * (k - extra)
    floor = min(MIN_TASK_FILES, _chunk_size(n_files, n_workers))
    sizes, left = [], n_files
    while left > 0:
        sizes.append(min(left, max(floor, _chunk_size(left, n_workers))))
        left -= sizes[-1]
    return sizes


def _run_tasks(runner: _Runner, tasks: list[Task], shards: Path, progress: Progress | None, total: int,
               stop: threading.Event | None = None) -> None:
    """Run every task and bring its shards into the local `shards` folder.

    A task that raises is retried file by file (after its partial shards are removed); a
    single-file task that raises turns its file into a reject with the error as reason.
    Raises BuildStopped when `stop` is set before the tasks end (the others abandoned)."""
    try:
        _run_all(runner, tasks, shards, progress, total, stop)
    except BaseException:
        runner.abandon()
        raise


def _run_all(runner: _Runner, tasks: list[Task], shards: Path, progress: Progress | None, total: int,
             stop: threading.Event | None) -> None:
    done = ok = failed = 0
    for t in tasks:
        runner.submit(t)
    if progress:
        progress(0, total)
    for task, res, exc in runner.results(stop):
        if exc is None:
            _fetch_shards(task, res["shards"], shards)
            done += res["files"]
            ok += 1
        elif len(task.items) > 1:
            _drop_shards(task)
            for k, item in enumerate(task.items):
                runner.submit(Task(f"{task.task_id}r{k:04d}", task.corpus, (item,), task.shard_dir, task.batch_records))
            continue
        else:
            _drop_shards(task)
            failed += 1
            if ok == 0 and (failed >= FAILED_BEFORE_ABORT or failed == total):
                # Nothing works (workers cannot start, the cluster is gone): stop before
                # publishing a store that rejects every file in place of the live one.
                raise RuntimeError(f"The build workers failed on every file tried ({failed}): "
                                   f"{type(exc).__name__}: {exc}. The store was not changed.") from exc
            reason = (f"The build worker failed on this file ({type(exc).__name__}: {exc}); "
                      "it was not analysed.")
            _write_shard([{"path": task.items[0][0], "record": None, "reason": reason}], "rejects", str(shards),
                         f"rejects-{task.task_id}-failed.parquet")
            done += 1
        if progress:
            progress(done, total)


def _drop_shards(task: Task) -> None:
    """Remove the partial shards of a failed task (its files are redone or rejected)."""
    loc = fsio.Location(task.shard_dir)
    marker = f"-{task.task_id}-"
    if loc.local:
        for p in loc.path.glob(f"*{marker}*"):
            p.unlink(missing_ok=True)
    else:
        fs = loc.fs
        for name in fs.ls(loc.root, detail=False) if fs.exists(loc.root) else []:
            if marker in name.rsplit("/", 1)[-1]:
                fs.rm(name)


def _fetch_shards(task: Task, names: list[str], shards: Path) -> None:
    """Shards written on remote storage are downloaded into the local staging folder (and
    removed remotely); local shards are already in place."""
    loc = fsio.Location(task.shard_dir)
    if loc.local and loc.path.resolve() == shards.resolve():
        return
    for name in names:
        if loc.local:
            shutil.move(str(loc.path / name), shards / name)
        else:
            loc.fs.get_file(loc.root + "/" + name, str(shards / name))
            loc.fs.rm(loc.root + "/" + name)


# ---------------------------------------------------------------- planning

def _previous_files(prev: store.StoreInfo | None) -> dict[str, tuple[int, int, str | None, str]]:
    """The previous version's files table as {path: (size, mtime_ns, sha1, key)} (tuples from
    the columns: a dict per row took ~25 ms at 10,000 files, on every rebuild and look)."""
    if prev is None:
        return {}
    df = pl.read_parquet(store.table_path(prev, "files"), columns=list(store.FILES_SCHEMA))
    return dict(zip(df["path"].to_list(), zip(*(df[c].to_list() for c in ("size", "mtime_ns", "sha1", "key")))))


def _load_sidecar(loc: fsio.Location) -> tuple[dict[str, dict], list[Reject], int | None]:
    """(sidecar rows, sidecar rejects, sidecar mtime or None when there is no sidecar)."""
    if loc.local:
        side = loc.path / ingest.SIDECAR_NAME
        rows, rej = ingest.load_sidecar(loc.path)
        return rows, rej, (side.stat().st_mtime_ns if side.exists() else None)
    fs, path = loc.fs, loc.root + "/" + ingest.SIDECAR_NAME
    if not fs.exists(path):
        return {}, [], None
    with fsio.local_copy(loc, ingest.SIDECAR_NAME) as local:
        rows, rej = ingest.load_sidecar(local.parent)
    return rows, rej, fsio.mtime_ns(fs.info(path))


def _corpus_files(loc: fsio.Location, link_rejects: list[Reject] | None = None
                  ) -> Iterator[tuple[str, int, int, Callable[[], str | None], int]]:
    """(relpath, size, mtime_ns, hasher, size limit) for every input file; symbolic links
    that leave a local corpus are not listed but appended to `link_rejects` (when given)."""
    if loc.local:
        root = loc.path
        # string prefix and suffix work, not pathlib's: a rebuild stats every file of the
        # corpus, and Path.relative_to and Path.suffix were half of that time at 10,000 files
        prefix = os.path.join(os.fspath(root), "")
        limits: dict[str, int] = {}

        def entry(s: str) -> tuple[str, Callable[[], str | None], int]:
            """(relpath, hasher, size limit) of a file's path (joined to `root` by the walk)."""
            ext = os.path.splitext(s)[1].lower()
            limit = limits.get(ext)
            if limit is None:
                limit = limits[ext] = ingest.size_limit(Path(s))
            return s[len(prefix):].replace(os.sep, "/"), (lambda: _sha1_file(s)), limit

        watch = _WATCHES.get(os.fspath(root))
        listed = watch.files() if watch is not None else None
        if listed is not None:  # from the kernel's events (a long-lived build: _watch_corpus)
            memo = watch.memo  # (the entries kept: most files stay from one build to the next)
            for s, size, mtime in listed:
                m = memo.get(s)
                if m is None:
                    m = memo[s] = entry(s)
                yield m[0], size, mtime, m[1], m[2]
            return
        for s in ingest.iter_file_strs(root, link_rejects):
            try:
                st = os.stat(s)
                size, mtime = st.st_size, st.st_mtime_ns
            except OSError:
                size, mtime = -1, -1
            rel, hasher, limit = entry(s)
            yield rel, size, mtime, hasher, limit
        return
    for rel, size, mtime in fsio.list_files(loc, frozenset({ingest.SIDECAR_NAME})):
        yield rel, size, mtime, (lambda rel=rel: fsio.sha1(loc, rel)), ingest.size_limit(Path(rel))


# Corpus folders whose files this process's long-lived builds take from the kernel's change
# events ({root path: CorpusWatch}, see presslens.ingest.corpus_watch): their planning stats
# only the files changed since the last build, not all of them (_corpus_files). Closed by
# shutdown_workers.
_WATCHES: dict[str, Any] = {}


def _watch_corpus(loc: fsio.Location) -> None:
    """Start keeping the listing of a local corpus from change events (build(keep_workers=True),
    build --watch), where the platform and filesystem allow it."""
    from presslens.ingest.corpus_watch import CorpusWatch

    key = os.fspath(loc.path) if loc.local else None
    if key is not None and key not in _WATCHES and CorpusWatch.supported(key):
        _WATCHES[key] = CorpusWatch(key)


def _links_digest(link_rejects: list[Reject]) -> str | None:
    """A fingerprint of the refused links (path and reason, which names the target), kept
    in the manifest as "refused_links": a link that leaves the corpus is no input file, so
    without it a new, removed or retargeted link would change nothing the staleness check
    or the "nothing changed" shortcut compares. None when no link was refused (so stores
    built before this field existed stay current when they have no such link)."""
    if not link_rejects:
        return None
    h = hashlib.sha1()
    for path, reason in sorted((r.path, r.reason) for r in link_rejects):
        h.update(f"{path}\0{reason}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _plan(loc: fsio.Location, prev: store.StoreInfo | None, sidecar: dict[str, dict],
          link_rejects: list[Reject] | None = None, listing: Listing | None = None):
    """Decide, per input file, whether its rows can be reused; returns (files table rows,
    files to process as (relpath, sidecar row), reused relpaths, number of files in the
    previous version, the rows still to hash, the reused relpaths whose size or mtime the
    previous version does not record: touched, or copied, but with the same content).

    A file the previous version does not list is processed whatever its content, so its
    hash (for the files table: what the next build compares) is not taken here: the rows
    to hash are (row, hasher) pairs for `_hash_rows`, which the build runs while the
    workers enrich (in a full build, every file: hashing 10,000 files took ~0.4 s before
    the first task could start)."""
    old = _previous_files(prev)
    rows, todo, reused, deferred, restat = [], [], [], [], []
    if listing is not None:  # a look just made (watch): the files as it saw them
        if link_rejects is not None:
            link_rejects.extend(listing.link_rejects)
        files: Iterable[tuple[str, int, int, Callable[[], str | None], int]] = listing.files
    else:
        files = _corpus_files(loc, link_rejects)  # links leaving the corpus -> rejects
    suffixes: dict[str, str] = {}  # sidecar hash -> the end of a key made with it
    for rel, size, mtime, hasher, limit in files:
        side = sidecar.get(rel)
        sh = _sidecar_hash(side) if side else "-"
        o = old.get(rel)
        row = {"path": rel, "size": size, "mtime_ns": mtime, "sha1": None, "key": None}
        rows.append(row)
        if o is None:
            _set_hash(row, None, sh)
            if 0 <= size <= limit:
                deferred.append((row, hasher, sh))
            todo.append((rel, side))
            continue
        o_size, o_mtime, o_sha, o_key = o
        suffix = suffixes.get(sh)
        if suffix is None:
            suffix = suffixes[sh] = f":{sh}:{store.PIPELINE_VERSION}"
        sha = None
        if o_size == size and o_mtime == mtime and mtime != -1 and o_key.endswith(suffix):
            if o_sha is not None and o_key == o_sha + suffix:
                # the file as the previous build saw it (the common case): its row stands
                row["sha1"], row["key"] = o_sha, o_key
                if o_sha.startswith("unhashed"):
                    todo.append((rel, side))
                else:
                    reused.append(rel)
                continue
            sha = o_sha
        elif 0 <= size <= limit:
            try:
                sha = hasher()
            except OSError:
                sha = None
        _set_hash(row, sha, sh)
        if o_key == row["key"] and not row["sha1"].startswith("unhashed"):
            reused.append(rel)
            if o_size != size or o_mtime != mtime:
                restat.append(rel)
        else:
            todo.append((rel, side))
    return rows, todo, reused, len(old), deferred, restat


def _set_hash(row: dict, sha: str | None, side_hash: str) -> None:
    """A files-table row's sha1 (or "unhashed-<size>-<mtime>" when the file could not be
    hashed) and its key (content, sidecar row and pipeline version)."""
    row["sha1"] = sha if sha is not None else f"unhashed-{row['size']}-{row['mtime_ns']}"
    row["key"] = f"{row['sha1']}:{side_hash}:{store.PIPELINE_VERSION}"


def _hash_rows(deferred: list[tuple[dict, Callable[[], str | None], str]]) -> None:
    """Hash the files `_plan` left unhashed ((row, hasher, sidecar hash) each) and
    complete their rows."""
    for row, hasher, side_hash in deferred:
        try:
            sha = hasher()
        except OSError:
            sha = None
        _set_hash(row, sha, side_hash)


@dataclass
class Listing:
    """The corpus's input files as one look saw them: (relpath, size, mtime_ns, hasher, size
    limit) each, as _corpus_files yields them, and the symbolic links refused meanwhile.
    `watch` hands the look's listing to the build it starts, whose planning then does not stat
    every file a second time (planning at 10,000 files 0.12-0.13 -> 0.04 s, at 100,000
    0.86-1.05 -> 0.33-0.38 s). A file changed between the look and the build is read as it is
    but recorded with the size and mtime the look saw, so the next look sees it changed (and
    the build after it finds the same content by its hash: nothing missed, nothing redone)."""

    files: list[tuple[str, int, int, Callable[[], str | None], int]]
    link_rejects: list[Reject]
    sidecar_mtime: int | None = None

    def key(self) -> tuple:
        """What a look compares: every file's path, size and mtime, the refused links and the
        sidecar's mtime (equal keys: the corpus did not change between the two looks)."""
        return (frozenset((rel, size, mtime) for rel, size, mtime, _h, _l in self.files),
                tuple(sorted((r.path, r.reason) for r in self.link_rejects)), self.sidecar_mtime)


def look(corpus: str | os.PathLike, store_dir: str | os.PathLike) -> tuple[bool, Listing | None]:
    """(is_stale, the listing of the corpus made to decide it, or None when the store alone
    decided: missing, or built by another pipeline version)."""
    loc = fsio.Location(str(corpus))
    with _local_store(str(store_dir), tables=("files",)) as local:
        prev = store.current(local)
        if prev is None:
            return True, None
        if prev.manifest.get("pipeline_version") != store.PIPELINE_VERSION:
            return True, None
        old = _previous_files(prev)
    link_rejects: list[Reject] = []
    files = list(_corpus_files(loc, link_rejects))
    if loc.local:
        side = loc.path / ingest.SIDECAR_NAME
        side_mtime = side.stat().st_mtime_ns if side.exists() else None
    else:
        path = loc.root + "/" + ingest.SIDECAR_NAME
        side_mtime = fsio.mtime_ns(loc.fs.info(path)) if loc.fs.exists(path) else None
    listing = Listing(files, link_rejects, side_mtime)
    stale = (len(files) != len(old)
             or any(size == -1 or (o := old.get(rel)) is None or o[0] != size or o[1] != mtime
                    for rel, size, mtime, _h, _l in files)
             # a link leaving the corpus was added, removed or retargeted, or the sidecar changed
             or prev.manifest.get("refused_links") != _links_digest(link_rejects)
             or prev.manifest.get("sidecar_mtime_ns") != side_mtime)
    return stale, listing


def is_stale(corpus: str | os.PathLike, store_dir: str | os.PathLike) -> bool:
    """True when the store is missing or any input file was added, removed or modified
    (by size or mtime, or the sidecar changed) since it was built. Only stats files."""
    return look(corpus, store_dir)[0]


# ---------------------------------------------------------------- stores at URLs

class _local_store:
    """Context manager: a local folder standing for the store. For a local store, the store
    itself; for a URL, a temporary mirror holding its live version (only `tables`, or all),
    pushed back by push()."""

    def __init__(self, url: str, tables: tuple[str, ...] | None = None) -> None:
        self.loc = fsio.Location(url)
        self.tables = tables
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        if self.loc.local:
            return self.loc.path
        self.tmp = Path(tempfile.mkdtemp(prefix="presslens-store-"))
        fs, root = self.loc.fs, self.loc.root
        try:
            name = fs.cat_file(root + "/CURRENT").decode("utf-8").strip()
        except FileNotFoundError:
            return self.tmp
        files = ["manifest.json"] + [f"{t}.parquet" for t in (self.tables or store.TABLES)]
        if "story_links.parquet" in files:  # the table's other files (store.scan_story_links)
            files += [store.STORY_LINKS_DROPPED, store.STORY_LINKS_DELTA]
        if "entities.parquet" in files:  # what the next entity table is updated from (_entity_tables)
            files.append(ENTITY_FORMS)
        (self.tmp / name).mkdir()
        for f in files:
            if fs.exists(f"{root}/{name}/{f}"):
                fs.get_file(f"{root}/{name}/{f}", str(self.tmp / name / f))
        (self.tmp / "CURRENT").write_text(name + "\n", encoding="utf-8")
        return self.tmp

    def push(self, info: store.StoreInfo) -> str:
        """Upload a published local version, then switch the remote CURRENT to it; older
        remote versions except the one replaced are removed. Returns the version's URL."""
        if self.loc.local:
            return str(info.directory)
        fs, root = self.loc.fs, self.loc.root
        name = info.directory.name
        try:
            previous = fs.cat_file(root + "/CURRENT").decode("utf-8").strip()
        except FileNotFoundError:
            previous = None
        for f in sorted(info.directory.iterdir()):
            if f.is_file():
                fs.put_file(str(f), f"{root}/{name}/{f.name}")
        fs.pipe_file(root + "/CURRENT", (name + "\n").encode("utf-8"))
        for child in fs.ls(root, detail=False):
            base = child.rstrip("/").rsplit("/", 1)[-1]
            if base.startswith("v-") and base not in (name, previous):
                fs.rm(child, recursive=True)
        return self.loc.url.rstrip("/") + "/" + name

    def __exit__(self, *exc) -> None:
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)


# Articles read per batch when computing story features: bounds the text held in memory.
STORY_BATCH = 20_000
# Articles without the workers' story evidence (tables imported from elsewhere) have it made
# from their text (~0.4 ms CPU an article) in one process per core, EVIDENCE_CHUNK articles a
# task; below EVIDENCE_POOL_MIN of them, in this process (starting processes costs ~1 s).
EVIDENCE_CHUNK = 2_000
EVIDENCE_POOL_MIN = 5_000
# Up to this many articles, the mention tables are written in a thread beside the story step
# (_assemble): a doc_entities table of ~2M rows to sort (~100 MB) next to the grouping's peak.
ENTITY_THREAD_MAX = 200_000


def _with_text_evidence(part: pl.DataFrame, pool: ProcessPoolExecutor | None) -> pl.DataFrame:
    """`part` (articles with text, boilerplate and language) with its story_evidence and
    text_minhash made from the text as a build worker makes them (stories.text_evidence, the
    same values whatever the chunking), in `pool`'s processes when given."""
    import numpy as np

    from presslens import stories

    texts, bps, langs = part["text"].to_list(), part["boilerplate"].to_list(), part["language"].to_list()
    if pool is None:
        evidence, sig = stories.text_evidence(texts, bps, langs)
    else:
        spans = [(i, min(i + EVIDENCE_CHUNK, len(texts))) for i in range(0, len(texts), EVIDENCE_CHUNK)]
        with _plain_main():  # the pool may start its processes here
            got = list(pool.map(stories.text_evidence, *zip(*[(texts[a:b], bps[a:b], langs[a:b]) for a, b in spans])))
        evidence = [ev for chunk, _ in got for ev in chunk]
        sig = np.concatenate([m for _, m in got]) if got else np.zeros((0, stories.TEXT_PERM), np.uint32)
    return part.with_columns(pl.Series("story_evidence", [" ".join(e) for e in evidence], dtype=pl.String),
                             stories._array(sig, store.ARTICLES_SCHEMA["text_minhash"]).alias("text_minhash"))


DOC_ENTITIES_ORDER = ["entity_id", "doc_id"]


def doc_entities_of(mentions: pl.LazyFrame) -> pl.LazyFrame:
    """The doc_entities table (doc_id, entity_id, mentions: how often the article names it)
    from mention rows. Counted per article: the rows of some articles are those of their
    mentions alone (an incremental build takes the reused articles' rows as they were)."""
    return (mentions.group_by("doc_id", "entity_id").agg(pl.len().cast(pl.UInt32).alias("mentions"))
            .sort(DOC_ENTITIES_ORDER))


def _group_stories(tmp: Path, prev: store.StoreInfo | None, articles: pl.LazyFrame, docs: pl.DataFrame,
                   doc_entities_for: Callable[[pl.Series], pl.LazyFrame] | None = None,
                   new_rows: pl.LazyFrame | None = None, meanwhile: Callable[[], None] | None = None,
                   before_grouping: Callable[[], None] | None = None,
                   collected: list[pl.DataFrame] | None = None,
                   collected_state: list[stories.StoryState] | None = None) -> dict:
    """Post-build hook: group the articles of the version being written into stories, and
    write tmp/articles.parquet (the assembled `articles`, with their story_id). `docs`: the
    articles' doc_id and duplicate_of, in table order (read once by the caller).

    Reads the doc_entities rows of the articles new to the grouping from
    `doc_entities_for(their doc ids)` (a LazyFrame holding at least those rows; default:
    tmp/doc_entities.parquet, written before the call) and the articles' story columns (from
    `new_rows`, the rows enriched by this build, when
    every article new to the grouping is among them), reuses the previous
    version's story state (only new articles are hashed; presslens.stories), writes
    story_links and the state into `tmp`. When at most STORY_BATCH articles are new to the
    grouping (an incremental build), their rows are read from `articles` and the table is
    written once, with its story ids; otherwise it is written first and read back in batches
    of STORY_BATCH (bounded memory), then rewritten with the story ids. Returns the manifest
    fields (stories, story_links, story_seconds). `meanwhile()`, when given, is run once
    articles.parquet is written, while the story state and links are still being written (it
    must read no story_* file); it is run again if writing them then fails (the articles are
    then rewritten with every article its own story). `before_grouping()`, when given, is run
    once the articles new to the grouping are read and hashed, before they are grouped.
    `collected`, when given: the articles table is collected in memory and written from there
    (when it is written once), and appended to it (to be kept for the next build); the story
    state's signatures and feature names kept in memory by an earlier build (with the arrays
    derived from them: stories._Kept) are used when they are the previous version's, and
    `collected_state` gets the new state (its tables as written, its arrays, and the links'
    delta tables it wrote: StoryState.written_links). The
    text-only evidence was computed by the
    workers (story_evidence, text_minhash), so no article text is read here. If grouping
    fails, every article is its own story and the manifest says why: a build never fails
    because of it.
    """
    import pyarrow.parquet as pq

    from presslens import stories

    t0 = time.perf_counter()
    art_path = tmp / "articles.parquet"
    written = False
    pool: ProcessPoolExecutor | None = None  # for articles without the workers' evidence (imports)
    try:
        previous = stories.StoryState.load(prev.directory) if prev is not None else None
        if previous is not None and collected_state is not None:  # the same tables, kept in memory
            kept = _recall("story state", _state_files(prev.directory))
            if kept is not None:
                previous = stories.StoryState(kept[0], kept[1], previous.links, links_dir=previous.links_dir,
                                              kept=kept[2], links_parts=_recall("links delta",
                                                                                _delta_files(prev.directory)))
        known = (previous.signatures.lazy().select("doc_id").collect() if previous is not None
                 else pl.DataFrame(schema={"doc_id": pl.String}))
        todo = docs.filter(pl.col("duplicate_of").is_null()).join(known, on="doc_id", how="anti")["doc_id"]
        sigs, names = [], []
        if len(todo):
            todo_set = todo.implode()
            doc_entities = (doc_entities_for(todo) if doc_entities_for is not None
                            else pl.scan_parquet(tmp / "doc_entities.parquet"))
            cols = ["doc_id", "language", "published", "cited_sources", "story_evidence", "text_minhash"]
            if len(todo) <= STORY_BATCH:  # one batch, straight from the assembled rows
                parts = []
                if new_rows is not None:  # usually all new: read from the shards alone
                    parts = [new_rows.filter(pl.col("doc_id").is_in(todo_set)).select(cols).collect()]
                    if parts[0]["doc_id"].n_unique() < len(todo):  # some were reused (no story state)
                        parts = []
                if not parts:
                    parts = [articles.filter(pl.col("doc_id").is_in(todo_set)).select(cols).collect()]
                if parts[0].select(pl.col("story_evidence").is_null().any()).item():
                    parts = [articles.filter(pl.col("doc_id").is_in(todo_set)).select(cols + ["text", "boilerplate"])
                             .collect()]
            else:
                store.write_table(tmp, "articles", articles)
                written = True
                # rows without the workers' evidence (tables imported from elsewhere): read their text
                if pl.scan_parquet(art_path).select(pl.col("story_evidence").is_null().any()).collect().item():
                    cols += ["text", "boilerplate"]
                parts = (pl.from_arrow(batch).filter(pl.col("doc_id").is_in(todo_set))
                         for batch in pq.ParquetFile(art_path).iter_batches(batch_size=STORY_BATCH, columns=cols))
            for part in parts:
                if part.height and "text" in part.columns and part["story_evidence"].is_null().any():
                    if pool is None and len(todo) >= EVIDENCE_POOL_MIN:
                        pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=mp.get_context("spawn"))
                    part = _with_text_evidence(part, pool)
                if part.height:
                    de = doc_entities.join(part.select("doc_id").lazy(), on="doc_id", how="semi").collect()
                    # features hashed batch by batch: the corpus's features are never held as strings
                    s, nm = stories.encode_features(*reversed(stories.article_features(part, de)))
                    sigs.append(s)
                    names.append(nm)
        if before_grouping is not None:
            before_grouping()
        # the new articles' signatures go through a file: group_features reads them once, and
        # no second copy stays referenced here while it runs
        new_path = tmp / "story_new_signatures.parquet"
        (pl.concat(sigs) if sigs else pl.DataFrame(schema=stories.NEW_SIGNATURES_SCHEMA)).write_parquet(new_path)
        new_names = pl.concat(names).unique("fh") if names else pl.DataFrame(schema=stories.NAMES_SCHEMA)
        del sigs, names
        story_ids, links, state = stories.group_features(docs, None, pl.scan_parquet(new_path),
                                                         previous or stories.empty_state(), new_names=new_names,
                                                         links_path=tmp / "story_links.parquet", defer_links=True,
                                                         keep_bytes=KEPT_TABLE_MAX_BYTES if collected_state is not None
                                                         else None)
        new_path.unlink()
        del new_names, links
        # the state (and the links, when few enough to be sorted in memory: not written yet)
        # is written in a thread while this one writes the articles with their story ids
        save_job = _Background(state.save, tmp)
        error = None
    except Exception as exc:  # grouping must never lose a build
        story_ids, error = _stories_failed(tmp, docs, exc)
    finally:
        if pool is not None:
            pool.shutdown()

    def write_articles() -> None:
        with_story = lambda lf: lf.drop("story_id").join(story_ids.lazy(), on="doc_id", how="left",  # noqa: E731
                                                         maintain_order="left")
        if written:
            out = tmp / "articles.stories.parquet"
            store.write_table(tmp, "articles", with_story(pl.scan_parquet(art_path)), filename=out.name)
            os.replace(out, art_path)
        elif collected is not None:
            table = store.conform(with_story(articles).collect(), "articles")
            store.write_table(tmp, "articles", table)
            collected.append(table)
        else:
            store.write_table(tmp, "articles", with_story(articles))

    write_articles()
    if meanwhile is not None:  # while the state and links are written (in their thread)
        try:
            meanwhile()
        except BaseException:
            if error is None:
                save_job.wait()  # nothing is left writing into tmp
            raise
    if error is None:
        try:
            save_job.result()
        except Exception as exc:  # the state could not be written: as if grouping had failed
            story_ids, error = _stories_failed(tmp, docs, exc)
            write_articles()
            if meanwhile is not None:
                meanwhile()  # again: what it wrote read the story ids just replaced
    if collected_state is not None and error is None and isinstance(state.signatures, pl.DataFrame) \
            and isinstance(state.names, pl.DataFrame) and state.kept is not None:
        # as written, with the arrays derived from them (and the links' delta and dropped
        # tables, when written as such): to be kept (_assemble)
        collected_state[:] = [state]
    n_links = 0 if error else store.count_story_links(tmp)
    summary = {"stories": story_ids["story_id"].n_unique(), "story_links": n_links,
               "story_seconds": round(time.perf_counter() - t0, 3)}
    if error:
        summary["stories_error"] = error
    return summary


def _stories_failed(tmp: Path, docs: pl.DataFrame, exc: BaseException) -> tuple[pl.DataFrame, str]:
    """After the story step failed: its half-written files removed, an empty story_links
    table, and every article its own story. Returns (story ids, the reason)."""
    # every file of the story step (the state, the links and their parts, half-written ones),
    # story_links.parquet included: it may be a hard link to the previous version's file
    # (stories._link_delta), which writing the empty table in place would empty too
    for part in tmp.glob("story_*"):
        part.unlink(missing_ok=True)
    store.write_table(tmp, "story_links", store.empty("story_links"))
    return docs.select("doc_id", pl.col("doc_id").alias("story_id")), f"{type(exc).__name__}: {exc}"


def _build_index(version_dir: Path, prev_dir: Path | None = None) -> float:
    """The serving index (presslens.index) of a fully written version; returns seconds.
    `prev_dir`: the live version built by the same pipeline version, whose index is reused
    for unchanged articles (a from-scratch index when it cannot be)."""
    from presslens import index

    return float(index.build(version_dir, prev_dir)["seconds"])


# ---------------------------------------------------------------- post-build steps

class _Background:
    """One post-build step run in a thread while the build process does other work (the
    story grouping); `result()` waits for it and raises what it raised (so the build fails
    and the live version stays untouched, as when the step runs in line)."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._value: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = fn(*args)
            except BaseException as exc:  # re-raised in result()
                self._error = exc

        self._thread = threading.Thread(target=run, name=f"presslens-{getattr(fn, '__name__', 'step')}", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        """Wait for the step to end (its error, if any, is kept for `result`)."""
        self._thread.join()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


# Columns the full-text index reads (presslens.search.build); the story step changes none.
SEARCH_COLUMNS = ("doc_id", "title", "text", "language", "boilerplate")


def _start_search(version_dir: Path, rows: pl.LazyFrame, prev_dir: Path | None) -> _Background:
    """Write the full-text index from `rows` (the assembled articles, in the row order
    articles.parquet will have) in a thread: it needs only SEARCH_COLUMNS, so it runs while
    the entity table is written and the stories are grouped instead of after (on two cores,
    the other one is idle then). `prev_dir`: the live version, whose index an incremental
    build reuses (only new and changed articles are indexed)."""
    return _Background(search.build, version_dir.parent, version_dir, rows.select(SEARCH_COLUMNS), prev_dir)


def _post_build(manifest: dict, search_job: _Background, index_seconds: float) -> None:
    """The end of the steps that write their own files next to the tables of a new version
    before it is published (each may reuse the live version to work incrementally; one that
    raises fails the build and leaves the live version untouched): the full-text index
    (presslens.search), started in a thread during the assembly (_start_search), waited for
    here; the serving index (presslens.index), built during the assembly while the story
    state was written (it reads no story_* file), its time recorded."""
    search_job.result()
    manifest["index_seconds"] = index_seconds


# ---------------------------------------------------------------- assembly

# The entity table's forms: per entity, language, base form, extractor name and type, how
# many mentions (of originals) carry them; an internal file of each version, from which the
# next build updates the entity table by the articles that came or went (_entity_tables).
ENTITY_FORMS = "entity_forms.parquet"
ENTITY_FORMS_SCHEMA: dict[str, pl.DataType] = {
    "entity_id": pl.String, "language": pl.String, "lemma": pl.String, "name": pl.String,
    "entity_type": pl.String, "n": pl.Int64,
}
_FORM_KEYS = ["entity_id", "language", "lemma", "name", "entity_type"]
# Bump when the rules that derive an entity's row from its forms change (display name, type,
# names, transliteration): an incremental build then derives every entity again.
ENTITY_RULES_VERSION = 1
# Above this share of the originals coming or going, the table is counted again from all the
# mentions (as cheap as the update by then).
ENTITY_UPDATE_MAX_SHARE = 0.3


def _entity_counts(mentions: pl.LazyFrame, originals: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(counts: entity_id, mention_count, doc_count; forms: ENTITY_FORMS_SCHEMA) of the
    mentions of `originals` (doc_id, language): one join and two passes over the mentions,
    collected together (three passes, each joining again: ~150 -> ~95 ms at 10,000
    articles)."""
    m = mentions.join(originals, on="doc_id", how="inner")
    counts, forms = pl.collect_all([
        m.group_by("entity_id").agg(pl.len().cast(pl.Int64).alias("mention_count"),
                                    pl.col("doc_id").n_unique().cast(pl.Int64).alias("doc_count")),
        m.group_by(_FORM_KEYS).agg(pl.len().cast(pl.Int64).alias("n")),
    ])
    return counts, forms.select(list(ENTITY_FORMS_SCHEMA)).cast(ENTITY_FORMS_SCHEMA)


def _entity_rows(counts: pl.DataFrame, forms: pl.DataFrame) -> pl.DataFrame:
    """The entities table's rows of the entities in `counts` from their `forms`: display name
    (gazetteer's English name, else the most frequent base form), type (the most frequent; on
    a tie the first by name), names per language (each language's most frequent base form)."""
    from presslens.enrich import entities as ent

    fine_lf = forms.lazy()
    # the most frequent type; on a tie the first by name (mode alone picks one at random)
    types = (fine_lf.group_by("entity_id", "entity_type").agg(pl.col("n").sum())
             .sort(["entity_id", "n", "entity_type"], descending=[False, True, False])
             .group_by("entity_id", maintain_order=True).agg(pl.col("entity_type").first()))
    by_lang = (
        fine_lf.group_by("entity_id", "language", "lemma").agg(pl.col("n").sum())
        .sort(["entity_id", "language", "n", "lemma"], descending=[False, False, True, False])
        .group_by("entity_id", "language", maintain_order=True).agg(pl.col("lemma").first().alias("name"))
    )
    seen_names = by_lang.group_by("entity_id").agg(
        pl.struct(pl.col("language"), pl.col("name")).alias("seen_names")
    )
    top_lemma = (
        fine_lf.group_by("entity_id", pl.coalesce("name", "lemma").alias("lemma")).agg(pl.col("n").sum())
        .sort(["entity_id", "n", "lemma"], descending=[False, True, False])
        .group_by("entity_id", maintain_order=True).agg(pl.col("lemma").first().alias("top_lemma"))
    )
    out = (counts.lazy().join(types, on="entity_id", how="left").join(seen_names, on="entity_id", how="left")
           .join(top_lemma, on="entity_id", how="left").collect())
    catalog = ent.entity_catalog()
    if catalog:
        cat = pl.DataFrame(
            [{"entity_id": c["entity_id"], "cat_name": c.get("name"), "cat_type": c.get("entity_type"),
              "cat_names": c.get("names") or []} for c in catalog],
            schema={"entity_id": pl.String, "cat_name": pl.String, "cat_type": pl.String,
                    "cat_names": pl.List(pl.Struct({"language": pl.String, "name": pl.String}))},
        )
        out = out.join(cat, on="entity_id", how="left")
    else:
        out = out.with_columns(pl.lit(None, pl.String).alias("cat_name"), pl.lit(None, pl.String).alias("cat_type"),
                               pl.lit(None, pl.List(pl.Struct({"language": pl.String, "name": pl.String}))).alias("cat_names"))
    from presslens.translit import with_latin_names  # Cyrillic-only names: Latin for display

    return with_latin_names(out.select(
        "entity_id",
        pl.coalesce("cat_name", "top_lemma").alias("name"),
        pl.coalesce("cat_type", "entity_type").alias("entity_type"),
        pl.when(pl.col("cat_names").list.len() > 0).then("cat_names").otherwise("seen_names").alias("names"),
        "mention_count",
        "doc_count",
    ).sort(["mention_count", "entity_id"], descending=[True, False]))


def _entities_table(mentions: pl.LazyFrame, articles: pl.LazyFrame) -> pl.DataFrame:
    """One row per entity: display name (gazetteer's English name, else the most frequent
    base form), type, names per language, mention and article counts (duplicates excluded)."""
    originals = articles.filter(pl.col("duplicate_of").is_null()).select("doc_id", "language")
    return _entity_rows(*_entity_counts(mentions, originals))


def entity_rules_key() -> str:
    """What an entity's row depends on besides its forms and counts: the rules' version and
    the gazetteer's canonical entities (names, types). A version whose key differs has its
    rows derived again by the next incremental build."""
    from presslens.enrich import entities as ent

    rows = sorted((c["entity_id"], c.get("name"), c.get("entity_type"), repr(c.get("names") or []))
                  for c in ent.entity_catalog())
    return hashlib.sha1(repr((ENTITY_RULES_VERSION, rows)).encode("utf-8", "surrogatepass")).hexdigest()


def _entity_tables(prev: store.StoreInfo | None, docs: pl.DataFrame, mentions: pl.LazyFrame,
                   rules_key: str, fresh: pl.Series | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the entities table, its forms) of the version whose articles are `docs` (doc_id,
    duplicate_of, language) and whose mention rows are `mentions`; `fresh`: the doc_ids of the
    rows this build enriched (the others' rows, and so their mentions, are the previous
    version's).

    Incremental when the previous version has its forms: its counts and forms, minus the
    mentions of the originals that went (read from its mention rows), plus those of the
    originals that came (an original is an article with no duplicate_of; an article stays
    when its row was reused, an original before and now, with the same language; any other
    counts as gone and come again, as a file enriched again may give other mentions for the
    same text, e.g. with another sidecar row). Only the
    entities whose forms or counts changed have their rows derived again; the others keep the
    previous table's rows (all are derived again when the rules' key, `entity_rules_key`,
    differs from the previous version's). The result is the table `_entities_table` counts
    from all the mentions: a 1% rebuild at 10,000 articles reads the mentions of ~200 articles
    instead of grouping all 200,000. Falls back to counting everything when the previous
    forms are missing, unreadable or inconsistent, or too many originals changed."""
    originals = docs.filter(pl.col("duplicate_of").is_null()).select("doc_id", "language")
    update = None
    if prev is not None and (prev.directory / ENTITY_FORMS).exists():
        try:
            update = _entity_update(prev, originals, mentions, rules_key, fresh)
        except (OSError, pl.exceptions.PolarsError) as exc:
            log.warning("entities: the previous version's forms could not be used (%s): counted again", exc)
    if update is not None:
        return update
    counts, forms = _entity_counts(mentions, originals.lazy())
    return _entity_rows(counts, forms), forms.sort(_FORM_KEYS, nulls_last=True)


def _entity_update(prev: store.StoreInfo, originals: pl.DataFrame, mentions: pl.LazyFrame,
                   rules_key: str, fresh: pl.Series | None) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """_entity_tables' update from the previous version (None: count everything instead)."""
    keys = ["doc_id", "language"]
    # (a long-lived build holds the previous articles table: read from memory, not the file)
    kept = _recall("articles", [store.table_path(prev, "articles")])
    old = ((kept.lazy() if kept is not None else store.scan(prev, "articles"))
           .filter(pl.col("duplicate_of").is_null()).select(keys).collect())
    stay = originals.join(old, on=keys, how="semi", nulls_equal=True)
    if fresh is not None and len(fresh):
        stay = stay.filter(~pl.col("doc_id").is_in(fresh.implode()))
    went = old.join(stay, on=keys, how="anti", nulls_equal=True)
    came = originals.join(stay, on=keys, how="anti", nulls_equal=True)
    if went.height + came.height > ENTITY_UPDATE_MAX_SHARE * max(originals.height, 1):
        return None
    prev_forms = pl.read_parquet(prev.directory / ENTITY_FORMS)
    prev_table = pl.read_parquet(store.table_path(prev, "entities"))
    if list(prev_forms.schema.items()) != list(ENTITY_FORMS_SCHEMA.items()):
        return None
    (minus_c, minus_f), (plus_c, plus_f) = (
        _entity_counts(store.scan(prev, "mentions"), went.lazy()), _entity_counts(mentions, came.lazy()))
    sign = lambda df, k: df.with_columns([pl.col(c) * k for c in df.columns if df.schema[c] == pl.Int64])  # noqa: E731
    d_counts = (pl.concat([sign(plus_c, 1), sign(minus_c, -1)]).group_by("entity_id")
                .agg(pl.col("mention_count").sum(), pl.col("doc_count").sum()))
    d_forms = pl.concat([sign(plus_f, 1), sign(minus_f, -1)]).group_by(_FORM_KEYS).agg(pl.col("n").sum())
    forms = (pl.concat([prev_forms, d_forms]).group_by(_FORM_KEYS).agg(pl.col("n").sum())
             .filter(pl.col("n") != 0))
    counts = (pl.concat([prev_table.select("entity_id", "mention_count", "doc_count"), d_counts])
              .group_by("entity_id").agg(pl.col("mention_count").sum(), pl.col("doc_count").sum())
              .filter(pl.col("mention_count") != 0))
    if (forms["n"].min() or 1) < 0 or counts.select(
            ((pl.col("doc_count") < 1) | (pl.col("doc_count") > pl.col("mention_count"))).any()).item():
        log.warning("entities: the previous version's forms do not add up with its mentions: counted again")
        return None
    if prev.manifest.get("entity_rules") == rules_key:
        touched = pl.concat([d_counts.filter((pl.col("mention_count") != 0) | (pl.col("doc_count") != 0))
                             .select("entity_id"), d_forms.filter(pl.col("n") != 0).select("entity_id")]).unique()
    else:
        touched = counts.select("entity_id")
    redo = _entity_rows(counts.join(touched, on="entity_id", how="semi"),
                        forms.join(touched, on="entity_id", how="semi"))
    kept = prev_table.join(touched, on="entity_id", how="anti")
    table = (pl.concat([kept, redo], how="vertical_relaxed").cast(store.ENTITIES_SCHEMA)
             .sort(["mention_count", "entity_id"], descending=[True, False]))
    return table, forms.sort(_FORM_KEYS, nulls_last=True)


def build(corpus: str | os.PathLike, store_dir: str | os.PathLike, progress: Progress | None = None,
          workers: int | None = None, engine: str = "local", scheduler: str | None = None,
          batch_records: int = ingest.BATCH_RECORDS, keep_workers: bool = False,
          on_wait: Callable[[], None] | None = None, listing: Listing | None = None,
          stop: threading.Event | None = None) -> dict:
    """Build (or incrementally rebuild) the store for `corpus`; returns a summary dict.

    corpus, store_dir: local paths or fsspec URLs. engine: "local" or "dask" (ENGINES);
    scheduler: a Dask scheduler address (default: a LocalCluster of `workers` processes).
    workers: worker processes (default: one per core). batch_records: most records a
    worker holds at once. keep_workers: keep the worker pool or local cluster (with its
    loaded models) alive for the next build in this process (see shutdown_workers).
    progress(done files, total files) is called as files finish. A local store is built by
    one build at a time (store.build_lock): when another holds it (the app refreshing the
    store, a `build --watch`), on_wait() is called and this build waits, then does what is
    left to do (often nothing). listing: the corpus's files as a look (`look`) just listed
    them, so planning does not stat them again (`watch`). stop: an event whose setting stops
    the build at its next step boundary (or its wait for the lock) with BuildStopped, its
    half-written version removed and the live one untouched (`watch`).
    Raises ValueError for an unknown engine, FileNotFoundError for a missing corpus."""
    if engine not in ENGINES:
        raise ValueError(f"Unknown build engine {engine!r}: choose one of {', '.join(ENGINES)}.")
    if scheduler and engine != "dask":
        raise ValueError("A scheduler address is only used with engine 'dask'.")
    t0 = time.perf_counter()
    loc = fsio.Location(str(corpus))
    if not loc.exists():
        raise FileNotFoundError(f"Corpus folder not found: {corpus}")
    staging = _local_store(str(store_dir))
    if keep_workers:
        _watch_corpus(loc)
    lock = store.build_lock(staging.loc.path, on_wait, stop) if staging.loc.local else nullcontext()
    with lock, staging as local_store:
        summary = _build(loc, local_store, staging, progress, workers, engine, scheduler, batch_records,
                         keep_workers, t0, listing, stop)
    if keep_workers:
        _freeze_survivors()
    return summary


# A long-lived build process keeps hundreds of thousands of Python objects alive between builds
# (the NER and lemmatiser caches, the corpus listing, models: ~250,000 at 10,000 articles, growing
# with the caches). Python's oldest-generation collection walks all of them, ~100-170 ms, and one
# came every second or third warm 1% rebuild at 10k (round 22, gc.callbacks). After each build
# they are frozen (gc.freeze: left out of later collections), so a rebuild's collections see only
# what it made. Garbage frozen with them would stay, so every FULL_COLLECT_EVERY builds the
# process unfreezes and collects everything first (amortised: ~5-8 ms a build).
FULL_COLLECT_EVERY = 20
_builds_since_collect = FULL_COLLECT_EVERY - 1  # the first build collects before it freezes


def _freeze_survivors() -> None:
    """After a long-lived build: freeze what is alive (every FULL_COLLECT_EVERY builds, after a
    full collection)."""
    global _builds_since_collect
    _builds_since_collect += 1
    if _builds_since_collect >= FULL_COLLECT_EVERY:
        _builds_since_collect = 0
        gc.unfreeze()
        gc.collect()
    gc.freeze()


def watch(corpus: str | os.PathLike, store_dir: str | os.PathLike, interval: float = WATCH_INTERVAL_S,
          min_gap: float = WATCH_MIN_GAP_S, workers: int | None = None, engine: str = "local",
          scheduler: str | None = None,
          stop: threading.Event | None = None, on_build: Callable[[dict], None] | None = None,
          on_error: Callable[[BaseException], None] | None = None, progress: Progress | None = None,
          **build_kwargs: Any) -> int:
    """Keep the store in step with the corpus (`python -m presslens build --watch`): build now,
    then every `interval` seconds look for added, removed or changed files (`look`: it only
    stats them, and the build it starts plans from that listing) and rebuild when there are
    any, at most once every `min_gap` seconds (changes arriving meanwhile are taken together),
    until `stop` is set (or the process is
    interrupted). Between builds the worker pool (or local Dask cluster) stays up with its
    models loaded and this process's own state stays warm, so a rebuild after a small change
    costs what `bench_build.py` reports as a warm rebuild, not a fresh process's start-up.

    on_build(summary) is called after each build (the first one's summary says
    `unchanged` when the store was already current), on_error(exc) when a build or a
    check fails: the error is reported and watching goes on (a failed build leaves the live
    version as it was). Setting `stop` ends it, in a build too: that build stops at its next
    step boundary (BuildStopped) and is abandoned, its half-written version removed and the
    live one kept (with the local pool within STOP_POLL_S; with Dask when a task ends).
    KeyboardInterrupt stops it too. The kept workers are stopped when it returns. Returns the
    number of builds run. Raises what build raises for its arguments (an unknown engine, a
    missing corpus) before watching."""
    stop = stop or threading.Event()
    if engine not in ENGINES:
        raise ValueError(f"Unknown build engine {engine!r}: choose one of {', '.join(ENGINES)}.")
    if not fsio.Location(str(corpus)).exists():
        raise FileNotFoundError(f"Corpus folder not found: {corpus}")
    if engine == "local":
        start_workers(workers)
    builds, first = 0, True
    built: tuple | None = None  # the key of the listing the last build planned from
    compaction: _Compaction | None = None  # of the story links, while waiting for changes
    try:
        while not stop.is_set():
            looked, stale, summary = 0.0, False, {}
            try:
                t = time.perf_counter()
                stale, listing = (True, None) if first else look(corpus, store_dir)
                looked = time.perf_counter() - t
                if stale and listing is not None and listing.key() == built:
                    # the files as the last build saw them: it found their content unchanged
                    # and would find it again (a file touched, not edited, in a store at a URL:
                    # no new version records its mtime there; a local store's does, see
                    # _restat_version)
                    stale = False
                if stale:
                    started = time.perf_counter()
                    built = None
                    if compaction is not None:
                        compaction.stop()
                        compaction = None
                    summary = build(corpus, store_dir, progress=progress, workers=workers, engine=engine,
                                    scheduler=scheduler, keep_workers=True, listing=listing, stop=stop,
                                    **build_kwargs)
                    built = listing.key() if listing is not None else None
                    builds += 1
                    if on_build is not None:
                        on_build(summary)
                    try:  # (also after a first build that found the store current)
                        compaction = _Compaction.start(store_dir)
                    except OSError as exc:  # (the build itself succeeded)
                        log.warning("story links compaction not started: %s", exc)
            except BuildStopped:  # `stop` set during a build: abandoned, the live version untouched
                break
            except Exception as exc:  # reported; the live version is untouched (builds are atomic)
                if on_error is None:
                    raise
                on_error(exc)
            first = False
            wait = watch_wait(interval, looked)
            if stale and not summary.get("unchanged"):  # (a version was published)
                wait = max(wait, min_gap - (time.perf_counter() - started))
            stop.wait(wait)
    finally:
        if compaction is not None:
            compaction.stop()
        shutdown_workers()
    return builds


class _Compaction:
    """The story links of a published local version written again as one file
    (stories.compact_links) in a process of its own, at a lower priority, while `watch` waits
    for changes: the next rebuild then starts from that file instead of carrying a growing
    delta (and, every few rebuilds, writing the whole table: ~50-70 s at 100,000 articles).
    `stop` ends it when a build is about to start (terminated if still writing; its partial
    file removed), so a build never waits for it and never runs beside it."""

    def __init__(self, directory: Path) -> None:
        from presslens import stories

        self.directory = directory
        ctx = mp.get_context("spawn")
        # (the thresholds as this process has them: a spawned process imports the defaults)
        self.proc = ctx.Process(target=_compact_main, name="presslens-compact", daemon=True,
                                args=(str(directory), stories.COMPACT_MIN_LINKS, stories.COMPACT_SHARE))
        with _plain_main():
            self.proc.start()

    def stop(self) -> None:
        from presslens import stories

        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(10)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(10)
        for part in self.directory.glob(f"{stories.COMPACTING_PREFIX}*"):
            part.unlink(missing_ok=True)

    @staticmethod
    def start(store_dir: str | os.PathLike) -> "_Compaction | None":
        """A compaction of the live version of local store `store_dir`, when its links are
        worth it (stories.links_to_compact); else None."""
        from presslens import stories

        if not fsio.Location(str(store_dir)).local:
            return None
        info = store.current(Path(store_dir))
        if info is None or not stories.links_to_compact(info.directory):
            return None
        return _Compaction(info.directory)


def _compact_main(directory: str, min_links: int, share: float) -> None:
    """The compaction process: stories.compact_links at a lower priority than the app and the
    build (a failure leaves the version as it was: the next build carries its delta on)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the watching process's to handle
    try:
        os.nice(10)
    except (AttributeError, OSError):
        pass
    from presslens import stories

    try:
        stories.compact_links(directory, min_links, share)
    except Exception as exc:  # noqa: BLE001 (a warning, not a traceback in the watch's output)
        log.warning("the story links of %s were not compacted (%s: %s); the next build carries their delta",
                    directory, type(exc).__name__, exc)


def watch_wait(interval: float, look_seconds: float) -> float:
    """Seconds `watch` waits before its next look: the interval asked for, or, when looking
    took long (a large corpus), WATCH_LOOK_SPACING times the last look's duration."""
    return max(interval, WATCH_LOOK_SPACING * look_seconds)


def _build(loc: fsio.Location, store_dir: Path, staging: _local_store, progress: Progress | None,
           workers: int | None, engine: str, scheduler: str | None, batch_records: int, keep: bool,
           t0: float, listing: Listing | None = None, stop: threading.Event | None = None) -> dict:
    prev = store.current(store_dir)
    if prev is not None and prev.manifest.get("pipeline_version") != store.PIPELINE_VERSION:
        prev = None  # enrichment changed: every file is processed again
    sidecar, side_rejects, side_mtime = _load_sidecar(loc)
    link_rejects: list[Reject] = []
    file_rows, todo, reused, n_old, deferred, restat = _plan(loc, prev, sidecar, link_rejects, listing)
    side_rejects = [*side_rejects, *link_rejects]
    links_digest = _links_digest(link_rejects)
    if (prev is not None and not todo and len(reused) == n_old
            and prev.manifest.get("sidecar_mtime_ns") == side_mtime
            and prev.manifest.get("refused_links") == links_digest):
        if progress:
            progress(0, 0)
        if restat and staging.loc.local:
            # files touched but not edited: the same data, in a version whose files table
            # records their size and mtime as they are now, so the next staleness check (the
            # app's, at every new session) stats them again instead of hashing them again
            prev = _restat_version(store_dir, prev, file_rows, t0)
        where = str(prev.directory) if staging.loc.local else staging.loc.url.rstrip("/") + "/" + prev.directory.name
        return dict(prev.manifest, store=where, processed_files=0, reused_files=len(reused), unchanged=True,
                    restat_files=len(restat) if staging.loc.local else 0, seconds=round(time.perf_counter() - t0, 3))
    tmp = store.begin(store_dir)
    shards = tmp / "shards"
    shards.mkdir()
    remote_shards = None
    try:
        rejects: list[dict] = [{"path": r.path, "record": r.record, "reason": r.reason} for r in side_rejects]
        if rejects:
            _write_shard(rejects, "rejects", str(shards), "rejects-sidecar.parquet")
        # new files are hashed while the workers start and enrich (see _plan)
        hashing = _Background(_hash_rows, deferred)
        n_workers = workers or os.cpu_count() or 1
        shard_dir = str(shards)
        if engine == "dask" and not staging.loc.local:
            # Remote workers cannot write into this machine's staging folder: they write
            # their shards next to the store, and the driver fetches each task's shards.
            remote_shards = staging.loc.url.rstrip("/") + f"/.tmp-{uuid.uuid4().hex}/shards"
            shard_dir = remote_shards
        runner = _runner(engine, n_workers, len(todo), scheduler, keep)
        tasks, start = [], 0
        for k, size in enumerate(_task_sizes(len(todo), getattr(runner, "n_workers", n_workers))):
            tasks.append(Task(f"t{k:06d}", loc.url, tuple(todo[start:start + size]), shard_dir, batch_records))
            start += size
        try:
            _run_tasks(runner, tasks, shards, progress, len(todo), stop)
        finally:
            runner.close()
        hashing.result()
        _stop_point(stop)
        info = _assemble(tmp, shards, prev, reused, file_rows, loc, side_mtime, len(todo), t0,
                         links_digest, remember=keep and staging.loc.local, stop=stop)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if remote_shards is not None:
            rs = fsio.Location(remote_shards.rsplit("/", 1)[0])
            if rs.fs.exists(rs.root):
                rs.fs.rm(rs.root, recursive=True)
    where = staging.push(info)
    return dict(info.manifest, store=where)


def _restat_version(store_dir: Path, prev: store.StoreInfo, file_rows: list[dict], t0: float) -> store.StoreInfo:
    """Publish a version holding `prev`'s data unchanged (every file hard-linked: nothing in a
    version is written in place) with a files table of `file_rows`, which record the input
    files' size and mtime as this build saw them, their content keys those of `prev`. Its
    corpus version is `prev`'s: links made on it stay current."""
    tmp = store.begin(store_dir)
    try:
        # every file hard-linked but those written anew, the live version's retirement mark,
        # and what a build in progress may have left in it
        fresh = {"files.parquet", "manifest.json", store.RETIRED_MARK, "shards"}
        fsio.hardlink_tree(prev.directory, tmp, skip=lambda name: name in fresh or name.startswith((".tmp-", ".index-")),
                           copy=search.TANTIVY_MUTABLE)
        files_df = pl.DataFrame(file_rows, schema=store.FILES_SCHEMA)
        store.write_table(tmp, "files", files_df)
        manifest = {k: v for k, v in prev.manifest.items() if k not in ("written_at", "pipeline_version")}
        manifest.update(version=store.corpus_version(files_df), processed_files=0, reused_files=len(file_rows),
                        seconds=round(time.perf_counter() - t0, 3))
        return store.publish(store_dir, tmp, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _assemble(tmp: Path, shards: Path, prev: store.StoreInfo | None, reused: list[str], file_rows: list[dict], loc: fsio.Location, side_mtime: int | None, n_todo: int,
              t0: float, links_digest: str | None = None, remember: bool = False,
              stop: threading.Event | None = None) -> store.StoreInfo:
    """Write every table of the new version from the shards and the reused rows, run the
    post-build steps and publish the version. `remember`: keep the new articles table and
    story state in memory for the next build in this process when small enough
    (KEPT_TABLE_MAX_BYTES); a table kept by an earlier build is used whenever it is the live one's.
    `stop`: see build (looked at between the steps, and last before publishing).

    Memory: nothing here holds the article texts or the mentions at once (but the articles
    table of a store small enough to be kept in memory, `remember`: at most
    KEPT_TABLE_MAX_BYTES, twice while the new one is written). Both tables are
    streamed from the reused rows and the shards (in input order: the reused rows, then
    the new ones by file and batch) without a global sort; what is held is one small key
    row per article (doc id, path, record, dedup key) to mark duplicates, and the
    aggregated entity tables."""
    # Old rows for reused files.
    article_parts: list[pl.LazyFrame] = []
    mention_parts: list[pl.LazyFrame] = []
    old_doc_entities: pl.LazyFrame | None = None
    reuse_df = pl.DataFrame({"path": reused}, schema={"path": pl.String})
    kept = _recall("articles", [store.table_path(prev, "articles")]) if prev is not None else None
    if prev is not None and reused:
        # (in the previous table's order, read from memory or from the file alike: the story
        # step's buckets follow the articles' order)
        old_articles = (kept.lazy() if kept is not None else store.scan(prev, "articles")).join(
            reuse_df.lazy(), on="path", how="semi", maintain_order="left")
        article_parts.append(store.conform_lazy(old_articles, "articles").drop("duplicate_of"))
        old_ids = old_articles.select("doc_id")
        mention_parts.append(store.scan(prev, "mentions").join(old_ids, on="doc_id", how="semi",
                                                                 maintain_order="left"))
        # their doc_entities rows too: the table counts each article's mentions apart, so the
        # reused articles' rows are the previous version's (doc_entities_of is what wrote them)
        old_doc_entities = store.scan(prev, "doc_entities").join(old_ids, on="doc_id", how="semi")
        reject_parts = [store.scan(prev, "rejects").join(reuse_df.lazy(), on="path", how="semi")]
    else:
        reject_parts = []
    if any(shards.glob("rejects-*.parquet")):
        reject_parts.append(pl.scan_parquet(shards / "rejects-*.parquet"))
    new_rows = None  # the rows this build enriched
    shard_bytes = 0
    if any(shards.glob("articles-*.parquet")):
        new_rows = pl.scan_parquet(shards / "articles-*.parquet")
        article_parts.append(new_rows.drop("duplicate_of"))
        shard_bytes = sum(p.stat().st_size for p in shards.glob("articles-*.parquet"))
    # the new table is collected (to be kept in memory) only when it will be small enough
    new_table: list[pl.DataFrame] | None = None
    if remember:
        if kept is not None:
            old_bytes = kept.estimated_size()
        elif prev is not None:
            old_bytes = ARTICLES_MEMORY_RATIO * store.table_path(prev, "articles").stat().st_size
        else:
            old_bytes = 0
        if old_bytes + ARTICLES_MEMORY_RATIO * shard_bytes <= KEPT_TABLE_MAX_BYTES:
            new_table = []
    new_state: list[stories.StoryState] | None = [] if remember else None
    del kept
    new_mentions = None  # the mention rows this build made
    if any(shards.glob("mentions-*.parquet")):
        new_mentions = pl.scan_parquet(shards / "mentions-*.parquet").select(list(store.MENTIONS_SCHEMA))
        mention_parts.append(new_mentions)

    if article_parts:
        assembled = pl.concat([store.conform_lazy(p.with_columns(pl.lit(None, pl.String).alias("duplicate_of")),
                                                 "articles") for p in article_parts], how="vertical_relaxed")
    else:
        assembled = store.empty("articles").lazy()
    # duplicate_of: the first copy (by path, record) of each dedup key.
    keys = (assembled.select("doc_id", "path", "record", "dedup_key").sort(["path", "record"], nulls_last=False)
            .with_columns(pl.col("doc_id").first().over("dedup_key").alias("first"))
            .select("doc_id", pl.when(pl.col("first") != pl.col("doc_id")).then("first").alias("dup"))
            .collect())
    articles = (assembled.join(keys.lazy(), on="doc_id", how="left", maintain_order="left")
                .with_columns(pl.col("dup").alias("duplicate_of")).drop("dup"))
    # The steps that run in threads (the full-text index, written from the assembled rows: their
    # order is the table's, as the joins here and in _group_stories keep the left order; and
    # the mention tables) start once the story step has read the few articles it groups anew
    # (`start_jobs`, its before_grouping): their Polars work shares Polars' thread pool with
    # those small reads, which waited behind it (a 1% rebuild at 10k: the story step's reads
    # took ~0.15 s with the threads running, ~0.03 s without). The search job reads the
    # shards, so it is waited for before they are removed.
    prev_dir = prev.directory if prev is not None else None
    jobs: dict[str, _Background] = {}
    try:
        if mention_parts:
            mentions = pl.concat([p.select(list(store.MENTIONS_SCHEMA)) for p in mention_parts], how="vertical_relaxed")
        else:
            mentions = store.empty("mentions").lazy()
        # the articles' keys, read once for the entity table and the story step
        from presslens import stories

        docs = articles.select("doc_id", "duplicate_of", "language", stories.story_key()).collect()
        rules_key = entity_rules_key()
        fresh_ids = new_rows.select("doc_id").collect()["doc_id"] if new_rows is not None else None

        def entity_tables() -> None:
            store.write_table(tmp, "mentions", mentions)
            mentions_final = pl.scan_parquet(tmp / "mentions.parquet")
            if old_doc_entities is not None:  # the reused articles' rows, and the new mentions counted
                parts = [old_doc_entities] + ([doc_entities_of(new_mentions)] if new_mentions is not None else [])
                doc_entities = pl.concat(parts, how="vertical_relaxed").sort(DOC_ENTITIES_ORDER)
            else:
                doc_entities = doc_entities_of(mentions_final)
            store.write_table(tmp, "doc_entities", doc_entities)
            table, forms = _entity_tables(prev, docs, mentions_final, rules_key, fresh_ids)
            store.write_table(tmp, "entities", table)
            forms.write_parquet(tmp / ENTITY_FORMS, compression="zstd", compression_level=store.ZSTD_LEVEL)

        def start_jobs() -> None:
            """Start the threads (once): the full-text index, and the mention tables in stores
            small enough that the two memory peaks (doc_entities' sort, the grouping) may add
            up (Polars releases the GIL; on two cores the workers are idle by now)."""
            if "search" not in jobs:
                jobs["search"] = _start_search(tmp, assembled, prev_dir)
                if docs.height <= ENTITY_THREAD_MAX:
                    jobs["entity"] = _Background(entity_tables)

        def entity_job_wait(result: bool = False) -> None:
            """Wait for the mention-table thread, if one runs (`result`: and raise its error)."""
            job = jobs.get("entity")
            if job is not None and result:
                job.result()
            elif job is not None:
                job.wait()

        if docs.height > ENTITY_THREAD_MAX:
            # in larger stores the mention tables are written first, in line: a large grouping
            # waits for doc_entities.parquet anyway
            start_jobs()
            entity_tables()

        def doc_entities_for(ids: pl.Series) -> pl.LazyFrame:
            """The story step's doc_entities rows of `ids`: a few articles' (an incremental
            build) counted without waiting for the thread, from this build's mention shards
            when it enriched them all (~0.07 s less than the assembled rows at 10k), else from
            the assembled mention rows; more read from doc_entities.parquet once it is written."""
            if len(ids) <= STORY_BATCH:
                source = mentions
                if new_mentions is not None and fresh_ids is not None and ids.is_in(fresh_ids.implode()).all():
                    source = new_mentions
                return doc_entities_of(source.filter(pl.col("doc_id").is_in(ids.implode())))
            start_jobs()
            entity_job_wait()  # (its error, if any, is raised below)
            return pl.scan_parquet(tmp / "doc_entities.parquet")

        rejects_lf = (pl.concat([store.conform_lazy(p, "rejects") for p in reject_parts], how="vertical_relaxed")
                      if reject_parts else store.empty("rejects").lazy())
        store.write_table(tmp, "rejects", rejects_lf.sort(["path", "record", "reason"], nulls_last=False))
        files_df = pl.DataFrame(file_rows, schema=store.FILES_SCHEMA)
        store.write_table(tmp, "files", files_df)
        index_seconds: list[float] = []

        def serving_index() -> None:
            """The serving index, built while the story state and links are written (in their
            thread; it reads no story_* file: a warm 1% rebuild at 10k, ~0.1 s less); built
            again, from scratch, if the state then fails (the articles' story ids change)."""
            from presslens import index

            start_jobs()  # (normally started by the story step)
            entity_job_wait(result=True)  # the index reads the mention tables
            shutil.rmtree(tmp / index.INDEX_DIR, ignore_errors=True)
            index_seconds[:] = [_build_index(tmp, prev_dir)]

        _stop_point(stop)  # (before the story step: a long one in a large store)
        try:
            # articles.parquet is written once, with its story_id, when the story step can read
            # the few articles it groups anew from the assembled rows (an incremental build);
            # otherwise it is written first and rewritten with the story ids (see _group_stories)
            story_summary = _group_stories(tmp, prev, articles, docs.select("doc_id", "duplicate_of", "story_key"),
                                           doc_entities_for=doc_entities_for, new_rows=new_rows,
                                           meanwhile=serving_index, before_grouping=start_jobs,
                                           collected=new_table, collected_state=new_state)
        finally:
            entity_job_wait()
        start_jobs()
        entity_job_wait(result=True)
        mentions_final = pl.scan_parquet(tmp / "mentions.parquet")
    finally:
        if "search" in jobs:
            jobs["search"].wait()  # its error, if any, is raised in _post_build
    _stop_point(stop)
    n_rejects = pl.scan_parquet(tmp / "rejects.parquet").select(pl.len()).collect().item()
    shutil.rmtree(shards, ignore_errors=True)

    # the counts from the articles' keys read above (the rows articles.parquet holds), not
    # from the table read again
    stats = docs.select(
        pl.len().alias("articles"),
        pl.col("duplicate_of").is_not_null().sum().alias("duplicates"),
    ).row(0, named=True)
    by_lang = dict(docs.group_by("language").agg(pl.len()).sort(["len", "language"], descending=[True, False])
                   .iter_rows())
    n_mentions = mentions_final.select(pl.len()).collect().item()
    manifest = {
        "version": store.corpus_version(files_df),
        "corpus": str(loc.path.resolve()) if loc.local else loc.url,
        "sidecar_mtime_ns": side_mtime,
        "refused_links": links_digest,  # see _links_digest
        "files": len(file_rows),
        "processed_files": n_todo,
        "reused_files": len(reused),
        "articles": stats["articles"],
        "duplicates": stats["duplicates"],
        "by_language": {str(k): v for k, v in by_lang.items()},
        "rejects": n_rejects,
        "mentions": n_mentions,
        "entity_rules": rules_key,  # (what the entity table's rows were derived with: _entity_tables)
        **story_summary,
    }
    _post_build(manifest, jobs["search"], index_seconds[0])
    manifest["seconds"] = round(time.perf_counter() - t0, 3)
    _stop_point(stop)  # the last boundary: from here the version is published
    info = store.publish(tmp.parent, tmp, manifest)
    if remember:  # (what the previous build kept is forgotten when the new tables are not kept)
        _keep("articles", [store.table_path(info, "articles")], new_table[-1] if new_table else None)
        state = new_state[-1] if new_state else None
        _keep("story state", _state_files(info.directory),
              (state.signatures, state.names, state.kept) if state is not None else None)
        _keep("links delta", _delta_files(info.directory), state.written_links() if state is not None else None)
    return info


def restat_note(summary: dict) -> str:
    """What a build summary says of the files whose only change was their modification time
    (recorded by _restat_version), or "" when there were none: for the CLI, `--watch` and
    the app alike."""
    n = summary.get("restat_files") or 0
    return f"recorded the new modification time of {n:,} file(s) whose content did not change" if n else ""


def format_summary(summary: dict, rejects: pl.DataFrame | None = None, limit: int = 20) -> str:
    """The human-readable build summary printed by the CLI."""
    langs = ", ".join(f"{k} {v}" for k, v in summary["by_language"].items()) or "none"
    lines = [
        f"presslens store {summary['version']} at {summary['store']}",
        f"  files: {summary['files']} ({summary['processed_files']} processed, {summary['reused_files']} unchanged)",
        *([f"  {note}"] if (note := restat_note(summary)) else []),
        f"  articles: {summary['articles']} (duplicates: {summary['duplicates']})",
        f"  by language: {langs}",
        f"  entity mentions: {summary['mentions']}",
        f"  rejected: {summary['rejects']}",
        *([f"  stories: {summary['stories']} ({summary.get('story_links', 0)} links between articles)"]
          if "stories" in summary else []),
        *([f"  story grouping failed, every article is its own story: {summary['stories_error']}"]
          if summary.get("stories_error") else []),
        f"  time: {summary['seconds']:.2f} s",
    ]
    if rejects is not None and rejects.height:
        for r in rejects.head(limit).iter_rows(named=True):
            where = r["path"] + (f" (record {r['record']})" if r["record"] is not None else "")
            lines.append(f"    rejected {where}: {r['reason']}")
        if rejects.height > limit:
            lines.append(f"    ... and {rejects.height - limit} more (python -m presslens rejects)")
    return "\n".join(lines)
