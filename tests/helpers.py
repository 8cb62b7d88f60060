"""Test doubles for the Discord layer: mocks specced on discord.py's real classes, so a typo fails.

Async methods of the specced classes become AsyncMocks automatically; an interaction's
response flips to "done" when it is answered or deferred, like the real one.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any
from unittest import mock

import discord

from bot.chat.bot import QABot
from bot.config import Settings
from bot.search.answer import Answer, Quote, Source
from bot.storage import Storage

_ids = itertools.count(1_000)
BOT_USER_ID = 424242


def next_id() -> int:
    """A fresh snowflake-like id."""
    return next(_ids)


def make_source(**changes: Any) -> Source:
    """A realistic source (the seed article about AliExpress)."""
    values: dict[str, Any] = {
        "doc_id": "001_aliexpress",
        "title": "AliExpress gagne du terrain en Europe",
        "publisher": "Le Quotidien du Peuple en ligne",
        "published": "2020-08-05",
        "url": "http://french.peopledaily.com.cn/Economie/n3/2020/0805/c31355-9718612.html",
        "score": 2.0,
        "passage": "AliExpress a vu son trafic augmenter de 14 % en Italie.",
        "file": "001_aliexpress.txt",
    }
    values.update(changes)
    return Source(**values)


QUESTION = "De combien le trafic d'AliExpress a-t-il augmenté en Italie ?"


def make_answer(question: str = QUESTION, **changes: Any) -> Answer:
    """A found answer by default; pass found=False (and lead=...) for the not-found case."""
    found = changes.pop("found", True)
    if found:
        sentence = "AliExpress a vu son trafic augmenter de 14 % en Italie."
        values: dict[str, Any] = {
            "confidence": 0.87,
            "sources": [make_source()],
            "sentences": [sentence],
        }
    else:
        values = {"confidence": 0.1}
    values.update(changes)
    if found and "quotes" not in values:
        values["quotes"] = [Quote(values["sources"][0], values["sentences"])]
    return Answer(question=question, found=found, **values)


class FakeEngine:
    """Same surface as `bot.search.engine.Engine` for the bot: `answer()`, document and passage counts."""

    def __init__(
        self,
        answer: Answer | Callable[[str], Answer] | None = None,
        *,
        error: Exception | None = None,
        documents: int = 5,
        passages: int = 48,
    ) -> None:
        self._answer = answer
        self.error = error
        self.document_count = documents
        self.passage_count = passages
        self.vectors = None  # no sentence vectors: the bot serves without the sentence model
        self.questions: list[str] = []

    def answer(self, question: str) -> Answer:
        self.questions.append(question)
        if self.error is not None:
            raise self.error
        if callable(self._answer):
            return self._answer(question)
        if self._answer is not None:
            return self._answer
        return make_answer(question)


def make_bot(storage: Storage, engine: Any = None, *, settings: Settings | None = None, **kwargs: Any) -> QABot:
    """A real QABot (not connected) with a bot user, over the given storage and engine."""
    bot = QABot(settings or Settings(), storage, engine or FakeEngine(), **kwargs)
    user = mock.MagicMock(spec=discord.ClientUser)
    user.id = BOT_USER_ID
    user.bot = True
    user.display_name = "Bot Questions"
    user.mention = f"<@{BOT_USER_ID}>"
    bot._connection.user = user  # what a READY event would set
    return bot


def make_member(user_id: int | None = None, *, bot: bool = False, name: str = "camille") -> mock.MagicMock:
    """A server member (specced on discord.Member)."""
    member = mock.MagicMock(spec=discord.Member)
    member.id = user_id if user_id is not None else next_id()
    member.bot = bot
    member.name = member.display_name = name
    member.mention = f"<@{member.id}>"
    return member


def make_interaction(
    client: Any,
    *,
    guild_id: int | None = 1,
    user: Any = None,
    channel_id: int = 100,
    manage_guild: bool = False,
) -> mock.MagicMock:
    """A slash-command or button interaction (specced on discord.Interaction)."""
    interaction = mock.MagicMock(spec=discord.Interaction)
    interaction.id = next_id()
    interaction.client = client
    interaction.guild_id = guild_id
    interaction.channel_id = channel_id
    interaction.user = user if user is not None else make_member()
    interaction.permissions = discord.Permissions(manage_guild=manage_guild)
    interaction.command = None

    response = mock.MagicMock(spec=discord.InteractionResponse)
    state = {"done": False}

    def done(*args: Any, **kwargs: Any) -> None:
        state["done"] = True

    response.is_done.side_effect = lambda: state["done"]
    for name in ("defer", "send_message", "edit_message"):
        getattr(response, name).side_effect = done
    interaction.response = response
    interaction.followup = mock.MagicMock(spec=discord.Webhook)
    interaction.followup.send.return_value = mock.MagicMock(spec=discord.WebhookMessage)  # the sent follow-up
    return interaction


def make_message(
    *,
    content: str,
    author: Any = None,
    guild_id: int | None = 1,
    channel_id: int = 100,
    mentions: list[Any] | None = None,
    thread_parent_id: int | None = None,
    reference: discord.MessageReference | None = None,
) -> mock.MagicMock:
    """A message in a server text channel (or a DM when guild_id is None, or a thread), replying to
    `reference` when given."""
    message = mock.MagicMock(spec=discord.Message)
    message.id = next_id()
    message.content = content
    message.author = author if author is not None else make_member()
    message.mentions = mentions or []
    message.reference = reference
    if guild_id is None:
        message.guild = None
        message.channel = mock.MagicMock(spec=discord.DMChannel)
    else:
        message.guild = mock.MagicMock(spec=discord.Guild)
        message.guild.id = guild_id
        if thread_parent_id is not None:
            message.channel = mock.MagicMock(spec=discord.Thread)
            message.channel.parent_id = thread_parent_id
        else:
            message.channel = mock.MagicMock(spec=discord.TextChannel)
    message.channel.id = channel_id
    message.reply.return_value = mock.MagicMock(spec=discord.Message)  # the bot's reply
    return message


def assert_pings_nobody(kwargs: dict[str, Any]) -> None:
    """The send call disabled every ping (@everyone/@here, roles, users, replied-to author)."""
    mentions = kwargs["allowed_mentions"]
    assert isinstance(mentions, discord.AllowedMentions)
    assert mentions.everyone is False and mentions.users is False and mentions.roles is False
    assert mentions.replied_user is False


def sent_kwargs(async_method: mock.AsyncMock) -> dict[str, Any]:
    """Keyword arguments of the single call of a send-like mock (fails if it was not called once)."""
    async_method.assert_awaited_once()
    return async_method.await_args.kwargs


def deferred_answer(interaction: Any) -> dict[str, Any]:
    """Keyword arguments of the private follow-up that answered `interaction` after a private, thinking defer (the
    way a command that reads or writes the database answers; fails otherwise)."""
    interaction.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    interaction.response.send_message.assert_not_awaited()
    kwargs = sent_kwargs(interaction.followup.send)
    assert kwargs["ephemeral"] is True
    return kwargs


def all_sends(*mocks: mock.AsyncMock) -> list[dict[str, Any]]:
    """Keyword arguments of every awaited call of the given send-like mocks."""
    return [call.kwargs for m in mocks for call in m.await_args_list]


async def eventually(predicate: Callable[[], bool], *, timeout: float = 5.0) -> None:
    """Let the event loop run until `predicate()` holds; raises TimeoutError after `timeout` seconds, never hangs."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.001)
