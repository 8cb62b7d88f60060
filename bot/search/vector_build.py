"""Builds the sentence vectors of a saved index in the background, resuming where the last build stopped.

The lexical index answers from the start; its sentence vectors come after, so that the engine no longer embeds
the quoted sentence when answering. The texts are read from the index here (what an answer opens on when each
sentence is its best, `summary.opening`), embedded in a child process at the lowest priority on one thread, so
the answers keep their core and their latency, and written to the vector file (`bot.search.vector_file`) one
batch at a time: stopping loses at most one batch.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import replace
from multiprocessing.pool import AsyncResult

import numpy as np

from bot.search.engine import Engine
from bot.search.index import CorpusIndex
from bot.search.passages import split_sentences
from bot.search.sentence_model import SentenceModel, SentenceModelError, SentenceModelOptions, open_sentence_model
from bot.search.summary import opening
from bot.search.vector_file import SentenceVectors, VectorsBusy, VectorWriter, digest
from bot.search.workers import spawn_terminable_pool

log = logging.getLogger(__name__)

BATCH = 32  # sentences embedded per call to the child (about a second of one core)
LOWEST_PRIORITY = 19
START_DELAY = 30.0  # seconds between a new engine in service and the start of its build
STOP_CHECK_SECONDS = 0.2  # how soon a stopped build ends its child processes
Progress = Callable[[int, int], None]  # (rows built, rows in all)


def openings(index: CorpusIndex, first: int, max_chars: int) -> Iterator[tuple[int, str | None]]:
    """(sentence number, the text an answer opens on when it is the best sentence) for the index's sentences from
    number `first` on, in order; None for the sentences of a passage whose text splits otherwise than the index
    holds it (the summary then analyses it afresh and no vector is looked up)."""
    for pid in range(max(index.passage_of_sentence(first), 0), len(index.passages)):
        lo, hi = index.sentence_range(pid)
        split = split_sentences(index.passages[pid].text)
        for number in range(max(lo, first), hi):
            order = number - lo
            text = opening(split[:order], split[order], max_chars) if len(split) == hi - lo else None
            yield number, text


class VectorBuild:
    """Fills one vector file from where it stopped: `run` in a thread, `stop` to end it after the current batch."""

    def __init__(self, index: CorpusIndex, vectors: SentenceVectors, model: SentenceModel, max_chars: int):
        self.index, self.vectors, self.model, self.max_chars = index, vectors, model, max_chars
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def stopped(self, within: float) -> bool:
        """Wait up to `within` seconds for `stop`; whether it came."""
        return self._stop.wait(within)

    def run(self, progress: Progress | None = None, processes: int = 1, priority: int = LOWEST_PRIORITY) -> int:
        """Embed and write the rows not built yet (blocking), in `processes` child processes of one thread each at
        `priority` (19: the lowest); the rows built when it ends (stopped, done, or a write failed: full disk…)."""
        vectors = self.vectors
        writer = VectorWriter(vectors.path, vectors.about, vectors.count, vectors.dim, exclusive=True)
        options = replace(self.model.options, threads=1, cache_size=0)
        batches = _batches(openings(self.index, writer.built, self.max_chars))
        flying: deque[tuple[list[tuple[int, str | None]], AsyncResult]] = deque()
        try:
            pool = spawn_terminable_pool(processes)
            try:
                while not self._stop.is_set():
                    while len(flying) < processes and (batch := next(batches, None)) is not None:
                        texts = [text for _, text in batch if text is not None]
                        flying.append((batch, pool.apply_async(_embed, (options, priority, texts))))
                    if not flying:
                        break
                    batch, embedded = flying[0]
                    if not embedded.ready():
                        embedded.wait(STOP_CHECK_SECONDS)  # a stop is heard between two waits
                        continue
                    flying.popleft()
                    _write(writer, batch, embedded.get())
                    if progress is not None:
                        progress(writer.built, writer.count)
            finally:
                pool.terminate()  # a batch in flight is only lost work: its rows are not marked built
                pool.join()
        finally:
            writer.close()
        return writer.built


def _batches(items: Iterator[tuple[int, str | None]]) -> Iterator[list[tuple[int, str | None]]]:
    while batch := list(itertools.islice(items, BATCH)):
        yield batch


def _write(writer: VectorWriter, batch: list[tuple[int, str | None]], embedded: np.ndarray) -> None:
    """Write the rows of `batch` (sentence number, text or None), `embedded` holding the vectors of its texts."""
    rows = np.zeros((len(batch), writer.dim), dtype=np.float32)
    given = [i for i, (_, text) in enumerate(batch) if text is not None]
    if given:
        rows[given] = embedded
    writer.write(batch[0][0], rows, [0 if text is None else digest(text) for _, text in batch])


class BackgroundVectors:
    """The sentence vectors of the engine in service, built in a background thread: following a new engine (a
    re-indexed corpus) stops the build of the previous one."""

    def __init__(self, name: str, delay: float = START_DELAY) -> None:
        """`name` says in the log whose vectors they are (the corpus's); each build starts `delay` seconds after
        its engine is followed, once the bot has connected and answers."""
        self.name, self.delay = name, delay
        self._build: VectorBuild | None = None

    def follow(self, engine: Engine) -> None:
        """Build the rows of `engine`'s vector file not built yet (nothing without a sentence model or vector file,
        or when they are all built)."""
        self.stop()
        vectors = engine.vectors
        if vectors is None or vectors.built >= vectors.count or engine.options.sentence_model is None:
            return
        model = engine.options.sentence_model
        build = self._build = VectorBuild(engine.index, vectors, model, engine.options.max_chars)
        threading.Thread(target=_run, args=(build, self.name, self.delay), name="sentence-vectors", daemon=True).start()

    def stop(self) -> None:
        """End the build in progress after its current batch."""
        if self._build is not None:
            self._build.stop()
            self._build = None


def _run(build: VectorBuild, name: str, delay: float) -> None:
    """Run `build` after `delay` seconds unless stopped before, logging how it ended: what stops it early (full
    disk, a model that fails) in French."""
    if build.stopped(within=delay):
        return
    started = time.perf_counter()
    try:
        built = build.run()
    except VectorsBusy:
        log.info("vecteurs de phrases de %s calculés par un autre processus", name)
        return
    except (OSError, SentenceModelError, MemoryError) as exc:
        log.warning("calcul des vecteurs de phrases de %s interrompu : %s", name, exc or type(exc).__name__)
        return
    except (RuntimeError, ValueError):  # the process is ending: its pool of children is closed
        return
    seconds = time.perf_counter() - started
    log.info("vecteurs de phrases de %s : %d / %d en %.0f s", name, built, build.vectors.count, seconds)


_child_model: SentenceModel | None = None


def _embed(options: SentenceModelOptions, priority: int, texts: list[str]) -> np.ndarray:
    """In a child: the unit vectors of `texts`, the model loaded at the first call, after taking `priority`."""
    global _child_model
    if _child_model is None:
        if priority:
            os.nice(priority)
        _child_model = open_sentence_model(options)
    return _child_model.embed_passages(texts)
