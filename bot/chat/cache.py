"""A small cache whose entries expire, for what other processes of the bot may change in the database."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    """Values kept for `ttl` seconds after they were stored, then read again by the caller."""

    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        """The value stored under `key` less than `ttl` seconds ago, else None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored, value = entry
        if self.clock() - stored >= self.ttl:
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        """Store `value` under `key` from now."""
        self._entries[key] = (self.clock(), value)
