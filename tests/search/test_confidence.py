"""The confidence with the sentence model's evidence: one coefficient per feature, and more belief in an answer
whose quoted sentence is nearer the question."""

from __future__ import annotations

from dataclasses import fields, replace

from bot.search.confidence import (
    SEMANTIC_MEANS,
    SEMANTIC_SCALES,
    SEMANTIC_WEIGHTS,
    Evidence,
    SemanticEvidence,
    semantic_probability,
)


def _typical() -> tuple[Evidence, SemanticEvidence]:
    lexical = len(fields(Evidence))
    evidence = Evidence(*SEMANTIC_MEANS[:lexical])
    return evidence, SemanticEvidence(*SEMANTIC_MEANS[lexical:])


def test_every_feature_has_its_mean_scale_and_weight() -> None:
    count = len(fields(Evidence)) + len(fields(SemanticEvidence))
    assert len(SEMANTIC_MEANS) == len(SEMANTIC_SCALES) == len(SEMANTIC_WEIGHTS) == count
    assert all(scale > 0 for scale in SEMANTIC_SCALES)


def test_a_quoted_sentence_far_from_the_question_lowers_the_confidence() -> None:
    evidence, semantic = _typical()
    near = semantic_probability(evidence, replace(semantic, sentence_cosine=0.92))
    typical = semantic_probability(evidence, semantic)
    far = semantic_probability(evidence, replace(semantic, sentence_cosine=0.74))
    assert 0.0 < far < typical < near < 1.0
    assert near - far > 0.5  # the sentence model can turn a likely answer into a decline
