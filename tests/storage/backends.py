"""A test's database on either backend, with a connection of its own to check what was written."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bot.storage import Storage


@dataclass
class Backend:
    """Where a test's database lives, and a connection of its own (another process's view) for checks."""

    kind: str  # "sqlite" | "postgresql"
    path: Path  # the SQLite file; with PostgreSQL, only the folder of local files
    url: str | None = None

    async def open(self, **options: Any) -> Storage:
        return await Storage.open(self.path, url=self.url, **options)

    async def sql(self, statement: str) -> list[tuple[Any, ...]]:
        """Run one statement on a separate connection and return its rows."""
        if self.url is None:
            with sqlite3.connect(self.path) as conn:
                return [tuple(r) for r in conn.execute(statement).fetchall()]
        conn = await asyncpg.connect(self.url)
        try:
            return [tuple(r) for r in await conn.fetch(statement)]
        finally:
            await conn.close()

    async def count(self, table: str) -> int:
        return int((await self.sql(f"SELECT COUNT(*) FROM {table}"))[0][0])
