"""Notices between the processes sharing a database: PostgreSQL's NOTIFY/LISTEN; SQLite has none."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bot.storage import Storage
from bot.storage.database_url import parse_database_url
from bot.storage.postgres import Listener
from tests.helpers import eventually
from tests.storage.backends import Backend


async def test_what_one_process_publishes_every_listening_process_hears(pg: Backend) -> None:
    first, second = await pg.open(), await pg.open()
    heard: dict[str, list[str]] = {"first": [], "second": []}
    try:
        listening = [
            await first.listen("bot_reindex", heard["first"].append),
            await second.listen("bot_reindex", heard["second"].append),
        ]
        assert await first.publish("bot_reindex", "clé-1") is True
        await first.publish("autre_canal", "ignorée")
        await eventually(lambda: heard == {"first": ["clé-1"], "second": ["clé-1"]})
        await listening[1].close()
        await first.publish("bot_reindex", "clé-2")
        await eventually(lambda: heard["first"] == ["clé-1", "clé-2"])
        await asyncio.sleep(0.1)
        assert heard["second"] == ["clé-1"], "nothing heard once closed"
        await listening[0].close()
    finally:
        await first.close()
        await second.close()


async def test_a_listener_whose_connection_the_server_cuts_listens_again(
    pg: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.storage.postgres.RELISTEN_SECONDS", 0.05)
    storage = await pg.open()
    heard: list[str] = []
    try:
        listener = await storage.listen("bot_reindex", heard.append)
        assert isinstance(listener, Listener)
        admin = await asyncpg.connect(pg.url)
        try:
            cut = await admin.fetchval(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
            )
        finally:
            await admin.close()
        assert cut == 1
        await eventually(lambda: not listener.connected.is_set())
        await eventually(lambda: listener.connected.is_set(), timeout=10)
        await storage.publish("bot_reindex", "après la coupure")
        await eventually(lambda: heard == ["après la coupure"])
        await listener.close()
    finally:
        await storage.close()


async def test_a_notice_sent_while_a_listener_reconnects_is_heard_once_it_is_back(
    pg: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.storage.postgres.RELISTEN_SECONDS", 1.0)
    storage, other = await pg.open(), await pg.open()
    heard: list[str] = []
    try:
        listener = await storage.listen("bot_reindex", heard.append)
        assert isinstance(listener, Listener)
        await other.publish("bot_reindex", "avant la coupure")
        await eventually(lambda: heard == ["avant la coupure"])
        admin = await asyncpg.connect(pg.url)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
            )
        finally:
            await admin.close()
        await eventually(lambda: not listener.connected.is_set())
        await other.publish("bot_reindex", "pendant la coupure")  # no one is listening: NOTIFY alone is lost
        await other.publish("autre_canal", "ignorée")
        await eventually(lambda: heard == ["avant la coupure", "pendant la coupure"], timeout=10)
        await other.publish("bot_reindex", "après")
        await eventually(lambda: heard[-1] == "après")
        await listener.close()
    finally:
        await storage.close()
        await other.close()


async def test_sqlite_has_no_notices(sqlite_store: Storage) -> None:
    assert await sqlite_store.publish("bot_reindex", "clé") is False
    assert await sqlite_store.listen("bot_reindex", lambda payload: None) is None


def test_a_notice_heard_both_from_the_catch_up_read_and_the_listener_is_handed_on_once() -> None:
    """Right after a reconnection the latest notice is read from the table while the same notice may also arrive
    through the listener: the process must act on it once, while a new notice still gets through."""
    heard: list[str] = []
    listener = Listener(parse_database_url("postgresql://bot@127.0.0.1/bot"), "bot_reindex", heard.append)
    for payload in ("index-1", "index-1", "index-2", "index-2", "index-1"):
        listener._deliver(payload)
    assert heard == ["index-1", "index-2", "index-1"]
