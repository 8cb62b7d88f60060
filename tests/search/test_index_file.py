"""The persisted index: same answers after a round trip; stale, truncated, damaged or foreign files are
rebuilt with a warning; a directory that cannot be written still serves; the `index` command; the
parallel build."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.cli import main
from bot.ingest.corpus import CorpusSource
from bot.search import index_file as store
from bot.search.corpus import CorpusError, make_document
from bot.search.engine import Engine
from bot.search.index import ARRAYS, FIELDS, PROGRESS_EVERY, IndexOptions, build_index
from bot.search.index_file import IndexFileError, index_file, index_key, load_index, open_index, save_index
from bot.search.vector_file import vector_file
from bot.text.answers import answer_text
from tests.conftest import REPO, SEEDS, dev_questions

OPTIONS = IndexOptions()
QUESTIONS = [q["q"] for q in dev_questions()] + ["aliexpress trafic italie", "Comment soigner un rhume ?"]


def same_answers(a: Engine, b: Engine) -> None:
    """Both engines answer every test question alike: text, confidence and sources."""
    for question in QUESTIONS:
        x, y = a.answer(question), b.answer(question)
        assert (answer_text(x), x.found, x.confidence) == (answer_text(y), y.found, y.confidence), question
        assert [(s.doc_id, s.score, s.passage, s.url) for s in x.sources] == [
            (s.doc_id, s.score, s.passage, s.url) for s in y.sources
        ]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the seed corpus."""
    return Path(shutil.copytree(SEEDS, tmp_path / "corpus"))


class Warnings(list[str]):
    def __call__(self, message: str) -> None:
        self.append(message)


def _open(corpus: Path, folder: Path, options: IndexOptions = OPTIONS) -> tuple[Engine, Warnings]:
    warnings = Warnings()
    return Engine(*open_index(CorpusSource(corpus), options, folder, warnings)), warnings


def _save(engine: Engine, path: Path) -> str:
    key = index_key(engine.corpus.fingerprint, OPTIONS)
    save_index(engine.corpus, engine.index, path, key)
    return key


