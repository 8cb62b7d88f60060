"""What `/admin documents ajouter` does besides talking to Discord: keep a server to its limits, store its new
documents all or none, and rebuild that server's own index so the bot quotes them at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.answering import Answerer
from bot.chat import messages
from bot.ingest.limits import DocumentLimits, Totals, over_limit
from bot.search.corpus import Document
from bot.storage import DocumentExists, OverLimit, Storage


class Refused(Exception):
    """Documents not added; the message is French, for the moderator, and says what to do."""


@dataclass(frozen=True)
class Added:
    """What a moderator added: the documents' titles and how many passages of them the bot can quote."""

    titles: list[str]
    passages: int


async def room_left(storage: Storage, limits: DocumentLimits, guild_id: int) -> None:
    """Raise Refused when that server cannot take any more document (checked before downloading anything)."""
    reason = over_limit(limits, Totals(*await storage.count_documents(guild_id)))
    if reason:
        raise Refused(reason)


async def add_documents(
    storage: Storage,
    engines: Answerer,
    limits: DocumentLimits,
    *,
    guild_id: int,
    added_by: int,
    documents: Sequence[Document],
    source: str,
) -> Added:
    """Store the documents of one file or address on that server and rebuild its index (in a thread).

    Raises Refused, storing nothing, when they would take the server past a limit or one of their ids is taken.
    """
    try:
        await storage.add_documents(
            guild_id,
            documents,
            added_by,
            source,
            max_documents=limits.max_documents,
            max_text_bytes=limits.max_text_bytes,
        )
    except OverLimit as exc:
        raise Refused(over_limit(limits, Totals(*exc.current), Totals(*exc.adding))) from None
    except DocumentExists as exc:
        raise Refused(messages.DOCUMENT_EXISTS.format(names=", ".join(f"« {i} »" for i in exc.doc_ids))) from None
    engine = await engines.rebuild(guild_id)
    added = {document.doc_id for document in documents}
    passages = 0
    if engine is not None:  # counted with numpy: a server's index may hold tens of thousands of passages
        numbers = [number for number, document in enumerate(engine.documents) if document.doc_id in added]
        passages = int(np.isin(engine.index.passage_doc, numbers).sum())
    return Added([document.title or document.doc_id for document in documents], passages)
