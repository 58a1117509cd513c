"""Store protection: decide whether to serve, build or refuse, so nothing destroys a store.

In:  the store folder (PRESSLENS_STORE), the corpus folder asked for (PRESSLENS_CORPUS or
     --corpus, possibly unset) and the default corpus. Out: a Decision (what to do and the
     sentence to show), or for the CLI a refusal message.

The rules (issue #10, "the app destroyed a store"):
- A store remembers the corpus it was built from (manifest "corpus", see store.corpus_of).
- The app serves a store as it is. It refreshes it (incremental build) only from that same
  corpus, and only when that folder is there. It never replaces a store built from a
  different corpus (or from imported tables): a mismatch is explained on the page.
- With no store yet, the app builds one from the corpus asked for (or the default corpus).
- A folder that holds other files and is not a presslens store is never written into, and
  a damaged store (CURRENT that cannot be read) is not overwritten by the app.
- `python -m presslens build` refuses to replace a store built from another corpus unless
  --force is given.

Only reads the file system (no writes), so the decision is testable on temporary folders.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from presslens import store

Action = Literal["serve", "build", "refuse"]
Level = Literal["", "info", "warning", "error"]

# Names a store folder may hold while its first version is being written (store.begin and
# store.publish): a folder holding only these is still an empty store.
_BUILDING_PREFIXES = (".tmp-", ".CURRENT-", store.BUILD_LOCK)


@dataclass(frozen=True)
class Decision:
    """What the app does with the store.

    action: "serve" the existing store; "build" a new store from `corpus` (there is none
    yet); "refuse" (nothing can be served; `message` says why and what to do).
    corpus: for "build", the corpus to build from; for "serve", the corpus the store may
    be refreshed from when it is stale (its own corpus), or None when it must not be.
    message/level: a sentence for the page ("" = nothing to say; "info" = a quiet note,
    "warning" = shown above the page: the data is not what PRESSLENS_CORPUS asked for).
    """

    action: Action
    corpus: Path | None = None
    message: str = ""
    level: Level = ""


def same_folder(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when two paths name the same folder once links and relative parts are resolved."""
    return os.path.realpath(a) == os.path.realpath(b)


def built_corpus(info: store.StoreInfo) -> Path | None:
    """The corpus this store was built from, when it really was built from it: the manifest
    names it and its files table lists as many input files as the manifest counted. A store
    made otherwise (imported tables, a benchmark store scaled up from a built one, which
    keeps the original manifest) gives None, so it is never "refreshed" from that corpus."""
    corpus = store.corpus_of(info)
    if corpus is None:
        return None
    try:
        listed = store.scan(info, "files").select(pl.len()).collect().item()
    except Exception:  # no or unreadable files table: not a build's output
        return None
    return corpus if listed == info.manifest.get("files") else None


def _store_kind(root: Path) -> tuple[str, store.StoreInfo | None, str]:
    """("none" | "store" | "damaged" | "foreign", info, detail) for the folder `root`."""
    if not root.exists():
        return "none", None, ""
    if not root.is_dir():
        return "foreign", None, "it is a file, not a folder"
    try:
        names = [p.name for p in root.iterdir()]
    except OSError as exc:
        return "damaged", None, f"it cannot be listed ({exc.strerror or exc})"
    if "CURRENT" in names:
        try:
            info = store.current(root)
        except (OSError, ValueError, KeyError) as exc:  # unreadable or malformed manifest
            return "damaged", None, f"its live version cannot be read ({type(exc).__name__})"
        if info is None:
            return "damaged", None, "its CURRENT file points to a version that is missing"
        return "store", info, ""
    if all(n.startswith(_BUILDING_PREFIXES) for n in names):
        return "none", None, ""
    if any(n.startswith("v-") and (root / n / "manifest.json").exists() for n in names):
        return "damaged", None, "it holds store versions but no CURRENT file"
    return "foreign", None, "it holds other files and is not a presslens store"


