"""The process pool that cleans or analyses a large corpus on several cores, or re-indexes it beside the bot, and
the rule every child process of the bot follows: it dies with its parent, however the parent ends."""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.pool
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

_PR_SET_PDEATHSIG = 1
PARALLEL_FROM = 5000  # documents from which cleaning or analysing them in several processes pays off
MAX_WORKERS = 8


def default_workers(documents: int) -> int:
    """Processes worth starting for `documents`: one per core this process may run on (a container's
    CPU set, not the host's), or one for a small corpus."""
    if documents < PARALLEL_FROM:
        return 1
    return min(available_cores(), MAX_WORKERS)


def available_cores() -> int:
    """The cores this process may run on: a container's CPU set, not the host's."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def spawn_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes started afresh ("spawn"), never forked: safe beside the bot's threads, same on every OS.
    Each dies with the process that started it (`die_with_parent`), so a killed bot leaves no worker behind."""
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


def spawn_terminable_pool(workers: int) -> multiprocessing.pool.Pool:
    """The same workers as `spawn_pool`, in a pool whose `terminate` ends them at once, work in flight included:
    for work that is only lost when cut short (`bot.search.vector_build`)."""
    return multiprocessing.get_context("spawn").Pool(workers, initializer=die_with_parent, initargs=(os.getpid(),))


def die_with_parent(parent: int) -> None:
    """In a child process: end when `parent` ends, however it ends (a SIGKILL included): a parent-death signal on
    Linux, else a watchdog thread. Ends at once when the parent is already gone."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent ended before the signal was armed
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
