"""The learned story pair model (presslens.story_model) and the scorers of presslens.stories."""
from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from presslens import eval as ev
from presslens import stories, story_model
from tests.test_stories import _corpus, _story

F = stories.PAIR_FEATURES


def _x(**values: float) -> np.ndarray:
    row = np.zeros(len(F))
    for k, v in values.items():
        row[F.index(k)] = v
    return row[None, :]


@pytest.fixture
def model_on(monkeypatch):
    """Group with the committed pair model (PRESSLENS_STORY_MODEL=1) inside the test."""
    monkeypatch.setenv(stories.MODEL_ENV, "1")
    monkeypatch.setattr(stories, "_SCORER", None)
    yield stories.scorer()
    monkeypatch.setattr(stories, "_SCORER", None)


def test_the_committed_model_groups_by_default_and_the_rules_alone_on_request(monkeypatch, model_on):
    assert model_on.coef is not None and model_on.name == story_model.MODEL_PATH.name
    d = json.loads(story_model.MODEL_PATH.read_text(encoding="utf-8"))
    assert d["features"] == list(F)
    # the file carries the leave-one-topic-out figures, one per topic (three story families, four wire chunks)
    assert set(d["held_out_f1_leave_one_topic_out"]) == {"asia_bibi", "brexit", "ryanair"} | {
        f"conll-train-k{k}" for k in (1, 2, 3, 4)}
    monkeypatch.delenv(stories.MODEL_ENV)
    monkeypatch.setattr(stories, "_SCORER", None)
    assert stories.scorer() == model_on
    monkeypatch.setenv(stories.MODEL_ENV, "0")
    monkeypatch.setattr(stories, "_SCORER", None)
    assert stories.scorer() is stories.RULES


def test_an_unreadable_model_falls_back_to_the_rules(monkeypatch, tmp_path, caplog):
    bad = tmp_path / "m.json"
    bad.write_text("{not json", encoding="utf-8")
    monkeypatch.setenv(stories.MODEL_ENV, str(bad))
    monkeypatch.setattr(stories, "_SCORER", None)
    assert stories.scorer() is stories.RULES
    assert "not used" in caplog.text
    monkeypatch.setattr(stories, "_SCORER", None)


def test_a_model_trained_on_other_features_is_refused():
    d = json.loads(story_model.MODEL_PATH.read_text(encoding="utf-8"))
    d["features"] = d["features"][:-1]
    with pytest.raises(ValueError, match="other pair features"):
        story_model.from_json(d)


def test_the_complementing_model_keeps_every_link_the_rules_make(model_on):
    rng = np.random.default_rng(0)
    x = rng.random((500, len(F)))
    x[:, F.index("log_shared_info")] = np.log1p(rng.integers(0, 5, 500))
    rules, _ = stories.RULES.score(x)
    assert model_on.with_rules
    assert (model_on.score(x)[0] | ~rules).all()


def test_the_model_never_links_on_fewer_shared_features_than_the_rules_floor():
    # a near-perfect lead-word cosine but one informative shared feature: no event (the seeds'
    # 000 and 002, in a five-article corpus where every IDF is small)
    s = stories.PairScorer(threshold=0.01, coef=tuple([1.0] * len(F)), intercept=5.0, mean=tuple([0.0] * len(F)),
                           scale=tuple([1.0] * len(F)), name="eager")
    link, p = s.score(_x(cos=0.9, cos_w=0.9, same_lang=1, log_shared_info=np.log1p(1)))
    assert p[0] > 0.99 and not link[0]
    link, _ = s.score(_x(cos=0.9, cos_w=0.9, same_lang=1, log_shared_info=np.log1p(2)))
    assert link[0]


def test_rules_and_model_both_group_the_hand_made_corpus(model_on):
    arts, ents = _corpus()
    for s in (stories.RULES, model_on):
        with stories.using_scorer(s):
            got = _story(stories.group(arts, ents, None)[0])
        assert got["a_ru"] == got["b_en"] != got["c_ru"], s.name
        assert got["d_ru"] == got["e_ru"] and got["f_uk"] == "f_uk", s.name


