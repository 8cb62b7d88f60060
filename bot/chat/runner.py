"""Starting the Discord bot process: logging, API/gateway addresses, engine, database, signals.

`run_bot(settings)` is what `python -m bot run` calls once the settings are loaded, and
`sync_commands(settings)` what `python -m bot sync` calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from urllib.parse import urlsplit

import aiohttp
import discord
import yarl
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.app import engine_for
from bot.chat.bot import EXTENSIONS, QABot, build_lock, intents
from bot.chat.command_sync import CommandSync
from bot.chat.coordination import exclusive
from bot.config import Settings
from bot.ingest.sandbox import stop_parses
from bot.search.corpus import CorpusError
from bot.search.engine import Engine
from bot.storage import Storage, database_label, database_password

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
API_VERSION_PATH = "/api/v10"
REDACTED = "[jeton masqué]"

NO_TOKEN = (
    "Aucun jeton Discord : ajoutez la ligne DISCORD_TOKEN=<votre jeton> au fichier .env "
    "(à côté de docker-compose.yml ; voir .env.example), puis relancez « python -m bot {command} »."
)
TOKEN_REFUSED = "Discord a refusé le jeton : vérifiez la valeur de DISCORD_TOKEN dans le fichier .env."
UNREACHABLE = "Impossible de joindre Discord ({reason}) : nouvelle tentative dans {delay:g} s."
UNEXPECTED_REPLY = (
    "Discord a répondu par une erreur inattendue ({reason}) : vérifiez DISCORD_API_BASE ou l'état de Discord."
)
RETRY_FIRST_SECONDS = 5.0  # first wait after Discord could not be reached, doubled at each failure
RETRY_MAX_SECONDS = 300.0
INTENT_MISSING = (
    "Discord refuse l'intention « Message Content » : activez « MESSAGE CONTENT INTENT » dans le portail "
    "des développeurs (Application > Bot > Privileged Gateway Intents), puis relancez le bot."
)


class RedactSecrets(logging.Filter):
    """Replaces the Discord token and the database password by a placeholder in log messages and tracebacks:
    a last guard behind the messages that never name them (a driver's error could quote them)."""

    def __init__(self, *secrets: str | None) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info:
            # Fold the traceback into the message so it can be checked like the rest.
            message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
            record.exc_info = None
            record.exc_text = None
        elif record.exc_text:
            message = f"{message}\n{record.exc_text}"
            record.exc_text = None
        for secret in self.secrets:
            message = message.replace(secret, REDACTED)
        record.msg = message
        record.args = None
        return True


def setup_logging(settings: Settings) -> logging.Handler:
    """Log to stderr with discord.py's format, the token and the database password redacted; returns the handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactSecrets(settings.discord_token, database_password(settings.database_url)))
    discord.utils.setup_logging(handler=handler, level=logging.getLevelName(settings.log_level), root=True)
    return handler


def api_base_url(value: str) -> str:
    """A REST base for discord.py: kept as given when it has a path, else `/api/v10` is appended."""
    value = value.rstrip("/")
    return value if urlsplit(value).path not in ("", "/") else value + API_VERSION_PATH


def point_discord_at(api_base: str | None, gateway_url: str | None) -> None:
    """Send discord.py's REST calls and its gateway websocket to other addresses when given.

    discord.py builds every REST URL (webhook follow-ups included) from `Route.BASE`; each shard
    connects to `DiscordWebSocket.DEFAULT_GATEWAY` (`QABot.launch_shards` makes sure of it even when
    the shard count comes from `GET /gateway/bot`), then resumes on the `resume_gateway_url` the
    gateway sends in READY.
    """
    if api_base:
        Route.BASE = api_base_url(api_base)
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def _log_progress(done: int, total: int) -> None:
    log.info("indexing the corpus: %d/%d documents", done, total)


def _first_engine(settings: Settings) -> Engine:
    """The engine to start with (blocking). Processes started together take turns, so the first one builds and
    saves the index while the others wait, then load it."""
    with exclusive(build_lock(settings)):
        return engine_for(settings, None, _log_progress)


async def serve(settings: Settings) -> int:
    """Build the engine, open the database, run the bot until it is closed (signal or error)."""
    assert settings.discord_token
    try:
        engine = await asyncio.to_thread(_first_engine, settings)
    except CorpusError as exc:
        print(f"Erreur de corpus : {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        storage = await Storage.open(settings.database_path, url=settings.database_url)
    except Exception as exc:
        label = database_label(settings.database_path, settings.database_url)
        print(f"Impossible d'ouvrir la base de données {label} : {exc}", file=sys.stderr)
        return EXIT_FAILURE
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, _stop, stop, signal.Signals(signum).name)
    log.info(
        "corpus %s: %d documents, %d passages; database %s",
        settings.corpus_path,
        engine.document_count,
        engine.passage_count,
        database_label(settings.database_path, settings.database_url),
    )
    if settings.shards is not None:
        shards = ", ".join(map(str, settings.shards))
        log.info("shards %s sur %d dans ce processus", shards, settings.shard_count)
    delay = RETRY_FIRST_SECONDS
    try:
        while not stop.is_set():
            try:
                # A new client each time: a failed login leaves discord.py's client closed for good.
                await _run_until_stopped(QABot(settings, storage, engine), settings.discord_token, stop)
                break
            except discord.LoginFailure:
                print(TOKEN_REFUSED, file=sys.stderr)
                return EXIT_FAILURE
            except discord.PrivilegedIntentsRequired:
                print(INTENT_MISSING, file=sys.stderr)
                return EXIT_FAILURE
            except (OSError, aiohttp.ClientError, TimeoutError, discord.GatewayNotFound, discord.HTTPException) as exc:
                if isinstance(exc, discord.HTTPException) and exc.status < 500 and exc.status != 429:
                    print(UNEXPECTED_REPLY.format(reason=_reason(exc)), file=sys.stderr)
                    return EXIT_FAILURE
                print(UNREACHABLE.format(reason=_reason(exc), delay=delay), file=sys.stderr, flush=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
        stop_parses()  # a file still being parsed must not hold the shutdown: its child process is killed
        await storage.close()  # here, not in bot.close(), so no cancelled task can leave it half-closed
    log.info("bot stopped")
    return EXIT_OK


async def _run_until_stopped(bot: QABot, token: str, stop: asyncio.Event) -> None:
    """Run `bot` until it ends (raising what made it fail) or `stop` is set (then close it and return).

    A bot still logging in (possibly waiting between discord.py's own retries) is cancelled before it is
    closed, so no request runs on a closed HTTP session; a connected one is closed as usual."""
    running = asyncio.ensure_future(bot.start(token))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            running.result()  # raises what stopped the bot
            return
        if not bot.is_ready():
            running.cancel()
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await running  # after a stop, whatever the interrupted login raises does not matter
    finally:
        stopping.cancel()
        await bot.close()  # shared with the close above: waits for the same shutdown


def _reason(exc: BaseException) -> str:
    """A one-line reason for a connection failure, never a traceback."""
    if isinstance(exc, discord.HTTPException):
        return f"réponse HTTP {exc.status}"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def _stop(stop: asyncio.Event, signal_name: str) -> None:
    log.info("%s received: closing", signal_name)
    stop.set()


def run_bot(settings: Settings) -> int:
    """Run the Discord bot until SIGTERM/Ctrl-C; exit status (2 without a token)."""
    if not settings.discord_token:
        print(NO_TOKEN.format(command="run"), file=sys.stderr)
        return EXIT_USAGE
    setup_logging(settings)
    point_discord_at(settings.api_base, settings.gateway_url)
    try:
        return asyncio.run(serve(settings))
    except KeyboardInterrupt:
        return EXIT_OK


async def sync_now(settings: Settings) -> int:
    """Log in, build the command tree from the same extensions as the bot, sync it whatever the stored hash.

    The extensions only keep a reference to the bot when loaded, so a bare client without engine or
    database builds the same tree; it never connects to the gateway.
    """
    assert settings.discord_token
    client = commands.Bot(command_prefix=commands.when_mentioned, intents=intents(), help_command=None)
    async with client:
        try:
            await client.login(settings.discord_token)
        except discord.LoginFailure:
            print(TOKEN_REFUSED, file=sys.stderr)
            return EXIT_FAILURE
        for name in EXTENSIONS:
            await client.load_extension(name)
        sync = CommandSync.for_settings(settings)
        try:
            await sync.run(client.tree, force=True)
        except discord.HTTPException as exc:
            print(f"Discord a refusé la synchronisation des commandes : {exc}", file=sys.stderr)
            return EXIT_FAILURE
    where = f"serveur {settings.dev_guild_id}" if sync.guild else "global"
    print(f"Commandes slash synchronisées ({where}).")
    return EXIT_OK


def sync_commands(settings: Settings) -> int:
    """`python -m bot sync`: force the slash command sync, then exit (exit status 2 without a token)."""
    if not settings.discord_token:
        print(NO_TOKEN.format(command="sync"), file=sys.stderr)
        return EXIT_USAGE
    setup_logging(settings)
    point_discord_at(settings.api_base, settings.gateway_url)
    return asyncio.run(sync_now(settings))
