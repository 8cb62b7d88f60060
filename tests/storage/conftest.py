"""Fixtures of the storage tests: a database path in a folder that does not exist yet, and a storage open on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Storage


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(db_path)
    try:
        yield storage
    finally:
        await storage.close()
