"""The process pool that cleans or analyses a large corpus on several cores."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

PARALLEL_FROM = 5000  # documents from which cleaning or analysing them in several processes pays off
MAX_WORKERS = 8


def default_workers(documents: int) -> int:
    """Processes worth starting for `documents`: one per core this process may run on (a container's
    CPU set, not the host's), or one for a small corpus."""
    if documents < PARALLEL_FROM:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cores, MAX_WORKERS)


def spawn_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes started afresh ("spawn"), never forked: safe beside the bot's threads, same on every OS."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
