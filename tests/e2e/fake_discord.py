"""A local stand-in for Discord's API v10 (REST + gateway websocket) for end-to-end tests.

It serves what discord.py 2.x sends at start-up and while answering interactions, on 127.0.0.1
only, records every request and gateway frame with timings, and misbehaves on demand
(429 with the rate-limit headers discord.py reads, 5xx, dropped websocket, delayed replies).
`BotProcess` runs the real bot (`python -m bot run`) against it as a subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import secrets
import signal
import sqlite3
import sys
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

T = TypeVar("T")

API_VERSION = 10
DISCORD_EPOCH_MS = 1_420_070_400_000
ACK_DEADLINE_SECONDS = 3.0
ALL_PERMISSIONS = (1 << 50) - 1

# Permission bits used by the default world (values from Discord's documentation).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_APPLICATION_COMMANDS = 1 << 31
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
MEMBER_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)

# Gateway opcodes.
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

# Interaction and option types.
INTERACTION_PING = 1
INTERACTION_COMMAND = 2
INTERACTION_COMPONENT = 3
OPTION_SUB_COMMAND = 1
OPTION_SUB_COMMAND_GROUP = 2
OPTION_STRING = 3
OPTION_INTEGER = 4
OPTION_BOOLEAN = 5
OPTION_USER = 6
OPTION_CHANNEL = 7
OPTION_ROLE = 8
OPTION_NUMBER = 10

# Interaction callback types that acknowledge an interaction.
CALLBACK_MESSAGE = 4
CALLBACK_DEFERRED_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_MODAL = 9
EPHEMERAL_FLAG = 1 << 6

_snowflake_counter = itertools.count()


def snowflake() -> int:
    """Return a fresh Discord-style id whose timestamp part is now."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_snowflake_counter) & 0x3FFFFF)


def iso_now() -> str:
    """Return the current UTC time in Discord's ISO-8601 format."""
    return datetime.now(UTC).isoformat()


def json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """Build a JSON response whose Content-Type is exactly `application/json`, as discord.py requires."""
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    return web.Response(status=status, body=json.dumps(payload).encode(), headers=all_headers)


def error_response(status: int, message: str, code: int = 0, headers: Mapping[str, str] | None = None) -> web.Response:
    """A Discord-shaped JSON error."""
    return json_response({"message": message, "code": code}, status=status, headers=headers)


# ----------------------------------------------------------------------------- the world


