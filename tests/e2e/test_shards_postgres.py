"""The bot as two processes, each running two of four Discord shards, logging into one PostgreSQL server.

Each process has a data folder of its own, as on two machines: they share the database and the corpus's
content, never an index file. The tests run in order on the same processes: answering on every shard, a
re-indexing announced by one process and rebuilt by the other, a killed process, and one that takes over its
shards and counts the rows the killed one logged. In CI (CI=true) a PostgreSQL that cannot start fails them.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from bot.app import INDEX_DIR_NAME
from tests.conftest import SEEDS
from tests.e2e.sharding import (
    ANSWER_PART,
    FIRST,
    LOTUS_ANSWER,
    LOTUS_QUESTION,
    QUESTION,
    SECOND,
    SHARD_COUNT,
    InGuilds,
    guild_per_shard,
    query_id,
    start_both,
)
from tests.stand_in import BotProcess, FakeDiscord, FakeGuild, message_text
from tests.storage.pg_server import PgServer, start_server_for_tests

pytestmark = pytest.mark.asyncio(loop_scope="module")

ANNOUNCED = "index annoncé par un autre processus en service"


@dataclass
class PgCluster(InGuilds):
    """The stand-in, one guild per shard, a PostgreSQL server, and the bot processes serving them."""

    fake: FakeDiscord
    url: str
    corpus: Path
    root: Path
    guilds: list[FakeGuild]  # guilds[n] is on shard n
    processes: list[BotProcess] = field(default_factory=list)

    def data_folder(self, name: str) -> Path:
        """A process's own data folder (its index), as on a machine of its own."""
        return self.root / name

    def process(self, name: str, shards: tuple[int, ...]) -> BotProcess:
        """A bot process running `shards` of SHARD_COUNT, its data in `name`, its log in PostgreSQL."""
        env = {"BOT_CORPUS": str(self.corpus), "BOT_RATE_LIMIT": "1000", "BOT_DATABASE_URL": self.url}
        args = ["--shards", ",".join(map(str, shards)), "--shard-count", str(SHARD_COUNT)]
        return BotProcess(self.fake, database=self.data_folder(name) / "questions.sqlite3", env=env, args=args)

    async def rows(self, sql: str, *params: Any) -> list[asyncpg.Record]:
        """Read the log on a connection of the test's own."""
        conn = await asyncpg.connect(self.url)
        try:
            return list(await conn.fetch(sql, *params))
        finally:
            await conn.close()


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PgServer]:
    server = start_server_for_tests()
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory, pg_server: PgServer) -> AsyncIterator[PgCluster]:
    root = tmp_path_factory.mktemp("e2e-shards-pg")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    fake = FakeDiscord()
    guilds = guild_per_shard(fake)
    await fake.start()
    cluster = PgCluster(fake, pg_server.url(), corpus, root, guilds)
    try:
        cluster.processes = [cluster.process("a", FIRST), cluster.process("b", SECOND)]
        await start_both(cluster.processes)
        yield cluster
    finally:
        for process in cluster.processes:
            await process.stop()
        await fake.close()


async def test_questions_on_every_shard_are_answered_once_and_logged_once_in_postgresql(cluster: PgCluster) -> None:
    fake = cluster.fake
    assert sorted(p["shard"] for p in fake.recorder.identify_payloads) == [[n, SHARD_COUNT] for n in range(4)]
    questions = [(guild, f"{QUESTION} ({n})") for guild in cluster.guilds for n in range(3)]
    asked = await asyncio.gather(*(cluster.ask(guild, "camille", text) for guild, text in questions))
    for (guild, text), (inter, answer) in zip(questions, asked, strict=True):
        assert ANSWER_PART in message_text(answer)
        assert len(inter.messages()) == 1, "answered once, by one process"
        delivered = [f for f in fake.recorder.events_sent("INTERACTION_CREATE") if f.data["id"] == str(inter.id)]
        assert [f.shard for f in delivered] == [(cluster.guilds.index(guild), SHARD_COUNT)]
        rows = await cluster.rows("SELECT id FROM queries WHERE guild_id = $1 AND question = $2", guild.id, text)
        assert [r["id"] for r in rows] == [query_id(answer)]
    for guild in cluster.guilds:
        assert "Sur la période : 3" in await cluster.moderate(guild, "admin stats")


