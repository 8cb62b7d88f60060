"""Each server's own small engine, over the documents its moderators added, beside the engine of the shared corpus.

The documents come from a loader the caller gives (the bot reads them from its database), so this module knows
nothing of where they are kept. Indexes are built in a thread, never on the event loop; a server's index is built
on its first question, and again whenever its moderators add or remove a document.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.search.answer import Answer
from bot.search.corpus import Corpus, Document
from bot.search.engine import Engine, EngineOptions

log = logging.getLogger(__name__)

# Reads one server's documents (raises when they cannot be read: then that server is answered from the shared
# corpus alone, and its documents are read again at its next question).
DocumentLoader = Callable[[int], Awaitable[list[Document]]]


def better(shared: Answer, own: Answer) -> Answer:
    """The answer to keep of the shared corpus's and a server's own: the server's when it found an answer with a
    higher confidence than the shared one's (or the shared one found none), else the shared one.

    Comparing confidences across the two engines is sound because `Answer.confidence` is a calibrated probability
    of being right, which reads the same whatever the size of the corpus behind it. Ties go to the shared corpus.
    """
    if own.found and (not shared.found or own.confidence > shared.confidence):
        return own
    return shared


class GuildEngines:
    """The engines of the servers that have documents of their own, built on demand and rebuilt on change."""

    def __init__(self, load: DocumentLoader, options: EngineOptions | None = None) -> None:
        self._load = load
        self._options = options
        self._engines: dict[int, Engine | None] = {}  # None: that server has no documents
        self._locks: dict[int, asyncio.Lock] = {}
        self._pending: set[asyncio.Task[Engine | None]] = set()

    def loaded(self, guild_id: int) -> Engine | None:
        """That server's engine as it stands, without building it (None when not built or without documents)."""
        return self._engines.get(guild_id)

    async def engine(self, guild_id: int) -> Engine | None:
        """That server's engine, built now if this is its first use; None when it has no documents of its own."""
        if guild_id in self._engines:
            return self._engines[guild_id]
        return await self.rebuild(guild_id)

    async def rebuild(self, guild_id: int) -> Engine | None:
        """Read that server's documents again and index them in a thread, then swap the new engine in (the old one
        answers until then); None when the server has no documents left. Rebuilds of one server run one at a time,
        so the last one started reads the latest documents. On failure the old engine is dropped too, since it may
        hold a document just removed: the server's next question reads its documents again. Raises what failed.
        """
        lock = self._locks.setdefault(guild_id, asyncio.Lock())
        async with lock:
            try:
                documents = await self._load(guild_id)
                engine = None
                if documents:
                    corpus = Corpus(documents, source=f"guild:{guild_id}")
                    engine = await asyncio.to_thread(Engine.build, corpus, self._options, workers=1)
            except BaseException:
                self._engines.pop(guild_id, None)
                raise
            self._engines[guild_id] = engine
        return engine

    def refresh(self, guild_id: int) -> asyncio.Task[Engine | None]:
        """Rebuild that server's engine in the background; the task is kept until it ends, and a failure is logged."""
        task = asyncio.get_running_loop().create_task(self.rebuild(guild_id))
        self._pending.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Engine | None]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("index des documents propres d'un serveur non reconstruit", exc_info=task.exception())

    async def answer(self, shared: Engine, question: str, guild_id: int | None) -> Answer:
        """Answer as that server would: from the shared corpus and, on a server with documents of its own, from
        those too, keeping the `better` answer. Direct messages (`guild_id` None) and other servers never read a
        server's documents. Both engines run in one thread hop, off the event loop (QuestionError for a blank
        question). A server whose documents cannot be read is answered from the shared corpus, with a warning.
        """
        own = None
        if guild_id is not None:
            try:
                own = await self.engine(guild_id)
            except Exception:
                log.warning(
                    "documents du serveur %s illisibles ; réponse depuis le corpus commun seul", guild_id, exc_info=True
                )
        if own is None:
            return await asyncio.to_thread(shared.answer, question)
        return await asyncio.to_thread(_best_of, shared, own, question)


def _best_of(shared: Engine, own: Engine, question: str) -> Answer:
    """Ask both engines (blocking) and keep the `better` answer; small talk is the shared engine's to recognise."""
    answer = shared.answer(question)
    if answer.intent == "smalltalk":
        return answer
    return better(answer, own.answer(question))
