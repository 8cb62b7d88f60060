"""The real bot (`python -m bot run`) as a subprocess against a stand-in, and a ready-made world of three guilds."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sqlite3
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .server import FakeDiscord
from .state import FakeChannel, FakeGuild, FakeInteraction, FakeMember

REPO_ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """The real bot (`python -m bot run [args]`) as a subprocess pointed at a stand-in."""

    def __init__(
        self,
        fake: FakeDiscord,
        *,
        database: Path,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.fake = fake
        self.database = database
        self.extra_env = dict(env or {})
        self.args = list(args)
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
            *self.args,
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
            self.fake.recorder.notify()  # conditions on the log are checked again at once, not at the next poll

    async def wait_ready(self, *, timeout: float = 60.0, shards: Collection[int] | None = None) -> None:
        """Wait until the bot is connected and has synced its commands; fail early if it exits.

        With `shards` (a bot running only some shards, other processes the rest), wait instead until each
        of them received READY and the bot logged that it is connected.
        """

        def ready_or_dead() -> bool:
            if self.proc is not None and self.proc.returncode is not None:
                return True
            if shards is not None:
                readied = all(self.fake.recorder.events_sent("READY", shard=shard) for shard in shards)
                return readied and any(_looks_ready(line) for line in self.log_lines)
            state = self.fake.state
            return bool(state.global_commands or state.guild_commands) and self.fake.is_ready()

        await self.fake.wait_until(ready_or_dead, timeout=timeout, what="the bot to connect")
        if self.proc is not None and self.proc.returncode is not None:
            raise RuntimeError(f"bot exited with {self.proc.returncode}:\n{self.log}")
        if shards is not None:
            return
        # discord.py fires on_ready after guild_ready_timeout (2 s) with no further GUILD_CREATE;
        # the bot's log line saying it is ready, when present, is the surest signal.
        with contextlib.suppress(TimeoutError):
            await self.fake.wait_until(
                lambda: any(_looks_ready(line) for line in self.log_lines), timeout=5.0, what="ready log line"
            )

    async def kill(self) -> int | None:
        """SIGKILL the bot, as a crash or the kernel's OOM killer would (no clean-up at all); its exit status (-9)."""
        if self.proc is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, timeout=5)
        return self.proc.returncode

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
        self, guild: FakeGuild, user: FakeMember, text: str, *, channel: FakeChannel | None = None, logged: bool = True
    ) -> tuple[FakeInteraction, dict[str, Any]]:
        """Run `/question texte:<text>` and wait for the answer message; with `logged`, also for its feedback
        buttons, which the bot adds by editing the answer once the question is logged (answers go out first)."""
        inter = await self.fake.slash(guild, channel or guild.channel("questions"), user, "question", texte=text)
        answer = await self.fake.wait_answer(inter)
        if logged:
            await self.fake.wait_until(lambda: answer.get("components"), what="the answer's feedback buttons")
        return inter, answer

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


def message_text(message: dict[str, Any]) -> str:
    """A message as a member reads it: content, then each embed's title, description, fields and footer, without
    the Markdown bold the bot puts around the answer (its words are quoted as they are)."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields", [])]
        parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(parts).replace("**", "")