def plan_store(store_root: str | os.PathLike, corpus_env: str | None, default_corpus: str | os.PathLike) -> Decision:
    """What the app should do with PRESSLENS_STORE, given PRESSLENS_CORPUS (None or "" = unset).

    Never returns "build" for a folder that holds a store, and never allows refreshing a
    store from a corpus other than the one it was built from.
    """
    root = Path(store_root)
    asked = Path(corpus_env) if corpus_env else None
    kind, info, detail = _store_kind(root)
    if kind == "foreign":
        return Decision("refuse", None, (
            f"PRESSLENS_STORE points to {root}, but {detail}. presslens will not write into it. "
            "Set PRESSLENS_STORE to a new or empty folder (the store is built there), or to a store "
            "made by `python -m presslens build`."), "error")
    if kind == "damaged":
        return Decision("refuse", None, (
            f"The store at {root} cannot be read: {detail}. It was left untouched. Rebuild it on purpose "
            f"with `python -m presslens build --corpus FOLDER --store {root} --force`, or set "
            "PRESSLENS_STORE to another store."), "error")
    if kind == "none":
        corpus = asked or Path(default_corpus)
        if corpus.is_dir():
            return Decision("build", corpus, f"Building the store at {root} from {corpus}.", "info")
        where = "PRESSLENS_CORPUS" if asked else "the default corpus folder"
        return Decision("refuse", None, (
            f"There is no store at {root} yet, and {where} {corpus} is not a folder. Set PRESSLENS_CORPUS "
            "to a folder of articles (or PRESSLENS_STORE to a built store)."), "error")
    assert info is not None
    built_from = built_corpus(info)
    if asked is not None and not asked.is_dir() and not (built_from and same_folder(asked, built_from)):
        # Nothing could be built from it anyway: say which store is shown, quietly.
        return Decision("serve", None, (
            f"PRESSLENS_CORPUS {asked} is not a folder; the store at {root} is shown as it was built."), "info")
    if built_from is None:
        if asked is not None:
            return Decision("serve", None, (
                f"This store ({root}) was not built from a corpus folder by presslens build (imported or "
                f"generated tables), so it is shown as it is and was not rebuilt from PRESSLENS_CORPUS {asked}."),
                "warning")
        return Decision("serve")
    if asked is not None and not same_folder(asked, built_from):
        return Decision("serve", None, (
            f"This store was built from {built_from}, not from PRESSLENS_CORPUS {asked}. It is shown as it "
            "is: presslens never replaces a store with the articles of another corpus. To see "
            f"{asked}, set PRESSLENS_STORE to a new folder (the store is built there), or rebuild this "
            f"store on purpose with `python -m presslens build --corpus {asked} --store {root} --force`."),
            "warning")
    if not built_from.is_dir():
        return Decision("serve", None, (
            f"The corpus this store was built from ({built_from}) is not there now, so the store is "
            "shown as it was built and is not checked for changes."), "info")
    return Decision("serve", built_from)


def check_build(store_root: str | os.PathLike, corpus: str | os.PathLike, force: bool = False) -> str | None:
    """For `python -m presslens build`: None when building `corpus` into `store_root` is safe,
    else the message that explains the refusal (what is there, and how to go ahead)."""
    root = Path(store_root)
    kind, info, detail = _store_kind(root)
    if kind == "none":
        return None
    if kind == "foreign":
        return (f"{root} is not a presslens store ({detail}); nothing was written. "
                "Choose a new or empty folder for --store.")
    if force:
        return None
    if kind == "damaged":
        return (f"The store at {root} cannot be read ({detail}); nothing was written. "
                "Add --force to replace it with a build of the corpus.")
    assert info is not None
    built_from = built_corpus(info)
    if built_from is None:
        return (f"The store at {root} was not built from a corpus folder by presslens build (imported or "
                f"generated tables); building {corpus} into it would replace its articles. Nothing was written. "
                "Use another --store, or add --force to replace it.")
    if not same_folder(corpus, built_from):
        return (f"The store at {root} was built from {built_from}, not from {corpus}; building would "
                "replace its articles with another corpus's. Nothing was written. Use another --store "
                "for this corpus, or add --force to replace the store.")
    return None

