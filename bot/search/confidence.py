"""How likely an answer is right: a logistic model over what the ranking saw, calibrated on held-out questions.

The features say how much of the question the best passage, its best sentence and its document hold,
whether its rarest word and its names are there, whether the quoted sentence holds the kind of answer
asked for, and how far ahead of the next document it ranks. The coefficients are fitted by
`python bench/confidence.py --fit` on PIAF questions whose articles are in the corpus (right when the
quote holds the gold answer) and on questions whose article was left out (always wrong); the same
script prints the reliability table of the probability on questions it was not fitted on.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the engine knows about its best answer to a question, each value between 0 and about 3."""

    coverage: float  # share of the question's weight in the best passage and its title (prefixes count half)
    sentence_coverage: float  # share of the question's weight in the passage's best sentence
    rarest_found: float  # 1 when the question's rarest term is in the passage or its title (as a stem)
    rarest_derived: float  # 1 when it is there only as a word prefix ("construit" for "construction")
    missing_weight: float  # weight of the heaviest question term absent, over the heaviest term's weight
    terms_found: float  # share of the question's terms (unweighted) found
    margin: float  # re-ranked score of the best passage minus the next one's
    score: float  # re-ranked score of the best passage (0..3.5)
    bm25: float  # BM25 of the best passage over what the question's terms could give at most
    title_coverage: float  # share of the question's weight in the document's title
    names_found: float  # share of the question's capitalised words that the document holds (1 without any)
    has_names: float  # 1 when the question has capitalised words past its first
    typed: float  # 1 when the quoted sentence holds the kind of answer the question asks for
    has_cues: float  # 1 when the question asks for a kind of answer (number, date, name, place, cause)
    second_ratio: float  # the next document's re-ranked score over the best one's
    terms: float  # number of question terms
    log_terms: float  # ln(1 + terms)


# Fitted by bench/confidence.py --fit (standardised features: (x - mean) / scale, then the weights).
INTERCEPT = -0.6196
MEANS = (0.616, 0.5336, 0.5779, 0.02633, 0.6903, 0.6072, 0.6838, 2.435, 0.2914, 0.09049, 0.7931, 0.5266, 0.2615)
MEANS += (0.4047, 0.7463, 4.423, 1.626)
SCALES = (0.2496, 0.2514, 0.4939, 0.1601, 0.379, 0.2448, 0.6913, 0.6251, 0.1346, 0.1759, 0.3821, 0.4993, 0.4394)
SCALES += (0.4908, 0.2222, 1.933, 0.3669)
WEIGHTS = (0.8383, -0.1941, 0.1025, 0.1666, 0.4183, -0.535, -0.3455, 2.009, -0.2885, 0.129, 0.5003, 0.2082, 0.1578)
WEIGHTS += (-0.03915, -1.095, -0.7722, 1.564)


def probability(evidence: Evidence) -> float:
    """The estimated probability that the quoted answer holds what the question asks (0..1)."""
    z = INTERCEPT + sum(w * (x - m) / s for w, x, m, s in zip(WEIGHTS, astuple(evidence), MEANS, SCALES, strict=True))
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))
