"""Shared fixtures: paths of the repository's corpora, one seed engine built per test session, a real query log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.search.engine import Engine
from bot.storage import Storage

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
DEV_QA = Path(__file__).resolve().parent / "data" / "dev_qa.jsonl"
PIAF = REPO.parent / "shared" / "eval" / "piaf" / "piaf-v1.1-dev.json"
PIAF_SAMPLE = Path(__file__).resolve().parent / "data" / "piaf-sample.json"  # every 6th article of PIAF


def dev_questions() -> list[dict[str, Any]]:
    """The project's dev questions (a copy of ../shared/eval/dev_qa.jsonl)."""
    with DEV_QA.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="session")
def seed_engine() -> Engine:
    """The engine over seeds/, built once: it is read-only, so tests can share it."""
    return Engine.from_path(SEEDS)


@pytest_asyncio.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    """A real query log on a temporary SQLite file, closed after the test."""
    db = await Storage.open(tmp_path / "bot.sqlite3")
    yield db
    await db.close()
