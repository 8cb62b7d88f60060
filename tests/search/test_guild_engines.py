"""A server's own engine: built from its documents on first use and on change, asked beside the shared one, and
never for direct messages or other servers."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.search.answer import Answer
from bot.search.corpus import Document, make_document
from bot.search.engine import Engine
from bot.search.guild_engines import GuildEngines, better

GUILD_A, GUILD_B = 111, 222
QUESTION = "Combien d'exposants au marché aux plantes de Montbrison ?"
MARKET = make_document(
    "jardins",
    "Marché aux plantes de Montbrison\n\nLa Fédération des jardiniers de Montbrison organise son marché aux plantes "
    "le 14 mai 2026 sur la place Bouvier. Plus de quarante exposants y vendront des semis de tomates anciennes.\n\n"
    "L'entrée est gratuite pour les adhérents.",
    guess=True,
)


class Library:
    """Documents per server, as the bot's database would hand them over; counts the reads."""

    def __init__(self, documents: dict[int, list[Document]]) -> None:
        self.documents = documents
        self.reads: list[int] = []
        self.broken = False

    async def load(self, guild_id: int) -> list[Document]:
        self.reads.append(guild_id)
        if self.broken:
            raise OSError("disque illisible")
        return list(self.documents.get(guild_id, []))


def answer(found: bool, confidence: float) -> Answer:
    return Answer("q", found=found, confidence=confidence)


def test_the_better_answer_is_kept() -> None:
    shared_found, own_found = answer(True, 0.6), answer(True, 0.8)
    assert better(shared_found, own_found) is own_found
    assert better(answer(True, 0.9), own_found).confidence == 0.9
    assert better(answer(False, 0.2), own_found) is own_found
    not_found = answer(False, 0.3)
    assert better(not_found, answer(False, 0.5)) is not_found  # nothing found: the shared corpus's hint stays
    tie = answer(True, 0.8)
    assert better(tie, own_found) is tie


async def test_only_that_server_is_answered_from_its_documents(seed_engine: Engine) -> None:
    assert MARKET is not None
    library = Library({GUILD_A: [MARKET]})
    engines = GuildEngines(library.load)
    in_a = await engines.answer(seed_engine, QUESTION, GUILD_A)
    assert in_a.found and in_a.source is not None and in_a.source.doc_id == "jardins"
    assert "Montbrison" in " ".join(in_a.sentences)
    in_b = await engines.answer(seed_engine, QUESTION, GUILD_B)
    assert all(source.doc_id != "jardins" for source in in_b.sources)
    in_dm = await engines.answer(seed_engine, QUESTION, None)
    assert all(source.doc_id != "jardins" for source in in_dm.sources)
    assert library.reads == [GUILD_A, GUILD_B]  # read once per server, never for a direct message
    await engines.answer(seed_engine, QUESTION, GUILD_A)
    assert library.reads == [GUILD_A, GUILD_B]


async def test_a_rebuild_follows_the_documents(seed_engine: Engine) -> None:
    assert MARKET is not None
    library = Library({})
    engines = GuildEngines(library.load)
    assert not (await engines.answer(seed_engine, QUESTION, GUILD_A)).found
    library.documents[GUILD_A] = [MARKET]
    engine = await engines.refresh(GUILD_A)
    assert engine is not None and engine.document_count == 1 and engines.loaded(GUILD_A) is engine
    assert (await engines.answer(seed_engine, QUESTION, GUILD_A)).found
    library.documents[GUILD_A] = []
    assert await engines.rebuild(GUILD_A) is None
    assert not (await engines.answer(seed_engine, QUESTION, GUILD_A)).found


async def test_unreadable_documents_leave_the_shared_corpus_answering(
    seed_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    assert MARKET is not None
    library = Library({GUILD_A: [MARKET]})
    library.broken = True
    engines = GuildEngines(library.load)
    with caplog.at_level(logging.WARNING, logger="bot.search.guild_engines"):
        shared = await engines.answer(seed_engine, QUESTION, GUILD_A)
    assert not shared.found and "documents du serveur 111 illisibles" in caplog.text
    library.broken = False
    assert (await engines.answer(seed_engine, QUESTION, GUILD_A)).found  # read again at the next question
    library.broken = True
    with caplog.at_level(logging.ERROR, logger="bot.search.guild_engines"):
        with pytest.raises(OSError):
            await engines.refresh(GUILD_A)
        await asyncio.sleep(0)  # the done callback logs
    assert "non reconstruit" in caplog.text
    assert engines.loaded(GUILD_A) is None  # dropped: it may hold a document just removed
    library.broken = False
    library.documents[GUILD_A] = []
    assert not (await engines.answer(seed_engine, QUESTION, GUILD_A)).found  # the next question reads them again
