"""What the server keeps and how it is answered: `/admin reglages` (privacy, threads, rate limit, retention,
answers to new forum posts) and `/admin purger` (questions older than N days)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.chat import messages
from bot.chat.exts.admin._groups import ADMIN, Area, guild_id_of
from bot.chat.replies import respond, working


class SettingsCommands(Area):
    """The server's own settings, and deleting its older questions."""

    @ADMIN.command(name="reglages", description=messages.SETTINGS_COMMAND)
    @app_commands.describe(**messages.SETTINGS_OPTIONS)
    async def reglages(
        self,
        interaction: discord.Interaction,
        reponses_privees: bool | None = None,
        fils: bool | None = None,
        limite: app_commands.Range[int, 1, 100] | None = None,
        fenetre: app_commands.Range[int, 5, 86400] | None = None,
        retention_jours: app_commands.Range[int, 0, 3650] | None = None,
        forum_auto: bool | None = None,
    ) -> None:
        """Without options, show the settings; with options, change them and show the result."""
        await working(interaction)
        guild_id = guild_id_of(interaction)
        changes: dict[str, Any] = {}
        if reponses_privees is not None:
            changes["ephemeral"] = reponses_privees
        if fils is not None:
            changes["use_threads"] = fils
        if limite is not None:
            changes["rate_limit_count"] = limite
        if fenetre is not None:
            changes["rate_limit_seconds"] = float(fenetre)
        if retention_jours is not None:
            changes["retention_days"] = retention_jours
        if forum_auto is not None:
            changes["forum_auto"] = forum_auto
        if changes:
            current = await self.bot.server_settings.update(guild_id, **changes)
        else:
            current = await self.bot.server_settings.read(guild_id)
        config = self.bot.settings
        text = messages.settings_text(
            current, config.rate_limit_count, config.rate_limit_seconds, config.retention_days
        )
        await respond(interaction, f"{messages.SETTINGS_SAVED}\n{text}" if changes else text)

    @ADMIN.command(name="purger", description=messages.PURGE_COMMAND)
    @app_commands.describe(**messages.PURGE_OPTIONS)
    async def purger(self, interaction: discord.Interaction, jours: app_commands.Range[int, 1, 3650]) -> None:
        """Delete this server's log rows older than `jours` days (and their votes)."""
        await working(interaction)
        deleted = await self.storage.purge(guild_id_of(interaction), jours)
        await respond(interaction, messages.purged(deleted, jours))
