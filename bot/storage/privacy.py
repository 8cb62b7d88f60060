"""Deleting logged questions: a moderator's purge, the periodic retention, and forgetting one user.

Votes on a deleted question go with it (ON DELETE CASCADE).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.storage.connection import DATABASE_ERRORS, Database
from bot.storage.records import to_db_time, utc_now

logger = logging.getLogger("bot.storage")

# A retention step that fails: the database (locked, full, closed) or a number of days no date can reach.
_RETENTION_ERRORS = (*DATABASE_ERRORS, OverflowError)


async def purge(db: Database, guild_id: int, older_than_days: int, *, now: datetime | None = None) -> int:
    """Delete that server's questions (and their votes) older than n days; returns count."""
    if older_than_days < 0:
        raise ValueError("older_than_days must be >= 0")
    cutoff = (now or utc_now()) - timedelta(days=older_than_days)
    return await db.execute("DELETE FROM queries WHERE guild_id = ? AND created_at < ?", (guild_id, to_db_time(cutoff)))


async def apply_retention(db: Database, default_days: int, *, now: datetime | None = None) -> int:
    """Delete rows older than each server's retention (its own, else `default_days`).

    0 days means keep forever. Rows without a server (command line) follow `default_days`.
    Processes sharing one database run it one at a time: a process that finds it running elsewhere skips
    this round. Returns the number of questions deleted (their votes go with them); never raises for
    database errors.
    """
    try:
        async with db.exclusive("retention") as granted:
            if not granted:
                logger.info("rétention : déjà en cours dans un autre processus ; ce passage est sauté")
                return 0
            return await _delete_expired(db, default_days, now or utc_now())
    except DATABASE_ERRORS as exc:
        logger.warning("rétention : base de données indisponible (%s) ; nouvel essai au prochain passage", exc)
        return 0


async def _delete_expired(db: Database, default_days: int, now: datetime) -> int:
    """The retention's steps: the default, then each server with its own retention.

    Each step stands alone: one that fails is logged and the others still run.
    """
    deleted = 0
    if default_days > 0:
        try:
            count = await db.execute(
                "DELETE FROM queries WHERE created_at < ? AND (guild_id IS NULL OR guild_id "
                "NOT IN (SELECT guild_id FROM guild_settings WHERE retention_days IS NOT NULL))",
                (to_db_time(now - timedelta(days=default_days)),),
            )
            deleted += count
        except _RETENTION_ERRORS as exc:
            logger.warning(
                "rétention : la durée par défaut (%s jours) n'a pas pu être appliquée (%s) ; "
                "les serveurs qui ont leur propre durée sont traités quand même",
                default_days,
                exc,
            )
    try:
        own = await db.fetchall(
            "SELECT guild_id, retention_days FROM guild_settings "
            "WHERE retention_days IS NOT NULL AND retention_days > 0"
        )
    except DATABASE_ERRORS as exc:
        logger.warning("rétention : les durées propres aux serveurs sont illisibles (%s)", exc)
        own = []
    for guild_id, days in own:
        try:
            count = await db.execute(
                "DELETE FROM queries WHERE guild_id = ? AND created_at < ?",
                (guild_id, to_db_time(now - timedelta(days=int(days)))),
            )
            deleted += count
        except _RETENTION_ERRORS as exc:
            logger.warning(
                "rétention du serveur %s (%s jours) : échec (%s) ; les autres serveurs sont traités quand même",
                guild_id,
                days,
                exc,
            )
    if deleted:
        logger.info("rétention : %d question(s) supprimée(s) du journal", deleted)
    return deleted


async def forget_user(db: Database, guild_id: int, user_id: int) -> tuple[int, int]:
    """Delete a user's questions (with every vote on them) and their votes in that server.

    Returns (questions deleted, votes cast by that user deleted); both in one transaction.
    """
    async with db.transaction() as tx:
        votes = await tx.execute(
            "DELETE FROM votes WHERE user_id = ? AND query_id IN (SELECT id FROM queries WHERE guild_id = ?)",
            (user_id, guild_id),
        )
        queries = await tx.execute("DELETE FROM queries WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
    return queries, votes
