"""JSON Lines records, one document a line, with one set of rules for the corpus file and uploaded files.

A record is an object with a non-empty scalar `id`, its text under `text_field` ("text" by default; OrangeSum
calls it "article"), and optional scalar title (under `title_field`), url, published and publisher. The first
bad line refuses the file with a French `CorpusError` naming the line; a link that is not a web address is
dropped with a warning.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from bot.search.corpus import Corpus, CorpusError, Document, Record, make_document, warn_long_paragraphs
from bot.search.oserrors import french_os_error
from bot.search.urls import checked_url
from bot.search.workers import default_workers, spawn_pool

TEXT_FIELD = "text"
TITLE_FIELD = "title"
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")
_METADATA = ("url", "published", "publisher")


def parse_record(
    line: bytes | str, where: str, warnings: list[str], *, text_field: str = TEXT_FIELD, title_field: str = TITLE_FIELD
) -> Record | None:
    """The record of one line (None for a blank line); `where` names the file and line in messages."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            raise CorpusError(f"{where} : la ligne n'est pas encodée en UTF-8.") from None
    line = line.removeprefix("\ufeff")
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{where} : JSON invalide ({exc.msg}, colonne {exc.colno}).") from None
    if not isinstance(record, dict):
        raise CorpusError(f'{where} : un objet JSON {{"id", "{text_field}", …}} est attendu.')
    doc_id, text = record.get("id"), record.get(text_field)
    if doc_id is None or doc_id == "" or not isinstance(text, str):
        raise CorpusError(f"{where} : les champs « id » et « {text_field} » (texte) sont obligatoires.")
    if not _is_scalar(doc_id):
        raise CorpusError(f"{where} : l'identifiant « id » doit être un texte ou un nombre, pas une liste ni un objet.")
    doc_id = str(doc_id)
    title, url, published, publisher = (
        _optional_text(where, key, record.get(key)) for key in (title_field, *_METADATA)
    )
    url = checked_url(url, f"{where} (document « {doc_id} »)", warnings)
    return doc_id, text, title, url, published, publisher


def read_records(
    lines: Iterable[tuple[int, bytes | str]],
    name: str,
    warnings: list[str],
    *,
    text_field: str = TEXT_FIELD,
    title_field: str = TITLE_FIELD,
) -> list[tuple[int, Record]]:
    """The records of numbered lines of the file `name`, each with its line number; an id used twice refuses
    the file."""
    records: list[tuple[int, Record]] = []
    seen: set[str] = set()
    for number, line in lines:
        where = f"{name}, ligne {number}"
        record = parse_record(line, where, warnings, text_field=text_field, title_field=title_field)
        if record is None:
            continue
        if record[0] in seen:
            raise CorpusError(f"{where} : l'identifiant « {record[0]} » est déjà utilisé plus haut.")
        seen.add(record[0])
        records.append((number, record))
    return records


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _optional_text(where: str, key: str, value: object) -> str | None:
    if value is None or value == "":
        return None
    if not _is_scalar(value):
        raise CorpusError(f"{where} : le champ « {key} » doit être un texte.")
    return str(value)


def jsonl_lines(path: Path) -> Iterator[tuple[int, bytes]]:
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


def load_jsonl(
    path: Path, workers: int | None = None, *, text_field: str = TEXT_FIELD, title_field: str = TITLE_FIELD
) -> Corpus:
    """A JSON Lines corpus file; a record whose text is empty once cleaned is skipped, not refused."""
    warnings: list[str] = []
    lines = jsonl_lines(path)
    records = [
        record for _, record in read_records(lines, str(path), warnings, text_field=text_field, title_field=title_field)
    ]
    documents: list[Document] = []
    skipped: list[str] = []
    for record, document in zip(records, make_documents(records, workers), strict=True):
        if document is None:
            skipped.append(record[0])
        else:
            documents.append(document)
            warn_long_paragraphs(document, f"{path} (document « {document.doc_id} »)", warnings)
    return Corpus(documents, skipped=skipped, warnings=warnings)


def make_documents(records: list[Record], workers: int | None = None) -> list[Document | None]:
    """`make_document` over every record, in several processes for a large corpus (same result, in order)."""
    if workers is None:
        workers = default_workers(len(records))
    if workers < 2:
        return _make_chunk(records)
    step = -(-len(records) // (4 * workers))
    with spawn_pool(workers) as pool:
        chunks = pool.map(_make_chunk, [records[i : i + step] for i in range(0, len(records), step)])
        return [document for chunk in chunks for document in chunk]


def _make_chunk(records: list[Record]) -> list[Document | None]:
    return [make_document(*record) for record in records]
