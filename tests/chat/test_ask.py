"""`/question` and mentions: replies, privacy setting, mentions never pinging, rate limit, logging, errors."""

from __future__ import annotations

import asyncio
from unittest import mock

import discord
import pytest
from discord import app_commands

from bot.chat.exts.ask import Ask
from bot.chat.exts.feedback import FeedbackButton
from bot.chat.messages import APOLOGY, DM_HINT, EMPTY_SLASH_QUESTION
from bot.search.engine import EngineOptions
from bot.storage import QueryRecord, Storage
from tests.helpers import (
    BOT_USER_ID,
    FakeEngine,
    all_sends,
    assert_pings_nobody,
    eventually,
    make_bot,
    make_interaction,
    make_member,
    make_message,
    sent_kwargs,
)

BOT_MENTION = f"<@{BOT_USER_ID}>"


async def ask_slash(bot, interaction, text: str) -> None:
    cog = Ask(bot)
    await cog.question.callback(cog, interaction, text)


# -- /question --


async def test_slash_question_defers_answers_with_buttons_and_logs(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    interaction = make_interaction(bot, guild_id=1, channel_id=100)
    await ask_slash(bot, interaction, "De combien le trafic d'AliExpress a-t-il augmenté en Italie ?")

    interaction.response.defer.assert_awaited_once_with(ephemeral=False, thinking=True)
    kwargs = sent_kwargs(interaction.followup.send)
    assert kwargs["ephemeral"] is False
    assert_pings_nobody(kwargs)
    assert "AliExpress" in kwargs["embed"].description
    assert "view" not in kwargs  # the buttons need the log row's id: they come once it is written
    rows = await storage.history(1)
    assert len(rows) == 1
    row = rows[0]
    assert (row.origin, row.found, row.guild_id, row.channel_id, row.user_id) == (
        "slash",
        True,
        1,
        100,
        interaction.user.id,
    )
    assert row.sources == [("001_aliexpress", 2.0)]
    edit = sent_kwargs(interaction.followup.send.return_value.edit)
    assert_pings_nobody(edit)
    custom_ids = [item.custom_id for item in edit["view"].children]
    assert custom_ids == [f"fb:{row.id}:up", f"fb:{row.id}:down"]
    assert all(isinstance(item, FeedbackButton) for item in edit["view"].children)
    assert engine.questions == ["De combien le trafic d'AliExpress a-t-il augmenté en Italie ?"]


async def test_private_answers_when_the_server_asks_for_it(storage: Storage) -> None:
    bot = make_bot(storage)
    await bot.server_settings.update(1, ephemeral=True)
    interaction = make_interaction(bot, guild_id=1)
    await ask_slash(bot, interaction, "Qui dirige Alibaba ?")
    interaction.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    assert sent_kwargs(interaction.followup.send)["ephemeral"] is True


async def test_everyone_and_role_mentions_in_a_question_ping_nobody(storage: Storage) -> None:
    bot = make_bot(storage)
    question = "@everyone <@&987654321098765432> <@123456789012345678> c'est quoi AliExpress ?"
    interaction = make_interaction(bot)
    await ask_slash(bot, interaction, question)
    kwargs = sent_kwargs(interaction.followup.send)
    assert_pings_nobody(kwargs)
    title = kwargs["embed"].title
    assert "@everyone" not in title and "<@&987654321098765432>" not in title
    assert "content" not in kwargs  # the question is only shown inside the embed


async def test_discord_markup_is_not_read_by_the_engine_but_kept_in_the_log(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    typed = "@everyone <@&123> <@456> Qui dirige Pinduoduo ?"
    await ask_slash(bot, make_interaction(bot), typed)
    await allow(storage)
    message = make_message(
        content=f"{BOT_MENTION} <:panda:42> Qui dirige <#100> Pinduoduo ? <t:1700000000:R>", mentions=[bot.user]
    )
    await on_message(bot, message)
    assert engine.questions == ["Qui dirige Pinduoduo ?", "Qui dirige Pinduoduo ?"]
    assert [row.question for row in await storage.history(1)] == [
        "<:panda:42> Qui dirige <#100> Pinduoduo ? <t:1700000000:R>",
        typed,
    ]


async def test_markup_only_questions_are_empty(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    interaction = make_interaction(bot)
    await ask_slash(bot, interaction, "@everyone <@&123>")
    assert sent_kwargs(interaction.response.send_message)["content"] == EMPTY_SLASH_QUESTION
    assert engine.questions == [] and await storage.count_history(1) == 0


async def test_too_long_slash_question_is_refused_in_french(storage: Storage) -> None:
    limit = EngineOptions().max_question_chars
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    option = Ask.question.to_dict(bot.tree)["options"][0]  # what Discord enforces
    assert option["max_length"] == limit
    interaction = make_interaction(bot)
    await ask_slash(
        bot, interaction, "Qui dirige Alibaba ? " * 100
    )  # 2,099 characters once trimmed: a client that bypassed it
    kwargs = sent_kwargs(interaction.response.send_message)
    assert "trop longue (2099 caractères, 2000 au plus)" in kwargs["content"] and kwargs["ephemeral"] is True
    assert engine.questions == [] and await storage.count_history(1) == 0
    interaction = make_interaction(bot)
    await ask_slash(bot, interaction, "x" * (limit - 1) + "?")  # exactly the limit is fine, and read whole
    assert engine.questions == ["x" * (limit - 1) + "?"]


async def test_too_long_mention_is_refused_as_the_slash_command_refuses_it(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    await allow(storage)
    message = make_message(content=f"{BOT_MENTION} " + "Qui dirige Alibaba ? " * 100, mentions=[bot.user])
    await on_message(bot, message)
    assert "trop longue (2099 caractères, 2000 au plus)" in message.reply.call_args.args[0]
    assert engine.questions == [] and await storage.count_history(1) == 0


async def test_rate_limit_answers_privately_and_logs_nothing(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    await bot.server_settings.update(1, rate_limit_count=2, rate_limit_seconds=60.0)
    user = make_member()
    for _ in range(2):
        await ask_slash(bot, make_interaction(bot, user=user), "Qui dirige Alibaba ?")
    refused = make_interaction(bot, user=user)
    await ask_slash(bot, refused, "Qui dirige Alibaba ?")

    kwargs = sent_kwargs(refused.response.send_message)
    assert kwargs["ephemeral"] is True
    assert "vous pourrez réessayer dans" in kwargs["content"]
    assert_pings_nobody(kwargs)
    refused.response.defer.assert_not_awaited()
    assert len(engine.questions) == 2
    assert await storage.count_history(1) == 2
    # Another member is not affected.
    other = make_interaction(bot)
    await ask_slash(bot, other, "Qui dirige Alibaba ?")
    other.response.defer.assert_awaited_once()


async def test_blank_question_gets_a_clear_message_and_is_not_logged(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    interaction = make_interaction(bot)
    await ask_slash(bot, interaction, "   ")
    kwargs = sent_kwargs(interaction.response.send_message)
    assert kwargs["content"] == EMPTY_SLASH_QUESTION and kwargs["ephemeral"] is True
    assert engine.questions == [] and await storage.count_history(1) == 0


async def test_engine_failure_apologises_and_records_the_error(storage: Storage) -> None:
    bot = make_bot(storage, FakeEngine(error=RuntimeError("index cassé")))
    cog = Ask(bot)
    interaction = make_interaction(bot)
    with pytest.raises(RuntimeError):
        await cog.question.callback(cog, interaction, "Qui dirige Alibaba ?")
    # What discord.py does with an exception from a command callback:
    error = app_commands.CommandInvokeError(cog.question, RuntimeError("index cassé"))
    with mock.patch("bot.chat.replies.log") as log:
        await bot.tree.on_error(interaction, error)
    log.error.assert_called_once()
    kwargs = sent_kwargs(interaction.followup.send)  # already deferred: follow-up
    assert kwargs["content"] == APOLOGY and kwargs["ephemeral"] is True
    assert_pings_nobody(kwargs)
    (row,) = await storage.history(1)
    assert row.error == "RuntimeError: index cassé" and row.found is False


async def test_answer_is_sent_even_when_logging_fails(storage: Storage) -> None:
    bot = make_bot(storage)
    interaction = make_interaction(bot)
    with mock.patch.object(storage, "log_query", mock.AsyncMock(return_value=None)):
        await ask_slash(bot, interaction, "Qui dirige Alibaba ?")
    kwargs = sent_kwargs(interaction.followup.send)
    assert "embed" in kwargs
    interaction.followup.send.return_value.edit.assert_not_awaited()  # no id to vote on: no buttons


async def test_a_locked_database_does_not_delay_the_answer(storage: Storage) -> None:
    bot = make_bot(storage)
    interaction = make_interaction(bot)
    unlocked = asyncio.Event()
    real_log = storage.log_query

    async def locked_log(record: QueryRecord) -> int | None:
        await unlocked.wait()  # the database is busy until the test says otherwise
        return await real_log(record)

    with mock.patch.object(storage, "log_query", locked_log):
        asking = asyncio.create_task(ask_slash(bot, interaction, "Qui dirige Alibaba ?"))
        await eventually(lambda: interaction.followup.send.await_count == 1, timeout=2.0)
        assert "embed" in interaction.followup.send.await_args.kwargs  # answered while the log waits
        assert await storage.count_history(1) == 0
        unlocked.set()
        await asyncio.wait_for(asking, 5.0)
    (row,) = await storage.history(1)
    assert row.error is None and row.found
    edit = sent_kwargs(interaction.followup.send.return_value.edit)
    assert [item.custom_id for item in edit["view"].children] == [f"fb:{row.id}:up", f"fb:{row.id}:down"]


async def test_an_answer_that_could_not_be_delivered_is_logged_as_such(storage: Storage) -> None:
    bot = make_bot(storage)
    interaction = make_interaction(bot)
    gone = discord.NotFound(mock.MagicMock(status=404), "Unknown Webhook")
    interaction.followup.send.side_effect = gone
    with pytest.raises(discord.NotFound):
        await ask_slash(bot, interaction, "Qui dirige Alibaba ?")  # the tree's error handler then apologises
    await allow(storage)
    message = make_message(content=f"{BOT_MENTION} Qui dirige Alibaba ?", mentions=[bot.user])
    message.reply.side_effect = [gone, mock.MagicMock(spec=discord.Message)]
    await on_message(bot, message)
    assert message.reply.await_args.args == (APOLOGY,)
    rows = await storage.history(1)
    assert [row.origin for row in rows] == ["mention", "slash"]
    for row in rows:
        assert row.error is not None and row.error.startswith("réponse non délivrée : NotFound")
    stats = await storage.stats(1)
    assert (stats.total, stats.found, stats.errors) == (2, 0, 2)


async def test_slash_question_in_a_direct_message_is_answered(storage: Storage) -> None:
    bot = make_bot(storage)
    interaction = make_interaction(bot, guild_id=None)
    await ask_slash(bot, interaction, "Qui dirige Alibaba ?")
    assert "embed" in sent_kwargs(interaction.followup.send)


# -- mentions --


async def allow(storage: Storage, guild_id: int = 1, channel_id: int = 100) -> None:
    assert await storage.add_channel(guild_id, channel_id)


async def on_message(bot, message) -> None:
    await Ask(bot).on_message(message)


async def test_mention_in_allowed_channel_gets_a_reply_and_is_logged(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    await allow(storage)
    message = make_message(content=f"{BOT_MENTION} Qui dirige Alibaba ?", mentions=[bot.user])
    await on_message(bot, message)

    kwargs = sent_kwargs(message.reply)
    assert_pings_nobody(kwargs)
    assert kwargs["mention_author"] is False
    assert len(sent_kwargs(message.reply.return_value.edit)["view"].children) == 2
    assert engine.questions == ["Qui dirige Alibaba ?"]
    (row,) = await storage.history(1)
    assert row.origin == "mention" and row.channel_id == 100


async def test_mention_outside_allowed_channels_is_ignored(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    await allow(storage, channel_id=100)
    await allow(storage, guild_id=2, channel_id=200)  # same id allowed on another server only
    for message in (
        make_message(content=f"{BOT_MENTION} Qui ?", mentions=[bot.user], channel_id=101),
        make_message(content=f"{BOT_MENTION} Qui ?", mentions=[bot.user], guild_id=1, channel_id=200),
    ):
        await on_message(bot, message)
        message.reply.assert_not_awaited()
        message.channel.send.assert_not_awaited()
    assert engine.questions == [] and await storage.count_history(1) == 0


async def test_messages_without_mention_from_bots_or_from_itself_are_ignored(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    await allow(storage)
    messages = [
        make_message(content="Qui dirige Alibaba ?"),
        make_message(content=f"{BOT_MENTION} Qui ?", mentions=[bot.user], author=make_member(bot=True)),
        make_message(content=f"{BOT_MENTION} Qui ?", mentions=[bot.user], author=make_member(BOT_USER_ID, bot=True)),
        make_message(content="@everyone Qui ?"),
    ]
    for message in messages:
        await on_message(bot, message)
        message.reply.assert_not_awaited()
    assert engine.questions == []


async def test_direct_message_gets_one_short_hint(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    user = make_member()
    first = make_message(content="Bonjour, qui dirige Alibaba ?", guild_id=None, author=user)
    await on_message(bot, first)
    kwargs = sent_kwargs(first.channel.send)
    assert first.channel.send.await_args.args == (DM_HINT,)
    assert_pings_nobody(kwargs)
    second = make_message(content="Allô ?", guild_id=None, author=user)
    await on_message(bot, second)
    second.channel.send.assert_not_awaited()  # not a wall of identical hints
    assert engine.questions == []


async def test_mention_answered_in_a_thread_when_the_server_wants_it(storage: Storage) -> None:
    bot = make_bot(storage)
    await allow(storage)
    await bot.server_settings.update(1, use_threads=True)
    message = make_message(content=f"{BOT_MENTION} @everyone Qui dirige Alibaba ?", mentions=[bot.user])
    thread = mock.MagicMock(spec=discord.Thread)
    thread.send.return_value = mock.MagicMock(spec=discord.Message)
    message.create_thread.return_value = thread
    await on_message(bot, message)
    name = message.create_thread.await_args.kwargs["name"]
    assert "@everyone" not in name and "Qui dirige Alibaba ?" in name
    assert_pings_nobody(sent_kwargs(thread.send))
    assert len(sent_kwargs(thread.send.return_value.edit)["view"].children) == 2
    message.reply.assert_not_awaited()


async def test_mention_in_a_thread_of_an_allowed_channel_is_answered(storage: Storage) -> None:
    bot = make_bot(storage)
    await allow(storage, channel_id=100)
    message = make_message(content=f"{BOT_MENTION} Qui ?", mentions=[bot.user], channel_id=555, thread_parent_id=100)
    await on_message(bot, message)
    assert "embed" in sent_kwargs(message.reply)


async def test_mention_failure_apologises_and_records_the_error(storage: Storage) -> None:
    bot = make_bot(storage, FakeEngine(error=MemoryError()))
    await allow(storage)
    message = make_message(content=f"{BOT_MENTION} Qui ?", mentions=[bot.user])
    await on_message(bot, message)
    assert message.reply.await_args.args == (APOLOGY,)
    assert_pings_nobody(message.reply.await_args.kwargs)
    (row,) = await storage.history(1)
    assert row.error is not None and row.error.startswith("MemoryError")


async def test_a_bare_mention_counts_against_the_rate_limit(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    await allow(storage)
    await bot.server_settings.update(1, rate_limit_count=2)
    user = make_member()
    for _ in range(2):
        bare = make_message(content=f"{BOT_MENTION}  ", mentions=[bot.user], author=user)
        await on_message(bot, bare)
        assert "juste après la mention" in bare.reply.await_args.args[0]
    question = make_message(content=f"{BOT_MENTION} Qui dirige Alibaba ?", mentions=[bot.user], author=user)
    await on_message(bot, question)
    assert "vous pourrez réessayer dans" in user.send.await_args.args[0]
    question.reply.assert_not_awaited()
    assert engine.questions == [] and await storage.count_history(1) == 0


async def test_mention_rate_limited_and_empty_mention(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    await allow(storage)
    await bot.server_settings.update(1, rate_limit_count=2)  # the empty mention uses one
    user = make_member()
    empty = make_message(content=BOT_MENTION, mentions=[bot.user], author=user)
    await on_message(bot, empty)
    assert "juste après la mention" in empty.reply.await_args.args[0]
    first = make_message(content=f"{BOT_MENTION} Qui ?", mentions=[bot.user], author=user)
    await on_message(bot, first)
    second = make_message(content=f"<@!{BOT_USER_ID}> Et quand ?", mentions=[bot.user], author=user)
    await on_message(bot, second)
    # The notice goes to the member alone, by direct message, not under their message.
    assert "vous pourrez réessayer dans" in user.send.await_args.args[0]
    second.reply.assert_not_awaited()
    # Direct messages closed: a public reply that deletes itself.
    user.send.side_effect = discord.Forbidden(mock.MagicMock(status=403), "Cannot send messages to this user")
    third = make_message(content=f"{BOT_MENTION} Et où ?", mentions=[bot.user], author=user)
    await on_message(bot, third)
    assert "vous pourrez réessayer dans" in third.reply.await_args.args[0]
    assert third.reply.await_args.kwargs["delete_after"] > 0
    for kwargs in all_sends(empty.reply, first.reply, user.send, third.reply):
        assert_pings_nobody(kwargs)
    assert engine.questions == ["Qui ?"] and await storage.count_history(1) == 1
