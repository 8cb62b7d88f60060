"""Questions answered while the database is away (SQLite locked, PostgreSQL stopped) wait in a local spool, and
are stored once each when it is back, even if the spool is replayed twice."""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from bot.storage import Storage
from bot.storage.spool import SPOOL_NAME
from tests.storage.factories import GUILD_A, rec
from tests.storage.pg_server import start_server_for_tests


async def questions(storage: Storage) -> Counter[str]:
    return Counter(row.question for row in await storage.history(GUILD_A, limit=50))


async def test_a_question_answered_while_sqlite_is_locked_is_stored_once_unlocked(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = db_path.parent / SPOOL_NAME
    async with await Storage.open(db_path, busy_timeout=0.2) as storage:
        locker = sqlite3.connect(db_path, isolation_level=None)  # another process holds the write lock
        locker.execute("BEGIN IMMEDIATE")
        try:
            with caplog.at_level(logging.WARNING, logger="bot.storage"):
                assert await storage.log_query(rec("pendant le verrou")) is None
            assert storage.spooled == 1 and storage.failures == 1
            assert "question gardée dans" in caplog.text and "(1 en attente)" in caplog.text
            saved = spool.read_text()
            assert len(saved.splitlines()) == 1 and "spool_id" in saved
            assert spool.stat().st_mode & 0o777 == 0o600
        finally:
            locker.rollback()
            locker.close()
        with caplog.at_level(logging.INFO, logger="bot.storage"):
            assert await storage.log_query(rec("après")) is not None
        assert storage.spooled == 0 and not spool.exists()
        assert "1 question(s) en attente enregistrée(s) dans la base (0 encore en attente)" in caplog.text
        assert await questions(storage) == {"pendant le verrou": 1, "après": 1}
    spool.write_text(saved)  # as if the process died between storing the row and cleaning the spool
    async with await Storage.open(db_path) as storage:  # opening replays what waits
        assert storage.spooled == 0 and not spool.exists()
        assert await questions(storage) == {"pendant le verrou": 1, "après": 1}


async def test_a_question_answered_while_postgresql_is_stopped_is_stored_once_it_is_back(db_path: Path) -> None:
    server = start_server_for_tests()
    spool = db_path.parent / SPOOL_NAME
    try:
        async with await Storage.open(db_path, url=server.url()) as storage:
            assert await storage.log_query(rec("avant")) is not None
            server.pause()
            try:
                assert await storage.log_query(rec("pendant")) is None
                assert await storage.log_query(rec("pendant aussi")) is None
                assert storage.spooled == 2 and len(spool.read_text().splitlines()) == 2
                saved = spool.read_text()
                assert await storage.replay_spooled() == 0 and storage.spooled == 2  # still away: they wait
            finally:
                server.resume()
            for _ in range(5):  # the pool may first hand out a connection that died with the server
                if await storage.replay_spooled():
                    break
            assert storage.spooled == 0 and not spool.exists()
            assert await questions(storage) == {"avant": 1, "pendant": 1, "pendant aussi": 1}
        spool.write_text(saved)  # replayed a second time: nothing stored twice
        async with await Storage.open(db_path, url=server.url()) as storage:
            assert storage.spooled == 0
            assert await questions(storage) == {"avant": 1, "pendant": 1, "pendant aussi": 1}
    finally:
        server.stop()


async def test_an_in_memory_database_keeps_waiting_rows_in_memory() -> None:
    async with await Storage.open(":memory:") as storage:
        await storage.close()  # the database goes away
        assert await storage.log_query(rec("gardée")) is None
        assert storage.spooled == 1
    assert not Path(SPOOL_NAME).exists()  # no file written in the working folder


async def test_a_line_cut_short_by_a_crash_is_dropped_and_the_others_stored(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = db_path.parent / SPOOL_NAME
    storage = await Storage.open(db_path)
    await storage.close()  # the database goes away
    assert await storage.log_query(rec("première")) is None
    with spool.open("a") as file:
        file.write('{"created_at":"2026-')  # a process died in the middle of a line
    assert await storage.log_query(rec("seconde")) is None
    assert len(spool.read_text().splitlines()) == 3
    with caplog.at_level(logging.INFO, logger="bot.storage"):
        async with await Storage.open(db_path) as storage:
            assert storage.spooled == 0 and not spool.exists()
            assert await questions(storage) == {"première": 1, "seconde": 1}
    assert "ligne illisible" in caplog.text