@dataclass
class FakeUser:
    """A Discord user."""

    id: int
    username: str
    bot: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The user object as Discord sends it."""
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.username,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass
class FakeRole:
    """A guild role."""

    id: int
    name: str
    permissions: int
    position: int = 0

    @property
    def mention(self) -> str:
        """How a role mention looks in message text."""
        return f"<@&{self.id}>"

    def to_dict(self) -> dict[str, Any]:
        """The role object as Discord sends it."""
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": True,
            "flags": 0,
        }


@dataclass
class FakeChannel:
    """A guild text channel, a thread or a DM channel."""

    id: int
    name: str
    guild_id: int | None
    type: int = 0  # 0 text, 1 DM, 11 public thread
    position: int = 0
    parent_id: int | None = None
    owner_id: int | None = None
    recipient: FakeUser | None = None

    @property
    def mention(self) -> str:
        """How a channel mention looks in message text."""
        return f"<#{self.id}>"

    def to_dict(self) -> dict[str, Any]:
        """The channel object as Discord sends it."""
        data: dict[str, Any] = {"id": str(self.id), "type": self.type, "flags": 0}
        if self.type == 1:
            data.update(
                last_message_id=None,
                recipients=[self.recipient.to_dict()] if self.recipient else [],
            )
            return data
        data.update(
            name=self.name,
            guild_id=str(self.guild_id),
            position=self.position,
            permission_overwrites=[],
            nsfw=False,
            parent_id=str(self.parent_id) if self.parent_id else None,
            last_message_id=None,
            rate_limit_per_user=0,
            topic=None,
        )
        if self.type in (10, 11, 12):
            data.update(
                owner_id=str(self.owner_id) if self.owner_id else None,
                member_count=1,
                message_count=0,
                total_message_sent=0,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": iso_now(),
                    "locked": False,
                    "create_timestamp": iso_now(),
                },
            )
        return data


@dataclass
class FakeMember:
    """A user's membership in a guild."""

    user: FakeUser
    roles: list[int] = field(default_factory=list)
    joined_at: str = field(default_factory=iso_now)

    @property
    def id(self) -> int:
        """The member's user id."""
        return self.user.id

    @property
    def mention(self) -> str:
        """How a user mention looks in message text."""
        return f"<@{self.user.id}>"

    def to_dict(self, *, with_user: bool = True, permissions: int | None = None) -> dict[str, Any]:
        """The guild member object as Discord sends it."""
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "joined_at": self.joined_at,
            "nick": None,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.to_dict()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class FakeGuild:
    """A guild with roles, text channels and members."""

    id: int
    name: str
    owner: FakeMember
    everyone: FakeRole
    moderator_role: FakeRole
    bot_role: FakeRole
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    roles: dict[int, FakeRole] = field(default_factory=dict)

    def channel(self, name: str) -> FakeChannel:
        """The text channel with that name."""
        for ch in self.channels.values():
            if ch.name == name:
                return ch
        raise KeyError(name)

    def member(self, name: str) -> FakeMember:
        """The member with that username."""
        for m in self.members.values():
            if m.user.username == name:
                return m
        raise KeyError(name)

    @property
    def text_channels(self) -> list[FakeChannel]:
        """Text channels, in position order."""
        return sorted((c for c in self.channels.values() if c.type == 0), key=lambda c: c.position)

    def permissions_of(self, user_id: int) -> int:
        """Guild-level permissions of a member (no channel overwrites in this world)."""
        if user_id == self.owner.id:
            return ALL_PERMISSIONS
        member = self.members[user_id]
        perms = self.everyone.permissions
        for role_id in member.roles:
            perms |= self.roles[role_id].permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def to_dict(self) -> dict[str, Any]:
        """The GUILD_CREATE payload."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner.id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "fr",
            "features": [],
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "application_id": None,
            "widget_enabled": False,
            "widget_channel_id": None,
            "joined_at": iso_now(),
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(self.members),
            "roles": [r.to_dict() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "channels": [c.to_dict() for c in self.channels.values() if c.type == 0],
            "threads": [c.to_dict() for c in self.channels.values() if c.type == 11],
            "members": [m.to_dict() for m in self.members.values()],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "incidents_data": None,
        }


# ----------------------------------------------------------------------------- records


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
    """One gateway payload, in either direction."""

    at: float
    direction: str  # "recv" (from the bot) or "send" (to the bot)
    op: int
    event: str | None
    data: Any
    connection: int


@dataclass
class FakeInteraction:
    """An interaction dispatched to the bot and everything the bot answered to it."""

    id: int
    token: str
    type: int
    guild_id: int | None
    channel_id: int
    user_id: int
    payload: dict[str, Any]
    dispatched_at: float = 0.0
    acked_at: float | None = None
    ack_type: int | None = None
    ack_body: dict[str, Any] | None = None
    late_callbacks: list[float] = field(default_factory=list)
    original: dict[str, Any] | None = None
    original_edits: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    followups: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    @property
    def acked(self) -> bool:
        """Whether a callback was accepted (within Discord's 3-second window)."""
        return self.acked_at is not None

    @property
    def ack_delay(self) -> float | None:
        """Seconds between dispatch and the accepted callback."""
        return None if self.acked_at is None else self.acked_at - self.dispatched_at

    @property
    def ephemeral(self) -> bool:
        """Whether the acknowledgement asked for a private (ephemeral) response."""
        data = (self.ack_body or {}).get("data") or {}
        return bool(int(data.get("flags", 0) or 0) & EPHEMERAL_FLAG)

    def messages(self) -> list[dict[str, Any]]:
        """Every visible message produced for this interaction: the original response, then follow-ups."""
        out: list[dict[str, Any]] = []
        if self.original is not None and (
            self.original.get("content") or self.original.get("embeds") or self.original.get("attachments")
        ):
            out.append(self.original)
        out.extend(m for _, m in self.followups)
        return out

    def answered_at(self) -> float | None:
        """When the first message with content reached the stand-in."""
        times: list[float] = []
        if self.ack_type == CALLBACK_MESSAGE and self.acked_at is not None:
            times.append(self.acked_at)
        times.extend(t for t, body in self.original_edits if body.get("content") or body.get("embeds"))
        times.extend(t for t, _ in self.followups)
        return min(times) if times else None


@dataclass
class Fault:
    """A misbehaviour armed for matching REST requests."""

    method: str | None
    path: re.Pattern[str]
    status: int | None  # None: answer normally (after `delay`)
    times: int
    retry_after: float = 1.0
    delay: float = 0.0
    scope: str = "user"
    is_global: bool = False
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request."""
        return self.times > 0 and (self.method is None or self.method == method) and bool(self.path.search(path))


@dataclass
class _Session:
    """A gateway session: its id, sequence and every dispatched event (for RESUME replays)."""

    id: str
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)


class _Connection:
    """One open gateway websocket."""

    def __init__(self, number: int, ws: web.WebSocketResponse, compress: str | None, path: str) -> None:
        self.number = number
        self.ws = ws
        self.path = path
        self.compress = compress
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self.session: _Session | None = None
        self.lock = asyncio.Lock()
        self.heartbeats: list[float] = []
        self.pending_pings: list[float] = []
        self.ping_rtts: list[float] = []

    async def send(self, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        async with self.lock:
            if self.ws.closed:
                raise ConnectionResetError("gateway connection closed")
            if self._zlib is not None:
                await self.ws.send_bytes(self._zlib.compress(raw) + self._zlib.flush(zlib.Z_SYNC_FLUSH))
            else:
                await self.ws.send_str(raw.decode())


# ----------------------------------------------------------------------------- the stand-in


class FakeDiscord:
    """Discord API v10 stand-in: REST under /api/v10, gateway websocket under /gateway."""

    def __init__(
        self,
        *,
        token: str | None = None,
        heartbeat_interval: float = 41.25,
        ack_deadline: float = ACK_DEADLINE_SECONDS,
        bot_name: str = "Savant",
    ) -> None:
        self.token = token or f"MTAw.e2e.{secrets.token_urlsafe(24)}"
        self.heartbeat_interval = heartbeat_interval
        self.ack_deadline = ack_deadline
        self.application_id = snowflake()
        self.bot_user = FakeUser(self.application_id, bot_name, bot=True)
        self.app_owner = FakeUser(snowflake(), "Propriétaire")
        self.guilds: dict[int, FakeGuild] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.requests: list[RecordedRequest] = []
        self.frames: list[GatewayFrame] = []
        self.interactions: dict[int, FakeInteraction] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.faults: list[Fault] = []
        self.identify_payloads: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.heartbeat_ack_delay = 0.0
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._sessions: dict[str, _Session] = {}
        self._session: _Session | None = None
        self._connections: list[_Connection] = []
        self._connection_numbers = itertools.count(1)
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeDiscord:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/gateway", self._gateway)
        app.router.add_route("GET", "/gateway-resume", self._gateway)
        app.router.add_route("*", "/api/v{version:\\d+}/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        """Close every websocket and stop the server."""
        for conn in list(self._connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001)
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        """Value for DISCORD_API_BASE (what discord.py's Route.BASE becomes)."""
        return f"http://127.0.0.1:{self.port}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """Value for DISCORD_GATEWAY_URL."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    def bot_env(self) -> dict[str, str]:
        """Environment variables pointing a bot process at this stand-in."""
        return {
            "DISCORD_TOKEN": self.token,
            "DISCORD_API_BASE": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
        }

    # ------------------------------------------------------------------ waiting

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

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

    async def wait_ready(self, *, timeout: float = 30.0) -> None:
        """Wait until a bot identified and received READY and every GUILD_CREATE."""
        expected = len(self.guilds)

        def ready() -> bool:
            sent = [f for f in self.frames if f.direction == "send" and f.event in ("READY", "GUILD_CREATE")]
            return any(f.event == "READY" for f in sent) and sum(f.event == "GUILD_CREATE" for f in sent) >= expected

        await self.wait_until(ready, timeout=timeout, what="READY and GUILD_CREATE sent")

    async def wait_commands_synced(self, *, timeout: float = 30.0) -> None:
        """Wait until the bot registered its application commands (globally or per guild)."""
        await self.wait_until(
            lambda: self.global_commands or self.guild_commands, timeout=timeout, what="application command sync"
        )

    async def wait_answer(self, interaction: FakeInteraction, *, timeout: float = 20.0) -> dict[str, Any]:
        """Wait for the first visible message produced for an interaction."""
        msgs = await self.wait_until(
            interaction.messages, timeout=timeout, what=f"answer to interaction {interaction.id}"
        )
        return msgs[0]

    async def wait_acked(self, interaction: FakeInteraction, *, timeout: float = 20.0) -> None:
        """Wait until an interaction is acknowledged, or a late callback shows it never will be."""
        await self.wait_until(
            lambda: interaction.acked or interaction.late_callbacks,
            timeout=timeout,
            what=f"acknowledgement of interaction {interaction.id}",
        )

    def requests_to(self, route: str) -> list[RecordedRequest]:
        """Recorded requests for a route name such as `channel_message` or `followup`."""
        return [r for r in self.requests if r.route == route]

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages the bot created in a channel through REST (not webhooks)."""
        return [
            m
            for m in self.messages.values()
            if int(m["channel_id"]) == channel_id
            and not m.get("webhook_id")
            and int(m["author"]["id"]) == self.bot_user.id
        ]

    # ------------------------------------------------------------------ faults

    def inject(
        self,
        path: str,
        *,
        method: str | None = None,
        status: int | None = None,
        times: int = 1,
        retry_after: float = 1.0,
        delay: float = 0.0,
        scope: str = "user",
        is_global: bool = False,
    ) -> Fault:
        """Arm a fault for the next `times` requests whose path matches the regex `path`.

        status 429 answers a rate limit with `Retry-After`; 5xx answers a server error; None only delays.
        """
        fault = Fault(method, re.compile(path), status, times, retry_after, delay, scope, is_global)
        self.faults.append(fault)
        return fault

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the live gateway connection with a close code that lets discord.py resume."""
        for conn in list(self._connections):
            if not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=code, message=b"stand-in drop")

    async def request_reconnect(self) -> None:
        """Ask the bot to reconnect and resume (opcode 7), as Discord does before maintenance."""
        conn = self._live_connection()
        if conn is None:
            raise ConnectionError("no live gateway connection")
        await conn.send({"op": OP_RECONNECT, "d": None})
        self._record_frame("send", OP_RECONNECT, None, None, conn)

    async def ping(self) -> float:
        """Ask the bot to heartbeat now (opcode 1) and return the round trip in seconds.

        The bot answers from its event loop, so the round trip includes that loop's lag.
        """
        conn = self._live_connection()
        if conn is None:
            raise ConnectionError("no live gateway connection")
        before = len(conn.ping_rtts)
        conn.pending_pings.append(time.monotonic())
        await conn.send({"op": OP_HEARTBEAT, "d": None})
        self._record_frame("send", OP_HEARTBEAT, None, None, conn)
        await self.wait_until(lambda: len(conn.ping_rtts) > before or conn.ws.closed, timeout=30, what="ping")
        if len(conn.ping_rtts) <= before:
            raise ConnectionError("gateway closed during ping")
        return conn.ping_rtts[before]

    def heartbeat_times(self) -> list[float]:
        """Arrival times of the bot's own periodic heartbeats on the current connection."""
        conn = self._live_connection()
        return list(conn.heartbeats) if conn else []

    # ------------------------------------------------------------------ world building

    def add_guild(self, name: str, *, members: Iterable[str] = (), moderators: Iterable[str] = ()) -> FakeGuild:
        """Create a guild with an owner, a moderator role (Manage Server), the bot and two text channels."""
        gid = snowflake()
        everyone = FakeRole(gid, "@everyone", MEMBER_PERMISSIONS, 0)
        mod_role = FakeRole(snowflake(), "Modération", MEMBER_PERMISSIONS | MANAGE_GUILD, 2)
        bot_role = FakeRole(snowflake(), self.bot_user.username, MEMBER_PERMISSIONS, 1)
        owner = FakeMember(FakeUser(snowflake(), f"proprio-{name}"))
        guild = FakeGuild(gid, name, owner, everyone, mod_role, bot_role)
        guild.roles = {r.id: r for r in (everyone, mod_role, bot_role)}
        guild.members[owner.id] = owner
        guild.members[self.bot_user.id] = FakeMember(self.bot_user, [bot_role.id])
        for position, channel_name in enumerate(("général", "questions", "hors-sujet")):
            ch = FakeChannel(snowflake(), channel_name, gid, 0, position)
            guild.channels[ch.id] = ch
        for member_name in members:
            self.add_member(guild, member_name)
        for member_name in moderators:
            self.add_member(guild, member_name, roles=[mod_role])
        self.guilds[gid] = guild
        return guild

    def add_member(self, guild: FakeGuild, name: str, *, roles: Iterable[FakeRole] = ()) -> FakeMember:
        """Add a member to a guild (before the bot connects, or announce it yourself)."""
        member = FakeMember(FakeUser(snowflake(), name), [r.id for r in roles])
        guild.members[member.id] = member
        return member

    def add_role(self, guild: FakeGuild, name: str, permissions: int = 0) -> FakeRole:
        """Add a role to a guild."""
        role = FakeRole(snowflake(), name, permissions, len(guild.roles))
        guild.roles[role.id] = role
        return role

    def find_channel(self, channel_id: int) -> FakeChannel | None:
        """Any channel (guild channel, thread or DM) by id."""
        for g in self.guilds.values():
            if channel_id in g.channels:
                return g.channels[channel_id]
        return self.dm_channels.get(channel_id)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and a user (created on first use)."""
        for ch in self.dm_channels.values():
            if ch.recipient is not None and ch.recipient.id == user.id:
                return ch
        ch = FakeChannel(snowflake(), "", None, 1, recipient=user)
        self.dm_channels[ch.id] = ch
        return ch

    # ------------------------------------------------------------------ dispatch to the bot

    def _live_connection(self) -> _Connection | None:
        for conn in reversed(self._connections):
            if not conn.ws.closed and conn.session is not None:
                return conn
        return None

    async def dispatch(self, event: str, data: dict[str, Any]) -> float | None:
        """Send a DISPATCH event in the current session; returns when it left, None if only queued.

        Events sent while the bot is disconnected are kept and replayed when it resumes, as Discord does.
        """
        session = self._session
        if session is None:
            raise RuntimeError("no gateway session: the bot has not identified")
        session.seq += 1
        payload = {"op": OP_DISPATCH, "s": session.seq, "t": event, "d": data}
        session.events.append(payload)
        conn = self._live_connection()
        if conn is None or conn.session is not session:
            return None
        try:
            await conn.send(payload)
        except (ConnectionResetError, RuntimeError):
            return None
        sent_at = time.monotonic()
        self._record_frame("send", OP_DISPATCH, event, data, conn)
        return sent_at

    def _command(self, guild_id: int | None, name: str) -> dict[str, Any]:
        for cmd in self.guild_commands.get(guild_id or 0, []):
            if cmd["name"] == name and cmd.get("type", 1) == 1:
                return cmd
        for cmd in self.global_commands:
            if cmd["name"] == name and cmd.get("type", 1) == 1:
                return cmd
        known = sorted(
            {c["name"] for c in self.global_commands}
            | {c["name"] for cmds in self.guild_commands.values() for c in cmds}
        )
        raise KeyError(f"command /{name} was not registered by the bot (registered: {known})")

    def _interaction_base(
        self, guild: FakeGuild | None, channel: FakeChannel, user: FakeMember | FakeUser, type_: int
    ) -> FakeInteraction:
        iid = snowflake()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": type_,
            "token": token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": channel.to_dict(),
            "locale": "fr",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild is not None:
            assert isinstance(user, FakeMember)
            perms = guild.permissions_of(user.id)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "fr", "features": []},
                guild_locale="fr",
                member=user.to_dict(permissions=perms),
                app_permissions=str(guild.permissions_of(self.bot_user.id)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
            user_id = user.id
        else:
            u = user.user if isinstance(user, FakeMember) else user
            payload.update(
                user=u.to_dict(),
                app_permissions=str(MEMBER_PERMISSIONS),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
            user_id = u.id
        inter = FakeInteraction(iid, token, type_, guild.id if guild else None, channel.id, user_id, payload)
        self.interactions[iid] = inter
        return inter

    def _build_options(
        self, guild: FakeGuild | None, schema: list[dict[str, Any]], values: Mapping[str, Any], resolved: dict[str, Any]
    ) -> list[dict[str, Any]]:
        by_name = {o["name"]: o for o in schema}
        options = []
        for name, value in values.items():
            if name not in by_name:
                raise KeyError(f"option {name!r} unknown (known: {sorted(by_name)})")
            kind = by_name[name]["type"]
            if kind == OPTION_USER:
                member = value
                user = member.user if isinstance(member, FakeMember) else member
                resolved.setdefault("users", {})[str(user.id)] = user.to_dict()
                if guild is not None and isinstance(member, FakeMember) and user.id in guild.members:
                    resolved.setdefault("members", {})[str(user.id)] = member.to_dict(
                        with_user=False, permissions=guild.permissions_of(user.id)
                    )
                value = str(user.id)
            elif kind == OPTION_CHANNEL:
                ch = value
                data = ch.to_dict()
                data["permissions"] = str(ALL_PERMISSIONS)
                resolved.setdefault("channels", {})[str(ch.id)] = data
                value = str(ch.id)
            elif kind == OPTION_ROLE:
                resolved.setdefault("roles", {})[str(value.id)] = value.to_dict()
                value = str(value.id)
            options.append({"name": name, "type": kind, "value": value})
        return options

    async def slash(
        self,
        guild: FakeGuild | None,
        channel: FakeChannel,
        user: FakeMember | FakeUser,
        command: str,
        **values: Any,
    ) -> FakeInteraction:
        """Dispatch a slash command as a user would run it: `command` may hold subcommands ("admin salons liste").

        Option names and types come from what the bot registered, so a renamed option fails loudly here.
        """
        path = command.split()
        cmd = self._command(guild.id if guild else None, path[0])
        inter = self._interaction_base(guild, channel, user, INTERACTION_COMMAND)
        resolved: dict[str, Any] = {}
        schema = cmd.get("options") or []
        nested: list[dict[str, Any]] = []
        container = nested
        for sub in path[1:]:
            match = next((o for o in schema if o["name"] == sub and o["type"] in (1, 2)), None)
            if match is None:
                raise KeyError(f"subcommand {sub!r} unknown in /{command}")
            node: dict[str, Any] = {"name": sub, "type": match["type"], "options": []}
            container.append(node)
            container = node["options"]
            schema = match.get("options") or []
        container.extend(self._build_options(guild, schema, values, resolved))
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1, "options": nested}
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        inter.payload["data"] = data
        await self._dispatch_interaction(inter)
        return inter

    async def click(
        self, guild: FakeGuild | None, user: FakeMember | FakeUser, message: dict[str, Any], custom_id: str
    ) -> FakeInteraction:
        """Dispatch a button click on a message the bot sent."""
        channel = self.find_channel(int(message["channel_id"]))
        assert channel is not None, "message in an unknown channel"
        inter = self._interaction_base(guild, channel, user, INTERACTION_COMPONENT)
        inter.payload["message"] = message
        inter.payload["data"] = {"custom_id": custom_id, "component_type": 2}
        await self._dispatch_interaction(inter)
        return inter

    async def _dispatch_interaction(self, inter: FakeInteraction) -> None:
        inter.dispatched_at = time.monotonic()
        sent = await self.dispatch("INTERACTION_CREATE", inter.payload)
        if sent is not None:
            inter.dispatched_at = sent

    async def post_message(
        self,
        guild: FakeGuild | None,
        channel: FakeChannel,
        author: FakeMember | FakeUser,
        content: str,
        *,
        mentions: Iterable[FakeMember | FakeUser] = (),
        mention_roles: Iterable[FakeRole] = (),
        mention_everyone: bool = False,
    ) -> dict[str, Any]:
        """Dispatch MESSAGE_CREATE for a message a member wrote; returns the message payload."""
        user = author.user if isinstance(author, FakeMember) else author
        mentioned = []
        for m in mentions:
            u = m.user if isinstance(m, FakeMember) else m
            entry = u.to_dict()
            if guild is not None and u.id in guild.members:
                entry["member"] = guild.members[u.id].to_dict(with_user=False)
            mentioned.append(entry)
        message = {
            "id": str(snowflake()),
            "channel_id": str(channel.id),
            "author": user.to_dict(),
            "content": content,
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": mention_everyone,
            "mentions": mentioned,
            "mention_roles": [str(r.id) for r in mention_roles],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "components": [],
            "nonce": str(snowflake()),
        }
        if guild is not None:
            message["guild_id"] = str(guild.id)
            if isinstance(author, FakeMember):
                message["member"] = author.to_dict(with_user=False)
        self.messages[int(message["id"])] = message
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    # ------------------------------------------------------------------ recording

    def _record_frame(self, direction: str, op: int, event: str | None, data: Any, conn: _Connection) -> None:
        self.frames.append(GatewayFrame(time.monotonic(), direction, op, event, data, conn.number))
        self._notify()

    # ------------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        compress = request.query.get("compress")
        if compress not in (None, "zlib-stream"):
            compress = None  # unknown compression (zstd-stream): plain text frames, which discord.py also reads
        conn = _Connection(next(self._connection_numbers), ws, compress, request.path)
        self._connections.append(conn)
        try:
            await conn.send({"op": OP_HELLO, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}})
            self._record_frame("send", OP_HELLO, None, None, conn)
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    payload = json.loads(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    payload = json.loads(zlib.decompress(msg.data))
                else:
                    break
                await self._on_gateway_payload(conn, payload)
        except (ConnectionResetError, RuntimeError):
            pass
        finally:
            self._notify()
        return ws

    async def _on_gateway_payload(self, conn: _Connection, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        now = time.monotonic()
        if op == OP_HEARTBEAT and conn.pending_pings:
            conn.ping_rtts.append(now - conn.pending_pings.pop(0))
        elif op == OP_HEARTBEAT:
            conn.heartbeats.append(now)
        self._record_frame("recv", int(op or 0), None, _redact(data), conn)
        if op == OP_HEARTBEAT:
            if self.heartbeat_ack_delay:
                await asyncio.sleep(self.heartbeat_ack_delay)
            await conn.send({"op": OP_HEARTBEAT_ACK})
        elif op == OP_IDENTIFY:
            if data.get("token") != self.token:
                await conn.ws.close(code=4004, message=b"Authentication failed.")
                return
            self.identify_payloads.append(_redact(data))
            session = _Session(secrets.token_hex(16))
            self._sessions[session.id] = session
            self._session = session
            conn.session = session
            await self._send_ready(conn, session)
        elif op == OP_RESUME:
            session = self._sessions.get(data.get("session_id", ""))
            self.resumes.append(_redact(data))
            if data.get("token") != self.token or session is None or session is not self._session:
                await conn.send({"op": OP_INVALID_SESSION, "d": False})
                self._record_frame("send", OP_INVALID_SESSION, None, False, conn)
                return
            conn.session = session
            last = int(data.get("seq") or 0)
            for event in session.events:
                if event["s"] > last:
                    await conn.send(event)
                    self._record_frame("send", OP_DISPATCH, event["t"], event["d"], conn)
            session.seq += 1
            resumed = {"op": OP_DISPATCH, "s": session.seq, "t": "RESUMED", "d": {}}
            session.events.append(resumed)
            await conn.send(resumed)
            self._record_frame("send", OP_DISPATCH, "RESUMED", {}, conn)
        elif op == OP_REQUEST_MEMBERS:
            guild = self.guilds.get(int(data["guild_id"]))
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
                await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    async def _send_ready(self, conn: _Connection, session: _Session) -> None:
        ready = {
            "v": API_VERSION,
            "user": {**self.bot_user.to_dict(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self.guilds.values()],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway-resume",
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
            "shard": [0, 1],
        }
        await self.dispatch("READY", ready)
        for guild in self.guilds.values():
            await self.dispatch("GUILD_CREATE", guild.to_dict())

    # ------------------------------------------------------------------ REST

    def _ratelimit_headers(self, route: str) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": f"e2e-{route}",
        }

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        rec = RecordedRequest(
            at=time.monotonic(),
            method=request.method,
            path=path,
            query=dict(request.query),
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
            body=None,
            files=[],
        )
        rec.headers["Authorization"] = "<present>" if "Authorization" in request.headers else ""
        try:
            await self._read_body(request, rec)
        except ValueError as exc:
            rec.status = 400
            self.requests.append(rec)
            self._notify()
            return error_response(400, f"Invalid body: {exc}", 50109)
        route, handler, params = self._route(request.method, path)
        rec.route = route
        self.requests.append(rec)

        fault = next((f for f in self.faults if f.matches(request.method, path)), None)
        if fault is not None:
            fault.times -= 1
            fault.hits += 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                rec.status = fault.status
                rec.fault = str(fault.status)
                self._notify()
                return self._fault_response(fault, route)
            rec.fault = f"delay {fault.delay}s"

        if handler is None:
            rec.status = 404
            self._notify()
            return error_response(404, "404: Not Found")
        needs_auth = route not in {"interaction_callback"} and not route.startswith("webhook")
        if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
            rec.status = 401
            self._notify()
            return error_response(401, "401: Unauthorized")
        try:
            response = await handler(request, rec, **params)
        except KeyError as exc:
            response = error_response(404, f"Unknown entity: {exc}", 10003)
        rec.status = response.status
        for key, value in self._ratelimit_headers(route).items():
            response.headers.setdefault(key, value)
        self._notify()
        return response

    def _fault_response(self, fault: Fault, route: str) -> web.Response:
        if fault.status == 429:
            headers = {
                "Retry-After": f"{fault.retry_after:.3f}",
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + fault.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
                "X-RateLimit-Bucket": f"e2e-{route}",
                "X-RateLimit-Scope": "global" if fault.is_global else fault.scope,
                "Via": "1.1 google",
            }
            if fault.is_global:
                headers["X-RateLimit-Global"] = "true"
            body = {
                "message": "You are being rate limited.",
                "retry_after": fault.retry_after,
                "global": fault.is_global,
                "code": 0,
            }
            return json_response(body, status=429, headers=headers)
        return error_response(int(fault.status or 500), f"{fault.status}: Internal Server Error")

    async def _read_body(self, request: web.Request, rec: RecordedRequest) -> None:
        if not request.can_read_body:
            return
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            form = await request.post()
            for name, value in form.items():
                if name == "payload_json":
                    rec.body = json.loads(str(value))
                elif hasattr(value, "file"):
                    rec.files.append(
                        {"field": name, "filename": value.filename, "content": value.file.read()}  # type: ignore[union-attr]
                    )
            return
        raw = await request.read()
        if not raw:
            return
        if ctype != "application/json":
            raise ValueError(f"unexpected Content-Type {ctype!r}")
        rec.body = json.loads(raw)

    def _route(
        self, method: str, path: str
    ) -> tuple[str, Callable[..., Awaitable[web.Response]] | None, dict[str, str]]:
        for m, pattern, name, handler in self._routes():
            if m != method:
                continue
            match = re.fullmatch(pattern, path)
            if match:
                return name, handler, match.groupdict()
        return "unknown", None, {}

    def _routes(self) -> list[tuple[str, str, str, Callable[..., Awaitable[web.Response]]]]:
        sid = r"(?P<{}>\d+)"
        tok = r"(?P<token>[^/]+)"
        return [
            ("GET", r"/gateway", "gateway", self._get_gateway),
            ("GET", r"/gateway/bot", "gateway_bot", self._get_gateway),
            ("GET", r"/users/@me", "users_me", self._get_me),
            ("GET", r"/oauth2/applications/@me", "application", self._get_application),
            ("GET", r"/applications/@me", "application", self._get_application),
            ("GET", r"/applications/\d+/commands", "commands", self._get_commands),
            ("PUT", r"/applications/\d+/commands", "commands_sync", self._put_commands),
            ("GET", r"/applications/\d+/guilds/" + sid.format("guild") + "/commands", "commands", self._get_commands),
            (
                "PUT",
                r"/applications/\d+/guilds/" + sid.format("guild") + "/commands",
                "commands_sync",
                self._put_commands,
            ),
            (
                "POST",
                r"/interactions/" + sid.format("iid") + "/" + tok + "/callback",
                "interaction_callback",
                self._post_callback,
            ),
            ("POST", r"/webhooks/\d+/" + tok, "webhook_followup", self._post_followup),
            (
                "GET",
                r"/webhooks/\d+/" + tok + r"/messages/(?P<mid>@original|\d+)",
                "webhook_get",
                self._get_webhook_message,
            ),
            (
                "PATCH",
                r"/webhooks/\d+/" + tok + r"/messages/(?P<mid>@original|\d+)",
                "webhook_edit",
                self._patch_webhook_message,
            ),
            (
                "DELETE",
                r"/webhooks/\d+/" + tok + r"/messages/(?P<mid>@original|\d+)",
                "webhook_delete",
                self._delete_webhook_message,
            ),
            ("POST", r"/channels/" + sid.format("cid") + "/messages", "channel_message", self._post_message),
            (
                "PATCH",
                r"/channels/" + sid.format("cid") + "/messages/" + sid.format("mid"),
                "channel_message_edit",
                self._patch_message,
            ),
            (
                "GET",
                r"/channels/" + sid.format("cid") + "/messages/" + sid.format("mid"),
                "channel_message_get",
                self._get_message,
            ),
            (
                "DELETE",
                r"/channels/" + sid.format("cid") + "/messages/" + sid.format("mid"),
                "channel_message_delete",
                self._no_content,
            ),
            (
                "POST",
                r"/channels/" + sid.format("cid") + "/messages/" + sid.format("mid") + "/threads",
                "thread_from_message",
                self._post_thread,
            ),
            ("POST", r"/channels/" + sid.format("cid") + "/threads", "thread", self._post_thread),
            (
                "PUT",
                r"/channels/" + sid.format("cid") + r"/messages/\d+/reactions/[^/]+/@me",
                "reaction",
                self._no_content,
            ),
            (
                "DELETE",
                r"/channels/" + sid.format("cid") + r"/messages/\d+/reactions/[^/]+/@me",
                "reaction_delete",
                self._no_content,
            ),
            ("POST", r"/channels/" + sid.format("cid") + "/typing", "typing", self._no_content),
            ("GET", r"/channels/" + sid.format("cid"), "channel", self._get_channel),
            ("POST", r"/users/@me/channels", "dm_open", self._post_dm),
            ("GET", r"/users/" + sid.format("uid"), "user", self._get_user),
            (
                "GET",
                r"/guilds/" + sid.format("guild") + "/members/" + sid.format("uid"),
                "member",
                self._get_member,
            ),
        ]

    async def _no_content(self, request: web.Request, rec: RecordedRequest, **_: str) -> web.Response:
        return web.Response(status=204)

    async def _get_gateway(self, request: web.Request, rec: RecordedRequest) -> web.Response:
        return json_response(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
            }
        )

    async def _get_me(self, request: web.Request, rec: RecordedRequest) -> web.Response:
        return json_response({**self.bot_user.to_dict(), "verified": True, "mfa_enabled": False, "email": None})

    async def _get_application(self, request: web.Request, rec: RecordedRequest) -> web.Response:
        return json_response(
            {
                "id": str(self.application_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": self.app_owner.to_dict(),
                "team": None,
                "verify_key": secrets.token_hex(32),
                "flags": (1 << 15) | (1 << 19),  # gateway guild members + message content (limited)
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(self.guilds),
                "bot": self.bot_user.to_dict(),
            }
        )

    async def _get_commands(self, request: web.Request, rec: RecordedRequest, guild: str | None = None) -> web.Response:
        cmds = self.guild_commands.get(int(guild), []) if guild else self.global_commands
        return json_response(cmds)

    async def _put_commands(self, request: web.Request, rec: RecordedRequest, guild: str | None = None) -> web.Response:
        body = rec.body or []
        out = []
        for cmd in body:
            full = {
                "id": str(snowflake()),
                "application_id": str(self.application_id),
                "version": str(snowflake()),
                "type": cmd.get("type", 1),
                "name": cmd["name"],
                "description": cmd.get("description", ""),
                "options": cmd.get("options", []),
                # Discord answers permission bitfields as strings, whatever the request held.
                "default_member_permissions": (
                    None if cmd.get("default_member_permissions") is None else str(cmd["default_member_permissions"])
                ),
                "dm_permission": cmd.get("dm_permission", True),
                "contexts": cmd.get("contexts"),
                "integration_types": cmd.get("integration_types", [0]),
                "nsfw": cmd.get("nsfw", False),
                "name_localizations": cmd.get("name_localizations"),
                "description_localizations": cmd.get("description_localizations"),
            }
            if guild:
                full["guild_id"] = guild
            out.append(full)
        if guild:
            self.guild_commands[int(guild)] = out
        else:
            self.global_commands = out
        return json_response(out)

    def _interaction(self, iid: int | None, token: str) -> FakeInteraction | None:
        if iid is not None:
            inter = self.interactions.get(iid)
            return inter if inter is not None and inter.token == token else None
        return next((i for i in self.interactions.values() if i.token == token), None)

    def _bot_message(
        self,
        channel_id: int,
        body: Mapping[str, Any],
        files: list[dict[str, Any]],
        *,
        guild_id: int | None,
        webhook: bool = False,
        interaction: FakeInteraction | None = None,
    ) -> dict[str, Any]:
        attachments = []
        for index, f in enumerate(files):
            attachments.append(
                {
                    "id": str(snowflake()),
                    "filename": f["filename"],
                    "size": len(f["content"]),
                    "url": f"https://cdn.invalid/attachments/{index}/{f['filename']}",
                    "proxy_url": f"https://media.invalid/attachments/{index}/{f['filename']}",
                    "content_type": "text/csv" if str(f["filename"]).endswith(".csv") else "application/octet-stream",
                }
            )
        message: dict[str, Any] = {
            "id": str(snowflake()),
            "channel_id": str(channel_id),
            "author": self.bot_user.to_dict(),
            "content": body.get("content") or "",
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": attachments,
            "embeds": list(body.get("embeds") or []),
            "components": list(body.get("components") or []),
            "pinned": False,
            "type": 0,
            "flags": int(body.get("flags") or 0),
            "allowed_mentions": body.get("allowed_mentions"),
        }
        if guild_id is not None:
            message["guild_id"] = str(guild_id)
        if body.get("message_reference"):
            message["type"] = 19
            message["message_reference"] = {
                k: str(v) if k.endswith("_id") and v is not None else v for k, v in body["message_reference"].items()
            }
        if webhook:
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
        if interaction is not None:
            message["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self._user_of(interaction).to_dict(),
                "authorizing_integration_owners": interaction.payload.get("authorizing_integration_owners", {}),
            }
            if interaction.type == INTERACTION_COMMAND:
                message["type"] = 20
        self.messages[int(message["id"])] = message
        return message

    def _user_of(self, inter: FakeInteraction) -> FakeUser:
        if inter.guild_id is not None:
            return self.guilds[inter.guild_id].members[inter.user_id].user
        return FakeUser(inter.user_id, inter.payload.get("user", {}).get("username", "?"))

    async def _post_callback(self, request: web.Request, rec: RecordedRequest, iid: str, token: str) -> web.Response:
        inter = self._interaction(int(iid), token)
        now = time.monotonic()
        if inter is None:
            return error_response(404, "Unknown interaction", 10062)
        if inter.acked:
            return error_response(400, "Interaction has already been acknowledged.", 40060)
        if now - inter.dispatched_at > self.ack_deadline:
            inter.late_callbacks.append(now)
            return error_response(404, "Unknown interaction", 10062)
        body = rec.body or {}
        kind = int(body.get("type", 0))
        inter.acked_at = now
        inter.ack_type = kind
        inter.ack_body = body
        data = body.get("data") or {}
        message: dict[str, Any] | None = None
        if kind in (CALLBACK_MESSAGE, CALLBACK_DEFERRED_MESSAGE):
            message = self._bot_message(
                inter.channel_id, data, rec.files, guild_id=inter.guild_id, webhook=True, interaction=inter
            )
            if kind == CALLBACK_DEFERRED_MESSAGE:
                message["flags"] = int(message["flags"]) | (1 << 7)  # LOADING
            inter.original = message
        elif kind in (CALLBACK_UPDATE_MESSAGE, CALLBACK_DEFERRED_UPDATE) and "message" in inter.payload:
            target = inter.payload["message"]
            if kind == CALLBACK_UPDATE_MESSAGE:
                target.update({k: v for k, v in data.items() if k in ("content", "embeds", "components")})
                inter.original_edits.append((now, data))
            message = target
        result: dict[str, Any] = {
            "interaction": {
                "id": str(inter.id),
                "type": inter.type,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": kind == CALLBACK_DEFERRED_MESSAGE,
                "response_message_ephemeral": bool(int(data.get("flags", 0) or 0) & EPHEMERAL_FLAG),
            },
            "resource": {"type": kind, **({"message": message} if message else {})},
        }
        if request.query.get("with_response") in ("1", "true", "True"):
            return json_response(result)
        return web.Response(status=204)

    async def _post_followup(self, request: web.Request, rec: RecordedRequest, token: str) -> web.Response:
        inter = self._interaction(None, token)
        if inter is None or not inter.acked:
            return error_response(404, "Unknown Webhook", 10015)
        body = rec.body or {}
        message = self._bot_message(
            inter.channel_id, body, rec.files, guild_id=inter.guild_id, webhook=True, interaction=inter
        )
        if inter.ack_type == CALLBACK_DEFERRED_MESSAGE and not inter.followups and inter.original is not None:
            # The first follow-up after a deferred reply replaces the "thinking" message, as on Discord.
            message["id"] = inter.original["id"]
            message["flags"] = int(message["flags"]) | (int(inter.original["flags"]) & EPHEMERAL_FLAG)
            self.messages[int(message["id"])] = message
        inter.followups.append((time.monotonic(), message))
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(message)
        return web.Response(status=204)

    async def _get_webhook_message(
        self, request: web.Request, rec: RecordedRequest, token: str, mid: str
    ) -> web.Response:
        inter = self._interaction(None, token)
        if inter is None:
            return error_response(404, "Unknown Webhook", 10015)
        message = inter.original if mid == "@original" else self.messages.get(int(mid))
        if message is None:
            return error_response(404, "Unknown Message", 10008)
        return json_response(message)

    async def _patch_webhook_message(
        self, request: web.Request, rec: RecordedRequest, token: str, mid: str
    ) -> web.Response:
        inter = self._interaction(None, token)
        if inter is None or not inter.acked:
            return error_response(404, "Unknown Webhook", 10015)
        body = rec.body or {}
        if mid == "@original":
            if inter.original is None and "message" in inter.payload:
                inter.original = inter.payload["message"]
            message = inter.original
        else:
            message = self.messages.get(int(mid))
        if message is None:
            return error_response(404, "Unknown Message", 10008)
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in body:
                message[key] = body[key]
        if rec.files:
            message["attachments"] = self._bot_message(inter.channel_id, {}, rec.files, guild_id=inter.guild_id)[
                "attachments"
            ]
        message["flags"] = int(message.get("flags", 0)) & ~(1 << 7)
        message["edited_timestamp"] = iso_now()
        if mid == "@original":
            inter.original_edits.append((time.monotonic(), body))
        return json_response(message)

    async def _delete_webhook_message(
        self, request: web.Request, rec: RecordedRequest, token: str, mid: str
    ) -> web.Response:
        return web.Response(status=204)

    async def _post_message(self, request: web.Request, rec: RecordedRequest, cid: str) -> web.Response:
        channel = self.find_channel(int(cid))
        if channel is None:
            return error_response(404, "Unknown Channel", 10003)
        body = rec.body or {}
        if not (body.get("content") or body.get("embeds") or rec.files or body.get("components")):
            return error_response(400, "Cannot send an empty message", 50006)
        message = self._bot_message(channel.id, body, rec.files, guild_id=channel.guild_id)
        return json_response(message)

    async def _patch_message(self, request: web.Request, rec: RecordedRequest, cid: str, mid: str) -> web.Response:
        message = self.messages.get(int(mid))
        if message is None:
            return error_response(404, "Unknown Message", 10008)
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in (rec.body or {}):
                message[key] = rec.body[key]
        message["edited_timestamp"] = iso_now()
        return json_response(message)

    async def _get_message(self, request: web.Request, rec: RecordedRequest, cid: str, mid: str) -> web.Response:
        message = self.messages.get(int(mid))
        if message is None:
            return error_response(404, "Unknown Message", 10008)
        return json_response(message)

    async def _post_thread(
        self, request: web.Request, rec: RecordedRequest, cid: str, mid: str | None = None
    ) -> web.Response:
        parent = self.find_channel(int(cid))
        if parent is None or parent.guild_id is None:
            return error_response(404, "Unknown Channel", 10003)
        body = rec.body or {}
        guild = self.guilds[parent.guild_id]
        thread = FakeChannel(
            int(mid) if mid else snowflake(),
            str(body.get("name") or "fil"),
            guild.id,
            int(body.get("type") or 11),
            parent_id=parent.id,
            owner_id=self.bot_user.id,
        )
        guild.channels[thread.id] = thread
        data = thread.to_dict()
        self._spawn(self.dispatch("THREAD_CREATE", {**data, "newly_created": True}))
        return json_response(data, status=201)

    async def _get_channel(self, request: web.Request, rec: RecordedRequest, cid: str) -> web.Response:
        channel = self.find_channel(int(cid))
        if channel is None:
            return error_response(404, "Unknown Channel", 10003)
        return json_response(channel.to_dict())

    async def _post_dm(self, request: web.Request, rec: RecordedRequest) -> web.Response:
        uid = int((rec.body or {}).get("recipient_id", 0))
        user = next((m.user for g in self.guilds.values() for m in g.members.values() if m.user.id == uid), None)
        if user is None:
            return error_response(404, "Unknown User", 10013)
        return json_response(self.dm_channel(user).to_dict())

    async def _get_user(self, request: web.Request, rec: RecordedRequest, uid: str) -> web.Response:
        for g in self.guilds.values():
            if int(uid) in g.members:
                return json_response(g.members[int(uid)].user.to_dict())
        return error_response(404, "Unknown User", 10013)

    async def _get_member(self, request: web.Request, rec: RecordedRequest, guild: str, uid: str) -> web.Response:
        g = self.guilds.get(int(guild))
        if g is None or int(uid) not in g.members:
            return error_response(404, "Unknown Member", 10007)
        return json_response(g.members[int(uid)].to_dict())

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _redact(data: Any) -> Any:
    """Copy a gateway payload without its token, so records never hold a secret."""
    if isinstance(data, dict) and "token" in data:
        return {**data, "token": "<redacted>"}
    return data


# ----------------------------------------------------------------------------- the bot process


REPO_ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """The real bot (`python -m bot run`) as a subprocess pointed at a stand-in."""

    def __init__(self, fake: FakeDiscord, *, database: Path, env: Mapping[str, str] | None = None) -> None:
        self.fake = fake
        self.database = database
        self.extra_env = dict(env or {})
        self.proc: asyncio.subprocess.Process | None = None
        self.log_lines: list[str] = []
        self.peak_rss_kb: int | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        """The bot process id."""
        assert self.proc is not None
        return self.proc.pid

    @property
    def log(self) -> str:
        """Everything the bot wrote to stdout and stderr so far."""
        return "\n".join(self.log_lines)

    async def start(self) -> BotProcess:
        """Start the bot with a clean environment: the stand-in's addresses, the temp database, no .env secrets."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
        # Blank values keep a developer's .env (loaded by `python -m bot run`) from leaking in:
        # python-dotenv never overrides a variable that is set, and the settings ignore blank ones.
        env.update({name: "" for name in _settings_variables()})
        env.update(self.fake.bot_env())
        env.update({"BOT_DATABASE": str(self.database), "PYTHONUNBUFFERED": "1", "BOT_LOG_LEVEL": "INFO"})
        env.update(self.extra_env)
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=str(REPO_ROOT),
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read_output())
        return self

    async def _read_output(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                return
            self.log_lines.append(line.decode(errors="replace").rstrip("\n"))

    async def wait_ready(self, *, timeout: float = 60.0) -> None:
        """Wait until the bot is connected and has synced its commands; fail early if it exits."""

        def ready_or_dead() -> bool:
            if self.proc is not None and self.proc.returncode is not None:
                return True
            sent = [f for f in self.fake.frames if f.direction == "send" and f.event in ("READY", "GUILD_CREATE")]
            guilds = sum(f.event == "GUILD_CREATE" for f in sent)
            synced = bool(self.fake.global_commands or self.fake.guild_commands)
            return synced and any(f.event == "READY" for f in sent) and guilds >= len(self.fake.guilds)

        await self.fake.wait_until(ready_or_dead, timeout=timeout, what="the bot to connect")
        if self.proc is not None and self.proc.returncode is not None:
            raise RuntimeError(f"bot exited with {self.proc.returncode}:\n{self.log}")
        # discord.py fires on_ready after guild_ready_timeout (2 s) with no further GUILD_CREATE;
        # the bot's log line saying it is ready, when present, is the surest signal.
        with contextlib.suppress(TimeoutError):
            await self.fake.wait_until(
                lambda: any(_looks_ready(line) for line in self.log_lines), timeout=5.0, what="ready log line"
            )

    def read_peak_memory(self) -> int | None:
        """Peak resident memory of the bot in KiB (VmHWM), read while it runs."""
        if self.proc is None or self.proc.returncode is not None:
            return self.peak_rss_kb
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return self.peak_rss_kb
        match = re.search(r"^VmHWM:\s+(\d+)\s+kB", status, re.MULTILINE)
        if match:
            self.peak_rss_kb = int(match.group(1))
        return self.peak_rss_kb

    async def stop(self, *, timeout: float = 15.0, grace: float = 3.0) -> int | None:
        """SIGTERM the bot and wait for it; SIGKILL it if it hangs. Returns its exit status (-9 when killed).

        Waits at most `grace` seconds after the bot logs that it stopped, so a process that hangs at
        interpreter exit costs little time (and shows as killed).
        """
        if self.proc is None:
            return None
        self.read_peak_memory()
        proc = self.proc
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await self.fake.wait_until(
                    lambda: proc.returncode is not None or any("bot stopped" in line for line in self.log_lines),
                    timeout=timeout,
                    what="the bot to stop",
                )
            try:
                await asyncio.wait_for(proc.wait(), timeout=grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._reader is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, timeout=5)
        return proc.returncode


def _looks_ready(line: str) -> bool:
    lowered = line.lower()
    return any(mark in lowered for mark in ("connected as", "connecté en tant que", "logged in as", " prêt"))


def _settings_variables() -> list[str]:
    """Every environment variable the bot's settings read."""
    try:
        from bot.config import ENV_VARIABLES
    except ImportError:  # pragma: no cover - the stand-in also works without the bot package
        return []
    return [*ENV_VARIABLES, "BOT_CONFIG"]


# ----------------------------------------------------------------------------- a running world


@dataclass
class World:
    """A stand-in with three guilds and the real bot connected to it, plus helpers for scenarios."""

    fake: FakeDiscord
    bot: BotProcess
    database: Path
    a: FakeGuild
    b: FakeGuild
    c: FakeGuild

    async def ask(
        self, guild: FakeGuild, user: FakeMember, text: str, *, channel: FakeChannel | None = None
    ) -> tuple[FakeInteraction, dict[str, Any]]:
        """Run `/question texte:<text>` and wait for the answer message."""
        inter = await self.fake.slash(guild, channel or guild.channel("questions"), user, "question", texte=text)
        return inter, await self.fake.wait_answer(inter)

    async def run(self, guild: FakeGuild, user: FakeMember, command: str, **options: Any) -> FakeInteraction:
        """Run a slash command and wait for its first visible message."""
        inter = await self.fake.slash(guild, guild.channel("général"), user, command, **options)
        await self.fake.wait_answer(inter)
        return inter

    def rows(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        """Query the bot's SQLite log read-only (safe while the bot runs: WAL mode)."""
        return read_db(self.database, sql, *params)


def read_db(path: Path, sql: str, *params: Any) -> list[sqlite3.Row]:
    """Run one read-only query on a SQLite file."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def start_world(
    database: Path, *, env: Mapping[str, str] | None = None, heartbeat_interval: float = 1.0
) -> World:
    """Start a stand-in with three guilds and the bot against it; the caller must `stop_world`."""
    fake = FakeDiscord(heartbeat_interval=heartbeat_interval)
    a = fake.add_guild("Club de lecture", members=["camille", "malo", "lea", "noe"], moderators=["modo-a"])
    b = fake.add_guild("Atelier vélo", members=["ines"], moderators=["modo-b"])
    c = fake.add_guild("Salle des profs", members=["zoe", "yan"], moderators=["modo-c"])
    await fake.start()
    bot = BotProcess(fake, database=database, env={"BOT_RATE_LIMIT": "1000", "BOT_RATE_WINDOW": "60", **(env or {})})
    try:
        await bot.start()
        await bot.wait_ready()
    except BaseException:
        await bot.stop()
        await fake.close()
        raise
    return World(fake, bot, database, a, b, c)


async def stop_world(world: World) -> int | None:
    """Stop the bot, then the stand-in; returns the bot's exit status."""
    try:
        return await world.bot.stop()
    finally:
        await world.fake.close()
