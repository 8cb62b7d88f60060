"""👍/👎 buttons: state in the custom_id (works after a restart), one changeable vote per user, private thanks."""

from __future__ import annotations

import re
from unittest import mock

import discord
import pytest

from bot.chat.exts.feedback import TEMPLATE, FeedbackButton, feedback_view
from bot.chat.messages import THANKS, VOTE_REFUSED
from bot.storage import QueryRecord, Storage
from tests.helpers import assert_pings_nobody, make_bot, make_interaction, make_member, sent_kwargs


async def logged_query(storage: Storage, guild_id: int = 1) -> int:
    query_id = await storage.log_query(
        QueryRecord(
            question="Qui dirige Alibaba ?",
            origin="slash",
            found=True,
            confidence=0.9,
            latency_ms=3.0,
            answer_chars=80,
            sources=[("doc", 1.0)],
            guild_id=guild_id,
            user_id=5,
        )
    )
    assert query_id is not None
    return query_id


async def rebuilt(custom_id: str, interaction: discord.Interaction) -> FeedbackButton:
    """What a freshly started bot does with a click: parse the custom_id with the class template."""
    match = re.fullmatch(TEMPLATE, custom_id)
    assert match is not None
    item = discord.ui.Button(custom_id=custom_id)
    return await FeedbackButton.from_custom_id(interaction, item, match)


async def click(bot, query_id: int, vote: str, user, guild_id: int = 1):
    interaction = make_interaction(bot, guild_id=guild_id, user=user)
    button = await rebuilt(f"fb:{query_id}:{vote}", interaction)
    await button.callback(interaction)
    return interaction


def test_custom_id_carries_query_and_vote_within_discord_limit() -> None:
    view = feedback_view(18_446_744_073_709_551_615)
    ids = [item.custom_id for item in view.children]
    assert ids == ["fb:18446744073709551615:up", "fb:18446744073709551615:down"]
    assert all(len(i) <= 100 for i in ids)
    assert view.timeout is None and view.is_persistent()
    assert [str(item.item.emoji) for item in view.children] == ["👍", "👎"]
    with pytest.raises(ValueError):
        FeedbackButton(1, "sideways")
    assert re.fullmatch(TEMPLATE, "fb:1:maybe") is None


async def test_one_vote_per_user_changeable_and_privately_thanked(storage: Storage) -> None:
    bot = make_bot(storage)
    query_id = await logged_query(storage)
    camille, malo = make_member(), make_member()

    first = await click(bot, query_id, "up", camille)
    kwargs = sent_kwargs(first.response.send_message)
    assert kwargs["ephemeral"] is True and kwargs["content"] == THANKS.format(emoji="👍")
    assert_pings_nobody(kwargs)
    await click(bot, query_id, "up", camille)  # clicking twice does not count twice
    row = await storage.get_query(query_id)
    assert row is not None and (row.upvotes, row.downvotes) == (1, 0)

    await click(bot, query_id, "down", camille)  # changed mind
    await click(bot, query_id, "up", malo)
    row = await storage.get_query(query_id)
    assert row is not None and (row.upvotes, row.downvotes) == (1, 1)


async def test_vote_on_another_servers_answer_or_a_deleted_one_is_refused(storage: Storage) -> None:
    bot = make_bot(storage)
    query_id = await logged_query(storage, guild_id=2)
    interaction = await click(bot, query_id, "up", make_member(), guild_id=1)
    assert sent_kwargs(interaction.response.send_message)["content"] == VOTE_REFUSED
    interaction = await click(bot, 999_999, "down", make_member())
    assert sent_kwargs(interaction.response.send_message)["content"] == VOTE_REFUSED
    row = await storage.get_query(query_id)
    assert row is not None and (row.upvotes, row.downvotes) == (0, 0)


async def test_storage_failure_gets_an_apology_not_silence(storage: Storage) -> None:
    bot = make_bot(storage)
    query_id = await logged_query(storage)
    with mock.patch.object(storage, "record_vote", mock.AsyncMock(side_effect=RuntimeError("disque plein"))):
        interaction = await click(bot, query_id, "up", make_member())
    assert "Désolé" in sent_kwargs(interaction.response.send_message)["content"]
