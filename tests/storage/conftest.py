"""Fixtures of the storage tests: the same tests on a SQLite file and on a real PostgreSQL server.

`store` (and `backend`) run each test twice, once per backend. PostgreSQL is started once per session; in CI
(CI=true) a server that cannot start fails the tests, elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from bot.storage import Storage
from tests.storage.backends import Backend
from tests.storage.pg_server import PgServer, start_server_for_tests

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = start_server_for_tests()
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
