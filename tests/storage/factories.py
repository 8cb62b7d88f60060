"""Sample rows and files for the storage tests: a question record, a database as schema version 1 left it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.storage import QueryRecord

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
GUILD_A = 111
GUILD_B = 222


# The schema as version 1 of the bot shipped it, frozen here: upgrades start from this.
V1_DDL = (
    """CREATE TABLE queries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        guild_id INTEGER,
        channel_id INTEGER,
        user_id INTEGER,
        question TEXT NOT NULL,
        origin TEXT NOT NULL,
        found INTEGER NOT NULL,
        confidence REAL NOT NULL,
        latency_ms REAL NOT NULL,
        sources TEXT NOT NULL DEFAULT '[]'
    )""",
    """CREATE TABLE votes (
        query_id INTEGER NOT NULL REFERENCES queries(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        created_at TEXT NOT NULL,
        PRIMARY KEY (query_id, user_id)
    )""",
)


def rec(
    question: str = "Qui a remporté l'élection ?",
    *,
    guild_id: int | None = GUILD_A,
    user_id: int | None = 1,
    found: bool = True,
    latency_ms: float = 10.0,
    created_at: datetime | None = NOW,
    sources: list[tuple[str, float]] | None = None,
    error: str | None = None,
    origin: str = "slash",
) -> QueryRecord:
    return QueryRecord(
        question=question,
        origin=origin,
        found=found,
        confidence=0.8 if found else 0.1,
        latency_ms=latency_ms,
        answer_chars=120 if found else 0,
        sources=sources if sources is not None else [("article-1", 7.5), ("article-2", 3.25)],
        guild_id=guild_id,
        channel_id=42,
        user_id=user_id,
        error=error,
        created_at=created_at,
    )


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def make_v1_file(path: Path) -> None:
    """A database as the first schema version left it, holding a few rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    for statement in V1_DDL:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.executemany(
        "INSERT INTO queries (created_at, guild_id, channel_id, user_id, question, origin, "
        "found, confidence, latency_ms, sources) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                "2025-01-02T10:00:00.000000+00:00",
                GUILD_A,
                5,
                7,
                "Où se trouve la mairie ?",
                "slash",
                1,
                0.9,
                15.0,
                '[["mairie", 4.5]]',
            ),
            ("2025-01-03T10:00:00.000000+00:00", GUILD_B, 6, 8, "Question de B", "mention", 0, 0.1, 25.0, "[]"),
        ],
    )
    conn.execute("INSERT INTO votes VALUES (1, 9, 1, '2025-01-02T10:01:00.000000+00:00')")
    conn.commit()
    conn.close()
