"""The query log: questions and votes written and read back per server, figures, CSV export, failed writes."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.storage import DayFigures, Storage
from bot.storage.querylog import EXPORT_COLUMNS, csv_safe
from bot.storage.spool import SPOOL_NAME
from tests.storage.backends import Backend
from tests.storage.factories import GUILD_A, GUILD_B, NOW, rec


async def test_log_and_get_roundtrip(store: Storage) -> None:
    question = "Robert'); DROP TABLE queries;-- « été » 🇫🇷"
    qid = await store.log_query(rec(question, sources=[("doc", 1.5)], latency_ms=12.25))
    assert isinstance(qid, int)
    row = await store.get_query(qid)
    assert row is not None
    assert row.question == question
    assert row.created_at == NOW and row.created_at.tzinfo is not None
    assert (row.guild_id, row.channel_id, row.user_id) == (GUILD_A, 42, 1)
    assert row.origin == "slash" and row.found is True
    assert row.confidence == 0.8 and row.latency_ms == 12.25 and row.answer_chars == 120
    assert row.sources == [("doc", 1.5)]
    assert row.error is None
    assert await store.get_query(qid + 1) is None
    assert store.failures == 0


async def test_default_timestamp_is_utc_now(store: Storage) -> None:
    before = datetime.now(UTC)
    qid = await store.log_query(rec(created_at=None, guild_id=None, user_id=None, origin="cli"))
    row = await store.get_query(qid or -1)
    assert row is not None and before <= row.created_at <= datetime.now(UTC)
    assert row.guild_id is None and row.origin == "cli"


async def test_history_order_filters_and_paging(store: Storage) -> None:
    for i in range(5):
        await store.log_query(rec(f"q{i}", user_id=1 + i % 2, found=i != 3, created_at=NOW + timedelta(minutes=i)))
    await store.log_query(rec("autre serveur", guild_id=GUILD_B, created_at=NOW + timedelta(1)))

    rows = await store.history(GUILD_A)
    assert [r.question for r in rows] == ["q4", "q3", "q2", "q1", "q0"]
    assert [r.question for r in await store.history(GUILD_A, limit=2, offset=2)] == ["q2", "q1"]
    assert [r.question for r in await store.history(GUILD_A, user_id=2)] == ["q3", "q1"]
    assert [r.question for r in await store.history(GUILD_A, not_found_only=True)] == ["q3"]
    assert await store.count_history(GUILD_A) == 5
    assert await store.count_history(GUILD_A, user_id=1) == 3
    assert await store.count_history(GUILD_A, not_found_only=True) == 1
    assert [r.question for r in await store.history(GUILD_B)] == ["autre serveur"]
    assert await store.history(999) == [] and await store.count_history(999) == 0


async def test_votes_one_per_user_changeable(store: Storage) -> None:
    qid = await store.log_query(rec())
    assert qid is not None
    assert await store.record_vote(qid, GUILD_A, 10, 1)
    assert await store.record_vote(qid, GUILD_A, 10, 1)  # same vote again: still one
    assert await store.record_vote(qid, GUILD_A, 11, 1)
    row = await store.get_query(qid)
    assert row is not None and (row.upvotes, row.downvotes) == (2, 0)
    assert await store.record_vote(qid, GUILD_A, 10, -1)  # changed mind
    row = await store.get_query(qid)
    assert row is not None and (row.upvotes, row.downvotes) == (1, 1)


async def test_votes_rejected(store: Storage) -> None:
    qid = await store.log_query(rec(guild_id=GUILD_B))
    assert qid is not None
    assert not await store.record_vote(qid + 100, GUILD_B, 10, 1)  # unknown query
    assert not await store.record_vote(qid, GUILD_A, 10, 1)  # another server's query
    assert not await store.record_vote(qid, None, 10, 1)
    assert not await store.record_vote(qid, GUILD_B, 10, 0)  # not ±1
    assert not await store.record_vote(qid, GUILD_B, 10, 5)
    row = await store.get_query(qid)
    assert row is not None and (row.upvotes, row.downvotes) == (0, 0)
    assert store.failures == 0  # refusals are not failures
    cli = await store.log_query(rec(guild_id=None))
    assert await store.record_vote(cli or -1, None, 10, 1)  # no-server rows match None


async def test_stats_counts_and_isolation(store: Storage) -> None:
    # 20 answered questions today with latencies 20, 19, ..., 1 (inserted out of order).
    for i in range(20):
        await store.log_query(
            rec(
                "Qui a gagné ?" if i % 2 else "qui a  GAGNÉ",
                latency_ms=float(20 - i),
                sources=[("doc-a" if i < 15 else "doc-b", 5.0)],
                created_at=NOW - timedelta(hours=1),
            )
        )
    for days in (3, 10):  # not found: one this week, one older
        await store.log_query(
            rec(
                "Combien coûte le ticket ?",
                found=False,
                sources=[],
                latency_ms=100.0,
                created_at=NOW - timedelta(days=days),
            )
        )
    errored = await store.log_query(
        rec("panne", found=False, latency_ms=9999.0, error="x", created_at=NOW - timedelta(days=3))
    )
    first = (await store.history(GUILD_A, limit=1, offset=22))[0]
    await store.record_vote(first.id, GUILD_A, 50, 1)
    await store.record_vote(first.id, GUILD_A, 51, -1)
    await store.record_vote(first.id, GUILD_A, 52, -1)
    # Guild B: lots of traffic that must not leak into A's figures.
    for _ in range(7):
        qid = await store.log_query(
            rec("secret de B", guild_id=GUILD_B, found=False, latency_ms=5000.0, created_at=NOW)
        )
        await store.record_vote(qid or -1, GUILD_B, 60, 1)

    stats = await store.stats(GUILD_A, now=NOW)
    assert stats.total == 23
    assert stats.today == 20
    assert stats.last_7_days == 22
    assert (stats.found, stats.not_found, stats.errors) == (20, 2, 1)
    assert (stats.upvotes, stats.downvotes) == (1, 2)
    # Nearest rank over the 22 non-failed latencies: 1..20 then 100, 100.
    assert stats.latency_p50_ms == 11.0  # rank ceil(0.5 * 22) = 11
    assert stats.latency_p95_ms == 100.0  # rank ceil(0.95 * 22) = 21
    assert stats.top_questions[0] == ("qui a gagné", 20)
    assert ("combien coûte le ticket", 2) in stats.top_questions
    assert stats.top_documents == [("doc-a", 15), ("doc-b", 5)]
    assert stats.unanswered == [("combien coûte le ticket", 2)]  # failures are not "unanswered"
    assert all("secret" not in q for q, _ in stats.top_questions)
    assert errored is not None

    since = await store.stats(GUILD_A, NOW - timedelta(days=5), now=NOW)
    assert since.total == 22 and since.not_found == 1 and since.errors == 1
    assert since.today == 20 and since.last_7_days == 22 and since.all_time == 23  # not restricted by `since`
    assert since.unanswered == [("combien coûte le ticket", 1)]

    b = await store.stats(GUILD_B, now=NOW)
    assert (b.total, b.all_time, b.not_found, b.upvotes, b.latency_p50_ms) == (7, 7, 7, 7, 5000.0)

    empty = await store.stats(999, now=NOW)
    assert (empty.total, empty.latency_p50_ms, empty.latency_p95_ms) == (0, 0.0, 0.0)
    assert empty.top_questions == [] and empty.top_documents == [] and empty.unanswered == []


async def test_small_talk_is_logged_but_never_listed_as_unanswered(store: Storage) -> None:
    await store.log_query(replace(rec("bonjour", found=False, sources=[]), intent="smalltalk"))
    await store.log_query(rec("Combien coûte le ticket ?", found=False, sources=[]))
    stats = await store.stats(GUILD_A, now=NOW)
    assert (stats.total, stats.not_found, stats.smalltalk) == (2, 1, 1)
    assert [q for q, _ in stats.unanswered] == ["combien coûte le ticket"]
    unanswered = await store.history(GUILD_A, not_found_only=True)
    assert [row.question for row in unanswered] == ["Combien coûte le ticket ?"]


def test_csv_safe() -> None:
    for formula in ("=1+1", "+33 6", "-2", "@SUM(A1)", "\tx"):
        assert csv_safe(formula) == "'" + formula
    assert csv_safe("Quelle heure ?") == "Quelle heure ?"


async def test_export_csv_escaping_and_isolation(store: Storage) -> None:
    tricky = [
        '=HYPERLINK("http://evil.example","clic")',
        "+cmd|' /C calc'!A0",
        "-1+1",
        "@SUM(1,2)",
        'Virgule, "guillemets" et\nretour à la ligne ?',
    ]
    ids = [await store.log_query(rec(q)) for q in tricky]
    await store.record_vote(ids[0] or -1, GUILD_A, 9, 1)
    await store.log_query(rec("question de B", guild_id=GUILD_B))

    text = await store.export_csv(GUILD_A)
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert len(body) == len(tricky)
    questions = [r["question"] for r in body]
    assert questions[:4] == ["'" + q for q in tricky[:4]]
    assert questions[4] == tricky[4]  # commas, quotes and newlines survive CSV quoting
    assert all(not q.startswith(("=", "+", "-", "@")) for q in questions)
    assert body[0]["upvotes"] == "1" and body[0]["downvotes"] == "0"
    assert body[0]["sources"] == '[["article-1", 7.5], ["article-2", 3.25]]'
    assert body[0]["found"] == "1" and body[0]["channel_id"] == "42"
    assert "question de B" not in text

    empty = list(csv.reader(io.StringIO(await store.export_csv(999))))
    assert empty == [list(EXPORT_COLUMNS)]


async def test_concurrent_writes_share_one_connection(store: Storage) -> None:
    for i in range(10):
        await store.log_query(rec(f"ancienne {i}", user_id=7 + i % 2))
    tasks = [store.log_query(rec(f"q{i}", user_id=9)) for i in range(40)]
    results = await asyncio.gather(
        store.forget_user(GUILD_A, 7),
        *tasks,
        store.forget_user(GUILD_A, 8),
        store.purge(GUILD_B, 0),
        store.add_channel(1, 2),
    )
    assert results[0] == (5, 0) and results[41] == (5, 0)
    assert all(isinstance(r, int) for r in results[1:41])
    assert store.failures == 0
    assert await store.count_history(GUILD_A) == 40


async def test_locked_database_does_not_raise(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    storage = await Storage.open(db_path, busy_timeout=0.2)
    qid = await storage.log_query(rec())
    blocker = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        blocker.execute("INSERT INTO channels VALUES (1, 2, 'x')")
        with caplog.at_level(logging.WARNING, logger="bot.storage"):
            assert await storage.log_query(rec("bloquée")) is None
            assert await storage.record_vote(qid or -1, GUILD_A, 5, 1) is False
        assert storage.failures == 2
        assert "locked" in caplog.text
        # Reads still work in WAL mode while another connection writes.
        assert await storage.count_history(GUILD_A) == 1
        assert (await storage.read_guild_settings(GUILD_A)).ephemeral is False
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert await storage.log_query(rec("après")) is not None  # recovers once released
    assert storage.failures == 2
    await storage.close()


async def test_read_only_database_does_not_raise(backend: Backend) -> None:
    # SQLite: tests run as root, where chmod 0o444 does not stop writes; SQLite's mode=ro URI gives the same
    # "attempt to write a readonly database" error a read-only file would. PostgreSQL: read-only transactions.
    async with await backend.open() as writer:
        await writer.log_query(rec())
        async with await backend.open(read_only=True) as storage:
            assert await storage.log_query(rec("refusée")) is None
            assert await storage.record_vote(1, GUILD_A, 5, 1) is False
            assert storage.failures == 2
            assert writer.failures == 0
            assert await storage.count_history(GUILD_A) == 1  # reads still work
    # Also when no other connection has the database open.
    async with await backend.open(read_only=True) as storage:
        assert await storage.log_query(rec("refusée")) is None
        assert storage.failures == 1
        assert await storage.count_history(GUILD_A) == 1


async def test_query_only_connection_does_not_raise(sqlite_store: Storage) -> None:
    await sqlite_store._db.conn.execute("PRAGMA query_only = ON")  # database turned read-only at runtime
    assert await sqlite_store.log_query(rec()) is None
    assert sqlite_store.failures == 1


async def test_disk_full_does_not_raise(sqlite_store: Storage, caplog: pytest.LogCaptureFixture) -> None:
    async with sqlite_store._db.conn.execute("PRAGMA page_count") as cur:
        pages = (await cur.fetchone())[0]  # type: ignore[index]
    await sqlite_store._db.conn.execute(f"PRAGMA max_page_count = {pages}")  # no room to grow
    with caplog.at_level(logging.WARNING, logger="bot.storage"):
        assert await sqlite_store.log_query(rec("x" * 5000)) is None
    assert sqlite_store.failures == 1
    assert "full" in caplog.text


async def test_closed_storage_does_not_raise(backend: Backend, caplog: pytest.LogCaptureFixture) -> None:
    storage = await backend.open()
    await storage.close()
    await storage.close()  # idempotent
    with caplog.at_level(logging.WARNING, logger="bot.storage"):
        assert await storage.log_query(rec()) is None
        assert await storage.record_vote(1, GUILD_A, 1, 1) is False
    assert storage.failures == 2
    # The operator reads these warnings: French, the system's own error in parentheses.
    failed, kept, vote = (r.getMessage() for r in caplog.records)
    assert failed.startswith("journal des questions : l'enregistrement de la question a échoué (")
    assert vote.startswith("journal des questions : l'enregistrement du vote a échoué (")
    assert all(m.endswith("; la réponse n'est pas affectée") for m in (failed, vote))
    # The question itself waits in the spool, for the next time the database takes it.
    assert kept.startswith("journal des questions : base de données injoignable, question gardée dans ")
    assert kept.endswith("(1 en attente)") and storage.spooled == 1


async def test_daily_figures_per_utc_day_and_isolation(store: Storage) -> None:
    day1 = datetime(2026, 8, 5, 23, 30, tzinfo=UTC)
    # 00:30 in Paris is still 5 August in UTC: days are UTC days.
    late = datetime(2026, 8, 6, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    day2 = datetime(2026, 8, 7, 8, 0, tzinfo=UTC)
    answered = await store.log_query(rec(created_at=day1))
    await store.log_query(rec("Combien ?", found=False, sources=[], created_at=late))
    await store.log_query(rec("panne", found=True, error="x", created_at=day1))  # failed: not answered
    await store.log_query(replace(rec("bonjour", created_at=day1), intent="smalltalk"))  # asked, not answered
    second = await store.log_query(rec(created_at=day2))
    await store.log_query(rec(created_at=day2 - timedelta(days=30)))  # before the period
    assert answered is not None and second is not None
    await store.record_vote(answered, GUILD_A, 50, 1)
    await store.record_vote(answered, GUILD_A, 51, 1)
    await store.record_vote(second, GUILD_A, 52, -1)
    for _ in range(3):  # another server's traffic, on the same days
        other = await store.log_query(rec("secret de B", guild_id=GUILD_B, created_at=day1))
        await store.record_vote(other or -1, GUILD_B, 60, 1)

    figures = await store.daily_figures(GUILD_A, datetime(2026, 8, 1, tzinfo=UTC))
    assert figures == [
        DayFigures(date(2026, 8, 5), questions=4, answered=1, upvotes=2, downvotes=0),
        DayFigures(date(2026, 8, 7), questions=1, answered=1, upvotes=0, downvotes=1),
    ]
    assert len(await store.daily_figures(GUILD_A)) == 3  # all time: the older day too
    assert await store.daily_figures(GUILD_B, datetime(2026, 8, 6, tzinfo=UTC)) == []
    assert await store.daily_figures(999) == []


async def test_a_question_with_a_lone_surrogate_or_a_nul_byte_keeps_its_row(store: Storage) -> None:
    qid = await store.log_query(
        rec("Quelle date\ud800 ? \x00 fin \ud83d\ude00", sources=[("doc\x00", 1.0)], error="échec\udc80")
    )
    assert qid is not None and store.failures == 0
    row = await store.get_query(qid)
    assert row is not None
    assert row.question == "Quelle date\ufffd ? \ufffd fin 😀"  # a valid surrogate pair is joined, not replaced
    assert row.sources == [("doc\ufffd", 1.0)] and row.error == "échec\ufffd"


async def test_a_follow_up_names_the_question_it_follows(store: Storage) -> None:
    first = await store.log_query(rec("De combien le trafic d'AliExpress a-t-il augmenté en Italie ?"))
    assert first is not None
    second = await store.log_query(replace(rec("Et en Espagne ?"), follows=first))
    row, earlier = await store.get_query(second or -1), await store.get_query(first)
    assert row is not None and earlier is not None
    assert (row.question, row.follows) == ("Et en Espagne ?", first)  # what was typed, and what it follows
    assert earlier.follows is None
    assert [r.follows for r in await store.history(GUILD_A)] == [first, None]


async def test_a_row_spooled_before_follow_ups_existed_is_stored(db_path: Path) -> None:
    row = {"created_at": "2026-01-01T00:00:00.000000+00:00", "guild_id": GUILD_A, "channel_id": 1, "user_id": 2}
    row |= {"question": "ancienne", "origin": "slash", "found": 1, "confidence": 0.5, "latency_ms": 1.0}
    row |= {"answer_chars": 3, "sources": "[]", "error": None, "intent": "question", "spool_id": "x1"}
    db_path.parent.mkdir(parents=True, exist_ok=True)
    (db_path.parent / SPOOL_NAME).write_text(json.dumps(row) + "\n")
    storage = await Storage.open(db_path)  # replays the spool
    try:
        assert storage.spooled == 0
        assert [(r.question, r.follows) for r in await storage.history(GUILD_A)] == [("ancienne", None)]
    finally:
        await storage.close()