async def test_a_reindexing_reaches_the_process_of_another_machine_which_rebuilds_its_own_index(
    cluster: PgCluster,
) -> None:
    first, second = cluster.processes
    (saved,) = (cluster.data_folder("b") / INDEX_DIR_NAME).glob("*.index.npz")
    before = saved.read_bytes()
    (cluster.corpus / "005_lotus.txt").write_text(
        "Les noix de lotus de Xiangtan en ligne\n\n"
        "La coopérative de Xiangtan vend ses noix de lotus séchées sur internet depuis 2019. "
        "Ses ventes en ligne ont triplé en deux ans.\n",
        encoding="utf-8",
    )
    reply = await cluster.moderate(cluster.guilds[0], "admin reindexer", timeout=60)
    assert "Corpus rechargé" in reply and "6 documents" in reply
    await cluster.fake.wait_until(
        lambda: any(ANNOUNCED in line and "6 documents" in line for line in second.log_lines),
        timeout=60,
        what="the second process to serve the announced index",
    )
    assert saved.read_bytes() != before, "no index file is shared: the second process saved the one it rebuilt"
    assert not any(ANNOUNCED in line for line in first.log_lines), "the announcing process already serves it"
    answers = await asyncio.gather(*(cluster.ask(guild, "malo", LOTUS_QUESTION) for guild in cluster.guilds))
    assert all(LOTUS_ANSWER in message_text(answer) for _, answer in answers)


async def test_a_killed_process_loses_no_acknowledged_row_and_the_other_keeps_answering(cluster: PgCluster) -> None:
    first, second = cluster.processes
    asked = await asyncio.gather(*(cluster.ask(guild, "malo", f"{QUESTION} (avant)") for guild in cluster.guilds))
    acknowledged = {query_id(answer) for _, answer in asked}
    assert await first.kill() == -9

    rows = await cluster.rows("SELECT id FROM queries WHERE id = ANY($1::bigint[])", list(acknowledged))
    assert {r["id"] for r in rows} == acknowledged
    for guild in cluster.guilds[2:]:
        _, answer = await cluster.ask(guild, "camille", f"{QUESTION} (après)")
        assert ANSWER_PART in message_text(answer)
        rows = await cluster.rows("SELECT id FROM queries WHERE guild_id = $1 AND question LIKE '%(après)'", guild.id)
        assert [r["id"] for r in rows] == [query_id(answer)]
    assert second.proc is not None and second.proc.returncode is None


async def test_the_process_taking_over_counts_the_rows_the_killed_one_logged(cluster: PgCluster) -> None:
    replacement = cluster.process("c", FIRST)  # a new machine: no index yet, built from the corpus
    cluster.processes.append(replacement)
    await replacement.start()
    await replacement.wait_ready(shards=FIRST, timeout=90)
    guild = cluster.guilds[0]
    logged = (await cluster.rows("SELECT COUNT(*) AS n FROM queries WHERE guild_id = $1", guild.id))[0]["n"]
    assert logged == 5, "three questions, the lotus one and one before the kill, all logged by the killed process"
    assert f"Sur la période : {logged}" in await cluster.moderate(guild, "admin stats")
    _, answer = await cluster.ask(guild, "camille", LOTUS_QUESTION)
    assert LOTUS_ANSWER in message_text(answer)


async def test_the_token_never_reaches_a_log(cluster: PgCluster) -> None:
    token = cluster.fake.token
    for process in cluster.processes:
        assert process.log_lines
        assert token not in process.log and token.split(".")[-1] not in process.log
