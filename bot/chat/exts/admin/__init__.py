"""Moderator commands: the `/admin` group, one module per area: `log` (stats, history, export), `corpus`
(re-indexing), `settings` (the server's settings, purging), `channels` (where mentions are answered) and
`documents` (the server's own documents); `_views` holds the pager they share.

Every command is server-only, hidden by default from members without Manage Server, checked
again in code (`Admin.interaction_check`), answered privately, and reads or writes only the
invoking server's data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import discord
from discord.ext import commands

from bot.chat.checks import is_manager
from bot.chat.exts.admin._groups import ADMIN
from bot.chat.inflight import AddsInFlight

# The areas add their commands to the group as they are imported: this order is the one Discord shows, and
# part of the payload the command sync hashes.
# isort: off
from bot.chat.exts.admin.log import LogCommands, history_pager
from bot.chat.exts.admin.corpus import CorpusCommands, moderator_error
from bot.chat.exts.admin.settings import SettingsCommands
from bot.chat.exts.admin.channels import ChannelCommands
from bot.chat.exts.admin.documents import DocumentCommands, document_pager
# isort: on

if TYPE_CHECKING:
    from bot.chat.bot import QABot

__all__ = ["Admin", "document_pager", "history_pager", "moderator_error", "setup"]


class Admin(LogCommands, CorpusCommands, SettingsCommands, ChannelCommands, DocumentCommands, commands.Cog):
    """The `/admin` command group, its areas' commands, and the permission check they all pass."""

    admin = ADMIN

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self.adds_in_flight = AddsInFlight()

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """The permission check of every `/admin` command, run by discord.py before each one.

        The group's `default_permissions` and `guild_only` only hide the commands (server admins can
        change them); this is what protects. Raises NoPrivateMessage outside a server and
        MissingPermissions without Manage Server, which the tree's error handler answers in French.
        """
        return is_manager(interaction)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    await bot.add_cog(Admin(cast("QABot", bot)))
