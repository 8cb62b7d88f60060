"""The log of questions and their feedback votes: writing on the answer path, reading back, figures, CSV export.

Writes made on the answer path (`log_query`, `record_vote`) never raise for database or disk errors: they
log a warning, count the failure and return None/False, so logging never stands between a user and the answer.
Every read filters on the server (guild) it is asked about. The SQL is the part SQLite and PostgreSQL share.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.storage.connection import DATABASE_ERRORS, Database
from bot.storage.records import (
    DayFigures,
    GuildStats,
    QueryRecord,
    QueryRow,
    from_db_time,
    storable,
    to_db_time,
    utc_now,
)
from bot.storage.spool import Spool
from bot.storage.stats import PeriodTally

logger = logging.getLogger("bot.storage")

EXPORT_COLUMNS = (
    "id",
    "created_at",
    "channel_id",
    "user_id",
    "origin",
    "question",
    "found",
    "confidence",
    "latency_ms",
    "answer_chars",
    "sources",
    "error",
    "upvotes",
    "downvotes",
)

_ROW_COLUMNS = (
    "q.id, q.created_at, q.guild_id, q.channel_id, q.user_id, q.question, q.origin, q.found, "
    "q.confidence, q.latency_ms, q.answer_chars, q.sources, q.error, "
    "(SELECT COUNT(*) FROM votes v WHERE v.query_id = q.id AND v.vote = 1), "
    "(SELECT COUNT(*) FROM votes v WHERE v.query_id = q.id AND v.vote = -1), q.follows"
)


def csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas: text starting with = + - @ (or tab/CR) gets a quote."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _dump_sources(sources: Iterable[tuple[str, float]]) -> str:
    return json.dumps([[storable(str(doc)), float(score)] for doc, score in sources], ensure_ascii=False)


def _load_sources(text: str | None) -> list[tuple[str, float]]:
    try:
        data = json.loads(text or "[]")
        return [(str(item[0]), float(item[1])) for item in data]
    except (ValueError, TypeError, IndexError, KeyError):
        return []


def _row(values: Sequence[Any]) -> QueryRow:
    return QueryRow(
        id=values[0],
        created_at=from_db_time(values[1]),
        guild_id=values[2],
        channel_id=values[3],
        user_id=values[4],
        question=values[5],
        origin=values[6],
        found=bool(values[7]),
        confidence=float(values[8]),
        latency_ms=float(values[9]),
        answer_chars=int(values[10]),
        sources=_load_sources(values[11]),
        error=values[12],
        upvotes=int(values[13]),
        downvotes=int(values[14]),
        follows=values[15],
    )


def _failed(db: Database, what: str, exc: BaseException) -> None:
    """Count and report an answer-path write that did not happen; the answer itself went out."""
    db.failures += 1
    logger.warning(
        "journal des questions : l'enregistrement %s a échoué (%s : %s) ; la réponse n'est pas affectée",
        what,
        type(exc).__name__,
        exc,
    )


# -- answer path: never raise for database errors --


# The columns a logged question fills, in the order `_stored` gives their values.
QUERY_COLUMNS = (
    "created_at",
    "guild_id",
    "channel_id",
    "user_id",
    "question",
    "origin",
    "found",
    "confidence",
    "latency_ms",
    "answer_chars",
    "sources",
    "error",
    "intent",
    "follows",
)
_MARKS = ", ".join("?" * len(QUERY_COLUMNS))
_INSERT_QUERY = f"INSERT INTO queries ({', '.join(QUERY_COLUMNS)}) VALUES ({_MARKS})"
# A spooled row keeps its `spool_id`: replayed twice, it is stored once.
_REPLAY_QUERY = (
    f"INSERT INTO queries ({', '.join(QUERY_COLUMNS)}, spool_id) VALUES ({_MARKS}, ?) ON CONFLICT (spool_id) DO NOTHING"
)


def _stored(rec: QueryRecord) -> tuple[Any, ...]:
    """The values of `QUERY_COLUMNS` for a question, its text made storable."""
    return (
        to_db_time(rec.created_at or utc_now()),
        rec.guild_id,
        rec.channel_id,
        rec.user_id,
        storable(rec.question),
        storable(rec.origin),
        1 if rec.found else 0,
        float(rec.confidence),
        float(rec.latency_ms),
        int(rec.answer_chars),
        _dump_sources(rec.sources),
        None if rec.error is None else storable(rec.error),
        storable(rec.intent),
        rec.follows,
    )


async def log_query(db: Database, rec: QueryRecord, spool: Spool) -> int | None:
    """Log one question; returns its id, or None when the database cannot take it now (warning logged, failure
    counted, the row kept in `spool`). A success hands the rows waiting in `spool` to the database."""
    values = _stored(rec)
    try:
        query_id = await db.insert(_INSERT_QUERY, values)
    except DATABASE_ERRORS as exc:
        _failed(db, "de la question", exc)
        await spool.keep(dict(zip(QUERY_COLUMNS, values, strict=True)))
        return None
    if spool.waiting:
        await replay_spooled(db, spool)
    return query_id


async def replay_spooled(db: Database, spool: Spool) -> int:
    """Store the questions waiting in `spool`, each once (a row already stored is skipped); how many left it."""

    async def insert(row: dict[str, Any]) -> None:
        # .get: a row spooled by an older version lacks the newer columns
        await db.execute(_REPLAY_QUERY, [row.get(column) for column in (*QUERY_COLUMNS, "spool_id")])

    return await spool.replay(insert)


async def record_vote(db: Database, query_id: int, guild_id: int | None, user_id: int, vote: int) -> bool:
    """Store a +1/-1 vote (one per user and query, replacing the previous one).

    False when the vote is not ±1, the query is unknown or belongs to another server,
    or the write failed (warning logged, failure counted).
    """
    if vote not in (1, -1):
        return False
    try:
        changed = await db.execute(
            "INSERT INTO votes (query_id, user_id, vote, created_at) "
            "SELECT id, CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS TEXT) FROM queries "
            f"WHERE id = ? AND guild_id {db.null_safe_equal} ? "
            "ON CONFLICT (query_id, user_id) DO UPDATE "
            "SET vote = excluded.vote, created_at = excluded.created_at",
            (user_id, vote, to_db_time(utc_now()), query_id, guild_id),
        )
        return changed > 0
    except DATABASE_ERRORS as exc:
        _failed(db, "du vote", exc)
        return False


# -- reads --


async def get_query(db: Database, query_id: int) -> QueryRow | None:
    """One logged question by id (any server: callers check `guild_id`)."""
    row = await db.fetchone(f"SELECT {_ROW_COLUMNS} FROM queries q WHERE q.id = ?", (query_id,))
    return _row(row) if row else None


def _history_filter(guild_id: int, user_id: int | None, not_found_only: bool) -> tuple[str, list[Any]]:
    where = ["q.guild_id = ?"]
    params: list[Any] = [guild_id]
    if user_id is not None:
        where.append("q.user_id = ?")
        params.append(user_id)
    if not_found_only:
        where.append("q.found = 0 AND q.error IS NULL AND q.intent = 'question'")
    return " AND ".join(where), params


async def history(
    db: Database,
    guild_id: int,
    *,
    user_id: int | None = None,
    not_found_only: bool = False,
    limit: int = 10,
    offset: int = 0,
) -> list[QueryRow]:
    """That server's questions, newest first; optionally one user's, or only the unanswered.

    `not_found_only` keeps questions the corpus had no answer for (failed ones excluded).
    """
    where, params = _history_filter(guild_id, user_id, not_found_only)
    params += [max(0, int(limit)), max(0, int(offset))]
    rows = await db.fetchall(
        f"SELECT {_ROW_COLUMNS} FROM queries q WHERE {where} ORDER BY q.created_at DESC, q.id DESC LIMIT ? OFFSET ?",
        params,
    )
    return [_row(r) for r in rows]


async def count_history(
    db: Database, guild_id: int, *, user_id: int | None = None, not_found_only: bool = False
) -> int:
    """How many rows `history` would page through with the same filters."""
    where, params = _history_filter(guild_id, user_id, not_found_only)
    return int(await db.scalar(f"SELECT COUNT(*) FROM queries q WHERE {where}", params) or 0)


def _period_filter(guild_id: int, since: datetime | None) -> tuple[str, list[Any]]:
    """WHERE clause (on `queries q`) and parameters of one server's questions since `since` (all time when None)."""
    if since is None:
        return "q.guild_id = ?", [guild_id]
    return "q.guild_id = ? AND q.created_at >= ?", [guild_id, to_db_time(since)]


