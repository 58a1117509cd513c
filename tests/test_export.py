"""Exports: streamed batch by batch, CSV cells that would run as formulas neutralised,
Parquet exact, no half-written file left behind."""
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from presslens import export

HOSTILE = ["+cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\")", "-2+3", "@SUM(A1)", "\t=1", "plain", None]


def frames(n_batches=3, rows=4):
    for b in range(n_batches):
        yield pl.DataFrame({
            "doc_id": [f"d{b}-{i}" for i in range(rows)],
            "title": [HOSTILE[(b * rows + i) % len(HOSTILE)] for i in range(rows)],
            "cited_sources": [["NHK", "=evil"], [], None, ["ISW"]][:rows],
            "n": list(range(rows)),
        })


def test_csv_neutralises_formula_cells_and_joins_lists(tmp_path):
    out = tmp_path / "view.csv"
    seen = []
    n = export.write(frames(), out, "csv", total=12, progress=lambda d, t: seen.append((d, t)))
    assert n == 12 and seen == [(4, 12), (8, 12), (12, 12)]
    df = pl.read_csv(out)
    titles = df["title"].to_list()
    assert "'+cmd|' /C calc'!A0" in titles and "'=HYPERLINK(\"http://x\")" in titles
    assert "'-2+3" in titles and "'@SUM(A1)" in titles and "plain" in titles
    assert not any(t and t[0] in "=+-@\t" for t in titles)
    # the joined list starts with NHK, so the cell is safe as it is
    assert df["cited_sources"][0] == "NHK; =evil"
    assert df.height == 12 and df.columns == ["doc_id", "title", "cited_sources", "n"]


def test_parquet_keeps_exact_text_and_lists(tmp_path):
    out = tmp_path / "view.parquet"
    export.write(frames(), out, "parquet", total=12)
    got = pl.read_parquet(out)
    assert_frame_equal(got, pl.concat(list(frames())))


def test_empty_view_gives_valid_files(tmp_path):
    empty = pl.DataFrame(schema={"doc_id": pl.String, "title": pl.String})
    export.write([empty], tmp_path / "e.parquet", "parquet")
    export.write([empty], tmp_path / "e.csv", "csv")
    assert pl.read_parquet(tmp_path / "e.parquet").columns == ["doc_id", "title"]
    assert (tmp_path / "e.csv").read_text().strip() == "doc_id,title"


def test_failed_export_leaves_no_file(tmp_path):
    def broken():
        yield from frames(1)
        raise RuntimeError("disk full")

    out = tmp_path / "view.csv"
    with pytest.raises(RuntimeError):
        export.write(broken(), out, "csv")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown export format 'xlsx'"):
        export.write(frames(), tmp_path / "x.xlsx", "xlsx")


def test_export_cli_writes_exactly_what_a_shared_link_lists(tiny_store, tmp_path, capsys):
    from presslens import index, query, store
    from presslens.__main__ import main

    ix = index.load(store.current(tiny_store).directory)
    expected = query.export_frame(ix, query.Filters.make(languages=["ru"]))
    assert expected.height > 0
    out = tmp_path / "ru.parquet"
    rc = main(["export", "--store", str(tiny_store), "--view", "http://host:8501/entities?lang=ru&bogus=1",
               "--format", "parquet", "--out", str(out)])
    assert rc == 0
    assert_frame_equal(pl.read_parquet(out), expected)
    err = capsys.readouterr()
    assert "bogus" in err.err and f"{expected.height:,} articles written" in err.out

    csv_out = tmp_path / "all.csv"
    assert main(["export", "--store", str(tiny_store), "--format", "csv", "--out", str(csv_out)]) == 0
    assert pl.read_csv(csv_out).height == query.selected_rows(ix, query.Filters()).size


def test_export_cli_without_a_store_says_so(tmp_path, capsys):
    from presslens.__main__ import main

    assert main(["export", "--store", str(tmp_path / "none"), "--format", "csv", "--out", str(tmp_path / "x.csv")]) == 1
    assert "No store at" in capsys.readouterr().err
