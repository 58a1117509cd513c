"""Readers: what a user gets from each kind of input file, and what they are told when a
file cannot be read. Inputs are generated in tmp_path; the seed corpus is read as is."""
from __future__ import annotations

import datetime as dt
import gc
import json
import os
import random
from pathlib import Path

import polars as pl
import pytest

from presslens import ingest
from presslens.enrich import metadata
from presslens.ingest import fields, text
from presslens.records import Reject

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "data" / "corpus"

RU = [
    "Путин встретился с Ким Чен Ыном во Владивостоке.",
    "Северная Корея в этом году начнет производство беспилотников вместе с Россией.",
    "Эксперты считают, что военное сотрудничество двух стран усилится.",
    "ВСТРЕЧА ПРОШЛА ЗА ЗАКРЫТЫМИ ДВЕРЯМИ.",
]
UK = [
    "Північна Корея цього року почне виробництво безпілотників.",
    "Їхні війська ґрунтовно підготувалися до наступу, повідомляє Укрінформ.",
    "Міністр оборони України заявив про нову допомогу від партнерів.",
    "Про це він сказав журналістам у понеділок, передає ЄП.",
]
# Legacy Romanian encodings have only the cedilla letters ş ţ (not the comma-below ș ț).
RO = [
    "Coreea de Nord va începe producţia de drone în acest an.",
    "Rusia şi Coreea de Nord au semnat un acord de parteneriat strategic.",
    "Preşedintele ţării a declarat că situaţia este îngrijorătoare.",
    "Învăţământul românesc are nevoie de reforme, spun experţii.",
]
LEGACY_CASES = [
    pytest.param(sentence, encoding, accepted, id=f"{lang}{i}-{encoding}")
    for lang, sentences, encoding, accepted in [
        ("ru", RU, "cp1251", {"cp1251"}),
        ("uk", UK, "cp1251", {"cp1251"}),
        ("ru", RU, "koi8-r", {"koi8-r", "koi8-u"}),  # identical bytes for Russian
        ("uk", [s.replace("’", "'") for s in UK], "koi8-u", {"koi8-u"}),  # KOI8 has no ’
        # cp1250 and iso-8859-2 put every Romanian letter at the same byte: both are right.
        ("ro", RO, "cp1250", {"cp1250", "iso-8859-2"}),
        ("ro", RO, "iso-8859-2", {"cp1250", "iso-8859-2"}),
    ]
    for i, sentence in enumerate(sentences)
]


def read_one(path: Path, rel: str | None = None, side: dict | None = None):
    records, rejects = ingest.read(path, rel or path.name, side)
    return records, rejects


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def only_reject(path: Path) -> Reject:
    records, rejects = read_one(path)
    assert records == []
    assert len(rejects) == 1
    assert rejects[0].path == path.name
    return rejects[0]


# ---------------------------------------------------------------- the seed corpus

@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_seed_reads_as_utf8_verbatim(seed):
    path = SEEDS / seed
    records, rejects = read_one(path)
    assert rejects == []
    [record] = records
    assert record.encoding == "utf-8"
    assert record.text == path.read_bytes().decode("utf-8")
    assert record.path == seed and record.record is None


def test_there_are_five_seeds_and_iter_files_finds_them():
    found = [p.relative_to(SEEDS).as_posix() for p in ingest.iter_files(SEEDS)]
    assert len(found) == 5 and found == sorted(found)


# ---------------------------------------------------------------- iter_files

def test_iter_files_recurses_and_skips_hidden_and_root_sidecar(tmp_path):
    for name in ["b.txt", "a/one.html", "a/deeper/two.jsonl", ".hidden.txt", ".git/config",
                 "a/.DS_Store", "metadata.csv", "a/metadata.csv"]:
        write(tmp_path, name, "x")
    found = [p.relative_to(tmp_path).as_posix() for p in ingest.iter_files(tmp_path)]
    assert found == ["b.txt", "a/metadata.csv", "a/one.html", "a/deeper/two.jsonl"]


