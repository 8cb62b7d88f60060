"""Limits on a server's documents: size of one file, number of documents, size of their text, fetch time-out,
time to parse one file.

The values come from the `[documents]` settings. `over_limit` tells in French which limit a server would pass
and what its moderators can do about it, so the Discord command only shows the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.search.corpus import Document, text_bytes

MEGABYTE = 1024 * 1024


@dataclass(frozen=True)  # no slots: `DocumentLimits.max_file_bytes` reads as the default
class DocumentLimits:
    """What one server may hold, how long a web page may take to arrive and a file to be parsed."""

    max_file_bytes: int = 5 * MEGABYTE  # one uploaded file, or one fetched page
    max_documents: int = 500  # per server
    max_text_bytes: int = 20 * MEGABYTE  # text of all a server's documents (UTF-8)
    fetch_timeout: float = 10.0  # seconds for a whole fetch, redirects included
    parse_seconds: float = 20.0  # seconds to read one file or page once its parser is ready (bot.ingest.sandbox)


@dataclass(frozen=True, slots=True)
class Totals:
    """How many documents there are and the size of their text in UTF-8 bytes."""

    documents: int = 0
    text_bytes: int = 0

    @classmethod
    def of(cls, documents: Iterable[Document]) -> Totals:
        counted = [text_bytes(document) for document in documents]
        return cls(len(counted), sum(counted))


def french_size(size: int) -> str:
    """A size in bytes as a French reader reads it: 5242880 -> "5 Mo", 1572864 -> "1,5 Mo", 2048 -> "2 ko"."""
    if size < MEGABYTE // 10:
        return f"{max(1, round(size / 1024)) if size else 0} ko"
    return f"{size / MEGABYTE:.1f}".removesuffix(".0").replace(".", ",") + " Mo"


def over_limit(limits: DocumentLimits, current: Totals, adding: Totals | None = None) -> str | None:
    """The French refusal when a server holding `current` cannot take `adding` (without it: cannot take any more
    document), naming the limit and what to do; None when it fits."""
    if adding is None:
        if current.documents >= limits.max_documents:
            return (
                f"Ce serveur a atteint sa limite de {limits.max_documents} documents. "
                "Retirez-en avant d'en ajouter d'autres."
            )
        if current.text_bytes >= limits.max_text_bytes:
            return (
                f"Les documents de ce serveur atteignent leur limite de {french_size(limits.max_text_bytes)} de texte. "
                "Retirez-en avant d'en ajouter d'autres."
            )
        return None
    documents = current.documents + adding.documents
    if documents > limits.max_documents:
        excess = documents - limits.max_documents
        return (
            f"Ce serveur a {current.documents} documents sur {limits.max_documents} permis : en ajouter "
            f"{adding.documents} dépasserait la limite. Retirez-en au moins {excess}, ou ajoutez-en moins."
        )
    if current.text_bytes + adding.text_bytes > limits.max_text_bytes:
        return (
            f"Ces documents apportent {french_size(adding.text_bytes)} de texte aux {french_size(current.text_bytes)} "
            f"du serveur, au-delà de la limite de {french_size(limits.max_text_bytes)}. "
            "Retirez des documents, ou ajoutez-en de plus courts."
        )
    return None