def test_a_state_saved_under_another_scorer_is_rebuilt(tmp_path, model_on):
    arts, ents = _corpus()
    with stories.using_scorer(stories.RULES):
        stories.group(arts, ents, None)[2].save(tmp_path)
        assert stories.StoryState.load(tmp_path) is not None
    assert stories.StoryState.load(tmp_path) is None  # saved under the rules, read under the model


def _topic_pairs(name: str, rng: np.random.Generator) -> story_model.TopicPairs:
    """A synthetic topic: 30 articles in 6 stories; pairs of one story have a high `cos`."""
    n = 30
    gold = np.repeat(np.arange(6), 5)
    a, b = np.triu_indices(n, 1)
    y = (gold[a] == gold[b]).astype(np.int8)
    x = np.zeros((len(a), len(F)))
    x[:, F.index("cos")] = np.where(y == 1, 0.6, 0.1) + rng.normal(0, 0.05, len(a))
    x[:, F.index("log_shared_info")] = np.log1p(3)
    ids = pl.Series([f"{name}{i:02d}" for i in range(n)])
    return story_model.TopicPairs(
        name, pl.DataFrame({"doc_id": ids, "duplicate_of": pl.Series([None] * n, dtype=pl.String)}),
        pl.DataFrame(), pl.DataFrame({"doc_id": ids, "gold": [str(g) for g in gold]}), n, ids,
        np.zeros(n, dtype=np.int64), a, b, x, np.zeros(len(a), dtype=bool), y)


def test_training_chooses_on_training_topics_and_groups_a_clear_topic_perfectly():
    rng = np.random.default_rng(1)
    topics = [_topic_pairs(t, rng) for t in "abc"]
    c, thr, dens, inner = story_model.choose(topics[:2])
    assert c in story_model.GRID_C and thr in story_model.GRID_THRESHOLD and inner == pytest.approx(1.0)
    params = story_model.fit(topics[:2], c)
    assert story_model.quick_f1(topics[2], story_model.predict(params, topics[2].x), thr, dens) == pytest.approx(1.0)


def test_the_rules_settings_are_chosen_where_the_training_topics_group_best():
    rng = np.random.default_rng(2)
    topics = [_topic_pairs(t, rng) for t in "ab"]
    # one story's pairs at cos ~0.6, the others at ~0.1 (+-0.05 noise): a threshold of 0.1 links
    # across stories whatever the density; higher ones (or a denser merge) split them exactly
    thr, dens, inner = story_model.choose_rules(topics)
    assert thr in story_model.GRID_RULES_THRESHOLD and dens in story_model.GRID_DENSITY
    cos = [t.x[:, F.index("cos")] for t in topics]
    assert inner == pytest.approx(1.0) and all(story_model.quick_f1(t, c, thr, dens) == 1.0 for t, c in zip(topics, cos))
    assert story_model.quick_f1(topics[0], cos[0], 0.1, 0.1) < 0.5  # what a bad choice would give
    s = story_model.tuned_rules(thr, dens)
    assert s.coef is None and (s.threshold, s.merge_density) == (thr, dens)  # still the hand rules


def test_stories_loto_needs_three_topics_and_says_so(tmp_path, capsys):
    gold = tmp_path / "gold.csv"
    gold.write_text("path,story\nraw/t1/a.txt,s1\nraw/t2/b.txt,s2\n", encoding="utf-8")
    assert ev.main(["stories-loto", str(tmp_path), "--gold", str(gold), "--stores", str(tmp_path / "s")]) == 2
    assert "at least 3 topics" in capsys.readouterr().err


