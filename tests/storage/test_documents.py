"""Each server's own documents: stored whole, listed, counted and removed, never seen from another server."""

from __future__ import annotations

import asyncio

import pytest

from bot.search.corpus import Document
from bot.storage import DocumentCount, DocumentExists, OverLimit, Storage
from tests.storage.backends import Backend
from tests.storage.factories import GUILD_A, GUILD_B

MODERATOR = 42


def doc(doc_id: str, *paragraphs: str, **metadata: str) -> Document:
    return Document(doc_id=doc_id, paragraphs=paragraphs or (f"Texte du document {doc_id}.",), **metadata)


async def test_documents_come_back_whole_and_only_to_their_server(store: Storage) -> None:
    first = doc(
        "charte",
        "Le club ouvre à 9 h.",
        "Les chiens sont acceptés, « même » les grands.",
        title="Charte",
        url="https://exemple.fr/charte",
        published="2026-01-02",
        publisher="Le club",
    )
    ids = await store.add_documents(GUILD_A, [first, doc("horaires")], MODERATOR, "fichier:charte.jsonl")
    assert len(ids) == 2 and ids[0] != ids[1]
    back = await store.guild_documents(GUILD_A)
    assert back[0] == Document(
        "charte", first.paragraphs, "Charte", "https://exemple.fr/charte", "2026-01-02", "Le club", "charte.jsonl"
    )
    assert [d.doc_id for d in back] == ["charte", "horaires"]
    assert await store.guild_documents(GUILD_B) == []
    assert await store.list_documents(GUILD_B) == []
    assert await store.count_documents(GUILD_B) == DocumentCount(0, 0)
    assert await store.guilds_with_documents() == [GUILD_A]


async def test_list_count_and_remove(store: Storage) -> None:
    await store.add_documents(GUILD_A, [doc("un", "Été")], MODERATOR, "https://exemple.fr/un")
    (second,) = await store.add_documents(GUILD_A, [doc("deux", "abc", "de")], MODERATOR + 1, "fichier:deux.txt")
    listed = await store.list_documents(GUILD_A)
    assert [(d.doc_id, d.source, d.added_by) for d in listed] == [
        ("deux", "fichier:deux.txt", MODERATOR + 1),
        ("un", "https://exemple.fr/un", MODERATOR),
    ]
    assert [d.doc_id for d in await store.list_documents(GUILD_A, limit=1, offset=1)] == ["un"]
    # "Été" is 5 bytes in UTF-8; "abc\n\nde" is 7.
    assert await store.count_documents(GUILD_A) == DocumentCount(2, 12)
    assert await store.remove_document(GUILD_B, second) is None  # another server cannot remove it
    removed = await store.remove_document(GUILD_A, second)
    assert removed is not None and removed.doc_id == "deux"
    assert await store.remove_document(GUILD_A, second) is None
    assert [d.doc_id for d in await store.guild_documents(GUILD_A)] == ["un"]
    assert await store.count_documents(GUILD_A) == DocumentCount(1, 5)


async def test_an_id_already_taken_adds_nothing(store: Storage, backend: Backend) -> None:
    await store.add_documents(GUILD_A, [doc("charte")], MODERATOR, "fichier:charte.txt")
    with pytest.raises(DocumentExists) as raised:
        await store.add_documents(GUILD_A, [doc("neuf"), doc("charte")], MODERATOR, "fichier:lot.jsonl")
    assert raised.value.doc_ids == ["charte"]
    assert await backend.count("documents") == 1
    # The same id on another server is that server's own document.
    await store.add_documents(GUILD_B, [doc("charte")], MODERATOR, "fichier:charte.txt")
    assert await backend.count("documents") == 2


async def test_concurrent_adds_cannot_pass_the_document_limit_together(store: Storage, backend: Backend) -> None:
    other = await backend.open()  # another process's connection to the same database
    try:
        adds = [
            (store if n % 2 else other).add_documents(
                GUILD_A, [doc(f"doc-{n}")], MODERATOR, f"fichier:doc-{n}.txt", max_documents=3
            )
            for n in range(10)
        ]
        results = await asyncio.gather(*adds, return_exceptions=True)
    finally:
        await other.close()
    refused = [result for result in results if isinstance(result, OverLimit)]
    assert len(refused) == 7 and all(isinstance(result, list) for result in results if result not in refused)
    assert {r.current.documents for r in refused} == {3} and {r.adding for r in refused} == {
        DocumentCount(1, len("Texte du document doc-0."))
    }
    assert await backend.count("documents") == 3
    await store.add_documents(GUILD_B, [doc("ailleurs")], MODERATOR, "fichier:ailleurs.txt", max_documents=3)


async def test_concurrent_adds_cannot_pass_the_text_limit_together(store: Storage, backend: Backend) -> None:
    big = "é" * 300_000  # 600,000 bytes of UTF-8 each, against a limit of 1,000,000
    adds = [
        store.add_documents(GUILD_A, [doc(f"gros-{n}", big)], MODERATOR, f"fichier:gros-{n}.txt", max_text_bytes=10**6)
        for n in range(3)
    ]
    results = await asyncio.gather(*adds, return_exceptions=True)
    assert sum(isinstance(result, OverLimit) for result in results) == 2
    assert await store.count_documents(GUILD_A) == DocumentCount(1, 600_000)
    assert await backend.sql("SELECT SUM(text_bytes) FROM documents") == [(600_000,)]
