"""The engine's output: plain dataclasses that every front door (CLI, Discord, eval) renders."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

NOT_FOUND_TEXT = "Je n'ai pas trouvé de réponse à cette question dans le corpus."


@dataclass(frozen=True, slots=True)
class Source:
    """One ranked document behind an answer, with the passage that matched best."""

    doc_id: str
    title: str | None
    publisher: str | None
    published: str | None  # ISO date (YYYY-MM-DD) or None
    url: str | None
    score: float
    passage: str
    file: str | None = None  # file name for folder corpora
    link: str | None = None  # url with a text fragment pointing at the quoted text

    def label(self) -> str:
        """Human label: title, or file name, or id."""
        return self.title or self.file or self.doc_id

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the engine says about one question.

    `text` is the French text a person reads (quoted sentences, no markup); `sentences`
    are the verbatim quotes it is made of; `sources[0]` is where they come from when found.
    When not found, `lead` may name the closest document as a hint.
    """

    question: str
    found: bool
    text: str
    confidence: float
    sources: list[Source] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    lead: Source | None = None
    latency_ms: float = 0.0

    @property
    def source(self) -> Source | None:
        """The source the quoted sentences come from (None when not found)."""
        return self.sources[0] if self.found and self.sources else None


class QuestionError(ValueError):
    """A question the engine refuses to process (empty, blank); the message is French."""
