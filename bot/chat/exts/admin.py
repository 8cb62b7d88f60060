"""Moderator commands: the `/admin` group (stats, history, re-indexing, channels, settings, export, purge).

Every command is server-only, hidden by default from members without Manage Server, checked
again in code, answered privately, and reads or writes only the invoking server's data.
"""

from __future__ import annotations

import io
import logging
import math
import time
import zipfile
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat.bot import ReindexInProgress
from bot.chat.checks import MANAGER_PERMISSIONS, manager_only
from bot.chat.embeds import history_embed, plural, settings_text, stats_embed, truncate
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
NOT_YOUR_PAGER = "Seul le modérateur qui a ouvert cet historique peut en tourner les pages."


def _guild_id(interaction: discord.Interaction) -> int:
    # The manager_only check has already refused interactions without a server.
    assert interaction.guild_id is not None
    return interaction.guild_id


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
            await respond(interaction, NOT_YOUR_PAGER)
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
        description="Commandes des modérateurs du bot de questions",
        guild_only=True,
        default_permissions=MANAGER_PERMISSIONS,
    )
    salons = app_commands.Group(name="salons", description="Salons où le bot répond aux mentions", parent=admin)

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    @property
    def storage(self) -> Storage:
        return self.bot.storage

    # -- reading the log --

    @admin.command(name="stats", description="Statistiques des questions de ce serveur")
    @app_commands.describe(periode="Période couverte (par défaut : depuis le début)")
    @app_commands.choices(
        periode=[
            app_commands.Choice(name="dernières 24 heures", value="jour"),
            app_commands.Choice(name="7 derniers jours", value="semaine"),
            app_commands.Choice(name="30 derniers jours", value="mois"),
            app_commands.Choice(name="depuis le début", value="tout"),
        ]
    )
    @manager_only()
    async def stats(self, interaction: discord.Interaction, periode: app_commands.Choice[str] | None = None) -> None:
        """Volumes, share answered, votes, latency, top questions and documents, unanswered questions."""
        await interaction.response.defer(ephemeral=True, thinking=True)  # a long log takes a while to read
        period = periode.value if periode else None
        since = None
        if period in PERIOD_DAYS:
            since = datetime.now(UTC) - timedelta(days=PERIOD_DAYS[period])
        stats = await self.storage.stats(_guild_id(interaction), since)
        await respond(interaction, embed=stats_embed(stats, period))

    @admin.command(name="historique", description="Dernières questions posées sur ce serveur")
    @app_commands.describe(
        utilisateur="Seulement les questions de ce membre", non_trouvees="Seulement les questions restées sans réponse"
    )
    @manager_only()
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

    @admin.command(name="export", description="Exporter le journal des questions de ce serveur (CSV)")
    @manager_only()
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
        await respond(interaction, "Voici le journal des questions de ce serveur.", file=file)

    # -- changing things --

    @admin.command(name="reindexer", description="Recharger le corpus depuis le disque, sans redémarrer")
    @manager_only()
    async def reindexer(self, interaction: discord.Interaction) -> None:
        """Rebuild the index; the old one keeps serving until the new one is ready, or if it fails."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        started = time.perf_counter()
        try:
            engine = await self.bot.reindex()
        except ReindexInProgress:
            await respond(interaction, "Une réindexation est déjà en cours : réessayez dans un moment.")
            return
        except Exception as exc:
            if not isinstance(exc, CorpusError):
                log.exception("re-indexing failed")
            await respond(
                interaction,
                "La réindexation a échoué ; l'index précédent reste en service.\n"
                f"Erreur : {truncate(discord.utils.escape_mentions(str(exc)), 1500)}",
            )
            return
        seconds = f"{time.perf_counter() - started:.1f}".replace(".", ",")
        await respond(
            interaction,
            f"Corpus rechargé : {plural(engine.document_count, 'document')}, "
            f"{plural(engine.passage_count, 'passage')} (en {seconds} s).",
        )

    @admin.command(name="reglages", description="Voir ou changer les réglages du bot sur ce serveur")
    @app_commands.describe(
        reponses_privees="Réponses à /question visibles seulement par la personne qui demande",
        fils="Répondre aux mentions dans un fil plutôt qu'en réponse au message",
        limite="Nombre de questions permises par membre dans la fenêtre",
        fenetre="Durée de la fenêtre de limite, en secondes",
        retention_jours="Effacer les questions enregistrées après ce nombre de jours (0 : jamais)",
    )
    @manager_only()
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
        text = settings_text(current, config.rate_limit_count, config.rate_limit_seconds, config.retention_days)
        await respond(interaction, ("Réglages enregistrés.\n" if changes else "") + text)

    @admin.command(name="purger", description="Effacer les questions enregistrées depuis plus de N jours")
    @app_commands.describe(jours="Âge minimal, en jours, des questions à effacer")
    @manager_only()
    async def purger(self, interaction: discord.Interaction, jours: app_commands.Range[int, 1, 3650]) -> None:
        """Delete this server's log rows older than `jours` days (and their votes)."""
        deleted = await self.storage.purge(_guild_id(interaction), jours)
        await respond(
            interaction,
            f"{plural(deleted, 'question')} de plus de {plural(jours, 'jour')} "
            + ("effacées." if deleted > 1 else "effacée."),
        )

    # -- allowed channels --

    @salons.command(name="ajouter", description="Répondre aux mentions du bot dans ce salon")
    @app_commands.describe(salon="Le salon à ajouter")
    @manager_only()
    async def salons_ajouter(self, interaction: discord.Interaction, salon: app_commands.AppCommandChannel) -> None:
        guild_id = _guild_id(interaction)
        if salon.guild_id != guild_id:
            await respond(interaction, "Ce salon n'appartient pas à ce serveur.")
            return
        if salon.type not in MESSAGE_CHANNELS:
            await respond(
                interaction, f"{salon.mention} n'est pas un salon écrit : choisissez un salon textuel ou un forum."
            )
            return
        added = await self.storage.add_channel(guild_id, salon.id)
        await respond(
            interaction,
            f"Le bot répondra désormais aux mentions dans {salon.mention}."
            if added
            else f"{salon.mention} fait déjà partie des salons où le bot répond.",
        )

    @salons.command(name="retirer", description="Ne plus répondre aux mentions du bot dans ce salon")
    @app_commands.describe(salon="Le salon à retirer")
    @manager_only()
    async def salons_retirer(self, interaction: discord.Interaction, salon: app_commands.AppCommandChannel) -> None:
        removed = await self.storage.remove_channel(_guild_id(interaction), salon.id)
        await respond(
            interaction,
            f"Le bot ne répondra plus aux mentions dans {salon.mention}."
            if removed
            else f"{salon.mention} ne faisait pas partie des salons où le bot répond.",
        )

    @salons.command(name="liste", description="Salons où le bot répond aux mentions")
    @manager_only()
    async def salons_liste(self, interaction: discord.Interaction) -> None:
        channels = await self.storage.list_channels(_guild_id(interaction))
        if not channels:
            text = "Le bot ne répond aux mentions dans aucun salon. Ajoutez-en avec /admin salons ajouter."
        else:
            text = "Le bot répond aux mentions dans : " + ", ".join(f"<#{channel_id}>" for channel_id in channels)
        await respond(interaction, truncate(text, 2000))


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    await bot.add_cog(Admin(cast("QABot", bot)))
