"""Every process swaps to the index another process saved: the watch over the file, and the swap in the bot."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import threading
from pathlib import Path

import pytest

from bot.app import INDEX_OPTIONS, corpus_source, engine_for, index_dir
from bot.chat.index_watch import IndexWatcher, file_stamp
from bot.chat.reindexing import ReindexInProgress
from bot.config import Settings
from bot.search.index_file import index_file, open_index
from bot.storage import Storage
from tests.conftest import SEEDS
from tests.helpers import eventually, make_bot

LOTUS = (
    "Les noix de lotus de Xiangtan en ligne\n\n"
    "La coopérative de Xiangtan vend ses noix de lotus séchées sur internet depuis 2019.\n"
)


def replace_file(path: Path, content: bytes) -> None:
    """Write a new version of a file as a save does: a new file renamed over the old one."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


class Reloads:
    """A `reload` that counts its calls and raises what it is told to."""

    def __init__(self) -> None:
        self.calls = 0
        self.error: BaseException | None = None

    async def __call__(self) -> None:
        self.calls += 1
        if self.error is not None:
            raise self.error


async def test_reload_runs_once_per_new_version_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "corpus.index.npz"
    reloads = Reloads()
    watcher = IndexWatcher(path, reloads)
    assert file_stamp(path) is None
    assert await watcher.check() is False and reloads.calls == 0  # no file yet
    replace_file(path, b"v1")
    assert await watcher.check() is True and reloads.calls == 1
    assert await watcher.check() is False and reloads.calls == 1
    replace_file(path, b"v2")
    assert await watcher.check() is True and reloads.calls == 2


async def test_a_busy_process_tries_again_and_a_failed_load_waits_for_the_next_version(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "corpus.index.npz"
    replace_file(path, b"v1")
    reloads = Reloads()
    watcher = IndexWatcher(path, reloads)
    reloads.error = ReindexInProgress()
    assert await watcher.check() is False
    reloads.error = ValueError("fichier tronqué")
    assert await watcher.check() is False and reloads.calls == 2  # tried again: this process was busy
    assert "l'index actuel reste en service" in caplog.text
    assert await watcher.check() is False and reloads.calls == 2  # the same broken file is not read again
    reloads.error = None
    replace_file(path, b"v2")
    assert await watcher.check() is True and reloads.calls == 3


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings over a copy of the seed corpus, the database (and the saved index) in a temporary folder."""
    shutil.copytree(SEEDS, tmp_path / "corpus")
    return Settings(corpus_path=tmp_path / "corpus", database_path=tmp_path / "data" / "bot.sqlite3")


async def test_the_bot_swaps_to_the_index_another_process_saved(settings: Settings, storage: Storage) -> None:
    engine = engine_for(settings)  # builds and saves the index, as the first process to start does
    bot = make_bot(storage, engine, settings=settings)
    assert await bot.index_watcher.check() is True and bot.engine is engine  # its own index: nothing to load

    (settings.corpus_path / "005_lotus.txt").write_text(LOTUS, encoding="utf-8")
    open_index(corpus_source(settings), INDEX_OPTIONS, index_dir(settings), rebuild=True)  # another process re-indexes
    assert await bot.index_watcher.check() is True
    assert bot.engine is not engine and bot.engine.document_count == engine.document_count + 1
    answer = await bot.answerer.answer("Que vend la coopérative de Xiangtan sur internet ?")
    assert answer.found and "noix de lotus séchées" in " ".join(answer.sentences)
    swapped = bot.engine
    assert await bot.index_watcher.check() is False and bot.engine is swapped


async def test_a_saved_index_of_another_corpus_than_the_one_on_disk_is_not_loaded(
    settings: Settings, storage: Storage
) -> None:
    engine = engine_for(settings)
    bot = make_bot(storage, engine, settings=settings)
    await bot.index_watcher.check()
    # The corpus changed on disk, but the saved index was rewritten for the old one (nobody re-indexed it).
    saved = index_file(index_dir(settings), settings.corpus_path)
    content = saved.read_bytes()
    (settings.corpus_path / "005_lotus.txt").write_text(LOTUS, encoding="utf-8")
    replace_file(saved, content)
    assert await bot.index_watcher.check() is False
    assert bot.engine is engine


async def test_the_watch_waits_while_this_process_reindexes(
    settings: Settings, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    engine = engine_for(settings)
    bot = make_bot(storage, engine, settings=settings)
    (settings.corpus_path / "005_lotus.txt").write_text(LOTUS, encoding="utf-8")
    open_index(corpus_source(settings), INDEX_OPTIONS, index_dir(settings), rebuild=True)
    release = threading.Event()
    rebuilding = asyncio.create_task(bot.reindexer.run(lambda: release.wait(5)))  # a rebuild of this process
    await eventually(lambda: bot.reindexer.running)
    assert await bot.index_watcher.check() is False
    release.set()
    await rebuilding
    assert bot.engine is engine
    assert await bot.index_watcher.check() is True and bot.engine.document_count == engine.document_count + 1
    assert "index enregistré par un autre processus chargé" in caplog.text
