"""Corpus loading: a folder of .txt/.md files with an optional sources.toml, or a JSON Lines file.

Every error names the file (and the line when there is one) in French, so whoever maintains the
corpus can fix it. Documents come out cleaned (see `bot.search.cleaning`) and split into paragraphs.
"""

from __future__ import annotations

import datetime as dt
import errno
import gzip
import hashlib
import json
import multiprocessing
import os
import re
import stat
import tomllib
import zlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from bot.search.cleaning import clean_paragraphs, guess_title, split_paragraphs
from bot.search.passages import LONG_PARAGRAPH_CHARS

TEXT_SUFFIXES = (".txt", ".md")
SOURCES_FILE = "sources.toml"
PARALLEL_FROM = 5000  # documents from which cleaning or analysing them in several processes pays off
MAX_WORKERS = 8

# What `make_document` takes, positionally: id, text, title, url, published, publisher.
Record = tuple[str, str, str | None, str | None, str | None, str | None]
_METADATA = ("title", "url", "published", "publisher")
URL_SCHEMES = ("http", "https")
# Characters no well-formed link holds as written: white space, controls, brackets, quotes.
_URL_FORBIDDEN = re.compile(r'[\s\x00-\x1f\x7f-\x9f<>\[\]{}|\\^`"]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class CorpusError(ValueError):
    """A corpus that cannot be loaded; the message is French and names the file and line."""


@dataclass(frozen=True, slots=True)
class Document:
    """One article: its metadata and its cleaned paragraphs."""

    doc_id: str
    paragraphs: tuple[str, ...]
    title: str | None = None
    url: str | None = None
    published: str | None = None
    publisher: str | None = None
    file: str | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(slots=True)
class Corpus:
    """The loaded documents and a fingerprint of the files they came from."""

    documents: list[Document]
    fingerprint: str = ""
    source: str = ""
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # French, for the operator: files left out, links dropped


def load_corpus(path: str | Path, workers: int | None = None) -> Corpus:
    """Load a folder or a .jsonl(.gz) file; raise CorpusError when nothing usable is there.

    A large JSON Lines file is cleaned in `workers` processes (default: one per core).
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"Corpus introuvable : {path}")
    if path.is_dir():
        corpus = _load_folder(path)
    elif path.name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        corpus = _load_jsonl(path, workers)
        if path.is_symlink():
            corpus.warnings.insert(0, f"ce fichier est un lien symbolique vers {path.resolve()}, lu quand même.")
    else:
        raise CorpusError(
            f"{path} : format de corpus non reconnu (attendu : un dossier de fichiers .txt/.md ou un fichier .jsonl)"
        )
    if not corpus.documents:
        raise CorpusError(f"{path} : le corpus est vide (aucun document avec du texte).")
    corpus.source = str(path)
    corpus.fingerprint = corpus_fingerprint(path)
    return corpus


def corpus_fingerprint(path: str | Path) -> str:
    """SHA-256 of a corpus's files as stored (names and bytes), without parsing them: cheap enough to
    tell at every start whether a persisted index still matches the corpus. Only the files that loading
    may read count (see `corpus_files`): a link out of the folder is never opened."""
    path = Path(path)
    digest = hashlib.sha256()
    if not path.is_dir():
        digest.update(b"\0")
        try:
            _digest_file(digest, path)
        except OSError as exc:
            raise CorpusError(f"{path} : lecture impossible, {french_os_error(exc)}.") from None
        return digest.hexdigest()
    for file, real in corpus_files(path, []):
        digest.update(_relative(file, path).encode() + b"\0")
        try:
            _digest_file(digest, real)
        except OSError as exc:  # left out by loading too, with a warning
            digest.update(f"\0unreadable {exc.errno}\0".encode())
    return digest.hexdigest()


def _digest_file(digest: hashlib._Hash, file: Path) -> None:
    with file.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)


def corpus_files(folder: Path, warnings: list[str]) -> list[tuple[Path, Path]]:
    """The files of a corpus folder that may be read, as (path in the folder, real path), in name order:
    the .txt/.md files and the top-level sources.toml that are regular files whose real path stays inside
    the folder. Anything else (a link out of the folder, a device, a pipe) is left out and named in `warnings`,
    so a link can never make the bot quote a file such as /etc/passwd."""
    root = folder.resolve()
    files: list[tuple[Path, Path]] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        base = Path(dirpath)
        for name in sorted(dirnames):
            if (base / name).is_symlink():
                warnings.append(f"{_relative(base / name, folder)} ignoré : lien symbolique vers un dossier.")
        for name in filenames:
            file = base / name
            if file.suffix.lower() not in TEXT_SUFFIXES and not (name == SOURCES_FILE and base == folder):
                continue
            real, reason = _inside(file, root)
            if reason:
                warnings.append(f"{_relative(file, folder)} ignoré : {reason}.")
            else:
                files.append((file, real))
    return sorted(files)


def _inside(file: Path, root: Path) -> tuple[Path, str]:
    """`file`'s real path, and why it may not be read ("" when it may): it must be a regular file in `root`."""
    try:
        real = file.resolve(strict=True)
    except (OSError, RuntimeError):
        return file, "lien symbolique cassé ou en boucle"
    if not real.is_relative_to(root):
        return real, f"lien symbolique vers {real}, hors du dossier du corpus"
    try:
        mode = real.stat().st_mode
    except OSError:
        return real, "fichier inaccessible"
    if not stat.S_ISREG(mode):
        return real, "ce n'est pas un fichier ordinaire"
    return real, ""


def _relative(file: Path, folder: Path) -> str:
    return file.relative_to(folder).as_posix()


_ERRNO_FRENCH = {
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.ENOENT: "fichier introuvable",
    errno.EISDIR: "c'est un dossier",
    errno.EIO: "erreur d'entrée-sortie du disque",
    errno.ELOOP: "trop de liens symboliques",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.ENOMEM: "mémoire insuffisante",
    errno.ESTALE: "fichier réseau devenu inaccessible",
    errno.ENOSPC: "disque plein",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.EDQUOT: "quota de disque dépassé",
    errno.ENOTDIR: "un fichier se trouve là où un dossier est attendu",
}


def french_os_error(exc: OSError) -> str:
    """A system error in French words where known, the original after in parentheses:
    "permission refusée (Permission denied)"."""
    original = exc.strerror or str(exc)
    french = _ERRNO_FRENCH.get(exc.errno or 0)
    return f"{french} ({original})" if french else original


def _read_utf8(real: Path, path: Path) -> str:
    """The text of `real`, a file checked by `corpus_files`; errors name `path`, the file in the corpus."""
    data = real.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CorpusError(
            f"{path}, ligne {line} : le fichier n'est pas encodé en UTF-8 "
            f"(octet invalide en position {exc.start}). Réenregistrez-le en UTF-8."
        ) from None


def _load_sources(toml_path: Path, real: Path, warnings: list[str]) -> dict[str, dict[str, str]]:
    """The metadata of sources.toml by file path relative to the corpus folder."""
    try:
        data = tomllib.loads(_read_utf8(real, toml_path))
    except OSError as exc:
        raise CorpusError(f"{toml_path} : lecture impossible, {french_os_error(exc)}.") from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        where = f", ligne {match.group(1)}" if match else ""
        raise CorpusError(f"{toml_path}{where} : fichier TOML invalide ({exc}).") from None
    entries = data.get("document", [])
    if not isinstance(entries, list):
        raise CorpusError(f"{toml_path} : « document » doit être une liste de tables [[document]].")
    sources: dict[str, dict[str, str]] = {}
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise CorpusError(f"{toml_path} : l'entrée [[document]] n° {number} n'a pas de clé « file ».")
        meta: dict[str, str] = {}
        for key in ("title", "publisher", "url", "published"):
            value = entry.get(key)
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                value = value.date()
            meta[key] = value.isoformat() if isinstance(value, dt.date) else str(value)
        name = PurePosixPath(entry["file"]).as_posix()  # "./a.txt" is "a.txt"
        if name in sources:
            warnings.append(f"{SOURCES_FILE} : le fichier « {name} » a plusieurs entrées ; la dernière est gardée.")
        sources[name] = meta
    return sources


def _load_folder(folder: Path) -> Corpus:
    warnings: list[str] = []
    files = corpus_files(folder, warnings)
    sources: dict[str, dict[str, str]] = {}
    texts: dict[str, tuple[Path, Path]] = {}
    for file, real in files:
        relative = _relative(file, folder)
        if file == folder / SOURCES_FILE:
            sources = _load_sources(file, real, warnings)
        elif relative.lower() != "readme.md":
            texts[relative] = (file, real)
    warnings.extend(
        f"{SOURCES_FILE} : l'entrée « {name} » ne correspond à aucun fichier du corpus (chemin relatif au dossier "
        "attendu, avec son extension)."
        for name in sources
        if name not in texts
    )
    doc_ids = document_ids(list(texts))
    documents: list[Document] = []
    skipped: list[str] = []
    for relative, (file, real) in texts.items():
        try:
            raw = _read_utf8(real, file)
        except OSError as exc:
            warnings.append(f"{relative} ignoré : lecture impossible, {french_os_error(exc)}.")
            continue
        meta = sources.get(relative, {})
        if file.suffix.lower() == ".md":
            raw, md_title = strip_markdown(raw)
            meta = {"title": md_title, **meta} if md_title and "title" not in meta else meta
        document = make_document(
            doc_id=doc_ids[relative],
            text=raw,
            title=meta.get("title"),
            url=checked_url(meta.get("url"), relative, warnings),
            published=meta.get("published"),
            publisher=meta.get("publisher"),
            file=relative,
            guess=True,
        )
        if document is None:
            skipped.append(relative)
        else:
            documents.append(document)
            _warn_long_paragraphs(document, relative, warnings)
    return Corpus(documents, skipped=skipped, warnings=warnings)


def document_ids(relatives: list[str]) -> dict[str, str]:
    """The id of each file of a folder corpus, from its path relative to the folder (posix).

    A top-level file is known by its name without extension ("a" for a.txt), unless another top-level file
    shares that stem (a.txt and a.md) or a file is named so; every other file, and those, by its relative path
    with extension ("dossier/a.txt", "a.md"). Ids are unique, and a file's id changes only when a clashing
    file is added or removed.
    """
    top = [PurePosixPath(relative) for relative in relatives if "/" not in relative]
    stems = Counter(path.stem for path in top)
    taken = set(relatives)
    ids = {relative: relative for relative in relatives}
    for path in top:
        if stems[path.stem] == 1 and path.stem not in taken:
            ids[path.as_posix()] = path.stem
    return ids


def _warn_long_paragraphs(document: Document, name: str, warnings: list[str]) -> None:
    """Name the paragraphs that will be cut into passages without looking for their sentences."""
    for number, paragraph in enumerate(document.paragraphs, 1):
        if len(paragraph) > LONG_PARAGRAPH_CHARS:
            warnings.append(
                f"{name} : le paragraphe n° {number} compte {len(paragraph)} caractères (plus de "
                f"{LONG_PARAGRAPH_CHARS}) ; il est découpé en passages sans analyse des phrases."
            )


def checked_url(url: str | None, document: str, warnings: list[str]) -> str | None:
    """`url` when it is a well-formed http(s) address, else None and a warning naming `document`: a link
    such as javascript:, data: or file: must never reach a reader."""
    if url is None:
        return None
    url = url.strip()
    reason = _url_problem(url)
    if not reason:
        return url
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", url)
    shown = shown if len(shown) <= 100 else shown[:99] + "…"
    warnings.append(f"{document} : lien « {shown} » ignoré ({reason}).")
    return None


def _url_problem(url: str) -> str:
    """Why `url` is not kept as a document's link, in French ("" when it is kept)."""
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # .port raises ValueError for a port that is not a number
    except ValueError:
        return "adresse mal formée"
    if parts.scheme.lower() not in URL_SCHEMES:
        return "seuls les liens http:// et https:// sont gardés"
    if _URL_FORBIDDEN.search(url):
        return "espace, crochet, guillemet ou caractère de contrôle dans l'adresse"
    if not host:
        return "adresse sans nom de site"
    return ""


# A link's target: "(…)" on one line, with at most one level of parentheses inside (Wikipedia's "Paris_(ville)").
# Neither it nor a link's text may run over another bracket of its kind, so each character is scanned from a
# bounded number of starts and a file of "[[[[" costs linear time, not quadratic.
_MD_TARGET = r"\((?:[^()\n]|\([^()\n]*\))*\)"
_MD_IMAGE = re.compile(r"!\[[^\[\]]*\]" + _MD_TARGET)
_MD_LINK = re.compile(r"\[([^\[\]]+)\]" + _MD_TARGET)


def strip_markdown(text: str) -> tuple[str, str | None]:
    """Light Markdown clean-up: headings lose their #, links keep their text; the first H1 is the title."""
    title = None
    match = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    if match:
        title = match.group(1).strip()
    text = re.sub(r"^#{1,6}\s+", "", text, flags=re.MULTILINE)
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = re.sub(r"(\*\*|__|`)", "", text)
    return text, title


def make_document(
    doc_id: str,
    text: str,
    title: str | None = None,
    url: str | None = None,
    published: str | None = None,
    publisher: str | None = None,
    file: str | None = None,
    guess: bool = False,
) -> Document | None:
    """Clean a raw text into a Document; None when nothing of the article is left."""
    paragraphs = split_paragraphs(text)
    body = clean_paragraphs(paragraphs, title)
    if guess and title is None:
        title = guess_title(body)
        if title is not None:
            body = body[1:]
    if not body:
        return None
    return Document(
        doc_id=str(doc_id),
        paragraphs=tuple(body),
        title=title or None,
        url=url or None,
        published=published or None,
        publisher=publisher or None,
        file=file,
    )


def _jsonl_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """The numbered lines of a JSON Lines file, gzip-compressed or not; a damaged file is a CorpusError."""
    opener = gzip.open if path.name.endswith(".gz") else open
    number = 0
    try:
        with opener(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                yield number, line
    except EOFError:
        raise CorpusError(
            f"{path} : fichier gzip tronqué après la ligne {number} (copie ou téléchargement incomplet ?)."
        ) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise CorpusError(f"{path} : fichier gzip invalide après la ligne {number} ({exc}).") from None
    except OSError as exc:
        raise CorpusError(f"{path} : lecture impossible, {french_os_error(exc)}.") from None


def _load_jsonl(path: Path, workers: int | None) -> Corpus:
    records: list[Record] = []
    seen: set[str] = set()
    warnings: list[str] = []
    for number, raw in _jsonl_lines(path):
        if not raw.strip():
            continue
        where = f"{path}, ligne {number}"
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise CorpusError(f"{where} : la ligne n'est pas encodée en UTF-8.") from None
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{where} : JSON invalide ({exc.msg}, colonne {exc.colno}).") from None
        if not isinstance(record, dict):
            raise CorpusError(f'{where} : un objet JSON {{"id", "text", …}} est attendu.')
        doc_id, text = record.get("id"), record.get("text")
        if doc_id is None or not isinstance(text, str):
            raise CorpusError(f"{where} : les champs « id » et « text » (texte) sont obligatoires.")
        doc_id = str(doc_id)
        if doc_id in seen:
            raise CorpusError(f"{where} : l'identifiant « {doc_id} » est déjà utilisé plus haut.")
        seen.add(doc_id)
        title, url, published, publisher = (_optional_str(record.get(k)) for k in _METADATA)
        url = checked_url(url, f"{where} (document « {doc_id} »)", warnings)
        records.append((doc_id, text, title, url, published, publisher))
    documents: list[Document] = []
    skipped: list[str] = []
    for record, document in zip(records, _make_documents(records, workers), strict=True):
        if document is None:
            skipped.append(record[0])
        else:
            documents.append(document)
            _warn_long_paragraphs(document, f"{path} (document « {document.doc_id} »)", warnings)
    return Corpus(documents, skipped=skipped, warnings=warnings)


def _make_documents(records: list[Record], workers: int | None) -> list[Document | None]:
    """`make_document` over every record, in several processes for a large corpus (same result, in order)."""
    if workers is None:
        workers = default_workers(len(records))
    if workers < 2:
        return _make_chunk(records)
    step = -(-len(records) // (4 * workers))
    with spawn_pool(workers) as pool:
        chunks = pool.map(_make_chunk, [records[i : i + step] for i in range(0, len(records), step)])
        return [document for chunk in chunks for document in chunk]


def default_workers(documents: int) -> int:
    """Processes worth starting for `documents`: one per core this process may run on (a container's
    CPU set, not the host's), or one for a small corpus."""
    if documents < PARALLEL_FROM:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cores, MAX_WORKERS)


def spawn_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes started afresh ("spawn"), never forked: safe beside the bot's threads, same on every OS."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def _make_chunk(records: list[Record]) -> list[Document | None]:
    return [make_document(*record) for record in records]


def _optional_str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
