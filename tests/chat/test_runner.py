"""Starting the bot: no token means a French message and exit 2; addresses and token redaction; Discord
unreachable or failing is one French line, retried with a growing wait, and SIGTERM still exits cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from unittest import mock

import discord
import pytest
import yarl
from aiohttp import web
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.chat.command_sync import STATE_FILE_NAME
from bot.chat.runner import (
    REDACTED,
    RedactSecrets,
    api_base_url,
    point_discord_at,
    run_bot,
    setup_logging,
    sync_commands,
    sync_now,
)
from bot.config import Settings
from bot.storage import database_label

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.secret-token-value_0123456789"


def test_run_without_token_exits_2_with_a_french_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_bot(Settings(discord_token=None)) == 2
    err = capsys.readouterr().err
    assert "DISCORD_TOKEN" in err and ".env" in err and "Aucun jeton Discord" in err


def test_python_m_bot_run_without_token_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr and ".env" in result.stderr


def test_python_m_bot_sync_without_token_exits_2_with_a_french_hint(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "sync"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "Aucun jeton Discord" in result.stderr and "python -m bot sync" in result.stderr
    assert sync_commands(Settings(discord_token=None)) == 2


async def test_sync_logs_in_syncs_the_bots_commands_even_when_unchanged_and_exits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(discord_token=TOKEN, database_path=tmp_path / "bot.sqlite3")
    synced: list[set[str]] = []

    async def sync(self: app_commands.CommandTree, *, guild: discord.abc.Snowflake | None = None) -> list:
        synced.append({c.name for c in self.get_commands(guild=guild)})
        return []

    with (
        mock.patch.object(commands.Bot, "login", mock.AsyncMock()) as login,
        mock.patch.object(app_commands.CommandTree, "sync", sync),
    ):
        assert await sync_now(settings) == 0
        assert await sync_now(settings) == 0  # forced: the stored hash does not stop it
    assert login.await_args_list == [mock.call(TOKEN), mock.call(TOKEN)]
    assert synced == [{"question", "admin", "oubli", "Demander au bot"}] * 2
    assert (tmp_path / STATE_FILE_NAME).exists()
    assert "Commandes slash synchronisées (global)" in capsys.readouterr().out


async def test_sync_with_a_refused_token_exits_1_with_a_french_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(discord_token=TOKEN, database_path=tmp_path / "bot.sqlite3")
    refused = mock.AsyncMock(side_effect=discord.LoginFailure("Improper token has been passed."))
    with mock.patch.object(commands.Bot, "login", refused):
        assert await sync_now(settings) == 1
    assert "Discord a refusé le jeton" in capsys.readouterr().err
    assert not (tmp_path / STATE_FILE_NAME).exists()


def test_token_is_redacted_from_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(TOKEN))
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("token is %s", TOKEN)
        logger.warning(f"Authorization: Bot {TOKEN}")
        try:
            raise RuntimeError(f"bad header {TOKEN}")
        except RuntimeError:
            logger.exception("request failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert TOKEN not in output
    assert output.count(REDACTED) == 3
    assert "RuntimeError: bad header" in output and "Traceback" in output


def test_the_database_password_is_redacted_like_the_token(capsys: pytest.CaptureFixture) -> None:
    """A driver's error may quote the address it was given: the log filter hides the password too, even one holding
    characters that an address would encode (`#`, `/`)."""
    password = "mot#de/passe-42"
    settings = Settings(discord_token=TOKEN, database_url=f"postgresql://bot:{password}@db.example/bot")
    root = logging.getLogger()
    level = root.level
    handler = setup_logging(settings)
    try:
        logging.getLogger("tests.database_redaction").warning("connexion refusée pour bot:%s@db.example", password)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)  # setup_logging sets the root level: later tests count the records they see
    err = capsys.readouterr().err
    assert password not in err and REDACTED in err
    assert database_label(settings.database_path, settings.database_url) == "postgresql://bot:***@db.example/bot"
    assert database_label(settings.database_path, None) == str(settings.database_path)


def test_api_base_keeps_a_versioned_path_or_adds_one() -> None:
    assert api_base_url("http://127.0.0.1:8080/api/v10") == "http://127.0.0.1:8080/api/v10"
    assert api_base_url("http://127.0.0.1:8080/api/v10/") == "http://127.0.0.1:8080/api/v10"
    assert api_base_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080/api/v10"


def test_point_discord_at_changes_rest_and_gateway_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)
    point_discord_at(None, None)
    assert Route.BASE == "https://discord.com/api/v10"
    assert yarl.URL("wss://gateway.discord.gg/") == DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_at("http://127.0.0.1:9999/api/v10", "ws://127.0.0.1:9999/gateway")
    assert Route("GET", "/users/@me").url == "http://127.0.0.1:9999/api/v10/users/@me"
    assert yarl.URL("ws://127.0.0.1:9999/gateway") == DiscordWebSocket.DEFAULT_GATEWAY


def test_run_with_a_truncated_gzip_corpus_exits_2_with_a_french_message(tmp_path: Path) -> None:
    corpus = tmp_path / "docs.jsonl.gz"
    lines = "".join(f'{{"id": "{i}", "text": "Article numéro {i}."}}\n' for i in range(500))
    corpus.write_bytes(gzip.compress(lines.encode())[:200])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
    env.update(PYTHONPATH=str(ROOT), DISCORD_TOKEN=TOKEN, BOT_CORPUS=str(corpus), BOT_DATABASE=str(tmp_path / "b.db"))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "Erreur de corpus" in result.stderr and "docs.jsonl.gz" in result.stderr and "tronqué" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_with_an_unusable_data_folder_exits_1_naming_it_in_french(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("un fichier là où le dossier des données devrait être")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
    env.update(PYTHONPATH=str(ROOT), DISCORD_TOKEN=TOKEN, BOT_DATABASE=str(blocker / "bot.sqlite3"))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert f"dossier des données {blocker} inutilisable (un fichier se trouve là où un dossier est attendu" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr and "unable to open" not in result.stderr


class _BotRun:
    """`python -m bot run` in a subprocess pointed at `api_base`, its stderr collected line by line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, api_base: str, tmp_path: Path) -> _BotRun:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
        env.update(
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
            DISCORD_TOKEN=TOKEN,
            DISCORD_API_BASE=api_base,
            DISCORD_GATEWAY_URL="ws://127.0.0.1:9/gateway",
            BOT_CORPUS=str(ROOT / "seeds"),
            BOT_DATABASE=str(tmp_path / "bot.sqlite3"),
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
        )
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.lines.append(line.decode("utf-8", "replace").rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.proc.returncode is None, f"bot exited early:\n{self.output}"
            assert time.monotonic() < deadline, f"timed out:\n{self.output}"
            await asyncio.sleep(0.05)

    async def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = await asyncio.wait_for(self.proc.wait(), timeout=15)
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
        await asyncio.wait_for(self._reader, timeout=5)
        return status


@contextlib.asynccontextmanager
async def _discord_answering(status: int) -> AsyncIterator[list[str]]:
    """A stand-in of Discord's API on 127.0.0.1 answering `status` to everything; yields the requested paths."""
    requests: list[str] = []

    async def reply(request: web.Request) -> web.Response:
        requests.append(request.path)
        return web.json_response({"message": "boom", "code": 0}, status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", reply)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    requests.append(f"http://127.0.0.1:{port}/api/v10")  # first item: the base address to give the bot
    try:
        yield requests
    finally:
        await runner.cleanup()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def _clean(output: str) -> None:
    assert "Traceback" not in output and "Session is closed" not in output, output


async def test_unreachable_discord_is_one_french_line_then_retried_and_sigterm_exits_cleanly(tmp_path: Path) -> None:
    bot = await _BotRun.start(f"http://127.0.0.1:{_closed_port()}/api/v10", tmp_path)
    await bot.wait_for(lambda: "nouvelle tentative dans 5 s" in bot.output)
    assert await bot.terminate() == 0
    failures = [line for line in bot.lines if "Impossible de joindre Discord" in line]
    assert len(failures) == 1 and failures[0].startswith("Impossible de joindre Discord (")
    assert "bot stopped" in bot.output
    _clean(bot.output)


async def test_discord_answering_503_is_retried_with_a_growing_wait(tmp_path: Path) -> None:
    async with _discord_answering(503) as requests:
        bot = await _BotRun.start(requests[0], tmp_path)
        await bot.wait_for(lambda: "nouvelle tentative dans 10 s" in bot.output, timeout=90)
        assert await bot.terminate() == 0
    assert "Impossible de joindre Discord (réponse HTTP 503) : nouvelle tentative dans 5 s." in bot.lines
    assert requests[1:] == ["/api/v10/users/@me", "/api/v10/users/@me"]  # one login a try
    _clean(bot.output)


async def test_sigterm_while_discord_answers_500_exits_cleanly(tmp_path: Path) -> None:
    async with _discord_answering(500) as requests:
        bot = await _BotRun.start(requests[0], tmp_path)
        await bot.wait_for(lambda: len(requests) > 1)  # logging in, in discord.py's own retries of a 500
        assert await bot.terminate() == 0
    assert "bot stopped" in bot.output
    _clean(bot.output)
