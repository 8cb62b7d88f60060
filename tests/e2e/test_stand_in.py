"""The stand-in speaks Discord well enough for an unmodified discord.py client (no bot code involved)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.stand_in import CALLBACK_DEFERRED_MESSAGE, FakeDiscord, guild_shard, snowflake_on_shard


class PlainClient(discord.Client):
    """A minimal discord.py client: one slash command that defers then follows up, and a message listener.

    `guild_ready_timeout` is lowered from discord.py's 2 s: the stand-in sends every GUILD_CREATE right after
    READY, so waiting longer for more only slows each test down.
    """

    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none(), guild_ready_timeout=0.1)
        self.tree = app_commands.CommandTree(self)
        self.seen_messages: list[discord.Message] = []
        self.resumed = asyncio.Event()

        @self.tree.command(name="echo", description="Répète le texte")
        @app_commands.describe(texte="Le texte à répéter")
        async def echo(interaction: discord.Interaction, texte: str) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send(f"Écho : {texte}", allowed_mentions=discord.AllowedMentions.none())

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append(message)
        if message.author.bot or message.guild is None:
            return
        await message.reply(f"Reçu : {message.content}", mention_author=False)

    async def on_resumed(self) -> None:
        self.resumed.set()


async def until_ready(fake: FakeDiscord, client: discord.Client, task: asyncio.Task[None]) -> None:
    """Wait for the client's on_ready (no polling: that would add up to half a second per test); fail if it stops."""
    await fake.wait_ready()
    ready = asyncio.create_task(client.wait_until_ready())
    await asyncio.wait({ready, task}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    if task.done():
        task.result()  # raises what stopped the client
    if not client.is_ready():
        raise TimeoutError("the client did not reach on_ready within 20 s")


@pytest_asyncio.fixture
async def plain_client(fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[PlainClient]:
    """A discord.py client connected to the stand-in in this event loop."""
    monkeypatch.setattr(Route, "BASE", fake_discord.api_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake_discord.gateway_url))
    client = PlainClient()
    task = asyncio.create_task(client.start(fake_discord.token))
    try:
        await until_ready(fake_discord, client, task)
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, timeout=10)


async def test_login_sync_and_ready(fake_discord: FakeDiscord, plain_client: PlainClient) -> None:
    routes = [r.route for r in fake_discord.requests]
    assert routes[:2] == ["users_me", "application"]
    assert "commands_sync" in routes
    assert "unknown" not in routes, [r.path for r in fake_discord.requests if r.route == "unknown"]
    assert [c["name"] for c in fake_discord.global_commands] == ["echo"]
    assert {g.id for g in plain_client.guilds} == set(fake_discord.guilds)
    guild = plain_client.get_guild(next(iter(fake_discord.guilds)))
    assert guild is not None and len(guild.text_channels) == 3
    # discord.py asked for zlib-stream compression and decoded our compressed frames.
    hello = next(f for f in fake_discord.frames if f.direction == "send")
    assert hello.connection == 1
    assert fake_discord.gateway.connections[0].compress == "zlib-stream"
    assert fake_discord.recorder.identify_payloads[0]["token"] == "<redacted>"
    assert fake_discord.recorder.identify_payloads[0]["intents"] & (1 << 15)  # message content
    # Every request declares JSON exactly, and carries the bot token on authenticated routes.
    for req in fake_discord.requests:
        if req.body is not None and not req.files:
            assert req.content_type == "application/json"


async def test_slash_command_deferred_then_followed_up(fake_discord: FakeDiscord, plain_client: PlainClient) -> None:
    guild = next(iter(fake_discord.guilds.values()))
    user = guild.member("camille")
    inter = await fake_discord.slash(guild, guild.channel("questions"), user, "echo", texte="bonjour @everyone")
    answer = await fake_discord.wait_answer(inter)
    assert inter.acked and inter.ack_type == CALLBACK_DEFERRED_MESSAGE
    assert inter.ack_delay is not None and inter.ack_delay < fake_discord.rest.ack_deadline
    assert answer["content"] == "Écho : bonjour @everyone"
    followup = fake_discord.requests_to("webhook_followup")[0]
    assert followup.body["allowed_mentions"] == {"parse": []}
    assert followup.query.get("wait") == "1"


