"""Each server's own documents, added by its moderators: stored whole (cleaned paragraphs as JSON), read back as
`Document`s for that server's index, listed and removed one by one.

Every query names the server: a document added on one server is never read, listed or removed from another.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.search.corpus import Document, text_bytes
from bot.storage.connection import Database, Row
from bot.storage.records import DocumentCount, StoredDocument, from_db_time, to_db_time, utc_now

_LISTED = "id, doc_id, title, source, added_by, added_at, text_bytes"  # what `StoredDocument` holds
_COUNT = "SELECT COUNT(*), COALESCE(SUM(text_bytes), 0) FROM documents WHERE guild_id = ?"  # as `DocumentCount`
FILE_SOURCE = "fichier:"  # a document's `source` is this and the file name, or the address it was fetched from


class DocumentExists(ValueError):
    """Some documents' ids are already taken on that server; nothing was added."""

    def __init__(self, doc_ids: list[str]) -> None:
        super().__init__(f"document ids already present: {', '.join(doc_ids)}")
        self.doc_ids = doc_ids


class OverLimit(ValueError):
    """The documents would take the server past its number or text-size limit; nothing was added.

    `current` is what the server held when checked, `adding` what the refused documents weigh.
    """

    def __init__(self, current: DocumentCount, adding: DocumentCount) -> None:
        super().__init__(f"server limit exceeded: holds {current}, adding {adding}")
        self.current = current
        self.adding = adding


async def add_documents(
    db: Database,
    guild_id: int,
    documents: Sequence[Document],
    added_by: int,
    source: str,
    *,
    max_documents: int | None = None,
    max_text_bytes: int | None = None,
) -> list[int]:
    """Store documents of one file or address, all or none (one transaction); their row ids in order.

    The limits are checked in the same transaction as the insert, holding that server's lock, so adds running
    at once (in any process) cannot pass them together. Raises OverLimit when the server would hold more than
    `max_documents` documents or `max_text_bytes` of text, DocumentExists when one of their ids is already
    that server's; either way nothing is added.
    """
    now = to_db_time(utc_now())
    adding = DocumentCount(len(documents), sum(text_bytes(document) for document in documents))
    ids: list[int] = []
    async with db.transaction() as tx:
        await tx.lock(f"documents:{guild_id}")
        if max_documents is not None or max_text_bytes is not None:
            (row,) = await tx.fetchall(_COUNT, (guild_id,))
            current = DocumentCount(int(row[0]), int(row[1]))
            if (max_documents is not None and current.documents + adding.documents > max_documents) or (
                max_text_bytes is not None and current.text_bytes + adding.text_bytes > max_text_bytes
            ):
                raise OverLimit(current, adding)
        wanted = [document.doc_id for document in documents]
        marks = ", ".join("?" * len(wanted))
        taken = await tx.fetchall(
            f"SELECT doc_id FROM documents WHERE guild_id = ? AND doc_id IN ({marks}) ORDER BY doc_id",
            (guild_id, *wanted),
        )
        if taken:
            raise DocumentExists([str(row[0]) for row in taken])
        for document in documents:
            await tx.execute(
                "INSERT INTO documents (guild_id, doc_id, title, publisher, published, url, paragraphs, text_bytes, "
                "source, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    document.doc_id,
                    document.title,
                    document.publisher,
                    document.published,
                    document.url,
                    json.dumps(list(document.paragraphs), ensure_ascii=False),
                    text_bytes(document),
                    source,
                    added_by,
                    now,
                ),
            )
            rows = await tx.fetchall(
                "SELECT id FROM documents WHERE guild_id = ? AND doc_id = ?", (guild_id, document.doc_id)
            )
            ids.append(int(rows[0][0]))
    return ids


async def list_documents(db: Database, guild_id: int, *, limit: int = 10, offset: int = 0) -> list[StoredDocument]:
    """That server's documents, newest first, without their text."""
    rows = await db.fetchall(
        f"SELECT {_LISTED} FROM documents WHERE guild_id = ? ORDER BY added_at DESC, id DESC LIMIT ? OFFSET ?",
        (guild_id, limit, offset),
    )
    return [_stored(row) for row in rows]


async def document_count(db: Database, guild_id: int) -> DocumentCount:
    """How many documents that server holds and the size of their text, for the limits."""
    row = await db.fetchone(_COUNT, (guild_id,))
    assert row is not None  # an aggregate always returns one row
    return DocumentCount(int(row[0]), int(row[1]))


async def remove_document(db: Database, guild_id: int, row_id: int) -> StoredDocument | None:
    """Delete one of that server's documents by its row id; what was removed, None when that server has no such."""
    async with db.transaction() as tx:
        rows = await tx.fetchall(
            f"SELECT {_LISTED} FROM documents WHERE guild_id = ? AND id = ?",
            (guild_id, row_id),
        )
        if not rows:
            return None
        await tx.execute("DELETE FROM documents WHERE guild_id = ? AND id = ?", (guild_id, row_id))
    return _stored(rows[0])


async def guild_documents(db: Database, guild_id: int) -> list[Document]:
    """Every document of that server, oldest first, as the engine indexes them."""
    rows = await db.fetchall(
        "SELECT doc_id, paragraphs, title, url, published, publisher, source FROM documents "
        "WHERE guild_id = ? ORDER BY id",
        (guild_id,),
    )
    return [
        Document(
            doc_id=str(row[0]),
            paragraphs=tuple(json.loads(row[1])),
            title=row[2],
            url=row[3],
            published=row[4],
            publisher=row[5],
            file=str(row[6]).removeprefix(FILE_SOURCE) if str(row[6]).startswith(FILE_SOURCE) else None,
        )
        for row in rows
    ]


async def guilds_with_documents(db: Database) -> list[int]:
    """The servers that hold at least one document (to build their indexes at start)."""
    rows = await db.fetchall("SELECT DISTINCT guild_id FROM documents ORDER BY guild_id")
    return [int(row[0]) for row in rows]


def _stored(row: Row) -> StoredDocument:
    """A listed document from a row of `_LISTED` columns."""
    return StoredDocument(
        id=int(row[0]),
        doc_id=str(row[1]),
        title=row[2],
        source=str(row[3]),
        added_by=int(row[4]),
        added_at=from_db_time(row[5]),
        text_bytes=int(row[6]),
    )
