"""Moderator commands: the `/admin` group (stats, history, re-indexing, channels, settings, export, purge).

Every command is server-only, hidden by default from members without Manage Server, checked
again in code (`Admin.interaction_check`), answered privately, and reads or writes only the
invoking server's data.
"""

from __future__ import annotations

import io
import logging
import math
import re
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat import messages
from bot.chat.checks import MANAGER_PERMISSIONS, is_manager
from bot.chat.embeds import history_embed, stats_embed, truncate
from bot.chat.reindexing import ReindexInProgress
from bot.chat.replies import NO_MENTIONS, ApologeticView, respond
from bot.search.corpus import CorpusError
from bot.storage import Storage

if TYPE_CHECKING:
    from bot.chat.bot import QABot

log = logging.getLogger(__name__)

HISTORY_PAGE_SIZE = 8
HISTORY_TIMEOUT_SECONDS = 600.0
EXPORT_MAX_BYTES = 8 * 1024 * 1024  # above this the CSV is sent zipped (attachment limits)
PERIOD_DAYS = {"jour": 1, "semaine": 7, "mois": 30}
# Channels where members write messages, so where mentions can be answered
MESSAGE_CHANNELS = (discord.ChannelType.text, discord.ChannelType.news, discord.ChannelType.forum)


def _guild_id(interaction: discord.Interaction) -> int:
    # Admin.interaction_check has already refused interactions without a server.
    assert interaction.guild_id is not None
    return interaction.guild_id


_HOST_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[/\\][^\s/\\:,;«»()]+)+[/\\]([^\s/\\:,;«»()]+)")


def moderator_error(error: Exception, corpus: Path) -> str:
    """What moderators may read of a failed re-indexing: a corpus error names files relative to the corpus folder
    and no other path of the host; any other failure is only said to be logged (its details may hold paths)."""
    if not isinstance(error, CorpusError):
        return messages.REINDEX_INTERNAL
    text = str(error)
    for root in sorted({str(corpus), str(corpus.resolve())}, key=len, reverse=True):
        text = text.replace(root.rstrip("/\\") + "/", "")
    return _HOST_PATH.sub(lambda match: match.group(1), text)


