"""The engine's output: plain dataclasses that every front door (CLI, Discord, eval) renders."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Source:
    """One ranked document behind an answer, with the passage that matched best."""

    doc_id: str
    title: str | None
    publisher: str | None
    published: str | None  # ISO date (YYYY-MM-DD), "~" in front when approximate, or None
    url: str | None
    score: float
    passage: str
    file: str | None = None  # file name for folder corpora


@dataclass(frozen=True, slots=True)
class Quote:
    """Verbatim text quoted from one document, piece by piece, and that document."""

    source: Source
    sentences: list[str]


@dataclass(frozen=True, slots=True)
class Answer:
    """What the engine says about one question; `bot.text` turns it into French for people.

    `quotes` group the verbatim pieces by the document they come from (one document, or two when the
    next one answers too), the piece that answers best first; `sentences` lists them all. `highlight`
    is the phrase of the first piece that answers, verbatim, or None. `confidence` is the estimated
    probability that the answer is right. `sources` is the ranking, best first. When not found, `lead`
    may name the closest document as a hint. `intent` is "smalltalk" for a greeting, thanks or a
    question about the bot itself (then nothing is searched), else "question".
    """

    question: str
    found: bool
    confidence: float
    sources: list[Source] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    lead: Source | None = None
    latency_ms: float = 0.0
    quotes: list[Quote] = field(default_factory=list)
    highlight: str | None = None
    intent: str = "question"
    asks: str | None = None  # the kind of answer asked for: "date", "number", "person", "place", "cause"
    understood_as: str | None = None  # a follow-up written out in full from the questions before it, as answered

    @property
    def source(self) -> Source | None:
        """The source of the first quoted sentences (None when not found)."""
        return self.quotes[0].source if self.found and self.quotes else None


class QuestionError(ValueError):
    """A question the engine refuses to process (empty, blank); the message is French."""
