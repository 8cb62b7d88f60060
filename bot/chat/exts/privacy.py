"""`/oubli`: any member can erase everything the bot logged about them on a server, after confirming."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat.checks import server_only
from bot.chat.messages import (
    ASK_CONFIRMATION,
    CANCEL_LABEL,
    CANCELLED,
    CONFIRM_LABEL,
    FORGET_COMMAND,
    NOT_YOURS,
    forgotten,
)
from bot.chat.replies import NO_MENTIONS, OwnerView, respond
from bot.storage import Storage

if TYPE_CHECKING:
    from bot.chat.bot import QABot

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT_SECONDS = 120.0


class ForgetConfirmation(OwnerView):
    """Confirm / cancel buttons; only the member who asked can press them, on that server, once."""

    def __init__(self, storage: Storage, *, user_id: int, guild_id: int) -> None:
        super().__init__(owner_id=user_id, guild_id=guild_id, not_yours=NOT_YOURS, timeout=CONFIRM_TIMEOUT_SECONDS)
        self.storage = storage
        self.user_id = user_id
        self.result: tuple[int, int] | None = None

    @discord.ui.button(label=CONFIRM_LABEL, style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        """Delete the member's questions and votes on this server and say how many went."""
        self.stop()
        queries, votes = await self.storage.forget_user(self.guild_id, self.user_id)
        self.result = (queries, votes)
        log.info("forgot user %s on guild %s: %d questions, %d votes", self.user_id, self.guild_id, queries, votes)
        await interaction.response.edit_message(
            content=forgotten(queries, votes), view=None, allowed_mentions=NO_MENTIONS
        )

    @discord.ui.button(label=CANCEL_LABEL, style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content=CANCELLED, view=None, allowed_mentions=NO_MENTIONS)


class Privacy(commands.Cog):
    """Commands about the member's own data."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    @app_commands.command(name="oubli", description=FORGET_COMMAND)
    @server_only()
    async def oubli(self, interaction: discord.Interaction) -> None:
        """Ask for confirmation privately; the buttons do the deletion."""
        assert interaction.guild_id is not None
        view = ForgetConfirmation(self.bot.storage, user_id=interaction.user.id, guild_id=interaction.guild_id)
        await respond(interaction, ASK_CONFIRMATION, view=view)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    await bot.add_cog(Privacy(cast("QABot", bot)))
