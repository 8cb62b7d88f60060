"""Questions the database could not take (server down, file locked), kept in a local file until it can.

The spool is an append-only JSON Lines file in the data folder, one row of `queries` a line, each written and
fsynced before the answer path goes on. Each row carries an id of its own (`spool_id`, unique in the table),
so replaying stores a row once even when it is replayed twice (a crash between the insert and the file's
clean-up, two processes sharing the folder). Without a folder (an in-memory database) rows wait in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: one process per data folder
    fcntl = None  # type: ignore[assignment]

from bot.storage.connection import DATABASE_ERRORS

logger = logging.getLogger("bot.storage")

SPOOL_NAME = "queries-spool.jsonl"
PRIVATE_MODE = 0o600  # the rows hold user ids and questions

Row = dict[str, Any]
Insert = Callable[[Row], Awaitable[object]]


class Spool:
    """Rows waiting for the database, in the file `path` (None: in memory)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: list[str] = []
        self._replaying = asyncio.Lock()
        self.waiting = 0
        if path is not None and path.exists():
            try:
                self.waiting = len(_read(path))
            except OSError as exc:  # the rows stay in the file for a later start; this one answers anyway
                logger.error("journal des questions : attente illisible dans %s (%s)", path, exc)

    async def keep(self, row: Row) -> None:
        """Add `row` with a new `spool_id`, on disk before returning; a failure is logged, never raised."""
        line = json.dumps({**row, "spool_id": uuid.uuid4().hex}, separators=(",", ":"))
        try:
            if self.path is None:
                self._memory.append(line)
            else:
                await asyncio.to_thread(_append, self.path, line)
        except OSError as exc:
            logger.error("journal des questions : question perdue, écriture impossible dans %s (%s)", self.path, exc)
            return
        self.waiting += 1
        logger.warning(
            "journal des questions : base de données injoignable, question gardée dans %s (%d en attente)",
            self.path or "la mémoire",
            self.waiting,
        )

    async def waiting_for(self, guild_id: int) -> int:
        """How many of the waiting rows are questions of server `guild_id` (those written by this process or by
        another sharing the folder); 0 when the spool cannot be read."""
        if self.path is None:
            lines = self._memory[:]
        elif not self.path.exists():
            return 0
        else:
            try:
                lines = await asyncio.to_thread(_read, self.path)
            except OSError:
                return 0
        return sum(1 for line in lines if _guild_of(line) == guild_id)

    async def replay(self, insert: Insert) -> int:
        """Hand each waiting row, oldest first, to `insert` until one fails; rows handed over leave the spool.

        Returns how many were handed over (0 when another replay is running or the database is still away).
        """
        if self._replaying.locked():
            return 0
        try:
            async with self._replaying:
                return await self._replay(insert)
        except OSError as exc:
            logger.error("journal des questions : attente illisible dans %s (%s)", self.path, exc)
            return 0

    async def _replay(self, insert: Insert) -> int:
        lines = self._memory[:] if self.path is None else await asyncio.to_thread(_read, self.path)
        handled: set[str] = set()
        for line in lines:
            try:
                await insert(json.loads(line))
            except DATABASE_ERRORS as exc:
                if not isinstance(exc, json.JSONDecodeError):
                    logger.warning("journal des questions : relecture interrompue (%s : %s)", type(exc).__name__, exc)
                    break
                logger.error("journal des questions : ligne illisible dans %s, abandonnée", self.path)
            except (KeyError, TypeError):
                logger.error("journal des questions : ligne incomplète dans %s, abandonnée", self.path)
            handled.add(line)
        if handled:
            if self.path is None:
                self._memory = [line for line in self._memory if line not in handled]
                self.waiting = len(self._memory)
            else:
                self.waiting = await asyncio.to_thread(_drop, self.path, handled)
            logger.info(
                "journal des questions : %d question(s) en attente enregistrée(s) dans la base (%d encore en attente)",
                len(handled),
                self.waiting,
            )
        return len(handled)


def _guild_of(line: str) -> object:
    """The server of a waiting row (None for an unreadable line)."""
    try:
        row = json.loads(line)
    except ValueError:
        return None
    return row.get("guild_id") if isinstance(row, dict) else None


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[int]:
    """Hold the data folder's lock (its descriptor is yielded): processes sharing the folder add to and clean
    the spool one at a time."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # releases the lock


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent) as folder:
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_MODE)
        try:
            if os.fstat(fd).st_size and _last_byte(path) != b"\n":
                line = "\n" + line  # a line cut short by a crash stays apart from this one
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            os.fsync(folder)  # the new file's name is on disk too


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


def _read(path: Path) -> list[str]:
    """The waiting lines."""
    with _locked(path.parent), contextlib.suppress(FileNotFoundError):
        return [line for line in path.read_text("utf-8", "replace").splitlines() if line.strip()]
    return []


def _drop(path: Path, handled: set[str]) -> int:
    """Remove the lines replayed (by this or another process), keeping what was added meanwhile; how many remain."""
    with _locked(path.parent) as folder:
        try:
            lines = [line for line in path.read_text("utf-8", "replace").splitlines() if line.strip()]
        except FileNotFoundError:
            return 0
        lines = [line for line in lines if line not in handled]
        if not lines:
            path.unlink()
            return 0
        spare = path.with_name(path.name + ".new")
        fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
        try:
            os.write(fd, "".join(line + "\n" for line in lines).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(spare, path)
        os.fsync(folder)
        return len(lines)
