"""Asking the bot: the `/question` slash command and mentions in channels moderators allowed.

Thin on purpose: check, defer, ask the engine off the event loop, render, reply, log.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat.embeds import (
    APOLOGY,
    DM_HINT,
    EMPTY_MENTION_QUESTION,
    EMPTY_SLASH_QUESTION,
    answer_embed,
    rate_limited,
    truncate,
)
from bot.chat.exts.feedback import feedback_view
from bot.chat.replies import NO_MENTIONS, respond
from bot.search.answer import Answer, QuestionError
from bot.storage import QueryRecord
from bot.text.answers import introduction_for

if TYPE_CHECKING:
    from bot.chat.bot import QABot

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
DM_HINT_EVERY_SECONDS = 60.0
RATE_NOTICE_SECONDS = 20.0  # a rate-limit notice that could not go by direct message is deleted after this
THREAD_NAME_LIMIT = 100


class Ask(commands.Cog):
    """`/question` and mentions: the two ways members ask the corpus a question."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    async def answer_and_log(
        self,
        question: str,
        *,
        origin: str,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
    ) -> tuple[Answer, int | None]:
        """Answer `question` and log it; an engine failure is logged with its error, then re-raised.

        The logged latency is the bot's own work (engine and thread hop), not Discord's round trips.

        Returns the answer and the log row's id (None when logging failed: the answer still goes out).
        QuestionError (blank question) propagates without logging.
        """
        where = {"guild_id": guild_id, "channel_id": channel_id, "user_id": user_id}
        started = time.perf_counter()
        try:
            answer = await self.bot.answer(question)
        except QuestionError:
            raise
        except Exception as exc:
            await self.bot.storage.log_query(
                QueryRecord(
                    question=question,
                    origin=origin,
                    found=False,
                    confidence=0.0,
                    latency_ms=(time.perf_counter() - started) * 1000,
                    answer_chars=0,
                    sources=[],
                    error=truncate(f"{type(exc).__name__}: {exc}", 500),
                    **where,
                )
            )
            raise
        latency_ms = (time.perf_counter() - started) * 1000
        query_id = await self.bot.storage.log_query(
            QueryRecord.from_answer(answer, origin=origin, latency_ms=latency_ms, **where)
        )
        return answer, query_id

    def _introduction(self, answer: Answer) -> str | None:
        """The bot's self-introduction, for small talk ("bonjour", "que sais-tu faire ?")."""
        return introduction_for(self.bot.engine.overview()) if answer.intent == "smalltalk" else None

    # -- slash command --

    @app_commands.command(name="question", description="Poser une question : réponse citée du corpus, avec sa source")
    @app_commands.describe(texte="Votre question, en français")
    async def question(
        self, interaction: discord.Interaction, texte: app_commands.Range[str, 1, MAX_QUESTION_CHARS]
    ) -> None:
        """Answer in an embed with vote buttons; public or private per the server's setting."""
        if not texte.strip():
            await respond(interaction, EMPTY_SLASH_QUESTION)
            return
        settings = await self.bot.guild_settings(interaction.guild_id)
        wait = self.bot.rate_limit(settings, interaction.user.id)
        if wait:
            await respond(interaction, rate_limited(wait))
            return
        await interaction.response.defer(ephemeral=settings.ephemeral, thinking=True)
        try:
            answer, query_id = await self.answer_and_log(
                texte,
                origin="slash",
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
                user_id=interaction.user.id,
            )
        except QuestionError as exc:
            await respond(interaction, str(exc))
            return
        # Engine failures propagate to the tree's error handler, which apologises and logs.
        kwargs = {"embed": answer_embed(answer, self._introduction(answer))}
        if query_id is not None:
            kwargs["view"] = feedback_view(query_id)
        await interaction.followup.send(ephemeral=settings.ephemeral, allowed_mentions=NO_MENTIONS, **kwargs)

    # -- mentions --

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
        """Answer mentions in allowed channels; point direct messages to /question; stay silent elsewhere."""
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id:
            return
        if message.guild is None:
            await self._direct_message(message)
            return
        if not any(user.id == me.id for user in message.mentions) or not await self._channel_allowed(message):
            return
        try:
            await self._answer_mention(message)
        except Exception:
            log.exception("mention %s in channel %s failed", message.id, message.channel.id)
            try:
                await message.reply(APOLOGY, allowed_mentions=NO_MENTIONS, mention_author=False)
            except discord.HTTPException:
                log.warning("could not send the apology for message %s", message.id, exc_info=True)

    async def _direct_message(self, message: discord.Message) -> None:
        # One hint per user and minute, so a chatty user does not get a wall of identical replies.
        if self.bot.rate_limiter.hit(("dm", message.author.id), 1, DM_HINT_EVERY_SECONDS):
            return
        try:
            await message.channel.send(DM_HINT, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("could not answer a direct message from %s", message.author.id, exc_info=True)

    async def _rate_notice(self, message: discord.Message, text: str) -> None:
        """Tell a rate-limited member in private; when their direct messages are closed, in a reply that
        deletes itself."""
        try:
            await message.author.send(text, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            notice = {"allowed_mentions": NO_MENTIONS, "mention_author": False, "delete_after": RATE_NOTICE_SECONDS}
            await message.reply(text, **notice)

    async def _answer_mention(self, message: discord.Message) -> None:
        assert message.guild is not None and self.bot.user is not None
        question = self._strip_mention(message.content)
        if not question:
            text = EMPTY_MENTION_QUESTION.format(name=self.bot.user.display_name)
            await message.reply(text, allowed_mentions=NO_MENTIONS, mention_author=False)
            return
        settings = await self.bot.guild_settings(message.guild.id)
        wait = self.bot.rate_limit(settings, message.author.id)
        if wait:
            await self._rate_notice(message, rate_limited(wait))
            return
        try:
            answer, query_id = await self.answer_and_log(
                question[:MAX_QUESTION_CHARS],
                origin="mention",
                guild_id=message.guild.id,
                channel_id=message.channel.id,
                user_id=message.author.id,
            )
        except QuestionError as exc:
            await message.reply(str(exc), allowed_mentions=NO_MENTIONS, mention_author=False)
            return
        embed = answer_embed(answer, self._introduction(answer))
        view = feedback_view(query_id) if query_id is not None else discord.utils.MISSING
        if settings.use_threads and not isinstance(message.channel, discord.Thread):
            thread = await self._open_thread(message, question)
            if thread is not None:
                await thread.send(embed=embed, view=view, allowed_mentions=NO_MENTIONS)
                return
        await message.reply(embed=embed, view=view, allowed_mentions=NO_MENTIONS, mention_author=False)

    async def _open_thread(self, message: discord.Message, question: str) -> discord.Thread | None:
        name = truncate(discord.utils.escape_mentions(" ".join(question.split())), THREAD_NAME_LIMIT)
        try:
            return await message.create_thread(name=name)
        except discord.HTTPException:
            log.warning("could not open a thread on message %s; replying instead", message.id, exc_info=True)
            return None


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    await bot.add_cog(Ask(cast("QABot", bot)))