async def test_message_create_and_reply(fake_discord: FakeDiscord, plain_client: PlainClient) -> None:
    guild = next(iter(fake_discord.guilds.values()))
    channel = guild.channel("général")
    msg = await fake_discord.post_message(guild, channel, guild.member("malo"), "Salut le bot")
    await fake_discord.wait_until(lambda: fake_discord.channel_messages(channel.id), what="reply")
    reply = fake_discord.channel_messages(channel.id)[0]
    assert reply["content"] == "Reçu : Salut le bot"
    assert reply["message_reference"]["message_id"] == msg["id"]
    assert plain_client.seen_messages[0].author.id == guild.member("malo").id


async def test_late_callback_is_refused(fake_discord: FakeDiscord, plain_client: PlainClient) -> None:
    fake_discord.rest.ack_deadline = 0.0  # every callback now arrives "after 3 s"
    guild = next(iter(fake_discord.guilds.values()))
    inter = await fake_discord.slash(guild, guild.channel("questions"), guild.member("camille"), "echo", texte="x")
    await fake_discord.wait_acked(inter)
    assert not inter.acked and inter.late_callbacks
    assert fake_discord.requests_to("interaction_callback")[-1].status == 404


async def test_resume_after_drop_replays_missed_events(fake_discord: FakeDiscord, plain_client: PlainClient) -> None:
    guild = next(iter(fake_discord.guilds.values()))
    await fake_discord.drop_gateway(code=4000)
    # Dispatched while the bot is away: kept in the session and replayed on RESUME.
    inter = await fake_discord.slash(guild, guild.channel("questions"), guild.member("camille"), "echo", texte="après")
    answer = await fake_discord.wait_answer(inter, timeout=30)
    assert answer["content"] == "Écho : après"
    assert fake_discord.recorder.resumes and fake_discord.recorder.resumes[0]["token"] == "<redacted>"
    assert len(fake_discord.recorder.identify_payloads) == 1
    assert fake_discord.gateway.connections[-1].path == "/gateway-resume"
    await asyncio.wait_for(plain_client.resumed.wait(), timeout=10)


async def test_rate_limited_followup_is_retried(fake_discord: FakeDiscord, plain_client: PlainClient) -> None:
    fault = fake_discord.inject(r"^/webhooks/", method="POST", status=429, retry_after=0.5)
    guild = next(iter(fake_discord.guilds.values()))
    inter = await fake_discord.slash(guild, guild.channel("questions"), guild.member("camille"), "echo", texte="lent")
    answer = await fake_discord.wait_answer(inter)
    assert answer["content"] == "Écho : lent"
    statuses = [r.status for r in fake_discord.requests_to("webhook_followup")]
    assert statuses == [429, 200] and fault.hits == 1


async def test_server_error_is_retried(fake_discord: FakeDiscord, plain_client: PlainClient) -> None:
    fake_discord.inject(r"^/channels/\d+/messages$", method="POST", status=500)
    guild = next(iter(fake_discord.guilds.values()))
    channel = guild.channel("général")
    await fake_discord.post_message(guild, channel, guild.member("malo"), "Encore")
    await fake_discord.wait_until(lambda: fake_discord.channel_messages(channel.id), what="reply after 500")
    assert [r.status for r in fake_discord.requests_to("channel_message")] == [500, 200]


async def test_ping_measures_round_trip(fake_discord: FakeDiscord, plain_client: PlainClient) -> None:
    rtt = await fake_discord.ping()
    assert 0 < rtt < 30


async def test_wrong_token_is_refused(fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Route, "BASE", fake_discord.api_base)
    client = discord.Client(intents=discord.Intents.none())
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()


# ----------------------------------------------------------------------------- shards


class ShardedClient(discord.AutoShardedClient):
    """A plain discord.py sharded client that records the messages and interactions it receives."""

    def __init__(self, **shards: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(
            intents=intents, allowed_mentions=discord.AllowedMentions.none(), guild_ready_timeout=0.1, **shards
        )
        self.seen_messages: list[discord.Message] = []
        self.seen_interactions: list[discord.Interaction] = []

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Identify at once: discord.py waits 5 s between shards for Discord's identify rate limit."""

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append(message)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.seen_interactions.append(interaction)


@pytest_asyncio.fixture
async def sharded_fake() -> AsyncIterator[FakeDiscord]:
    """A stand-in advising two shards, with two guilds on each."""
    fake = FakeDiscord(recommended_shards=2)
    for shard_id in (0, 1, 0, 1):
        fake.add_guild(f"Serveur {len(fake.guilds) + 1}", members=["camille"], guild_id=snowflake_on_shard(shard_id, 2))
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, client: discord.Client) -> AsyncIterator[asyncio.Task[None]]:
    """Run a client against the stand-in for the block's duration; yields its task."""
    task = asyncio.create_task(client.start(fake.token))
    try:
        yield task
    finally:
        await client.close()
        await asyncio.wait_for(task, timeout=10)


