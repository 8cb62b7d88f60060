"""The database's tables as numbered migrations, and the upgrade of a file to the latest one.

The schema is versioned with `PRAGMA user_version` and upgraded in place when the file is opened.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiosqlite

logger = logging.getLogger("bot.storage")


class StorageError(RuntimeError):
    """The database file cannot be used by this version of the bot (e.g. newer schema)."""


@dataclass(frozen=True)
class Migration:
    """One schema step: its statements run in one transaction, then user_version = version.

    Shipped migrations are never edited: a new schema change is a new step at the end.
    """

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "query log and feedback votes",
        (
            # AUTOINCREMENT: ids are never reused after a purge, so an old feedback button
            # (whose custom_id carries the id) can never vote on a newer question.
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
        ),
    ),
    Migration(
        2,
        "answer length, errors, server settings, allowed channels, indexes",
        (
            "ALTER TABLE queries ADD COLUMN answer_chars INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE queries ADD COLUMN error TEXT",
            "CREATE INDEX queries_guild_created ON queries (guild_id, created_at)",
            "CREATE INDEX queries_guild_user_created ON queries (guild_id, user_id, created_at)",
            "CREATE INDEX votes_user ON votes (user_id)",
            """CREATE TABLE guild_settings (
                guild_id INTEGER PRIMARY KEY,
                ephemeral INTEGER NOT NULL DEFAULT 0,
                use_threads INTEGER NOT NULL DEFAULT 0,
                rate_limit_count INTEGER,
                rate_limit_seconds REAL,
                retention_days INTEGER,
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE channels (
                guild_id INTEGER NOT NULL,
                channel_id INTEGER NOT NULL,
                added_at TEXT NOT NULL,
                PRIMARY KEY (guild_id, channel_id)
            )""",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


async def schema_version(conn: aiosqlite.Connection) -> int:
    """The database's `PRAGMA user_version` (0 for a new file)."""
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


def check_version(path: str, version: int, *, read_only: bool = False) -> None:
    """Refuse, in French for the operator, a file this bot cannot use at that schema version."""
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"{path} : la base de données a été créée par une version plus récente du bot "
            f"(schéma {version}, cette version connaît le schéma {SCHEMA_VERSION}) ; mettez le bot à jour."
        )
    if read_only and version != SCHEMA_VERSION:
        raise StorageError(
            f"{path} : schéma en version {version}, {SCHEMA_VERSION} attendue ; "
            "une base ouverte en lecture seule ne peut pas être mise à jour."
        )


async def migrate(conn: aiosqlite.Connection, path: str, write_lock: asyncio.Lock) -> None:
    """Apply every migration newer than the file's user_version, each in its own transaction.

    Another process may be migrating the same file: each step re-reads the version once it holds the write lock.
    """
    current = await schema_version(conn)
    check_version(path, current)
    for step in MIGRATIONS:
        if step.version <= current:
            continue
        async with write_lock:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                if await schema_version(conn) >= step.version:  # another process did it
                    await conn.execute("COMMIT")
                    continue
                for statement in step.statements:
                    await conn.execute(statement)
                # PRAGMA takes no parameters; the version is an int from this module.
                await conn.execute(f"PRAGMA user_version = {int(step.version)}")
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
        logger.info("base de données %s : schéma mis à jour en version %d (%s)", path, step.version, step.description)
