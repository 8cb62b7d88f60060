"""The open database: one aiosqlite connection in WAL mode, the lock that serialises its writes, open and close.

The file holds user ids and questions, so a new one is created readable by its owner only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.schema import check_version, migrate, schema_version

logger = logging.getLogger("bot.storage")

DEFAULT_BUSY_TIMEOUT = 2.0  # seconds: a locked database must not hold an answer back long
CHUNK = 1000  # rows fetched per trip to the database thread when scanning a server's log
PRIVATE_MODE = 0o600  # the database and, after it, its -wal and -shm files

# Errors that mean "the database cannot serve this now" (locked, read-only, disk full, I/O error,
# closed connection); caught only where the bot must keep going: the answer path and the retention.
DATABASE_ERRORS = (sqlite3.Error, OSError, ValueError)


class Database:
    """One open SQLite database shared by the storage modules; open with `await Database.open(path)`."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self.failures = 0  # answer-path writes that failed (locked, read-only, disk full)
        self.write_lock = asyncio.Lock()  # one write transaction at a time on this connection
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path, *, busy_timeout: float, read_only: bool) -> Database:
        """Open (creating the folder and a private file) and migrate to the latest schema.

        `read_only` opens the file with SQLite's `mode=ro` (no migration: it must be current).
        Raises sqlite3.Error/StorageError when the file cannot be opened or migrated.
        """
        name = str(path)
        options: dict[str, Any] = {"timeout": busy_timeout, "isolation_level": None, "iter_chunk_size": CHUNK}
        if read_only:
            conn = await aiosqlite.connect(Path(name).resolve().as_uri() + "?mode=ro", uri=True, **options)
        else:
            if name != ":memory:" and not name.startswith("file:"):
                _create_private(Path(name))
            conn = await aiosqlite.connect(name, **options)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            await conn.execute("PRAGMA foreign_keys = ON")
            database = cls(conn, name)
            if read_only:
                check_version(name, await schema_version(conn), read_only=True)
            else:
                mode = await _enable_wal(conn, busy_timeout)
                if mode.lower() != "wal" and name != ":memory:":
                    logger.warning(
                        "base de données %s : mode de journal %s au lieu de WAL ; "
                        "les lectures attendront la fin des écritures",
                        name,
                        mode,
                    )
                await conn.execute("PRAGMA synchronous = NORMAL")
                await migrate(conn, name, database.write_lock)
        except BaseException:
            await conn.close()
            raise
        return database

    async def close(self) -> None:
        """Close the connection (idempotent).

        Cancelling the caller (a signal during shutdown) still closes it: an open connection's thread
        would keep the process from exiting.
        """
        if self._closed:
            return
        self._closed = True
        try:
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self.conn.execute("PRAGMA optimize")
        finally:
            await asyncio.shield(self.conn.close())

    async def write(self, sql: str, params: Sequence[Any]) -> tuple[int, int | None]:
        """Run one write statement on its own; returns (rows changed, id of the last row inserted)."""
        async with self.write_lock:
            cur = await self.conn.execute(sql, params)
            changed, last_id = cur.rowcount, cur.lastrowid
            await cur.close()
        return max(changed, 0), last_id

    async def scalar(self, sql: str, params: Sequence[Any]) -> Any:
        """The first column of the first row, None without rows."""
        async with self.conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        return row[0] if row else None


def _create_private(path: Path) -> None:
    """Create the database file with mode 0600 unless it exists (an existing file keeps its mode).

    SQLite gives the -wal and -shm files it creates later the mode of the database file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))


async def _enable_wal(conn: aiosqlite.Connection, busy_timeout: float) -> str:
    """Switch to WAL and return the journal mode in force.

    The switch needs the file to itself and SQLite answers "database is locked" at once, without
    waiting, while another process holds a lock (two processes opening a new file together): retry
    until `busy_timeout` has passed.
    """
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            async with conn.execute("PRAGMA journal_mode = WAL") as cur:
                return str((await cur.fetchone() or ("?",))[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.02)
