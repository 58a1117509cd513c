"""Labels for people: markdown escaping, language names, entity display names."""
from __future__ import annotations

import streamlit as st

from presslens.ui.data import raw, value



def md(s) -> str:
    """Escape text for Streamlit markdown (labels, captions): no links, images or HTML."""
    out = []
    for ch in str(s):
        if ch in "\\`*_{}[]()<>#+-.!|~$:":
            out.append("\\" + ch)
        elif not ch.isprintable():
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


@st.cache_data(show_spinner=False)
def _language_names() -> dict[str, str]:
    try:
        from babel import Locale

        return dict(Locale("en").languages)
    except Exception:
        return {}


def lang_label(code: str | None) -> str:
    if not code or code == "und":
        return "undetermined"
    name = _language_names().get(code)
    return f"{name} ({code})" if name else code


def lang_labels(codes=None) -> dict[str, str]:
    """code -> "Russian (ru)" for the given codes (default: every language in the store)."""
    if codes is None:
        codes = value(raw("vocabulary"), "languages", [])
    return {c: lang_label(c) for c in codes}


def entity_names(ids) -> dict[str, str]:
    ids = tuple(sorted(set(ids)))
    if not ids:
        return {}
    df = raw("entity_info", ids)
    return dict(zip(df["entity_id"].to_list(), df["name"].to_list()))
