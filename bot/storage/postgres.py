"""The query log in PostgreSQL through an asyncpg pool, for several bot processes sharing one log.

Chosen by `database.url` (`BOT_DATABASE_URL`). The schema version lives in a one-row `schema_version` table;
migrations and the retention take advisory locks, so several processes opening or cleaning the same
database at once do each step once. Processes tell each other news with NOTIFY, heard by a `Listener`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import socket
import zlib
from collections.abc import AsyncIterator, Sequence

import asyncpg

from bot.storage.connection import CHUNK, Database, Listening, Params, Receive, Row, Transaction
from bot.storage.database_url import DatabaseUrl
from bot.storage.records import to_db_time, utc_now
from bot.storage.schema import MIGRATIONS, StorageError, check_version

logger = logging.getLogger("bot.storage")

POOL_SIZE = 4  # connections per process: answers, votes and moderator commands rarely overlap more
CONNECT_TIMEOUT = 10.0  # seconds to reach the server when opening
CLOSE_TIMEOUT = 10.0  # seconds for queries still running when closing, then connections are cut
RELISTEN_SECONDS = 5.0  # wait before connecting again when the listening connection is lost
CONNECT_ERRORS = (OSError, ValueError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
_PLACEHOLDER = re.compile(r"\?")


def connect_failure(address: DatabaseUrl, exc: BaseException) -> str:
    """Why the server at `address` could not be reached, in French, naming it without its password."""
    hosts = ", ".join(host or "l'hôte par défaut" for host, _ in address.hosts)
    if isinstance(exc, socket.gaierror):
        reason = f"hôte introuvable ({hosts})"
    elif isinstance(exc, ConnectionRefusedError):
        reason = "aucun serveur PostgreSQL n'écoute à cette adresse (hôte et port à vérifier)"
    elif isinstance(exc, TimeoutError):
        reason = f"pas de réponse en {CONNECT_TIMEOUT:.0f} s"
    elif isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError):
        reason = "utilisateur ou mot de passe refusé"
    elif isinstance(exc, asyncpg.PostgresError | OSError):
        reason = f"{type(exc).__name__} : {exc}"
    else:  # the driver's own complaints may quote the address: name the kind only
        reason = type(exc).__name__
    return f"{address.shown()} : connexion à PostgreSQL impossible ({reason})"


@functools.lru_cache(maxsize=256)
def numbered(sql: str) -> str:
    """The shared SQL with PostgreSQL's numbered placeholders ($1, $2…) for its `?` (none sits in a literal)."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


def lock_key(name: str) -> int:
    """The advisory lock number of a job, the same in every process."""
    return zlib.crc32(f"bot-questions:{name}".encode())


def _changed(status: str) -> int:
    """Rows changed, from a command status such as "INSERT 0 1" or "DELETE 3"."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresTransaction(Transaction):
    """Statements on one pooled connection inside a transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        return _changed(await self._conn.execute(numbered(sql), *params))

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        await self._conn.executemany(numbered(sql), rows)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._conn.fetch(numbered(sql), *params))

    async def lock(self, name: str) -> None:
        """A transaction-scoped advisory lock, released at commit or rollback."""
        await self._conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(name))


