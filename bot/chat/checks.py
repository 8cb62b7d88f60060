"""Permission checks for slash commands: the default Discord shows, and the check that protects.

Server admins can change a command's default permissions, so hiding a command from
members is not enough: the permission is checked again in code on every call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import discord
from discord import app_commands

T = TypeVar("T")

MANAGER_PERMISSIONS = discord.Permissions(manage_guild=True)


def is_manager(interaction: discord.Interaction) -> bool:
    """True when the interaction comes from a server member with Manage Server; raises otherwise.

    Raises NoPrivateMessage outside a server and MissingPermissions without the permission,
    so the central error handler can answer in French (used by `Admin.interaction_check`).
    """
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])
    return True


def guild_only_check(interaction: discord.Interaction) -> bool:
    """Code check for server-only commands (Discord's guild_only is a display default too)."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return True


def server_only() -> Callable[[T], T]:
    """Command decorator for commands any member may use, but only on a server."""

    def decorator(func: T) -> T:
        app_commands.check(guild_only_check)(func)
        app_commands.guild_only()(func)
        return func

    return decorator
