"""A corpus folder: which of its files may be read (the link guard), their ids, and their documents.

Only regular files whose real path stays inside the folder are read, so a symbolic link can never make the bot
quote a file such as /etc/passwd; everything left out is named in a French warning for the operator.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

from bot.search.corpus import Corpus, CorpusError, Document, make_document, warn_long_paragraphs
from bot.search.markdown import strip_markdown
from bot.search.oserrors import french_os_error
from bot.search.sources import SOURCES_FILE, parse_sources
from bot.search.urls import checked_url

TEXT_SUFFIXES = (".txt", ".md")

# Reads a file of another format: (name shown in messages, bytes, document id) -> Document, or a ValueError
# whose French message says why the file was refused (it is then left out with a warning).
Reader = Callable[[str, bytes, str], Document]


def corpus_files(folder: Path, suffixes: tuple[str, ...], warnings: list[str]) -> list[tuple[Path, Path]]:
    """The files of a corpus folder that may be read, as (path in the folder, real path), in name order:
    those with one of `suffixes` and the top-level sources.toml, when they are regular files whose real path
    stays inside the folder. Anything else (a link out of the folder, a device, a pipe) is named in `warnings`."""
    root = folder.resolve()
    files: list[tuple[Path, Path]] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        base = Path(dirpath)
        for name in sorted(dirnames):
            if (base / name).is_symlink():
                warnings.append(f"{relative(base / name, folder)} ignoré : lien symbolique vers un dossier.")
        for name in filenames:
            file = base / name
            if file.suffix.lower() not in suffixes and not (name == SOURCES_FILE and base == folder):
                continue
            real, reason = _inside(file, root)
            if reason:
                warnings.append(f"{relative(file, folder)} ignoré : {reason}.")
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


def relative(file: Path, folder: Path) -> str:
    """`file`'s path relative to `folder`, with forward slashes."""
    return file.relative_to(folder).as_posix()


def read_utf8(real: Path, path: Path) -> str:
    """The text of `real`, a file checked by `corpus_files`; bad UTF-8 is a CorpusError naming `path` and the line."""
    data = real.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CorpusError(
            f"{path}, ligne {line} : le fichier n'est pas encodé en UTF-8 "
            f"(octet invalide en position {exc.start}). Réenregistrez-le en UTF-8."
        ) from None


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


def load_folder(folder: Path, readers: Mapping[str, Reader]) -> Corpus:
    """The documents of a folder's .txt and .md files, and of those `readers` take by extension, with the
    metadata of its sources.toml; a file that cannot be read is left out with a warning."""
    warnings: list[str] = []
    sources: dict[str, dict[str, str]] = {}
    texts: dict[str, tuple[Path, Path]] = {}
    for file, real in corpus_files(folder, (*TEXT_SUFFIXES, *readers), warnings):
        name = relative(file, folder)
        if file == folder / SOURCES_FILE:
            sources = _sources(file, real, warnings)
        elif name.lower() != "readme.md":
            texts[name] = (file, real)
    warnings.extend(
        f"{SOURCES_FILE} : l'entrée « {name} » ne correspond à aucun fichier du corpus (chemin relatif au dossier "
        "attendu, avec son extension)."
        for name in sources
        if name not in texts
    )
    doc_ids = document_ids(list(texts))
    documents: list[Document] = []
    skipped: list[str] = []
    for name, (file, real) in texts.items():
        meta = dict(sources.get(name, {}))
        url = checked_url(meta.pop("url", None), name, warnings)
        if url is not None:  # else an HTML page keeps the address it gives for itself
            meta["url"] = url
        try:
            reader = readers.get(file.suffix.lower())
            if reader is None:
                document = _text_document(file, real, doc_ids[name], name, meta)
            else:
                document = _read_with(reader, real, name, doc_ids[name], meta)
        except OSError as exc:
            warnings.append(f"{name} ignoré : lecture impossible, {french_os_error(exc)}.")
            continue
        except CorpusError:
            raise
        except ValueError as exc:  # a reader's refusal, in French
            warnings.append(f"{exc} Le fichier est laissé de côté.")
            continue
        if document is None:
            skipped.append(name)
        else:
            documents.append(document)
            warn_long_paragraphs(document, name, warnings)
    return Corpus(documents, skipped=skipped, warnings=warnings)


def _sources(toml_path: Path, real: Path, warnings: list[str]) -> dict[str, dict[str, str]]:
    try:
        return parse_sources(toml_path, read_utf8(real, toml_path), warnings)
    except OSError as exc:
        raise CorpusError(f"{toml_path} : lecture impossible, {french_os_error(exc)}.") from None


def _text_document(file: Path, real: Path, doc_id: str, name: str, meta: dict[str, str]) -> Document | None:
    """A .txt or .md file: cleaned, titled by sources.toml, its first `# heading` or its first line."""
    raw = read_utf8(real, file)
    if file.suffix.lower() == ".md":
        raw, md_title = strip_markdown(raw)
        meta = {"title": md_title, **meta} if md_title and "title" not in meta else meta
    return make_document(
        doc_id=doc_id,
        text=raw,
        title=meta.get("title"),
        url=meta.get("url"),
        published=meta.get("published"),
        publisher=meta.get("publisher"),
        file=name,
        guess=True,
    )


def _read_with(reader: Reader, real: Path, name: str, doc_id: str, meta: dict[str, str]) -> Document:
    """A file of another format through its reader; sources.toml's metadata wins over what the file says."""
    document = reader(name, real.read_bytes(), doc_id)
    return dataclasses.replace(
        document, doc_id=doc_id, file=name, **{key: value or None for key, value in meta.items()}
    )