def test_iter_files_yields_broken_links_so_they_are_reported(tmp_path):
    write(tmp_path, "ok.txt", "text")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    found = sorted(p.name for p in ingest.iter_files(tmp_path))
    assert found == ["gone.txt", "ok.txt"]
    reject = only_reject(tmp_path / "gone.txt")
    assert "broken link" in reject.reason


def test_iter_files_reports_a_folder_it_cannot_list(tmp_path, monkeypatch):
    write(tmp_path, "ok.txt", "text")
    write(tmp_path, "locked/inside.txt", "text")
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name == "locked":  # what a folder without read permission does
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = [p.relative_to(tmp_path).as_posix() for p in ingest.iter_files(tmp_path)]
    assert found == ["ok.txt", "locked"]
    assert "could not be listed" in only_reject(tmp_path / "locked").reason


def test_iter_files_survives_a_symlink_loop(tmp_path):
    write(tmp_path, "sub/a.txt", "text")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path)
    found = [p.name for p in ingest.iter_files(tmp_path)]
    assert found.count("a.txt") == 1


# ---------------------------------------------------------------- plain text encodings

@pytest.mark.parametrize("sentence,encoding,accepted", LEGACY_CASES)
def test_short_legacy_sentence_round_trips(tmp_path, sentence, encoding, accepted):
    path = write(tmp_path, "a.txt", sentence.encode(encoding))
    records, rejects = read_one(path)
    assert rejects == []
    assert records[0].text == sentence
    assert records[0].encoding in accepted


@pytest.mark.parametrize(
    "lines,encoding",
    [(RU, "cp1251"), (RU, "koi8-r"), (UK, "cp1251"), ([s.replace("’", "'") for s in UK], "koi8-u"),
     (RO, "cp1250"), (RO, "iso-8859-2")],
    ids=["ru-cp1251", "ru-koi8-r", "uk-cp1251", "uk-koi8-u", "ro-cp1250", "ro-iso-8859-2"],
)
def test_legacy_article_with_crlf_round_trips_verbatim(tmp_path, lines, encoding):
    body = "\r\n".join(lines) + "\r\n"
    path = write(tmp_path, "article.txt", body.encode(encoding))
    [record], _ = read_one(path)
    assert record.text == body  # \r\n kept: offsets index the text as stored


def test_romanian_typographic_quotes_pick_cp1250(tmp_path):
    sentence = "„Situaţia este gravă”, a declarat ministrul – citat de presă."
    [record], _ = read_one(write(tmp_path, "q.txt", sentence.encode("cp1250")))
    assert record.text == sentence and record.encoding == "cp1250"


def test_detector_alone_is_not_enough_for_koi8():
    """Why the sanity check exists: the detector mistakes short KOI8 text for something else."""
    from charset_normalizer import from_bytes

    wrong = [s for s in RU if str(from_bytes(s.encode("koi8-r")).best()) != s]
    assert wrong, "charset-normalizer now gets these right; the sanity check may be simplified"
    for s in wrong:
        assert text.decode(s.encode("koi8-r")).text == s


@pytest.mark.parametrize(
    "encoding,recorded",
    [("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16-le"), ("utf-16-be", None), ("utf-32", "utf-32-le")],
)
def test_unicode_with_bom_strips_only_the_bom(tmp_path, encoding, recorded):
    body = "\ufeffnot a BOM here? " + "\n".join(RU + UK + RO) + "\n"
    if encoding == "utf-16-be":
        data, recorded = b"\xfe\xff" + body.encode("utf-16-be"), "utf-16-be"
    else:
        data = body.encode(encoding)
    [record], _ = read_one(write(tmp_path, "u.txt", data))
    assert record.text == body  # a U+FEFF inside the text is text, kept
    assert record.encoding == recorded


def test_utf16_without_bom(tmp_path):
    body = "North Korea agreed to produce drones with Russia.\n"
    [record], _ = read_one(write(tmp_path, "u.txt", body.encode("utf-16-le")))
    assert record.text == body and record.encoding == "utf-16-le"


