"""How a build cuts its files into worker tasks (presslens.build._task_sizes), and how a worker
enriches a task's files (run_task)."""
from __future__ import annotations

import pytest

from conftest import fail_crf_scores_on
from presslens import build as b


@pytest.mark.parametrize("n_files,n_workers", [(0, 2), (1, 1), (5, 2), (39, 2), (100, 2), (3609, 2), (10_000, 2),
                                               (10_000, 16)])
def test_every_file_is_in_exactly_one_task_and_tasks_shrink_towards_the_end(n_files, n_workers):
    sizes = b._task_sizes(n_files, n_workers)
    assert sum(sizes) == n_files and all(s >= 1 for s in sizes)
    body = sizes[:-1]  # the last task takes whatever is left
    assert all(x >= y for x, y in zip(body, body[1:]))
    assert max(sizes, default=0) <= b.CHUNK_FILES
    if n_files >= 1000:
        # the last task of each worker is small: nobody waits long for a 200-file task
        assert max(sizes[-n_workers:]) <= b.MIN_TASK_FILES
        # and tasks stay big enough that their fixed cost does not dominate
        assert min(sizes[:-1]) >= b.MIN_TASK_FILES


def test_a_small_rebuild_is_one_task_per_worker():
    # 5 changed files and a warm pool of 2: both workers get files, each in one task (its
    # files' entities decoded in one batch), not one task for one worker nor one per file
    assert b._task_sizes(5, 2) == [3, 2]
    assert b._task_sizes(100, 2) == [50, 50]
    assert b._task_sizes(1, 2) == [1]
    assert b._task_sizes(2 * b.GATHER_RECORDS, 2) == [b.GATHER_RECORDS] * 2
    assert len(b._task_sizes(2 * b.GATHER_RECORDS + 1, 2)) > 2  # a larger job: guided scheduling


def _shard_rows(shard_dir, res) -> dict[str, list[dict]]:
    import polars as pl

    out: dict[str, list[dict]] = {}
    for name in res["shards"]:
        out.setdefault(name.split("-")[0], []).extend(pl.read_parquet(f"{shard_dir}/{name}").to_dicts())
    return out


def test_records_of_several_files_enriched_together_give_the_same_rows_and_rejects(tmp_path, monkeypatch):
    """A worker enriches the records of consecutive files together (run_task gathers up to
    GATHER_RECORDS of them for the batched entity decoding): the shards hold the same rows,
    in the same order, as enriching one record at a time; a record whose analysis raises
    is a reject with its reason, and its neighbours in the batch are unaffected."""
    from presslens import ingest

    corpus = tmp_path / "c"
    corpus.mkdir()
    texts = [
        "Президент России Владимир Путин встретился в Пхеньяне с Ким Чен Ыном, сообщает ТАСС.",
        "Президент України Володимир Зеленський заявив у Києві, що Росія отримала ракети з КНДР.",
        "Лоукостер Ryanair скасував рейси з Дубліна, повідомив генеральний директор Майкл О'Лірі.",
        "Russian President Vladimir Putin met Kim Jong Un in Pyongyang on Monday, Reuters reported.",
        "Traian Băsescu a plecat la Bruxelles pentru întâlnirea cu liderii Uniunii Europene (UE).",
        "",
    ]
    for k, t in enumerate(texts):
        (corpus / f"a{k}.txt").write_text(t, encoding="utf-8")
    (corpus / "b.jsonl").write_text("\n".join(
        '{"text": "%s"}' % t for t in ("Boris Johnson told the BBC that NATO would meet.", "Ким Чен Ын прибыл в Москву.")),
        encoding="utf-8")
    items = tuple((p.name, None) for p in sorted(corpus.iterdir()))
    fail_crf_scores_on(monkeypatch, "Ryanair")
    got = {}
    for gather in (1, 128):
        monkeypatch.setattr(b, "GATHER_RECORDS", gather)
        shards = tmp_path / f"s{gather}"
        shards.mkdir()
        res = b.run_task(b.Task("t0", str(corpus), items, str(shards), ingest.BATCH_RECORDS))
        assert res["files"] == len(items)
        got[gather] = _shard_rows(shards, res)
    assert got[1] == got[128]
    rows = got[128]
    # 8 records: the empty file is a reject of the reader, the Ryanair one of the analysis
    assert len(rows["articles"]) == 6 and {r["path"] for r in rows["articles"]} >= {"a0.txt", "a3.txt", "b.jsonl"}
    assert {r["path"] for r in rows["rejects"]} == {"a2.txt", "a5.txt"}
    bad = [r for r in rows["rejects"] if r["path"] == "a2.txt"]
    assert len(bad) == 1 and "RuntimeError" in bad[0]["reason"] and "bad text" in bad[0]["reason"]
    assert any("Путин" in m["surface"] for m in rows["mentions"])


def test_an_export_batch_is_analysed_in_bounded_runs(monkeypatch):
    """One batch of an export (up to 1,000 records and 32 M characters) is enriched
    GATHER_RECORDS records / GATHER_CHARS characters at a time (the entity step keeps every
    text's tokens until its run is decoded), every record once and in order."""
    from presslens.enrich import enrich_many as real
    from presslens.records import RawRecord

    runs = []

    def spy(records):
        runs.append([r.record for r in records])
        return real(records)

    monkeypatch.setattr("presslens.enrich.enrich_many", spy)
    monkeypatch.setattr(b, "GATHER_CHARS", 2_000)
    text = "Президент России Владимир Путин встретился в Пхеньяне с Ким Чен Ыном, сообщает ТАСС. "
    recs = [RawRecord(path="e.jsonl", text=text * (1 + k % 7), record=k) for k in range(300)]
    rows = b._enrich_batch(recs)
    assert [r for run in runs for r in run] == list(range(300))
    assert max(len(run) for run in runs) <= b.GATHER_RECORDS
    assert all(sum(len(recs[k].text) for k in run) <= 2_000 or len(run) == 1 for run in runs)
    assert [row["record"] for row, _m, _rej in rows] == list(range(300))