class HistoryPager(ApologeticView):
    """◀ ▶ buttons over `/admin historique`; only the moderator who opened it can page."""

    def __init__(
        self,
        storage: Storage,
        *,
        owner_id: int,
        guild_id: int,
        user_id: int | None,
        not_found_only: bool,
        total: int,
        page_size: int = HISTORY_PAGE_SIZE,
    ) -> None:
        super().__init__(timeout=HISTORY_TIMEOUT_SECONDS)
        self.storage = storage
        self.owner_id = owner_id
        self.guild_id = guild_id
        self.user_id = user_id
        self.not_found_only = not_found_only
        self.total = total
        self.page_size = page_size
        self.page = 0
        self._sync_buttons()

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    def _sync_buttons(self) -> None:
        self.previous_page.disabled = self.page <= 0
        self.next_page.disabled = self.page >= self.pages - 1

    async def render(self) -> discord.Embed:
        """The embed of the current page (read fresh from the database)."""
        rows = await self.storage.history(
            self.guild_id,
            user_id=self.user_id,
            not_found_only=self.not_found_only,
            limit=self.page_size,
            offset=self.page * self.page_size,
        )
        return history_embed(rows, self.page, self.pages, self.total)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.user.id != self.owner_id:
            await respond(interaction, messages.NOT_YOUR_PAGER)
            return False
        return True

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = min(max(self.page + step, 0), self.pages - 1)
        self._sync_buttons()
        await interaction.response.edit_message(embed=await self.render(), view=self, allowed_mentions=NO_MENTIONS)

    @discord.ui.button(emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous_page(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next_page(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._turn(interaction, +1)


class Admin(commands.Cog):
    """The `/admin` command group."""

    admin = app_commands.Group(
        name="admin",
        description=messages.ADMIN_GROUP,
        guild_only=True,
        default_permissions=MANAGER_PERMISSIONS,
    )
    salons = app_commands.Group(name="salons", description=messages.CHANNELS_GROUP, parent=admin)

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    @property
    def storage(self) -> Storage:
        return self.bot.storage

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """The permission check of every `/admin` command, run by discord.py before each one.

        The group's `default_permissions` and `guild_only` only hide the commands (server admins can
        change them); this is what protects. Raises NoPrivateMessage outside a server and
        MissingPermissions without Manage Server, which the tree's error handler answers in French.
        """
        return is_manager(interaction)

    # -- reading the log --

    @admin.command(name="stats", description=messages.STATS_COMMAND)
    @app_commands.describe(**messages.STATS_OPTIONS)
    @app_commands.choices(
        periode=[app_commands.Choice(name=label, value=value) for value, label in messages.PERIOD_CHOICES.items()]
    )
    async def stats(self, interaction: discord.Interaction, periode: app_commands.Choice[str] | None = None) -> None:
        """Volumes, share answered, votes, latency, top questions and documents, unanswered questions."""
        await interaction.response.defer(ephemeral=True, thinking=True)  # a long log takes a while to read
        period = periode.value if periode else None
        since = None
        if period in PERIOD_DAYS:
            since = datetime.now(UTC) - timedelta(days=PERIOD_DAYS[period])
        stats = await self.storage.stats(_guild_id(interaction), since)
        await respond(interaction, embed=stats_embed(stats, period))

    @admin.command(name="historique", description=messages.HISTORY_COMMAND)
    @app_commands.describe(**messages.HISTORY_OPTIONS)
    async def historique(
        self,
        interaction: discord.Interaction,
        utilisateur: discord.User | None = None,
        non_trouvees: bool = False,
    ) -> None:
        """Recent questions, newest first, with ◀ ▶ buttons."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = _guild_id(interaction)
        user_id = utilisateur.id if utilisateur else None
        total = await self.storage.count_history(guild_id, user_id=user_id, not_found_only=non_trouvees)
        pager = HistoryPager(
            self.storage,
            owner_id=interaction.user.id,
            guild_id=guild_id,
            user_id=user_id,
            not_found_only=non_trouvees,
            total=total,
        )
        await respond(interaction, embed=await pager.render(), view=pager)

    @admin.command(name="export", description=messages.EXPORT_COMMAND)
    async def export(self, interaction: discord.Interaction) -> None:
        """This server's log as a CSV attachment (zipped when large)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = _guild_id(interaction)
        data = (await self.storage.export_csv(guild_id)).encode("utf-8-sig")  # BOM: spreadsheets read UTF-8
        name = f"questions-{guild_id}-{datetime.now(UTC):%Y%m%d}.csv"
        if len(data) > EXPORT_MAX_BYTES:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(name, data)
            data, name = buffer.getvalue(), name + ".zip"
        file = discord.File(io.BytesIO(data), filename=name)
        await respond(interaction, messages.EXPORT_READY, file=file)

    # -- changing things --

    @admin.command(name="reindexer", description=messages.REINDEX_COMMAND)
    async def reindexer(self, interaction: discord.Interaction) -> None:
        """Rebuild the index; the old one keeps serving until the new one is ready, or if it fails."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        started = time.perf_counter()
        try:
            engine = await self.bot.reindex()
        except ReindexInProgress:
            await respond(interaction, messages.REINDEX_RUNNING)
            return
        except Exception as exc:
            if not isinstance(exc, CorpusError):
                log.exception("re-indexing failed")
            error = truncate(discord.utils.escape_mentions(moderator_error(exc, self.bot.settings.corpus_path)), 1500)
            await respond(interaction, messages.REINDEX_FAILED.format(error=error))
            return
        seconds = time.perf_counter() - started
        await respond(interaction, messages.reindexed(engine.document_count, engine.passage_count, seconds))

    @admin.command(name="reglages", description=messages.SETTINGS_COMMAND)
    @app_commands.describe(**messages.SETTINGS_OPTIONS)
    async def reglages(
        self,
        interaction: discord.Interaction,
        reponses_privees: bool | None = None,
        fils: bool | None = None,
        limite: app_commands.Range[int, 1, 100] | None = None,
        fenetre: app_commands.Range[int, 5, 86400] | None = None,
        retention_jours: app_commands.Range[int, 0, 3650] | None = None,
    ) -> None:
        """Without options, show the settings; with options, change them and show the result."""
        guild_id = _guild_id(interaction)
        changes: dict[str, Any] = {}
        if reponses_privees is not None:
            changes["ephemeral"] = reponses_privees
        if fils is not None:
            changes["use_threads"] = fils
        if limite is not None:
            changes["rate_limit_count"] = limite
        if fenetre is not None:
            changes["rate_limit_seconds"] = float(fenetre)
        if retention_jours is not None:
            changes["retention_days"] = retention_jours
        if changes:
            current = await self.bot.update_guild_settings(guild_id, **changes)
        else:
            current = await self.bot.guild_settings(guild_id)
        config = self.bot.settings
        text = messages.settings_text(
            current, config.rate_limit_count, config.rate_limit_seconds, config.retention_days
        )
        await respond(interaction, f"{messages.SETTINGS_SAVED}\n{text}" if changes else text)

    @admin.command(name="purger", description=messages.PURGE_COMMAND)
    @app_commands.describe(**messages.PURGE_OPTIONS)
    async def purger(self, interaction: discord.Interaction, jours: app_commands.Range[int, 1, 3650]) -> None:
        """Delete this server's log rows older than `jours` days (and their votes)."""
        deleted = await self.storage.purge(_guild_id(interaction), jours)
        await respond(interaction, messages.purged(deleted, jours))

    # -- allowed channels --

    @salons.command(name="ajouter", description=messages.CHANNEL_ADD_COMMAND)
    @app_commands.describe(**messages.CHANNEL_ADD_OPTIONS)
    async def salons_ajouter(self, interaction: discord.Interaction, salon: app_commands.AppCommandChannel) -> None:
        guild_id = _guild_id(interaction)
        if salon.guild_id != guild_id:
            await respond(interaction, messages.CHANNEL_ELSEWHERE)
            return
        if salon.type not in MESSAGE_CHANNELS:
            await respond(interaction, messages.CHANNEL_NOT_WRITTEN.format(channel=salon.mention))
            return
        added = await self.storage.add_channel(guild_id, salon.id)
        text = messages.CHANNEL_ADDED if added else messages.CHANNEL_ALREADY
        await respond(interaction, text.format(channel=salon.mention))

    @salons.command(name="retirer", description=messages.CHANNEL_REMOVE_COMMAND)
    @app_commands.describe(**messages.CHANNEL_REMOVE_OPTIONS)
    async def salons_retirer(self, interaction: discord.Interaction, salon: app_commands.AppCommandChannel) -> None:
        removed = await self.storage.remove_channel(_guild_id(interaction), salon.id)
        text = messages.CHANNEL_REMOVED if removed else messages.CHANNEL_ABSENT
        await respond(interaction, text.format(channel=salon.mention))

    @salons.command(name="liste", description=messages.CHANNEL_LIST_COMMAND)
    async def salons_liste(self, interaction: discord.Interaction) -> None:
        channels = await self.storage.list_channels(_guild_id(interaction))
        if not channels:
            text = messages.NO_CHANNELS
        else:
            text = messages.CHANNELS.format(channels=", ".join(f"<#{channel_id}>" for channel_id in channels))
        await respond(interaction, truncate(text, 2000))


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    await bot.add_cog(Admin(cast("QABot", bot)))
