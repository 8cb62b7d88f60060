"""Documents from a file a moderator gives: .txt, .md, .html, .pdf, or .jsonl for several at once.

The whole file is parsed before anything is returned: it comes back as all its documents or is refused with a
French message naming it (`IngestError`), so nothing is ever half-added.
"""

from __future__ import annotations

from pathlib import PurePath

from bot.ingest.errors import IngestError
from bot.ingest.formats import decode_text, html_document, pdf_document, text_document
from bot.ingest.limits import DocumentLimits, french_size
from bot.search.corpus import CorpusError, Document, make_document
from bot.search.jsonl import read_records

SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".jsonl")


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
    check_size(name, data, max_bytes)
    doc_id = PurePath(name).stem
    if suffix == ".jsonl":
        return _jsonl_documents(name, data)
    if suffix == ".pdf":
        return [pdf_document(name, data, doc_id, file=name)]
    if suffix in (".html", ".htm"):
        return [html_document(name, data, doc_id, file=name)]
    return [text_document(name, data, doc_id, markdown=suffix == ".md", file=name)]


def check_size(name: str, data: bytes, max_bytes: int) -> None:
    """Refuse a file over `max_bytes`, or an empty one, naming it."""
    if len(data) > max_bytes:
        raise IngestError(
            f"{name} : le fichier fait {french_size(len(data))}, au-delà de la limite de {french_size(max_bytes)}. "
            "Découpez-le en plusieurs fichiers."
        )
    if not data.strip():
        raise IngestError(f"{name} : le fichier est vide.")


def _jsonl_documents(name: str, data: bytes) -> list[Document]:
    """One document a line, read by the corpus's record rules; the first bad line refuses the whole file."""
    lines = enumerate(decode_text(name, data).split("\n"), 1)
    try:
        records = read_records(lines, name, [])  # a link that is not a web address is dropped, as in the corpus
    except CorpusError as exc:
        raise IngestError(str(exc)) from None
    documents: list[Document] = []
    for number, record in records:
        document = make_document(*record, file=name)
        if document is None:
            raise IngestError(f"{name}, ligne {number} : le texte de « {record[0]} » est vide une fois nettoyé.")
        documents.append(document)
    if not documents:
        raise IngestError(f"{name} : le fichier ne contient aucune ligne de document.")
    return documents
