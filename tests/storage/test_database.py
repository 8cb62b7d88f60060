"""Query log storage on real SQLite files: migrations, isolation between servers, failures."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.search.answer import Answer, Source
from bot.storage.database import (
    EXPORT_COLUMNS,
    MIGRATIONS,
    SCHEMA_VERSION,
    GuildSettings,
    QueryRecord,
    Storage,
    StorageError,
    csv_safe,
    normalize_question,
    percentile_nearest_rank,
)

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
GUILD_A = 111
GUILD_B = 222

# The schema as version 1 of the bot shipped it, frozen here: upgrades start from this.
V1_DDL = (
    """CREATE TABLE queries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        guild_id INTEGER,
        channel_id INTEGER,
        user_id INTEGER,
        question TEXT NOT NULL,
        origin TEXT NOT NULL,
        found INTEGER NOT NULL,
        confidence REAL NOT NULL,
        latency_ms REAL NOT NULL,
        sources TEXT NOT NULL DEFAULT '[]'
    )""",
    """CREATE TABLE votes (
        query_id INTEGER NOT NULL REFERENCES queries(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        created_at TEXT NOT NULL,
        PRIMARY KEY (query_id, user_id)
    )""",
)


def rec(
    question: str = "Qui a remporté l'élection ?",
    *,
    guild_id: int | None = GUILD_A,
    user_id: int | None = 1,
    found: bool = True,
    latency_ms: float = 10.0,
    created_at: datetime | None = NOW,
    sources: list[tuple[str, float]] | None = None,
    error: str | None = None,
    origin: str = "slash",
) -> QueryRecord:
    return QueryRecord(
        question=question,
        origin=origin,
        found=found,
        confidence=0.8 if found else 0.1,
        latency_ms=latency_ms,
        answer_chars=120 if found else 0,
        sources=sources if sources is not None else [("article-1", 7.5), ("article-2", 3.25)],
        guild_id=guild_id,
        channel_id=42,
        user_id=user_id,
        error=error,
        created_at=created_at,
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(db_path)
    try:
        yield storage
    finally:
        await storage.close()


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def make_v1_file(path: Path) -> None:
    """A database as the first schema version left it, holding a few rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    for statement in V1_DDL:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.executemany(
        "INSERT INTO queries (created_at, guild_id, channel_id, user_id, question, origin, "
        "found, confidence, latency_ms, sources) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                "2025-01-02T10:00:00.000000+00:00",
                GUILD_A,
                5,
                7,
                "Où se trouve la mairie ?",
                "slash",
                1,
                0.9,
                15.0,
                '[["mairie", 4.5]]',
            ),
            ("2025-01-03T10:00:00.000000+00:00", GUILD_B, 6, 8, "Question de B", "mention", 0, 0.1, 25.0, "[]"),
        ],
    )
    conn.execute("INSERT INTO votes VALUES (1, 9, 1, '2025-01-02T10:01:00.000000+00:00')")
    conn.commit()
    conn.close()


# --- migrations -------------------------------------------------------------------------


def _squash(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def test_shipped_v1_migration_is_frozen() -> None:
    assert MIGRATIONS[0].version == 1
    assert [_squash(s) for s in MIGRATIONS[0].statements] == [_squash(s) for s in V1_DDL]
    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))


async def test_open_creates_folder_and_latest_schema(db_path: Path) -> None:
    assert not db_path.parent.exists()
    storage = await Storage.open(db_path)
    try:
        assert await storage.schema_version() == SCHEMA_VERSION
    finally:
        await storage.close()
    assert {"queries", "votes", "guild_settings", "channels"} <= tables(db_path)
    assert user_version(db_path) == SCHEMA_VERSION
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "queries_guild_created" in indexes


async def test_reopen_keeps_data(db_path: Path) -> None:
    async with await Storage.open(db_path) as storage:
        qid = await storage.log_query(rec())
    async with await Storage.open(db_path) as storage:
        row = await storage.get_query(qid or -1)
        assert row is not None and row.question == "Qui a remporté l'élection ?"
        assert await storage.schema_version() == SCHEMA_VERSION