def test_utf8_does_not_run_the_detector(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("charset detection ran on a UTF-8 file")

    monkeypatch.setattr(text, "from_bytes", boom)
    body = "\n".join(RU + UK + RO)
    [record], rejects = read_one(write(tmp_path, "a.txt", body))
    assert rejects == [] and record.text == body and record.encoding == "utf-8"


def test_utf8_with_one_corrupt_byte_keeps_the_article(tmp_path):
    before, after = RU[0], "\n".join(RU[1:] + UK)
    data = before.encode("utf-8") + b"\xff" + after.encode("utf-8")  # a stray Latin-1 byte
    [record], rejects = read_one(write(tmp_path, "a.txt", data))
    assert rejects == []
    assert record.text == before + "\ufffd" + after
    assert "utf-8" in record.encoding and "1 invalid" in record.encoding


def test_unknown_extension_is_judged_by_content(tmp_path):
    [record], _ = read_one(write(tmp_path, "notes.log", RU[0].encode("cp1251")))
    assert record.text == RU[0]
    [page], _ = read_one(write(tmp_path, "saved.php", ARTICLE_HTML.replace("{charset}", "utf-8")))
    assert page.title == "Путин посетил КНДР" and page.provenance["title"] == "html"
    reject = only_reject(write(tmp_path, "report.docx", b"PK\x03\x04" + bytes(200)))
    assert "binary" in reject.reason and "Office" in reject.reason and ".jsonl" in reject.reason


# ---------------------------------------------------------------- bad input

def test_empty_file(tmp_path):
    assert only_reject(write(tmp_path, "e.txt", b"")).reason == "The file is empty."


def test_whitespace_only_file(tmp_path):
    assert "only white space" in only_reject(write(tmp_path, "w.txt", " \n\t\r\n")).reason


def test_png_named_txt_is_binary(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))
    reason = only_reject(write(tmp_path, "image.txt", png)).reason
    assert "looks like binary data" in reason and "PNG" in reason


def test_random_bytes_named_txt_are_binary(tmp_path):
    data = random.Random(7).randbytes(4096)
    assert "looks like binary data" in only_reject(write(tmp_path, "noise.txt", data)).reason


def test_undecodable_bytes(tmp_path):
    # No NUL or control bytes (so not "binary"), but no encoding makes words of them.
    rng = random.Random(3)
    data = bytes(rng.choice([rng.randrange(0x80, 0x100), 0x20]) for _ in range(2000))
    reason = only_reject(write(tmp_path, "garbled.txt", data)).reason
    assert "could not be decoded" in reason and "UTF-8" in reason and "cp1251" in reason


def test_file_over_the_size_limit_is_rejected_unread(tmp_path, monkeypatch):
    path = write(tmp_path, "big.txt", "x" * 2048)
    monkeypatch.setattr(ingest, "MAX_FILE_BYTES", 1024)

    def no_open(*a, **k):
        raise AssertionError("the file was opened")

    monkeypatch.setattr("builtins.open", no_open)
    reason = only_reject(path).reason
    assert "too big" in reason and "2,048 bytes" in reason and "1.0 KB" in reason


def test_export_has_its_own_size_limit(tmp_path, monkeypatch):
    path = write(tmp_path, "big.jsonl", json.dumps({"text": "x" * 3000}) + "\n")
    monkeypatch.setattr(ingest, "MAX_FILE_BYTES", 1024)
    [record], _ = read_one(path)  # 3 KB is fine for an export
    monkeypatch.setattr(ingest, "MAX_EXPORT_BYTES", 2048)
    reason = only_reject(path).reason
    assert "too big" in reason and "export" in reason and ingest.size_limit(path) == 2048


def test_unreadable_file_permission_denied(tmp_path, monkeypatch):
    path = write(tmp_path, "secret.txt", "text")
    path.chmod(0)
    try:
        if os.geteuid() == 0:  # root reads anything: simulate what another user would see
            real_open = open

            def denied(file, *a, **k):
                if str(file) == str(path):
                    raise PermissionError(13, "Permission denied", str(file))
                return real_open(file, *a, **k)

            monkeypatch.setattr("builtins.open", denied)
        reason = only_reject(path).reason
    finally:
        path.chmod(0o644)
    assert "could not be read" in reason and "permission denied" in reason


def test_directory_and_missing_file(tmp_path):
    (tmp_path / "folder.txt").mkdir()
    assert "folder, not a file" in only_reject(tmp_path / "folder.txt").reason
    assert "could not be found" in only_reject(tmp_path / "missing.txt").reason


