"""What went over the wire: every REST request and gateway frame, with timings, and waiting on them.

Records never hold the bot token (`redact`), so a failing test may print them freely.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class RecordedRequest:
    """One REST request the bot sent, and what the stand-in answered."""

    at: float
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    files: list[dict[str, Any]]
    status: int = 0
    route: str = ""
    fault: str | None = None

    @property
    def content_type(self) -> str:
        """The request's Content-Type header."""
        return self.headers.get("Content-Type", "")


@dataclass
class GatewayFrame:
    """One gateway payload, in either direction, on a numbered connection (and its shard once identified)."""

    at: float
    direction: str  # "recv" (from the bot) or "send" (to the bot)
    op: int
    event: str | None
    data: Any
    connection: int
    shard: tuple[int, int] | None = None  # (shard id, shard count) the connection identified with


def redact(data: Any) -> Any:
    """Copy a gateway payload without its token, so records never hold a secret."""
    if isinstance(data, dict) and "token" in data:
        return {**data, "token": "<redacted>"}
    return data


class Recorder:
    """The log of REST requests, gateway frames, IDENTIFY and RESUME payloads; wakes up whoever waits on it."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.frames: list[GatewayFrame] = []
        self.identify_payloads: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    def notify(self) -> None:
        """Wake every `wait_until` so it checks its condition again."""
        self._changed.set()
        self._changed = asyncio.Event()

    def frame(
        self, direction: str, op: int, event: str | None, data: Any, connection: int, shard: tuple[int, int] | None
    ) -> None:
        """Record one gateway payload."""
        self.frames.append(GatewayFrame(time.monotonic(), direction, op, event, data, connection, shard))
        self.notify()

    def requests_to(self, route: str) -> list[RecordedRequest]:
        """Recorded requests for a route name such as `channel_message` or `webhook_followup`."""
        return [r for r in self.requests if r.route == route]

    def events_sent(self, event: str, *, connection: int | None = None, shard: int | None = None) -> list[GatewayFrame]:
        """DISPATCH frames of one event type sent to the bot: on every connection, or on one, or to one shard id."""
        return [
            f
            for f in self.frames
            if f.direction == "send"
            and f.event == event
            and (connection is None or f.connection == connection)
            and (shard is None or (f.shard is not None and f.shard[0] == shard))
        ]

    async def wait_until(self, predicate: Callable[[], T], *, timeout: float = 20.0, what: str = "condition") -> T:
        """Wait until `predicate()` is truthy and return its value; fail with `what` after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"stand-in: timed out after {timeout:.0f}s waiting for {what}")
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=min(remaining, 0.5))
