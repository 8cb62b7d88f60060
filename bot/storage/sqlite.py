"""The query log in a SQLite file: one aiosqlite connection in WAL mode and the lock that serialises its writes.

The default backend: nothing to install. The file holds user ids and questions, so a new one is created
readable by its owner only. The schema version lives in `PRAGMA user_version`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bot.search.oserrors import french_os_error
from bot.storage.connection import CHUNK, Database, Params, Row, Transaction
from bot.storage.schema import MIGRATIONS, StorageError, check_version

logger = logging.getLogger("bot.storage")

PRIVATE_MODE = 0o600  # the database and, after it, its -wal and -shm files
# SQLite's words for a file or folder it may not write to (read-only folder or file system, no permission).
_CANNOT_WRITE = re.compile(r"unable to open database file|readonly database")


class SqliteTransaction(Transaction):
    """Statements on the connection between BEGIN IMMEDIATE and COMMIT."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        cur = await self._conn.execute(sql, params)
        changed = cur.rowcount
        await cur.close()
        return max(changed, 0)

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def lock(self, name: str) -> None:
        """Nothing more to take: BEGIN IMMEDIATE already holds the whole file's write lock."""


class SqliteDatabase(Database):
    """One open SQLite file; open with `await SqliteDatabase.open(path)`."""

    dialect = "sqlite"
    null_safe_equal = "IS"
    first_source_sql = "json_extract(q.sources, '$[0][0]')"

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        super().__init__(path)
        self.conn = conn
        self.write_lock = asyncio.Lock()  # one write transaction at a time on this connection
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path, *, busy_timeout: float, read_only: bool) -> SqliteDatabase:
        """Open (creating the folder and a private file) and migrate to the latest schema.

        `read_only` opens the file with SQLite's `mode=ro` (no migration: it must be current).
        Raises sqlite3.Error/StorageError when the file cannot be opened or migrated; a StorageError in French,
        naming the folder and the reason, when the bot may not write there (read-only, no permission, a file
        in its place).
        """
        name = str(path)
        on_disk = name != ":memory:" and not name.startswith("file:")
        try:
            return await cls._open(name, on_disk, busy_timeout=busy_timeout, read_only=read_only)
        except OSError as exc:
            raise StorageError(_unusable_folder(Path(name), exc)) from None
        except sqlite3.OperationalError as exc:
            if not on_disk or read_only or not _CANNOT_WRITE.search(str(exc)):
                raise
            raise StorageError(_unusable_folder(Path(name), _write_error(Path(name), exc))) from None

    @classmethod
    async def _open(cls, name: str, on_disk: bool, *, busy_timeout: float, read_only: bool) -> SqliteDatabase:
        options: dict[str, Any] = {"timeout": busy_timeout, "isolation_level": None, "iter_chunk_size": CHUNK}
        if read_only:
            conn = await aiosqlite.connect(Path(name).resolve().as_uri() + "?mode=ro", uri=True, **options)
        else:
            if on_disk:
                _create_private(Path(name))
            conn = await aiosqlite.connect(name, **options)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            await conn.execute("PRAGMA foreign_keys = ON")
            database = cls(conn, name)
            if read_only:
                check_version(name, await database.schema_version(), read_only=True)
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
                await database.migrate()
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

    async def schema_version(self) -> int:
        """The file's `PRAGMA user_version` (0 for a new file)."""
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> None:
        """Apply every migration newer than the file's user_version, each in its own transaction.

        Another process may be migrating the same file: each step re-reads the version once it holds the write lock.
        """
        current = await self.schema_version()
        check_version(self.where, current)
        for step in MIGRATIONS:
            if step.version <= current:
                continue
            async with self.transaction() as tx:
                if await self.schema_version() >= step.version:  # another process did it
                    continue
                for statement in step.sqlite:
                    await tx.execute(statement)
                # PRAGMA takes no parameters; the version is an int from the schema module.
                await tx.execute(f"PRAGMA user_version = {int(step.version)}")
            logger.info(
                "base de données %s : schéma mis à jour en version %d (%s)", self.where, step.version, step.description
            )

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self.write_lock:
            cur = await self.conn.execute(sql, params)
            changed = cur.rowcount
            await cur.close()
        return max(changed, 0)

    async def insert(self, sql: str, params: Params = ()) -> int | None:
        async with self.write_lock:
            cur = await self.conn.execute(sql, params)
            row_id = cur.lastrowid
            await cur.close()
        return row_id

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def batches(self, sql: str, params: Params = (), size: int = CHUNK) -> AsyncIterator[list[Row]]:
        async with self.conn.execute(sql, params) as cur:
            while rows := await cur.fetchmany(size):
                yield list(rows)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTransaction(self.conn)
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """Always granted: a SQLite file belongs to one machine, and each statement already waits its turn."""
        yield True


def _create_private(path: Path) -> None:
    """Create the database file with mode 0600 unless it exists (an existing file keeps its mode).

    SQLite gives the -wal and -shm files it creates later the mode of the database file.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file of that name where the folder should be
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path.parent)) from None
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))


def _unusable_folder(path: Path, exc: OSError) -> str:
    """Why the bot cannot keep its database `path` in its folder, in French words naming the folder."""
    return (
        f"dossier des données {path.parent} inutilisable ({french_os_error(exc)}) : le bot doit pouvoir y créer et "
        f"y modifier sa base de données ({path.name}) et ses autres fichiers. Donnez-lui ce droit, ou choisissez "
        "un autre dossier (database.path, ou BOT_DATABASE)."
    )


def _write_error(path: Path, exc: sqlite3.Error) -> OSError:
    """What the system says when the database's folder or file is written to, for SQLite's own vague message
    ("unable to open database file"): an error met creating a file in the folder, else SQLite's message."""
    try:
        with tempfile.TemporaryFile(dir=path.parent):
            pass
        if path.exists():
            with path.open("r+b"):
                pass
    except OSError as found:
        return found
    return OSError(str(exc))


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
