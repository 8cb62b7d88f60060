"""The record logged for an engine answer, and how times are stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bot.search.answer import Answer, Source
from bot.storage import QueryRecord
from bot.storage.records import from_db_time, to_db_time


def test_record_from_answer() -> None:
    source = Source("doc-1", "Titre", "Journal", "2025-01-01", "https://x", 4.0, "Passage.")
    answer = Answer("Question ?", True, 0.7, [source], ["Réponse citée."], latency_ms=3.5)
    record = QueryRecord.from_answer(answer, origin="mention", guild_id=5, user_id=6)
    assert (record.question, record.found, record.confidence) == ("Question ?", True, 0.7)
    assert record.sources == [("doc-1", 4.0)] and record.answer_chars == len("Réponse citée.")
    assert record.latency_ms == 3.5 and record.guild_id == 5 and record.origin == "mention"


def test_stored_time_is_utc_text_whose_order_is_time_order() -> None:
    paris = timezone(timedelta(hours=1))
    moments = [datetime(2026, 3, 15, 12, 30, tzinfo=paris), datetime(2026, 3, 15, 12, 0), datetime(2026, 3, 15, 12, 15)]
    texts = [to_db_time(m) for m in moments]  # 11:30 UTC, 12:00 UTC (naive is UTC), 12:15 UTC
    assert texts[0] == "2026-03-15T11:30:00.000000+00:00"
    assert sorted(texts) == texts
    assert from_db_time(texts[0]) == moments[0] and from_db_time(texts[0]).tzinfo == UTC
    assert from_db_time("2026-03-15T12:00:00") == datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
