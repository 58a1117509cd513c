"""PLACEHOLDER (being replaced): language detection."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Paragraph:
    start: int
    end: int
    language: str
    confidence: float


@dataclass
class LanguageResult:
    language: str  # ISO 639-1 or "und"
    confidence: float
    mixed: bool = False
    languages: list[str] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)


def detect(text: str, boilerplate: list[tuple[int, int]]) -> LanguageResult:
    return LanguageResult("und", 0.0)
