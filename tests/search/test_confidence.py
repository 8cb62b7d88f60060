"""The confidence with the semantic stage's evidence: one coefficient per feature, more belief in an answer whose
quoted sentence is nearer the question, less in one that another document tells as well, and little in one without
the quantity asked for."""

from __future__ import annotations

import math
from dataclasses import fields, replace

from bot.search.confidence import (
    FITTED_DOCUMENTS,
    INTERACTIONS,
    QUANTITY_MISSING_CAP,
    SEMANTIC_FEATURES,
    SEMANTIC_MEANS,
    SEMANTIC_MIN_CONFIDENCE,
    SEMANTIC_SCALES,
    SEMANTIC_WEIGHTS,
    Evidence,
    SemanticEvidence,
    probability,
    semantic_probability,
)
from bot.search.corpus import Corpus, make_document
from bot.search.engine import Engine, EngineOptions, Explained


def _typical() -> tuple[Evidence, SemanticEvidence]:
    lexical = len(fields(Evidence))
    evidence = Evidence(*SEMANTIC_MEANS[:lexical])
    cosine = SEMANTIC_MEANS[lexical]
    return evidence, SemanticEvidence(sentence_cosine=cosine, quantity_asked=0.0, quantity_found=0.0)


def test_every_feature_has_its_mean_scale_and_weight() -> None:
    assert set(SEMANTIC_FEATURES) <= {field.name for field in fields(SemanticEvidence)}
    count = len(fields(Evidence)) + len(SEMANTIC_FEATURES) + len(INTERACTIONS)
    assert len(SEMANTIC_MEANS) == len(SEMANTIC_SCALES) == len(SEMANTIC_WEIGHTS) == count
    assert all(scale > 0 for scale in SEMANTIC_SCALES)


def test_a_quoted_sentence_far_from_the_question_lowers_the_confidence() -> None:
    evidence, semantic = _typical()
    near = semantic_probability(evidence, replace(semantic, sentence_cosine=0.92))
    typical = semantic_probability(evidence, semantic)
    far = semantic_probability(evidence, replace(semantic, sentence_cosine=0.74))
    assert 0.0 < far < typical < near < 1.0
    assert near - far > 0.5  # the sentence model can turn a likely answer into a decline


def test_a_quote_without_the_quantity_asked_for_is_capped_below_the_threshold() -> None:
    evidence, semantic = _typical()
    near = replace(semantic, sentence_cosine=0.95, quantity_asked=1.0)
    assert semantic_probability(evidence, replace(near, quantity_found=1.0)) > 0.8
    assert semantic_probability(evidence, near) == QUANTITY_MISSING_CAP < SEMANTIC_MIN_CONFIDENCE  # declined


def _explained(texts: dict[str, str], question: str) -> Explained:
    documents = [make_document(doc_id, text) for doc_id, text in texts.items()]
    engine = Engine.build(Corpus([d for d in documents if d is not None]), EngineOptions(min_confidence=0.0))
    return engine.explain(question)


STORY = "Le musée de Lodève a rouvert ses portes en juin après quatre ans de travaux de rénovation."
OTHER = "Le musée de Sète accueille une exposition de photographies anciennes tout l'été."
QUESTION = "Quand le musée de Lodève a-t-il rouvert ses portes ?"


def test_a_second_document_telling_the_same_story_is_a_close_runner_up() -> None:
    alone = _explained({"a": STORY, "b": OTHER}, QUESTION)
    twice = _explained({"a": STORY, "b": OTHER, "c": STORY.replace("en juin", "au printemps")}, QUESTION)
    assert alone.evidence is not None and twice.evidence is not None
    assert 0.0 < alone.evidence.runner_up < 0.7
    # a corpus smaller than any the model was fitted on reads as the smallest one, never beyond
    assert alone.evidence.log_documents == math.log(FITTED_DOCUMENTS[0])
    assert twice.evidence.runner_up > 0.95


def test_a_close_runner_up_lowers_the_confidence() -> None:
    evidence, semantic = _typical()
    clear, close = replace(evidence, runner_up=0.5), replace(evidence, runner_up=1.0)
    assert probability(close) < probability(clear)
    assert semantic_probability(close, semantic) < semantic_probability(clear, semantic)
