"""The periodic upkeep of the log: idle rate-limit entries forgotten, log rows older than each server's retention
deleted once per interval by whichever process of the bot sharing the database is first due, and the questions
answered while the database was away stored as soon as it is back."""

from __future__ import annotations

import logging

from discord.ext import tasks

from bot.chat.coordination import LockFileSchedule, Schedule
from bot.chat.ratelimit import RateLimiter
from bot.config import Settings
from bot.storage import Storage

log = logging.getLogger(__name__)

RETENTION_INTERVAL_HOURS = 6.0  # the clean-up runs once per interval, by whichever process is first due
RETENTION_CHECK_MINUTES = 30.0  # how often each process looks whether it is due
RATE_ENTRIES_KEPT_SECONDS = 3600 * 24  # a member idle this long has their rate-limit entry forgotten
SPOOL_REPLAY_SECONDS = 60.0  # how often questions waiting for the database are offered to it again


def retention_schedule(settings: Settings) -> LockFileSchedule:
    """Once per `RETENTION_INTERVAL_HOURS` among the processes sharing the database file (a lock file beside it)."""
    path = settings.database_path.with_name(settings.database_path.name + ".retention")
    return LockFileSchedule(path, RETENTION_INTERVAL_HOURS * 3600)


class Retention:
    """The clean-up and the loop that runs it every `RETENTION_CHECK_MINUTES`, and the loop that replays the
    spool every `SPOOL_REPLAY_SECONDS` (`start`, `stop`)."""

    def __init__(self, storage: Storage, limiter: RateLimiter, schedule: Schedule, default_days: int) -> None:
        self.storage = storage
        self.limiter = limiter
        self.schedule = schedule
        self.default_days = default_days
        self.task = tasks.loop(minutes=RETENTION_CHECK_MINUTES)(self.run)
        self.replay_task = tasks.loop(seconds=SPOOL_REPLAY_SECONDS)(self.replay)

    async def run(self) -> None:
        """Forget idle rate-limit entries; delete log rows older than each server's retention when no process
        of the bot did within `RETENTION_INTERVAL_HOURS` (the storage logs what it deleted)."""
        self.limiter.prune(RATE_ENTRIES_KEPT_SECONDS)
        try:
            await self.schedule.run_if_due(lambda: self.storage.apply_retention(self.default_days))
        except Exception:
            log.exception("retention clean-up failed")

    async def replay(self) -> None:
        """Store the questions that wait in the spool, if any, without waiting for the next question to be logged
        (the storage logs what it stored; rows the database still refuses keep waiting)."""
        if not self.storage.spooled:
            return
        try:
            await self.storage.replay_spooled()
        except Exception:
            log.exception("replaying the questions kept while the database was away failed")

    def start(self) -> None:
        """Run the clean-up now and every `RETENTION_CHECK_MINUTES`, the replay every `SPOOL_REPLAY_SECONDS`."""
        self.task.start()
        self.replay_task.start()

    def stop(self) -> None:
        """Stop the loops (a clean-up under way is cancelled; the database keeps what it committed)."""
        for task in (self.task, self.replay_task):
            if task.is_running():
                task.cancel()
