"""Re-indexing while the bot serves: one rebuild (or reload) at a time, in a thread, the old engine answering."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from bot.search.engine import Engine

T = TypeVar("T")


class ReindexInProgress(RuntimeError):
    """Raised when a re-indexing is requested while another one (or a reload of the saved index) is running."""


class Reindexer:
    """Runs `build` (blocking: reads the corpus, builds the index) off the event loop, one call at a time.

    A second request while one runs is refused rather than queued: the moderator is told to
    retry, and two builds never compete for the machine's memory. Loading an index another process
    saved (`run`) takes the same turn, so it never overlaps a rebuild of this process.
    """

    def __init__(self, build: Callable[[], Engine]) -> None:
        self._build = build
        self._lock = asyncio.Lock()

    @property
    def running(self) -> bool:
        """True while a rebuild or a reload is under way."""
        return self._lock.locked()

    async def rebuild(self) -> Engine:
        """A fresh engine from the corpus on disk; raises ReindexInProgress, or whatever `build` raised."""
        return await self.run(self._build)

    async def run(self, job: Callable[[], T]) -> T:
        """Run `job` (blocking) in a thread unless another one runs; raises ReindexInProgress, or what `job` raised."""
        if self._lock.locked():
            raise ReindexInProgress()
        async with self._lock:
            return await asyncio.to_thread(job)
