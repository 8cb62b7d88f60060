"""The one error of document ingestion."""

from __future__ import annotations


class IngestError(ValueError):
    """A file or web address refused; the message is French, names the file or address, and says what to do."""
