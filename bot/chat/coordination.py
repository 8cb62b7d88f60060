"""How the processes of one bot on one machine take turns, through lock files beside the database.

Processes sharing the folder of `database.path` run on one machine, so `flock` locks are how they
agree: one index build at a time (`exclusive`), and one retention clean-up per interval whichever
process gets there first (`LockFileSchedule`). With PostgreSQL shared by several machines, the storage
already keeps two clean-ups from overlapping (an advisory lock); once per interval across machines would
be another `Schedule` over the database.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, Protocol

try:
    import fcntl
except ImportError:  # no flock (Windows): a single bot process is assumed
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold the lock of file `path` for the block, waiting while another process holds it (blocking: use a thread).

    The lock goes with the process: one that is killed never leaves it held. A lock file that cannot be
    created (read-only folder) is warned about and the block runs unlocked, as a lone process would.
    """
    try:
        handle = _open_locked(path, wait=True)
    except OSError as exc:
        log.warning("verrou %s impossible à prendre (%s) : poursuite sans verrou", path, exc.strerror or exc)
        handle = None
    try:
        yield
    finally:
        if handle is not None:
            handle.close()  # releases the lock


class Schedule(Protocol):
    """Runs a periodic job at most once per interval among every process of the bot."""

    async def run_if_due(self, job: Callable[[], Awaitable[object]]) -> bool:
        """Run `job` when no process ran it within the interval and none is running it; True if it ran."""
        ...


class LockFileSchedule:
    """A `Schedule` for processes of one machine: a lock file records when the job last succeeded.

    A process runs the job only if it can take the file's lock at once (else another process is running it)
    and the time in the file is at least `interval` seconds old; a failed run is not recorded, so the next
    check of any process retries it. Without a usable lock file (read-only folder) the job runs at every
    check, with a warning, as for a lone process.
    """

    def __init__(self, path: Path, interval: float, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.interval = interval
        self.clock = clock

    async def run_if_due(self, job: Callable[[], Awaitable[object]]) -> bool:
        try:
            handle = _open_locked(self.path, wait=False)
        except OSError as exc:
            log.warning(
                "verrou %s impossible à prendre (%s) : tâche lancée sans verrou", self.path, exc.strerror or exc
            )
            await job()
            return True
        if handle is None:
            return False  # another process holds it: it is running the job now
        with handle:  # closing it releases the lock
            try:
                last = float(handle.read().decode("ascii").strip() or 0)
            except ValueError:
                last = 0.0  # unreadable: run it, and write a good time after
            if self.clock() - last < self.interval:
                return False
            await job()
            handle.seek(0)
            handle.truncate()
            handle.write(f"{self.clock():.3f}\n".encode("ascii"))
            handle.flush()
        return True


def _open_locked(path: Path, *, wait: bool) -> IO[bytes] | None:
    """The file open for reading and writing under its exclusive lock, or None when `wait` is false and
    another process holds it; raises OSError when it cannot be created or opened."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+b")
    if fcntl is not None:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        except BaseException:
            handle.close()
            raise
    return handle
