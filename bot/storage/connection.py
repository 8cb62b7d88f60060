"""What the storage modules ask of an open database, whichever server holds it (SQLite or PostgreSQL).

Every query is written once, in the SQL that SQLite and PostgreSQL share, with `?` placeholders; a backend
(`bot.storage.sqlite`, `bot.storage.postgres`) runs it and supplies the two expressions that differ.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

DEFAULT_BUSY_TIMEOUT = 2.0  # seconds: a locked database must not hold an answer back long
CHUNK = 1000  # rows fetched per trip to the database when scanning a server's log

# Errors that mean "the database cannot serve this now" (locked, read-only, disk full, I/O error, server
# unreachable, closed connection); caught only where the bot must keep going: the answer path and the retention.
DATABASE_ERRORS = (
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # e.g. a connection cut by the server in the middle of a statement
    OSError,
    ValueError,
)

Params = Sequence[Any]
Row = Sequence[Any]
Receive = Callable[[str], None]  # called with each notice's payload, on the event loop


class Listening(ABC):
    """Notices arriving on one channel until closed."""

    @abstractmethod
    async def close(self) -> None:
        """Stop listening (idempotent)."""


class Transaction(ABC):
    """Statements run together: all of them are kept, or none."""

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        """Run one statement once per row of parameters."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query, read inside the transaction."""

    @abstractmethod
    async def lock(self, name: str) -> None:
        """Wait until no other transaction, of any process sharing the database, holds `name`; held until the end."""


class Database(ABC):
    """One open database shared by the storage modules.

    `where` names it in messages (a file path, or a server address without its password);
    `failures` counts the answer-path writes that did not happen.
    """

    dialect: str
    # `column IS NULL-safe-equal value`: SQLite's IS, PostgreSQL's IS NOT DISTINCT FROM.
    null_safe_equal: str
    # The document id of a logged question's best source (`q.sources` holds JSON text), NULL without sources.
    first_source_sql: str

    def __init__(self, where: str) -> None:
        self.where = where
        self.failures = 0

    @abstractmethod
    async def close(self) -> None:
        """Close the connections (idempotent, and complete even if the caller is cancelled)."""

    @abstractmethod
    async def schema_version(self) -> int:
        """The schema version the database is at (0 when new)."""

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write statement on its own; returns the number of rows changed."""

    @abstractmethod
    async def insert(self, sql: str, params: Params = ()) -> int | None:
        """Run one INSERT of a single row on its own; returns the new row's id."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""

    @abstractmethod
    def batches(self, sql: str, params: Params = (), size: int = CHUNK) -> AsyncIterator[list[Row]]:
        """The rows of a query, `size` at a time, so a whole log never sits in memory at once."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A write transaction, committed when the block ends, rolled back if it raises."""

    @abstractmethod
    def exclusive(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Whether this process may run the job `name` now, no other process sharing the database running it."""

    async def publish(self, channel: str, payload: str) -> bool:
        """Tell every process listening on `channel` (of any machine); False when the backend has no notices."""
        return False

    async def listen(self, channel: str, receive: Receive) -> Listening | None:
        """Call `receive(payload)` for each notice published on `channel`; None when the backend has no notices."""
        return None

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, None without rows."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, None without rows."""
        row = await self.fetchone(sql, params)
        return row[0] if row else None
