"""Fixtures for the end-to-end tests: the Discord stand-in and the bot subprocess; registers the `e2e` marker."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.conftest import SEEDS
from tests.stand_in import FakeDiscord, World, start_world, stop_world


def pytest_configure(config: pytest.Config) -> None:
    """Register the `e2e` marker (deselect with `-m "not e2e"`)."""
    config.addinivalue_line("markers", "e2e: end-to-end test against the local Discord stand-in (127.0.0.1 only)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder `e2e`."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A stand-in with two guilds, listening on a free 127.0.0.1 port for the test's duration."""
    fake = FakeDiscord()
    fake.add_guild("Club de lecture", members=["camille", "malo"], moderators=["modo-a"])
    fake.add_guild("Atelier vélo", members=["ines"], moderators=["modo-b"])
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """The bot with a fresh database and a copy of the seed corpus, connected to a stand-in holding three servers;
    one per test module."""
    database = tmp_path_factory.mktemp("e2e-world") / "questions.sqlite3"
    shutil.copytree(SEEDS, database.parent / "corpus")
    w = await start_world(database, env={"BOT_CORPUS": str(database.parent / "corpus")})
    try:
        yield w
    finally:
        await stop_world(w)
