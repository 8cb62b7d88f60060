"""The query log, feedback votes and per-server settings in SQLite: the only module writing SQL.

One `Storage` object wraps one aiosqlite connection in WAL mode. The schema is versioned
with `PRAGMA user_version` and upgraded in place at open. Writes made on the answer path
(`log_query`, `record_vote`) never raise for database or disk errors: they log a warning,
count the failure in `failures` and return None/False, so logging never stands between a
user and the answer. Every read filters on the server (guild) it is asked about.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import logging
import math
import re
import sqlite3
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import aiosqlite

if TYPE_CHECKING:
    from bot.search.answer import Answer

logger = logging.getLogger("bot.storage")

DEFAULT_BUSY_TIMEOUT = 2.0  # seconds: a locked database must not hold an answer back long
ORIGINS = ("slash", "mention", "cli")
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

# Errors that mean "the database cannot take this write now" (locked, read-only, disk full,
# I/O error, closed connection); caught on the answer path, never elsewhere.
_WRITE_ERRORS = (sqlite3.Error, OSError, ValueError)
_CHUNK = 1000  # rows fetched per trip to the database thread when scanning a server's log


class StorageError(RuntimeError):
    """The database file cannot be used by this version of the bot (e.g. newer schema)."""


# --- schema migrations ------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    """One schema step: its statements run in one transaction, then user_version = version.

    Shipped migrations are never edited: a new schema change is a new step at the end.
    """

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "query log and feedback votes",
        (
            # AUTOINCREMENT: ids are never reused after a purge, so an old feedback button
            # (whose custom_id carries the id) can never vote on a newer question.
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
        ),
    ),
    Migration(
        2,
        "answer length, errors, server settings, allowed channels, indexes",
        (
            "ALTER TABLE queries ADD COLUMN answer_chars INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE queries ADD COLUMN error TEXT",
            "CREATE INDEX queries_guild_created ON queries (guild_id, created_at)",
            "CREATE INDEX queries_guild_user_created ON queries (guild_id, user_id, created_at)",
            "CREATE INDEX votes_user ON votes (user_id)",
            """CREATE TABLE guild_settings (
                guild_id INTEGER PRIMARY KEY,
                ephemeral INTEGER NOT NULL DEFAULT 0,
                use_threads INTEGER NOT NULL DEFAULT 0,
                rate_limit_count INTEGER,
                rate_limit_seconds REAL,
                retention_days INTEGER,
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE channels (
                guild_id INTEGER NOT NULL,
                channel_id INTEGER NOT NULL,
                added_at TEXT NOT NULL,
                PRIMARY KEY (guild_id, channel_id)
            )""",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


# --- records ----------------------------------------------------------------------------


@dataclass
class QueryRecord:
    """One question as it is logged (what a front door knows right after answering)."""

    question: str
    origin: str  # "slash" | "mention" | "cli"
    found: bool
    confidence: float
    latency_ms: float
    answer_chars: int
    sources: list[tuple[str, float]]  # (doc_id, score), best first
    guild_id: int | None = None
    channel_id: int | None = None
    user_id: int | None = None
    error: str | None = None
    created_at: datetime | None = None  # UTC now when None

    @classmethod
    def from_answer(
        cls,
        answer: Answer,
        *,
        origin: str,
        guild_id: int | None = None,
        channel_id: int | None = None,
        user_id: int | None = None,
        latency_ms: float | None = None,
        max_sources: int = 5,
    ) -> QueryRecord:
        """Record for an engine `Answer` (latency defaults to the engine's own measure)."""
        return cls(
            question=answer.question,
            origin=origin,
            found=answer.found,
            confidence=float(answer.confidence),
            latency_ms=float(answer.latency_ms if latency_ms is None else latency_ms),
            answer_chars=sum(len(s) for s in answer.sentences),
            sources=[(s.doc_id, float(s.score)) for s in answer.sources[:max_sources]],
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
        )


@dataclass
class QueryRow:
    """One logged question as read back, with its feedback vote counts."""

    id: int
    created_at: datetime
    guild_id: int | None
    channel_id: int | None
    user_id: int | None
    question: str
    origin: str
    found: bool
    confidence: float
    latency_ms: float
    answer_chars: int
    sources: list[tuple[str, float]]
    error: str | None
    upvotes: int = 0
    downvotes: int = 0


@dataclass
class GuildSettings:
    """A server's own settings; None means "use the global default from the configuration"."""

    guild_id: int
    ephemeral: bool = False
    use_threads: bool = False
    rate_limit_count: int | None = None
    rate_limit_seconds: float | None = None
    retention_days: int | None = None


@dataclass
class GuildStats:
    """What `/admin stats` shows for one server.

    Latency percentiles use the nearest-rank method over the period's queries that did not
    fail (0.0 when there are none). `found` + `not_found` + `errors` = `total`.
    """

    total: int
    today: int
    last_7_days: int
    found: int
    not_found: int
    upvotes: int
    downvotes: int
    latency_p50_ms: float
    latency_p95_ms: float
    top_questions: list[tuple[str, int]] = field(default_factory=list)
    top_documents: list[tuple[str, int]] = field(default_factory=list)
    unanswered: list[tuple[str, int]] = field(default_factory=list)
    errors: int = 0
    all_time: int = 0  # every question ever logged on the server, whatever the period


# --- helpers ----------------------------------------------------------------------------


def utc_now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def to_db_time(moment: datetime) -> str:
    """UTC ISO-8601 text with fixed width, so text order is time order (naive = UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    """Parse a stored timestamp back to an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_SPACES = re.compile(r"\s+")


def normalize_question(question: str) -> str:
    """Grouping key for "most asked" lists: NFC, case-folded, spaces collapsed, no final ?!."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", question)).strip().casefold()
    return text.rstrip(" ?!.…¿¡").strip()


def percentile_nearest_rank(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the value at rank ceil(pct/100 * n) (1-based); 0.0 if empty."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas: text starting with = + - @ (or tab/CR) gets a quote."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _dump_sources(sources: Iterable[tuple[str, float]]) -> str:
    return json.dumps([[str(doc), float(score)] for doc, score in sources], ensure_ascii=False)


def _load_sources(text: str | None) -> list[tuple[str, float]]:
    try:
        data = json.loads(text or "[]")
        return [(str(item[0]), float(item[1])) for item in data]
    except (ValueError, TypeError, IndexError, KeyError):
        return []


_ROW_COLUMNS = (
    "q.id, q.created_at, q.guild_id, q.channel_id, q.user_id, q.question, q.origin, q.found, "
    "q.confidence, q.latency_ms, q.answer_chars, q.sources, q.error, "
    "(SELECT COUNT(*) FROM votes v WHERE v.query_id = q.id AND v.vote = 1), "
    "(SELECT COUNT(*) FROM votes v WHERE v.query_id = q.id AND v.vote = -1)"
)


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
    )


# --- the storage class ------------------------------------------------------------------


async def _enable_wal(conn: aiosqlite.Connection, busy_timeout: float) -> str:
    """Switch to WAL and return the journal mode in force.

    The switch needs the file to itself and SQLite answers "database is locked" at once, without
    waiting, while another process holds a lock (two processes opening a new file together): retry
    until `busy_timeout` has passed.
    """
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            async with conn.execute("PRAGMA journal_mode = WAL") as cur:
                return str((await cur.fetchone() or ("?",))[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.02)


class Storage:
    """Async access to the bot's SQLite database; open with `await Storage.open(path)`."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self.path = path
        self.failures = 0  # answer-path writes that failed (locked, read-only, disk full)
        self._write_lock = asyncio.Lock()  # one write transaction at a time on this connection
        self._closed = False

    # -- lifecycle --

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        read_only: bool = False,
    ) -> Storage:
        """Open (creating the folder and file) and migrate the database to the latest schema.

        `busy_timeout` (seconds) bounds how long a write waits for another process's lock.
        `read_only` opens the file with SQLite's `mode=ro` (no migration: it must be current).
        Raises sqlite3.Error/StorageError when the file cannot be opened or migrated.
        """
        name = str(path)
        if read_only:
            uri = Path(name).resolve().as_uri() + "?mode=ro"
            conn = await aiosqlite.connect(
                uri, uri=True, timeout=busy_timeout, isolation_level=None, iter_chunk_size=_CHUNK
            )
        else:
            if name != ":memory:" and not name.startswith("file:"):
                Path(name).parent.mkdir(parents=True, exist_ok=True)
            conn = await aiosqlite.connect(name, timeout=busy_timeout, isolation_level=None, iter_chunk_size=_CHUNK)
        storage = cls(conn, name)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            await conn.execute("PRAGMA foreign_keys = ON")
            if read_only:
                version = await storage.schema_version()
                if version != SCHEMA_VERSION:
                    raise StorageError(
                        f"{name}: schema version {version}, expected {SCHEMA_VERSION} "
                        "(read-only database cannot be migrated)"
                    )
            else:
                mode = await _enable_wal(conn, busy_timeout)
                if mode.lower() != "wal" and name != ":memory:":
                    logger.warning("database %s: journal mode is %s, not WAL", name, mode)
                await conn.execute("PRAGMA synchronous = NORMAL")
                await storage._migrate()
        except BaseException:
            await conn.close()
            raise
        return storage

    async def close(self) -> None:
        """Close the connection (idempotent).

        Cancelling the caller (a signal during shutdown) still closes it: an open connection's thread
        would keep the process from exiting.
        """
        if self._closed:
            return
        self._closed = True
        try:
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self._conn.execute("PRAGMA optimize")
        finally:
            await asyncio.shield(self._conn.close())

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def schema_version(self) -> int:
        """The database's `PRAGMA user_version` (0 for a new file)."""
        async with self._conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        """Apply every migration newer than the file's user_version, each in a transaction."""
        current = await self.schema_version()
        if current > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path}: schema version {current} is newer than this bot's ({SCHEMA_VERSION}); upgrade the bot"
            )
        for step in MIGRATIONS:
            if step.version <= current:
                continue
            async with self._write_lock:
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    if await self.schema_version() >= step.version:  # another process did it
                        await self._conn.execute("COMMIT")
                        continue
                    for statement in step.statements:
                        await self._conn.execute(statement)
                    # PRAGMA takes no parameters; the version is an int from this module.
                    await self._conn.execute(f"PRAGMA user_version = {int(step.version)}")
                    await self._conn.execute("COMMIT")
                except BaseException:
                    await self._conn.execute("ROLLBACK")
                    raise
            logger.info("database %s migrated to schema version %d (%s)", self.path, step.version, step.description)

    def _failed(self, action: str, exc: BaseException) -> None:
        self.failures += 1
        logger.warning("query log: %s failed (%s: %s); answer not affected", action, type(exc).__name__, exc)

    # -- answer path: never raise for database errors --

    async def log_query(self, rec: QueryRecord) -> int | None:
        """Log one question; returns its id, or None (warning logged, failure counted)."""
        try:
            async with self._write_lock:
                cur = await self._conn.execute(
                    "INSERT INTO queries (created_at, guild_id, channel_id, user_id, question, "
                    "origin, found, confidence, latency_ms, answer_chars, sources, error) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        to_db_time(rec.created_at or utc_now()),
                        rec.guild_id,
                        rec.channel_id,
                        rec.user_id,
                        rec.question,
                        rec.origin,
                        1 if rec.found else 0,
                        float(rec.confidence),
                        float(rec.latency_ms),
                        int(rec.answer_chars),
                        _dump_sources(rec.sources),
                        rec.error,
                    ),
                )
                row_id = cur.lastrowid
                await cur.close()
            return row_id
        except _WRITE_ERRORS as exc:
            self._failed("log_query", exc)
            return None

    async def record_vote(self, query_id: int, guild_id: int | None, user_id: int, vote: int) -> bool:
        """Store a +1/-1 vote (one per user and query, replacing the previous one).

        False when the vote is not ±1, the query is unknown or belongs to another server,
        or the write failed (warning logged, failure counted).
        """
        if vote not in (1, -1):
            return False
        try:
            async with self._write_lock:
                cur = await self._conn.execute(
                    "INSERT INTO votes (query_id, user_id, vote, created_at) "
                    "SELECT id, ?, ?, ? FROM queries WHERE id = ? AND guild_id IS ? "
                    "ON CONFLICT (query_id, user_id) DO UPDATE "
                    "SET vote = excluded.vote, created_at = excluded.created_at",
                    (user_id, vote, to_db_time(utc_now()), query_id, guild_id),
                )
                changed = cur.rowcount
                await cur.close()
            return changed > 0
        except _WRITE_ERRORS as exc:
            self._failed("record_vote", exc)
            return False

    async def get_guild_settings(self, guild_id: int) -> GuildSettings:
        """A server's settings (defaults when never set, or when the database cannot be read)."""
        return await self.read_guild_settings(guild_id) or GuildSettings(guild_id=guild_id)

    async def read_guild_settings(self, guild_id: int) -> GuildSettings | None:
        """A server's settings (defaults when never set); None when the database cannot be read."""
        try:
            async with self._conn.execute(
                "SELECT ephemeral, use_threads, rate_limit_count, rate_limit_seconds, "
                "retention_days FROM guild_settings WHERE guild_id = ?",
                (guild_id,),
            ) as cur:
                row = await cur.fetchone()
        except _WRITE_ERRORS as exc:
            logger.warning("guild settings unreadable for %s (%s); using defaults", guild_id, exc)
            return None
        if row is None:
            return GuildSettings(guild_id=guild_id)
        return GuildSettings(
            guild_id=guild_id,
            ephemeral=bool(row[0]),
            use_threads=bool(row[1]),
            rate_limit_count=row[2],
            rate_limit_seconds=row[3],
            retention_days=row[4],
        )

    async def is_channel_allowed(self, guild_id: int, channel_id: int) -> bool:
        """Whether mentions are answered in this channel (False if the database is unreadable)."""
        try:
            async with self._conn.execute(
                "SELECT 1 FROM channels WHERE guild_id = ? AND channel_id = ?",
                (guild_id, channel_id),
            ) as cur:
                return await cur.fetchone() is not None
        except _WRITE_ERRORS as exc:
            logger.warning("allowed channels unreadable for %s (%s)", guild_id, exc)
            return False

    # -- reads --

    async def get_query(self, query_id: int) -> QueryRow | None:
        """One logged question by id (any server: callers check `guild_id`)."""
        async with self._conn.execute(f"SELECT {_ROW_COLUMNS} FROM queries q WHERE q.id = ?", (query_id,)) as cur:
            row = await cur.fetchone()
        return _row(row) if row else None

    @staticmethod
    def _history_filter(guild_id: int, user_id: int | None, not_found_only: bool) -> tuple[str, list[Any]]:
        where = ["q.guild_id = ?"]
        params: list[Any] = [guild_id]
        if user_id is not None:
            where.append("q.user_id = ?")
            params.append(user_id)
        if not_found_only:
            where.append("q.found = 0 AND q.error IS NULL")
        return " AND ".join(where), params

    async def history(
        self,
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
        where, params = self._history_filter(guild_id, user_id, not_found_only)
        params += [max(0, int(limit)), max(0, int(offset))]
        async with self._conn.execute(
            f"SELECT {_ROW_COLUMNS} FROM queries q WHERE {where} "
            "ORDER BY q.created_at DESC, q.id DESC LIMIT ? OFFSET ?",
            params,
        ) as cur:
            return [_row(r) for r in await cur.fetchall()]

    async def count_history(self, guild_id: int, *, user_id: int | None = None, not_found_only: bool = False) -> int:
        """How many rows `history` would page through with the same filters."""
        where, params = self._history_filter(guild_id, user_id, not_found_only)
        async with self._conn.execute(f"SELECT COUNT(*) FROM queries q WHERE {where}", params) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _scalar(self, sql: str, params: Sequence[Any]) -> Any:
        async with self._conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def stats(
        self,
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
        period = "q.guild_id = ?"
        params: list[Any] = [guild_id]
        if since is not None:
            period += " AND q.created_at >= ?"
            params.append(to_db_time(since))

        today = await self._scalar(
            "SELECT COUNT(*) FROM queries q WHERE q.guild_id = ? AND q.created_at >= ?",
            (guild_id, to_db_time(midnight)),
        )
        week = await self._scalar(
            "SELECT COUNT(*) FROM queries q WHERE q.guild_id = ? AND q.created_at >= ?",
            (guild_id, to_db_time(now_utc - timedelta(days=7))),
        )
        all_time = None  # without a period, the period's count is the all-time count: not counted twice
        if since is not None:
            all_time = await self._scalar("SELECT COUNT(*) FROM queries q WHERE q.guild_id = ?", (guild_id,))
        async with self._conn.execute(
            "SELECT COALESCE(SUM(v.vote = 1), 0), COALESCE(SUM(v.vote = -1), 0) "
            f"FROM votes v JOIN queries q ON q.id = v.query_id WHERE {period}",
            params,
        ) as cur:
            upvotes, downvotes = await cur.fetchone() or (0, 0)

        # One pass over the period's rows (cheaper than one indexed query per figure).
        total = found = not_found = errors = 0
        latencies: list[float] = []
        asked: Counter[str] = Counter()
        unanswered: Counter[str] = Counter()
        documents: Counter[str] = Counter()
        async with self._conn.execute(
            "SELECT q.question, q.found, q.error IS NOT NULL, q.latency_ms, "
            f"json_extract(q.sources, '$[0][0]') FROM queries q WHERE {period}",
            params,
        ) as cur:
            async for question, was_found, failed, latency, first_doc in cur:
                total += 1
                key = normalize_question(question)
                if key:
                    asked[key] += 1
                if failed:
                    errors += 1
                    continue
                latencies.append(float(latency))
                if was_found:
                    found += 1
                    if first_doc is not None:
                        documents[str(first_doc)] += 1
                else:
                    not_found += 1
                    if key:
                        unanswered[key] += 1
        latencies.sort()

        def top(counter: Counter[str]) -> list[tuple[str, int]]:
            return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

        return GuildStats(
            total=total,
            today=int(today or 0),
            last_7_days=int(week or 0),
            found=found,
            not_found=not_found,
            upvotes=int(upvotes),
            downvotes=int(downvotes),
            latency_p50_ms=percentile_nearest_rank(latencies, 50),
            latency_p95_ms=percentile_nearest_rank(latencies, 95),
            top_questions=top(asked),
            top_documents=top(documents),
            unanswered=top(unanswered),
            errors=errors,
            all_time=total if all_time is None else int(all_time),
        )

    async def export_csv(self, guild_id: int) -> str:
        """That server's whole log as CSV text (oldest first), safe to open in a spreadsheet.

        Values are exported as stored (UTC timestamps, sources as JSON); text cells that a
        spreadsheet would run as a formula are prefixed with a quote.
        """
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        async with self._conn.execute(
            "SELECT q.id, q.created_at, IFNULL(q.channel_id, ''), IFNULL(q.user_id, ''), "
            "q.origin, q.question, q.found, printf('%.3f', q.confidence), "
            "printf('%.1f', q.latency_ms), q.answer_chars, q.sources, IFNULL(q.error, ''), "
            "(SELECT COUNT(*) FROM votes v WHERE v.query_id = q.id AND v.vote = 1), "
            "(SELECT COUNT(*) FROM votes v WHERE v.query_id = q.id AND v.vote = -1) "
            "FROM queries q WHERE q.guild_id = ? ORDER BY q.id",
            (guild_id,),
        ) as cur:
            async for row in cur:
                writer.writerow(
                    (
                        *row[:4],
                        csv_safe(row[4]),
                        csv_safe(row[5]),
                        *row[6:10],
                        csv_safe(row[10]),
                        csv_safe(row[11]),
                        *row[12:],
                    )
                )
        return out.getvalue()

    # -- moderator writes (may raise: the moderator sees the error) --

    async def update_guild_settings(self, guild_id: int, **changes: Any) -> GuildSettings:
        """Change some of a server's settings and return them all; ValueError on bad input."""
        allowed = {f.name for f in fields(GuildSettings)} - {"guild_id"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"unknown guild setting(s): {', '.join(sorted(unknown))}")
        current = await self.get_guild_settings(guild_id)
        for key, value in changes.items():
            setattr(current, key, _check_setting(key, value))
        async with self._write_lock:
            await self._conn.execute(
                "INSERT INTO guild_settings (guild_id, ephemeral, use_threads, rate_limit_count, "
                "rate_limit_seconds, retention_days, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET ephemeral = excluded.ephemeral, "
                "use_threads = excluded.use_threads, "
                "rate_limit_count = excluded.rate_limit_count, "
                "rate_limit_seconds = excluded.rate_limit_seconds, "
                "retention_days = excluded.retention_days, updated_at = excluded.updated_at",
                (
                    guild_id,
                    int(current.ephemeral),
                    int(current.use_threads),
                    current.rate_limit_count,
                    current.rate_limit_seconds,
                    current.retention_days,
                    to_db_time(utc_now()),
                ),
            )
        return current

    async def add_channel(self, guild_id: int, channel_id: int) -> bool:
        """Allow mentions in a channel; False if it was already allowed."""
        async with self._write_lock:
            cur = await self._conn.execute(
                "INSERT OR IGNORE INTO channels (guild_id, channel_id, added_at) VALUES (?, ?, ?)",
                (guild_id, channel_id, to_db_time(utc_now())),
            )
            changed = cur.rowcount
            await cur.close()
        return changed > 0

    async def remove_channel(self, guild_id: int, channel_id: int) -> bool:
        """Stop answering mentions in a channel; False if it was not allowed."""
        async with self._write_lock:
            cur = await self._conn.execute(
                "DELETE FROM channels WHERE guild_id = ? AND channel_id = ?",
                (guild_id, channel_id),
            )
            changed = cur.rowcount
            await cur.close()
        return changed > 0

    async def list_channels(self, guild_id: int) -> list[int]:
        """The channels where mentions are answered in that server, in the order added."""
        async with self._conn.execute(
            "SELECT channel_id FROM channels WHERE guild_id = ? ORDER BY added_at, channel_id",
            (guild_id,),
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def _delete(self, sql: str, params: Sequence[Any]) -> int:
        """Run one DELETE (votes follow through ON DELETE CASCADE); returns rows deleted."""
        async with self._write_lock:
            cur = await self._conn.execute(sql, params)
            count = cur.rowcount
            await cur.close()
        return max(count, 0)

    async def purge(self, guild_id: int, older_than_days: int, *, now: datetime | None = None) -> int:
        """Delete that server's questions (and their votes) older than n days; returns count."""
        if older_than_days < 0:
            raise ValueError("older_than_days must be >= 0")
        cutoff = (now or utc_now()) - timedelta(days=older_than_days)
        return await self._delete(
            "DELETE FROM queries WHERE guild_id = ? AND created_at < ?",
            (guild_id, to_db_time(cutoff)),
        )

    async def apply_retention(self, default_days: int, *, now: datetime | None = None) -> int:
        """Delete rows older than each server's retention (its own, else `default_days`).

        0 days means keep forever. Rows without a server (command line) follow `default_days`.
        Returns the number of questions deleted (their votes go with them).
        """
        now = now or utc_now()
        deleted = 0
        if default_days > 0:
            deleted += await self._delete(
                "DELETE FROM queries WHERE created_at < ? AND (guild_id IS NULL OR guild_id "
                "NOT IN (SELECT guild_id FROM guild_settings WHERE retention_days IS NOT NULL))",
                (to_db_time(now - timedelta(days=default_days)),),
            )
        async with self._conn.execute(
            "SELECT guild_id, retention_days FROM guild_settings "
            "WHERE retention_days IS NOT NULL AND retention_days > 0"
        ) as cur:
            own = [(int(g), int(d)) for g, d in await cur.fetchall()]
        for guild_id, days in own:
            deleted += await self._delete(
                "DELETE FROM queries WHERE guild_id = ? AND created_at < ?",
                (guild_id, to_db_time(now - timedelta(days=days))),
            )
        if deleted:
            logger.info("retention: %d logged question(s) deleted", deleted)
        return deleted

    async def forget_user(self, guild_id: int, user_id: int) -> tuple[int, int]:
        """Delete a user's questions (with every vote on them) and their votes in that server.

        Returns (questions deleted, votes cast by that user deleted); both in one transaction.
        """
        async with self._write_lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                cur = await self._conn.execute(
                    "DELETE FROM votes WHERE user_id = ? AND query_id IN (SELECT id FROM queries WHERE guild_id = ?)",
                    (user_id, guild_id),
                )
                votes = max(cur.rowcount, 0)
                await cur.close()
                cur = await self._conn.execute(
                    "DELETE FROM queries WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
                )
                queries = max(cur.rowcount, 0)
                await cur.close()
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
        return queries, votes


def _check_setting(key: str, value: Any) -> Any:
    """Validate one guild setting value (None restores the global default where allowed)."""
    if key in ("ephemeral", "use_threads"):
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be a bool")
        return value
    if value is None:
        return None
    if key == "rate_limit_count":
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError("rate_limit_count must be a positive int")
        return value
    if key == "rate_limit_seconds":
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError("rate_limit_seconds must be a positive number")
        return float(value)
    if key == "retention_days":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError("retention_days must be an int >= 0")
        return value
    raise ValueError(f"unknown guild setting: {key}")
