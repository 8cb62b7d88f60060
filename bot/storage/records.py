"""What the query log stores and gives back: the record and row of a question, a server's settings and figures.

Plain dataclasses and the UTC timestamp helpers every storage module shares; nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from bot.search.answer import Answer


@dataclass
class QueryRecord:
    """One question as it is logged (what a front door knows right after answering)."""

    question: str
    origin: str  # "slash" | "mention" | "menu" | "forum" | "cli"
    found: bool
    confidence: float
    latency_ms: float
    answer_chars: int
    sources: list[tuple[str, float]]  # (doc_id, score), best first
    guild_id: int | None = None
    channel_id: int | None = None
    user_id: int | None = None
    error: str | None = None
    created_at: datetime | None = None  # UTC now when None
    intent: str = "question"  # or "smalltalk": greetings and questions about the bot, never "unanswered"
    follows: int | None = None  # id of the logged question this follow-up was read after

    @classmethod
    def from_answer(
        cls,
        answer: Answer,
        *,
        origin: str,
        guild_id: int | None = None,
        channel_id: int | None = None,
        user_id: int | None = None,
        latency_ms: float | None = None,
        max_sources: int = 5,
        follows: int | None = None,
    ) -> QueryRecord:
        """Record for an engine `Answer` (latency defaults to the engine's own measure)."""
        return cls(
            question=answer.question,
            origin=origin,
            found=answer.found,
            confidence=float(answer.confidence),
            latency_ms=float(answer.latency_ms if latency_ms is None else latency_ms),
            answer_chars=sum(len(s) for s in answer.sentences),
            sources=[(s.doc_id, float(s.score)) for s in answer.sources[:max_sources]],
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            intent=answer.intent,
            follows=follows,
        )


@dataclass
class QueryRow:
    """One logged question as read back, with its feedback vote counts."""

    id: int
    created_at: datetime
    guild_id: int | None
    channel_id: int | None
    user_id: int | None
    question: str
    origin: str
    found: bool
    confidence: float
    latency_ms: float
    answer_chars: int
    sources: list[tuple[str, float]]
    error: str | None
    upvotes: int = 0
    downvotes: int = 0
    follows: int | None = None


@dataclass
class GuildSettings:
    """A server's own settings; None means "use the global default from the configuration"."""

    guild_id: int
    ephemeral: bool = False
    use_threads: bool = False
    rate_limit_count: int | None = None
    rate_limit_seconds: float | None = None
    retention_days: int | None = None
    forum_auto: bool = False  # answer each new post of the forums the bot may answer in


@dataclass
class GuildStats:
    """What `/admin stats` shows for one server.

    Latency percentiles use the nearest-rank method over the period's queries that did not
    fail (0.0 when there are none). `found` + `not_found` + `smalltalk` + `errors` = `total`.
    """

    total: int
    today: int
    last_7_days: int
    found: int
    not_found: int
    upvotes: int
    downvotes: int
    latency_p50_ms: float
    latency_p95_ms: float
    top_questions: list[tuple[str, int]] = field(default_factory=list)
    top_documents: list[tuple[str, int]] = field(default_factory=list)
    unanswered: list[tuple[str, int]] = field(default_factory=list)
    errors: int = 0
    all_time: int = 0  # every question ever logged on the server, whatever the period
    smalltalk: int = 0  # greetings, thanks and questions about the bot: neither found nor unanswered


@dataclass(frozen=True)
class DayFigures:
    """One UTC day of a server's log, as the `/admin stats` chart draws it."""

    day: date
    questions: int
    answered: int  # found, not failed, not small talk: as `GuildStats.found`
    upvotes: int  # votes on that day's questions
    downvotes: int


@dataclass(frozen=True)
class StoredDocument:
    """One of a server's own documents as `/admin documents liste` shows it (its text stays in the database)."""

    id: int  # the row id moderators name it by
    doc_id: str
    title: str | None
    source: str  # "fichier:<name>" or the address it was fetched from
    added_by: int
    added_at: datetime
    text_bytes: int


class DocumentCount(NamedTuple):
    """How many documents a server holds, and the size of their text in UTF-8 bytes."""

    documents: int
    text_bytes: int


def storable(text: str) -> str:
    """`text` as both databases accept it: surrogate pairs joined, lone surrogates and NUL bytes (which neither
    UTF-8 nor PostgreSQL's text can hold) replaced by U+FFFD, so a strange question still gets its row."""
    joined = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return joined.replace("\x00", "\ufffd")


def utc_now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def to_db_time(moment: datetime) -> str:
    """UTC ISO-8601 text with fixed width, so text order is time order (naive = UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    """Parse a stored timestamp back to an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
