"""The Dask engine writes the same store as the local build; failures become rejects; the
CLI refuses engines it does not know. An in-process LocalCluster keeps these tests fast."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from presslens import build as b
from presslens import store
from presslens.__main__ import main

distributed = pytest.importorskip("distributed")

SEEDS = Path(__file__).resolve().parent.parent / "data" / "corpus"
SORT = {"articles": ["path", "record"], "mentions": ["doc_id", "start", "end"], "entities": ["entity_id"],
        "rejects": ["path", "record", "reason"], "doc_entities": ["doc_id", "entity_id"], "files": ["path"]}


@pytest.fixture(scope="module")
def cluster():
    """One in-process worker: tasks run in this process, so monkeypatches and memory://
    apply to them, and no model is loaded twice."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0", silence_logs=40) as c:
        yield c


def _corpus(dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted(SEEDS.glob("*.txt"))[:3]:
        shutil.copy2(f, dst / f.name)
    rows = [{"text": "Russia and North Korea signed a defence pact in Pyongyang, Reuters reported.", "title": "Pact"},
            {"title": "no text here"},
            {"text": "Володимир Зеленський заявив у Києві, що Росія отримала ракети з КНДР.", "url": "https://unian.ua/x"}]
    (dst / "sub").mkdir(exist_ok=True)
    (dst / "sub" / "export.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{bad\n",
                                              encoding="utf-8")
    (dst / "empty.txt").write_bytes(b"")
    return dst


def _tables(store_dir: str) -> dict[str, pl.DataFrame]:
    with b._local_store(store_dir) as local:
        info = store.current(local)
        out = {}
        for t in store.TABLES:
            df = pl.read_parquet(store.table_path(info, t))
            keys = SORT.get(t) or [c for c, d in df.schema.items() if not d.is_nested()]
            out[t] = df.sort(keys, nulls_last=True)
        return out


def _equal(a: dict[str, pl.DataFrame], d: dict[str, pl.DataFrame]) -> None:
    for t in store.TABLES:
        left, right = a[t], d[t]
        if t == "files":  # mtimes differ between two copies of a corpus; content keys must not
            left, right = left.drop("mtime_ns"), right.drop("mtime_ns")
        assert_frame_equal(left, right, check_row_order=True)


def test_dask_build_equals_local_build(tmp_path, cluster):
    corpus = _corpus(tmp_path / "c")
    local = b.build(corpus, tmp_path / "local")
    seen = []
    dask = b.build(corpus, tmp_path / "dask", engine="dask", scheduler=cluster.scheduler_address,
                   progress=lambda done, total: seen.append((done, total)))
    for k in ("version", "articles", "rejects", "mentions", "duplicates", "files"):
        assert local[k] == dask[k], k
    assert local["articles"] == 5 and local["rejects"] == 3  # empty file, row without text, bad line
    _equal(_tables(str(tmp_path / "local")), _tables(str(tmp_path / "dask")))
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)


def test_dask_build_reads_and_writes_fsspec_urls(tmp_path, cluster):
    import fsspec

    corpus = _corpus(tmp_path / "c")
    b.build(corpus, tmp_path / "local")
    url = f"memory://presslens-test-{tmp_path.name}/store"
    summary = b.build(corpus.as_uri(), url, engine="dask", scheduler=cluster.scheduler_address)
    assert summary["store"].startswith(url)
    _equal(_tables(str(tmp_path / "local")), _tables(url))
    # a second build finds nothing to do; a changed file is the only one processed
    assert b.build(corpus.as_uri(), url, engine="dask", scheduler=cluster.scheduler_address)["processed_files"] == 0
    assert not b.is_stale(corpus.as_uri(), url)
    (corpus / "new.txt").write_text("Kim Jong Un met Vladimir Putin in Vladivostok, TASS reported.", encoding="utf-8")
    assert b.is_stale(corpus.as_uri(), url)
    again = b.build(corpus.as_uri(), url, engine="dask", scheduler=cluster.scheduler_address)
    assert again["processed_files"] == 1 and again["articles"] == 6
    fs = fsspec.filesystem("memory")
    versions = [p for p in fs.ls(f"/presslens-test-{tmp_path.name}/store", detail=False) if "/v-" in p]
    assert len(versions) == 2  # the live version and the one it replaced
    assert not [p for p in fs.ls(f"/presslens-test-{tmp_path.name}/store", detail=False) if "/.tmp-" in p]


