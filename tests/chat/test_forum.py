"""New forum posts answered in their thread when `forum_auto` is on and the answer is sure or probable."""

from __future__ import annotations

from unittest import mock

import discord

from bot.chat.exts.ask import Ask
from bot.chat.exts.forum import ANSWERED_LABELS, ForumAnswers, post_question
from bot.chat.messages import SETTINGS_OPTIONS
from bot.storage import Storage
from tests.helpers import BOT_USER_ID, FakeEngine, make_answer, make_bot, make_member, next_id

FORUM_ID = 700


def make_post(title: str, content: str, *, author=None, first: bool = True) -> mock.MagicMock:
    """The first message of a new post (a thread of a forum), or a later message of it."""
    thread = mock.MagicMock(spec=discord.Thread)
    thread.id, thread.name, thread.parent_id = next_id(), title, FORUM_ID
    thread.parent = mock.MagicMock(spec=discord.ForumChannel)
    thread.guild = mock.MagicMock(spec=discord.Guild)
    thread.guild.id = 1
    thread.send.return_value = mock.MagicMock(spec=discord.Message)
    message = mock.MagicMock(spec=discord.Message)
    message.id = thread.id if first else next_id()
    message.channel, message.guild, message.content = thread, thread.guild, content
    message.author = author or make_member()
    message.mentions, message.reference = [], None
    return message


async def forum_bot(storage: Storage, engine: FakeEngine, *, on: bool = True):
    bot = make_bot(storage, engine)
    await bot.add_cog(Ask(bot))
    await bot.add_cog(ForumAnswers(bot))
    await storage.add_channel(1, FORUM_ID)
    await bot.server_settings.update(1, forum_auto=on)
    return bot


async def test_a_new_post_is_answered_once_in_its_thread(storage: Storage) -> None:
    engine = FakeEngine()
    bot = await forum_bot(storage, engine)
    post = make_post("Trafic d'AliExpress", "De combien a-t-il augmenté en Italie ?")
    forum = bot.get_cog("ForumAnswers")
    await forum.on_message(post)
    await forum.on_message(post)  # the same event twice: one answer
    post.channel.send.assert_awaited_once()
    assert engine.questions == ["Trafic d'AliExpress : De combien a-t-il augmenté en Italie ?"]
    (row,) = await storage.history(1)
    assert (row.origin, row.found, row.channel_id) == ("forum", True, post.channel.id)
    await bot.get_cog("Ask").on_message(post)  # the mention path leaves it to the forum
    assert len(engine.questions) == 1


async def test_an_uncertain_answer_stays_silent_and_is_logged_unanswered(storage: Storage) -> None:
    engine = FakeEngine(lambda question: make_answer(question, confidence=0.2))
    bot = await forum_bot(storage, engine)
    post = make_post("Question", "Quel temps fera-t-il demain à Paris ?")
    await bot.get_cog("ForumAnswers").on_message(post)
    post.channel.send.assert_not_awaited()
    (row,) = await storage.history(1, not_found_only=True)
    assert row.origin == "forum" and not row.found


async def test_no_answer_when_off_for_bots_for_later_messages_or_other_forums(storage: Storage) -> None:
    engine = FakeEngine()
    bot = await forum_bot(storage, engine, on=False)
    forum = bot.get_cog("ForumAnswers")
    await forum.on_message(make_post("Trafic", "De combien ?"))
    await bot.server_settings.update(1, forum_auto=True)
    await forum.on_message(make_post("Trafic", "De combien ?", author=make_member(bot=True)))
    await forum.on_message(make_post("Trafic", "De combien ?", first=False))
    other = make_post("Trafic", "De combien ?")
    other.channel.parent_id = FORUM_ID + 1  # a forum moderators did not allow
    await forum.on_message(other)
    assert engine.questions == [] and await storage.count_history(1) == 0


async def test_a_mention_later_in_the_post_is_a_follow_up(storage: Storage) -> None:
    engine = FakeEngine()
    bot = await forum_bot(storage, engine)
    post = make_post("AliExpress", "De combien le trafic d'AliExpress a-t-il augmenté en Italie ?")
    await bot.get_cog("ForumAnswers").on_message(post)
    later = make_post("AliExpress", "Et en Espagne ?", first=False)
    later.channel = post.channel
    later.content = f"<@{BOT_USER_ID}> Et en Espagne ?"
    later.mentions = [bot.user]
    later.reply.return_value = mock.MagicMock(spec=discord.Message)
    await bot.get_cog("Ask").on_message(later)
    assert engine.questions[-1].endswith("De combien le trafic d'AliExpress a-t-il augmenté en Espagne ?")
    rows = await storage.history(1)
    assert (rows[0].origin, rows[0].follows) == ("mention", rows[1].id)


def test_the_question_of_a_post_is_its_title_and_its_message() -> None:
    thread = mock.MagicMock(spec=discord.Thread)
    thread.name = "Qui dirige Pinduoduo ?"
    assert post_question(thread, "Je cherche le nom.") == "Qui dirige Pinduoduo ? Je cherche le nom."
    assert post_question(thread, "qui dirige pinduoduo ? merci") == "qui dirige pinduoduo ? merci"
    assert post_question(thread, "") == "Qui dirige Pinduoduo ?"


async def test_each_post_is_decided_once_and_one_not_answered_by_itself_may_mention_the_bot(storage: Storage) -> None:
    engine = FakeEngine()
    bot = await forum_bot(storage, engine, on=False)
    forum = bot.get_cog("ForumAnswers")
    post = make_post("AliExpress", f"<@{BOT_USER_ID}> De combien le trafic a-t-il augmenté en Italie ?")
    post.mentions = [bot.user]
    post.reply.return_value = mock.MagicMock(spec=discord.Message)
    with mock.patch.object(forum, "wants", wraps=forum.wants) as wants:
        await bot.get_cog("Ask").on_message(post)
        await forum.on_message(post)  # both listeners hear each message
    assert wants.await_count == 1
    post.reply.assert_awaited_once()  # forum_auto off: answered as a mention
    (row,) = await storage.history(1)
    assert row.origin == "mention"


def test_the_setting_says_which_answers_are_posted() -> None:
    description = SETTINGS_OPTIONS["forum_auto"]
    assert len(description) <= 100  # Discord's limit for an option's description
    assert all(label.removeprefix("réponse ") in description for label in ANSWERED_LABELS)
