"""Sending to Discord: every message goes out with `AllowedMentions.none()`, through these helpers."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.chat.messages import APOLOGY
from bot.chat.shards import shard_label

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


async def respond(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    ephemeral: bool = True,
    **kwargs: Any,
) -> None:
    """Answer an interaction, as its first response or as a follow-up if it was already answered/deferred.

    `kwargs` are passed on (embed, view, file); mentions are always disabled.
    """
    kwargs = {key: value for key, value in kwargs.items() if value is not None}
    if content is not None:
        kwargs["content"] = content
    if interaction.response.is_done():
        await interaction.followup.send(ephemeral=ephemeral, allowed_mentions=NO_MENTIONS, **kwargs)
    else:
        await interaction.response.send_message(ephemeral=ephemeral, allowed_mentions=NO_MENTIONS, **kwargs)


async def working(interaction: discord.Interaction) -> None:
    """Tell Discord, privately, that the answer is coming: a command that reads or writes the database may take
    longer than the 3 seconds Discord waits for a first response."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)


async def apologise(target: discord.Interaction | discord.Message, error: BaseException, what: str) -> None:
    """Log `error` as the failure of `what`, then tell the user in French: never a silent failure.

    An interaction gets a private answer; a message gets a reply. A failed apology is only logged.
    The log line names the shard the interaction came through (a message's caller names it in `what`).
    """
    if isinstance(target, discord.Interaction):
        what = f"{what} ({shard_label(target.client, target.guild_id)})"
    log.error("%s failed", what, exc_info=error)
    try:
        if isinstance(target, discord.Message):
            await target.reply(APOLOGY, allowed_mentions=NO_MENTIONS, mention_author=False)
        else:
            await respond(target, APOLOGY)
    except discord.HTTPException:
        log.warning("could not send the apology for %s", what, exc_info=True)


class ApologeticView(discord.ui.View):
    """A view whose button failures are logged and answered with a French apology, never silent."""

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /) -> None:
        await apologise(interaction, error, f"button {getattr(item, 'custom_id', item)!r} of {type(self).__name__}")


class OwnerView(ApologeticView):
    """A view only one member may use (on one server, when `guild_id` is given): anyone else pressing its buttons
    is told `not_yours`, privately, and nothing happens."""

    def __init__(self, *, owner_id: int, not_yours: str, timeout: float, guild_id: int | None = None) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.guild_id = guild_id
        self.not_yours = not_yours

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        elsewhere = self.guild_id is not None and interaction.guild_id != self.guild_id
        if interaction.user.id != self.owner_id or elsewhere:
            await respond(interaction, self.not_yours)
            return False
        return True
