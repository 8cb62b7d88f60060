"""The query log and server data, in a SQLite file (default) or PostgreSQL; nothing else in the bot writes SQL.

`Storage` is the one object the rest of the bot holds. Its methods hand over to the modules that do the work:
`connection` (what a backend offers), `sqlite` and `postgres` (the two backends), `schema` (migrations),
`querylog` (questions, votes, figures, export), `stats` (the figures themselves, no database), `guilds`
(server settings, allowed channels), `documents` (each server's own documents),
`privacy` (purge, retention, forgetting a user), `transfer` (copying a SQLite log into PostgreSQL),
`database_url` (the PostgreSQL address, never shown with its password) and `spool` (log rows kept on disk
while the database is unreachable, replayed once it is back).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bot.search.corpus import Document
from bot.storage import documents, guilds, privacy, querylog
from bot.storage.connection import DEFAULT_BUSY_TIMEOUT, Database, Listening, Receive
from bot.storage.database_url import database_label, database_password, parse_database_url, shown_url
from bot.storage.documents import FILE_SOURCE, DocumentExists, OverLimit
from bot.storage.postgres import PostgresDatabase
from bot.storage.records import (
    DayFigures,
    DocumentCount,
    GuildSettings,
    GuildStats,
    QueryRecord,
    QueryRow,
    StoredDocument,
)
from bot.storage.schema import StorageError
from bot.storage.spool import SPOOL_NAME, Spool
from bot.storage.sqlite import SqliteDatabase
from bot.storage.transfer import copy_log

logger = logging.getLogger("bot.storage")

__all__ = [
    "FILE_SOURCE",
    "DayFigures",
    "DocumentCount",
    "DocumentExists",
    "GuildSettings",
    "GuildStats",
    "OverLimit",
    "QueryRecord",
    "QueryRow",
    "Storage",
    "StorageError",
    "StoredDocument",
    "database_label",
    "database_password",
    "shown_url",
]


def spool_path(path: str | Path) -> Path | None:
    """The spool beside the database file `path` (in the data folder); None for an in-memory or URI database."""
    name = str(path)
    if name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).parent / SPOOL_NAME


class Storage:
    """Async access to the bot's database; open with `await Storage.open(path)` or `Storage.open(path, url=…)`.

    What runs while answering (`log_query`, `record_vote`, the settings and channel reads) and the periodic
    `apply_retention` never raise for database errors; the rest does, so a moderator sees what failed.
    """

    def __init__(self, db: Database, spool: Spool | None = None) -> None:
        self._db = db
        self._spool = spool or Spool(None)

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        url: str | None = None,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        read_only: bool = False,
    ) -> Storage:
        """Open and migrate to the latest schema: PostgreSQL at `url` when given, else the SQLite file at `path`.

        A new SQLite file (and its folder) is created readable by its owner only; with a `url`, `path` only says
        which folder keeps the questions answered while the database is away (`spool_path`).
        `busy_timeout` (seconds) bounds how long a write waits for another process's lock.
        `read_only` opens without writing (no migration: the schema must be current).
        Raises sqlite3.Error/StorageError when the database cannot be opened or migrated; a StorageError never
        holds the address's password (nor the address at all when it cannot be read).
        """
        if url:
            address = parse_database_url(url)
            db: Database = await PostgresDatabase.open(address, busy_timeout=busy_timeout, read_only=read_only)
        else:
            db = await SqliteDatabase.open(path, busy_timeout=busy_timeout, read_only=read_only)
        storage = cls(db, None if read_only else Spool(spool_path(path)))
        if storage.spooled:
            logger.warning("journal des questions : %d question(s) en attente d'enregistrement", storage.spooled)
            await storage.replay_spooled()
        return storage

    @property
    def path(self) -> str:
        """The database: the SQLite file as given to `open`, or the PostgreSQL address without its password."""
        return self._db.where

    @property
    def backend(self) -> str:
        """Which server holds the log: "sqlite" or "postgresql"."""
        return self._db.dialect

    @property
    def failures(self) -> int:
        """Answer-path writes that failed (locked, read-only, disk full) since opening."""
        return self._db.failures

    @property
    def spooled(self) -> int:
        """Questions answered while the database was away, waiting in the local spool to be stored."""
        return self._spool.waiting

    async def spooled_for(self, guild_id: int) -> int:
        """How many of the questions waiting in the local spool were asked on server `guild_id`."""
        return await self._spool.waiting_for(guild_id)

    async def replay_spooled(self) -> int:
        """Store the questions waiting in the spool, each once; how many were stored (never raises for the
        database: rows it cannot take yet keep waiting). `log_query` does it after each success too, and the bot
        every minute."""
        return await querylog.replay_spooled(self._db, self._spool)

    async def close(self) -> None:
        """Close the connection (idempotent, and complete even if the caller is cancelled)."""
        await self._db.close()

    async def publish(self, channel: str, payload: str) -> bool:
        """Tell the processes sharing the database (on any machine) some news; False with SQLite (no notices)."""
        return await self._db.publish(channel, payload)

    async def listen(self, channel: str, receive: Receive) -> Listening | None:
        """Hear what `publish` sends on `channel` until closed; None with SQLite (no notices)."""
        return await self._db.listen(channel, receive)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def schema_version(self) -> int:
        """The database's schema version (SQLite: `PRAGMA user_version`; PostgreSQL: the `schema_version` table)."""
        return await self._db.schema_version()

    # -- the query log (bot.storage.querylog) --

    async def log_query(self, rec: QueryRecord) -> int | None:
        """Log one question; its id, or None when the write failed (never raises): the row then waits in the
        local spool and is stored once the database takes writes again."""
        return await querylog.log_query(self._db, rec, self._spool)

    async def record_vote(self, query_id: int, guild_id: int | None, user_id: int, vote: int) -> bool:
        """Store a ±1 vote on a question of that server; False when refused or failed (never raises)."""
        return await querylog.record_vote(self._db, query_id, guild_id, user_id, vote)

    async def get_query(self, query_id: int) -> QueryRow | None:
        """One logged question by id (any server: callers check `guild_id`)."""
        return await querylog.get_query(self._db, query_id)

    async def history(
        self,
        guild_id: int,
        *,
        user_id: int | None = None,
        not_found_only: bool = False,
        limit: int = 10,
        offset: int = 0,
    ) -> list[QueryRow]:
        """That server's questions, newest first; optionally one user's, or only the unanswered."""
        return await querylog.history(
            self._db, guild_id, user_id=user_id, not_found_only=not_found_only, limit=limit, offset=offset
        )

    async def count_history(self, guild_id: int, *, user_id: int | None = None, not_found_only: bool = False) -> int:
        """How many rows `history` would page through with the same filters."""
        return await querylog.count_history(self._db, guild_id, user_id=user_id, not_found_only=not_found_only)

    async def stats(
        self, guild_id: int, since: datetime | None = None, *, now: datetime | None = None, limit: int = 10
    ) -> GuildStats:
        """Usage figures for one server; `since` bounds everything but today/7-day counts."""
        return await querylog.stats(self._db, guild_id, since, now=now, limit=limit)

    async def daily_figures(self, guild_id: int, since: datetime | None = None) -> list[DayFigures]:
        """That server's questions, answers and votes per UTC day since `since`, days without questions left out."""
        return await querylog.daily_figures(self._db, guild_id, since)

    async def export_csv(self, guild_id: int) -> str:
        """That server's whole log as CSV text (oldest first), safe to open in a spreadsheet."""
        return await querylog.export_csv(self._db, guild_id)

    # -- server settings and channels (bot.storage.guilds) --

    async def read_guild_settings(self, guild_id: int) -> GuildSettings | None:
        """A server's settings (defaults when never set); None when the database cannot be read."""
        return await guilds.read_guild_settings(self._db, guild_id)

    async def update_guild_settings(self, guild_id: int, **changes: Any) -> GuildSettings:
        """Change some of a server's settings and return them all; ValueError on bad input."""
        return await guilds.update_guild_settings(self._db, guild_id, **changes)

    async def is_channel_allowed(self, guild_id: int, channel_id: int) -> bool:
        """Whether mentions are answered in this channel (False if the database is unreadable)."""
        return await guilds.is_channel_allowed(self._db, guild_id, channel_id)

    async def add_channel(self, guild_id: int, channel_id: int) -> bool:
        """Allow mentions in a channel; False if it was already allowed."""
        return await guilds.add_channel(self._db, guild_id, channel_id)

    async def remove_channel(self, guild_id: int, channel_id: int) -> bool:
        """Stop answering mentions in a channel; False if it was not allowed."""
        return await guilds.remove_channel(self._db, guild_id, channel_id)

    async def list_channels(self, guild_id: int) -> list[int]:
        """The channels where mentions are answered in that server, in the order added."""
        return await guilds.list_channels(self._db, guild_id)

    # -- each server's own documents (bot.storage.documents) --

    async def add_documents(
        self,
        guild_id: int,
        new_documents: Sequence[Document],
        added_by: int,
        source: str,
        *,
        max_documents: int | None = None,
        max_text_bytes: int | None = None,
    ) -> list[int]:
        """Store the documents of one file or address (`source`), all or none; their ids (what moderators name them by).

        The server's limits are checked in the same atomic step as the insert, so concurrent adds cannot pass them.
        Raises OverLimit past a limit, DocumentExists when one of their `doc_id`s is already that server's;
        either way nothing is added.
        """
        return await documents.add_documents(
            self._db,
            guild_id,
            new_documents,
            added_by,
            source,
            max_documents=max_documents,
            max_text_bytes=max_text_bytes,
        )

    async def list_documents(self, guild_id: int, *, limit: int = 10, offset: int = 0) -> list[StoredDocument]:
        """That server's documents, newest first, without their text."""
        return await documents.list_documents(self._db, guild_id, limit=limit, offset=offset)

    async def count_documents(self, guild_id: int) -> DocumentCount:
        """How many documents that server holds and the UTF-8 size of their text (what its limits count)."""
        return await documents.document_count(self._db, guild_id)

    async def remove_document(self, guild_id: int, document_id: int) -> StoredDocument | None:
        """Delete one of that server's documents by id; what was removed, or None when that server has no such id."""
        return await documents.remove_document(self._db, guild_id, document_id)

    async def guild_documents(self, guild_id: int) -> list[Document]:
        """Every document of that server, as its own index is built from them."""
        return await documents.guild_documents(self._db, guild_id)

    async def guilds_with_documents(self) -> list[int]:
        """The servers holding documents of their own."""
        return await documents.guilds_with_documents(self._db)

    # -- deletion (bot.storage.privacy) --

    async def purge(self, guild_id: int, older_than_days: int, *, now: datetime | None = None) -> int:
        """Delete that server's questions (and their votes) older than n days; returns count."""
        return await privacy.purge(self._db, guild_id, older_than_days, now=now)

    async def apply_retention(self, default_days: int, *, now: datetime | None = None) -> int:
        """Delete rows older than each server's retention (its own, else `default_days`); returns count."""
        return await privacy.apply_retention(self._db, default_days, now=now)

    async def forget_user(self, guild_id: int, user_id: int) -> tuple[int, int]:
        """Delete a user's questions and votes in that server; (questions, votes) deleted."""
        return await privacy.forget_user(self._db, guild_id, user_id)

    # -- moving to PostgreSQL (bot.storage.transfer) --

    async def copy_to(self, target: Storage) -> dict[str, int]:
        """Copy this SQLite log, ids included, into an empty PostgreSQL one; rows copied per table.

        Raises StorageError (French, nothing copied) when the target is not empty or the backends do not fit.
        """
        if not isinstance(self._db, SqliteDatabase) or not isinstance(target._db, PostgresDatabase):
            raise StorageError("la copie du journal se fait d'un fichier SQLite vers une base PostgreSQL")
        return await copy_log(self._db, target._db)