def test_read_never_raises(tmp_path, monkeypatch):
    def broken(*a, **k):
        raise RuntimeError("decoder bug")

    monkeypatch.setattr(ingest, "decode", broken)
    reason = only_reject(write(tmp_path, "a.txt", "hello")).reason
    assert "unexpected error" in reason and "decoder bug" in reason


# ---------------------------------------------------------------- web pages

ARTICLE_HTML = """<!DOCTYPE html>
<html lang="ru-RU"><head><meta charset="{charset}">
<title>Путин посетил КНДР | Новости Мира</title>
<meta property="og:site_name" content="Новости Мира">
<meta property="og:title" content="Путин посетил КНДР">
<link rel="canonical" href="https://news.example.ru/2024/06/19/putin-kndr.html">
<meta property="article:published_time" content="2024-06-19T08:30:00+03:00">
</head><body>
<nav><a href="/">Главная</a> <a href="/politics">Политика</a> <a href="/sport">Спорт</a></nav>
<article><h1>Путин посетил КНДР</h1>
<p>Президент России Владимир Путин прибыл в Пхеньян с государственным визитом, сообщает ТАСС.
Это первый визит российского лидера в Северную Корею за 24 года.</p>
<p>Стороны подписали договор о всеобъемлющем стратегическом партнерстве, который
предусматривает взаимную помощь в случае агрессии против одной из сторон.</p>
</article>
<footer>© 2024 Новости Мира. Все права защищены.</footer>
</body></html>
"""


@pytest.mark.parametrize("encoding,charset", [("utf-8", "utf-8"), ("cp1251", "windows-1251"), ("cp1251", "utf-8")])
def test_html_main_text_and_metadata(tmp_path, encoding, charset):
    page = ARTICLE_HTML.replace("{charset}", charset)
    [record], rejects = read_one(write(tmp_path, "page.html", page.encode(encoding)))
    assert rejects == []
    assert "Владимир Путин прибыл в Пхеньян" in record.text
    assert "Главная" not in record.text and "Все права защищены" not in record.text
    assert record.title == "Путин посетил КНДР"
    assert record.url == "https://news.example.ru/2024/06/19/putin-kndr.html"
    assert record.outlet == "Новости Мира"
    # The page's date is weighed against the URL and the dateline at enrichment
    # (metadata.published); the reader keeps the page for it.
    assert record.published is None and "<html" in record.html
    assert metadata.published(record, record.text, [], "ru").value == dt.date(2024, 6, 19)
    assert record.language == "ru"
    assert record.provenance == {k: "html" for k in ("title", "url", "outlet", "language")}
    assert record.encoding == encoding  # a wrong <meta charset> does not win


def test_html_without_article_text(tmp_path):
    page = "<html><head><title>Login</title></head><body><div id='app'></div><script>load()</script></body></html>"
    reason = only_reject(write(tmp_path, "spa.htm", page)).reason
    assert "no article text found" in reason.lower()


# ---------------------------------------------------------------- exports

