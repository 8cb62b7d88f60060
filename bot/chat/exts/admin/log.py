"""Reading the server's question log: `/admin stats` (figures and chart), `/admin historique`, `/admin export`."""

from __future__ import annotations

import asyncio
import io
import logging
import zipfile
from datetime import UTC, datetime, timedelta

import discord
from discord import app_commands

from bot.chat import messages
from bot.chat.charts import stats_chart
from bot.chat.embeds import history_embed, stats_embed
from bot.chat.exts.admin._groups import ADMIN, Area, guild_id_of
from bot.chat.exts.admin._views import Pager
from bot.chat.replies import respond
from bot.storage import Storage

log = logging.getLogger(__name__)

HISTORY_PAGE_SIZE = 8
EXPORT_MAX_BYTES = 8 * 1024 * 1024  # above this the CSV is sent zipped (attachment limits)
PERIOD_DAYS = {"jour": 1, "semaine": 7, "mois": 30}
CHART_FILENAME = "stats.png"


def history_pager(
    storage: Storage, *, owner_id: int, guild_id: int, user_id: int | None, not_found_only: bool, total: int
) -> Pager:
    """The pages of `/admin historique`: that server's questions, newest first, of one member or unanswered."""

    async def render(page: int, pages: int) -> discord.Embed:
        rows = await storage.history(
            guild_id,
            user_id=user_id,
            not_found_only=not_found_only,
            limit=HISTORY_PAGE_SIZE,
            offset=page * HISTORY_PAGE_SIZE,
        )
        return history_embed(rows, page, pages, total)

    return Pager(render, owner_id=owner_id, total=total, page_size=HISTORY_PAGE_SIZE)


class LogCommands(Area):
    """What the server's members asked, and how it went."""

    @ADMIN.command(name="stats", description=messages.STATS_COMMAND)
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
        guild_id = guild_id_of(interaction)
        stats = await self.storage.stats(guild_id, since)
        vectors = self.bot.engine.vectors
        built = (vectors.built, vectors.count) if vectors is not None else None
        embed = stats_embed(stats, period, await self.storage.spooled_for(guild_id), built)
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

    @ADMIN.command(name="historique", description=messages.HISTORY_COMMAND)
    @app_commands.describe(**messages.HISTORY_OPTIONS)
    async def historique(
        self,
        interaction: discord.Interaction,
        utilisateur: discord.User | None = None,
        non_trouvees: bool = False,
    ) -> None:
        """Recent questions, newest first, with ◀ ▶ buttons."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = guild_id_of(interaction)
        user_id = utilisateur.id if utilisateur else None
        total = await self.storage.count_history(guild_id, user_id=user_id, not_found_only=non_trouvees)
        pager = history_pager(
            self.storage,
            owner_id=interaction.user.id,
            guild_id=guild_id,
            user_id=user_id,
            not_found_only=non_trouvees,
            total=total,
        )
        await pager.show(interaction)

    @ADMIN.command(name="export", description=messages.EXPORT_COMMAND)
    async def export(self, interaction: discord.Interaction) -> None:
        """This server's log as a CSV attachment (zipped when large)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = guild_id_of(interaction)
        data = (await self.storage.export_csv(guild_id)).encode("utf-8-sig")  # BOM: spreadsheets read UTF-8
        name = f"questions-{guild_id}-{datetime.now(UTC):%Y%m%d}.csv"
        if len(data) > EXPORT_MAX_BYTES:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(name, data)
            data, name = buffer.getvalue(), name + ".zip"
        file = discord.File(io.BytesIO(data), filename=name)
        await respond(interaction, messages.EXPORT_READY, file=file)
