"""Fixtures of the storage tests: the same tests on a SQLite file and on a real PostgreSQL server.

`store` (and `backend`) run each test twice, once per backend. PostgreSQL is started once per session; in CI
(CI=true) a server that cannot start fails the tests, elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.storage import Storage
from tests.storage.pg_server import PgServer, ServerUnavailable, start_server

_database_numbers = itertools.count(1)


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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        server = start_server()
    except ServerUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI and could not be started: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: no server could be started here ({exc})")
    yield server
    server.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@contextlib.asynccontextmanager
async def _postgres_database(server: PgServer, db_path: Path) -> AsyncIterator[Backend]:
    """A database of its own on the session's server, dropped afterwards."""
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    admin = await asyncpg.connect(server.url())
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield Backend("postgresql", db_path, server.url(name))
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[Backend]:
    """A new, empty database on each backend."""
    if request.param == "sqlite":
        yield Backend("sqlite", db_path)
        return
    async with _postgres_database(request.getfixturevalue("pg_server"), db_path) as database:
        yield database


@pytest.fixture
async def pg(pg_server: PgServer, db_path: Path) -> AsyncIterator[Backend]:
    """A new, empty PostgreSQL database, for what only PostgreSQL has (advisory locks, several processes)."""
    async with _postgres_database(pg_server, db_path) as database:
        yield database


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Storage]:
    storage = await backend.open()
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture
async def sqlite_store(db_path: Path) -> AsyncIterator[Storage]:
    """For what only SQLite has (file modes, PRAGMAs)."""
    storage = await Storage.open(db_path)
    try:
        yield storage
    finally:
        await storage.close()
