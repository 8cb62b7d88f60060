"""Moderator commands: the `/admin` group (stats, history, re-indexing, channels, settings, export, purge, and the
server's own documents).

Every command is server-only, hidden by default from members without Manage Server, checked
again in code (`Admin.interaction_check`), answered privately, and reads or writes only the
invoking server's data.
"""

from __future__ import annotations

import asyncio
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
from bot.chat.charts import stats_chart
from bot.chat.checks import MANAGER_PERMISSIONS, is_manager
from bot.chat.embeds import documents_embed, history_embed, stats_embed, truncate
from bot.chat.inflight import AddsInFlight
from bot.chat.reindexing import ReindexInProgress
from bot.chat.replies import NO_MENTIONS, ApologeticView, respond
from bot.chat.server_documents import Refused, add_documents, room_left
from bot.ingest.errors import IngestError
from bot.ingest.limits import french_size
from bot.ingest.sandbox import parse_file
from bot.ingest.web import fetch_document
from bot.search.corpus import CorpusError, Document
from bot.storage import FILE_SOURCE, DocumentCount, Storage

if TYPE_CHECKING:
    from bot.chat.bot import QABot

log = logging.getLogger(__name__)

HISTORY_PAGE_SIZE = 8
DOCUMENTS_PAGE_SIZE = 10
AUTOCOMPLETE_CHOICES = 25  # Discord shows at most this many
HISTORY_TIMEOUT_SECONDS = 600.0
EXPORT_MAX_BYTES = 8 * 1024 * 1024  # above this the CSV is sent zipped (attachment limits)
PERIOD_DAYS = {"jour": 1, "semaine": 7, "mois": 30}
CHART_FILENAME = "stats.png"
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


class Pager(ApologeticView):
    """◀ ▶ buttons over a list of `total` items shown `page_size` at a time; only `owner_id` can page."""

    not_yours = messages.NOT_YOUR_PAGER

    def __init__(self, *, owner_id: int, total: int, page_size: int) -> None:
        super().__init__(timeout=HISTORY_TIMEOUT_SECONDS)
        self.owner_id = owner_id
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
        raise NotImplementedError

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.user.id != self.owner_id:
            await respond(interaction, self.not_yours)
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


class HistoryPager(Pager):
    """Pages of `/admin historique`."""

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
        super().__init__(owner_id=owner_id, total=total, page_size=page_size)
        self.storage = storage
        self.guild_id = guild_id
        self.user_id = user_id
        self.not_found_only = not_found_only

    async def render(self) -> discord.Embed:
        rows = await self.storage.history(
            self.guild_id,
            user_id=self.user_id,
            not_found_only=self.not_found_only,
            limit=self.page_size,
            offset=self.page * self.page_size,
        )
        return history_embed(rows, self.page, self.pages, self.total)


class DocumentPager(Pager):
    """Pages of `/admin documents liste`."""

    not_yours = messages.NOT_YOUR_DOCUMENT_LIST

    def __init__(self, storage: Storage, *, owner_id: int, guild_id: int, count: DocumentCount) -> None:
        super().__init__(owner_id=owner_id, total=count.documents, page_size=DOCUMENTS_PAGE_SIZE)
        self.storage = storage
        self.guild_id = guild_id
        self.count = count

    async def render(self) -> discord.Embed:
        documents = await self.storage.list_documents(
            self.guild_id, limit=self.page_size, offset=self.page * self.page_size
        )
        return documents_embed(documents, self.page, self.pages, self.count)