def test_jsonl_aliases_line_numbers_and_a_malformed_line(tmp_path):
    lines = [
        json.dumps({"Headline": "Drones", "Body": "North Korea will build drones.", "Link": "https://a.example/1",
                    "publishedAt": "2024-06-19T23:30:00-05:00", "Source": {"id": "x", "name": "Example News"},
                    "lang": "en-US"}),
        '{"text": "broken", ',
        "",
        json.dumps({"full_text": "Путин прибыл в Пхеньян.", "date": "not a date", "outlet": "ТАСС"}, ensure_ascii=False),
        json.dumps({"content": "   ", "title": "Empty"}),
        json.dumps(["not", "an", "object"]),
    ]
    path = write(tmp_path, "feed.jsonl", "\n".join(lines) + "\n")
    records, rejects = read_one(path)
    assert [r.record for r in records] == [1, 4]
    first, second = records
    assert first.text == "North Korea will build drones."
    assert (first.title, first.url, first.outlet, first.language) == ("Drones", "https://a.example/1", "Example News", "en")
    assert first.published == dt.date(2024, 6, 19)  # the date as the outlet wrote it
    assert first.provenance == {k: "field" for k in ("title", "url", "outlet", "published", "language")}
    assert second.text == "Путин прибыл в Пхеньян." and second.published is None and second.outlet == "ТАСС"
    assert [r.record for r in rejects] == [2, 5, 6]
    assert "Line 2 is not valid JSON" in rejects[0].reason and "column" in rejects[0].reason
    assert "Line 5 has no text" in rejects[1].reason and '"content"' in rejects[1].reason
    assert "not an object" in rejects[2].reason


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1251", "utf-16"])
def test_jsonl_in_other_encodings(tmp_path, encoding):
    lines = [json.dumps({"text": s, "title": s[:10]}, ensure_ascii=False) for s in RU]
    path = write(tmp_path, "ru.jsonl", ("\n".join(lines) + "\n").encode(encoding))
    records, rejects = read_one(path)
    assert rejects == [] and [r.text for r in records] == RU
    assert gc.isenabled()  # the reader pauses the collector and must switch it back on


def test_json_array_saved_as_jsonl_and_jsonl_saved_as_json(tmp_path):
    path = write(tmp_path, "pretty.jsonl", json.dumps([{"text": "One."}, {"text": "Two."}], indent=2))
    records, rejects = read_one(path)
    assert rejects == [] and [(r.record, r.text) for r in records] == [(1, "One."), (2, "Two.")]
    path = write(tmp_path, "lines.json", '{"text": "One."}\n{"text": "Two."}\n')
    records, rejects = read_one(path)
    assert rejects == [] and [(r.record, r.text) for r in records] == [(1, "One."), (2, "Two.")]
    # Arrays on each line: neither format; each line is reported, nothing loops.
    records, rejects = read_one(write(tmp_path, "arrays.jsonl", '[1]\n[2]\n'))
    assert records == [] and [r.record for r in rejects] == [1, 2]
    assert all("not an object" in r.reason for r in rejects)


def test_jsonl_without_any_text_field_is_one_reject_naming_the_fields(tmp_path):
    path = write(tmp_path, "meta.jsonl", '{"id": 1, "headline": "a"}\n{"id": 2, "headline": "b"}\n')
    reason = only_reject(path).reason
    assert "No text column" in reason and "id, headline" in reason


def test_json_array_single_object_and_wrapped_list(tmp_path):
    records, _ = read_one(write(tmp_path, "a.json", json.dumps([{"article": "One."}, {"text": "Two.", "pubdate": "2024-07-01"}])))
    assert [(r.record, r.text) for r in records] == [(1, "One."), (2, "Two.")]
    assert records[1].published == dt.date(2024, 7, 1)
    [single], _ = read_one(write(tmp_path, "b.json", json.dumps({"TEXT": "Alone.", "Title": "T"})))
    assert single.record is None and single.text == "Alone." and single.title == "T"
    records, _ = read_one(write(tmp_path, "c.json", json.dumps({"status": "ok", "articles": [{"body": "Wrapped."}]})))
    assert [r.text for r in records] == ["Wrapped."]
    reason = only_reject(write(tmp_path, "d.json", '{"text": "unterminated')).reason
    assert "malformed" in reason and "line 1" in reason


def test_csv_aliases_multiline_text_and_row_numbers(tmp_path):
    body = "First line.\r\nSecond line; with a semicolon."
    rows = [["Title", "Content", "Published_At", "Publisher", "URL"],
            ["One", body, "2024-06-19 10:00:00+03:00", "Reuters", "https://r.example/1"],
            ["Two", "", "2024-06-20", "AP", ""],
            ["Three", "Третий текст.", "19.06.2024", "", ""]]
    csv_text = "\r\n".join(";".join('"' + c.replace('"', '""') + '"' for c in row) for row in rows) + "\r\n"
    records, rejects = read_one(write(tmp_path, "export.csv", csv_text.encode("cp1251")))
    assert [r.record for r in records] == [1, 3]
    assert records[0].text == body  # quoted newline and delimiter kept verbatim
    assert (records[0].title, records[0].outlet, records[0].url) == ("One", "Reuters", "https://r.example/1")
    assert records[0].published == dt.date(2024, 6, 19)
    assert records[1].text == "Третий текст." and records[1].published == dt.date(2024, 6, 19)
    assert records[1].encoding == "cp1251" and records[1].outlet is None
    [reject] = rejects
    assert reject.record == 2 and "Row 2 has no text" in reject.reason