def test_stories_loto_reads_several_gold_files_as_one_and_refuses_a_path_in_two(tmp_path, capsys):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("path,story\nraw/t1/a.txt,s1\n", encoding="utf-8")
    b.write_text("path,story\nraw/t2/b.txt,s2\n", encoding="utf-8")
    # two files, two topics: read together (the three-topic check speaks, not a file error)
    assert ev.main(["stories-loto", str(tmp_path), "--gold", str(a), str(b), "--stores", str(tmp_path / "s")]) == 2
    assert "the gold has ['t1', 't2']" in capsys.readouterr().err
    b.write_text("path,story\nraw/t1/a.txt,s9\n", encoding="utf-8")
    assert ev.main(["stories-loto", str(tmp_path), "--gold", str(a), str(b), "--stores", str(tmp_path / "s")]) == 2
    assert "1 path(s) are in more than one gold file, e.g. raw/t1/a.txt" in capsys.readouterr().err


def test_topic_of_a_gold_path():
    assert ev.topic_of("eval-dev/bsnlp/raw/brexit/ru/x.txt") == "brexit"
    assert ev.topic_of("feeds/a.json") == "feeds"


def test_with_the_model_seed_000_and_001_are_one_story_and_002_to_004_apart(seed_store, model_on):
    from presslens import store

    info = store.current(seed_store)
    arts = store.scan(info, "articles").select(
        "doc_id", "path", "language", "published", "cited_sources", "story_evidence", "text_minhash",
        "duplicate_of").collect()
    ids, _, _ = stories.group(arts.drop("path"), store.scan(info, "doc_entities").collect())
    s = dict(arts.select("path", "doc_id").join(ids, on="doc_id").select(
        pl.col("path").str.slice(0, 3), "story_id").iter_rows())
    assert s["000"] == s["001"]
    assert len({s["000"], s["002"], s["003"], s["004"]}) == 4


def _mixed_corpus():
    """The hand-made corpus as a mixed store: two gold topics, the rest distractors."""
    arts, ents = _corpus()
    arts = arts.with_columns(pl.col("doc_id").alias("path"))
    gold = {"a_ru": ("drones", "s1"), "g_en": ("drones", "s1"), "b_en": ("other", "s9"),
            "d_ru": ("dup", "s2"), "e_ru": ("dup", "s2")}
    return arts, ents, gold


def test_a_sub_corpus_of_the_mixed_store_labels_cross_topic_and_distractor_pairs_negative():
    arts, ents, gold = _mixed_corpus()
    t = story_model.subset_pairs("drones+dup", arts, ents, gold, ["drones", "dup"])
    docs = t.row_doc.to_list()
    assert set(docs) == {"a_ru", "g_en", "c_ru", "d_ru", "e_ru", "f_uk"}  # b_en's topic left out
    pairs = {frozenset((docs[a], docs[b])): (int(y), int(w)) for a, b, y, w in zip(t.a, t.b, t.y, t.within)}
    # g_en was a copy of b_en; without b_en it is an original and pairs with a_ru, same story
    assert pairs[frozenset(("a_ru", "g_en"))] == (1, 0)
    assert pairs[frozenset(("d_ru", "e_ru"))] == (1, 1)
    for k, (y, w) in pairs.items():
        if "c_ru" in k or "f_uk" in k:
            assert (y, w) == (0, -1)
    # each distractor is scored as a story of its own; only the topics' articles otherwise
    assert set(t.gold["gold"]) == {"s1", "s2", "distractor:c_ru", "distractor:f_uk"}
    only_gold = story_model.subset_pairs("drones", arts, ents, gold, ["drones"], score_distractors=False)
    assert set(only_gold.gold["doc_id"]) == {"a_ru", "g_en"}


def test_training_weights_share_the_within_topic_weight_equally_and_keep_the_rest():
    rng = np.random.default_rng(2)
    t = _topic_pairs("m", rng)
    # 10 pairs inside topic 0, 30 inside topic 1, the rest across topics or with distractors
    t.within = np.full(len(t.y), -1)
    t.within[:10], t.within[10:40] = 0, 1
    w = story_model._weights([t])
    assert w[:10].sum() == pytest.approx(20) and w[10:40].sum() == pytest.approx(20)
    assert (w[40:] == 1).all()
