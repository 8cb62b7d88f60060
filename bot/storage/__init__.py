"""The query log and server data: SQLite through aiosqlite; nothing else in the bot writes SQL."""

from bot.storage.database import (
    GuildSettings,
    GuildStats,
    QueryRecord,
    QueryRow,
    Storage,
    StorageError,
)

__all__ = ["GuildSettings", "GuildStats", "QueryRecord", "QueryRow", "Storage", "StorageError"]
