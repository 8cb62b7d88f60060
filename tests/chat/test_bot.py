"""The bot object: start-up wiring, syncing commands only when they changed, intents, no pings, retention."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import discord
import pytest
from discord import app_commands

from bot.chat.bot import EXTENSIONS, QABot
from bot.chat.command_sync import STATE_FILE_NAME, CommandSync
from bot.chat.replies import apologise
from bot.chat.retention import RETENTION_INTERVAL_HOURS
from bot.chat.server_settings import SETTINGS_TTL_SECONDS
from bot.config import Settings
from bot.storage import QueryRecord, Storage
from tests.helpers import FakeEngine, eventually, make_bot, make_interaction


async def run_setup_hook(bot: QABot) -> tuple[mock.AsyncMock, mock.MagicMock]:
    """Run the start-up hook without Discord: returns the sync mock and a spy on dynamic item registration."""
    sync = mock.AsyncMock(return_value=[])
    with (
        mock.patch.object(bot.tree, "sync", sync),
        mock.patch.object(type(bot.index_watch_task), "start") as start,
        mock.patch.object(bot, "add_dynamic_items", wraps=bot.add_dynamic_items) as add_dynamic_items,
    ):
        await bot.setup_hook()
    assert start.call_count == 3, "the retention, the replay of the spool and the watch over the saved index"
    return sync, add_dynamic_items


async def test_setup_hook_loads_commands_registers_buttons_and_syncs_globally(storage: Storage, tmp_path: Path) -> None:
    bot = make_bot(storage, settings=Settings(database_path=tmp_path / "bot.sqlite3"))
    sync, add_dynamic_items = await run_setup_hook(bot)
    assert set(bot.cogs) == {"Ask", "AskMenu", "ForumAnswers", "Admin", "Privacy"}
    assert set(bot.extensions) == set(EXTENSIONS)
    assert {c.name for c in bot.tree.get_commands(type=discord.AppCommandType.chat_input)} == {
        "question",
        "admin",
        "oubli",
    }
    assert [c.name for c in bot.tree.get_commands(type=discord.AppCommandType.message)] == ["Demander au bot"]
    (registered,) = add_dynamic_items.call_args.args  # by the feedback extension's setup
    assert registered.__name__ == "FeedbackButton"
    # The buttons the loaded ask extension sends are the class whose clicks are handled.
    sent = sys.modules["bot.chat.exts.ask"].feedback_view(7)
    assert [type(item) for item in sent.children] == [registered, registered]
    sync.assert_awaited_once_with(guild=None)
    assert (tmp_path / STATE_FILE_NAME).read_text().endswith("  global\n")


async def test_setup_hook_syncs_to_the_dev_server_when_set(storage: Storage, tmp_path: Path) -> None:
    bot = make_bot(storage, settings=Settings(dev_guild_id=1234, database_path=tmp_path / "bot.sqlite3"))
    sync, _ = await run_setup_hook(bot)
    (guild,) = [call.kwargs["guild"] for call in sync.await_args_list]
    assert guild.id == 1234
    commands = bot.tree.get_commands(guild=guild)
    assert {c.name for c in commands} == {"question", "admin", "oubli", "Demander au bot"}
    assert (tmp_path / STATE_FILE_NAME).read_text().endswith("  guild-1234\n")


async def test_a_restart_with_the_same_commands_does_not_sync_again(storage: Storage, tmp_path: Path) -> None:
    settings = Settings(database_path=tmp_path / "bot.sqlite3")
    first, _ = await run_setup_hook(make_bot(storage, settings=settings))
    first.assert_awaited_once()
    again, _ = await run_setup_hook(make_bot(storage, settings=settings))
    again.assert_not_awaited()
    # Another target (the dev server) has its own hash: it is synced once too.
    dev = replace(settings, dev_guild_id=1234)
    to_dev, _ = await run_setup_hook(make_bot(storage, settings=dev))
    to_dev.assert_awaited_once()
    again, _ = await run_setup_hook(make_bot(storage, settings=dev))
    again.assert_not_awaited()


async def test_a_changed_command_tree_is_synced(storage: Storage, tmp_path: Path) -> None:
    settings = Settings(database_path=tmp_path / "bot.sqlite3")
    await run_setup_hook(make_bot(storage, settings=settings))
    bot = make_bot(storage, settings=settings)

    @app_commands.command(name="aide", description="Nouvelle commande")
    async def aide(interaction: discord.Interaction) -> None: ...

    bot.tree.add_command(aide)
    sync, _ = await run_setup_hook(bot)
    sync.assert_awaited_once()
    # A changed description changes the payload too.
    bot = make_bot(storage, settings=settings)
    aide.description = "Description modifiée"
    bot.tree.add_command(aide)
    sync, _ = await run_setup_hook(bot)
    sync.assert_awaited_once()


async def test_a_failed_sync_is_retried_at_the_next_start(storage: Storage, tmp_path: Path) -> None:
    settings = Settings(database_path=tmp_path / "bot.sqlite3")
    bot = make_bot(storage, settings=settings)
    failing = mock.AsyncMock(side_effect=discord.HTTPException(mock.MagicMock(status=429), "quota"))
    with mock.patch.object(bot.tree, "sync", failing), pytest.raises(discord.HTTPException):
        await bot.setup_hook()
    assert not (tmp_path / STATE_FILE_NAME).exists()
    sync, _ = await run_setup_hook(make_bot(storage, settings=settings))
    sync.assert_awaited_once()


async def test_forced_sync_ignores_the_stored_hash(storage: Storage, tmp_path: Path) -> None:
    settings = Settings(database_path=tmp_path / "bot.sqlite3")
    bot = make_bot(storage, settings=settings)
    await run_setup_hook(bot)
    sync = mock.AsyncMock(return_value=[])
    with mock.patch.object(bot.tree, "sync", sync):
        assert await CommandSync.for_settings(settings).run(bot.tree) is False
        assert await CommandSync.for_settings(settings).run(bot.tree, force=True) is True
    sync.assert_awaited_once_with(guild=None)


async def test_intents_are_only_those_used_and_no_message_cache(storage: Storage) -> None:
    bot = make_bot(storage)
    assert bot.intents == discord.Intents(guilds=True, guild_messages=True, dm_messages=True, message_content=True)
    assert bot._connection.max_messages is None  # no public getter: the client's state keeps no message cache
    mentions = bot.allowed_mentions
    assert mentions is not None
    assert (mentions.everyone, mentions.users, mentions.roles, mentions.replied_user) == (False, False, False, False)


async def test_retention_task_applies_each_servers_retention(storage: Storage, tmp_path: Path) -> None:
    bot = make_bot(storage, settings=Settings(retention_days=30, database_path=tmp_path / "bot.sqlite3"))
    old = datetime.now(UTC) - timedelta(days=45)
    for guild_id in (1, 2):
        await storage.log_query(
            QueryRecord("ancienne", "slash", True, 1.0, 1.0, 10, [], guild_id=guild_id, created_at=old)
        )
    await storage.update_guild_settings(2, retention_days=0)  # server 2 keeps everything
    await bot.retention.run()
    assert await storage.count_history(1) == 0
    assert await storage.count_history(2) == 1


async def test_questions_kept_while_the_database_was_away_are_stored_on_a_timer(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with await Storage.open(path, busy_timeout=0.1) as storage:
        bot = make_bot(storage, settings=Settings(database_path=path))
        assert bot.retention.replay_task.seconds <= 60
        locker = sqlite3.connect(path, isolation_level=None)  # another process holds the write lock
        locker.execute("BEGIN IMMEDIATE")
        try:
            assert await storage.log_query(QueryRecord("pendant", "slash", True, 1.0, 1.0, 10, [], guild_id=1)) is None
        finally:
            locker.rollback()
            locker.close()
        assert storage.spooled == 1
        bot.retention.replay_task.change_interval(seconds=0.05)
        bot.retention.start()
        try:
            await eventually(lambda: storage.spooled == 0)  # no new question was needed
        finally:
            bot.retention.stop()
        assert [row.question for row in await storage.history(1)] == ["pendant"]


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
        mock.patch("bot.chat.server_settings.SETTINGS_WAIT_SECONDS", 0.05),
        mock.patch.object(storage, "read_guild_settings", slow),
    ):
        assert (await bot.server_settings.read(1)).ephemeral is False  # defaults: the question is still acknowledged
    with mock.patch.object(storage, "read_guild_settings", mock.AsyncMock(return_value=None)):
        assert (await bot.server_settings.read(1)).ephemeral is False  # unreadable database
    assert (await bot.server_settings.read(1)).ephemeral is True  # the real settings, once readable
    with mock.patch.object(storage, "read_guild_settings", mock.AsyncMock(return_value=None)):
        assert (await bot.server_settings.read(1)).ephemeral is True  # now cached


# -- shards and several processes on one database --


async def test_the_bot_runs_the_shards_of_its_settings(storage: Storage) -> None:
    bot = make_bot(storage, settings=Settings(shard_ids=(1, 3), shard_count=4))
    assert (bot.shard_ids, bot.shard_count) == ([1, 3], 4)
    default = make_bot(storage)
    assert (default.shard_ids, default.shard_count) == (None, None)  # Discord's recommended count, all here


@pytest.mark.parametrize(
    ("settings", "asked"),
    [
        (Settings(gateway_url="ws://127.0.0.1:9/gateway"), True),  # else every shard would use Discord's address
        (Settings(), False),  # discord.py asks itself, and uses the address Discord gives
        (Settings(gateway_url="ws://127.0.0.1:9/gateway", shard_count=2), False),  # the count is known
    ],
)
async def test_shards_connect_to_the_configured_gateway_address(
    storage: Storage, settings: Settings, asked: bool
) -> None:
    bot = make_bot(storage, settings=settings)
    gateway = mock.AsyncMock(return_value=(3, "wss://gateway.discord.gg", {}))
    launched: list[int | None] = []

    async def launch(client: discord.AutoShardedClient) -> None:
        launched.append(client.shard_count)

    with (
        mock.patch.object(bot.http, "get_bot_gateway", gateway),
        mock.patch.object(discord.AutoShardedClient, "launch_shards", launch),
    ):
        await bot.launch_shards()
    assert gateway.await_count == int(asked)
    assert launched == [3 if asked else settings.shard_count]


async def test_a_server_setting_changed_by_another_process_applies_within_the_cache_time(storage: Storage) -> None:
    here, elsewhere = make_bot(storage), make_bot(storage)
    now = [0.0]
    here.server_settings.cache.clock = lambda: now[0]
    assert (await here.server_settings.read(1)).ephemeral is False
    await elsewhere.server_settings.update(1, ephemeral=True)
    now[0] = SETTINGS_TTL_SECONDS - 1
    assert (await here.server_settings.read(1)).ephemeral is False  # still cached
    now[0] = SETTINGS_TTL_SECONDS
    assert (await here.server_settings.read(1)).ephemeral is True


async def test_retention_runs_once_per_interval_among_processes_sharing_the_database(
    storage: Storage, tmp_path: Path
) -> None:
    settings = Settings(retention_days=30, database_path=tmp_path / "bot.sqlite3")
    first, second = make_bot(storage, settings=settings), make_bot(storage, settings=settings)
    old = datetime.now(UTC) - timedelta(days=45)

    async def log_old_question() -> None:
        await storage.log_query(QueryRecord("ancienne", "slash", True, 1.0, 1.0, 10, [], guild_id=1, created_at=old))

    await log_old_question()
    await first.retention.run()
    assert await storage.count_history(1) == 0
    await log_old_question()
    await second.retention.run()  # the other process checks within the interval: not its turn
    assert await storage.count_history(1) == 1
    later = time.time() + RETENTION_INTERVAL_HOURS * 3600
    second.retention.schedule.clock = lambda: later  # type: ignore[attr-defined]
    await second.retention.run()
    assert await storage.count_history(1) == 0


async def test_errors_of_events_name_the_shard(storage: Storage, caplog: pytest.LogCaptureFixture) -> None:
    bot = make_bot(storage, settings=Settings(shard_ids=(0, 1, 2, 3), shard_count=4))
    guild_id = (123456 << 22) + 2  # on shard 123456 % 4 = 0
    message = mock.MagicMock(spec=discord.Message)
    message.guild = mock.MagicMock(spec=discord.Guild, id=((5 << 22) | 77))  # shard 1
    try:
        raise RuntimeError("panne")
    except RuntimeError:
        await bot.on_error("on_message", message)
    assert "event on_message failed (shard 1/4)" in caplog.text

    interaction = make_interaction(bot, guild_id=guild_id)
    await apologise(interaction, RuntimeError("panne"), "slash command question")
    assert "slash command question (shard 0/4) failed" in caplog.text


async def test_processes_of_one_machine_rebuild_the_index_one_at_a_time(storage: Storage, tmp_path: Path) -> None:
    settings = Settings(database_path=tmp_path / "bot.sqlite3")
    spans: list[tuple[float, float]] = []

    def build(path: Path, options: object, folder: Path) -> FakeEngine:
        started = time.monotonic()
        time.sleep(0.3)
        spans.append((started, time.monotonic()))
        return FakeEngine()

    bots = [make_bot(storage, engine_factory=build, settings=settings) for _ in range(2)]
    await asyncio.gather(*(bot.reindex() for bot in bots))
    (first, second) = sorted(spans)
    assert first[1] <= second[0], "the second build waited for the first"
