"""Asking the bot: the `/question` slash command, mentions in channels moderators allowed, and replies to its answers.

Thin on purpose: check, defer, ask the answerer (which runs the engine off the event loop), render, reply, log,
add the vote buttons. A reply to one of the bot's answers, a message in the thread it opened for one, and
`/question` asked again a moment later are read with the questions before them (`bot.chat.conversation`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.answering import EmptyQuestion
from bot.chat.conversation import Turn, replied_answer
from bot.chat.embeds import answer_embed, truncate
from bot.chat.exts.feedback import feedback_view
from bot.chat.exts.forum import is_forum_post
from bot.chat.markup import plain_text
from bot.chat.messages import (
    DM_HINT,
    EMPTY_MENTION_QUESTION,
    EMPTY_SLASH_QUESTION,
    QUESTION_COMMAND,
    QUESTION_OPTIONS,
    rate_limited,
)
from bot.chat.replies import NO_MENTIONS, apologise, respond
from bot.chat.shards import shard_label
from bot.search.answer import Answer, QuestionError
from bot.search.engine import EngineOptions
from bot.storage import GuildSettings, QueryRecord

if TYPE_CHECKING:
    from bot.chat.bot import QABot

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = EngineOptions().max_question_chars  # the slash option's bound, the engine's limit
DM_HINT_EVERY_SECONDS = 60.0
RATE_NOTICE_SECONDS = 20.0  # a rate-limit notice that could not go by direct message is deleted after this
THREAD_NAME_LIMIT = 100


@dataclass(frozen=True)
class Asked:
    """What came of one question: a refusal to show the asker, or the answer and the log row to write."""

    settings: GuildSettings
    refusal: str | None = None
    rate_limited: bool = False  # the refusal is a rate-limit notice (mentions send it privately)
    answer: Answer | None = None
    record: QueryRecord | None = None  # written by `deliver` once the answer went out, or failed to
    previous: Turn | None = None  # the conversation the question was read in


async def _nothing(settings: GuildSettings) -> None:
    """No preparation before the engine runs (mentions need no acknowledgement)."""


class Ask(commands.Cog):
    """`/question` and mentions: the two ways members ask the corpus a question."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    async def ask(
        self,
        typed: str,
        *,
        origin: str,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        if_empty: str,
        accepted: Callable[[GuildSettings], Awaitable[None]] = _nothing,
        previous: Turn | None = None,
    ) -> Asked:
        """Everything between reading a question and replying, the same for `/question` and mentions.

        Reads the server's settings and counts the question against the rate limit, an empty one too
        (then refused with `if_empty`: a bare mention must not make the bot talk for free; one over the
        engine's length limit is refused too). Once the question is let through, awaits `accepted` (where
        `/question` defers, per the server's privacy setting) and asks the answerer; `deliver` then sends
        and logs the answer. The answerer reads `typed` without Discord markup (mentions, emoji,
        timestamps); the log keeps `typed`, and the row it follows when it was read as a follow-up of
        `previous`. A failure is logged with its error, then re-raised.
        """
        settings = await self.bot.server_settings.read(guild_id)
        wait = self.bot.question_limit.hit(settings, user_id)
        if wait:
            return Asked(settings, refusal=rate_limited(wait), rate_limited=True)
        try:
            question = self.bot.answerer.check(plain_text(typed))
        except EmptyQuestion:
            return Asked(settings, refusal=if_empty)
        except QuestionError as exc:
            return Asked(settings, refusal=str(exc))
        await accepted(settings)
        where = {"guild_id": guild_id, "channel_id": channel_id, "user_id": user_id}
        try:
            context = self.bot.conversations.context(previous)
            answer = await self.bot.answerer.answer(question, guild_id, context)
        except QuestionError as exc:
            return Asked(settings, refusal=str(exc))
        except Exception as exc:
            error = truncate(f"{type(exc).__name__}: {exc}", 500)
            await self.bot.storage.log_query(QueryRecord(typed, origin, False, 0.0, 0.0, 0, [], error=error, **where))
            raise
        follows = previous.query_id if previous is not None and answer.understood_as else None
        record = replace(QueryRecord.from_answer(answer, origin=origin, follows=follows, **where), question=typed)
        return Asked(settings, answer=answer, record=record, previous=previous)

    async def deliver(
        self,
        asked: Asked,
        send: Callable[[discord.Embed], Awaitable[discord.Message]],
        thread_id: int | None = None,
    ) -> None:
        """Send the answer with `send`, then log it, then add the vote buttons to the sent message.

        Logging comes after sending so that a slow or locked database never delays an answer, and so
        that the row can say when the answer could not be delivered (its error is then set, and stats do
        not count it as found). The buttons need the row's id, so they are added by editing the message
        once the row is written: a moment after the answer, or never when logging failed. A delivery
        failure is re-raised after logging, for the caller to apologise. The answer is remembered as the end
        of its conversation, for the follow-ups that reply to it or come in `thread_id`.
        """
        assert asked.answer is not None and asked.record is not None
        try:
            sent = await send(answer_embed(asked.answer))
        except Exception as exc:
            error = truncate(f"réponse non délivrée : {type(exc).__name__}: {exc}", 500)
            await self.bot.storage.log_query(replace(asked.record, error=error))
            raise
        query_id = await self.bot.storage.log_query(asked.record)
        if asked.answer.intent == "question":
            conversations = self.bot.conversations
            follows = asked.answer.understood_as is not None
            turn = conversations.start(asked.answer.question, query_id, asked.previous, follows=follows)
            where = {"channel_id": asked.record.channel_id, "user_id": asked.record.user_id or 0}
            conversations.remember(turn, message_id=sent.id, thread_id=thread_id, **where)
        if query_id is None:
            return
        try:
            await sent.edit(view=feedback_view(query_id), allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("could not add the vote buttons to message %s", sent.id, exc_info=True)

    async def ask_interaction(
        self,
        interaction: discord.Interaction,
        typed: str,
        *,
        origin: str,
        if_empty: str,
        previous: Turn | None = None,
    ) -> Asked | None:
        """`ask` for an application command: deferred, publicly or privately per the server's setting, once the
        question is let through. A refusal is answered here, and gives None."""

        async def defer(settings: GuildSettings) -> None:
            await interaction.response.defer(ephemeral=settings.ephemeral, thinking=True)

        asked = await self.ask(
            typed,
            origin=origin,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            user_id=interaction.user.id,
            if_empty=if_empty,
            accepted=defer,
            previous=previous,
        )
        if asked.answer is None:
            await respond(interaction, asked.refusal)
            return None
        return asked

    # -- slash command --

    @app_commands.command(name="question", description=QUESTION_COMMAND)
    @app_commands.describe(**QUESTION_OPTIONS)
    async def question(
        self, interaction: discord.Interaction, texte: app_commands.Range[str, 1, MAX_QUESTION_CHARS]
    ) -> None:
        """Answer in an embed with vote buttons; public or private per the server's setting. Discord keeps the
        question within the engine's length limit; a client that bypassed it is refused by the answerer's check."""

        # In the bot's thread, or a moment after the member's last answer there, it may be a follow-up: of the
        # newer of the two (the member's own may be newer when it was private, so kept from the thread).
        conversations, channel_id = self.bot.conversations, interaction.channel_id
        thread = conversations.in_thread(channel_id) if channel_id is not None else None
        recent = conversations.recent(channel_id, interaction.user.id) if channel_id is not None else None
        previous = max((turn for turn in (thread, recent) if turn is not None), key=lambda turn: turn.at, default=None)
        # Engine failures propagate to the tree's error handler, which apologises and logs.
        asked = await self.ask_interaction(
            interaction, texte, origin="slash", if_empty=EMPTY_SLASH_QUESTION, previous=previous
        )
        if asked is None:
            return

        async def send(embed: discord.Embed) -> discord.Message:
            # A follow-up keeps the defer's public or private choice.
            return await interaction.followup.send(
                embed=embed, ephemeral=asked.settings.ephemeral, allowed_mentions=NO_MENTIONS, wait=True
            )

        # A private answer is no context for the others in the thread: only its asker's (`recent`) keeps it.
        public_thread = thread is not None and not asked.settings.ephemeral
        await self.deliver(asked, send, channel_id if public_thread else None)

    # -- mentions and replies --

    async def _channel_allowed(self, message: discord.Message) -> bool:
        assert message.guild is not None
        channel = message.channel
        candidates = [channel.id]
        if isinstance(channel, discord.Thread) and channel.parent_id:
            candidates.append(channel.parent_id)
        for channel_id in candidates:
            if await self.bot.storage.is_channel_allowed(message.guild.id, channel_id):
                return True
        return False

    def _strip_mention(self, content: str) -> str:
        assert self.bot.user is not None
        return re.sub(rf"<@!?{self.bot.user.id}>", " ", content).strip()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer mentions and replies (`answer_message`), except new forum posts: `ForumAnswers` decides on
        those, once, and hands back the ones it does not answer by itself."""
        if is_forum_post(message) and self.bot.get_cog("ForumAnswers") is not None:
            return
        await self.answer_message(message)

    async def answer_message(self, message: discord.Message) -> None:
        """Answer mentions in allowed channels and replies to the bot's answers; point direct messages to
        /question; stay silent elsewhere."""
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id:
            return
        if message.guild is None:
            await self._direct_message(message)
            return
        previous, replying = await replied_answer(message, self.bot.user, self.bot.conversations)
        if not replying:
            if not any(user.id == me.id for user in message.mentions) or not await self._channel_allowed(message):
                return
            if isinstance(message.channel, discord.Thread):
                previous = self.bot.conversations.in_thread(message.channel.id)
        try:
            await self._answer_mention(message, previous)
        except Exception as exc:
            where = f"channel {message.channel.id}, {shard_label(self.bot, message.guild.id)}"
            await apologise(message, exc, f"mention {message.id} ({where})")

    async def _direct_message(self, message: discord.Message) -> None:
        # One hint per user and minute, so a chatty user does not get a wall of identical replies.
        if self.bot.question_limit.limiter.hit(("dm", message.author.id), 1, DM_HINT_EVERY_SECONDS):
            return
        try:
            await message.channel.send(DM_HINT, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("could not answer a direct message from %s", message.author.id, exc_info=True)

    async def _answer_mention(self, message: discord.Message, previous: Turn | None = None) -> None:
        assert message.guild is not None and self.bot.user is not None
        asked = await self.ask(
            self._strip_mention(message.content),
            origin="mention",
            guild_id=message.guild.id,
            channel_id=message.channel.id,
            user_id=message.author.id,
            if_empty=EMPTY_MENTION_QUESTION.format(name=self.bot.user.display_name),
            previous=previous,
        )
        if asked.answer is None:
            assert asked.refusal is not None
            if asked.rate_limited:
                await _rate_notice(message, asked.refusal)
            else:
                await message.reply(asked.refusal, allowed_mentions=NO_MENTIONS, mention_author=False)
            return
        thread, in_thread = None, isinstance(message.channel, discord.Thread)
        if asked.settings.use_threads and not in_thread:
            thread = await _open_thread(message, asked.answer.question)
        bots_thread = in_thread and self.bot.conversations.in_thread(message.channel.id) is not None
        thread_id = thread.id if thread is not None else (message.channel.id if bots_thread else None)

        async def send(embed: discord.Embed) -> discord.Message:
            if thread is not None:
                return await thread.send(embed=embed, allowed_mentions=NO_MENTIONS)
            return await message.reply(embed=embed, allowed_mentions=NO_MENTIONS, mention_author=False)

        await self.deliver(asked, send, thread_id)


async def _rate_notice(message: discord.Message, text: str) -> None:
    """Tell a rate-limited member in private; when their direct messages are closed, in a reply that deletes itself."""
    try:
        await message.author.send(text, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException:
        notice = {"allowed_mentions": NO_MENTIONS, "mention_author": False, "delete_after": RATE_NOTICE_SECONDS}
        await message.reply(text, **notice)


async def _open_thread(message: discord.Message, question: str) -> discord.Thread | None:
    """A thread on the member's message for the answer, named after the question; None when Discord refuses."""
    name = truncate(discord.utils.escape_mentions(" ".join(question.split())), THREAD_NAME_LIMIT)
    try:
        return await message.create_thread(name=name)
    except discord.HTTPException:
        log.warning("could not open a thread on message %s; replying instead", message.id, exc_info=True)
        return None


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    await bot.add_cog(Ask(cast("QABot", bot)))
