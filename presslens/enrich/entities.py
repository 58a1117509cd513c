"""PLACEHOLDER (being replaced): entity mentions."""
from __future__ import annotations

from presslens.records import Mention


def extract(text: str, language: str, boilerplate) -> list[Mention]:
    return []


def entity_catalog() -> list[dict]:
    """Canonical entities known before the build: entity_id, name, entity_type, names."""
    return []
