"""What only PostgreSQL has: its schema table, several processes sharing one database, locks and the server."""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import timedelta

import asyncpg
import pytest

from bot.storage import Storage, StorageError
from bot.storage.postgres import lock_key, numbered
from bot.storage.schema import MIGRATIONS, SCHEMA_VERSION
from tests.storage.backends import Backend
from tests.storage.factories import GUILD_A, NOW, rec


async def test_new_database_gets_every_table_and_its_schema_version(pg: Backend) -> None:
    async with await pg.open() as storage:
        assert storage.backend == "postgresql"
        assert await storage.schema_version() == SCHEMA_VERSION
    tables = {r[0] for r in await pg.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"queries", "votes", "guild_settings", "channels", "documents", "notices", "schema_version"}
    indexes = {r[0] for r in await pg.sql("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    assert {"queries_guild_created", "queries_guild_user_created", "votes_user"} <= indexes
    assert await pg.sql("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]


async def test_processes_opening_a_new_database_together_migrate_it_once(pg: Backend) -> None:
    stores = await asyncio.gather(*(pg.open() for _ in range(3)))
    try:
        assert [await s.schema_version() for s in stores] == [SCHEMA_VERSION] * 3
        assert await pg.sql("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
        qid = await stores[0].log_query(rec())
        assert (await stores[2].get_query(qid or -1)) is not None  # one log for every process
    finally:
        for storage in stores:
            await storage.close()


async def test_newer_or_missing_schema_is_refused_in_french(pg: Backend) -> None:
    with pytest.raises(StorageError, match="lecture seule ne peut pas être mise à jour"):
        await pg.open(read_only=True)  # a new database cannot be migrated read-only
    await pg.sql("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    await pg.sql(f"INSERT INTO schema_version VALUES ({SCHEMA_VERSION + 1})")
    with pytest.raises(StorageError, match="créée par une version plus récente du bot"):
        await pg.open()


async def test_unreachable_database_is_a_french_error_without_the_password(pg: Backend) -> None:
    port = int((pg.url or "").rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    for url in (
        f"postgresql://bot:mot-de-passe@127.0.0.1:{closed}/bot",  # no server
        f"postgresql://bot:mot-de-passe@127.0.0.1:{port}/base_absente",  # no such database
    ):
        with pytest.raises(StorageError) as refused:
            await Storage.open(pg.path, url=url)
        assert "connexion à PostgreSQL impossible" in str(refused.value)
        assert "mot-de-passe" not in str(refused.value) and "bot:***@127.0.0.1" in str(refused.value)
    assert not pg.path.exists()  # with a URL, no SQLite file is created


async def test_retention_runs_in_one_process_at_a_time(pg: Backend, caplog: pytest.LogCaptureFixture) -> None:
    async with await pg.open() as storage:
        for days in (5, 400):
            await storage.log_query(rec(created_at=NOW - timedelta(days=days)))
        other = await asyncpg.connect(pg.url)  # another process is applying the retention
        try:
            assert await other.fetchval("SELECT pg_try_advisory_lock($1)", lock_key("retention"))
            with caplog.at_level(logging.INFO, logger="bot.storage"):
                assert await storage.apply_retention(30, now=NOW) == 0
            assert await storage.count_history(GUILD_A) == 2
            assert "déjà en cours dans un autre processus" in caplog.text
        finally:
            await other.close()  # its lock goes with its session
        assert await storage.apply_retention(30, now=NOW) == 1
        assert await storage.count_history(GUILD_A) == 1
        # The lock is released after each run: a second process can take it.
        checker = await asyncpg.connect(pg.url)
        try:
            assert await checker.fetchval("SELECT pg_try_advisory_lock($1)", lock_key("retention"))
        finally:
            await checker.close()


async def test_locked_table_fails_the_write_quickly_and_keeps_reads(
    pg: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds a lock that blocks writes: the answer-path writes give up after busy_timeout."""
    async with await pg.open(busy_timeout=0.2) as storage:
        qid = await storage.log_query(rec())
        other = await asyncpg.connect(pg.url)
        try:
            transaction = other.transaction()
            await transaction.start()
            await other.execute("LOCK TABLE queries IN EXCLUSIVE MODE")  # plain reads still pass
            with caplog.at_level(logging.WARNING, logger="bot.storage"):
                assert await asyncio.wait_for(storage.log_query(rec("bloquée")), 5) is None
                assert await asyncio.wait_for(storage.record_vote(qid or -1, GUILD_A, 5, 1), 5) is False
            assert storage.failures == 2
            assert "lock timeout" in caplog.text
            assert await storage.count_history(GUILD_A) == 1
            await transaction.rollback()
        finally:
            await other.close()
        assert await storage.log_query(rec("après")) is not None
        assert storage.failures == 2


def test_placeholders() -> None:
    assert numbered("SELECT ? WHERE a = ? AND b IN (?)") == "SELECT $1 WHERE a = $2 AND b IN ($3)"


async def test_lost_server_fails_answer_path_writes_without_raising_then_recovers(
    pg: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """The server drops every connection and refuses new ones: writes are counted failures, reads fall back, and
    the question answered meanwhile is stored once the server is back."""
    server, name = (pg.url or "").rsplit("/", 1)
    admin = await asyncpg.connect(f"{server}/postgres")
    async with await pg.open() as storage:
        qid = await storage.log_query(rec())
        await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        await admin.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        try:
            with caplog.at_level(logging.WARNING, logger="bot.storage"):
                assert await asyncio.wait_for(storage.log_query(rec("perdue")), 10) is None
                assert await asyncio.wait_for(storage.record_vote(qid or -1, GUILD_A, 5, 1), 10) is False
                assert not await asyncio.wait_for(storage.is_channel_allowed(GUILD_A, 1), 10)
                assert await storage.read_guild_settings(GUILD_A) is None
                assert await storage.apply_retention(30, now=NOW) == 0
            assert storage.failures == 2
        finally:
            await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
            await admin.close()
        assert storage.spooled == 1  # the question answered meanwhile waits in the spool
        assert await storage.log_query(rec("retrouvée")) is not None
        assert storage.spooled == 0
        assert sorted(row.question for row in await storage.history(GUILD_A)) == [rec().question, "perdue", "retrouvée"]


async def test_database_at_schema_1_is_upgraded_in_place(pg: Backend) -> None:
    for statement in MIGRATIONS[0].postgresql:
        await pg.sql(statement)
    await pg.sql("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    await pg.sql("INSERT INTO schema_version VALUES (1)")
    await pg.sql(
        "INSERT INTO queries (created_at, guild_id, question, origin, found, confidence, latency_ms, sources) "
        f"VALUES ('2025-01-02T10:00:00.000000+00:00', {GUILD_A}, 'Où se trouve la mairie ?', 'slash', 1, 0.9, 15.0, "
        """'[["mairie", 4.5]]')"""
    )
    async with await pg.open() as storage:
        assert await storage.schema_version() == SCHEMA_VERSION
        old = await storage.get_query(1)
        assert old is not None and old.sources == [("mairie", 4.5)]
        assert old.answer_chars == 0 and old.error is None  # columns added by step 2
        assert await storage.add_channel(GUILD_A, 5)  # a table added by step 2
        assert await storage.log_query(rec()) == 2
    assert await pg.sql("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
