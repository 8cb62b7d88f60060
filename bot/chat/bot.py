"""The Discord bot object: the client's life (extensions, shards, events, closing) and what the extensions share.

Extensions in `bot/chat/exts/` hold the commands; the bot hands them the `Answerer` (`bot.answering`, whose
engine it swaps on re-indexing, or when another process saved or announced a new index), the servers' settings
(`server_settings`), the question limit (`ratelimit`), the storage, and the central error handler for slash
commands; the periodic clean-up runs in `retention`.

The bot runs the Discord shards its settings name (all of them by default) and may be one of several
processes sharing one database: what one process changes there, the others see (settings after at most
`SETTINGS_TTL_SECONDS`, the index within `WATCH_SECONDS` on one machine and at once on any machine with
PostgreSQL, the retention runs once for all of them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.answering import Answerer
from bot.app import INDEX_OPTIONS, corpus_source, engine_options, index_dir, reindex, saved_engine
from bot.chat.command_sync import CommandSync
from bot.chat.conversation import Conversations
from bot.chat.coordination import Schedule, exclusive
from bot.chat.index_watch import WATCH_SECONDS, IndexNotices, IndexWatcher
from bot.chat.messages import CHECK_FAILED, GUILD_ONLY, MISSING_PERMISSION
from bot.chat.ratelimit import QuestionLimit, RateLimiter
from bot.chat.reindexing import Reindexer
from bot.chat.replies import NO_MENTIONS, apologise, respond
from bot.chat.retention import Retention, retention_schedule
from bot.chat.server_settings import ServerSettings
from bot.chat.shards import shard_label
from bot.config import Settings
from bot.ingest.corpus import CorpusSource
from bot.search.engine import Engine, EngineOptions
from bot.search.index_file import index_file, index_key
from bot.search.vector_build import BackgroundVectors
from bot.storage import Storage, StorageError
from bot.storage.connection import DATABASE_ERRORS, Listening

log = logging.getLogger(__name__)

# Loading an extension executes its module afresh: feedback comes before ask, so the buttons ask sends
# are the very FeedbackButton class whose clicks the feedback extension registered.
EXTENSIONS = (
    "bot.chat.exts.feedback",
    "bot.chat.exts.ask",
    "bot.chat.exts.menu",
    "bot.chat.exts.forum",
    "bot.chat.exts.admin",
    "bot.chat.exts.privacy",
)
REINDEX_CHANNEL = "bot_reindex"  # where a process announces the key of the index it re-indexed (PostgreSQL)

# Builds a fresh engine for re-indexing: (corpus source, options, index folder), blocking, run in a thread.
EngineFactory = Callable[[CorpusSource, EngineOptions, Path], Engine]


def intents() -> discord.Intents:
    """Only what the bot uses: servers and channels, messages on servers and in DMs, and their text.

    Message content (privileged) is what answering mentions needs; no members, presences or reactions.
    """
    return discord.Intents(guilds=True, guild_messages=True, dm_messages=True, message_content=True)


class QATree(app_commands.CommandTree):
    """Command tree whose error handler answers the user in French and logs the details."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError, /) -> None:
        if isinstance(error, app_commands.MissingPermissions):
            refusal = MISSING_PERMISSION
        elif isinstance(error, app_commands.NoPrivateMessage):
            refusal = GUILD_ONLY
        elif isinstance(error, app_commands.CheckFailure):
            refusal = CHECK_FAILED
        else:
            command = interaction.command.qualified_name if interaction.command else "?"
            what = f"slash command {command} (guild {interaction.guild_id}, user {interaction.user.id})"
            await apologise(interaction, error, what)
            return
        try:
            await respond(interaction, refusal)
        except discord.HTTPException:
            log.warning("could not send the refusal for interaction %s", interaction.id, exc_info=True)


def build_lock(settings: Settings) -> Path:
    """The lock file that lets one process at a time build the index of the shared corpus."""
    return index_dir(settings) / "build.lock"


