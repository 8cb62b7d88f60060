"""Migrations on real SQLite files: a new file, an upgrade from schema 1, a failed step, a newer file."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage import Storage, StorageError
from bot.storage.schema import MIGRATIONS, SCHEMA_VERSION
from tests.storage.backends import Backend
from tests.storage.factories import GUILD_A, NOW, V1_DDL, make_v1_file, rec, tables, user_version


def _squash(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def test_shipped_v1_migration_is_frozen() -> None:
    assert MIGRATIONS[0].version == 1
    assert [_squash(s) for s in MIGRATIONS[0].sqlite] == [_squash(s) for s in V1_DDL]
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


async def test_reopen_keeps_data(backend: Backend) -> None:
    async with await backend.open() as storage:
        qid = await storage.log_query(rec())
    async with await backend.open() as storage:
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


async def test_newer_schema_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError) as refused:
        await Storage.open(db_path)
    message = str(refused.value)  # for the operator, in French (the path itself may hold any word)
    assert "créée par une version plus récente du bot" in message
    assert "mettez le bot à jour" in message
