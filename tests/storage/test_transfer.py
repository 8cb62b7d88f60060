"""`python -m bot migrate-log`: a SQLite log copied into PostgreSQL, ids kept, a second copy refused."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.search.corpus import Document
from bot.storage import GuildSettings, Storage
from tests.storage.backends import Backend
from tests.storage.factories import GUILD_A, GUILD_B, NOW, make_v1_file, rec


async def migrate(*argv: str) -> int:
    """The command as an operator runs it (it starts its own event loop, hence the thread)."""
    return await asyncio.to_thread(main, ["migrate-log", *argv])


async def fill(path: Path) -> list[int]:
    """A SQLite log with questions on two servers, votes, settings and channels; the ids still present."""
    async with await Storage.open(path) as log:
        ids = [
            await log.log_query(rec(f"q{i}", guild_id=(GUILD_A, GUILD_B, None)[i % 3], created_at=NOW + timedelta(i)))
            for i in range(9)
        ]
        await log.log_query(rec("erreur", guild_id=GUILD_B, error="panne", found=False, sources=[]))
        await log.log_query(rec("la plus récente, puis purgée", created_at=NOW + timedelta(days=30)))
        await log.purge(GUILD_A, 0, now=NOW + timedelta(days=31))  # the last id issued (11) must never come back
        await log.record_vote(ids[1] or -1, GUILD_B, 7, 1)
        await log.record_vote(ids[1] or -1, GUILD_B, 8, -1)
        await log.record_vote(ids[2] or -1, None, 7, 1)
        await log.update_guild_settings(GUILD_A, retention_days=30, rate_limit_seconds=12.5)
        await log.update_guild_settings(GUILD_B, ephemeral=True, use_threads=True, rate_limit_count=2)
        await log.add_channel(GUILD_A, 10)
        await log.add_channel(GUILD_A, 11)
        await log.add_documents(GUILD_B, [Document("charte", ("Le club ouvre à 9 h.",), "Charte")], 7, "fichier:c.txt")
        return [qid for (qid,) in await Backend("sqlite", path).sql("SELECT id FROM queries ORDER BY id")]


async def test_the_whole_log_is_copied_with_its_ids(
    pg: Backend, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = await fill(db_path)
    assert await migrate("--database", str(db_path), "--to", pg.url or "") == 0
    out = capsys.readouterr().out
    assert "7 questions, 3 votes, 2 réglages de serveur, 2 salons autorisés, 1 documents des serveurs" in out

    async with await Storage.open(db_path) as old, await pg.open() as new:
        for guild in (GUILD_A, GUILD_B):
            assert await new.history(guild, limit=100) == await old.history(guild, limit=100)
            assert await new.export_csv(guild) == await old.export_csv(guild)
            assert await new.stats(guild, now=NOW) == await old.stats(guild, now=NOW)
            assert await new.read_guild_settings(guild) == await old.read_guild_settings(guild)
            assert await new.list_channels(guild) == await old.list_channels(guild)
            assert await new.guild_documents(guild) == await old.guild_documents(guild)
            assert await new.list_documents(guild) == await old.list_documents(guild)
        for qid in kept:
            assert await new.get_query(qid) == await old.get_query(qid)  # questions without a server too
        assert await new.read_guild_settings(GUILD_B) == GuildSettings(GUILD_B, True, True, 2, None, None)
        # An old feedback button still votes on its question; new questions get ids never used before.
        assert await new.record_vote(2, GUILD_B, 9, 1)
        assert (await new.get_query(2)).upvotes == 2  # type: ignore[union-attr]
        assert max(kept) == 10
        assert await new.log_query(rec("après la copie")) == 12
        assert await new.add_documents(GUILD_B, [Document("neuf", ("Texte.",))], 7, "fichier:neuf.txt") == [2]


async def test_a_second_copy_is_refused_and_changes_nothing(
    pg: Backend, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await fill(db_path)
    assert await migrate("--database", str(db_path), "--to", pg.url or "") == 0
    capsys.readouterr()
    assert await migrate("--database", str(db_path), "--to", pg.url or "") == 1
    err = capsys.readouterr().err
    assert "la base cible contient déjà des données (tables queries, votes, guild_settings, channels, documents)" in err
    assert "rien n'a été copié" in err
    assert await pg.count("queries") == 7 and await pg.count("votes") == 3


async def test_an_old_file_is_upgraded_then_copied(pg: Backend, db_path: Path) -> None:
    make_v1_file(db_path)
    assert await migrate("--database", str(db_path), "--to", pg.url or "") == 0
    async with await pg.open() as new:
        row = await new.get_query(1)
        assert row is not None and row.question == "Où se trouve la mairie ?" and row.upvotes == 1
        assert await new.log_query(rec()) == 3


async def test_bad_target_or_missing_file_are_explained_in_french(
    pg: Backend, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await migrate("--database", str(db_path), "--to", pg.url or "") == 1
    assert "journal SQLite introuvable ; rien à copier" in capsys.readouterr().err
    assert not db_path.exists()  # nothing created on the way
    await fill(db_path)
    assert await migrate("--database", str(db_path), "--to", "mysql://h/bot") == 2
    assert "doit être une adresse PostgreSQL" in capsys.readouterr().err
    assert await migrate("--database", str(db_path), "--to", "postgresql://bot:secret@127.0.0.1:1/bot") == 1
    err = capsys.readouterr().err
    assert "Copie du journal impossible" in err and "secret" not in err
