"""`FakeDiscord`: the stand-in as one object: serves REST and gateway on 127.0.0.1, and acts as members do.

It puts together the world (`state`), the log of what went over the wire (`recorder`), the gateway
websocket (`gateway`) and the REST API (`rest`), and offers what a scenario needs: build a world,
start, make members run commands, click and write, then wait for what the bot did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from aiohttp import web

from .gateway import Gateway
from .recorder import GatewayFrame, RecordedRequest, Recorder
from .rest import ACK_DEADLINE_SECONDS, Fault, RestApi
from .state import (
    API_VERSION,
    INTERACTION_COMMAND,
    INTERACTION_COMPONENT,
    DiscordState,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeRole,
    FakeUser,
    snowflake,
)

T = TypeVar("T")


class FakeDiscord:
    """Discord API v10 stand-in: REST under /api/v10, gateway websocket under /gateway."""

    def __init__(
        self,
        *,
        token: str | None = None,
        heartbeat_interval: float = 41.25,
        ack_deadline: float = ACK_DEADLINE_SECONDS,
        bot_name: str = "Savant",
        recommended_shards: int = 1,
    ) -> None:
        self.state = DiscordState(token=token, bot_name=bot_name)
        self.recorder = Recorder()
        self.gateway = Gateway(self.state, self.recorder, heartbeat_interval=heartbeat_interval)
        self.rest = RestApi(
            self.state, self.recorder, self.gateway, ack_deadline=ack_deadline, recommended_shards=recommended_shards
        )
        self.port = 0
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeDiscord:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/gateway", self.gateway.serve)
        app.router.add_route("GET", "/gateway-resume", self.gateway.serve)
        app.router.add_route("*", "/api/v{version:\\d+}/{tail:.*}", self.rest.serve)
        app.router.add_route("GET", "/cdn/attachments/{aid:\\d+}/{name}", self._serve_upload)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.state.cdn_base = f"http://127.0.0.1:{self.port}/cdn"
        return self

    async def _serve_upload(self, request: web.Request) -> web.Response:
        """The bytes of a file attached to a slash command, as Discord's CDN serves them."""
        upload = self.state.uploads.get(int(request.match_info["aid"]))
        if upload is None or upload.filename != request.match_info["name"]:
            return web.Response(status=404)
        return web.Response(body=upload.data, content_type=upload.content_type.split(";")[0])

    async def close(self) -> None:
        """Close every websocket and stop the server."""
        await self.gateway.close()
        self.rest.close()
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

    # ------------------------------------------------------------------ the parts scenarios use most

    @property
    def token(self) -> str:
        """The bot token the stand-in accepts."""
        return self.state.token

    @property
    def bot_user(self) -> FakeUser:
        """The bot's own user."""
        return self.state.bot_user

    @property
    def guilds(self) -> dict[int, FakeGuild]:
        """Every guild, by id."""
        return self.state.guilds

    @property
    def global_commands(self) -> list[dict[str, Any]]:
        """The application commands the bot registered globally."""
        return self.state.global_commands

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every REST request so far."""
        return self.recorder.requests

    @property
    def frames(self) -> list[GatewayFrame]:
        """Every gateway payload so far, both directions."""
        return self.recorder.frames

    @property
    def heartbeat_interval(self) -> float:
        """The heartbeat interval announced in HELLO, in seconds."""
        return self.gateway.heartbeat_interval

    def add_guild(
        self,
        name: str,
        *,
        members: Iterable[str] = (),
        moderators: Iterable[str] = (),
        guild_id: int | None = None,
    ) -> FakeGuild:
        """Create a guild with an owner, a moderator role (Manage Server), the bot and two text channels."""
        return self.state.add_guild(name, members=members, moderators=moderators, guild_id=guild_id)

    def add_member(self, guild: FakeGuild, name: str, *, roles: Iterable[FakeRole] = ()) -> FakeMember:
        """Add a member to a guild (before the bot connects, or announce it yourself)."""
        return self.state.add_member(guild, name, roles=roles)

    def add_role(self, guild: FakeGuild, name: str, permissions: int = 0) -> FakeRole:
        """Add a role to a guild."""
        return self.state.add_role(guild, name, permissions)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and a user (created on first use)."""
        return self.state.dm_channel(user)

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages the bot created in a channel through REST (not webhooks)."""
        return self.state.channel_messages(channel_id)

    def requests_to(self, route: str) -> list[RecordedRequest]:
        """Recorded requests for a route name such as `channel_message` or `webhook_followup`."""
        return self.recorder.requests_to(route)

    def inject(self, path: str, **fault: Any) -> Fault:
        """Arm a REST fault (see `RestApi.inject`)."""
        return self.rest.inject(path, **fault)

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the live gateway connections with a close code that lets discord.py resume."""
        await self.gateway.drop(code)

    async def ping(self) -> float:
        """Round trip of a heartbeat request to the bot, in seconds (see `Gateway.ping`)."""
        return await self.gateway.ping()

    # ------------------------------------------------------------------ waiting

    async def wait_until(self, predicate: Callable[[], T], *, timeout: float = 20.0, what: str = "condition") -> T:
        """Wait until `predicate()` is truthy and return its value; fail with `what` after `timeout`."""
        return await self.recorder.wait_until(predicate, timeout=timeout, what=what)

    def is_ready(self) -> bool:
        """Whether READY and one GUILD_CREATE per guild were sent."""
        return bool(self.recorder.events_sent("READY")) and len(self.recorder.events_sent("GUILD_CREATE")) >= len(
            self.guilds
        )

    async def wait_ready(self, *, timeout: float = 30.0) -> None:
        """Wait until a bot identified and received READY and every GUILD_CREATE."""
        await self.wait_until(self.is_ready, timeout=timeout, what="READY and GUILD_CREATE sent")

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

    # ------------------------------------------------------------------ what members do

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
        data = self.state.command_data(guild, command, values)
        inter = self.state.new_interaction(guild, channel, user, INTERACTION_COMMAND)
        inter.payload["data"] = data
        await self._dispatch_interaction(inter)
        return inter

    async def add_forum(self, guild: FakeGuild, name: str) -> FakeChannel:
        """Create a forum channel in a guild the bot is in (CHANNEL_CREATE)."""
        forum = FakeChannel(snowflake(), name, guild.id, 15, len(guild.channels))
        guild.channels[forum.id] = forum
        await self.gateway.dispatch("CHANNEL_CREATE", forum.to_dict())
        return forum

    async def post_forum(
        self, guild: FakeGuild, forum: FakeChannel, author: FakeMember, title: str, content: str
    ) -> tuple[FakeChannel, dict[str, Any]]:
        """A member opens a post in a forum: THREAD_CREATE, then its first message (which has the thread's id)."""
        thread = FakeChannel(snowflake(), title, guild.id, 11, parent_id=forum.id, owner_id=author.id)
        guild.channels[thread.id] = thread
        await self.gateway.dispatch("THREAD_CREATE", {**thread.to_dict(), "newly_created": True})
        message = self.state.user_message(guild, thread, author, content, message_id=thread.id)
        await self.gateway.dispatch("MESSAGE_CREATE", message)
        return thread, message

    async def message_command(
        self, guild: FakeGuild, user: FakeMember, name: str, message: dict[str, Any]
    ) -> FakeInteraction:
        """Dispatch a message context-menu command (right click on `message`, Apps, `name`)."""
        cmd = self.state.command(guild.id, name, type_=3)
        channel = self.state.find_channel(int(message["channel_id"]))
        assert channel is not None, "message in an unknown channel"
        inter = self.state.new_interaction(guild, channel, user, INTERACTION_COMMAND)
        inter.payload["data"] = {
            "id": cmd["id"],
            "name": name,
            "type": 3,
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: message}},
        }
        await self._dispatch_interaction(inter)
        return inter

    async def click(
        self, guild: FakeGuild | None, user: FakeMember | FakeUser, message: dict[str, Any], custom_id: str
    ) -> FakeInteraction:
        """Dispatch a button click on a message the bot sent."""
        channel = self.state.find_channel(int(message["channel_id"]))
        assert channel is not None, "message in an unknown channel"
        inter = self.state.new_interaction(guild, channel, user, INTERACTION_COMPONENT)
        inter.payload["message"] = message
        inter.payload["data"] = {"custom_id": custom_id, "component_type": 2}
        await self._dispatch_interaction(inter)
        return inter

    async def _dispatch_interaction(self, inter: FakeInteraction) -> None:
        inter.dispatched_at = time.monotonic()
        sent = await self.gateway.dispatch("INTERACTION_CREATE", inter.payload)
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
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Dispatch MESSAGE_CREATE for a message a member wrote (a reply to `reply_to` when given); returns the
        message payload."""
        message = self.state.user_message(
            guild,
            channel,
            author,
            content,
            mentions=mentions,
            mention_roles=mention_roles,
            mention_everyone=mention_everyone,
            reply_to=reply_to,
        )
        await self.gateway.dispatch("MESSAGE_CREATE", message)
        return message