async def stats(
    db: Database,
    guild_id: int,
    since: datetime | None = None,
    *,
    now: datetime | None = None,
    limit: int = 10,
) -> GuildStats:
    """Usage figures for one server; `since` bounds everything but today/7-day counts.

    "Today" starts at midnight UTC. `limit` caps each top list.
    """
    now = now or utc_now()
    now_utc = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    midnight = now_utc.replace(hour=0, minute=0, second=0, microsecond=0)
    period, params = _period_filter(guild_id, since)

    since_sql = "SELECT COUNT(*) FROM queries q WHERE q.guild_id = ? AND q.created_at >= ?"
    today = await db.scalar(since_sql, (guild_id, to_db_time(midnight)))
    week = await db.scalar(since_sql, (guild_id, to_db_time(now_utc - timedelta(days=7))))
    all_time = None  # without a period, the period's count is the all-time count: not counted twice
    if since is not None:
        all_time = await db.scalar("SELECT COUNT(*) FROM queries q WHERE q.guild_id = ?", (guild_id,))
    upvotes, downvotes = await db.fetchone(
        "SELECT COALESCE(SUM(CASE WHEN v.vote = 1 THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN v.vote = -1 THEN 1 ELSE 0 END), 0) "
        f"FROM votes v JOIN queries q ON q.id = v.query_id WHERE {period}",
        params,
    ) or (0, 0)

    # One pass over the period's rows in chunks (cheaper than one indexed query per figure), columns in StatsRow order.
    tally = PeriodTally()
    async for rows in db.batches(
        f"SELECT q.question, q.found, q.error IS NOT NULL, q.latency_ms, {db.first_source_sql}, q.intent "
        f"FROM queries q WHERE {period}",
        params,
    ):
        tally.add(rows)
    return tally.stats(
        today=int(today or 0),
        last_7_days=int(week or 0),
        upvotes=int(upvotes),
        downvotes=int(downvotes),
        all_time=None if all_time is None else int(all_time),
        limit=limit,
    )