def test_csv_without_text_column_names_the_columns(tmp_path):
    reason = only_reject(write(tmp_path, "x.csv", "id,headline,summary\n1,a,b\n")).reason
    assert "No text column" in reason and "id, headline, summary" in reason


def test_csv_row_with_too_many_fields_is_rejected_alone(tmp_path):
    path = write(tmp_path, "x.tsv", "text\ttitle\nGood one.\tA\nSplit\ttext\tby tab\nAlso good.\tC\n")
    records, rejects = read_one(path)
    assert [r.text for r in records] == ["Good one.", "Also good."]
    assert rejects[0].record == 2 and "3 fields but the header has 2" in rejects[0].reason


def test_parquet_typed_dates_and_case_insensitive_columns(tmp_path):
    path = tmp_path / "a.parquet"
    pl.DataFrame({
        "ARTICLE": ["Один.", None, "Три."],
        "Headline": ["A", "B", "C"],
        "publish_date": [dt.date(2024, 6, 19), dt.date(2024, 6, 20), None],
        "Domain": ["tass.ru", "tass.ru", "rbc.ru"],
        "unused": [1, 2, 3],
    }).write_parquet(path)
    records, rejects = read_one(path)
    assert [(r.record, r.text, r.title, r.published, r.outlet) for r in records] == [
        (1, "Один.", "A", dt.date(2024, 6, 19), "tass.ru"),
        (3, "Три.", "C", None, "rbc.ru"),
    ]
    assert rejects[0].record == 2 and "Row 2 has no text" in rejects[0].reason


def test_corrupt_parquet(tmp_path):
    reason = only_reject(write(tmp_path, "bad.parquet", b"PAR1 this is not parquet")).reason
    assert "not a readable Parquet file" in reason


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2024-06-19", dt.date(2024, 6, 19)),
        ("2024-06-19T23:30:00-05:00", dt.date(2024, 6, 19)),
        ("2024-06-19T01:00:00Z", dt.date(2024, 6, 19)),
        ("2024-06-19 10:00", dt.date(2024, 6, 19)),
        ("2024-6-3", dt.date(2024, 6, 3)),
        ("19.06.2024", dt.date(2024, 6, 19)),
        ("19/06/2024", dt.date(2024, 6, 19)),
        ("06/07/2024", None),  # June 7 or July 6: unknown beats wrong
        ("Wed, 19 Jun 2024 10:00:00 +0300", dt.date(2024, 6, 19)),
        (1718791200, dt.date(2024, 6, 19)),
        (1718791200000, dt.date(2024, 6, 19)),
        (dt.datetime(2024, 6, 19, 23, 0), dt.date(2024, 6, 19)),
        ("yesterday", None),
        ("", None),
        ("1970-01-01", None),  # epoch zero: an export's "no date"
        ("1900-01-01", None),  # Excel's and SQL's default day
        ("1965-03-01", dt.date(1965, 3, 1)),  # an archive article before 1971 keeps its date
        ("1848-02-24T00:00:00", dt.date(1848, 2, 24)),
        ("0024-06-19", None),  # a typo, not a date
        (None, None),
    ],
)
def test_parse_date(value, expected):
    assert fields.parse_date(value) == expected


# ---------------------------------------------------------------- sidecar

