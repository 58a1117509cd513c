"""Scoring functions of presslens.eval on tiny hand-made gold."""
from __future__ import annotations

import io

import pytest

from presslens.eval import bcubed, evaluate, main, prf
from presslens.records import Mention


def test_prf_counts():
    assert prf(3, 4, 6) == pytest.approx((0.75, 0.5, 0.6))
    assert prf(0, 0, 5) == (0.0, 0.0, 0.0)


def test_bcubed_known_example():
    # Gold: {a,b,c} one entity, {d,e} another. Predicted: {a,b} {c,d,e}.
    gold = ["X", "X", "X", "Y", "Y"]
    pred = ["1", "1", "2", "2", "2"]
    p, r, f = bcubed(pred, gold)
    # precision per item: a 2/2, b 2/2, c 1/3, d 2/3, e 2/3 -> 10/3 / 5
    assert p == pytest.approx((1 + 1 + 1 / 3 + 2 / 3 + 2 / 3) / 5)
    # recall per item: a 2/3, b 2/3, c 1/3, d 2/2, e 2/2 -> 11/3 / 5
    assert r == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5)
    assert f == pytest.approx(2 * p * r / (p + r))


def test_bcubed_extremes():
    gold = ["X", "X", "Y"]
    assert bcubed(["a", "a", "b"], gold) == pytest.approx((1.0, 1.0, 1.0))
    p, r, _ = bcubed(["a", "b", "c"], gold)  # all singletons: perfect precision
    assert p == 1.0 and r == pytest.approx((0.5 + 0.5 + 1) / 3)
    p, r, _ = bcubed(["a", "a", "a"], gold)  # one cluster: perfect recall
    assert r == 1.0 and p == pytest.approx((2 / 3 + 2 / 3 + 1 / 3) / 3)
    with pytest.raises(ValueError):
        bcubed(["a"], gold)


@pytest.fixture
def tiny_gold(tmp_path):
    root = tmp_path / "gold"
    (root / "raw" / "t1" / "ru").mkdir(parents=True)
    (root / "ner" / "t1" / "ru").mkdir(parents=True)
    (root / "raw" / "t1" / "uk").mkdir(parents=True)
    (root / "ner" / "t1" / "uk").mkdir(parents=True)
    ru = "Путина видели в Москве."
    uk = "Путіна бачили в Києві."
    (root / "raw" / "t1" / "ru" / "a.txt").write_text(ru, encoding="utf-8")
    (root / "ner" / "t1" / "ru" / "a.tsv").write_text(
        "0\t6\tПутина\tПутин\tPER\tPER-Putin\n16\t22\tМоскве\tМосква\tLOC\tGPE-Moscow\n", encoding="utf-8")
    (root / "raw" / "t1" / "uk" / "b.txt").write_text(uk, encoding="utf-8")
    (root / "ner" / "t1" / "uk" / "b.tsv").write_text(
        "0\t6\tПутіна\tПутін\tPER\tPER-Putin\n15\t21\tКиєві\tКиїв\tLOC\tGPE-Kyiv\n", encoding="utf-8")
    return root


def test_evaluate_scores_a_fake_extractor(tiny_gold):
    def fake(text, lang, boilerplate):
        if lang == "ru":  # right span and lemma for Путина; Москве with a wrong lemma; one false positive
            return [Mention(0, 6, "Путина", "Путин", "P", "PER"),
                    Mention(16, 22, "Москве", "Москве", "M", "LOC"),
                    Mention(7, 13, "видели", "видеть", "V", "MISC")]
        if lang == "uk":  # Путіна under a different id than in ru: splits the gold cluster
            return [Mention(0, 6, "Путіна", "Путін", "P2", "LOC")]
        return []

    out = io.StringIO()
    res = evaluate(tiny_gold, extract=fake, out=out)
    assert res["ru"]["P"] == pytest.approx(2 / 3) and res["ru"]["R"] == 1.0
    assert res["ru"]["lemma"] == 0.5
    assert res["uk"]["P"] == 1.0 and res["uk"]["R"] == 0.5 and res["uk"]["typed_P"] == 0.0
    # matched mentions: Путина(P, Putin), Москве(M, Moscow), Путіна(P2, Putin)
    assert res["bcubed"]["P"] == 1.0
    assert res["bcubed"]["R"] == pytest.approx((0.5 + 1 + 0.5) / 3)
    assert "B-cubed" in out.getvalue()