class QABot(commands.AutoShardedBot):
    """The question-answering bot; slash commands and mentions, no text-prefix commands.

    It runs the shards `settings.shard_ids` of `settings.shard_count` (by default every shard of the count
    Discord recommends); the `retention` argument is how the processes sharing the database agree who cleans up
    (`retention_schedule`, lock files of one machine, by default).
    """

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        engine: Engine,
        *,
        engine_factory: EngineFactory = reindex,
        rate_limiter: RateLimiter | None = None,
        retention: Schedule | None = None,
    ) -> None:
        super().__init__(
            shard_ids=list(settings.shard_ids) if settings.shard_ids is not None else None,
            shard_count=settings.shard_count,
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents(),
            allowed_mentions=NO_MENTIONS,
            tree_cls=QATree,
            max_messages=None,  # no message cache: the bot never reads a message twice
        )
        self.settings = settings
        self.storage = storage
        self.vectors = BackgroundVectors(settings.corpus_path.name)
        self.answerer = Answerer(engine, storage.guild_documents, engine_options(settings), self.vectors.follow)
        self.server_settings = ServerSettings(storage)
        self.conversations = Conversations()
        limiter = rate_limiter or RateLimiter()
        self.question_limit = QuestionLimit(limiter, settings.rate_limit_count, settings.rate_limit_seconds)
        self.retention = Retention(storage, limiter, retention or retention_schedule(settings), settings.retention_days)
        self.reindexer = Reindexer(lambda: self._build(engine_factory))
        self.index_watcher = IndexWatcher(index_file(index_dir(settings), settings.corpus_path), self.load_saved_index)
        self.index_notices = IndexNotices(self.follow_announced_index)
        self._listening: Listening | None = None
        self._logging_in = False

    @property
    def engine(self) -> Engine:
        """The engine of the shared corpus in service (swapped by the answerer only)."""
        return self.answerer.engine

    # -- lifecycle --

    async def setup_hook(self) -> None:
        """Load the extensions, sync slash commands if they changed since the last sync, start the retention,
        the watches over the saved index and over the indexes other processes announce, and index the servers'
        own documents."""
        for name in EXTENSIONS:
            await self.load_extension(name)
        await CommandSync.for_settings(self.settings).run(self.tree)
        self.retention.start()
        self.vectors.follow(self.engine)
        self.index_watch_task.start()
        try:
            self._listening = await self.storage.listen(REINDEX_CHANNEL, self.index_notices.announce)
        except StorageError as exc:  # the bot serves all the same; only news of other machines' re-indexing is lost
            log.warning("réindexations des autres machines non suivies : %s", exc)
        await self.index_guild_documents()

    async def index_guild_documents(self) -> None:
        """Start building, in the background, the index of each server that has documents of its own, so its first
        question does not wait for it; a database that cannot be read leaves them to be built at that question."""
        try:
            guild_ids = await self.storage.guilds_with_documents()
        except DATABASE_ERRORS as exc:
            log.warning("documents des serveurs illisibles au démarrage (%s) ; indexés à leur première question", exc)
            return
        for guild_id in guild_ids:
            self.answerer.refresh(guild_id)

    async def launch_shards(self) -> None:
        """Connect this process's shards.

        Without a shard count, discord.py takes the count and the gateway address from `GET /gateway/bot` and
        would ignore an address set with DISCORD_GATEWAY_URL: then the count alone is asked here, and every
        shard connects to the configured address (`DiscordWebSocket.DEFAULT_GATEWAY`, as with a count).
        """
        if self.shard_count is None and self.settings.gateway_url:
            self.shard_count, _, _ = await self.http.get_bot_gateway()
        await super().launch_shards()

    async def on_message(self, message: discord.Message, /) -> None:
        """No text commands: mentions are handled by the `ask` extension's listener."""

    async def on_shard_ready(self, shard_id: int) -> None:
        servers = sum(1 for guild in self.guilds if guild.shard_id == shard_id)
        log.info("shard %d/%d connecté : %d serveur(s)", shard_id, self.shard_count or 1, servers)

    async def on_ready(self) -> None:
        shards = ", ".join(f"{shard_id}/{self.shard_count or 1}" for shard_id in sorted(self.shards))
        me, servers = f"{self.user} ({getattr(self.user, 'id', '?')})", len(self.guilds)
        log.info("connecté en tant que %s à %d serveur(s), shards %s", me, servers, shards)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """A listener failed: log it with the shard of the server the event came from."""
        guild_id = next((found for found in map(_guild_id, args) if found is not None), None)
        log.exception("event %s failed (%s)", event_method, shard_label(self, guild_id))

    async def login(self, token: str) -> None:
        """Log in (and run `setup_hook`); from here on, closing needs discord.py's sharded close."""
        self._logging_in = True
        await super().login(token)

    async def close(self) -> None:
        """Stop the periodic tasks and close the Discord connection (the database is closed by its opener)."""
        self.retention.stop()
        self.vectors.stop()
        if self.index_watch_task.is_running():
            self.index_watch_task.cancel()
        if self._listening is not None:
            await self._listening.close()
        await self.index_notices.close()
        if not self._logging_in:
            # discord.py's sharded client makes the queue its close needs at login; before that, the plain
            # client's close is all there is to do.
            await discord.Client.close(self)
            return
        await super().close()

    # -- the engine of the shared corpus --

    def _build(self, engine_factory: EngineFactory) -> Engine:
        """Rebuild the engine (blocking), one process of the machine at a time: a process that waited for
        another's build then finds that build's saved index current, and only loads it."""
        settings = self.settings
        with exclusive(build_lock(settings)):
            return engine_factory(corpus_source(settings), engine_options(settings), index_dir(settings))

    async def reindex(self) -> Engine:
        """Rebuild the index from the corpus on disk and swap it in; the old one serves until then.

        On failure (e.g. CorpusError) the old engine stays in place and the error propagates.
        Raises ReindexInProgress when another re-indexing is running.
        """
        engine = await self.reindexer.rebuild()
        self.answerer.swap(engine, "corpus réindexé")
        try:
            await self.storage.publish(REINDEX_CHANNEL, engine_key(engine))
        except Exception:  # the index serves here all the same; the other machines keep theirs until re-indexed
            log.exception("réindexation non annoncée aux autres processus")
        return engine

    async def follow_announced_index(self, key: str) -> Engine | None:
        """Serve the index another process announced (`key`) unless it is the one in service here: the saved
        index of the corpus on disk when that is current, else one rebuilt here (on another machine, with
        another index folder). The new engine, or None when this one serves that index already.

        Raises ReindexInProgress while this process re-indexes; CorpusError when the corpus is unreadable.
        """
        if key == engine_key(self.engine):
            return None
        engine = await self.reindexer.rebuild()
        self.answerer.swap(engine, "index annoncé par un autre processus en service")
        if engine_key(engine) != key:
            log.warning(
                "index annoncé par un autre processus (%s) différent de celui du corpus de cette machine (%s) : "
                "le corpus n'y est pas le même",
                key,
                engine_key(engine),
            )
        return engine

    async def load_saved_index(self) -> Engine | None:
        """Swap in the saved index when it is that of a corpus other than the one in service (another process
        re-indexed); the new engine, or None when there was nothing new. The old one serves until then.

        Raises ReindexInProgress while this process re-indexes, IndexFileError when the saved index does not
        match the corpus on disk.
        """
        settings, fingerprint = self.settings, self.engine.corpus.fingerprint
        options, folder = engine_options(settings), index_dir(settings)
        engine = await self.reindexer.run(
            lambda: saved_engine(corpus_source(settings), options, folder, unless=fingerprint)
        )
        if engine is not None:
            self.answerer.swap(engine, "index enregistré par un autre processus chargé")
        return engine

    @tasks.loop(seconds=WATCH_SECONDS)
    async def index_watch_task(self) -> None:
        """Look whether another process saved a new index, and load it."""
        await self.index_watcher.check()


def engine_key(engine: Engine) -> str:
    """The key of the index an engine answers from (its corpus's fingerprint and the index options)."""
    return index_key(engine.corpus.fingerprint, INDEX_OPTIONS)


def _guild_id(event_argument: object) -> int | None:
    """The server an event's argument (a message, an interaction…) belongs to, if any."""
    guild_id = getattr(event_argument, "guild_id", None)
    if guild_id is None:
        guild_id = getattr(getattr(event_argument, "guild", None), "id", None)
    return guild_id if isinstance(guild_id, int) else None