def test_sidecar_values_win_on_every_record(tmp_path):
    write(tmp_path, "a.txt", "Text A.")
    write(tmp_path, "sub/feed.jsonl", '{"text": "One", "outlet": "Own"}\n{"text": "Two", "title": "T2"}\n')
    write(tmp_path, "metadata.csv",
          "PATH,Outlet,Published,TITLE,url\n"
          "a.txt,Reuters,2024-06-19,Title A,https://r.example/a\n"
          "./sub/feed.jsonl,Wire,,,\n")
    side, rejects = ingest.load_sidecar(tmp_path)
    assert rejects == []
    assert side["a.txt"] == {"outlet": "Reuters", "published": dt.date(2024, 6, 19), "title": "Title A",
                             "url": "https://r.example/a"}
    [a], _ = ingest.read(tmp_path / "a.txt", "a.txt", side["a.txt"])
    assert (a.outlet, a.published, a.title) == ("Reuters", dt.date(2024, 6, 19), "Title A")
    assert a.provenance == {k: "sidecar" for k in ("url", "outlet", "published", "title")}
    records, _ = ingest.read(tmp_path / "sub/feed.jsonl", "sub/feed.jsonl", side["sub/feed.jsonl"])
    assert [r.outlet for r in records] == ["Wire", "Wire"]
    assert [r.provenance["outlet"] for r in records] == ["sidecar", "sidecar"]
    assert records[1].title == "T2" and records[1].provenance["title"] == "field"  # empty cell: no override


def test_sidecar_bad_rows_are_reported_and_the_rest_kept(tmp_path):
    write(tmp_path, "a.txt", "A.")
    write(tmp_path, "b.txt", "B.")
    write(tmp_path, "metadata.csv",
          "path;outlet;date\n"
          "a.txt;Reuters;someday\n"
          "missing.txt;AP;2024-01-01\n"
          "a.txt;Again;2024-01-02\n"
          ";NoPath;\n"
          "../outside.txt;X;\n"
          "b.txt;BBC;2024-02-03\n")
    side, rejects = ingest.load_sidecar(tmp_path)
    assert side == {"a.txt": {"outlet": "Reuters"}, "b.txt": {"outlet": "BBC", "published": dt.date(2024, 2, 3)}}
    assert all(r.path == "metadata.csv" for r in rejects)
    reasons = {r.record: r.reason for r in rejects}
    assert "'someday' that is not a date" in reasons[1]
    assert "'missing.txt'" in reasons[2] and "not a file in the corpus" in reasons[2]
    assert "repeats the path 'a.txt' of row 1" in reasons[3]
    assert "has no path" in reasons[4]
    assert "outside the corpus" in reasons[5]


@pytest.mark.parametrize(
    "content,expected",
    [
        (b"name,outlet\na.txt,Reuters\n", "has no path column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks like binary data"),
        (b"", "is empty"),
    ],
)
def test_malformed_sidecar_is_one_reject_and_ignored(tmp_path, content, expected):
    write(tmp_path, "a.txt", "A.")
    write(tmp_path, "metadata.csv", content)
    side, rejects = ingest.load_sidecar(tmp_path)
    assert side == {}
    [reject] = rejects
    assert reject.path == "metadata.csv" and expected in reject.reason and "ignored" in reject.reason


def test_no_sidecar(tmp_path):
    assert ingest.load_sidecar(tmp_path) == ({}, [])


def test_a_lone_surrogate_escape_in_json_is_replaced_and_the_article_kept(tmp_path):
    """JSON may escape a lone UTF-16 surrogate ("\\ud800"), which is no character and which
    UTF-8 cannot hold: the text and title get U+FFFD in its place, and the build keeps the
    article (it was rejected as "could not be analysed" by the language step)."""
    from presslens import build, store

    corpus = tmp_path / "c"
    corpus.mkdir()
    row = ('{"title": "Bad \\ud800 title", "text": "Бачу \\ud800 Київ сьогодні вранці, повідомляє '
           'Укрінформ. Президент України заявив, що обстріли тривають."}')
    (corpus / "e.jsonl").write_text(row + "\n", encoding="utf-8")
    records, rejects = ingest.read(corpus / "e.jsonl", "e.jsonl")
    assert not rejects and records[0].text.startswith("Бачу \ufffd Київ") and records[0].title == "Bad \ufffd title"
    summary = build.build(corpus, tmp_path / "s", workers=1)
    assert summary["articles"] == 1 and summary["rejects"] == 0
    art = pl.read_parquet(store.table_path(store.current(tmp_path / "s"), "articles"))
    assert art["text"][0].startswith("Бачу \ufffd Київ") and art["language"][0] == "uk"
