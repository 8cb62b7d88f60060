"""The channels where the bot answers mentions: `/admin salons ajouter|retirer|liste`."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.chat import messages
from bot.chat.embeds import truncate
from bot.chat.exts.admin._groups import CHANNELS, Area, guild_id_of
from bot.chat.replies import respond, working

# Channels where members write messages, so where mentions can be answered
MESSAGE_CHANNELS = (discord.ChannelType.text, discord.ChannelType.news, discord.ChannelType.forum)


class ChannelCommands(Area):
    """Allowing and disallowing the channels where mentions are answered."""

    @CHANNELS.command(name="ajouter", description=messages.CHANNEL_ADD_COMMAND)
    @app_commands.describe(**messages.CHANNEL_ADD_OPTIONS)
    async def salons_ajouter(self, interaction: discord.Interaction, salon: app_commands.AppCommandChannel) -> None:
        guild_id = guild_id_of(interaction)
        if salon.guild_id != guild_id:
            await respond(interaction, messages.CHANNEL_ELSEWHERE)
            return
        if salon.type not in MESSAGE_CHANNELS:
            await respond(interaction, messages.CHANNEL_NOT_WRITTEN.format(channel=salon.mention))
            return
        await working(interaction)
        added = await self.storage.add_channel(guild_id, salon.id)
        text = messages.CHANNEL_ADDED if added else messages.CHANNEL_ALREADY
        await respond(interaction, text.format(channel=salon.mention))

    @CHANNELS.command(name="retirer", description=messages.CHANNEL_REMOVE_COMMAND)
    @app_commands.describe(**messages.CHANNEL_REMOVE_OPTIONS)
    async def salons_retirer(self, interaction: discord.Interaction, salon: app_commands.AppCommandChannel) -> None:
        await working(interaction)
        removed = await self.storage.remove_channel(guild_id_of(interaction), salon.id)
        text = messages.CHANNEL_REMOVED if removed else messages.CHANNEL_ABSENT
        await respond(interaction, text.format(channel=salon.mention))

    @CHANNELS.command(name="liste", description=messages.CHANNEL_LIST_COMMAND)
    async def salons_liste(self, interaction: discord.Interaction) -> None:
        await working(interaction)
        channels = await self.storage.list_channels(guild_id_of(interaction))
        if not channels:
            text = messages.NO_CHANNELS
        else:
            text = messages.CHANNELS.format(channels=", ".join(f"<#{channel_id}>" for channel_id in channels))
        await respond(interaction, truncate(text, 2000))
