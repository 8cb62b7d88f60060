"""The persisted index: same answers after a round trip; stale, truncated, damaged or foreign files are
rebuilt with a warning; a directory that cannot be written still serves; the `index` command; the
parallel build."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from bot.search import index_file as store
from bot.search.corpus import CorpusError, make_document
from bot.search.engine import Engine
from bot.search.index import ARRAYS, FIELDS, PROGRESS_EVERY, IndexOptions, build_index
from bot.search.index_file import IndexFileError, index_file, index_key, load_index, open_index, save_index
from tests.conftest import SEEDS, dev_questions

OPTIONS = IndexOptions()
QUESTIONS = [q["q"] for q in dev_questions()] + ["aliexpress trafic italie", "Comment soigner un rhume ?"]


def same_answers(a: Engine, b: Engine) -> None:
    """Both engines answer every test question alike: text, confidence and sources."""
    for question in QUESTIONS:
        x, y = a.answer(question), b.answer(question)
        assert (x.text, x.found, x.confidence) == (y.text, y.found, y.confidence), question
        assert [(s.doc_id, s.score, s.passage, s.link) for s in x.sources] == [
            (s.doc_id, s.score, s.passage, s.link) for s in y.sources
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
    return Engine(*open_index(corpus, options, folder, warnings)), warnings


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
    assert loaded.passages == seed_engine.passages
    assert loaded.documents == seed_engine.documents
    assert loaded.lexicon == seed_engine.lexicon
    same_answers(seed_engine, loaded)


def test_current_index_is_loaded_without_reading_the_corpus(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built, warnings = _open(corpus, tmp_path / "index")
    assert index_file(tmp_path / "index", corpus).exists() and not warnings

    def no_parsing(path: object) -> None:
        raise AssertionError("the corpus was parsed again")

    monkeypatch.setattr(store, "load_corpus", no_parsing)
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
    assert "Yixing" in engine.answer("Quelle est la capitale du commerce des théières ?").text
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


def test_missing_corpus_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError):
        _open(tmp_path / "nowhere", tmp_path / "index")


def test_index_command(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["index", "--corpus", str(corpus), "--database", str(tmp_path / "data" / "bot.sqlite3")]
    assert main(args) == 0
    out = capsys.readouterr().out
    path = index_file(tmp_path / "data" / "index", corpus)
    assert path.exists() and str(path) in out and "5 documents" in out
    first = path.stat().st_mtime_ns
    assert main(args) == 0  # current: loaded, not rewritten
    assert path.stat().st_mtime_ns == first
    assert main([*args, "--force"]) == 0
    assert path.stat().st_mtime_ns != first


def test_index_command_shows_progress_on_a_large_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.jsonl"
    count = PROGRESS_EVERY + 500
    with big.open("w", encoding="utf-8") as handle:
        for i in range(count):
            text = f"L'article {i} parle du commerce en ligne numéro {i} et de la livraison {i % 97}."
            handle.write(json.dumps({"id": i, "title": f"Article {i}", "text": text}, ensure_ascii=False) + "\n")
    assert main(["index", "--corpus", str(big), "--database", str(tmp_path / "bot.sqlite3")]) == 0
    out, err = capsys.readouterr()
    assert f"Indexation : {count} / {count} documents (100%)" in err
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
