"""PLACEHOLDER (being replaced): cited sources."""
from __future__ import annotations

from presslens.records import Cited


def cited(text: str, language: str, boilerplate) -> list[Cited]:
    return []