def guilds_of_shard(fake: FakeDiscord, shard_id: int, shard_count: int = 2) -> set[int]:
    """Ids of the guilds whose events go to a shard."""
    return {g for g in fake.guilds if guild_shard(g, shard_count) == shard_id}


async def test_two_shard_processes_each_receive_only_their_guilds(
    sharded_fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = sharded_fake
    monkeypatch.setattr(Route, "BASE", fake.api_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    # One client per shard, as two bot processes would run them.
    clients = [ShardedClient(shard_ids=[0], shard_count=2), ShardedClient(shard_ids=[1], shard_count=2)]
    async with running(fake, clients[0]) as first, running(fake, clients[1]) as second:
        await until_ready(fake, clients[0], first)
        await until_ready(fake, clients[1], second)
        expected = [guilds_of_shard(fake, 0), guilds_of_shard(fake, 1)]
        assert all(len(ids) == 2 for ids in expected)

        assert sorted(p["shard"] for p in fake.recorder.identify_payloads) == [[0, 2], [1, 2]]
        assert len({c.number for c in fake.gateway.connections if c.shard is not None}) == 2
        for shard_id, client in enumerate(clients):
            ready = fake.recorder.events_sent("READY", shard=shard_id)
            assert len(ready) == 1 and ready[0].data["shard"] == [shard_id, 2]
            assert {int(g["id"]) for g in ready[0].data["guilds"]} == expected[shard_id]
            created = fake.recorder.events_sent("GUILD_CREATE", shard=shard_id)
            assert {int(f.data["id"]) for f in created} == expected[shard_id]
            assert {g.id for g in client.guilds} == expected[shard_id]

        # Live events go to the shard of their guild; a direct message goes to shard 0.
        for guild in fake.guilds.values():
            message = await fake.post_message(guild, guild.channel("général"), guild.member("camille"), guild.name)
            await fake.click(guild, guild.member("camille"), message, "bouton")
        camille = next(iter(fake.guilds.values())).member("camille")
        await fake.post_message(None, fake.dm_channel(camille.user), camille.user, "en privé")
        await fake.wait_until(
            lambda: sum(len(c.seen_messages) + len(c.seen_interactions) for c in clients) == 9,
            what="every event received",
        )
        for shard_id, client in enumerate(clients):
            assert {m.guild.id for m in client.seen_messages if m.guild is not None} == expected[shard_id]
            assert {i.guild_id for i in client.seen_interactions} == expected[shard_id]
        assert [m.content for m in clients[0].seen_messages if m.guild is None] == ["en privé"]
        for frame in fake.recorder.events_sent("MESSAGE_CREATE") + fake.recorder.events_sent("INTERACTION_CREATE"):
            assert frame.shard is not None and frame.shard[0] == guild_shard(int(frame.data.get("guild_id", 0)), 2)


async def test_sharded_client_follows_the_recommended_shard_count(
    sharded_fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = sharded_fake
    monkeypatch.setattr(Route, "BASE", fake.api_base)  # no gateway override: the address comes from /gateway/bot
    client = ShardedClient()
    async with running(fake, client) as task:
        await until_ready(fake, client, task)
        assert [r.status for r in fake.requests_to("gateway_bot")] == [200]
        assert client.shard_count == 2
        assert sorted(p["shard"] for p in fake.recorder.identify_payloads) == [[0, 2], [1, 2]]
        assert {g.id for g in client.guilds} == set(fake.guilds)
        assert all(g.shard_id == guild_shard(g.id, 2) for g in client.guilds)
        for shard_id in (0, 1):
            created = fake.recorder.events_sent("GUILD_CREATE", shard=shard_id)
            assert {int(f.data["id"]) for f in created} == guilds_of_shard(fake, shard_id)


async def test_shard_out_of_range_is_refused(fake_discord: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(fake_discord.gateway_url) as ws:
        assert (await ws.receive_json())["op"] == 10  # HELLO
        identify = {"token": fake_discord.token, "intents": 0, "properties": {}, "shard": [2, 2]}
        await ws.send_json({"op": 2, "d": identify})
        closed = await ws.receive()
        assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 4010  # Invalid shard, as on Discord
    assert fake_discord.gateway.session is None
