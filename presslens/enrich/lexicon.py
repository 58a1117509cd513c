"""simplemma lemmas without decoding simplemma's dictionaries in every process.

simplemma decodes a language's whole dictionary from its compressed front-coded file on
first use in a process (ru: 1.4 million entries, ~2.2 s CPU; uk: 0.6 million, ~0.9 s), in
Python. A build worker needs the ru and uk ones for the lemmas of each article's title and
lead (presslens.stories.lead_words), so every worker of every build paid ~3 s for them.

Here each decoded dictionary is saved once per machine (and simplemma release) in a cache
file holding a MARISA trie (the marisa-trie package: a compact, memory-mapped string
map; ru 8.6 MB where the decoded dict takes ~200 MB per process). A later process maps
the file in a fraction of a millisecond instead of reading ~1.4 s of marshal data (the
previous cache format) into a dict, and the worker processes of one build share its
pages. A lookup costs ~3 us instead of ~0.3 us; an article's lead needs ~25 (the
lemmas are cached per word), so ~0.1 ms an article. The lemmatiser is simplemma's
default one (same strategies, same order) over the same entries, so its lemmas are
simplemma.lemmatize's (tests/test_lexicon.py compares them). A language whose cache
cannot be written or read (read-only home, a newer simplemma without these internals)
uses simplemma's own dictionary, as before.

Cache folder: $PRESSLENS_CACHE, else $XDG_CACHE_HOME/presslens, else ~/.cache/presslens.
The file name holds the simplemma version and the data file's size and mtime, so a new
simplemma or new data gets a new file.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    """Where the decoded dictionaries are kept (see the module doc)."""
    env = os.environ.get("PRESSLENS_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "presslens"


def _cache_path(lang: str) -> Path:
    """The cache file of `lang` (ValueError for a language simplemma does not ship)."""
    import simplemma
    from simplemma.strategies.dictionaries import dictionary_factory as df

    if lang not in df.SUPPORTED_LANGUAGES:
        raise ValueError(f"Unsupported language: {lang}")
    st = (Path(df.DATA_FOLDER) / f"{lang}.plzma").stat()
    version = getattr(simplemma, "__version__", "0")
    return cache_dir() / f"simplemma-{version}-{lang}-{st.st_size}-{st.st_mtime_ns}.marisa"


def _write(path: Path, entries: dict[bytes, bytes]) -> None:
    """Save `entries` as a trie file, atomically (two workers may race)."""
    import marisa_trie

    from presslens.fsio import write_atomic

    write_atomic(path, marisa_trie.BytesTrie((k.decode("utf-8"), v) for k, v in entries.items()).tobytes())


def _mapped(path: Path) -> Any:
    """The trie of a cache file, memory-mapped (raises on a missing or damaged file)."""
    import marisa_trie

    trie = marisa_trie.BytesTrie()
    trie.mmap(str(path))
    return trie


def load(lang: str) -> Any:
    """simplemma's decoded dictionary of `lang` as a str -> bytes trie (marisa_trie.BytesTrie:
    `get(word)` is None or a one-item list), from the cache file, which is written first
    when missing or damaged."""
    path = _cache_path(lang)
    try:
        return _mapped(path)
    except (OSError, RuntimeError, ValueError):
        pass
    from simplemma.strategies.dictionaries.dictionary_factory import _load_dictionary_from_disk

    entries = _load_dictionary_from_disk(lang)
    _write(path, entries)
    return _mapped(path)


def _trie_mapping(trie: Any) -> Any:
    """A trie as the str -> str mapping simplemma's strategies read."""
    from simplemma.strategies.dictionaries.dictionary_factory import DecodedStrMapping

    class TrieMapping(DecodedStrMapping):
        __slots__ = ("_trie",)

        def __init__(self, t: Any) -> None:
            self._trie = t

        def _lookup(self, key: str) -> str | None:
            value = self._trie.get(key)
            return value[0].decode() if value else None

        def __iter__(self):
            return iter(self._trie.keys())

        def __len__(self) -> int:
            return len(self._trie)

    return TrieMapping(trie)


class _Factory:
    """simplemma DictionaryFactory over the cached dictionaries (one per language); a
    language that cannot be loaded this way gets simplemma's own dictionary."""

    @functools.lru_cache(maxsize=None)  # noqa: B019  one factory per process, never freed
    def get_dictionary(self, lang: str) -> Any:
        from simplemma.strategies.dictionaries import dictionary_factory as df

        try:
            return _trie_mapping(load(lang))
        except (OSError, RuntimeError, ValueError, ImportError, AttributeError):
            return df.DEFAULT_DICTIONARY_FACTORY.get_dictionary(lang)


@functools.lru_cache(maxsize=1)
def _lemmatizer() -> Any:
    """simplemma's default lemmatiser (what simplemma.lemmatize uses) over _Factory."""
    import simplemma
    from simplemma.strategies import DefaultStrategy

    return simplemma.Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=_Factory()))


@functools.lru_cache(maxsize=1)
def _lookup() -> Any:
    """simplemma's dictionary lookup (what simplemma.is_known uses) over _Factory."""
    from simplemma.strategies import DictionaryLookupStrategy

    return DictionaryLookupStrategy(_Factory())


def lemmatize(word: str, lang: str) -> str:
    """simplemma.lemmatize(word, lang=lang), from the cached dictionaries."""
    return _lemmatizer().lemmatize(word, lang)


def is_known(word: str, lang: str) -> bool:
    """simplemma.is_known(word, lang), from the cached dictionaries."""
    from simplemma.utils import normalize_token

    return _lookup().get_lemma(normalize_token(word), lang) is not None
