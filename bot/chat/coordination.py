"""How the processes of one bot on one machine take turns, through lock files beside the database.

With SQLite, every shard process runs on the machine that holds the database file, so `flock` locks
are how they agree: one index build at a time (`exclusive`), and one retention clean-up per interval
whichever process gets there first (`LockFileSchedule`). A database shared by several machines will
need its own locks (PostgreSQL advisory locks) behind the same `Schedule` interface.
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

    The lock goes with the process: one that is killed never leaves it held.
    """
    with _locked_file(path, wait=True):
        yield


class Schedule(Protocol):
    """Runs a periodic job at most once per interval among every process of the bot."""

    async def run_if_due(self, job: Callable[[], Awaitable[object]]) -> bool:
        """Run `job` when no process ran it within the interval and none is running it; True if it ran."""
        ...


class LockFileSchedule:
    """A `Schedule` for processes of one machine: a lock file records when the job last succeeded.

    A process runs the job only if it can take the file's lock at once (else another process is running it)
    and the time in the file is at least `interval` seconds old; a failed run is not recorded, so the next
    check of any process retries it.
    """

    def __init__(self, path: Path, interval: float, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.interval = interval
        self.clock = clock

    async def run_if_due(self, job: Callable[[], Awaitable[object]]) -> bool:
        with _locked_file(self.path, wait=False) as handle:
            if handle is None:
                return False  # another process holds it: it is running the job now
            handle.seek(0)
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


@contextlib.contextmanager
def _locked_file(path: Path, *, wait: bool) -> Iterator[IO[bytes] | None]:
    """The file open for reading and writing under its exclusive lock, or None when `wait` is false and
    another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+b") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield None
                return
        yield handle  # closing the file releases the lock
