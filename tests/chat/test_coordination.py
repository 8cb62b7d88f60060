"""Processes of one machine taking turns through lock files: one index build at a time, one retention per interval."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from bot.chat.coordination import LockFileSchedule, exclusive

INTERVAL = 3600.0


def test_exclusive_makes_a_second_holder_wait(tmp_path: Path) -> None:
    lock = tmp_path / "index" / "build.lock"
    order: list[str] = []
    inside = threading.Event()

    def second() -> None:
        inside.wait(5)
        with exclusive(lock):  # another open file: flock excludes it as it would another process
            order.append("second")

    thread = threading.Thread(target=second)
    thread.start()
    with exclusive(lock):
        inside.set()
        time.sleep(0.2)
        order.append("first")
    thread.join(5)
    assert order == ["first", "second"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_the_job_runs_once_per_interval_whichever_process_checks(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "bot.sqlite3.retention"
    one, other = LockFileSchedule(path, INTERVAL, clock=clock), LockFileSchedule(path, INTERVAL, clock=clock)
    runs: list[str] = []

    async def job(name: str) -> None:
        runs.append(name)

    assert await one.run_if_due(lambda: job("one")) is True
    clock.now += INTERVAL - 1
    assert await other.run_if_due(lambda: job("other")) is False
    assert await one.run_if_due(lambda: job("one")) is False
    clock.now += 1
    assert await other.run_if_due(lambda: job("other")) is True
    assert runs == ["one", "other"]


async def test_no_process_runs_the_job_while_another_is_running_it(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3.retention"
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow() -> None:
        started.set()
        await release.wait()

    running = asyncio.create_task(LockFileSchedule(path, INTERVAL).run_if_due(slow))
    await started.wait()
    called: list[bool] = []

    async def job() -> None:
        called.append(True)

    assert await LockFileSchedule(path, INTERVAL).run_if_due(job) is False
    release.set()
    assert await running is True
    assert called == []


async def test_a_failed_run_is_retried_at_the_next_check(tmp_path: Path) -> None:
    schedule = LockFileSchedule(tmp_path / "bot.sqlite3.retention", INTERVAL)

    async def broken() -> None:
        raise OSError("disque plein")

    with pytest.raises(OSError):
        await schedule.run_if_due(broken)
    runs: list[bool] = []

    async def job() -> None:
        runs.append(True)

    assert await schedule.run_if_due(job) is True and runs == [True]


async def test_an_unreadable_file_means_due(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3.retention"
    path.write_bytes(b"\xff pas une date")
    clock = Clock()

    async def job() -> None:
        pass

    assert await LockFileSchedule(path, INTERVAL, clock=clock).run_if_due(job) is True
    assert float(path.read_text()) == clock.now


async def test_without_a_usable_lock_file_the_work_runs_unlocked_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "data").write_text("un fichier, pas un dossier")
    ran: list[str] = []
    with exclusive(tmp_path / "data" / "index" / "build.lock"):
        ran.append("build")
    assert "poursuite sans verrou" in caplog.text

    async def job() -> None:
        ran.append("retention")

    schedule = LockFileSchedule(tmp_path / "data" / "bot.sqlite3.retention", INTERVAL)
    assert await schedule.run_if_due(job) is True and await schedule.run_if_due(job) is True
    assert ran == ["build", "retention", "retention"]
    assert "tâche lancée sans verrou" in caplog.text
