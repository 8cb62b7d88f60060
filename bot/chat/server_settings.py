"""Each server's settings as the bot reads them on every question: cached a little, never waited for long.

Several processes of the bot may share one database: a change made by another applies here within
`SETTINGS_TTL_SECONDS`; a slow or unreadable database yields the defaults for this once, so a question is
still acknowledged within Discord's three seconds.
"""

from __future__ import annotations

import asyncio
import logging

from bot.chat.cache import ExpiringCache
from bot.storage import GuildSettings, Storage

log = logging.getLogger(__name__)

SETTINGS_WAIT_SECONDS = 1.0  # a server's settings are read before /question is acknowledged (3-second rule)
SETTINGS_TTL_SECONDS = 30.0  # a server's settings changed by another process apply here within this time


class ServerSettings:
    """Reads and changes the servers' settings through a short-lived cache."""

    def __init__(self, storage: Storage, ttl: float = SETTINGS_TTL_SECONDS) -> None:
        self.storage = storage
        self.cache: ExpiringCache[int, GuildSettings] = ExpiringCache(ttl)

    async def read(self, guild_id: int | None) -> GuildSettings:
        """A server's settings (defaults outside a server). A database that is slow or unreadable yields the
        defaults for this once, uncached, so the real settings apply again once it recovers."""
        if guild_id is None:
            return GuildSettings(guild_id=0)
        cached = self.cache.get(guild_id)
        if cached is not None:
            return cached
        try:
            settings = await asyncio.wait_for(self.storage.read_guild_settings(guild_id), SETTINGS_WAIT_SECONDS)
        except TimeoutError:
            log.warning("settings of server %s not read within %.0f s; using defaults", guild_id, SETTINGS_WAIT_SECONDS)
            settings = None
        if settings is None:
            return GuildSettings(guild_id=guild_id)
        self.cache.put(guild_id, settings)
        return settings

    async def update(self, guild_id: int, **changes: object) -> GuildSettings:
        """Change a server's settings in the database and in the cache."""
        updated = await self.storage.update_guild_settings(guild_id, **changes)
        self.cache.put(guild_id, updated)
        return updated
