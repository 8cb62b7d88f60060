"""The bot as two processes, each running two of four Discord shards, on one SQLite database file.

One process gets its shards from `--shards`/`--shard-count`, the other from BOT_SHARDS/BOT_SHARD_COUNT.
The tests run in order on the same processes: answering on every shard, figures across processes,
a failed then a successful re-indexing seen by both, a killed process, and one that takes over its shards.
"""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from tests.stand_in import BotProcess, FakeDiscord, FakeGuild, message_text, read_db, snowflake_on_shard

pytestmark = pytest.mark.asyncio(loop_scope="module")

LOADED_FROM_ANOTHER = "index enregistré par un autre processus chargé"


@dataclass
class Cluster(InGuilds):
    """The stand-in, one guild per shard, and the bot processes serving them from one database."""

    fake: FakeDiscord
    database: Path
    corpus: Path
    guilds: list[FakeGuild]  # guilds[n] is on shard n
    processes: list[BotProcess] = field(default_factory=list)

    def rows(self, sql: str, *params: Any) -> list[Any]:
        return read_db(self.database, sql, *params)


def sharded(fake: FakeDiscord, database: Path, corpus: Path, shards: tuple[int, ...], *, by_env: bool) -> BotProcess:
    """A bot process running `shards` of SHARD_COUNT, told so by environment variables or by options."""
    env = {"BOT_CORPUS": str(corpus), "BOT_RATE_LIMIT": "1000"}
    ids = ",".join(map(str, shards))
    if by_env:
        return BotProcess(fake, database=database, env={**env, "BOT_SHARDS": ids, "BOT_SHARD_COUNT": str(SHARD_COUNT)})
    return BotProcess(fake, database=database, env=env, args=["--shards", ids, "--shard-count", str(SHARD_COUNT)])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    root = tmp_path_factory.mktemp("e2e-shards")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    database = root / "data" / "questions.sqlite3"
    fake = FakeDiscord()
    guilds = guild_per_shard(fake)
    await fake.start()
    cluster = Cluster(fake, database, corpus, guilds)
    try:
        # Started together: one builds the index while the other waits for it, then loads it.
        cluster.processes = [
            sharded(fake, database, corpus, FIRST, by_env=False),
            sharded(fake, database, corpus, SECOND, by_env=True),
        ]
        await start_both(cluster.processes)
        yield cluster
    finally:
        for process in cluster.processes:
            await process.stop()
        await fake.close()


async def test_each_process_runs_its_shards_and_every_question_is_answered_and_logged_once(cluster: Cluster) -> None:
    fake = cluster.fake
    assert sorted(p["shard"] for p in fake.recorder.identify_payloads) == [[n, SHARD_COUNT] for n in range(4)]
    for process, shards in zip(cluster.processes, (FIRST, SECOND), strict=True):
        connected = [line for line in process.log_lines if "connecté :" in line]
        assert sorted(line.split("shard ")[1].split()[0] for line in connected) == [f"{n}/4" for n in shards]
        assert next(line for line in process.log_lines if "connecté en tant que" in line).endswith(
            f"shards {shards[0]}/4, {shards[1]}/4"
        )

    asked = await asyncio.gather(*(cluster.ask(guild, "camille", QUESTION) for guild in cluster.guilds))
    for guild, (inter, answer) in zip(cluster.guilds, asked, strict=True):
        assert ANSWER_PART in message_text(answer)
        assert len(inter.messages()) == 1, "answered once, by one process"
        delivered = [f for f in fake.recorder.events_sent("INTERACTION_CREATE") if f.data["id"] == str(inter.id)]
        assert [f.shard for f in delivered] == [(cluster.guilds.index(guild), SHARD_COUNT)]
        rows = cluster.rows("SELECT id, question FROM queries WHERE guild_id = ?", guild.id)
        assert [(r["id"], r["question"]) for r in rows] == [(query_id(answer), QUESTION)]