def test_cli_rejects_a_folder_without_gold(tmp_path, capsys):
    assert main(["bsnlp", str(tmp_path)]) == 2
    assert "raw/ and ner/" in capsys.readouterr().err


def test_cli_rejects_unknown_holdout(tiny_gold, capsys):
    assert main(["bsnlp", str(tiny_gold), "--holdout", "nope"]) == 2
    assert "unknown topic" in capsys.readouterr().err


def test_errors_list_type_mismatches_on_matched_spans(tiny_gold):
    def fake(text, lang, boilerplate):
        if lang == "ru":  # right span, wrong type: counted as found, listed as a TYPE error
            return [Mention(0, 6, "Путина", "Путин", "P", "LOC")]
        return []

    res = evaluate(tiny_gold, extract=fake, out=io.StringIO())
    assert res["ru"]["R"] == 0.5 and res["ru"]["typed_R"] == 0.0
    assert ("TYPE", "t1/ru/a", "Путина", "LOC", "PER") in res["errors"]
    assert not any(e[0] == "TYPE" and e[1].startswith("t1/uk") for e in res["errors"])


_CONLL = """0\t-DOCSTART-\tO

0\tSOCCER\tO
1\t-\tO
2\tTOWN\tB-ORG
3\tWIN\tO
4\t.\tO

0\tSPRINGFIELD\tB-LOC
1\t,\tO
2\tNew\tB-LOC
3\tUtopia\tI-LOC
4\t1996-12-06\tO

0\tTown\tB-ORG
1\tbeat\tO
2\tCity\tB-ORG
3\t(\tO
4\t2-1\tO
5\t)\tO
6\t,\tO
7\tthe\tO
8\tcoach\tO
9\tdid\tO
10\tn't\tO
11\tsay\tO
12\tit\tO
13\t's\tO
14\tover\tO
15\t;\tO
16\t$\tO
17\t15\tO
18\tand\tO
19\t40\tO
20\t%\tO
21\t.\tO

0\t-DOCSTART-\tO

0\tCRICKET\tO
1\t-\tO
2\tSMITH\tB-PER
3\tOUT\tO
4\t.\tO
"""


def test_conll_documents_become_articles_with_the_headline_first(tmp_path, capsys):
    conll = tmp_path / "test.conllu"
    conll.write_text(_CONLL, encoding="utf-8")
    assert main(["conll-docs", str(conll), str(tmp_path / "out")]) == 0
    assert "2 documents written" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["000.txt", "001.txt"]
    assert (tmp_path / "out" / "000.txt").read_text(encoding="utf-8") == (
        "SOCCER - TOWN WIN.\n"
        "SPRINGFIELD, New Utopia 1996-12-06\n"
        "Town beat City (2-1), the coach didn't say it's over; $15 and 40%.\n")
    assert (tmp_path / "out" / "001.txt").read_text(encoding="utf-8") == "CRICKET - SMITH OUT.\n"


def test_conll_docs_splits_the_documents_into_chunks_in_file_order(tmp_path, capsys):
    conll = tmp_path / "test.conllu"
    conll.write_text("\n".join([_CONLL] * 3), encoding="utf-8")  # six documents
    assert main(["conll-docs", str(conll), str(tmp_path / "wire"), "--chunks", "4"]) == 0
    assert "6 documents written" in capsys.readouterr().out
    got = {p.parent.name: sorted(q.name for q in p.parent.iterdir()) for p in tmp_path.glob("wire-k*/*.txt")}
    # ceil(6 / 4) = 2 a chunk: the last chunk is the empty remainder, not written
    assert got == {"wire-k1": ["000.txt", "001.txt"], "wire-k2": ["002.txt", "003.txt"], "wire-k3": ["004.txt", "005.txt"]}
    assert (tmp_path / "wire-k2" / "002.txt").read_text(encoding="utf-8").startswith("SOCCER - TOWN WIN.")
    assert not (tmp_path / "wire").exists()
    assert main(["conll-docs", str(conll), str(tmp_path / "x"), "--chunks", "-1"]) == 2


def test_conll_docs_refuses_a_missing_file(tmp_path, capsys):
    assert main(["conll-docs", str(tmp_path / "nope.conllu"), str(tmp_path / "out")]) == 2
    assert "is not a file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
