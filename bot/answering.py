"""Answering one question, the same for every front door (the terminal and Discord): `Answerer.answer`.

The `Answerer` holds the engine of the shared corpus, swapped in one place when the corpus is re-indexed, and
the small engines of the servers that added documents of their own (built in a thread on a server's first
question, rebuilt whenever its moderators add or remove one). It checks the question once (blank, too long),
answers off the event loop, keeps the better of the shared and the server's answers, writes the bot's
introduction into a small-talk answer, and measures the latency once, around all of it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from bot.search.answer import Answer, QuestionError
from bot.search.corpus import Corpus, Document
from bot.search.engine import Engine, EngineOptions
from bot.search.followup import understand
from bot.search.query import smalltalk_kind
from bot.search.question import EmptyQuestion as EmptyQuestion  # what `check` raises, for the front doors
from bot.search.question import check_question
from bot.text.answers import COURTESY_REPLIES, introduction_for

log = logging.getLogger(__name__)

TOO_LONG = "La question est trop longue ({length} caractères, {limit} au plus) : raccourcissez-la."

# Reads one server's documents (raises when they cannot be read: then that server is answered from the shared
# corpus alone, and its documents are read again at its next question).
DocumentLoader = Callable[[int], Awaitable[list[Document]]]


class QuestionTooLong(QuestionError):
    """A question longer than `EngineOptions.max_question_chars`: refused, never cut, whatever the front door."""


def better(shared: Answer, own: Answer) -> Answer:
    """The answer to keep of the shared corpus's and a server's own: the server's when it found an answer with a
    higher confidence than the shared one's (or the shared one found none), else the shared one.

    Comparing confidences across the two engines is sound because `Answer.confidence` is a calibrated probability
    of being right, which reads the same whatever the size of the corpus behind it. Ties go to the shared corpus.
    """
    if own.found and (not shared.found or own.confidence > shared.confidence):
        return own
    return shared


class Answerer:
    """The shared engine and each server's own, and the one way every front door gets a complete answer."""

    def __init__(
        self,
        engine: Engine,
        load: DocumentLoader | None = None,
        options: EngineOptions | None = None,
        on_swap: Callable[[Engine], None] | None = None,
    ) -> None:
        """`load` reads a server's documents (None: no server has any, as in the terminal without `--server`);
        `on_swap` hears of each engine put in service after this one."""
        self._engine = engine
        self._on_swap = on_swap
        self._introduction: str | None = None  # of the engine in service, written at its first small talk
        self._load = load
        self.options = options or EngineOptions()
        self._engines: dict[int, Engine | None] = {}  # None: that server has no documents
        self._locks: dict[int, asyncio.Lock] = {}
        self._pending: set[asyncio.Task[Engine | None]] = set()
        self._building = asyncio.Semaphore(1)  # one server's index built at a time

    # -- the shared engine --

    @property
    def engine(self) -> Engine:
        """The engine of the shared corpus in service."""
        return self._engine

    def swap(self, engine: Engine, why: str) -> None:
        """Put `engine` in service for the next questions (the one in flight finish on the old one); `why` says
        in the log where it comes from."""
        self._engine, self._introduction = engine, None
        log.info("%s : %d documents, %d passages", why, engine.document_count, engine.passage_count)
        if self._on_swap is not None:
            self._on_swap(engine)

    def introduction(self) -> str:
        """The bot introducing itself over the shared corpus (the answer to small talk)."""
        if self._introduction is None:
            self._introduction = introduction_for(self._engine.overview())
        return self._introduction

    # -- answering --

    def check(self, question: str) -> str:
        """`question` when the engine may read it; raises EmptyQuestion or QuestionTooLong (French messages).
        The front doors call it to refuse before they acknowledge; `answer` calls it too."""
        check_question(question)
        limit = self.options.max_question_chars
        if len(question) > limit:
            raise QuestionTooLong(TOO_LONG.format(length=len(question), limit=limit))
        return question

    async def answer(self, question: str, guild_id: int | None = None, context: Sequence[str] = ()) -> Answer:
        """The complete answer to `question` as that server would give it (`guild_id` None: the shared corpus
        alone, as in direct messages and the terminal), its latency measured here, small talk answered with
        the bot's introduction (in `sentences`), thanks with thanks. Raises QuestionError for a question
        `check` refuses.

        `context` holds the questions asked before in the conversation, oldest first: a follow-up (« Et en
        Espagne ? ») is answered written out in full, which `understood_as` says. On a server with documents
        of its own both engines run, in one thread hop off the event loop, and the `better` answer is kept; a
        server whose documents cannot be read is answered from the shared corpus.
        """
        started = time.perf_counter()
        self.check(question)
        understood = understand(question, context) if context else None
        if understood is not None and len(understood) > self.options.max_question_chars:
            understood = None
        shared, own = self._engine, await self._own_engine(guild_id)
        answer = await asyncio.to_thread(_best_of, shared, own, understood or question)
        if answer.intent == "smalltalk":  # thanks in kind; a greeting or a request for help: the introduction
            reply = COURTESY_REPLIES.get(smalltalk_kind(question) or "")
            answer = replace(answer, sentences=[reply or self.introduction()])
        return replace(
            answer, question=question, understood_as=understood, latency_ms=(time.perf_counter() - started) * 1000
        )

    async def _own_engine(self, guild_id: int | None) -> Engine | None:
        """That server's engine, or None (no server, no documents, or documents that cannot be read: logged)."""
        if guild_id is None:
            return None
        try:
            return await self.guild_engine(guild_id)
        except Exception:
            log.warning(
                "documents du serveur %s illisibles ; réponse depuis le corpus commun seul", guild_id, exc_info=True
            )
            return None

    # -- each server's own engine --

    def loaded(self, guild_id: int) -> Engine | None:
        """That server's engine as it stands, without building it (None when not built or without documents)."""
        return self._engines.get(guild_id)

    async def guild_engine(self, guild_id: int) -> Engine | None:
        """That server's engine, built now if this is its first use; None when it has no documents of its own. A
        question arriving while that engine is being built waits for it rather than building it a second time."""
        if guild_id in self._engines:
            return self._engines[guild_id]
        return await self._build(guild_id, again=False)

    async def rebuild(self, guild_id: int) -> Engine | None:
        """Read that server's documents again and index them in a thread, then swap the new engine in (the old one
        answers until then); None when the server has no documents left. Rebuilds of one server run one at a time,
        so the last one started reads the latest documents. On failure the old engine is dropped too, since it may
        hold a document just removed: the server's next question reads its documents again. Raises what failed.
        """
        return await self._build(guild_id, again=True)

    async def _build(self, guild_id: int, again: bool) -> Engine | None:
        """Build that server's engine under its lock (unless `again` is False and one was built meanwhile). Servers'
        indexes are built one at a time, so builds started together leave threads to the answers."""
        lock = self._locks.setdefault(guild_id, asyncio.Lock())
        async with lock:
            if not again and guild_id in self._engines:
                return self._engines[guild_id]
            try:
                documents = await self._load(guild_id) if self._load is not None else []
                engine = None
                if documents:
                    corpus = Corpus(documents, source=f"guild:{guild_id}")
                    async with self._building:
                        engine = await asyncio.to_thread(Engine.build, corpus, self.options, workers=1)
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


def _best_of(shared: Engine, own: Engine | None, question: str) -> Answer:
    """Ask the shared engine and the server's (blocking) and keep the `better` answer; small talk is the shared
    engine's to recognise."""
    answer = shared.answer(question)
    if own is None or answer.intent == "smalltalk":
        return answer
    return better(answer, own.answer(question))
