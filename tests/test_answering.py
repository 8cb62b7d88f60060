"""The one way every front door answers: the question checked once, small talk introduced, the latency measured,
and a server's own engine built from its documents on first use and on change, asked beside the shared one, and
never for direct messages or other servers."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bot.answering import Answerer, EmptyQuestion, QuestionTooLong, better
from bot.search.answer import Answer
from bot.search.corpus import Corpus, Document, make_document
from bot.search.engine import Engine, EngineOptions

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
    engines = Answerer(seed_engine, library.load)
    in_a = await engines.answer(QUESTION, GUILD_A)
    assert in_a.found and in_a.source is not None and in_a.source.doc_id == "jardins"
    assert "Montbrison" in " ".join(in_a.sentences)
    in_b = await engines.answer(QUESTION, GUILD_B)
    assert all(source.doc_id != "jardins" for source in in_b.sources)
    in_dm = await engines.answer(QUESTION, None)
    assert all(source.doc_id != "jardins" for source in in_dm.sources)
    assert library.reads == [GUILD_A, GUILD_B]  # read once per server, never for a direct message
    await engines.answer(QUESTION, GUILD_A)
    assert library.reads == [GUILD_A, GUILD_B]


async def test_a_rebuild_follows_the_documents(seed_engine: Engine) -> None:
    assert MARKET is not None
    library = Library({})
    engines = Answerer(seed_engine, library.load)
    assert not (await engines.answer(QUESTION, GUILD_A)).found
    library.documents[GUILD_A] = [MARKET]
    engine = await engines.refresh(GUILD_A)
    assert engine is not None and engine.document_count == 1 and engines.loaded(GUILD_A) is engine
    assert (await engines.answer(QUESTION, GUILD_A)).found
    library.documents[GUILD_A] = []
    assert await engines.rebuild(GUILD_A) is None
    assert not (await engines.answer(QUESTION, GUILD_A)).found


async def test_unreadable_documents_leave_the_shared_corpus_answering(
    seed_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    assert MARKET is not None
    library = Library({GUILD_A: [MARKET]})
    library.broken = True
    engines = Answerer(seed_engine, library.load)
    with caplog.at_level(logging.WARNING, logger="bot.answering"):
        shared = await engines.answer(QUESTION, GUILD_A)
    assert not shared.found and "documents du serveur 111 illisibles" in caplog.text
    library.broken = False
    assert (await engines.answer(QUESTION, GUILD_A)).found  # read again at the next question
    library.broken = True
    with caplog.at_level(logging.ERROR, logger="bot.answering"):
        with pytest.raises(OSError):
            await engines.refresh(GUILD_A)
        await asyncio.sleep(0)  # the done callback logs
    assert "non reconstruit" in caplog.text
    assert engines.loaded(GUILD_A) is None  # dropped: it may hold a document just removed
    library.broken = False
    library.documents[GUILD_A] = []
    assert not (await engines.answer(QUESTION, GUILD_A)).found  # the next question reads them again


async def test_a_question_during_the_startup_build_waits_for_it_instead_of_building_again(
    seed_engine: Engine,
) -> None:
    assert MARKET is not None
    library = Library({GUILD_A: [MARKET]})
    opened = asyncio.Event()
    read = library.load

    async def slow_load(guild_id: int) -> list[Document]:
        await opened.wait()
        return await read(guild_id)

    engines = Answerer(seed_engine, slow_load)
    building = engines.refresh(GUILD_A)
    await asyncio.sleep(0)  # the startup build holds the server's lock
    asking = asyncio.create_task(engines.answer(QUESTION, GUILD_A))
    await asyncio.sleep(0.05)
    opened.set()
    built, answered = await building, await asking
    assert answered.found and engines.loaded(GUILD_A) is built
    assert library.reads == [GUILD_A]  # one read, one build


async def test_servers_indexed_at_startup_leave_threads_to_answer_others(
    seed_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert MARKET is not None
    guilds = [1, 2, 3]
    engines = Answerer(seed_engine, Library({guild: [MARKET] for guild in guilds}).load)
    released = threading.Event()
    build = Engine.build

    def slow_build(*args: Any, **kwargs: Any) -> Engine:
        released.wait(10)
        return build(*args, **kwargs)

    monkeypatch.setattr(Engine, "build", slow_build)
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=len(guilds) - 1)  # fewer threads than servers to index
    loop.set_default_executor(executor)
    try:
        building = [engines.refresh(guild) for guild in guilds]
        await asyncio.sleep(0.05)
        answered = await asyncio.wait_for(engines.answer(QUESTION, GUILD_B), timeout=5)
        assert all(source.doc_id != "jardins" for source in answered.sources)
        assert not any(task.done() for task in building)
    finally:
        released.set()
    built = await asyncio.gather(*building)
    assert all(engine is not None and engine.document_count == 1 for engine in built)
    executor.shutdown(wait=False)


async def test_small_talk_is_answered_with_the_introduction(seed_engine: Engine) -> None:
    answerer = Answerer(seed_engine)
    answer = await answerer.answer("Bonjour !")
    assert answer.intent == "smalltalk" and not answer.found
    assert answer.sentences[0].startswith("Bonjour ! Je réponds à vos questions")
    assert f"Je connais {seed_engine.document_count} documents" in answer.sentences[0]
    assert answer.latency_ms > 0


async def test_the_latency_covers_the_whole_answer(seed_engine: Engine) -> None:
    answer = await Answerer(seed_engine).answer(QUESTION)
    assert answer.latency_ms > 0 and answer.question == QUESTION


@pytest.mark.parametrize("question", ["", "   ", "?!", "… « » 🙂"])
async def test_a_question_without_words_is_refused_once_in_french(seed_engine: Engine, question: str) -> None:
    answerer = Answerer(seed_engine)
    with pytest.raises(EmptyQuestion, match="La question est vide"):
        answerer.check(question)
    with pytest.raises(EmptyQuestion):
        await answerer.answer(question)
    with pytest.raises(EmptyQuestion, match="La question est vide"):  # one check: the engine's
        seed_engine.answer(question)


async def test_a_question_over_the_engines_limit_is_refused_not_cut(seed_engine: Engine) -> None:
    answerer = Answerer(seed_engine, options=EngineOptions(max_question_chars=40))
    assert answerer.check("x" * 40) == "x" * 40
    with pytest.raises(QuestionTooLong, match=r"trop longue \(41 caractères, 40 au plus\)"):
        await answerer.answer("x" * 41)
    assert Answerer(seed_engine).options.max_question_chars == EngineOptions().max_question_chars


async def test_a_swap_puts_the_new_engine_and_its_introduction_in_service(seed_engine: Engine) -> None:
    assert MARKET is not None
    answerer = Answerer(seed_engine)
    before = (await answerer.answer("Bonjour")).sentences[0]
    small = Engine.build(Corpus([MARKET], source="petit"), workers=1)
    answerer.swap(small, "corpus réindexé")
    assert answerer.engine is small
    after = (await answerer.answer("Bonjour")).sentences[0]
    assert after != before and "Je connais 1 document" in after
    assert (await answerer.answer(QUESTION)).found


async def test_a_follow_up_is_answered_as_understood_from_its_context(seed_engine: Engine) -> None:
    answerer = Answerer(seed_engine)
    italy = "De combien le trafic d'AliExpress a-t-il augmenté en Italie ?"
    answer = await answerer.answer("Et en Espagne ?", context=[italy])
    assert answer.question == "Et en Espagne ?"
    assert answer.understood_as == italy.replace("Italie", "Espagne")
    assert answer.found and "20%" in answer.sentences[0]
    alone = await answerer.answer("Et en Espagne ?")
    assert alone.understood_as is None


async def test_a_complete_question_ignores_its_context(seed_engine: Engine) -> None:
    answer = await Answerer(seed_engine).answer(QUESTION, context=["Qui est le vice-président de Pinduoduo ?"])
    assert answer.understood_as is None and answer.question == QUESTION


@pytest.mark.parametrize("thanks", ["merci !", "Merci beaucoup 🙏", "thx"])
async def test_thanks_get_thanks_in_return_not_the_introduction(seed_engine: Engine, thanks: str) -> None:
    answer = await Answerer(seed_engine).answer(thanks, context=["Qui est le vice-président de Pinduoduo ?"])
    assert answer.intent == "smalltalk" and answer.sentences[0].startswith("Avec plaisir !")
    assert answer.understood_as is None


@pytest.mark.parametrize("request_", ["tu peux m'aider stp ?", "j'ai une question", "Pouvez-vous m'aider ?", "aide"])
async def test_a_request_for_help_gets_the_introduction(seed_engine: Engine, request_: str) -> None:
    answer = await Answerer(seed_engine).answer(request_)
    assert answer.intent == "smalltalk" and answer.sentences[0].startswith("Bonjour ! Je réponds à vos questions")