async def test_upgrade_v1_file_in_place(db_path: Path) -> None:
    make_v1_file(db_path)
    assert "guild_settings" not in tables(db_path)

    async with await Storage.open(db_path) as storage:
        assert await storage.schema_version() == SCHEMA_VERSION
        old = await storage.get_query(1)
        assert old is not None
        assert old.question == "Où se trouve la mairie ?"
        assert old.created_at == datetime(2025, 1, 2, 10, 0, tzinfo=UTC)
        assert old.sources == [("mairie", 4.5)]
        assert old.answer_chars == 0 and old.error is None  # columns added by v2
        assert old.upvotes == 1  # the v1 vote survived
        # New features work on the upgraded file.
        assert await storage.add_channel(GUILD_A, 5)
        assert await storage.record_vote(1, GUILD_A, 10, -1)
        new_id = await storage.log_query(rec(error="boom"))
        assert new_id == 3
        assert (await storage.get_query(3)).error == "boom"  # type: ignore[union-attr]
        # Foreign keys still cascade on tables created by v1.
        assert await storage.purge(GUILD_A, 30, now=NOW) == 1
        assert await storage.get_query(1) is None

    assert {"queries", "votes", "guild_settings", "channels"} <= tables(db_path)
    assert user_version(db_path) == SCHEMA_VERSION
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM votes").fetchone()[0] == 0
        assert conn.execute("SELECT question FROM queries WHERE id = 2").fetchone()[0] == ("Question de B")


async def test_failed_migration_rolls_back(db_path: Path) -> None:
    make_v1_file(db_path)
    with sqlite3.connect(db_path) as conn:  # a stray table that makes step 2 fail midway
        conn.execute("CREATE TABLE channels (x)")
    with pytest.raises(sqlite3.OperationalError):
        await Storage.open(db_path)
    assert user_version(db_path) == 1
    with sqlite3.connect(db_path) as conn:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(queries)")}
        assert "answer_chars" not in columns  # the ALTER TABLE before the failure was undone
        assert conn.execute("SELECT COUNT(*) FROM queries").fetchone()[0] == 2


async def test_two_processes_migrating_at_once(db_path: Path) -> None:
    make_v1_file(db_path)
    first, second = await asyncio.gather(*(Storage.open(db_path) for _ in range(2)))
    try:
        assert await first.schema_version() == await second.schema_version() == SCHEMA_VERSION
        assert await second.count_history(GUILD_A) == 1
    finally:
        await first.close()
        await second.close()


async def test_opening_waits_for_a_writer_of_another_process_before_switching_to_wal(db_path: Path) -> None:
    """SQLite refuses the switch to WAL at once, without waiting, while another connection holds a write lock
    (two processes opening a new file together); opening retries instead of failing."""
    make_v1_file(db_path)
    writer = sqlite3.connect(db_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # holds a write lock until the rollback
    asyncio.get_running_loop().call_later(0.3, writer.rollback)
    try:
        storage = await Storage.open(db_path)
        try:
            assert await storage.schema_version() == SCHEMA_VERSION
        finally:
            await storage.close()
    finally:
        writer.close()


async def test_newer_schema_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match="newer"):
        await Storage.open(db_path)


# --- logging and reading back -----------------------------------------------------------


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


def test_record_from_answer() -> None:
    source = Source("doc-1", "Titre", "Journal", "2025-01-01", "https://x", 4.0, "Passage.")
    answer = Answer("Question ?", True, "Réponse citée.", 0.7, [source], latency_ms=3.5)
    record = QueryRecord.from_answer(answer, origin="mention", guild_id=5, user_id=6)
    assert (record.question, record.found, record.confidence) == ("Question ?", True, 0.7)
    assert record.sources == [("doc-1", 4.0)] and record.answer_chars == len("Réponse citée.")
    assert record.latency_ms == 3.5 and record.guild_id == 5 and record.origin == "mention"


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


# --- votes --------------------------------------------------------------------------------


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


# --- stats --------------------------------------------------------------------------------


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile_nearest_rank(values, 50) == 10.0
    assert percentile_nearest_rank(values, 95) == 19.0
    assert percentile_nearest_rank(values, 100) == 20.0
    assert percentile_nearest_rank([7.0], 95) == 7.0
    assert percentile_nearest_rank([], 50) == 0.0
    assert percentile_nearest_rank([1.0, 2.0, 3.0, 4.0], 50) == 2.0


