"""« Demander au bot »: a member's message answered as a question, naming who asked without pinging them."""

from __future__ import annotations

import discord

from bot.chat.exts.ask import Ask
from bot.chat.exts.menu import AskMenu
from bot.chat.messages import EMPTY_MENU_QUESTION
from bot.storage import Storage
from tests.helpers import (
    FakeEngine,
    assert_pings_nobody,
    make_bot,
    make_interaction,
    make_member,
    make_message,
    sent_kwargs,
)

QUESTION = "Quelqu'un sait de combien le trafic d'AliExpress a augmenté en Italie ?"


async def ask_about(bot, interaction, message) -> None:
    if bot.get_cog("Ask") is None:
        await bot.add_cog(Ask(bot))
        await bot.add_cog(AskMenu(bot))
    await bot.get_cog("AskMenu").ask_about(interaction, message)


async def test_the_message_is_answered_naming_its_author_without_a_ping(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    asker, moderator = make_member(name="camille"), make_member(name="modo")
    message = make_message(content=QUESTION, author=asker, channel_id=321)  # any channel: not an allowed one
    interaction = make_interaction(bot, guild_id=1, channel_id=321, user=moderator)
    await ask_about(bot, interaction, message)

    interaction.response.defer.assert_awaited_once_with(ephemeral=False, thinking=True)
    kwargs = sent_kwargs(interaction.followup.send)
    assert interaction.followup.send.await_args.args == (f"Question de <@{asker.id}>",)
    assert_pings_nobody(kwargs)
    assert kwargs["ephemeral"] is False and "AliExpress" in kwargs["embed"].description
    assert engine.questions == [QUESTION]
    (row,) = await storage.history(1)
    assert (row.origin, row.user_id, row.channel_id, row.question) == ("menu", moderator.id, 321, QUESTION)
    assert len(sent_kwargs(interaction.followup.send.return_value.edit)["view"].children) == 2


async def test_privacy_follows_the_question_setting(storage: Storage) -> None:
    bot = make_bot(storage)
    await bot.server_settings.update(1, ephemeral=True)
    interaction = make_interaction(bot)
    await ask_about(bot, interaction, make_message(content=QUESTION))
    interaction.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    assert sent_kwargs(interaction.followup.send)["ephemeral"] is True


async def test_a_message_without_text_is_refused_and_the_rate_limit_counts(storage: Storage) -> None:
    engine = FakeEngine()
    bot = make_bot(storage, engine)
    await bot.server_settings.update(1, rate_limit_count=1, rate_limit_seconds=60)
    moderator = make_member()
    empty = make_interaction(bot, user=moderator)
    await ask_about(bot, empty, make_message(content="  "))
    assert sent_kwargs(empty.response.send_message)["content"] == EMPTY_MENU_QUESTION
    limited = make_interaction(bot, user=moderator)
    await ask_about(bot, limited, make_message(content=QUESTION))
    assert "question" in sent_kwargs(limited.response.send_message)["content"].lower()
    assert engine.questions == [] and await storage.count_history(1) == 0


async def test_the_command_is_a_message_command(storage: Storage) -> None:
    bot = make_bot(storage)
    menu = AskMenu(bot)
    assert (menu.menu.name, menu.menu.type) == ("Demander au bot", discord.AppCommandType.message)
    assert bot.tree.get_command("Demander au bot", type=discord.AppCommandType.message) is menu.menu
