"""Each server's own settings and the channels where the bot answers mentions.

Reads made while answering (`read_guild_settings`, `is_channel_allowed`) fall back instead of raising;
moderator writes raise, so the moderator sees the error.
"""

from __future__ import annotations

import logging
from dataclasses import fields
from typing import Any

from bot.storage.connection import DATABASE_ERRORS, Database
from bot.storage.records import GuildSettings, to_db_time, utc_now

logger = logging.getLogger("bot.storage")


async def read_guild_settings(db: Database, guild_id: int) -> GuildSettings | None:
    """A server's settings (defaults when never set); None when the database cannot be read."""
    try:
        row = await db.fetchone(
            "SELECT ephemeral, use_threads, rate_limit_count, rate_limit_seconds, "
            "retention_days, forum_auto FROM guild_settings WHERE guild_id = ?",
            (guild_id,),
        )
    except DATABASE_ERRORS as exc:
        logger.warning("réglages du serveur %s illisibles (%s) ; réglages par défaut appliqués", guild_id, exc)
        return None
    if row is None:
        return GuildSettings(guild_id=guild_id)
    return GuildSettings(
        guild_id=guild_id,
        ephemeral=bool(row[0]),
        use_threads=bool(row[1]),
        rate_limit_count=row[2],
        rate_limit_seconds=row[3],
        retention_days=row[4],
        forum_auto=bool(row[5]),
    )


async def update_guild_settings(db: Database, guild_id: int, **changes: Any) -> GuildSettings:
    """Change some of a server's settings and return them all; ValueError on bad input."""
    allowed = {f.name for f in fields(GuildSettings)} - {"guild_id"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"unknown guild setting(s): {', '.join(sorted(unknown))}")
    current = await read_guild_settings(db, guild_id) or GuildSettings(guild_id=guild_id)
    for key, value in changes.items():
        setattr(current, key, _check_setting(key, value))
    await db.execute(
        "INSERT INTO guild_settings (guild_id, ephemeral, use_threads, rate_limit_count, "
        "rate_limit_seconds, retention_days, forum_auto, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id) DO UPDATE SET ephemeral = excluded.ephemeral, "
        "use_threads = excluded.use_threads, "
        "rate_limit_count = excluded.rate_limit_count, "
        "rate_limit_seconds = excluded.rate_limit_seconds, "
        "retention_days = excluded.retention_days, forum_auto = excluded.forum_auto, "
        "updated_at = excluded.updated_at",
        (
            guild_id,
            int(current.ephemeral),
            int(current.use_threads),
            current.rate_limit_count,
            current.rate_limit_seconds,
            current.retention_days,
            int(current.forum_auto),
            to_db_time(utc_now()),
        ),
    )
    return current


def _check_setting(key: str, value: Any) -> Any:
    """Validate one guild setting value (None restores the global default where allowed)."""
    if key in ("ephemeral", "use_threads", "forum_auto"):
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be a bool")
        return value
    if value is None:
        return None
    if key == "rate_limit_count":
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError("rate_limit_count must be a positive int")
        return value
    if key == "rate_limit_seconds":
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError("rate_limit_seconds must be a positive number")
        return float(value)
    if key == "retention_days":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError("retention_days must be an int >= 0")
        return value
    raise ValueError(f"unknown guild setting: {key}")


async def is_channel_allowed(db: Database, guild_id: int, channel_id: int) -> bool:
    """Whether mentions are answered in this channel (False if the database is unreadable)."""
    try:
        row = await db.fetchone("SELECT 1 FROM channels WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id))
    except DATABASE_ERRORS as exc:
        logger.warning("salons autorisés du serveur %s illisibles (%s) ; mention ignorée", guild_id, exc)
        return False
    return row is not None


async def add_channel(db: Database, guild_id: int, channel_id: int) -> bool:
    """Allow mentions in a channel; False if it was already allowed."""
    changed = await db.execute(
        "INSERT INTO channels (guild_id, channel_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (guild_id, channel_id, to_db_time(utc_now())),
    )
    return changed > 0


async def remove_channel(db: Database, guild_id: int, channel_id: int) -> bool:
    """Stop answering mentions in a channel; False if it was not allowed."""
    changed = await db.execute("DELETE FROM channels WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id))
    return changed > 0


async def list_channels(db: Database, guild_id: int) -> list[int]:
    """The channels where mentions are answered in that server, in the order added."""
    rows = await db.fetchall(
        "SELECT channel_id FROM channels WHERE guild_id = ? ORDER BY added_at, channel_id", (guild_id,)
    )
    return [int(r[0]) for r in rows]