def test_normalize_question() -> None:
    assert normalize_question("  Qui a  GAGNÉ ?") == normalize_question("qui a gagné?")
    assert normalize_question("Qui a gagné ?!") == "qui a gagné"
    assert normalize_question("E\u0301te\u0301") == normalize_question("Été")


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


# --- export -------------------------------------------------------------------------------


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


# --- deletion: purge, retention, forget ----------------------------------------------------


def vote_count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM votes").fetchone()[0]


async def test_purge_deletes_old_rows_and_their_votes(store: Storage, db_path: Path) -> None:
    old = await store.log_query(rec("vieux", created_at=NOW - timedelta(days=40)))
    recent = await store.log_query(rec("récent", created_at=NOW - timedelta(days=5)))
    old_b = await store.log_query(rec("vieux B", guild_id=GUILD_B, created_at=NOW - timedelta(days=40)))
    for qid, guild in ((old, GUILD_A), (recent, GUILD_A), (old_b, GUILD_B)):
        await store.record_vote(qid or -1, guild, 9, 1)
    assert vote_count(db_path) == 3

    assert await store.purge(GUILD_A, 30, now=NOW) == 1
    assert await store.get_query(old or -1) is None
    assert await store.get_query(recent or -1) is not None
    assert await store.get_query(old_b or -1) is not None  # other server untouched
    assert vote_count(db_path) == 2
    assert await store.purge(GUILD_A, 0, now=NOW) == 1  # 0 days: everything up to now
    assert await store.count_history(GUILD_A) == 0
    assert await store.count_history(GUILD_B) == 1
    with pytest.raises(ValueError):
        await store.purge(GUILD_A, -1)


async def test_apply_retention(store: Storage, db_path: Path) -> None:
    ages = (2, 20, 60, 400)
    for guild in (GUILD_A, GUILD_B, 333, None):
        for days in ages:
            qid = await store.log_query(rec(f"{guild}-{days}", guild_id=guild, created_at=NOW - timedelta(days=days)))
            await store.record_vote(qid or -1, guild, 9, 1)
    await store.update_guild_settings(GUILD_A, retention_days=10)  # own, shorter
    await store.update_guild_settings(GUILD_B, retention_days=0)  # keep forever
    await store.update_guild_settings(333, ephemeral=True)  # no own retention: default

    assert await store.apply_retention(90, now=NOW) == 3 + 0 + 1 + 1
    assert await store.count_history(GUILD_A) == 1
    assert await store.count_history(GUILD_B) == 4
    assert await store.count_history(333) == 3
    assert vote_count(db_path) == 16 - 5
    # Default 0 keeps everything not covered by a server's own retention.
    assert await store.apply_retention(0, now=NOW) == 0


async def test_forget_user(store: Storage, db_path: Path) -> None:
    mine = [await store.log_query(rec(f"q{i}", user_id=7)) for i in range(3)]
    other = await store.log_query(rec("autre", user_id=8))
    mine_b = await store.log_query(rec("sur B", guild_id=GUILD_B, user_id=7))
    await store.record_vote(mine[0] or -1, GUILD_A, 8, 1)  # someone's vote on my question
    await store.record_vote(other or -1, GUILD_A, 7, -1)  # my vote on someone's question
    await store.record_vote(mine[1] or -1, GUILD_A, 7, 1)  # my vote on my question
    await store.record_vote(mine_b or -1, GUILD_B, 7, 1)  # my vote on server B

    assert await store.forget_user(GUILD_A, 7) == (3, 2)
    assert await store.count_history(GUILD_A, user_id=7) == 0
    assert await store.count_history(GUILD_A, user_id=8) == 1
    row = await store.get_query(other or -1)
    assert row is not None and row.downvotes == 0
    assert await store.count_history(GUILD_B, user_id=7) == 1  # other server untouched
    assert vote_count(db_path) == 1  # only the vote on server B remains
    assert await store.forget_user(GUILD_A, 7) == (0, 0)


# --- server settings and channels ---------------------------------------------------------


