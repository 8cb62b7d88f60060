"""The `/admin` command group and its two sub-groups, which every area of the package adds its commands to, and
what those areas share: the bot, its storage, the invoking server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.chat import messages
from bot.chat.checks import MANAGER_PERMISSIONS
from bot.storage import Storage

if TYPE_CHECKING:
    from bot.chat.bot import QABot

# Created in this order, then the commands of each area as `__init__` imports them: the order Discord shows
# and the payload the command sync hashes.
ADMIN = app_commands.Group(
    name="admin", description=messages.ADMIN_GROUP, guild_only=True, default_permissions=MANAGER_PERMISSIONS
)
CHANNELS = app_commands.Group(name="salons", description=messages.CHANNELS_GROUP, parent=ADMIN)
DOCUMENTS = app_commands.Group(name="documents", description=messages.DOCUMENTS_GROUP, parent=ADMIN)


class Area:
    """One area of `/admin` (a mixin of the `Admin` cog): it reads the bot and its storage."""

    bot: QABot

    @property
    def storage(self) -> Storage:
        return self.bot.storage


def guild_id_of(interaction: discord.Interaction) -> int:
    """The invoking server (`Admin.interaction_check` has already refused interactions without one)."""
    assert interaction.guild_id is not None
    return interaction.guild_id
