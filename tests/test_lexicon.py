"""presslens.enrich.lexicon gives simplemma's own lemmas and "known" answers, from its cache."""
from __future__ import annotations

import os

import pytest

simplemma = pytest.importorskip("simplemma")

from presslens.enrich import lexicon  # noqa: E402

# Words of each language as they come from article leads: inflected, capitalised, hyphenated,
# unknown, with apostrophes; the lemmatiser's casing and affix fallbacks are all exercised.
WORDS = {
    "ru": ["оправдали", "освободить", "Москвы", "президента", "северо-восточный", "убежище", "кремлём",
           "зеленского", "ракетами", "ЦИК", "фейкньюсов", "рос-сия"],
    "uk": ["заявив", "Києва", "ракети", "обстріли", "тривають", "м'яч", "Зеленського", "ЗСУ", "п’ятниця"],
    "en": ["reported", "Pyongyang", "meetings", "Institute", "don't", "well-known", "xyzzy"],
    "ro": ["Moscovei", "atacurile", "continuă", "Ministerul", "s-a", "întâlnit", "Ucrainei"],
}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PRESSLENS_CACHE", str(tmp_path / "cache"))
    lexicon._Factory.get_dictionary.cache_clear()
    lexicon._lemmatizer.cache_clear()
    lexicon._lookup.cache_clear()
    yield tmp_path / "cache"
    lexicon._Factory.get_dictionary.cache_clear()
    lexicon._lemmatizer.cache_clear()
    lexicon._lookup.cache_clear()


@pytest.mark.parametrize("lang", ["en", "ro"])
def test_lemmas_and_known_words_equal_simplemmas_and_the_cache_is_written_once(cache, lang):
    words = WORDS[lang]
    got = [lexicon.lemmatize(w, lang) for w in words]
    assert got == [simplemma.lemmatize(w, lang=lang) for w in words]
    assert [lexicon.is_known(w, lang) for w in words] == [simplemma.is_known(w, lang) for w in words]
    files = list(cache.glob(f"simplemma-*-{lang}-*.marisa"))
    assert len(files) == 1 and not list(cache.glob("*.tmp"))
    # a new process maps the cache file instead of decoding simplemma's data again
    before = files[0].stat().st_mtime_ns
    trie = lexicon.load(lang)
    assert files[0].stat().st_mtime_ns == before and len(list(cache.iterdir())) == 1
    entries = simplemma_entries(lang)
    assert len(trie) == len(entries)
    assert all(trie.get(k.decode()) == [v] for k, v in list(entries.items())[::997])


def test_ukrainian_lemmas_equal_simplemmas(cache):
    # uk, not ru: the same code path, a third of the decoding time (ru lead words are
    # covered by comparing two builds' stores: benchmarks/check_outputs.py --stores)
    lang = "uk"
    words = WORDS[lang]
    assert [lexicon.lemmatize(w, lang) for w in words] == [simplemma.lemmatize(w, lang=lang) for w in words]


def test_a_corrupt_cache_file_is_rebuilt_not_trusted(cache):
    lexicon.lemmatize("word", "en")
    (path,) = cache.glob("simplemma-*-en-*.marisa")
    path.write_bytes(b"not a trie")
    assert lexicon.load("en").get("meetings") == [simplemma_entries("en")[b"meetings"]]
    assert path.read_bytes() != b"not a trie"


def test_an_unwritable_cache_falls_back_to_simplemmas_dictionary(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("PRESSLENS_CACHE", str(blocker / "cache"))
    lexicon._Factory.get_dictionary.cache_clear()
    lexicon._lemmatizer.cache_clear()
    try:
        assert lexicon.lemmatize("meetings", "en") == simplemma.lemmatize("meetings", lang="en")
        assert not os.path.exists(blocker / "cache")
    finally:
        lexicon._Factory.get_dictionary.cache_clear()
        lexicon._lemmatizer.cache_clear()


def simplemma_entries(lang: str) -> dict[bytes, bytes]:
    from simplemma.strategies.dictionaries.dictionary_factory import _load_dictionary_from_disk

    return _load_dictionary_from_disk(lang)
