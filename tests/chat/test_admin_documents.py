"""`/admin documents`: a server's moderators add, list and remove documents of their own, which the bot then
quotes on that server only."""

from __future__ import annotations

import asyncio
import logging
import time
from unittest import mock

import discord
import pytest

from bot.chat import messages
from bot.chat.exts.admin import Admin
from bot.chat.exts.admin._views import Pager
from bot.chat.inflight import AddsInFlight
from bot.config import Settings
from bot.ingest import sandbox
from bot.ingest.errors import IngestError
from bot.search.corpus import make_document
from bot.search.engine import Engine
from bot.storage import Storage
from tests.helpers import assert_pings_nobody, eventually, make_bot, make_interaction, make_member, sent_kwargs
from tests.ingest.bombs import parse_pids, slow_pdf

GUILD_A, GUILD_B = 1, 2
QUESTION = "Combien d'exposants au marché aux plantes de Montbrison ?"
MARKET = (
    "Marché aux plantes de Montbrison\n\nLa Fédération des jardiniers de Montbrison organise son marché aux plantes "
    "le 14 mai 2026 sur la place Bouvier. Plus de quarante exposants y vendront des semis de tomates anciennes.\n\n"
    "L'entrée est gratuite pour les adhérents.\n"
).encode()


def attachment(name: str = "jardins.txt", data: bytes = MARKET, size: int | None = None) -> mock.MagicMock:
    file = mock.MagicMock(spec=discord.Attachment)
    file.filename = name
    file.size = len(data) if size is None else size
    file.read = mock.AsyncMock(return_value=data)
    return file


def moderator(bot, guild_id: int = GUILD_A, user_id: int = 50):
    return make_interaction(bot, guild_id=guild_id, manage_guild=True, user=make_member(user_id))


def reply(interaction) -> str:
    kwargs = sent_kwargs(interaction.followup.send)
    assert kwargs["ephemeral"] is True
    assert_pings_nobody(kwargs)
    return kwargs.get("content") or ""


async def add_market(cog: Admin, guild_id: int = GUILD_A) -> str:
    interaction = moderator(cog.bot, guild_id)
    await cog.documents_ajouter.callback(cog, interaction, attachment(), None)
    return reply(interaction)


