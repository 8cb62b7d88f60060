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
class Quote:
    """Sentences quoted verbatim from one document, and that document (its link points at the first one)."""

    source: Source
    sentences: list[str]


@dataclass(frozen=True, slots=True)
class Answer:
    """What the engine says about one question.

    `text` is the French text a person reads (quoted sentences, no markup); `quotes` group the
    verbatim sentences by the document they come from (one document, or two when the next one
    ranks almost as high), and `sentences` lists them all. `sources` is the ranking, best first.
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
    quotes: list[Quote] = field(default_factory=list)

    @property
    def source(self) -> Source | None:
        """The source of the first quoted sentences (None when not found)."""
        return self.quotes[0].source if self.found and self.quotes else None


class QuestionError(ValueError):
    """A question the engine refuses to process (empty, blank); the message is French."""