async def test_both_processes_write_at_once_and_each_servers_figures_count_every_row(cluster: Cluster) -> None:
    questions = [(guild, f"{QUESTION} ({n})") for guild in cluster.guilds for n in range(5)]
    await asyncio.gather(*(cluster.ask(guild, "malo", text) for guild, text in questions))
    for guild in cluster.guilds:
        logged = cluster.rows("SELECT COUNT(*) AS n FROM queries WHERE guild_id = ?", guild.id)[0]["n"]
        assert logged == 6
        assert "Sur la période : 6" in await cluster.moderate(guild, "admin stats")


async def test_a_failed_reindexing_leaves_both_processes_on_the_old_index(cluster: Cluster) -> None:
    sources = cluster.corpus / "sources.toml"
    original = sources.read_text(encoding="utf-8")
    saved = list((cluster.database.parent / INDEX_DIR_NAME).glob("*.index.npz"))
    assert len(saved) == 1
    before = saved[0].stat().st_mtime_ns
    sources.write_text(original + "\n[[[ pas du TOML\n", encoding="utf-8")
    try:
        reply = await cluster.moderate(cluster.guilds[3], "admin reindexer")
    finally:
        sources.write_text(original, encoding="utf-8")
    assert "l'index précédent reste en service" in reply and "sources.toml" in reply
    assert saved[0].stat().st_mtime_ns == before
    for guild in (cluster.guilds[0], cluster.guilds[3]):
        _, answer = await cluster.ask(guild, "camille", QUESTION)
        assert ANSWER_PART in message_text(answer)
    assert not any(LOADED_FROM_ANOTHER in line for p in cluster.processes for line in p.log_lines)


async def test_reindexing_in_one_server_reaches_the_other_process(cluster: Cluster) -> None:
    (cluster.corpus / "005_lotus.txt").write_text(
        "Les noix de lotus de Xiangtan en ligne\n\n"
        "La coopérative de Xiangtan vend ses noix de lotus séchées sur internet depuis 2019. "
        "Ses ventes en ligne ont triplé en deux ans.\n",
        encoding="utf-8",
    )
    first, second = cluster.processes
    reply = await cluster.moderate(cluster.guilds[0], "admin reindexer", timeout=60)
    assert "Corpus rechargé" in reply and "6 documents" in reply
    # The other process notices the saved index and loads it; the one that built it does not load it twice.
    await cluster.fake.wait_until(
        lambda: any(LOADED_FROM_ANOTHER in line and "6 documents" in line for line in second.log_lines),
        timeout=30,
        what="the second process to load the new index",
    )
    assert not any(LOADED_FROM_ANOTHER in line for line in first.log_lines)
    answers = await asyncio.gather(*(cluster.ask(guild, "camille", LOTUS_QUESTION) for guild in cluster.guilds))
    assert all(LOTUS_ANSWER in message_text(answer) for _, answer in answers)


async def test_a_killed_process_loses_no_acknowledged_row_and_the_other_keeps_answering(cluster: Cluster) -> None:
    first, second = cluster.processes
    asked = await asyncio.gather(*(cluster.ask(guild, "malo", f"{QUESTION} (avant)") for guild in cluster.guilds))
    acknowledged = {query_id(answer) for _, answer in asked}
    assert await first.kill() == -9

    ids = ",".join(map(str, acknowledged))
    assert {r["id"] for r in cluster.rows(f"SELECT id FROM queries WHERE id IN ({ids})")} == acknowledged
    assert [r[0] for r in cluster.rows("PRAGMA integrity_check")] == ["ok"]
    for guild in cluster.guilds[2:]:
        _, answer = await cluster.ask(guild, "camille", f"{QUESTION} (après)")
        assert ANSWER_PART in message_text(answer)
        rows = cluster.rows("SELECT id FROM queries WHERE guild_id = ? AND question LIKE '%(après)'", guild.id)
        assert [r["id"] for r in rows] == [query_id(answer)]
    assert second.proc is not None and second.proc.returncode is None