class Admin(commands.Cog):
    """The `/admin` command group."""

    admin = app_commands.Group(
        name="admin",
        description=messages.ADMIN_GROUP,
        guild_only=True,
        default_permissions=MANAGER_PERMISSIONS,
    )
    salons = app_commands.Group(name="salons", description=messages.CHANNELS_GROUP, parent=admin)
    documents = app_commands.Group(name="documents", description=messages.DOCUMENTS_GROUP, parent=admin)

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self.adds_in_flight = AddsInFlight()

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
        guild_id = _guild_id(interaction)
        stats = await self.storage.stats(guild_id, since)
        embed = stats_embed(stats, period)
        chart = await self._stats_chart(guild_id, since, period)
        if chart is not None:
            embed.set_image(url=f"attachment://{CHART_FILENAME}")
        await respond(interaction, embed=embed, file=chart)

    async def _stats_chart(self, guild_id: int, since: datetime | None, period: str | None) -> discord.File | None:
        """The period's chart as an attachment, drawn off the event loop; None (logged) when it cannot be drawn,
        so the figures still go out."""
        try:
            days = await self.storage.daily_figures(guild_id, since)
            today = datetime.now(UTC).date()
            first = since.astimezone(UTC).date() if since else (days[0].day if days else today)
            scope = messages.PERIODS.get(period or "", messages.ALL_TIME)
            png = await asyncio.to_thread(stats_chart, days, first, today, scope)
        except Exception:
            log.exception("could not draw the stats chart of server %s", guild_id)
            return None
        return discord.File(io.BytesIO(png), filename=CHART_FILENAME)

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

    # -- the server's own documents --

    @documents.command(name="ajouter", description=messages.DOCUMENT_ADD_COMMAND)
    @app_commands.describe(**messages.DOCUMENT_ADD_OPTIONS)
    async def documents_ajouter(
        self,
        interaction: discord.Interaction,
        fichier: discord.Attachment | None = None,
        adresse: app_commands.Range[str, 1, 2000] | None = None,
    ) -> None:
        """Add the documents of an attached file or of a web page; answered privately with what was indexed or
        why nothing was."""
        if (fichier is None) == (adresse is None):
            await respond(interaction, messages.DOCUMENT_ONE_SOURCE)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id, user_id = _guild_id(interaction), interaction.user.id
        limits = self.bot.settings.document_limits()
        source = f"{FILE_SOURCE}{fichier.filename}" if fichier is not None else str(adresse)
        try:
            with self.adds_in_flight.hold(guild_id, user_id):
                await room_left(self.storage, limits, guild_id)
                found = await self._read_file(fichier) if fichier is not None else await self._fetch(str(adresse))
                added = await add_documents(
                    self.storage,
                    self.bot.guild_engines,
                    limits,
                    guild_id=guild_id,
                    added_by=user_id,
                    documents=found,
                    source=source,
                )
        except (Refused, IngestError) as exc:
            log.info("documents du serveur %s : refus pour %s (%s) : %s", guild_id, user_id, source, exc)
            await respond(interaction, truncate(messages.DOCUMENT_REFUSED.format(reason=exc), 2000))
            return
        log.info(
            "documents du serveur %s : %s a ajouté %d document(s), %d passage(s), depuis %s",
            guild_id,
            user_id,
            len(added.titles),
            added.passages,
            source,
        )
        text = messages.documents_added([discord.utils.escape_markdown(t) for t in added.titles], added.passages)
        await respond(interaction, truncate(discord.utils.escape_mentions(text), 2000))

    async def _read_file(self, attachment: discord.Attachment) -> list[Document]:
        """The documents of an attachment, its size checked before it is downloaded, parsed in a child process."""
        limit = self.bot.settings.document_limits().max_file_bytes
        if attachment.size > limit:
            raise Refused(
                messages.file_too_large(attachment.filename, french_size(attachment.size), french_size(limit))
            )
        data = await attachment.read()
        return await parse_file(attachment.filename, data, self.bot.settings.document_limits())

    async def _fetch(self, url: str) -> list[Document]:
        """The document of a web page, fetched with the private-address guard the settings keep on."""
        settings = self.bot.settings
        document = await fetch_document(
            url, settings.document_limits(), allow_private_addresses=settings.documents_allow_private_addresses
        )
        return [document]

    @documents.command(name="liste", description=messages.DOCUMENT_LIST_COMMAND)
    async def documents_liste(self, interaction: discord.Interaction) -> None:
        """This server's documents, newest first, with ◀ ▶ buttons."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = _guild_id(interaction)
        count = await self.storage.count_documents(guild_id)
        pager = DocumentPager(self.storage, owner_id=interaction.user.id, guild_id=guild_id, count=count)
        await respond(interaction, embed=await pager.render(), view=pager)

    @documents.command(name="retirer", description=messages.DOCUMENT_REMOVE_COMMAND)
    @app_commands.describe(**messages.DOCUMENT_REMOVE_OPTIONS)
    async def documents_retirer(self, interaction: discord.Interaction, document: int) -> None:
        """Remove one of this server's documents and rebuild its index without it."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = _guild_id(interaction)
        removed = await self.storage.remove_document(guild_id, document)
        if removed is None:
            await respond(interaction, messages.DOCUMENT_ABSENT.format(id=document))
            return
        await self.bot.guild_engines.rebuild(guild_id)
        log.info(
            "documents du serveur %s : %s a retiré le document n° %d (%s, %s)",
            guild_id,
            interaction.user.id,
            removed.id,
            removed.doc_id,
            removed.source,
        )
        title = discord.utils.escape_mentions(discord.utils.escape_markdown(removed.title or removed.doc_id))
        await respond(interaction, truncate(messages.DOCUMENT_REMOVED.format(title=title), 2000))

    @documents_retirer.autocomplete("document")
    async def documents_retirer_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        """This server's documents whose title holds what was typed (value: the id); nothing for non-moderators,
        as discord.py runs no check before an autocomplete."""
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            return []
        limit = self.bot.settings.document_limits().max_documents
        listed = await self.storage.list_documents(interaction.guild_id, limit=limit)
        typed = current.casefold().strip()
        choices = []
        for stored in listed:
            name = stored.title or stored.doc_id
            if typed and typed not in name.casefold() and typed != str(stored.id):
                continue
            choices.append(app_commands.Choice(name=truncate(f"n° {stored.id} · {name}", 100), value=stored.id))
        return choices[:AUTOCOMPLETE_CHOICES]


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    await bot.add_cog(Admin(cast("QABot", bot)))
