"""The Discord bot object: settings, the current answer engine, the storage and the rate limiter.

Extensions in `bot/chat/exts/` hold the commands; this module holds what they share: the engine
(swapped atomically on re-indexing), per-server settings, the rate limit, the central error
handler for slash commands, and the periodic retention clean-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.app import engine_options, index_dir, reindex
from bot.chat.command_sync import CommandSync
from bot.chat.messages import CHECK_FAILED, GUILD_ONLY, MISSING_PERMISSION
from bot.chat.ratelimit import RateLimiter
from bot.chat.reindexing import Reindexer
from bot.chat.replies import NO_MENTIONS, apologise, respond
from bot.config import Settings
from bot.search.answer import Answer
from bot.search.engine import Engine, EngineOptions
from bot.storage import GuildSettings, Storage

log = logging.getLogger(__name__)

# Loading an extension executes its module afresh: feedback comes before ask, so the buttons ask sends
# are the very FeedbackButton class whose clicks the feedback extension registered.
EXTENSIONS = ("bot.chat.exts.feedback", "bot.chat.exts.ask", "bot.chat.exts.admin", "bot.chat.exts.privacy")
RETENTION_INTERVAL_HOURS = 6.0
SETTINGS_WAIT_SECONDS = 1.0  # a server's settings are read before /question is acknowledged (3-second rule)

# Builds a fresh engine for re-indexing: (corpus path, options, index folder), blocking, run in a thread.
EngineFactory = Callable[[Path, EngineOptions, Path], Engine]


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


class QABot(commands.Bot):
    """The question-answering bot; slash commands and mentions, no text-prefix commands."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        engine: Engine,
        *,
        engine_factory: EngineFactory = reindex,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents(),
            allowed_mentions=NO_MENTIONS,
            tree_cls=QATree,
            max_messages=None,  # no message cache: the bot never reads a message twice
        )
        self.settings = settings
        self.storage = storage
        self.engine = engine
        self.rate_limiter = rate_limiter or RateLimiter()
        self.reindexer = Reindexer(
            lambda: engine_factory(settings.corpus_path, engine_options(settings), index_dir(settings))
        )
        self._guild_settings: dict[int, GuildSettings] = {}

    # -- lifecycle --

    async def setup_hook(self) -> None:
        """Load the extensions, sync slash commands if they changed since the last sync, start retention."""
        for name in EXTENSIONS:
            await self.load_extension(name)
        await CommandSync.for_settings(self.settings).run(self.tree)
        self.retention_task.start()

    async def on_message(self, message: discord.Message, /) -> None:
        """No text commands: mentions are handled by the `ask` extension's listener."""

    async def on_ready(self) -> None:
        log.info("connected as %s (%s) to %d servers", self.user, getattr(self.user, "id", "?"), len(self.guilds))

    async def close(self) -> None:
        """Stop the retention task and close the Discord connection (the database is closed by its opener)."""
        if self.retention_task.is_running():
            self.retention_task.cancel()
        await super().close()

    # -- answering --

    async def answer(self, question: str) -> Answer:
        """Ask the current engine, off the event loop (raises QuestionError for a blank question)."""
        engine = self.engine
        return await asyncio.to_thread(engine.answer, question)

    async def reindex(self) -> Engine:
        """Rebuild the index from the corpus on disk and swap it in; the old one serves until then.

        On failure (e.g. CorpusError) the old engine stays in place and the error propagates.
        Raises ReindexInProgress when another re-indexing is running.
        """
        engine = await self.reindexer.rebuild()
        self.engine = engine
        log.info("corpus re-indexed: %d documents, %d passages", engine.document_count, engine.passage_count)
        return engine

    # -- per-server settings and rate limit --

    async def guild_settings(self, guild_id: int | None) -> GuildSettings:
        """A server's settings (cached; defaults outside a server).

        A database that is slow or unreadable yields the defaults for this once, uncached, so the
        question is still acknowledged in time and the real settings apply again once it recovers.
        """
        if guild_id is None:
            return GuildSettings(guild_id=0)
        cached = self._guild_settings.get(guild_id)
        if cached is not None:
            return cached
        try:
            settings = await asyncio.wait_for(self.storage.read_guild_settings(guild_id), SETTINGS_WAIT_SECONDS)
        except TimeoutError:
            log.warning("settings of server %s not read within %.0f s; using defaults", guild_id, SETTINGS_WAIT_SECONDS)
            settings = None
        if settings is None:
            return GuildSettings(guild_id=guild_id)
        self._guild_settings[guild_id] = settings
        return settings

    async def update_guild_settings(self, guild_id: int, **changes: object) -> GuildSettings:
        """Change a server's settings in the database and in the cache."""
        updated = await self.storage.update_guild_settings(guild_id, **changes)
        self._guild_settings[guild_id] = updated
        return updated

    def rate_limit(self, guild_settings: GuildSettings, user_id: int) -> float:
        """Count one question for this user on this server; seconds to wait, 0.0 when allowed."""
        count = guild_settings.rate_limit_count or self.settings.rate_limit_count
        window = guild_settings.rate_limit_seconds or self.settings.rate_limit_seconds
        return self.rate_limiter.hit((guild_settings.guild_id, user_id), count, window)

    # -- retention --

    @tasks.loop(hours=RETENTION_INTERVAL_HOURS)
    async def retention_task(self) -> None:
        """Delete log rows older than each server's retention, and forget idle rate-limit entries."""
        try:
            deleted = await self.storage.apply_retention(self.settings.retention_days)
        except Exception:
            log.exception("retention clean-up failed")
            return
        if deleted:
            log.info("retention: %d old questions deleted", deleted)
        self.rate_limiter.prune(3600 * 24)
