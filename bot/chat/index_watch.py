"""Noticing that another process of the bot saved a new index of the shared corpus, so this one swaps to it.

`/admin reindexer` rebuilds the index in the process whose shard received it and saves it beside the
database; every process watches that file (a `stat` every few seconds costs microseconds) and, when it
changed, loads it in a thread as re-indexing does, answering with the old index until then.
"""

from __future__ import annotations

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
