"""The bot object: start-up wiring, intents, no pings by default, retention task."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from unittest import mock

from bot.chat.bot import QABot
from bot.chat.exts.feedback import FeedbackButton
from bot.config import Settings
from bot.storage import QueryRecord, Storage
from tests.helpers import make_bot


async def run_setup_hook(bot: QABot) -> mock.AsyncMock:
    sync = mock.AsyncMock(return_value=[])
    with mock.patch.object(bot.tree, "sync", sync), mock.patch.object(type(bot.retention_task), "start") as start:
        await bot.setup_hook()
    start.assert_called_once()
    return sync


async def test_setup_hook_loads_commands_registers_buttons_and_syncs_globally(storage: Storage) -> None:
    bot = make_bot(storage)
    sync = await run_setup_hook(bot)
    assert set(bot.cogs) == {"Ask", "Admin", "Privacy"}
    assert {c.name for c in bot.tree.get_commands()} == {"question", "admin", "oubli"}
    assert FeedbackButton in bot._connection._view_store._dynamic_items.values()
    sync.assert_awaited_once_with()


async def test_setup_hook_syncs_to_the_dev_server_when_set(storage: Storage) -> None:
    bot = make_bot(storage, settings=Settings(dev_guild_id=1234))
    sync = await run_setup_hook(bot)
    (guild,) = [call.kwargs["guild"] for call in sync.await_args_list]
    assert guild.id == 1234
    assert {c.name for c in bot.tree.get_commands(guild=guild)} == {"question", "admin", "oubli"}


async def test_intents_and_default_allowed_mentions(storage: Storage) -> None:
    bot = make_bot(storage)
    assert bot.intents.message_content and bot.intents.guilds and bot.intents.guild_messages
    mentions = bot.allowed_mentions
    assert mentions is not None
    assert (mentions.everyone, mentions.users, mentions.roles, mentions.replied_user) == (False, False, False, False)


async def test_retention_task_applies_each_servers_retention(storage: Storage) -> None:
    bot = make_bot(storage, settings=Settings(retention_days=30))
    old = datetime.now(UTC) - timedelta(days=45)
    for guild_id in (1, 2):
        await storage.log_query(
            QueryRecord("ancienne", "slash", True, 1.0, 1.0, 10, [], guild_id=guild_id, created_at=old)
        )
    await storage.update_guild_settings(2, retention_days=0)  # server 2 keeps everything
    await bot.retention_task.coro(bot)
    assert await storage.count_history(1) == 0
    assert await storage.count_history(2) == 1


async def test_close_stops_the_client_and_leaves_the_database_to_its_opener(storage: Storage) -> None:
    bot = make_bot(storage)
    await bot.close()
    await bot.close()  # a signal and the runner may both close it
    assert bot.is_closed()
    assert await storage.count_history(1) == 0  # still usable until the runner closes it


async def test_slow_or_unreadable_settings_give_the_defaults_once_without_caching_them(storage: Storage) -> None:
    await storage.update_guild_settings(1, ephemeral=True)
    bot = make_bot(storage)
    real = storage.read_guild_settings

    async def slow(guild_id: int) -> object:
        await asyncio.sleep(60)
        return await real(guild_id)

    with (
        mock.patch("bot.chat.bot.SETTINGS_WAIT_SECONDS", 0.05),
        mock.patch.object(storage, "read_guild_settings", slow),
    ):
        assert (await bot.guild_settings(1)).ephemeral is False  # defaults: the question is still acknowledged
    with mock.patch.object(storage, "read_guild_settings", mock.AsyncMock(return_value=None)):
        assert (await bot.guild_settings(1)).ephemeral is False  # unreadable database
    assert (await bot.guild_settings(1)).ephemeral is True  # the real settings, once readable
    with mock.patch.object(storage, "read_guild_settings", mock.AsyncMock(return_value=None)):
        assert (await bot.guild_settings(1)).ephemeral is True  # now cached
