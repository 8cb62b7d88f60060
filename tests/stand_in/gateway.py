"""The stand-in's gateway websocket: HELLO, IDENTIFY/READY, heartbeats, RESUME with replay, DISPATCH of events.

Frames are zlib-stream compressed when the client asks for it (discord.py does), plain JSON text otherwise.
Sharding works as on Discord: a connection identifies as shard `[id, count]` (`[0, 1]` when it says nothing)
and receives only the events of the guilds with `(guild_id >> 22) % count == id`; DMs go to shard 0.
Several connections, from one client or several processes, may be live at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .recorder import Recorder, redact
from .state import API_VERSION, DiscordState, guild_shard

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

CLOSE_INVALID_SHARD = 4010


@dataclass
class Session:
    """A gateway session: its id, its shard, sequence and every dispatched event (for RESUME replays)."""

    id: str
    shard: tuple[int, int] = (0, 1)  # (shard id, shard count)
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)

    def covers(self, guild_id: int) -> bool:
        """Whether this session's shard receives the guild's events (guild id 0: DMs, on shard 0)."""
        shard_id, count = self.shard
        return guild_shard(guild_id, count) == shard_id


class Connection:
    """One open gateway websocket."""

    def __init__(self, number: int, ws: web.WebSocketResponse, compress: str | None, path: str) -> None:
        self.number = number
        self.ws = ws
        self.path = path
        self.compress = compress
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self.session: Session | None = None
        self.lock = asyncio.Lock()
        self.heartbeats: list[float] = []
        self.pending_pings: list[float] = []
        self.ping_rtts: list[float] = []

    @property
    def shard(self) -> tuple[int, int] | None:
        """The shard this connection identified or resumed as (None before that)."""
        return self.session.shard if self.session else None

    async def send(self, payload: dict[str, Any]) -> None:
        """Send one payload, compressed on the connection's zlib stream if it asked for one."""
        raw = json.dumps(payload).encode()
        async with self.lock:
            if self.ws.closed:
                raise ConnectionResetError("gateway connection closed")
            if self._zlib is not None:
                await self.ws.send_bytes(self._zlib.compress(raw) + self._zlib.flush(zlib.Z_SYNC_FLUSH))
            else:
                await self.ws.send_str(raw.decode())