def test_round_trip_gives_the_same_answers(seed_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "seeds.index.npz"
    key = _save(seed_engine, path)
    assert path.stat().st_mode & 0o777 == 0o644  # readable by the bot's user whoever built it
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    loaded = Engine(*load_index(path, key))
    assert loaded.document_count == seed_engine.document_count
    assert loaded.index.passages == seed_engine.index.passages
    assert loaded.documents == seed_engine.documents
    assert loaded.index.lexicon == seed_engine.index.lexicon
    same_answers(seed_engine, loaded)


def test_current_index_is_loaded_without_reading_the_corpus(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built, warnings = _open(corpus, tmp_path / "index")
    assert index_file(tmp_path / "index", corpus).exists() and not warnings

    def no_parsing(self: CorpusSource, workers: int | None = None) -> None:
        raise AssertionError("the corpus was parsed again")

    monkeypatch.setattr(CorpusSource, "load", no_parsing)
    loaded, warnings = _open(corpus, tmp_path / "index")
    assert not warnings
    same_answers(built, loaded)


def test_changed_corpus_is_rebuilt(corpus: Path, tmp_path: Path) -> None:
    _open(corpus, tmp_path / "index")
    article = next(corpus.glob("*.txt"))
    article.write_text(
        article.read_text(encoding="utf-8") + "\n\nLa capitale du commerce des théières est Yixing.\n", encoding="utf-8"
    )
    engine, warnings = _open(corpus, tmp_path / "index")
    assert len(warnings) == 1 and "corpus ou réglages modifiés" in warnings[0]
    assert "Yixing" in answer_text(engine.answer("Quelle est la capitale du commerce des théières ?"))
    again, warnings = _open(corpus, tmp_path / "index")  # the rebuilt index was saved
    assert not warnings and again.passage_count == engine.passage_count


def test_index_shaping_options_make_another_index(corpus: Path, tmp_path: Path) -> None:
    _open(corpus, tmp_path / "index")
    engine, warnings = _open(corpus, tmp_path / "index", IndexOptions(passage_max_chars=300))
    assert warnings and engine.passage_count > _open(corpus, tmp_path / "other")[0].passage_count
    for changed in (IndexOptions(k1=1.2), IndexOptions(b=0.5)):
        assert index_key(engine.corpus.fingerprint, changed) != index_key(engine.corpus.fingerprint, OPTIONS)


def test_another_analyzer_version_is_rebuilt(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _open(corpus, tmp_path / "index")
    monkeypatch.setattr(store, "ANALYZER_VERSION", "fr-0")
    engine, warnings = _open(corpus, tmp_path / "index")
    assert len(warnings) == 1 and engine.document_count == 5


def test_other_format_version_is_rebuilt(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    format_now = store.FORMAT
    monkeypatch.setattr(store, "FORMAT", format_now - 1)
    _open(corpus, tmp_path / "index")
    monkeypatch.setattr(store, "FORMAT", format_now)
    engine, warnings = _open(corpus, tmp_path / "index")
    assert len(warnings) == 1 and "autre version" in warnings[0]
    assert engine.answer(QUESTIONS[0]).found


@pytest.mark.parametrize("damage", ["truncated", "flipped", "empty", "garbage"])
def test_damaged_index_is_rebuilt_with_a_warning(corpus: Path, tmp_path: Path, damage: str) -> None:
    reference, _ = _open(corpus, tmp_path / "index")
    path = index_file(tmp_path / "index", corpus)
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped":
        middle = len(data) // 2
        data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    elif damage == "empty":
        data = bytearray()
    else:
        data = bytearray(b"PK\x03\x04 not an index at all" * 10)
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFileError):
        load_index(path, index_key(reference.corpus.fingerprint, OPTIONS))
    engine, warnings = _open(corpus, tmp_path / "index")
    assert len(warnings) == 1 and str(path) in warnings[0]
    same_answers(reference, engine)
    assert not _open(corpus, tmp_path / "index")[1]  # repaired on disk


def _damaged_copies(data: bytes, cases: int, seed: int) -> list[bytes]:
    """Random byte flips (half of them in the zip and .npy headers, where the checksums do not look) and
    truncations of a saved index."""
    rng = random.Random(seed)
    starts = [
        i for magic in (b"PK\x01\x02", b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY") for i in _find_all(data, magic)
    ]
    copies = []
    for case in range(cases):
        damaged = bytearray(data)
        if case % 4 == 3:
            del damaged[rng.randrange(len(data)) :]
        else:
            for _ in range(rng.randint(1, 3)):
                spot = rng.choice(starts) + rng.randrange(128) if case % 2 else rng.randrange(len(data))
                damaged[min(spot, len(data) - 1)] ^= rng.randrange(1, 256)
        copies.append(bytes(damaged))
    return copies


def _find_all(data: bytes, magic: bytes) -> list[int]:
    found, at = [], data.find(magic)
    while at >= 0:
        found.append(at)
        at = data.find(magic, at + 1)
    return found


def test_random_damage_is_refused_or_harmless(seed_engine: Engine, tmp_path: Path) -> None:
    """Whatever the damage, loading either gives back the very same index or raises IndexFileError (which
    `open_index` answers by rebuilding): never another exception, which would stop the bot at start-up."""
    path = tmp_path / "seeds.index.npz"
    key = _save(seed_engine, path)
    reference = seed_engine.index
    refused = 0
    for number, data in enumerate(_damaged_copies(path.read_bytes(), 200, seed=20261130)):
        path.write_bytes(data)
        try:
            corpus, index = load_index(path, key)
        except IndexFileError:
            refused += 1
            continue
        assert corpus.documents == seed_engine.documents and index.passages == reference.passages, number
        assert index.lexicon == reference.lexicon, number
        for name, array in reference.arrays.items():
            np.testing.assert_array_equal(index.arrays[name], array, err_msg=f"{number} {name}")
        for name in FIELDS:
            field, expected = getattr(index, name), getattr(reference, name)
            assert field.vocab == expected.vocab and (field.k1, field.b) == (expected.k1, expected.b), number
            for postings in ("offsets", "doc_ids", "tfs", "doc_len"):
                np.testing.assert_array_equal(getattr(field, postings), getattr(expected, postings))
        same_answers(seed_engine, Engine(corpus, index))
    assert refused >= 100  # the damage was real


@pytest.mark.parametrize("array", [a.name for a in ARRAYS])
@pytest.mark.parametrize("damage", ["shorter", "out of range", "other type"])
def test_inconsistent_arrays_are_refused(seed_engine: Engine, tmp_path: Path, array: str, damage: str) -> None:
    """A well-formed file whose arrays do not fit together is refused, not served."""
    path = tmp_path / "bad.index.npz"
    key = _save(seed_engine, path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    if damage == "shorter":
        arrays[array] = arrays[array][:-1]
    elif damage == "out of range":  # an id past its vocabulary, or offsets going backwards
        arrays[array] = arrays[array].copy()
        arrays[array][1] = arrays[array].max() + 10**6
    else:
        arrays[array] = arrays[array].astype(np.float64)
    with path.open("wb") as handle:
        np.savez(handle, **arrays)
    with pytest.raises(IndexFileError, match="incohérent"):
        load_index(path, key)


def test_unwritable_index_folder_still_serves(corpus: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the index folder should be")
    engine, warnings = _open(corpus, blocker)
    assert len(warnings) == 1 and "non enregistré" in warnings[0]
    assert engine.answer(QUESTIONS[0]).found


def test_full_disk_leaves_no_partial_file(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.np, "savez", full)
    engine, warnings = _open(corpus, tmp_path / "index")
    assert len(warnings) == 1 and "No space left on device" in warnings[0]
    assert engine.answer(QUESTIONS[0]).found
    assert list((tmp_path / "index").iterdir()) == []


_KILLED_SAVE = """
import os, signal, sys
from pathlib import Path
import numpy as np
from bot.search import index_file as store
from bot.search.engine import Engine
from bot.text.answers import answer_text

def killed(handle, **arrays):
    handle.write(b"PK" * 4096)
    handle.flush()
    os.kill(os.getpid(), signal.SIGKILL)

engine = Engine.from_path(sys.argv[1])
np.savez = killed
store.save_index(engine.corpus, engine.index, Path(sys.argv[2]), "key")
"""


def _temporaries(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def test_a_save_killed_midway_leaves_nothing_after_the_next_save(seed_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "seeds.index.npz"
    killed = subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(SEEDS), str(path)], cwd=REPO, check=False)
    assert killed.returncode == -signal.SIGKILL
    assert len(_temporaries(path)) == 1 and not path.exists()
    key = _save(seed_engine, path)
    assert _temporaries(path) == [] and Engine(*load_index(path, key)).index.passages == seed_engine.index.passages


def test_a_save_in_progress_keeps_its_temporary_file(seed_engine: Engine, tmp_path: Path) -> None:
    """Another process writing the same index (the bot re-indexing while `index` runs) holds a lock on its file."""
    path = tmp_path / "seeds.index.npz"
    alive = tmp_path / f".{path.name}.writer.tmp"
    other = tmp_path / ".other.index.npz.dead.tmp"  # another corpus's index: not this save's business
    other.write_bytes(b"PK")
    with alive.open("wb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _save(seed_engine, path)
        assert _temporaries(path) == [alive] and other.exists()


def test_without_locks_only_old_temporary_files_are_removed(
    seed_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "fcntl", None)
    path = tmp_path / "seeds.index.npz"
    old, young = tmp_path / f".{path.name}.old.tmp", tmp_path / f".{path.name}.young.tmp"
    for temp in (old, young):
        temp.write_bytes(b"PK")
    long_ago = time.time() - store.STALE_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    _save(seed_engine, path)
    assert _temporaries(path) == [young]


def test_missing_corpus_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError):
        _open(tmp_path / "nowhere", tmp_path / "index")


def test_index_command(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["index", "--no-vectors", "--corpus", str(corpus), "--database", str(tmp_path / "data" / "bot.sqlite3")]
    assert main(args) == 0
    out = capsys.readouterr().out
    path = index_file(tmp_path / "data" / "index", corpus)
    assert path.exists() and str(path) in out and "5 documents" in out
    assert "Vecteurs" not in out and not vector_file(path).exists()
    first = path.stat().st_mtime_ns
    assert main(args) == 0  # current: loaded, not rewritten
    assert path.stat().st_mtime_ns == first
    assert main([*args, "--force"]) == 0
    assert path.stat().st_mtime_ns != first


def test_index_command_builds_the_sentence_vectors_after_the_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Le comté compte 1 600 entrepreneurs. Il vend du thé en ligne.", encoding="utf-8")
    (corpus / "b.txt").write_text("La Corvette développe 490 ch.", encoding="utf-8")
    args = ["index", "--corpus", str(corpus), "--database", str(tmp_path / "data" / "bot.sqlite3")]
    assert main(args) == 0
    captured = capsys.readouterr()
    path = vector_file(index_file(tmp_path / "data" / "index", corpus))
    assert "Vecteurs de phrases : 3 / 3 phrases" in captured.out and "(100 %)" in captured.err.replace("\u00a0", " ")
    assert path.stat().st_size > 3 * 384
    assert main(args) == 0 and "3 / 3" in capsys.readouterr().out  # built: nothing left to do


def _read_only(folder: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder nothing can be created in or removed from: by its mode, or (root ignores modes) by the calls
    that would do it failing as they then do."""
    if how == "mode":
        if os.geteuid() == 0:
            pytest.skip("root writes in read-only folders")
        folder.chmod(0o555)
        return
    mkstemp, unlink = tempfile.mkstemp, Path.unlink

    def no_create(*args: Any, **kwargs: Any) -> tuple[int, str]:
        if Path(kwargs["dir"]) == folder:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return mkstemp(*args, **kwargs)

    def no_removal(self: Path, missing_ok: bool = False) -> None:
        if self.parent == folder:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(tempfile, "mkstemp", no_create)
    monkeypatch.setattr(Path, "unlink", no_removal)


@pytest.mark.parametrize("how", ["mode", "calls"])
def test_index_command_in_a_read_only_folder_says_why(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    args = ["index", "--no-vectors", "--corpus", str(corpus), "--database", str(tmp_path / "data" / "bot.sqlite3")]
    assert main(args) == 0
    folder = tmp_path / "data" / "index"
    path = index_file(folder, corpus)
    _read_only(folder, how, monkeypatch)
    try:
        assert main(args) == 0  # current: read, nothing to write
        article = next(corpus.glob("*.txt"))
        article.write_text(article.read_text(encoding="utf-8") + "\n\nUn paragraphe de plus.\n", encoding="utf-8")
        for command in (args, [*args, "--force"]):
            capsys.readouterr()
            assert main(command) == 1
            last = capsys.readouterr().err.strip().splitlines()[-1]
            expected = f"Erreur : l'index {path} n'a pas pu être écrit (permission refusée (Permission denied))."
            assert last == expected, command
    finally:
        folder.chmod(0o755)


def test_a_bad_header_byte_does_not_stop_the_commands(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One byte of a .npy header made numpy raise tokenize's error, which stopped every start."""
    database = tmp_path / "data" / "bot.sqlite3"
    common = ["--corpus", str(corpus), "--database", str(database)]
    assert main(["index", "--no-vectors", *common]) == 0
    path = index_file(tmp_path / "data" / "index", corpus)
    data = path.read_bytes()
    # In a member larger than one read (the documents), the header is parsed before the checksum is checked.
    header = data.index(b"{'descr':", data.index(b"documents.npy"))
    path.write_bytes(data[:header] + b"{'descr'}" + data[header + len(b"{'descr':") :])
    capsys.readouterr()
    assert main(["ask", QUESTIONS[0], "--no-log", *common]) == 0
    out, err = capsys.readouterr()
    assert "Source :" in out and "inutilisable" in err and "Traceback" not in err
    assert main(["index", "--no-vectors", *common]) == 0  # repaired by the start above
    assert "Avertissement" not in capsys.readouterr().err


def test_index_command_shows_progress_on_a_large_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.jsonl"
    count = PROGRESS_EVERY + 500
    with big.open("w", encoding="utf-8") as handle:
        for i in range(count):
            text = f"L'article {i} parle du commerce en ligne numéro {i} et de la livraison {i % 97}."
            handle.write(json.dumps({"id": i, "title": f"Article {i}", "text": text}, ensure_ascii=False) + "\n")
    assert main(["index", "--no-vectors", "--corpus", str(big), "--database", str(tmp_path / "bot.sqlite3")]) == 0
    out, err = capsys.readouterr()
    assert f"Indexation : {count} / {count} documents (100\u00a0%)" in err
    assert f"{count} documents" in out


def test_parallel_build_equals_one_process(seed_engine: Engine) -> None:
    documents = [
        make_document(f"d{i}", f"{paragraph}\n\nDocument numéro {i}.", title=f"Titre {i % 50}")
        for i, paragraph in enumerate(
            p for _ in range(100) for d in seed_engine.documents for p in d.paragraphs if len(p) > 40
        )
    ]
    documents = [d for d in documents if d is not None]
    assert len(documents) > 2 * PROGRESS_EVERY
    one = build_index(documents, workers=1)
    two = build_index(documents, workers=2)
    assert one.passages == two.passages and one.lexicon == two.lexicon
    assert one.body.vocab == two.body.vocab and one.titles.vocab == two.titles.vocab
    assert one.prefixes.vocab == two.prefixes.vocab
    assert one.arrays.keys() == two.arrays.keys() == {a.name for a in ARRAYS}
    for name in one.arrays:
        np.testing.assert_array_equal(one.arrays[name], two.arrays[name])
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(one, field).doc_ids, getattr(two, field).doc_ids)
        np.testing.assert_array_equal(getattr(one, field).tfs, getattr(two, field).tfs)


def _within_seconds(seconds: float, job: Callable[[], object], unblock: Path) -> object:
    """`job()`'s result; fails (instead of hanging) when it has not returned within `seconds`: then a writer
    opens the pipe `unblock`, which frees a reader stuck on it."""
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(job()), daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        os.close(os.open(unblock, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(seconds)
        pytest.fail(f"still waiting on the named pipe {unblock} after {seconds} s")
    return outcome[0]


def test_a_named_pipe_at_the_index_path_is_refused_and_the_index_rebuilt(corpus: Path, tmp_path: Path) -> None:
    path = index_file(tmp_path / "index", corpus)
    path.parent.mkdir()
    os.mkfifo(path)
    engine, warnings = _within_seconds(20, lambda: _open(corpus, tmp_path / "index"), path)
    assert len(warnings) == 1 and "n'est pas un fichier ordinaire" in warnings[0] and str(path) in warnings[0]
    assert engine.answer(QUESTIONS[0]).found
    with pytest.raises(IndexFileError):  # the pipe is gone, the saved index in its place
        load_index(path, "another key")
    assert path.is_file()


def test_a_named_pipe_among_the_temporary_files_does_not_hold_a_save(seed_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "seeds.index.npz"
    pipe = tmp_path / f".{path.name}.pipe.tmp"
    os.mkfifo(pipe)
    key = _within_seconds(20, lambda: _save(seed_engine, path), pipe)
    assert Engine(*load_index(path, key)).index.passages == seed_engine.index.passages
