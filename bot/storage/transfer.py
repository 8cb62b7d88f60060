"""Copying a whole query log from a SQLite file into PostgreSQL, losing nothing.

Ids are kept, so the feedback buttons of old answers still vote on the right question, and PostgreSQL's id
sequence is moved past every id the file ever issued. The copy is one transaction into an empty database:
it all lands, or nothing does and it can simply be run again.
"""

from __future__ import annotations

from bot.storage.postgres import PostgresDatabase
from bot.storage.querylog import QUERY_COLUMNS
from bot.storage.schema import StorageError
from bot.storage.sqlite import SqliteDatabase

# Every table and column of the schema, parents before children (votes need their question).
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("queries", ("id", *QUERY_COLUMNS, "spool_id")),
    ("votes", ("query_id", "user_id", "vote", "created_at")),
    (
        "guild_settings",
        (
            "guild_id",
            "ephemeral",
            "use_threads",
            "rate_limit_count",
            "rate_limit_seconds",
            "retention_days",
            "updated_at",
            "forum_auto",
        ),
    ),
    ("channels", ("guild_id", "channel_id", "added_at")),
    (
        "documents",
        (
            "id",
            "guild_id",
            "doc_id",
            "title",
            "publisher",
            "published",
            "url",
            "paragraphs",
            "text_bytes",
            "source",
            "added_by",
            "added_at",
        ),
    ),
)


async def copy_log(source: SqliteDatabase, target: PostgresDatabase) -> dict[str, int]:
    """Copy every row of `source` into `target`; the number of rows copied per table.

    Raises StorageError (French, nothing copied) when the target already holds rows.
    """
    copied: dict[str, int] = {}
    async with target.transaction() as tx:
        filled = [table for table, _ in TABLES if (await tx.fetchall(f"SELECT COUNT(*) FROM {table}"))[0][0]]
        if filled:
            raise StorageError(
                f"{target.where} : la base cible contient déjà des données (tables {', '.join(filled)}) ; "
                "rien n'a été copié. Choisissez une base vide, ou videz celle-ci si la copie y est déjà."
            )
        for table, columns in TABLES:
            names = ", ".join(columns)
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
            copied[table] = 0
            async for rows in source.batches(f"SELECT {names} FROM {table} ORDER BY {columns[0]}"):
                await tx.executemany(insert, rows)
                copied[table] += len(rows)
    # AUTOINCREMENT remembers ids of purged questions too: never hand them out again.
    for table in ("queries", "documents"):
        issued = await source.scalar("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))
        await target.advance_ids(table, int(issued or 0))
    return copied
