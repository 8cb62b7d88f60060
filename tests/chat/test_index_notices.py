"""Following the indexes other processes announce: one at a time, the latest first, again while re-indexing."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import pytest

from bot.app import engine_for
from bot.chat.bot import engine_key
from bot.chat.index_watch import IndexNotices
from bot.chat.reindexing import ReindexInProgress
from bot.config import Settings
from bot.storage import Storage
from tests.conftest import SEEDS
from tests.helpers import eventually, make_bot

LOTUS = (
    "Les noix de lotus de Xiangtan en ligne\n\n"
    "La coopérative de Xiangtan vend ses noix de lotus séchées sur internet depuis 2019.\n"
)


class Follows:
    """A `follow` that records its keys, can be held, and raises what it is told to once."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.release = asyncio.Event()
        self.release.set()
        self.error: BaseException | None = None

    async def __call__(self, key: str) -> None:
        self.keys.append(key)
        await self.release.wait()
        if self.error is not None:
            error, self.error = self.error, None
            raise error


async def test_keys_announced_while_one_is_followed_end_with_the_latest_only() -> None:
    follows = Follows()
    notices = IndexNotices(follows)
    follows.release.clear()
    notices.announce("k1")
    await eventually(lambda: follows.keys == ["k1"])
    notices.announce("k2")
    notices.announce("k3")
    follows.release.set()
    await eventually(lambda: follows.keys == ["k1", "k3"])
    await notices.close()


async def test_a_busy_process_follows_the_key_again_and_a_failure_does_not_stop_the_next_key() -> None:
    follows = Follows()
    notices = IndexNotices(follows, retry_seconds=0.01)
    follows.error = ReindexInProgress()
    notices.announce("k1")
    await eventually(lambda: follows.keys == ["k1", "k1"])
    follows.error = RuntimeError("corpus illisible")
    notices.announce("k2")
    await eventually(lambda: follows.keys == ["k1", "k1", "k2"])
    notices.announce("k3")
    await eventually(lambda: follows.keys == ["k1", "k1", "k2", "k3"])
    await notices.close()


def settings_in(folder: Path, corpus: Path) -> Settings:
    """Settings of a process whose data (and saved index) live in `folder`, as on a machine of its own."""
    return Settings(corpus_path=corpus, database_path=folder / "bot.sqlite3")


async def test_the_bot_serves_an_announced_index_rebuilding_it_when_its_own_folder_lacks_it(
    tmp_path: Path, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    corpus = Path(shutil.copytree(SEEDS, tmp_path / "corpus"))
    here, there = settings_in(tmp_path / "here", corpus), settings_in(tmp_path / "there", corpus)
    engine = engine_for(here)
    bot = make_bot(storage, engine, settings=here)
    assert await bot.follow_announced_index(engine_key(engine)) is None and bot.engine is engine

    (corpus / "005_lotus.txt").write_text(LOTUS, encoding="utf-8")
    announced = engine_for(there)  # another machine re-indexed into its own folder
    followed = await bot.follow_announced_index(engine_key(announced))
    assert followed is bot.engine and engine_key(followed) == engine_key(announced)
    assert followed.document_count == engine.document_count + 1
    assert engine_key(engine_for(here)) == engine_key(announced), "rebuilt and saved in this process's folder"
    assert "index annoncé par un autre processus en service" in caplog.text


async def test_an_announced_index_of_another_corpus_leaves_a_warning(
    tmp_path: Path, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = Path(shutil.copytree(SEEDS, tmp_path / "corpus"))
    engine = engine_for(settings_in(tmp_path / "here", corpus))
    bot = make_bot(storage, engine, settings=settings_in(tmp_path / "here", corpus))
    await bot.follow_announced_index("une-autre-clé")
    assert engine_key(bot.engine) == engine_key(engine)
    assert "différent de celui du corpus de cette machine" in caplog.text
