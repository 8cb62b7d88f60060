"""Per-(server, user) sliding-window rate limit for questions: pure, with an injectable clock; and the policy that
picks each server's limit."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable

from bot.storage import GuildSettings


class RateLimiter:
    """Allows at most `count` attempts per `window` seconds and per key (a sliding window).

    The clock is injectable so tests can move time by hand. Refused attempts are not
    recorded, so a user who keeps trying is not locked out longer than the window. Only
    timestamps are kept, pruned daily; `/oubli` leaves them, or it would lift the limit.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = {}

    def hit(self, key: Hashable, count: int, window: float) -> float:
        """Record one attempt for `key`; return 0.0 when allowed, else the seconds to wait."""
        if count <= 0 or window <= 0:
            return 0.0
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= count:
            # The oldest attempt still inside the window frees a slot when it ages out.
            return max(hits[len(hits) - count] + window - now, 0.0) or 1e-3
        hits.append(now)
        return 0.0

    def prune(self, window: float) -> int:
        """Remove keys whose attempts are all older than `window` seconds; returns how many."""
        now = self._clock()
        stale = [key for key, hits in self._hits.items() if not hits or hits[-1] <= now - window]
        for key in stale:
            del self._hits[key]
        return len(stale)

    def __len__(self) -> int:
        return len(self._hits)


class QuestionLimit:
    """How many questions a member may ask in a while: the server's own limit, else the bot's default."""

    def __init__(self, limiter: RateLimiter, default_count: int, default_seconds: float) -> None:
        self.limiter = limiter
        self.default_count = default_count
        self.default_seconds = default_seconds

    def hit(self, settings: GuildSettings, user_id: int) -> float:
        """Count one question for this member on this server; seconds to wait, 0.0 when allowed."""
        count = settings.rate_limit_count or self.default_count
        window = settings.rate_limit_seconds or self.default_seconds
        return self.limiter.hit((settings.guild_id, user_id), count, window)
