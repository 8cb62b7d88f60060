"""Starting the bot: no token means a French message and exit 2; addresses and token redaction."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.chat.command_sync import STATE_FILE_NAME
from bot.chat.runner import REDACTED, RedactToken, api_base_url, point_discord_at, run_bot, sync_commands, sync_now
from bot.config import Settings

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
    assert synced == [{"question", "admin", "oubli"}] * 2
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
    handler.addFilter(RedactToken(TOKEN))
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
