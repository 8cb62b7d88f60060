"""Opening and closing the database: private files, a lock held by another process, a cancelled close."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage import Storage, StorageError
from bot.storage.schema import SCHEMA_VERSION
from tests.conftest import REPO
from tests.storage.factories import make_v1_file, rec


def file_mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_new_database_and_its_wal_files_are_readable_by_the_owner_only(db_path: Path) -> None:
    """The file holds user ids and questions: no other account of the machine may read it."""
    async with await Storage.open(db_path) as storage:
        assert await storage.log_query(rec()) is not None
        wal, shm = Path(f"{db_path}-wal"), Path(f"{db_path}-shm")
        assert wal.exists() and shm.exists()  # present while the connection is open
        assert (file_mode(db_path), file_mode(wal), file_mode(shm)) == (0o600, 0o600, 0o600)
    assert file_mode(db_path) == 0o600


async def test_existing_database_keeps_its_mode(db_path: Path) -> None:
    make_v1_file(db_path)
    os.chmod(db_path, 0o640)  # the operator's choice, e.g. readable by a backup group
    async with await Storage.open(db_path) as storage:
        assert await storage.log_query(rec()) is not None
    assert file_mode(db_path) == 0o640


async def test_opening_waits_for_a_writer_of_another_process_before_switching_to_wal(db_path: Path) -> None:
    """SQLite refuses the switch to WAL at once, without waiting, while another connection holds a write lock
    (two processes opening a new file together); opening retries instead of failing."""
    make_v1_file(db_path)
    writer = sqlite3.connect(db_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # holds a write lock until the rollback
    asyncio.get_running_loop().call_later(0.3, writer.rollback)
    try:
        storage = await Storage.open(db_path)
        try:
            assert await storage.schema_version() == SCHEMA_VERSION
        finally:
            await storage.close()
    finally:
        writer.close()


async def test_close_cancelled_midway_still_stops_the_connection_thread(db_path: Path) -> None:
    storage = await Storage.open(db_path)
    thread = storage._db.conn._thread
    closing = asyncio.create_task(storage.close())
    await asyncio.sleep(0)  # close() is now waiting on its first statement
    closing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await closing
    for _ in range(100):
        if not thread.is_alive():
            break
        await asyncio.sleep(0.01)
    assert not thread.is_alive()


_PR_CAPBSET_DROP, _CAP_DAC_OVERRIDE = 24, 1
_OPEN = """
import asyncio, sys
from bot.storage import Storage, StorageError
try:
    asyncio.run(Storage.open(sys.argv[1]))
except StorageError as exc:
    print(exc)
    sys.exit(3)
"""


def _without_permission_override() -> None:
    """In the child, before it runs Python: even as root, file permissions apply (no CAP_DAC_OVERRIDE)."""
    if os.geteuid() == 0 and ctypes.CDLL(None, use_errno=True).prctl(_PR_CAPBSET_DROP, _CAP_DAC_OVERRIDE, 0, 0, 0):
        os._exit(77)


def open_as_the_bot_would(path: Path) -> subprocess.CompletedProcess[str]:
    """`Storage.open(path)` in a process that file permissions bind, root or not."""
    result = subprocess.run(
        [sys.executable, "-c", _OPEN, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_without_permission_override,
    )
    if result.returncode == 77:
        pytest.skip("root here cannot give up its right to write anywhere")
    return result


@pytest.mark.parametrize("existing", [False, True], ids=["new database", "existing database"])
async def test_a_read_only_data_folder_is_named_with_the_reason_in_french(tmp_path: Path, existing: bool) -> None:
    folder = tmp_path / "data"
    if existing:
        async with await Storage.open(folder / "bot.sqlite3") as storage:
            assert await storage.log_query(rec()) is not None
    else:
        folder.mkdir()
    folder.chmod(0o500)
    try:
        result = open_as_the_bot_would(folder / "bot.sqlite3")
    finally:
        folder.chmod(0o700)
    assert result.returncode == 3, result.stderr
    assert f"dossier des données {folder} inutilisable (permission refusée" in result.stdout
    assert "Traceback" not in result.stderr


async def test_a_file_where_the_data_folder_should_be_is_named_with_the_reason_in_french(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("un fichier, pas un dossier")
    for path in (blocker / "bot.sqlite3", blocker / "sous-dossier" / "bot.sqlite3"):
        with pytest.raises(StorageError) as refused:
            await Storage.open(path)
        message = str(refused.value)
        assert message.startswith(f"dossier des données {path.parent} inutilisable (")
        assert "un fichier se trouve là où un dossier est attendu" in message
