"""Noticing that another process of the bot saved a new index of the shared corpus, so this one swaps to it.

`/admin reindexer` rebuilds the index in the process whose shard received it and saves it beside the
database; every process watches that file (a `stat` every few seconds costs microseconds) and, when it
changed, loads it in a thread as re-indexing does, answering with the old index until then.
With PostgreSQL, the re-indexing process also announces the new index's key to every process, those of
other machines included (`IndexNotices`), which then load or rebuild that index themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.chat.reindexing import ReindexInProgress
from bot.search.index_file import IndexFileError

log = logging.getLogger(__name__)

WATCH_SECONDS = 3.0  # how often every process looks at the saved index file

FileStamp = tuple[int, int, int]  # inode, size, modification time (ns): a rename or a rewrite changes it


def file_stamp(path: Path) -> FileStamp | None:
    """What tells one version of the file from the next; None while there is no file."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


class IndexWatcher:
    """Calls `reload` once for each new version of the file at `path`.

    `reload` decides whether the file holds another corpus than the one in service (it may be this
    process's own save). When it fails, the old index keeps serving and that version of the file is not
    tried again; when this process is re-indexing (`ReindexInProgress`), the next check tries again.
    The first check always reloads, so a file saved while the process was starting is not missed.
    """

    def __init__(self, path: Path, reload: Callable[[], Awaitable[object]]) -> None:
        self.path = path
        self._reload = reload
        self._seen: FileStamp | None = None

    async def check(self) -> bool:
        """Reload if the file changed since the last check; True when `reload` ran to its end."""
        stamp = file_stamp(self.path)
        if stamp is None or stamp == self._seen:
            return False
        try:
            await self._reload()
        except ReindexInProgress:
            return False
        except IndexFileError as exc:  # e.g. saved for a corpus since changed on disk, and not re-indexed yet
            log.warning("index enregistré %s non chargé (%s) : l'index actuel reste en service", self.path, exc)
            self._seen = stamp
            return False
        except Exception:
            log.exception("index enregistré %s non chargé : l'index actuel reste en service", self.path)
            self._seen = stamp
            return False
        self._seen = stamp
        return True


class IndexNotices:
    """Runs `follow(key)` for the index keys other processes announce, one at a time, the latest first.

    A key announced while `follow` runs is followed next (older ones waiting are dropped); while this process
    re-indexes (`ReindexInProgress`), the key is tried again `retry_seconds` later.
    """

    def __init__(self, follow: Callable[[str], Awaitable[object]], *, retry_seconds: float = WATCH_SECONDS) -> None:
        self._follow = follow
        self._retry_seconds = retry_seconds
        self._wanted: str | None = None
        self._task: asyncio.Task[None] | None = None

    def announce(self, key: str) -> None:
        """Follow `key` soon (called by the database listener, on the event loop)."""
        self._wanted = key
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="index-notices")

    async def _run(self) -> None:
        while self._wanted is not None:
            key, self._wanted = self._wanted, None
            try:
                await self._follow(key)
            except ReindexInProgress:
                self._wanted = self._wanted or key
                await asyncio.sleep(self._retry_seconds)
            except Exception:
                log.exception("index annoncé %s non chargé : l'index actuel reste en service", key)

    async def close(self) -> None:
        """Stop following (a load or rebuild under way in its thread ends on its own)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