async def daily_figures(db: Database, guild_id: int, since: datetime | None = None) -> list[DayFigures]:
    """That server's questions, answers and votes per UTC day since `since` (all time when None), oldest first.

    Stored times are fixed-width UTC text, so the first 10 characters are the UTC day on both backends. A vote
    counts on the day of the question it rates. Days without questions are left out.
    """
    where, params = _period_filter(guild_id, since)
    day = "SUBSTR(q.created_at, 1, 10)"
    questions = await db.fetchall(
        f"SELECT {day}, COUNT(*), "
        "SUM(CASE WHEN q.found <> 0 AND q.error IS NULL AND q.intent <> 'smalltalk' THEN 1 ELSE 0 END) "
        f"FROM queries q WHERE {where} GROUP BY {day} ORDER BY {day}",
        params,
    )
    votes = await db.fetchall(
        f"SELECT {day}, SUM(CASE WHEN v.vote = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN v.vote = -1 THEN 1 ELSE 0 END) "
        f"FROM votes v JOIN queries q ON q.id = v.query_id WHERE {where} GROUP BY {day}",
        params,
    )
    by_day = {row[0]: (int(row[1]), int(row[2])) for row in votes}
    return [
        DayFigures(date.fromisoformat(text), int(count), int(answered or 0), *by_day.get(text, (0, 0)))
        for text, count, answered in questions
    ]


async def export_csv(db: Database, guild_id: int) -> str:
    """That server's whole log as CSV text (oldest first), safe to open in a spreadsheet.

    Values are exported as stored (UTC timestamps, sources as JSON); text cells that a
    spreadsheet would run as a formula are prefixed with a quote.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    async for rows in db.batches(
        "SELECT q.id, q.created_at, q.channel_id, q.user_id, q.origin, q.question, q.found, q.confidence, "
        "q.latency_ms, q.answer_chars, q.sources, q.error, "
        "(SELECT COUNT(*) FROM votes v WHERE v.query_id = q.id AND v.vote = 1), "
        "(SELECT COUNT(*) FROM votes v WHERE v.query_id = q.id AND v.vote = -1) "
        "FROM queries q WHERE q.guild_id = ? ORDER BY q.id",
        (guild_id,),
    ):
        writer.writerows(_export_row(row) for row in rows)
    return out.getvalue()


def _export_row(row: Sequence[Any]) -> tuple[Any, ...]:
    """One CSV line: empty cells for missing ids, fixed decimals, formula-like text neutralised."""
    qid, created_at, channel_id, user_id, origin, question, found, confidence, latency_ms, *rest = row
    chars, sources, error, upvotes, downvotes = rest
    return (
        qid,
        created_at,
        "" if channel_id is None else channel_id,
        "" if user_id is None else user_id,
        csv_safe(origin),
        csv_safe(question),
        found,
        f"{confidence:.3f}",
        f"{latency_ms:.1f}",
        chars,
        csv_safe(sources),
        csv_safe(error or ""),
        upvotes,
        downvotes,
    )
