"""Documents from a file a moderator gives: .txt, .md, .html, .pdf, or .jsonl for several at once.

The whole file is parsed before anything is returned: it comes back as all its documents or is refused with a
French message naming it (`IngestError`), so nothing is ever half-added.
"""

from __future__ import annotations

import json
from pathlib import PurePath

from bot.ingest.errors import IngestError
from bot.ingest.formats import decode_text, html_document, pdf_document, text_document
from bot.ingest.limits import DocumentLimits, french_size
from bot.search.corpus import Document, make_document

SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".jsonl")
JSONL_METADATA = ("title", "url", "published", "publisher")


def documents_from_file(name: str, data: bytes, max_bytes: int = DocumentLimits.max_file_bytes) -> list[Document]:
    """The documents in one file, by its extension: one for .txt/.md/.html/.pdf, one a line for .jsonl (records
    as in the corpus: id, text, and optional title, url, published, publisher).

    A document's id is the file name without extension (the record's id in .jsonl); `file` is the file name.
    Raises `IngestError` for an unknown extension, a file over `max_bytes`, an empty one, content that is not
    what the extension says, text that is not UTF-8, a PDF without text, or a .jsonl with any bad line.
    """
    name = PurePath(name).name
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise IngestError(f"{name} : type de fichier non pris en charge (acceptés : {', '.join(SUFFIXES)}).")
    if len(data) > max_bytes:
        raise IngestError(
            f"{name} : le fichier fait {french_size(len(data))}, au-delà de la limite de {french_size(max_bytes)}. "
            "Découpez-le en plusieurs fichiers."
        )
    if not data.strip():
        raise IngestError(f"{name} : le fichier est vide.")
    doc_id = PurePath(name).stem
    if suffix == ".jsonl":
        return _jsonl_documents(name, data)
    if suffix == ".pdf":
        return [pdf_document(name, data, doc_id, file=name)]
    if suffix in (".html", ".htm"):
        return [html_document(name, data, doc_id, file=name)]
    return [text_document(name, data, doc_id, markdown=suffix == ".md", file=name)]


def _jsonl_documents(name: str, data: bytes) -> list[Document]:
    """One document a line; the first bad line refuses the whole file, naming the line."""
    documents: list[Document] = []
    seen: set[str] = set()
    for number, line in enumerate(decode_text(name, data).splitlines(), 1):
        if not line.strip():
            continue
        where = f"{name}, ligne {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IngestError(f"{where} : JSON invalide ({exc.msg}, colonne {exc.colno}).") from None
        if not isinstance(record, dict):
            raise IngestError(f'{where} : un objet JSON {{"id", "text", …}} est attendu.')
        doc_id, text = record.get("id"), record.get("text")
        if doc_id in (None, "") or isinstance(doc_id, dict | list) or not isinstance(text, str):
            raise IngestError(f"{where} : les champs « id » et « text » (texte) sont obligatoires.")
        doc_id = str(doc_id)
        if doc_id in seen:
            raise IngestError(f"{where} : l'identifiant « {doc_id} » est déjà utilisé plus haut.")
        seen.add(doc_id)
        title, url, published, publisher = (_optional_text(where, key, record.get(key)) for key in JSONL_METADATA)
        document = make_document(doc_id, text, title, url, published, publisher, file=name)
        if document is None:
            raise IngestError(f"{where} : le texte de « {doc_id} » est vide une fois nettoyé.")
        documents.append(document)
    if not documents:
        raise IngestError(f"{name} : le fichier ne contient aucune ligne de document.")
    return documents


def _optional_text(where: str, key: str, value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise IngestError(f"{where} : le champ « {key} » doit être un texte.")
    return str(value)
