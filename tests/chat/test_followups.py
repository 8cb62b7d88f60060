"""Follow-ups on Discord: replies to the bot's answers, its threads, /question again; read with their context."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import discord

from bot.chat.bot import QABot
from bot.chat.conversation import MAX_AGE_SECONDS, RECENT_SECONDS
from bot.chat.exts.ask import Ask
from bot.storage import Storage
from tests.helpers import BOT_USER_ID, FakeEngine, make_bot, make_interaction, make_member, make_message, sent_kwargs

ITALY = "De combien le trafic d'AliExpress a-t-il augmenté en Italie ?"
SPAIN = ITALY.replace("Italie", "Espagne")
MENTION = f"<@{BOT_USER_ID}>"


def reply_to(message_id: int, resolved: discord.Message | None = None) -> discord.MessageReference:
    reference = discord.MessageReference(message_id=message_id, channel_id=100, guild_id=1)
    reference.resolved = resolved
    return reference


async def mention(bot, text: str, **kwargs) -> mock.MagicMock:
    message = make_message(content=f"{MENTION} {text}", mentions=[bot.user], **kwargs)
    message.reply.return_value.id = message.id + 10_000  # the bot's answer
    await Ask(bot).on_message(message)
    return message


async def slash(bot, text: str, user) -> mock.MagicMock:
    interaction = make_interaction(bot, guild_id=1, channel_id=100, user=user)
    interaction.followup.send.return_value.id = interaction.id + 10_000
    cog = Ask(bot)
    await cog.question.callback(cog, interaction, text)
    return interaction


async def test_a_reply_to_an_answer_is_read_after_its_question_and_logged_as_following_it(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    await storage.add_channel(1, 100)
    member = make_member()
    first = await mention(bot, ITALY, author=member)
    answer_id = first.reply.return_value.id
    follow = make_message(content="Et en Espagne ?", author=member, reference=reply_to(answer_id))  # no ping
    await Ask(bot).on_message(follow)

    assert engine.questions == [ITALY, SPAIN]
    embed = sent_kwargs(follow.reply)["embed"]
    assert f"Compris comme : {SPAIN}" in embed.description and "Et en Espagne ?" in embed.title
    second, earlier = await storage.history(1)
    assert (second.question, second.follows, earlier.follows) == ("Et en Espagne ?", earlier.id, None)


async def test_a_chain_of_replies_keeps_the_conversation(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    await storage.add_channel(1, 100)
    message = await mention(bot, ITALY)
    for country in ("Espagne", "Lettonie"):
        message = await mention(bot, f"Et en {country} ?", reference=reply_to(message.reply.return_value.id))
    assert engine.questions[-1] == ITALY.replace("Italie", "Lettonie")


async def test_a_reply_to_an_answer_of_before_a_restart_is_read_from_the_answer(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    answer = mock.MagicMock(spec=discord.Message)
    answer.id, answer.author = 4242, bot.user
    answer.embeds = [discord.Embed(title=f"❓ {ITALY}")]
    answer.created_at = discord.utils.utcnow() - timedelta(minutes=3)
    answer.components = [mock.MagicMock(children=[mock.MagicMock(custom_id="fb:77:up")])]
    follow = make_message(content="Et en Espagne ?", reference=reply_to(4242, answer))
    await Ask(bot).on_message(follow)
    assert engine.questions == [SPAIN]
    (row,) = await storage.history(1)
    assert row.follows == 77

    answer.created_at = discord.utils.utcnow() - timedelta(seconds=MAX_AGE_SECONDS + 60)  # too old: no context
    await Ask(bot).on_message(make_message(content="Et en Espagne ?", reference=reply_to(4242, answer)))
    assert engine.questions[-1] == "Et en Espagne ?"


async def test_a_reply_to_a_message_that_is_no_answer_of_the_bot_is_ignored(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    other = mock.MagicMock(spec=discord.Message)
    other.author, other.embeds = make_member(), []
    await Ask(bot).on_message(make_message(content="Et en Espagne ?", reference=reply_to(5, other)))
    notice = mock.MagicMock(spec=discord.Message)
    notice.author, notice.embeds = bot.user, []  # a refusal, a notice: no answer embed
    await Ask(bot).on_message(make_message(content="Et en Espagne ?", reference=reply_to(6, notice)))
    assert engine.questions == []


async def test_an_answer_older_than_thirty_minutes_is_no_context(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    await storage.add_channel(1, 100)
    now = [0.0]
    bot.conversations.clock = lambda: now[0]
    first = await mention(bot, ITALY)
    now[0] += MAX_AGE_SECONDS + 1
    await mention(bot, "Et en Espagne ?", reference=reply_to(first.reply.return_value.id))
    assert engine.questions == [ITALY, "Et en Espagne ?"]
    assert [row.follows for row in await storage.history(1)] == [None, None]


async def _answered_in_its_thread(storage: Storage, engine: FakeEngine) -> QABot:
    """A bot that answered a mention of ITALY in channel 100 by opening its thread, number 555."""
    bot = make_bot(storage, engine)
    await storage.add_channel(1, 100)
    await bot.server_settings.update(1, use_threads=True)
    message = make_message(content=f"{MENTION} {ITALY}", mentions=[bot.user])
    thread = mock.MagicMock(spec=discord.Thread)
    thread.id = 555
    thread.send.return_value = mock.MagicMock(spec=discord.Message)
    message.create_thread.return_value = thread
    await Ask(bot).on_message(message)
    return bot


async def test_a_mention_in_the_thread_the_bot_opened_is_a_follow_up(storage: Storage) -> None:
    engine = FakeEngine()
    bot = await _answered_in_its_thread(storage, engine)
    await mention(bot, "Et en Espagne ?", channel_id=555, thread_parent_id=100)
    await mention(bot, "Qui est le vice-président de Pinduoduo ?", channel_id=555, thread_parent_id=100)
    assert engine.questions == [ITALY, SPAIN, "Qui est le vice-président de Pinduoduo ?"]  # complete: as typed


async def test_slash_again_within_five_minutes_reads_a_follow_up_only(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    now = [0.0]
    bot.conversations.clock = lambda: now[0]
    member = make_member()
    await slash(bot, ITALY, member)
    now[0] += 60
    second = await slash(bot, "Et en Espagne ?", member)
    assert "Compris comme" in sent_kwargs(second.followup.send)["embed"].description
    await slash(bot, "Qui est le vice-président de Pinduoduo ?", member)
    await slash(bot, "Et en Espagne ?", make_member())  # another member: no context
    now[0] += RECENT_SECONDS + 1
    await slash(bot, "Et en Italie ?", member)  # too late for /question
    assert engine.questions == [
        ITALY,
        SPAIN,
        "Qui est le vice-président de Pinduoduo ?",
        "Et en Espagne ?",
        "Et en Italie ?",
    ]


async def test_a_private_answer_in_the_bots_thread_is_no_context_for_another_member(storage: Storage) -> None:
    engine = FakeEngine()
    bot = await _answered_in_its_thread(storage, engine)
    await bot.server_settings.update(1, ephemeral=True)
    asker = make_member()
    private = make_interaction(bot, guild_id=1, channel_id=555, user=asker)
    private.followup.send.return_value.id = private.id + 10_000
    cog = Ask(bot)
    await cog.question.callback(cog, private, "Qui est le vice-président de Pinduoduo ?")
    again = make_interaction(bot, guild_id=1, channel_id=555, user=asker)
    await cog.question.callback(cog, again, "Et en Lettonie ?")  # its asker keeps it as context
    assert engine.questions[-1] == "Qui est le vice-président de Pinduoduo en Lettonie ?"

    other = await mention(bot, "Et en Espagne ?", channel_id=555, thread_parent_id=100)
    assert engine.questions[-1] == SPAIN  # read after the thread's public question, not the private ones
    assert "Pinduoduo" not in sent_kwargs(other.reply)["embed"].description


def forward_of(message_id: int, resolved: discord.Message) -> discord.MessageReference:
    reference = discord.MessageReference(
        message_id=message_id, channel_id=100, guild_id=1, type=discord.MessageReferenceType.forward
    )
    reference.resolved = resolved
    return reference


async def test_a_forwarded_answer_is_no_reply(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    answer = mock.MagicMock(spec=discord.Message)
    answer.id, answer.author = 4242, bot.user
    answer.embeds = [discord.Embed(title=f"❓ {ITALY}")]
    answer.created_at = discord.utils.utcnow() - timedelta(minutes=3)
    answer.components = []
    forward = make_message(content="", reference=forward_of(4242, answer))  # channel 100 is not allowed
    await Ask(bot).on_message(forward)
    assert engine.questions == []
    forward.reply.assert_not_awaited()
