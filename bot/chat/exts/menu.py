"""« Demander au bot »: a message context-menu command that asks a member's message as a question.

A moderator (or anyone who may use application commands there) right-clicks a message, Apps, « Demander au
bot »: its text is answered like `/question` (rate limit of the one who clicked, log with origin `menu`, public
or private per the server's `/question` setting), the reply naming who asked without pinging them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat.messages import ASK_MENU, ASKED_BY, EMPTY_MENU_QUESTION
from bot.chat.replies import NO_MENTIONS

if TYPE_CHECKING:
    from bot.chat.bot import QABot
    from bot.chat.exts.ask import Ask


class AskMenu(commands.Cog):
    """The « Demander au bot » message command, answered through the `Ask` cog."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name=ASK_MENU, callback=self.ask_about)
        bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    async def ask_about(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Answer the text of `message` as a question; engine failures go to the tree's error handler."""
        ask = cast("Ask", self.bot.get_cog("Ask"))
        asked = await ask.ask_interaction(interaction, message.content, origin="menu", if_empty=EMPTY_MENU_QUESTION)
        if asked is None:
            return

        async def send(embed: discord.Embed) -> discord.Message:
            return await interaction.followup.send(
                ASKED_BY.format(member=message.author.mention),
                embed=embed,
                ephemeral=asked.settings.ephemeral,
                allowed_mentions=NO_MENTIONS,
                wait=True,
            )

        await ask.deliver(asked, send)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point (after `bot.chat.exts.ask`, whose cog it answers through)."""
    await bot.add_cog(AskMenu(cast("QABot", bot)))
