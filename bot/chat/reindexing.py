"""Re-indexing while the bot serves: one rebuild at a time, in a thread, the old engine answering meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.search.engine import Engine


class ReindexInProgress(RuntimeError):
    """Raised when a re-indexing is requested while another one is running."""


class Reindexer:
    """Runs `build` (blocking: reads the corpus, builds the index) off the event loop, one call at a time.

    A second request while one runs is refused rather than queued: the moderator is told to
    retry, and two builds never compete for the machine's memory.
    """

    def __init__(self, build: Callable[[], Engine]) -> None:
        self._build = build
        self._lock = asyncio.Lock()

    @property
    def running(self) -> bool:
        """True while a rebuild is under way."""
        return self._lock.locked()

    async def rebuild(self) -> Engine:
        """A fresh engine from the corpus on disk; raises ReindexInProgress, or whatever `build` raised."""
        if self._lock.locked():
            raise ReindexInProgress()
        async with self._lock:
            return await asyncio.to_thread(self._build)
