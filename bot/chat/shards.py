"""Which Discord shard a server's events come through, as log lines name it ("shard 1/4")."""

from __future__ import annotations

import discord


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """Discord's routing: a server's events go to shard `(guild_id >> 22) % shard_count`; direct messages to 0."""
    return (guild_id >> 22) % shard_count if guild_id else 0


def shard_label(client: discord.Client, guild_id: int | None) -> str:
    """ "shard <id>/<count>" for the server `guild_id` (None: a direct message) as `client` runs its shards."""
    count = client.shard_count or 1
    return f"shard {shard_of(guild_id, count)}/{count}"
