"""A local stand-in for Discord's API v10 (REST + gateway websocket) on 127.0.0.1, for end-to-end tests and benchmarks.

It serves what discord.py 2.x sends at start-up and while answering interactions, records every
request and gateway frame with timings, and misbehaves on demand (429 with the rate-limit headers
discord.py reads, 5xx, dropped websocket, delayed replies). Several gateway connections may be live
at once, each identified as a shard and receiving only its guilds' events, as on Discord.
`BotProcess` runs the real bot (`python -m bot run`) against it as a subprocess.

Modules: `state` (the world and its JSON shapes), `recorder` (what went over the wire), `gateway`
(the websocket), `rest` (the HTTP routes and faults), `server` (`FakeDiscord`, all of it on one port),
`process` (the bot subprocess and a ready-made world).
"""

from .gateway import OP_HEARTBEAT, Connection, Gateway, Session
from .process import BotProcess, World, message_text, read_db, start_world, stop_world
from .recorder import GatewayFrame, RecordedRequest, Recorder
from .rest import Fault, RestApi
from .server import FakeDiscord
from .state import (
    CALLBACK_DEFERRED_MESSAGE,
    CALLBACK_MESSAGE,
    CALLBACK_UPDATE_MESSAGE,
    EPHEMERAL_FLAG,
    MANAGE_GUILD,
    DiscordState,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeRole,
    FakeUser,
    Upload,
    guild_shard,
    snowflake,
    snowflake_on_shard,
)

__all__ = [
    "CALLBACK_DEFERRED_MESSAGE",
    "CALLBACK_MESSAGE",
    "CALLBACK_UPDATE_MESSAGE",
    "EPHEMERAL_FLAG",
    "MANAGE_GUILD",
    "OP_HEARTBEAT",
    "BotProcess",
    "Connection",
    "DiscordState",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "Fault",
    "Gateway",
    "GatewayFrame",
    "RecordedRequest",
    "Recorder",
    "RestApi",
    "Session",
    "Upload",
    "World",
    "guild_shard",
    "message_text",
    "read_db",
    "snowflake",
    "snowflake_on_shard",
    "start_world",
    "stop_world",
]