async def test_guild_settings(store: Storage) -> None:
    assert await store.get_guild_settings(GUILD_A) == GuildSettings(GUILD_A)
    updated = await store.update_guild_settings(GUILD_A, ephemeral=True, rate_limit_count=3)
    assert updated == GuildSettings(GUILD_A, ephemeral=True, rate_limit_count=3)
    updated = await store.update_guild_settings(GUILD_A, use_threads=True, rate_limit_seconds=30)
    assert updated == GuildSettings(GUILD_A, True, True, 3, 30.0, None)
    assert await store.get_guild_settings(GUILD_A) == updated
    restored = await store.update_guild_settings(GUILD_A, rate_limit_count=None)
    assert restored.rate_limit_count is None
    assert await store.get_guild_settings(GUILD_B) == GuildSettings(GUILD_B)
    with pytest.raises(ValueError, match="unknown"):
        await store.update_guild_settings(GUILD_A, colour="bleu")
    with pytest.raises(ValueError):
        await store.update_guild_settings(GUILD_A, retention_days=-1)
    with pytest.raises(ValueError):
        await store.update_guild_settings(GUILD_A, rate_limit_count=0)
    with pytest.raises(ValueError):
        await store.update_guild_settings(GUILD_A, ephemeral="oui")


async def test_channels(store: Storage) -> None:
    assert await store.add_channel(GUILD_A, 10)
    assert not await store.add_channel(GUILD_A, 10)
    assert await store.add_channel(GUILD_A, 11)
    assert await store.list_channels(GUILD_A) == [10, 11]
    assert await store.is_channel_allowed(GUILD_A, 10)
    assert not await store.is_channel_allowed(GUILD_B, 10)
    assert await store.list_channels(GUILD_B) == []
    assert not await store.remove_channel(GUILD_B, 10)
    assert await store.remove_channel(GUILD_A, 10)
    assert not await store.remove_channel(GUILD_A, 10)
    assert await store.list_channels(GUILD_A) == [11]


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


# --- failures on the answer path ----------------------------------------------------------


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
        assert (await storage.get_guild_settings(GUILD_A)).ephemeral is False
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert await storage.log_query(rec("après")) is not None  # recovers once released
    assert storage.failures == 2
    await storage.close()


async def test_read_only_file_does_not_raise(db_path: Path) -> None:
    # Tests run as root, where chmod 0o444 does not stop writes; SQLite's mode=ro URI
    # gives the same "attempt to write a readonly database" error a read-only file would.
    async with await Storage.open(db_path) as writer:
        await writer.log_query(rec())
        async with await Storage.open(db_path, read_only=True) as storage:
            assert await storage.log_query(rec("refusée")) is None
            assert await storage.record_vote(1, GUILD_A, 5, 1) is False
            assert storage.failures == 2
            assert writer.failures == 0
            assert await storage.count_history(GUILD_A) == 1  # reads still work
    # Also when no other connection has the file open.
    async with await Storage.open(db_path, read_only=True) as storage:
        assert await storage.log_query(rec("refusée")) is None
        assert storage.failures == 1
        assert await storage.count_history(GUILD_A) == 1


async def test_query_only_connection_does_not_raise(store: Storage) -> None:
    await store._conn.execute("PRAGMA query_only = ON")  # database turned read-only at runtime
    assert await store.log_query(rec()) is None
    assert store.failures == 1


async def test_disk_full_does_not_raise(store: Storage, caplog: pytest.LogCaptureFixture) -> None:
    async with store._conn.execute("PRAGMA page_count") as cur:
        pages = (await cur.fetchone())[0]  # type: ignore[index]
    await store._conn.execute(f"PRAGMA max_page_count = {pages}")  # no room to grow
    with caplog.at_level(logging.WARNING, logger="bot.storage"):
        assert await store.log_query(rec("x" * 5000)) is None
    assert store.failures == 1
    assert "full" in caplog.text


async def test_close_cancelled_midway_still_stops_the_connection_thread(db_path: Path) -> None:
    storage = await Storage.open(db_path)
    thread = storage._conn._thread
    closing = asyncio.create_task(storage.close())
    await asyncio.sleep(0)  # close() is now waiting on its first statement
    closing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await closing
    for _ in range(100):
        if not thread.is_alive():
            break
        await asyncio.sleep(0.01)
    assert not thread.is_alive()


async def test_closed_storage_does_not_raise(db_path: Path) -> None:
    storage = await Storage.open(db_path)
    await storage.close()
    await storage.close()  # idempotent
    assert await storage.log_query(rec()) is None
    assert await storage.record_vote(1, GUILD_A, 1, 1) is False
    assert storage.failures == 2
