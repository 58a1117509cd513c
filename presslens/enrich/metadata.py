"""PLACEHOLDER (being replaced): title, outlet, publication date."""
from __future__ import annotations

from presslens.records import Evidence, RawRecord


def title(record: RawRecord, text: str, boilerplate, language: str) -> Evidence:
    if record.title:
        return Evidence(record.title, record.provenance.get("title", "field"))
    first = text.strip().splitlines()[0] if text.strip() else ""
    return Evidence(first[:200] or None, "text", first[:200])


def outlet(record: RawRecord, text: str, boilerplate, language: str) -> Evidence:
    if record.outlet:
        return Evidence((record.outlet, None), record.provenance.get("outlet", "field"))
    return Evidence(None, "none")


def published(record: RawRecord, text: str, boilerplate, language: str) -> Evidence:
    if record.published:
        return Evidence(record.published, record.provenance.get("published", "field"))
    return Evidence(None, "none")