class PostgresDatabase(Database):
    """A pool of connections to one PostgreSQL database; open with `await PostgresDatabase.open(url)`."""

    dialect = "postgresql"
    null_safe_equal = "IS NOT DISTINCT FROM"
    first_source_sql = "(q.sources::jsonb -> 0 ->> 0)"

    def __init__(self, pool: asyncpg.Pool, address: DatabaseUrl) -> None:
        super().__init__(address.shown())
        self.pool = pool
        self._address = address
        self._closed = False

    @classmethod
    async def open(cls, address: DatabaseUrl, *, busy_timeout: float, read_only: bool) -> PostgresDatabase:
        """Connect and migrate to the latest schema (`read_only`: no migration, it must be current).

        `busy_timeout` (seconds) bounds how long a statement waits for a lock another process holds.
        Raises StorageError (French) when the server cannot be reached or the schema cannot be used.
        """
        settings = {"lock_timeout": str(max(1, int(busy_timeout * 1000))), "application_name": "bot-questions"}
        if read_only:
            settings["default_transaction_read_only"] = "on"
        try:
            pool = await asyncpg.create_pool(
                address.dsn(), min_size=1, max_size=POOL_SIZE, timeout=CONNECT_TIMEOUT, server_settings=settings
            )
        except CONNECT_ERRORS as exc:
            raise StorageError(connect_failure(address, exc)) from None
        database = cls(pool, address)
        try:
            if read_only:
                check_version(database.where, await database.schema_version(), read_only=True)
            else:
                await database.migrate()
        except BaseException:
            await database.close()
            raise
        return database

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.shield(self._close_pool())

    async def _close_pool(self) -> None:
        try:
            await asyncio.wait_for(self.pool.close(), CLOSE_TIMEOUT)
        except TimeoutError:
            self.pool.terminate()

    async def schema_version(self) -> int:
        """The version in `schema_version` (0 when the table does not exist yet)."""
        async with self.pool.acquire() as conn:
            return await _read_version(conn)

    async def migrate(self) -> None:
        """Apply every migration newer than the database's version, each in its own transaction.

        Each step holds a transaction-scoped advisory lock and re-reads the version, so processes
        starting together apply it once.
        """
        async with self.pool.acquire() as conn:
            current = await _read_version(conn)
            check_version(self.where, current)
            for step in MIGRATIONS:
                if step.version <= current:
                    continue
                async with conn.transaction():
                    await conn.execute("SET LOCAL lock_timeout = 0")  # wait for another process's migration
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key("migrate"))
                    await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                    current = await _read_version(conn)
                    check_version(self.where, current)
                    if current >= step.version:
                        continue
                    for statement in step.postgresql:
                        await conn.execute(statement)
                    await conn.execute("DELETE FROM schema_version")
                    await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", step.version)
                logger.info(
                    "base de données %s : schéma mis à jour en version %d (%s)",
                    self.where,
                    step.version,
                    step.description,
                )

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self.pool.acquire() as conn:
            return _changed(await conn.execute(numbered(sql), *params))

    async def insert(self, sql: str, params: Params = ()) -> int | None:
        async with self.pool.acquire() as conn:
            return await conn.fetchval(numbered(sql) + " RETURNING id", *params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.pool.acquire() as conn:
            return list(await conn.fetch(numbered(sql), *params))

    async def batches(self, sql: str, params: Params = (), size: int = CHUNK) -> AsyncIterator[list[Row]]:
        async with self.pool.acquire() as conn, conn.transaction():  # a server-side cursor lives in a transaction
            cursor = await conn.cursor(numbered(sql), *params)
            while rows := await cursor.fetch(size):
                yield list(rows)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield PostgresTransaction(conn)

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """Holds `pg_try_advisory_lock` on a connection of its own for the block; False when another has it."""
        key = lock_key(name)
        async with self.pool.acquire() as conn:
            granted = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
            try:
                yield granted
            finally:
                if granted:
                    await conn.execute("SELECT pg_advisory_unlock($1)", key)

    async def publish(self, channel: str, payload: str) -> bool:
        """NOTIFY `channel` with `payload`: every connection listening on it, this process's included, hears it.
        The payload is kept as the channel's latest, for a listener that was reconnecting at that moment."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO notices (channel, payload, published_at) VALUES ($1, $2, $3) ON CONFLICT (channel) "
                "DO UPDATE SET payload = excluded.payload, published_at = excluded.published_at",
                channel,
                payload,
                to_db_time(utc_now()),
            )
            await conn.execute("SELECT pg_notify($1, $2)", channel, payload)
        return True

    async def listen(self, channel: str, receive: Receive) -> Listening:
        """LISTEN on `channel` on a connection of its own (a pooled one would drop it when handed back)."""
        listener = Listener(self._address, channel, receive)
        await listener.start()
        return listener

    async def advance_ids(self, table: str, at_least: int) -> None:
        """Make the next id of `table` (queries, documents) greater than `at_least` and than every id present
        (after a copy)."""
        if table not in ("queries", "documents"):  # a table name cannot be a parameter: only these two
            raise ValueError(f"no id sequence to advance in {table}")
        async with self.pool.acquire() as conn:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST(last, 1), last > 0) "
                f"FROM (SELECT GREATEST($1::bigint, COALESCE(MAX(id), 0)) AS last FROM {table}) AS ids",
                at_least,
            )


class Listener(Listening):
    """LISTENs on one channel on its own connection, and connects again when the server drops it.

    PostgreSQL keeps no notice for an absent listener: once connected again, it hands on the channel's latest
    payload as `publish` stored it, so a notice sent while it was away is not lost (it may be heard twice).
    """

    def __init__(self, address: DatabaseUrl, channel: str, receive: Receive) -> None:
        self._address = address
        self.channel = channel
        self._receive = receive
        self._last: str | None = None
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def _deliver(self, payload: str) -> None:
        """Hand a notice on, once: after a reconnection the same notice can come both from the catch-up read of
        `notices` and from the listener, and a repeated notice says nothing new (it names the current index)."""
        if payload != self._last:
            self._last = payload
            self._receive(payload)

    async def start(self) -> None:
        """Listen from now on (raises StorageError when the first connection fails), then in the background."""
        try:
            conn = await self._connect()
        except CONNECT_ERRORS as exc:
            raise StorageError(f"écoute de {self.channel} impossible : {connect_failure(self._address, exc)}") from None
        self._task = asyncio.create_task(self._keep(conn), name=f"listen-{self.channel}")

    async def _connect(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(self._address.dsn(), timeout=CONNECT_TIMEOUT)
        await conn.add_listener(self.channel, lambda _conn, _pid, _channel, payload: self._deliver(payload))
        self.connected.set()
        return conn

    async def _keep(self, conn: asyncpg.Connection) -> None:
        """Wait until the connection is lost, then connect again every `RELISTEN_SECONDS` until it works."""
        try:
            while True:
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, event=lost: event.set())
                if not conn.is_closed():
                    await lost.wait()
                self.connected.clear()
                logger.warning("écoute de %s interrompue : reconnexion à %s", self.channel, self._address.shown())
                while True:
                    await asyncio.sleep(RELISTEN_SECONDS)
                    try:
                        conn = await self._connect()
                        latest = await conn.fetchval("SELECT payload FROM notices WHERE channel = $1", self.channel)
                        break
                    except CONNECT_ERRORS as exc:
                        logger.warning(
                            "écoute de %s : reconnexion impossible (%s)",
                            self.channel,
                            connect_failure(self._address, exc),
                        )
                if latest is not None:
                    self._deliver(latest)
        finally:
            if not conn.is_closed():
                await asyncio.shield(conn.close(timeout=CLOSE_TIMEOUT))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


async def _read_version(conn: asyncpg.Connection) -> int:
    if await conn.fetchval("SELECT to_regclass('schema_version')") is None:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))