async def test_a_process_taking_over_the_killed_ones_shards_serves_the_current_index_and_every_row(
    cluster: Cluster,
) -> None:
    (saved,) = (cluster.database.parent / INDEX_DIR_NAME).glob("*.index.npz")
    before = saved.stat().st_mtime_ns
    replacement = sharded(cluster.fake, cluster.database, cluster.corpus, FIRST, by_env=False)
    cluster.processes.append(replacement)
    await replacement.start()
    await replacement.wait_ready(shards=FIRST)
    assert saved.stat().st_mtime_ns == before, "it loads the saved index instead of building one"
    assert any("6 documents" in line for line in replacement.log_lines)

    guild = cluster.guilds[0]
    _, answer = await cluster.ask(guild, "camille", LOTUS_QUESTION)
    assert LOTUS_ANSWER in message_text(answer)
    # Every row of this server but the last was logged by the killed process: the figures, the history and the
    # export read them from the database, and /oubli erases them.
    logged = cluster.rows("SELECT COUNT(*) AS n FROM queries WHERE guild_id = ?", guild.id)[0]["n"]
    assert logged == 10
    assert f"Sur la période : {logged}" in await cluster.moderate(guild, "admin stats")
    assert f"{logged} questions" in await cluster.moderate(guild, "admin historique")
    export = await cluster.fake.slash(guild, guild.channel("général"), guild.member("modo"), "admin export")
    await cluster.fake.wait_answer(export)
    (upload,) = [r for r in cluster.fake.requests_to("webhook_followup") if export.token in r.path]
    assert len(list(csv.DictReader(io.StringIO(upload.files[0]["content"].decode("utf-8-sig"))))) == logged

    camille = guild.member("camille")
    hers = len(cluster.rows("SELECT id FROM queries WHERE guild_id = ? AND user_id = ?", guild.id, camille.id))
    assert hers == 4
    asked = await cluster.fake.slash(guild, guild.channel("général"), camille, "oubli")
    await cluster.fake.wait_acked(asked)
    buttons = [c for row in asked.ack_body["data"]["components"] for c in row["components"]]  # type: ignore[index]
    confirm_id = next(c["custom_id"] for c in buttons if c.get("label") == "Tout effacer")
    confirm = await cluster.fake.click(guild, camille, asked.original, confirm_id)  # type: ignore[arg-type]
    await cluster.fake.wait_acked(confirm)
    assert confirm.ack_body["data"]["content"].startswith(f"C'est fait : {hers} questions")  # type: ignore[index]
    assert cluster.rows("SELECT id FROM queries WHERE guild_id = ? AND user_id = ?", guild.id, camille.id) == []


async def test_the_token_never_reaches_a_log(cluster: Cluster) -> None:
    token = cluster.fake.token
    for process in cluster.processes:
        assert process.log_lines
        assert token not in process.log and token.split(".")[-1] not in process.log


async def test_without_shard_settings_one_process_runs_the_recommended_shards_at_the_configured_address(
    tmp_path: Path,
) -> None:
    fake = FakeDiscord(recommended_shards=2)
    fake.rest.advertised_gateway = "ws://127.0.0.1:9/gateway"  # nothing listens there: DISCORD_GATEWAY_URL must win
    guilds = [fake.add_guild(f"Serveur {n}", members=["camille"], guild_id=snowflake_on_shard(n, 2)) for n in (0, 1)]
    await fake.start()
    bot = BotProcess(fake, database=tmp_path / "questions.sqlite3")
    try:
        await bot.start()
        await bot.wait_ready()
        assert [r.status for r in fake.requests_to("gateway_bot")] == [200]
        assert sorted(p["shard"] for p in fake.recorder.identify_payloads) == [[0, 2], [1, 2]]
        for guild in guilds:
            inter = await fake.slash(
                guild, guild.channel("questions"), guild.member("camille"), "question", texte=QUESTION
            )
            assert ANSWER_PART in message_text(await fake.wait_answer(inter, timeout=30))
        assert any("shards 0/2, 1/2" in line for line in bot.log_lines)
    finally:
        await bot.stop()
        await fake.close()
