"""The server's own documents, quoted beside the shared corpus: `/admin documents ajouter|liste|retirer`."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.chat import messages
from bot.chat.embeds import documents_embed, shown, truncate
from bot.chat.exts.admin._groups import DOCUMENTS, Area, guild_id_of
from bot.chat.exts.admin._views import Pager
from bot.chat.inflight import AddsInFlight
from bot.chat.replies import respond
from bot.chat.server_documents import Refused, add_documents, room_left
from bot.ingest.errors import IngestError
from bot.ingest.limits import french_size
from bot.ingest.sandbox import parse_file
from bot.ingest.web import fetch_document
from bot.search.corpus import Document
from bot.search.logtext import log_text
from bot.storage import FILE_SOURCE, DocumentCount, Storage

log = logging.getLogger(__name__)

DOCUMENTS_PAGE_SIZE = 10
AUTOCOMPLETE_CHOICES = 25  # Discord shows at most this many


def document_pager(storage: Storage, *, owner_id: int, guild_id: int, count: DocumentCount) -> Pager:
    """The pages of `/admin documents liste`: that server's documents, newest first."""

    async def render(page: int, pages: int) -> discord.Embed:
        documents = await storage.list_documents(guild_id, limit=DOCUMENTS_PAGE_SIZE, offset=page * DOCUMENTS_PAGE_SIZE)
        return documents_embed(documents, page, pages, count)

    return Pager(
        render,
        owner_id=owner_id,
        total=count.documents,
        page_size=DOCUMENTS_PAGE_SIZE,
        not_yours=messages.NOT_YOUR_DOCUMENT_LIST,
    )


class DocumentCommands(Area):
    """Adding, listing and removing the documents only this server's answers quote."""

    adds_in_flight: AddsInFlight  # set by the cog: a few adds at once per server and per moderator

    @DOCUMENTS.command(name="ajouter", description=messages.DOCUMENT_ADD_COMMAND)
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
        guild_id, user_id = guild_id_of(interaction), interaction.user.id
        limits = self.bot.settings.document_limits()
        source = f"{FILE_SOURCE}{fichier.filename}" if fichier is not None else str(adresse)
        try:
            with self.adds_in_flight.hold(guild_id, user_id):
                await room_left(self.storage, limits, guild_id)
                found = await self._read_file(fichier) if fichier is not None else await self._fetch(str(adresse))
                added = await add_documents(
                    self.storage,
                    self.bot.answerer,
                    limits,
                    guild_id=guild_id,
                    added_by=user_id,
                    documents=found,
                    source=source,
                )
        except (Refused, IngestError) as exc:
            log.info(
                "documents du serveur %s : refus pour %s (%s) : %s", guild_id, user_id, log_text(source), log_text(exc)
            )
            await respond(interaction, truncate(messages.DOCUMENT_REFUSED.format(reason=exc), 2000))
            return
        log.info(
            "documents du serveur %s : %s a ajouté %d document(s), %d passage(s), depuis %s",
            guild_id,
            user_id,
            len(added.titles),
            added.passages,
            log_text(source),
        )
        text = messages.documents_added([shown(title) for title in added.titles], added.passages)
        await respond(interaction, truncate(text, 2000))

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

    @DOCUMENTS.command(name="liste", description=messages.DOCUMENT_LIST_COMMAND)
    async def documents_liste(self, interaction: discord.Interaction) -> None:
        """This server's documents, newest first, with ◀ ▶ buttons."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = guild_id_of(interaction)
        count = await self.storage.count_documents(guild_id)
        pager = document_pager(self.storage, owner_id=interaction.user.id, guild_id=guild_id, count=count)
        await pager.show(interaction)

    @DOCUMENTS.command(name="retirer", description=messages.DOCUMENT_REMOVE_COMMAND)
    @app_commands.describe(**messages.DOCUMENT_REMOVE_OPTIONS)
    async def documents_retirer(self, interaction: discord.Interaction, document: int) -> None:
        """Remove one of this server's documents and rebuild its index without it."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = guild_id_of(interaction)
        removed = await self.storage.remove_document(guild_id, document)
        if removed is None:
            await respond(interaction, messages.DOCUMENT_ABSENT.format(id=document))
            return
        await self.bot.answerer.rebuild(guild_id)
        log.info(
            "documents du serveur %s : %s a retiré le document n° %d (%s, %s)",
            guild_id,
            interaction.user.id,
            removed.id,
            log_text(removed.doc_id),
            log_text(removed.source),
        )
        title = shown(removed.title or removed.doc_id)
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
