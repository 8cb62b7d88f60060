"""How many document adds may run at once: a few per server and a few per moderator, so one person sending many
files cannot keep the bot parsing for everyone; the next add is told to wait, in French."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from bot.chat import messages
from bot.chat.server_documents import Refused

PER_SERVER = 2
PER_MEMBER = 2


class AddsInFlight:
    """The adds running now, counted by server and by moderator (one event loop: no lock needed)."""

    def __init__(self, per_server: int = PER_SERVER, per_member: int = PER_MEMBER) -> None:
        self.per_server = per_server
        self.per_member = per_member
        self._servers: Counter[int] = Counter()
        self._members: Counter[int] = Counter()

    @contextmanager
    def hold(self, guild_id: int, user_id: int) -> Iterator[None]:
        """Count one add while the block runs; raises Refused (French: wait and retry) when either is at its limit."""
        if self._servers[guild_id] >= self.per_server:
            raise Refused(messages.ADDS_BUSY_SERVER.format(count=self._servers[guild_id]))
        if self._members[user_id] >= self.per_member:
            raise Refused(messages.ADDS_BUSY_MEMBER.format(count=self._members[user_id]))
        self._servers[guild_id] += 1
        self._members[user_id] += 1
        try:
            yield
        finally:
            self._servers[guild_id] -= 1
            self._members[user_id] -= 1
            self._servers += Counter()  # drop the zeros, so idle servers take no room
            self._members += Counter()
