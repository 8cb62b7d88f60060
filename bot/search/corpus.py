"""The document model: `Document` (one article's metadata and cleaned paragraphs) and `Corpus` (the documents
loaded from one place, with what loading left out).

Readers of each format live beside it: `folder` (a folder and its link guard), `sources` (`sources.toml`),
`jsonl` (JSON Lines records), `loader` (a path to a Corpus, and its fingerprint); `bot.ingest` adds HTML and PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.search.cleaning import clean_paragraphs, guess_title, split_paragraphs
from bot.search.passages import LONG_PARAGRAPH_CHARS

# What `make_document` takes, positionally: id, text, title, url, published, publisher.
Record = tuple[str, str, str | None, str | None, str | None, str | None]


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


def text_bytes(document: Document) -> int:
    """What a document weighs against a server's text limit: its text in UTF-8 bytes."""
    return len(document.text.encode("utf-8"))


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


def warn_long_paragraphs(document: Document, name: str, warnings: list[str]) -> None:
    """Name the paragraphs that will be cut into passages without looking for their sentences."""
    for number, paragraph in enumerate(document.paragraphs, 1):
        if len(paragraph) > LONG_PARAGRAPH_CHARS:
            warnings.append(
                f"{name} : le paragraphe n° {number} compte {len(paragraph)} caractères (plus de "
                f"{LONG_PARAGRAPH_CHARS}) ; il est découpé en passages sans analyse des phrases."
            )
