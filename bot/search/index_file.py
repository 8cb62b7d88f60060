"""The persisted index: a corpus and its index saved beside the database, so a large corpus starts in a second.

One uncompressed NumPy `.npz` file per corpus (arrays, plus JSON for the documents and
vocabularies; never pickle, so loading runs no code from the file). It is written to a temporary
file and renamed, so a reader sees the old file or the new one, never half of one; the temporary
files a killed save leaves are removed by the next save. It records a
key made of the corpus's fingerprint, the analyzer's version and the options that shape the
index: a file with another key, another format, a bad checksum or missing parts is rejected
and the index rebuilt.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import logging
import os
import stat
import tempfile
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from bot.search.analysis import ANALYZER_VERSION
from bot.search.bm25 import BM25Index
from bot.search.corpus import Corpus, Document
from bot.search.index import ARRAYS, FIELDS, CorpusIndex, IndexOptions, Progress, build_index
from bot.search.oserrors import french_os_error
from bot.search.passages import Passage

try:
    import fcntl
except ImportError:  # no flock (Windows): a stale temporary file is told by its age only
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

FORMAT = 2  # bump when the file's layout changes
STALE_SECONDS = 600  # without locks: a temporary file untouched this long belongs to no live save
_POSTINGS = ("offsets", "doc_ids", "tfs", "doc_len")
TEMPORARIES = ".*.index.npz.*.tmp"  # what `save_index` writes before renaming it (see `index_file`, `_temporary`)

Warn = Callable[[str], None]


class IndexFileError(Exception):
    """A persisted index that cannot be used (missing, stale, damaged); the message says why, in French."""


class MissingIndexError(IndexFileError):
    """No index saved yet: built without a warning."""


class IndexWriteError(Exception):
    """An index that had to be saved could not be written; the message says which and why, in French."""


def index_key(fingerprint: str, options: IndexOptions) -> str:
    """What a persisted index must match: corpus content, analyzer version and index-shaping options."""
    parts = {
        "format": FORMAT,
        "analyzer": ANALYZER_VERSION,
        "corpus": fingerprint,
        "k1": options.k1,
        "b": options.b,
        "passage_max_chars": options.passage_max_chars,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def index_file(index_dir: Path, corpus_path: Path) -> Path:
    """Where the index of a corpus lives: one file per corpus path, named after it."""
    resolved = str(Path(corpus_path).resolve())
    name = Path(resolved).name.split(".")[0] or "corpus"
    return Path(index_dir) / f"{name}-{hashlib.sha256(resolved.encode()).hexdigest()[:12]}.index.npz"


def _json(value: object) -> np.ndarray:
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode(), dtype=np.uint8)


def _unjson(array: np.ndarray) -> object:
    return json.loads(str(array.data, "utf-8"))


def _passage_rows(documents: list[Document], passages: list[Passage]) -> tuple[np.ndarray, dict[str, str]]:
    """Each passage as (document, paragraph, position, start, end) of its paragraph's text, so the text
    is stored once; the rare passage that is not a slice of its paragraph is kept whole on the side."""
    rows = np.zeros((len(passages), 5), dtype=np.int32)
    whole: dict[str, str] = {}
    cursor = (-1, -1, 0)
    for i, p in enumerate(passages):
        para = documents[p.doc_index].paragraphs[p.paragraph]
        since = cursor[2] if cursor[:2] == (p.doc_index, p.paragraph) else 0
        start = para.find(p.text, since)
        if start < 0:
            whole[str(i)] = p.text
            start, end = 0, -1
        else:
            end = start + len(p.text)
            cursor = (p.doc_index, p.paragraph, end)
        rows[i] = (p.doc_index, p.paragraph, p.position, start, end)
    return rows, whole


def _document_row(d: Document) -> list[object]:
    return [d.doc_id, d.title, d.url, d.published, d.publisher, d.file, d.paragraphs]


def save_index(corpus: Corpus, index: CorpusIndex, path: Path, key: str) -> None:
    """Write a corpus and its index atomically (raises OSError, e.g. on a full disk)."""
    rows, whole = _passage_rows(corpus.documents, index.passages)
    encoded = [json.dumps(_document_row(d), ensure_ascii=False).encode() for d in corpus.documents]
    arrays: dict[str, np.ndarray] = {
        "meta": _json(
            {
                "format": FORMAT,
                "key": key,
                "source": corpus.source,
                "fingerprint": corpus.fingerprint,
                "skipped": corpus.skipped,
                "warnings": corpus.warnings,
                "k1": index.body.k1,
                "b": index.body.b,
            }
        ),
        # One JSON text per document, found through its offsets: decoded one by one, so a bot loading a big
        # index in a thread lets its event loop run in between (decoding the whole blob would hold the GIL).
        "documents": np.frombuffer(b"".join(encoded), dtype=np.uint8),
        "document_offsets": np.cumsum([0, *map(len, encoded)], dtype=np.int64),
        "passages": rows,
        "passage_texts": _json(whole),
        "lexicon": _json(sorted(index.lexicon)),
        **{array.name: index.arrays[array.name] for array in ARRAYS},
    }
    for name in FIELDS:
        bm25 = getattr(index, name)
        arrays[f"{name}_vocab"] = _json(list(bm25.vocab))
        for field in _POSTINGS:
            arrays[f"{name}_{field}"] = getattr(bm25, field)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    fd, temp = _temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
            # mkstemp makes it private to its writer; the index holds nothing the corpus does not, and the bot may
            # run as another user than whoever ran `python -m bot index`.
            os.chmod(temp, 0o644)
            if fcntl is not None:
                os.replace(temp, path)  # still locked: another save cannot take it for a stale file meanwhile
        if fcntl is None:
            os.replace(temp, path)  # Windows renames no open file
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _temporary(path: Path) -> tuple[int, str]:
    """A new temporary file beside `path`, locked for as long as its writer lives (a killed one loses the lock)."""
    while True:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        if fcntl is None:
            return fd, temp
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:  # else another save removed it as stale before it was locked: take another
            return fd, temp
        os.close(fd)


def _remove_stale_temporaries(path: Path) -> None:
    """Remove what killed saves of this index left beside it (up to its full size each)."""
    remove_stale_temporaries(path.parent, f".{glob.escape(path.name)}.*.tmp")


def remove_stale_temporaries(folder: Path, pattern: str = TEMPORARIES) -> list[Path]:
    """Remove the temporary files of saves that were killed (those matching `pattern` in `folder`, by default of
    every index there): those no live writer holds locked, or without locks, those untouched for `STALE_SECONDS`.
    Returns the paths removed."""
    removed = []
    for temp in folder.glob(pattern):
        with contextlib.suppress(OSError, IndexFileError), _regular_file(temp) as handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError while its writer lives
            elif time.time() - os.fstat(handle.fileno()).st_mtime < STALE_SECONDS:
                continue
            temp.unlink()  # under the lock: a save that has just created it sees it gone (`_temporary`)
            removed.append(temp)
    return removed


def load_index(path: Path, key: str) -> tuple[Corpus, CorpusIndex]:
    """Read a corpus and index saved by `save_index`; raise IndexFileError when absent, stale or damaged.

    Nothing else escapes: whatever a damaged file makes numpy, zipfile or json raise (a dozen kinds, some
    from deep inside, e.g. tokenize's for a bad .npy header) means "rebuild", never a failed start.
    """
    try:
        with _regular_file(path) as handle, np.load(handle, allow_pickle=False) as data:
            meta = _unjson(data["meta"])
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise IndexFileError("format d'index d'une autre version")
            if meta.get("key") != key:
                raise IndexFileError("corpus ou réglages modifiés depuis sa construction")
            arrays = {name: data[name] for name in data.files}  # reading each member checks its CRC
    except IndexFileError:
        raise
    except (FileNotFoundError, NotADirectoryError):
        raise MissingIndexError("aucun index enregistré") from None
    except Exception as exc:
        raise IndexFileError(f"fichier illisible ou tronqué ({type(exc).__name__})") from None
    try:
        return _index_from(arrays, meta)
    except Exception as exc:
        raise IndexFileError(f"contenu incohérent ({type(exc).__name__})") from None


def _regular_file(path: Path) -> BinaryIO:
    """`path` opened for reading if it is a regular file; IndexFileError for anything else (a pipe, a device, a
    folder), checked on the opened file itself and without waiting, since opening a named pipe for reading blocks
    until someone writes to it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IndexFileError("ce n'est pas un fichier ordinaire (tube nommé, périphérique ou dossier)")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _index_from(arrays: dict[str, np.ndarray], meta: dict) -> tuple[Corpus, CorpusIndex]:
    blob, offsets = arrays["documents"].data, arrays["document_offsets"].tolist()
    documents = []
    for lo, hi in pairwise(offsets):
        doc_id, title, url, published, publisher, file, paragraphs = json.loads(str(blob[lo:hi], "utf-8"))
        documents.append(Document(doc_id, tuple(paragraphs), title, url, published, publisher, file))
    whole = _unjson(arrays["passage_texts"])
    rows = arrays["passages"]
    if rows.ndim != 2 or rows.shape[1] != 5:
        raise ValueError("passages")
    passages = [
        Passage(d, p, pos, documents[d].paragraphs[p][start:end] if end >= 0 else whole[str(i)])
        for i, (d, p, pos, start, end) in enumerate(rows.tolist())
    ]
    indexes = {}
    for name in FIELDS:
        vocab = {term: i for i, term in enumerate(_unjson(arrays[f"{name}_vocab"]))}
        params = {"k1": meta["k1"], "b": meta["b"]} if name != "titles" else {}
        indexes[name] = BM25Index(vocab, *(arrays[f"{name}_{field}"] for field in _POSTINGS), **params)
    index = CorpusIndex(
        passages=passages,
        passage_doc=np.ascontiguousarray(rows[:, 0]),
        arrays={array.name: arrays[array.name] for array in ARRAYS},
        lexicon=set(_unjson(arrays["lexicon"])),
        **indexes,
    )
    _check(index, len(documents))
    corpus = Corpus(
        documents,
        fingerprint=meta["fingerprint"],
        source=meta["source"],
        skipped=meta["skipped"],
        warnings=[str(w) for w in meta.get("warnings", [])],
    )
    return corpus, index


def _check(index: CorpusIndex, documents: int) -> None:
    """Lengths, bounds and types that must hold, so a damaged file fails here and not in the middle of a question."""
    passages = len(index.passages)
    sizes = {"document": documents, "passage": passages}  # entries per unit, as the offsets arrays tell
    fields = {name: getattr(index, name) for name in FIELDS}
    for spec in ARRAYS:
        array = index.arrays[spec.name]
        if array.ndim != 1 or array.dtype != spec.dtype:
            raise ValueError(spec.name)
        if spec.is_offsets:
            if len(array) != sizes[spec.per] + 1 or array[0] != 0 or bool(np.any(np.diff(array) < 0)):
                raise ValueError(spec.name)
            sizes[spec.counts] = int(array[-1])
        elif len(array) != sizes[spec.per] or not _within(array, len(fields[spec.vocab].vocab)):
            raise ValueError(spec.name)
    ok = (
        index.body.size == index.prefixes.size == passages
        and index.titles.size == documents
        and all(
            len(field.offsets) == len(field.vocab) + 1 and field.offsets[-1] == len(field.doc_ids) == len(field.tfs)
            for field in fields.values()
        )
        and (passages == 0 or 0 <= int(index.passage_doc.min()) <= int(index.passage_doc.max()) < documents)
    )
    if not ok:
        raise ValueError("lengths")


def _within(ids: np.ndarray, size: int) -> bool:
    """Every id is a valid index into a vocabulary of `size` terms."""
    return len(ids) == 0 or 0 <= int(ids.min()) <= int(ids.max()) < size


class CorpusReader(Protocol):
    """Where a corpus is and how to read it: its files' fingerprint (what a saved index is keyed by) and its
    documents. `bot.ingest.corpus.CorpusSource` is the one the bot uses."""

    path: Path

    def fingerprint(self) -> str: ...

    def load(self, workers: int | None = None) -> Corpus: ...


def open_index(
    source: CorpusReader,
    options: IndexOptions,
    index_dir: Path | None,
    warn: Warn | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    *,
    rebuild: bool = False,
    must_save: bool = False,
) -> tuple[Corpus, CorpusIndex]:
    """A corpus and its index: the index saved in `index_dir` when current (and not `rebuild`), else built from the
    corpus and saved there (kept in memory only when `index_dir` is None).

    A stale or damaged index is rebuilt with a warning; an index that cannot be saved (read-only
    directory, full disk) is only warned about, the index in memory serving all the same, unless
    `must_save` (then IndexWriteError). Raises CorpusError when the corpus itself cannot be read.
    """
    warn = log.warning if warn is None else warn
    path = None if index_dir is None else index_file(index_dir, source.path)
    if path is not None and not rebuild:
        try:
            return load_index(path, index_key(source.fingerprint(), options))
        except MissingIndexError:
            pass
        except IndexFileError as exc:
            warn(f"Index {path} inutilisable ({exc}) : reconstruction à partir du corpus.")
    corpus = source.load(workers)
    index = build_index(corpus.documents, options, progress=progress, workers=workers)
    if path is None:
        return corpus, index
    try:
        save_index(corpus, index, path, index_key(corpus.fingerprint, options))
    except OSError as exc:
        reason = french_os_error(exc)
        if must_save:
            raise IndexWriteError(f"l'index {path} n'a pas pu être écrit ({reason})") from None
        warn(f"Index non enregistré dans {path} ({reason}) : il sera reconstruit au prochain démarrage.")
    return corpus, index
