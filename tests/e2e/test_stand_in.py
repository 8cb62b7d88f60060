"""The stand-in speaks Discord well enough for an unmodified discord.py client (no bot code involved)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest
import pytest_asyncio
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.stand_in import CALLBACK_DEFERRED_MESSAGE, FakeDiscord


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
