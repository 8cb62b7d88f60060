"""👍 / 👎 buttons under every answer, persistent across restarts (an extension: `setup` registers them).

The button's `custom_id` carries the logged query's id and the vote (`fb:<id>:up`), so any
click can be handled by a fresh process through discord.py's DynamicItem mechanism.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord
from discord.ext import commands

from bot.chat.messages import THANKS, VOTE_REFUSED
from bot.chat.replies import apologise, respond

if TYPE_CHECKING:
    from bot.chat.bot import QABot

VOTES = {"up": 1, "down": -1}
EMOJIS = {"up": "👍", "down": "👎"}
TEMPLATE = r"fb:(?P<query>[0-9]{1,20}):(?P<vote>up|down)"


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    """One vote button; the logged query's id and the vote live in the custom_id."""

    def __init__(self, query_id: int, vote: str) -> None:
        if vote not in VOTES:
            raise ValueError(f"unknown vote {vote!r}")
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji=EMOJIS[vote],
                custom_id=f"fb:{query_id}:{vote}",
            )
        )
        self.query_id = query_id
        self.vote = vote

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> FeedbackButton:
        return cls(int(match["query"]), match["vote"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Record (or change) the clicker's vote and thank them privately."""
        bot = cast("QABot", interaction.client)
        try:
            recorded = await bot.storage.record_vote(
                self.query_id, interaction.guild_id, interaction.user.id, VOTES[self.vote]
            )
            await respond(interaction, THANKS.format(emoji=EMOJIS[self.vote]) if recorded else VOTE_REFUSED)
        except Exception as exc:
            await apologise(interaction, exc, f"vote on query {self.query_id}")


def feedback_view(query_id: int) -> discord.ui.View:
    """The two vote buttons for one logged answer (no timeout: they are persistent)."""
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton(query_id, "up"))
    view.add_item(FeedbackButton(query_id, "down"))
    return view


async def setup(bot: commands.Bot) -> None:
    """Extension entry point: clicks on any `fb:<id>:<vote>` button, old or new, reach FeedbackButton."""
    bot.add_dynamic_items(FeedbackButton)
