"""Answers to new forum posts, on servers that turned `forum_auto` on (`/admin reglages`).

A post in a forum the bot may answer in (`/admin salons ajouter`) is a thread whose first message has the
thread's id; its title and that message together are the question. The answer goes in the post's thread, only
when its confidence reads « réponse sûre » or « réponse probable »; otherwise the bot stays silent and the post
is logged as unanswered (origin `forum`). One answer per post, none for bots; posts of one server are answered
in the order they came, and a post over the rate limit is skipped with a log line. Later messages of the thread
that mention the bot or reply to it are follow-ups (`bot.chat.exts.ask`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING, cast

import discord
from discord.ext import commands

from bot.chat.replies import NO_MENTIONS
from bot.text.answers import CONFIDENCE_LABELS, confidence_label

if TYPE_CHECKING:
    from bot.chat.bot import QABot
    from bot.chat.exts.ask import Ask

log = logging.getLogger(__name__)

ANSWERED_LABELS = frozenset(label for _, label in CONFIDENCE_LABELS[:2])  # « réponse sûre », « réponse probable »
MAX_POSTS_KEPT = 5000  # posts remembered as handled, so none is answered twice


def is_forum_post(message: discord.Message) -> bool:
    """Whether `message` opens a forum post: the first message of a thread whose parent is a forum."""
    channel = message.channel
    return (
        isinstance(channel, discord.Thread)
        and message.id == channel.id
        and isinstance(channel.parent, discord.ForumChannel)
    )


def post_question(thread: discord.Thread, content: str) -> str:
    """The question of a post: its title, then its first message (the title alone when the message repeats it)."""
    title, body = " ".join(thread.name.split()), content.strip()
    if not body or body.casefold().startswith(title.casefold()):
        return body or title
    return f"{title}{'' if title[-1:] in '?!.:' else ' :'} {body}"


class ForumAnswers(commands.Cog):
    """Answers each new post of the allowed forums of servers with `forum_auto` on."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self._handled: OrderedDict[int, None] = OrderedDict()
        self._locks: dict[int, asyncio.Lock] = {}

    def _first_time(self, post_id: int) -> bool:
        if post_id in self._handled:
            return False
        self._handled[post_id] = None
        while len(self._handled) > MAX_POSTS_KEPT:
            self._handled.popitem(last=False)
        return True

    async def wants(self, message: discord.Message) -> bool:
        """Whether this message is a new post the bot answers by itself (the server's setting, the forum allowed)."""
        if message.guild is None or message.author.bot or not is_forum_post(message):
            return False
        settings = await self.bot.server_settings.read(message.guild.id)
        if not settings.forum_auto:
            return False
        parent_id = cast("discord.Thread", message.channel).parent_id
        return parent_id is not None and await self.bot.storage.is_channel_allowed(message.guild.id, parent_id)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a new post the bot answers by itself; hand any other new post to `Ask`, which leaves new posts
        to this cog (it may mention the bot), so that each post is decided on once."""
        if not is_forum_post(message):
            return
        if not await self.wants(message):
            ask = cast("Ask | None", self.bot.get_cog("Ask"))
            if ask is not None:
                await ask.answer_message(message)
            return
        if not self._first_time(message.id):
            return
        assert message.guild is not None
        async with self._locks.setdefault(message.guild.id, asyncio.Lock()):
            try:
                await self._answer(message)
            except Exception:
                log.exception("forum post %s of server %s not answered", message.id, message.guild.id)

    async def _answer(self, message: discord.Message) -> None:
        thread = cast("discord.Thread", message.channel)
        ask = cast("Ask", self.bot.get_cog("Ask"))
        asked = await ask.ask(
            post_question(thread, message.content),
            origin="forum",
            guild_id=thread.guild.id,
            channel_id=thread.id,
            user_id=message.author.id,
            if_empty="",
        )
        if asked.answer is None:
            log.info("forum post %s skipped: %s", message.id, asked.refusal)
            return
        if not asked.answer.found or confidence_label(asked.answer.confidence) not in ANSWERED_LABELS:
            assert asked.record is not None
            await self.bot.storage.log_query(replace(asked.record, found=False))
            return

        async def send(embed: discord.Embed) -> discord.Message:
            return await thread.send(embed=embed, allowed_mentions=NO_MENTIONS)

        await ask.deliver(asked, send, thread.id)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point (after `bot.chat.exts.ask`, whose cog it answers through)."""
    await bot.add_cog(ForumAnswers(cast("QABot", bot)))