def test_worker_failure_on_one_file_is_a_reject_and_the_build_finishes(tmp_path, cluster, monkeypatch):
    corpus = _corpus(tmp_path / "c")
    victim = sorted(p.name for p in corpus.glob("*.txt") if p.stat().st_size)[1]
    real = b._read_file

    calls = []

    def flaky(task, rel, side):
        calls.append(len(task.items))
        if rel == victim:
            raise MemoryError("worker ran out of memory")
        return real(task, rel, side)

    monkeypatch.setattr(b, "_read_file", flaky)
    summary = b.build(corpus, tmp_path / "s", engine="dask", scheduler=cluster.scheduler_address)
    t = _tables(str(tmp_path / "s"))
    assert summary["articles"] == 4
    assert max(calls) > 1 and calls.count(1) >= 2  # the failed task was redone file by file
    assert victim not in t["articles"]["path"].to_list()
    reason = t["rejects"].filter(pl.col("path") == victim)["reason"].to_list()
    assert len(reason) == 1 and "MemoryError" in reason[0] and "worker ran out of memory" in reason[0]
    # the other files of the failed task were redone: every input is accounted for
    files = {p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file()}
    assert set(t["articles"]["path"]) | set(t["rejects"]["path"]) == files


def test_cli_refuses_an_unknown_engine(tmp_path, capsys):
    corpus = _corpus(tmp_path / "c")
    code = main(["build", "--corpus", str(corpus), "--store", str(tmp_path / "s"), "--engine", "spark", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown --engine 'spark'" in err and "local, dask" in err
    assert not (tmp_path / "s").exists()


def test_build_refuses_an_unknown_engine(tmp_path):
    with pytest.raises(ValueError, match="Unknown build engine 'ray'"):
        b.build(_corpus(tmp_path / "c"), tmp_path / "s", engine="ray")


def test_a_build_whose_workers_all_fail_stops_and_keeps_the_live_store(tmp_path, cluster, monkeypatch):
    corpus = _corpus(tmp_path / "c")
    st = tmp_path / "s"
    b.build(corpus, st)
    before = store.current(st)
    (corpus / "new.txt").write_text("Kim Jong Un met Vladimir Putin in Vladivostok, TASS reported.", encoding="utf-8")

    def broken(task, rel, side):
        raise RuntimeError("worker cannot start")

    monkeypatch.setattr(b, "_read_file", broken)
    with pytest.raises(RuntimeError, match="failed on every file tried"):
        b.build(corpus, st, engine="dask", scheduler=cluster.scheduler_address)
    assert store.current(st).directory == before.directory


def test_a_stopped_dask_build_waits_for_the_tasks_its_workers_are_running(tmp_path, monkeypatch):
    """Dask cannot stop a task a worker is running; a build asked to stop (`build --watch` on
    Ctrl-C) cancels the tasks not started and waits for the running ones before it removes its
    folder, so no task writes its shards after the build has gone (into a removed folder, or
    as stray files next to a remote store). Nothing is published."""
    import threading
    import time

    corpus = _corpus(tmp_path / "c")
    st = tmp_path / "s"
    stop = threading.Event()
    events: list[tuple[float, str]] = []
    read_file, write_shard, slept = b._read_file, b._write_shard, set()

    def reading(task, rel, side):
        if task.task_id == "t000000":  # the first task asks the build to stop, and ends at once
            stop.set()
        elif task.task_id not in slept:  # the other is still running when the build sees it
            slept.add(task.task_id)
            time.sleep(1.5)
        yield from read_file(task, rel, side)

    def writing(rows, table, shard_dir, name):
        events.append((time.monotonic(), "a shard written" if "-t000000-" not in name else "first task"))
        return write_shard(rows, table, shard_dir, name)

    monkeypatch.setattr(b, "_read_file", reading)
    monkeypatch.setattr(b, "_write_shard", writing)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0", silence_logs=40) as two:
        with pytest.raises(b.BuildStopped):
            b.build(corpus, st, engine="dask", scheduler=two.scheduler_address, workers=2, stop=stop)
        events.append((time.monotonic(), "build stopped"))
        time.sleep(2.5)  # (long enough for a task left running to end)
    order = [e for _, e in sorted(events) if e != "first task"]
    assert order[-1] == "build stopped" and "a shard written" in order, order
    assert store.current(st) is None
    assert not [p.name for p in st.iterdir() if p.name.startswith(".tmp-")]


def test_a_dask_build_stopped_while_a_task_runs_does_not_start_the_next(tmp_path, monkeypatch):
    """A stop asked while a worker runs a long task is seen then, not when the task ends: the
    tasks not started are dropped (as the local pool does), the running one is waited for."""
    import threading
    import time

    corpus = _corpus(tmp_path / "c")
    for k in range(4):  # more tasks than the worker's one thread
        (corpus / f"more{k}.txt").write_text(f"Kim Jong Un met Vladimir Putin in Vladivostok {k}.", encoding="utf-8")
    st = tmp_path / "s"
    stop = threading.Event()
    started: list[str] = []
    read_file = b._read_file

    def reading(task, rel, side):
        if task.task_id not in started:
            started.append(task.task_id)
            if len(started) == 1:  # the first task asks the build to stop, then runs on
                stop.set()
                time.sleep(1.5)
        yield from read_file(task, rel, side)

    monkeypatch.setattr(b, "_read_file", reading)
    monkeypatch.setattr(b, "GATHER_RECORDS", 1)  # (one task per file: guided task sizes)
    monkeypatch.setattr(b, "MIN_TASK_FILES", 1)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0", silence_logs=40) as one:
        with pytest.raises(b.BuildStopped):
            b.build(corpus, st, engine="dask", scheduler=one.scheduler_address, workers=1, stop=stop)
        time.sleep(1.0)  # (a task wrongly left to start would have started by now)
    assert len(started) == 1, started
    assert store.current(st) is None


def test_abandoning_dask_tasks_gives_up_when_the_workers_cannot_say_or_take_too_long(monkeypatch, caplog):
    """A stopped build waits for its running Dask tasks only while the workers can say which
    run, and DASK_ABANDON_WAIT_S at most: it never hangs on a lost cluster or a stuck task,
    and it says so."""
    import logging
    import time

    class Future:
        key = "presslens-t000000-abc"

    class Client:
        def __init__(self, run):
            self.run, self.cancelled = run, []

        def cancel(self, futures):
            self.cancelled.extend(futures)

    def runner(run):
        r = object.__new__(b._Dask)
        r.client, r.pending = Client(run), {Future(): None}
        return r

    def lost(_fn):
        raise OSError("Timed out trying to connect to the scheduler")

    monkeypatch.setattr(b, "DASK_ABANDON_POLL_S", 0.01)
    monkeypatch.setattr(b, "DASK_ABANDON_WAIT_S", 0.3)
    with caplog.at_level(logging.WARNING, logger="presslens.build"):
        r = runner(lost)
        r.abandon()
        assert len(r.client.cancelled) == 1 and r.pending == {}
        assert "could not ask the Dask workers" in caplog.text
        t = time.monotonic()
        runner(lambda _fn: {"tcp://w1": ["presslens-t000000-abc"]}).abandon()  # never ends
        assert 0.3 <= time.monotonic() - t < 5
        assert "still run after" in caplog.text
        t = time.monotonic()
        runner(lambda _fn: {"tcp://w1": ["someone-else"]}).abandon()  # not ours: no wait
        assert time.monotonic() - t < 0.3
