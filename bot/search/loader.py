"""A corpus path to a `Corpus`: a folder (`folder`) or a JSON Lines file (`jsonl`), and the fingerprint that
tells whether a saved index still matches it.

`bot.ingest.corpus` calls these with readers for HTML and PDF files; called alone, a folder's .txt and .md files
are read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from bot.search.corpus import Corpus, CorpusError
from bot.search.folder import TEXT_SUFFIXES, Reader, corpus_files, load_folder, relative
from bot.search.jsonl import JSONL_SUFFIXES, TEXT_FIELD, TITLE_FIELD, load_jsonl
from bot.search.oserrors import french_os_error

_NO_READERS: Mapping[str, Reader] = {}


def load_corpus(
    path: str | Path,
    workers: int | None = None,
    *,
    text_field: str = TEXT_FIELD,
    title_field: str = TITLE_FIELD,
    readers: Mapping[str, Reader] = _NO_READERS,
) -> Corpus:
    """Load a folder or a .jsonl(.gz) file; raise CorpusError when nothing usable is there.

    A large JSON Lines file is cleaned in `workers` processes (default: one per core); its records keep their
    text under `text_field` and their title under `title_field`. `readers` read a folder's other formats.
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"Corpus introuvable : {path}")
    if path.is_dir():
        corpus = load_folder(path, readers)
    elif path.name.endswith(JSONL_SUFFIXES):
        corpus = load_jsonl(path, workers, text_field=text_field, title_field=title_field)
        if path.is_symlink():
            corpus.warnings.insert(0, f"ce fichier est un lien symbolique vers {path.resolve()}, lu quand même.")
    else:
        kinds = "/".join(dict.fromkeys((*TEXT_SUFFIXES, *readers)))
        raise CorpusError(
            f"{path} : format de corpus non reconnu (attendu : un dossier de fichiers {kinds} ou un fichier .jsonl)"
        )
    if not corpus.documents:
        raise CorpusError(f"{path} : le corpus est vide (aucun document avec du texte).")
    corpus.source = str(path)
    corpus.fingerprint = corpus_fingerprint(
        path, text_field=text_field, title_field=title_field, suffixes=tuple(readers)
    )
    return corpus


def corpus_fingerprint(
    path: str | Path,
    *,
    text_field: str = TEXT_FIELD,
    title_field: str = TITLE_FIELD,
    suffixes: tuple[str, ...] = (),
) -> str:
    """SHA-256 of a corpus's files as stored (names and bytes), without parsing them: cheap enough to tell at
    every start whether a persisted index still matches the corpus. Only the files that loading may read count
    (.txt, .md, sources.toml and `suffixes`): a link out of the folder is never opened. Field names other than
    the defaults count for a JSON Lines file, since they change what is read."""
    path = Path(path)
    digest = hashlib.sha256()
    if not path.is_dir():
        digest.update(b"\0")
        if (text_field, title_field) != (TEXT_FIELD, TITLE_FIELD):
            digest.update(f"fields\0{text_field}\0{title_field}\0".encode())
        try:
            _digest_file(digest, path)
        except OSError as exc:
            raise CorpusError(f"{path} : lecture impossible, {french_os_error(exc)}.") from None
        return digest.hexdigest()
    for file, real in corpus_files(path, (*TEXT_SUFFIXES, *suffixes), []):
        digest.update(relative(file, path).encode() + b"\0")
        try:
            _digest_file(digest, real)
        except OSError as exc:  # left out by loading too, with a warning
            digest.update(f"\0unreadable {exc.errno}\0".encode())
    return digest.hexdigest()


def _digest_file(digest: hashlib._Hash, file: Path) -> None:
    with file.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