class Gateway:
    """Serves gateway websockets for the state's bot, keeping sessions so a dropped bot can resume."""

    def __init__(self, state: DiscordState, recorder: Recorder, *, heartbeat_interval: float = 41.25) -> None:
        self.state = state
        self.recorder = recorder
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_ack_delay = 0.0
        self.connections: list[Connection] = []
        self.sessions: dict[str, Session] = {}
        self.current: list[Session] = []  # sessions events go to, oldest IDENTIFY first; one per shard
        self._numbers = itertools.count(1)

    @property
    def session(self) -> Session | None:
        """The session of the latest IDENTIFY still current."""
        return self.current[-1] if self.current else None

    def session_for(self, guild_id: int) -> Session | None:
        """The current session whose shard receives a guild's events (guild id 0: DMs); the newest if several do."""
        return next((s for s in reversed(self.current) if s.covers(guild_id)), None)

    # ------------------------------------------------------------------ serving

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """Handle one websocket from HELLO until it closes."""
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        compress = request.query.get("compress")
        if compress not in (None, "zlib-stream"):
            compress = None  # unknown compression (zstd-stream): plain text frames, which discord.py also reads
        conn = Connection(next(self._numbers), ws, compress, request.path)
        self.connections.append(conn)
        try:
            hello = {"op": OP_HELLO, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}}
            await self._send(conn, hello, record_data=None)
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    payload = json.loads(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    payload = json.loads(zlib.decompress(msg.data))
                else:
                    break
                await self._on_payload(conn, payload, f"ws://{request.host}")
        except (ConnectionResetError, RuntimeError):
            pass
        finally:
            self.recorder.notify()
        return ws

    async def close(self) -> None:
        """Close every websocket (going away)."""
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001)

    async def _send(self, conn: Connection, payload: dict[str, Any], *, record_data: Any) -> float:
        """Send and record a payload; returns when it left."""
        await conn.send(payload)
        sent_at = time.monotonic()
        self._record("send", conn, int(payload["op"]), payload.get("t"), record_data)
        return sent_at

    def _record(self, direction: str, conn: Connection, op: int, event: str | None, data: Any) -> None:
        self.recorder.frame(direction, op, event, data, conn.number, conn.shard)

    async def _on_payload(self, conn: Connection, payload: dict[str, Any], base_url: str) -> None:
        op = payload.get("op")
        data = payload.get("d")
        now = time.monotonic()
        if op == OP_HEARTBEAT and conn.pending_pings:
            conn.ping_rtts.append(now - conn.pending_pings.pop(0))
        elif op == OP_HEARTBEAT:
            conn.heartbeats.append(now)
        self._record("recv", conn, int(op or 0), None, redact(data))
        if op == OP_HEARTBEAT:
            if self.heartbeat_ack_delay:
                await asyncio.sleep(self.heartbeat_ack_delay)
            await conn.send({"op": OP_HEARTBEAT_ACK})
        elif op == OP_IDENTIFY:
            await self._identify(conn, data, base_url)
        elif op == OP_RESUME:
            await self._resume(conn, data)
        elif op == OP_REQUEST_MEMBERS:
            guild = self.state.guilds.get(int(data["guild_id"]))
            if guild is not None and conn.session is not None:
                chunk = {
                    "guild_id": str(guild.id),
                    "members": [m.to_dict() for m in guild.members.values()],
                    "chunk_index": 0,
                    "chunk_count": 1,
                    "not_found": [],
                }
                if data.get("nonce"):
                    chunk["nonce"] = data["nonce"]
                await self.dispatch("GUILD_MEMBERS_CHUNK", chunk, session=conn.session)

    async def _identify(self, conn: Connection, data: dict[str, Any], base_url: str) -> None:
        if data.get("token") != self.state.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        self.recorder.identify_payloads.append(redact(data))
        shard_id, count = data.get("shard") or (0, 1)
        if not 0 <= shard_id < count:
            await conn.ws.close(code=CLOSE_INVALID_SHARD, message=b"Invalid shard.")
            return
        session = Session(secrets.token_hex(16), (shard_id, count))
        self.sessions[session.id] = session
        self.current = [s for s in self.current if s.shard != session.shard] + [session]
        conn.session = session
        state = self.state
        guilds = [g for g in state.guilds.values() if session.covers(g.id)]
        ready = {
            "v": API_VERSION,
            "user": {**state.bot_user.to_dict(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": f"{base_url}/gateway-resume",
            "application": {"id": str(state.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
            "shard": [shard_id, count],
        }
        await self.dispatch("READY", ready, session=session)
        for guild in guilds:
            await self.dispatch("GUILD_CREATE", guild.to_dict(), session=session)

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(data.get("session_id", ""))
        self.recorder.resumes.append(redact(data))
        if data.get("token") != self.state.token or session is None or session not in self.current:
            await self._send(conn, {"op": OP_INVALID_SESSION, "d": False}, record_data=False)
            return
        conn.session = session
        last = int(data.get("seq") or 0)
        for event in session.events:
            if event["s"] > last:
                await self._send(conn, event, record_data=event["d"])
        session.seq += 1
        resumed = {"op": OP_DISPATCH, "s": session.seq, "t": "RESUMED", "d": {}}
        session.events.append(resumed)
        await self._send(conn, resumed, record_data={})

    # ------------------------------------------------------------------ driving the bot

    def live_connection(self) -> Connection | None:
        """The newest open connection that identified or resumed (with several shards: the last one to)."""
        for conn in reversed(self.connections):
            if not conn.ws.closed and conn.session is not None:
                return conn
        return None

    async def dispatch(self, event: str, data: dict[str, Any], *, session: Session | None = None) -> float | None:
        """Send a DISPATCH event; returns when it left, None if only queued.

        It goes to `session`, or else to the session of the shard of the event's `guild_id` (shard 0 without one).
        Events sent while that shard is disconnected are kept and replayed when it resumes, as Discord does.
        """
        if session is None:
            guild_id = int(data.get("guild_id") or 0)
            session = self.session_for(guild_id)
            if session is None:
                raise RuntimeError(f"no gateway session for guild {guild_id}: no bot shard receiving it has identified")
        session.seq += 1
        payload = {"op": OP_DISPATCH, "s": session.seq, "t": event, "d": data}
        session.events.append(payload)
        conn = next((c for c in reversed(self.connections) if c.session is session and not c.ws.closed), None)
        if conn is None:
            return None
        try:
            return await self._send(conn, payload, record_data=data)
        except (ConnectionResetError, RuntimeError):
            return None

    async def drop(self, code: int = 4000) -> None:
        """Close the live gateway connections with a close code that lets discord.py resume."""
        for conn in list(self.connections):
            if not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=code, message=b"stand-in drop")

    async def request_reconnect(self) -> None:
        """Ask the bot to reconnect and resume (opcode 7), as Discord does before maintenance."""
        conn = self.live_connection()
        if conn is None:
            raise ConnectionError("no live gateway connection")
        await self._send(conn, {"op": OP_RECONNECT, "d": None}, record_data=None)

    async def ping(self) -> float:
        """Ask the bot to heartbeat now (opcode 1) and return the round trip in seconds.

        The bot answers from its event loop, so the round trip includes that loop's lag.
        """
        conn = self.live_connection()
        if conn is None:
            raise ConnectionError("no live gateway connection")
        before = len(conn.ping_rtts)
        conn.pending_pings.append(time.monotonic())
        await self._send(conn, {"op": OP_HEARTBEAT, "d": None}, record_data=None)
        await self.recorder.wait_until(lambda: len(conn.ping_rtts) > before or conn.ws.closed, timeout=30, what="ping")
        if len(conn.ping_rtts) <= before:
            raise ConnectionError("gateway closed during ping")
        return conn.ping_rtts[before]

    def heartbeat_times(self) -> list[float]:
        """Arrival times of the bot's own periodic heartbeats on the current connection."""
        conn = self.live_connection()
        return list(conn.heartbeats) if conn else []
