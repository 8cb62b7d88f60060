"""Deleting questions: purge, retention (one failing step never stops the others), forgetting a user."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.storage import Storage
from tests.storage.backends import Backend
from tests.storage.factories import GUILD_A, GUILD_B, NOW, rec


async def test_purge_deletes_old_rows_and_their_votes(store: Storage, backend: Backend) -> None:
    old = await store.log_query(rec("vieux", created_at=NOW - timedelta(days=40)))
    recent = await store.log_query(rec("récent", created_at=NOW - timedelta(days=5)))
    old_b = await store.log_query(rec("vieux B", guild_id=GUILD_B, created_at=NOW - timedelta(days=40)))
    for qid, guild in ((old, GUILD_A), (recent, GUILD_A), (old_b, GUILD_B)):
        await store.record_vote(qid or -1, guild, 9, 1)
    assert await backend.count("votes") == 3

    assert await store.purge(GUILD_A, 30, now=NOW) == 1
    assert await store.get_query(old or -1) is None
    assert await store.get_query(recent or -1) is not None
    assert await store.get_query(old_b or -1) is not None  # other server untouched
    assert await backend.count("votes") == 2
    assert await store.purge(GUILD_A, 0, now=NOW) == 1  # 0 days: everything up to now
    assert await store.count_history(GUILD_A) == 0
    assert await store.count_history(GUILD_B) == 1
    with pytest.raises(ValueError):
        await store.purge(GUILD_A, -1)


async def test_apply_retention(store: Storage, backend: Backend) -> None:
    ages = (2, 20, 60, 400)
    for guild in (GUILD_A, GUILD_B, 333, None):
        for days in ages:
            qid = await store.log_query(rec(f"{guild}-{days}", guild_id=guild, created_at=NOW - timedelta(days=days)))
            await store.record_vote(qid or -1, guild, 9, 1)
    await store.update_guild_settings(GUILD_A, retention_days=10)  # own, shorter
    await store.update_guild_settings(GUILD_B, retention_days=0)  # keep forever
    await store.update_guild_settings(333, ephemeral=True)  # no own retention: default

    assert await store.apply_retention(90, now=NOW) == 3 + 0 + 1 + 1
    assert await store.count_history(GUILD_A) == 1
    assert await store.count_history(GUILD_B) == 4
    assert await store.count_history(333) == 3
    assert await backend.count("votes") == 16 - 5
    # Default 0 keeps everything not covered by a server's own retention.
    assert await store.apply_retention(0, now=NOW) == 0


async def test_forget_user(store: Storage, backend: Backend) -> None:
    mine = [await store.log_query(rec(f"q{i}", user_id=7)) for i in range(3)]
    other = await store.log_query(rec("autre", user_id=8))
    mine_b = await store.log_query(rec("sur B", guild_id=GUILD_B, user_id=7))
    await store.record_vote(mine[0] or -1, GUILD_A, 8, 1)  # someone's vote on my question
    await store.record_vote(other or -1, GUILD_A, 7, -1)  # my vote on someone's question
    await store.record_vote(mine[1] or -1, GUILD_A, 7, 1)  # my vote on my question
    await store.record_vote(mine_b or -1, GUILD_B, 7, 1)  # my vote on server B

    assert await store.forget_user(GUILD_A, 7) == (3, 2)
    assert await store.count_history(GUILD_A, user_id=7) == 0
    assert await store.count_history(GUILD_A, user_id=8) == 1
    row = await store.get_query(other or -1)
    assert row is not None and row.downvotes == 0
    assert await store.count_history(GUILD_B, user_id=7) == 1  # other server untouched
    assert await backend.count("votes") == 1  # only the vote on server B remains
    assert await store.forget_user(GUILD_A, 7) == (0, 0)


async def test_retention_of_one_server_failing_does_not_stop_the_others(
    store: Storage, backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """A retention no date can reach (2**63 - 1 days: OverflowError) on the first server processed."""
    for guild in (GUILD_A, GUILD_B, None):
        for days in (5, 40):
            await store.log_query(rec(f"{guild}-{days}", guild_id=guild, created_at=NOW - timedelta(days=days)))
    await store.update_guild_settings(GUILD_B, retention_days=10)
    await backend.sql(
        f"INSERT INTO guild_settings (guild_id, retention_days, updated_at) VALUES ({GUILD_A}, {2**63 - 1}, 'x')"
    )

    with caplog.at_level(logging.WARNING, logger="bot.storage"):
        assert await store.apply_retention(30, now=NOW) == 2  # B's old row, and the old row without a server
    assert await store.count_history(GUILD_A) == 2  # kept: its retention could not be applied
    assert [r.question for r in await store.history(GUILD_B)] == [f"{GUILD_B}-5"]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and messages[0].startswith(f"rétention du serveur {GUILD_A} (")
    assert "les autres serveurs sont traités quand même" in messages[0]


async def test_database_errors_in_retention_steps_do_not_stop_the_others(
    store: Storage, backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """The default retention and one server's both hit a database error; the next server is still cleaned."""
    for guild in (GUILD_B, 333, 444, None):
        await store.log_query(rec(f"{guild}", guild_id=guild, created_at=NOW - timedelta(days=400)))
    await store.update_guild_settings(GUILD_B, retention_days=10)
    await store.update_guild_settings(444, retention_days=10)
    refused = f"old.guild_id IS NULL OR old.guild_id = {GUILD_B}"
    if backend.kind == "sqlite":
        await backend.sql(
            f"CREATE TRIGGER refuse_delete BEFORE DELETE ON queries WHEN {refused} "
            "BEGIN SELECT RAISE(ABORT, 'suppression refusée'); END"
        )
    else:
        await backend.sql(
            "CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'suppression refusée'; END $$"
        )
        await backend.sql(
            f"CREATE TRIGGER refuse_delete BEFORE DELETE ON queries FOR EACH ROW WHEN ({refused}) "
            "EXECUTE FUNCTION refuse_delete()"
        )

    with caplog.at_level(logging.WARNING, logger="bot.storage"):
        assert await store.apply_retention(90, now=NOW) == 1
    assert await store.count_history(444) == 0
    assert await store.count_history(GUILD_B) == 1 and await store.count_history(333) == 1
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith("rétention : la durée par défaut (90 jours) n'a pas pu être appliquée (")
    assert messages[1].startswith(f"rétention du serveur {GUILD_B} (10 jours) : échec (suppression refusée)")
