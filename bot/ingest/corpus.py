"""The bot's corpus, read from its folder or JSON Lines file: what `bot.search.loader` reads (.txt, .md, .jsonl,
sources.toml), plus the .html and .pdf files of a folder, read as a server's documents are (trafilatura, pypdf)
and within the same size limit.

`CorpusSource` says where the corpus is and how its JSON Lines records name their fields; the front doors
(`bot.app`) load the corpus and compute its fingerprint through it, so both always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.ingest.files import check_size
from bot.ingest.formats import html_document, pdf_document
from bot.ingest.limits import DocumentLimits
from bot.search.corpus import Corpus, Document
from bot.search.folder import Reader
from bot.search.jsonl import TEXT_FIELD, TITLE_FIELD
from bot.search.loader import corpus_fingerprint, load_corpus


def _html(name: str, data: bytes, doc_id: str) -> Document:
    check_size(name, data, DocumentLimits.max_file_bytes)
    return html_document(name, data, doc_id, file=name)


def _pdf(name: str, data: bytes, doc_id: str) -> Document:
    check_size(name, data, DocumentLimits.max_file_bytes)
    return pdf_document(name, data, doc_id, file=name)


READERS: Mapping[str, Reader] = {".html": _html, ".htm": _html, ".pdf": _pdf}


@dataclass(frozen=True, slots=True)
class CorpusSource:
    """A corpus folder or JSON Lines file, and the fields under which its records keep their text and title."""

    path: Path
    text_field: str = TEXT_FIELD
    title_field: str = TITLE_FIELD

    def load(self, workers: int | None = None) -> Corpus:
        """The corpus's documents (blocking; raises CorpusError with a French message naming file and line)."""
        return load_corpus(
            self.path, workers, text_field=self.text_field, title_field=self.title_field, readers=READERS
        )

    def fingerprint(self) -> str:
        """What a saved index of this corpus is keyed by: its files' bytes, and the field names."""
        return corpus_fingerprint(
            self.path, text_field=self.text_field, title_field=self.title_field, suffixes=tuple(READERS)
        )
