"""Server settings and allowed channels, each server seeing only its own."""

from __future__ import annotations

import logging

import pytest

from bot.storage import GuildSettings, Storage
from tests.storage.backends import Backend
from tests.storage.factories import GUILD_A, GUILD_B


async def test_guild_settings(store: Storage) -> None:
    assert await store.read_guild_settings(GUILD_A) == GuildSettings(GUILD_A)
    updated = await store.update_guild_settings(GUILD_A, ephemeral=True, rate_limit_count=3)
    assert updated == GuildSettings(GUILD_A, ephemeral=True, rate_limit_count=3)
    updated = await store.update_guild_settings(GUILD_A, use_threads=True, rate_limit_seconds=30)
    assert updated == GuildSettings(GUILD_A, True, True, 3, 30.0, None)
    assert await store.read_guild_settings(GUILD_A) == updated
    restored = await store.update_guild_settings(GUILD_A, rate_limit_count=None)
    assert restored.rate_limit_count is None
    assert await store.read_guild_settings(GUILD_B) == GuildSettings(GUILD_B)
    assert not restored.forum_auto
    answering = await store.update_guild_settings(GUILD_A, forum_auto=True)
    assert answering.forum_auto and (await store.read_guild_settings(GUILD_A)) == answering
    assert not (await store.read_guild_settings(GUILD_B)).forum_auto
    with pytest.raises(ValueError):
        await store.update_guild_settings(GUILD_A, forum_auto="oui")
    with pytest.raises(ValueError, match="unknown"):
        await store.update_guild_settings(GUILD_A, colour="bleu")
    with pytest.raises(ValueError):
        await store.update_guild_settings(GUILD_A, retention_days=-1)
    with pytest.raises(ValueError):
        await store.update_guild_settings(GUILD_A, rate_limit_count=0)
    with pytest.raises(ValueError):
        await store.update_guild_settings(GUILD_A, ephemeral="oui")


async def test_channels(store: Storage) -> None:
    assert await store.add_channel(GUILD_A, 10)
    assert not await store.add_channel(GUILD_A, 10)
    assert await store.add_channel(GUILD_A, 11)
    assert await store.list_channels(GUILD_A) == [10, 11]
    assert await store.is_channel_allowed(GUILD_A, 10)
    assert not await store.is_channel_allowed(GUILD_B, 10)
    assert await store.list_channels(GUILD_B) == []
    assert not await store.remove_channel(GUILD_B, 10)
    assert await store.remove_channel(GUILD_A, 10)
    assert not await store.remove_channel(GUILD_A, 10)
    assert await store.list_channels(GUILD_A) == [11]


async def test_unreadable_database_falls_back_with_a_french_warning(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """Reads made while answering never raise: default settings, mentions not answered, the operator warned."""
    storage = await backend.open()
    await storage.add_channel(GUILD_A, 10)
    await storage.close()
    with caplog.at_level(logging.WARNING, logger="bot.storage"):
        assert await storage.read_guild_settings(GUILD_A) is None
        assert not await storage.is_channel_allowed(GUILD_A, 10)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith(f"réglages du serveur {GUILD_A} illisibles (")
    assert messages[0].endswith("; réglages par défaut appliqués")
    assert messages[1].startswith(f"salons autorisés du serveur {GUILD_A} illisibles (")


async def test_settings_written_by_one_process_are_seen_by_another(backend: Backend) -> None:
    """Processes sharing one database: what one writes, the other reads."""
    first, second = await backend.open(), await backend.open()
    try:
        await first.update_guild_settings(GUILD_A, ephemeral=True)
        assert (await second.read_guild_settings(GUILD_A)).ephemeral is True
    finally:
        await first.close()
        await second.close()