async def test_a_file_added_on_one_server_answers_there_only(
    storage: Storage, seed_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot(storage, seed_engine)
    cog = Admin(bot)
    assert not (await bot.answerer.answer(QUESTION, GUILD_A)).found
    with caplog.at_level(logging.INFO, logger="bot.chat.exts.admin"):
        text = await add_market(cog)
    assert text.startswith("1 document ajouté : « Marché aux plantes de Montbrison ».")
    assert "2 passages indexés" in text
    assert (
        "documents du serveur 1 : 50 a ajouté 1 document(s), 2 passage(s), depuis 'fichier:jardins.txt'" in caplog.text
    )
    in_a = await bot.answerer.answer(QUESTION, GUILD_A)
    assert in_a.found and in_a.source is not None and in_a.source.doc_id == "jardins"
    assert all(source.doc_id != "jardins" for source in (await bot.answerer.answer(QUESTION, GUILD_B)).sources)
    assert all(source.doc_id != "jardins" for source in (await bot.answerer.answer(QUESTION, None)).sources)


FORGED = "jardins\n2026-01-01 00:00:00 INFO     bot faux\x1b[31m"


def one_escaped_line(record: logging.LogRecord) -> str:
    line = record.getMessage()
    assert "\n" not in line and "\x1b" not in line, line
    return line


async def test_names_and_addresses_reach_the_log_escaped_on_one_line(
    storage: Storage, seed_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot(storage, seed_engine)
    cog = Admin(bot)
    escaped = "jardins\\n2026-01-01 00:00:00 INFO     bot faux\\x1b[31m"
    with caplog.at_level(logging.INFO, logger="bot.chat.exts.admin"):
        added, refused, fetched = moderator(bot), moderator(bot), moderator(bot)
        await cog.documents_ajouter.callback(cog, added, attachment(FORGED + ".txt"), None)
        await cog.documents_ajouter.callback(cog, refused, attachment(FORGED + ".exe"), None)
        await cog.documents_ajouter.callback(cog, fetched, None, "https://exemple.invalid/" + FORGED)
        (stored,) = await storage.list_documents(GUILD_A)
        await cog.documents_retirer.callback(cog, moderator(bot), stored.id)
    assert reply(added).startswith("1 document ajouté")
    lines = [one_escaped_line(record) for record in caplog.records]
    assert len(lines) == 4
    assert all(escaped in line for line in lines), lines


async def test_listing_and_removing(storage: Storage, seed_engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    bot = make_bot(storage, seed_engine)
    cog = Admin(bot)
    await add_market(cog)
    listing = moderator(bot)
    await cog.documents_liste.callback(cog, listing)
    kwargs = sent_kwargs(listing.followup.send)
    assert kwargs["ephemeral"] is True and isinstance(kwargs["view"], Pager)
    (stored,) = await storage.list_documents(GUILD_A)
    description = kwargs["embed"].description
    assert f"n° {stored.id}" in description and "Marché aux plantes de Montbrison" in description
    assert "fichier:jardins.txt" in description and "<@50>" in description
    assert kwargs["embed"].footer.text.startswith("Page 1/1 · 1 document · ")

    elsewhere = moderator(bot, GUILD_B)
    await cog.documents_liste.callback(cog, elsewhere)
    assert sent_kwargs(elsewhere.followup.send)["embed"].description == messages.DOCUMENTS_EMPTY
    wrong_server = moderator(bot, GUILD_B)
    await cog.documents_retirer.callback(cog, wrong_server, stored.id)
    assert reply(wrong_server) == messages.DOCUMENT_ABSENT.format(id=stored.id)
    assert (await bot.answerer.answer(QUESTION, GUILD_A)).found

    removal = moderator(bot)
    with caplog.at_level(logging.INFO, logger="bot.chat.exts.admin"):
        await cog.documents_retirer.callback(cog, removal, stored.id)
    assert reply(removal) == messages.DOCUMENT_REMOVED.format(title="Marché aux plantes de Montbrison")
    assert f"documents du serveur 1 : 50 a retiré le document n° {stored.id}" in caplog.text
    assert not (await bot.answerer.answer(QUESTION, GUILD_A)).found
    assert await storage.list_documents(GUILD_A) == []


async def test_autocomplete_offers_this_servers_titles_to_moderators_only(storage: Storage) -> None:
    bot = make_bot(storage)
    cog = Admin(bot)
    await add_market(cog)
    (stored,) = await storage.list_documents(GUILD_A)
    choices = await cog.documents_retirer_choices(moderator(bot), "plantes")
    assert [(c.name, c.value) for c in choices] == [(f"n° {stored.id} · Marché aux plantes de Montbrison", stored.id)]
    assert await cog.documents_retirer_choices(moderator(bot), "piscine") == []
    assert await cog.documents_retirer_choices(moderator(bot, GUILD_B), "") == []
    member = make_interaction(bot, guild_id=GUILD_A, manage_guild=False)
    assert await cog.documents_retirer_choices(member, "") == []


async def test_refusals_keep_nothing(storage: Storage) -> None:
    bot = make_bot(storage, settings=Settings(documents_max_count=1, documents_max_file_bytes=100_000))
    cog = Admin(bot)
    for options in ((None, None), (attachment(), "https://exemple.fr/")):
        neither = moderator(bot)
        await cog.documents_ajouter.callback(cog, neither, *options)
        assert sent_kwargs(neither.response.send_message)["content"] == messages.DOCUMENT_ONE_SOURCE

    big = attachment(size=200_000)
    interaction = moderator(bot)
    await cog.documents_ajouter.callback(cog, interaction, big, None)
    assert reply(interaction) == messages.DOCUMENT_REFUSED.format(
        reason=messages.file_too_large("jardins.txt", "0,2 Mo", "98 ko")
    )
    big.read.assert_not_awaited()  # refused before downloading

    interaction = moderator(bot)
    await cog.documents_ajouter.callback(cog, interaction, attachment("image.png", b"\x89PNG"), None)
    assert "type de fichier non pris en charge" in reply(interaction)

    assert (await add_market(cog)).startswith("1 document ajouté")
    again = moderator(bot)
    await cog.documents_ajouter.callback(cog, again, attachment("autre.txt"), None)
    assert "limite de 1 documents" in reply(again)
    assert [d.doc_id for d in await storage.guild_documents(GUILD_A)] == ["jardins"]


async def test_an_id_already_taken_is_refused(storage: Storage) -> None:
    bot = make_bot(storage)
    cog = Admin(bot)
    await add_market(cog)
    text = await add_market(cog)
    assert text == messages.DOCUMENT_REFUSED.format(reason=messages.DOCUMENT_EXISTS.format(names="« jardins »"))
    assert len(await storage.guild_documents(GUILD_A)) == 1


async def test_an_address_is_fetched_with_the_private_address_guard(storage: Storage) -> None:
    settings = Settings(documents_allow_private_addresses=False)
    bot = make_bot(storage, settings=settings)
    cog = Admin(bot)
    page = make_document("exemple.fr-marche", MARKET.decode(), url="https://exemple.fr/marche", guess=True)
    fetch = mock.AsyncMock(return_value=page)
    with mock.patch("bot.chat.exts.admin.documents.fetch_document", fetch):
        interaction = moderator(bot)
        await cog.documents_ajouter.callback(cog, interaction, None, "https://exemple.fr/marche")
    assert reply(interaction).startswith("1 document ajouté")
    fetch.assert_awaited_once_with(
        "https://exemple.fr/marche", settings.document_limits(), allow_private_addresses=False
    )
    (stored,) = await storage.list_documents(GUILD_A)
    assert stored.source == "https://exemple.fr/marche"

    refused = mock.AsyncMock(side_effect=IngestError("http://10.0.0.1/ : adresse privée refusée."))
    with mock.patch("bot.chat.exts.admin.documents.fetch_document", refused):
        interaction = moderator(bot)
        await cog.documents_ajouter.callback(cog, interaction, None, "http://10.0.0.1/")
    assert reply(interaction) == messages.DOCUMENT_REFUSED.format(reason="http://10.0.0.1/ : adresse privée refusée.")
    assert len(await storage.list_documents(GUILD_A)) == 1


async def test_servers_with_documents_are_indexed_at_start(storage: Storage, caplog: pytest.LogCaptureFixture) -> None:
    await add_market(Admin(make_bot(storage)))
    bot = make_bot(storage)  # a restarted bot: nothing built yet
    assert bot.answerer.loaded(GUILD_A) is None
    await bot.index_guild_documents()
    await eventually(lambda: bot.answerer.loaded(GUILD_A) is not None)
    assert bot.answerer.loaded(GUILD_B) is None
    await storage.close()
    with caplog.at_level(logging.WARNING, logger="bot.chat.bot"):
        await make_bot(storage).index_guild_documents()
    assert "documents des serveurs illisibles au démarrage" in caplog.text


async def test_files_added_at_once_keep_the_server_to_its_limit(storage: Storage) -> None:
    bot = make_bot(storage, settings=Settings(documents_max_count=3))
    cog = Admin(bot)
    # Shards in other processes add at once too, beyond this process's in-flight cap: the storage holds the limit
    # (as many adds as parses may run at once).
    cog.adds_in_flight = AddsInFlight(per_server=10, per_member=10)
    interactions = [moderator(bot) for _ in range(sandbox.MAX_PARSES)]
    await asyncio.gather(
        *(
            cog.documents_ajouter.callback(cog, interaction, attachment(f"fichier-{n}.txt"), None)
            for n, interaction in enumerate(interactions)
        )
    )
    replies = [reply(interaction) for interaction in interactions]
    assert sum(text.startswith("1 document ajouté") for text in replies) == 3
    assert sum("limite de 3 documents" in text or "sur 3 permis" in text for text in replies) == sandbox.MAX_PARSES - 3
    assert len(await storage.guild_documents(GUILD_A)) == 3


def add_slow_files(cog: Admin, interactions: list) -> list[asyncio.Task]:
    """Start adding one slow PDF through each interaction."""
    add = cog.documents_ajouter.callback
    return [
        asyncio.create_task(add(cog, interaction, attachment(f"lent{n}.pdf", slow_pdf()), None))
        for n, interaction in enumerate(interactions)
    ]


async def until_parsing(count: int) -> None:
    async with asyncio.timeout(sandbox.STARTUP_SECONDS):
        while sandbox.running() < count:
            await asyncio.sleep(0.02)


async def test_a_server_and_a_moderator_have_at_most_two_adds_in_flight(storage: Storage) -> None:
    bot = make_bot(storage, settings=Settings(documents_parse_seconds=3))
    cog = Admin(bot)
    slow = [moderator(bot, GUILD_A, 50), moderator(bot, GUILD_A, 50)]
    adds = add_slow_files(cog, slow)
    await until_parsing(2)
    same_server, same_moderator = moderator(bot, GUILD_A, 51), moderator(bot, GUILD_B, 50)
    await cog.documents_ajouter.callback(cog, same_server, attachment(), None)
    await cog.documents_ajouter.callback(cog, same_moderator, attachment(), None)
    assert reply(same_server) == messages.DOCUMENT_REFUSED.format(reason=messages.ADDS_BUSY_SERVER.format(count=2))
    assert reply(same_moderator) == messages.DOCUMENT_REFUSED.format(reason=messages.ADDS_BUSY_MEMBER.format(count=2))
    await asyncio.gather(*adds)
    for n, interaction in enumerate(slow):
        assert reply(interaction).startswith(f"Rien n'a été ajouté. lent{n}.pdf : le fichier a pris trop de temps")
    assert (await add_market(cog)).startswith("1 document ajouté")  # the two places are free again
    assert parse_pids() == []


async def test_answers_on_another_server_stay_quick_while_bombs_are_parsed(
    storage: Storage, seed_engine: Engine
) -> None:
    """Six moderators of six servers each add a file that takes minutes to parse: the parses run apart, at most
    `sandbox.MAX_PARSES` at once, and another server's questions keep being answered within a second."""
    bot = make_bot(storage, seed_engine, settings=Settings(documents_parse_seconds=2))
    cog = Admin(bot)
    bombs = [moderator(bot, 100 + n, 200 + n) for n in range(6)]
    adds = add_slow_files(cog, bombs)
    delays = []
    while not all(add.done() for add in adds):
        started = time.perf_counter()
        answer = await bot.answerer.answer("De combien le trafic d'AliExpress a-t-il augmenté en Italie ?", GUILD_B)
        delays.append(time.perf_counter() - started)
        assert answer.found
        await asyncio.sleep(0.05)
    assert len(delays) > 10 and max(delays) < 1, (len(delays), max(delays))
    refusals = [reply(interaction) for interaction in bombs]
    assert sum("a pris trop de temps à lire (plus de 2 s)" in text for text in refusals) == sandbox.MAX_PARSES
    assert sum(f"le bot lit déjà {sandbox.MAX_PARSES} fichiers" in text for text in refusals) == 6 - sandbox.MAX_PARSES
    assert parse_pids() == []
