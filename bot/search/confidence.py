"""How likely an answer is right: a logistic model over what the ranking saw, calibrated on held-out questions.

The features say how much of the question the best passage, its best sentence and its document hold,
whether its rarest word and its names are there, and whether the quoted sentence holds the kind of
answer asked for: shares of the question, not scores, so they read the same on 5 or 50,000 documents.
The coefficients are fitted by `python bench/confidence.py --fit` on PIAF questions whose articles are in
the corpus (right when the quote holds the gold answer) and on questions whose article was left out
(always wrong); the same script prints the reliability table of the probability on questions it was not
fitted on.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the engine knows about its best answer to a question: shares of the question (0..1), flags, its size."""

    coverage: float  # share of the question's weight in the best passage and its title (prefixes count half)
    sentence_coverage: float  # share of the question's weight in the passage's best sentence
    rarest_found: float  # 1 when the question's rarest term is in the passage or its title (as a stem)
    rarest_derived: float  # 1 when it is there only as a word prefix ("construit" for "construction")
    missing_weight: float  # weight of the heaviest question term absent, over the heaviest term's weight
    terms_found: float  # share of the question's terms (unweighted) found
    title_coverage: float  # share of the question's weight in the document's title
    names_found: float  # share of the question's capitalised words that the document holds (1 without any)
    has_names: float  # 1 when the question has capitalised words past its first
    typed: float  # 1 when the quoted sentence holds the kind of answer the question asks for
    has_cues: float  # 1 when the question asks for a kind of answer (number, date, name, place, cause)
    terms: float  # number of question terms
    log_terms: float  # ln(1 + terms)


# Fitted by bench/confidence.py --fit (standardised features: (x - mean) / scale, then the weights).
INTERCEPT = -0.6275
MEANS = (
    0.6181,
    0.5365,
    0.5835,
    0.02528,
    0.6853,
    0.6067,
    0.09149,
    0.7934,
    0.5266,
    0.2612,
    0.4047,
    4.423,
    1.626,
)
SCALES = (
    0.2507,
    0.2526,
    0.493,
    0.157,
    0.3824,
    0.2451,
    0.1776,
    0.3817,
    0.4993,
    0.4393,
    0.4908,
    1.933,
    0.3669,
)
WEIGHTS = (
    2.2,
    0.6465,
    0.1223,
    0.2142,
    0.483,
    -0.5868,
    0.07849,
    0.5697,
    0.3136,
    0.06837,
    0.01443,
    -0.8313,
    1.813,
)


def probability(evidence: Evidence) -> float:
    """The estimated probability that the quoted answer holds what the question asks (0..1)."""
    z = INTERCEPT + sum(w * (x - m) / s for w, x, m, s in zip(WEIGHTS, astuple(evidence), MEANS, SCALES, strict=True))
    return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))


@dataclass(frozen=True, slots=True)
class SemanticEvidence:
    """What the semantic stage says of the best answer: the cosine of the question's vector with the first quoted
    sentence's (`bot.search.sentence_model`), and whether the quote gives the quantity asked for. (The cosines
    with its passage and the passage's lead over the next document's cost ~0.5 s a question and added nothing
    measurable on PIAF: `bench/semantic.py`.)"""

    sentence_cosine: float
    quantity_asked: float  # 1 when the question counts or measures something (« combien de salariés »)
    quantity_found: float  # 1 when a quoted piece gives a number of it (`bot.search.units`)

    @property
    def quantity_missing(self) -> bool:
        """The question asks for a quantity that the quote does not give."""
        return bool(self.quantity_asked) and not self.quantity_found


# The semantic evidence the logistic model reads after the lexical evidence (as a feature, the quantity found
# added nothing on PIAF held out beyond the cap below).
SEMANTIC_FEATURES = ("sentence_cosine",)
# Fitted by bench/semantic.py --fit: the lexical evidence, then SEMANTIC_FEATURES (same scheme).
SEMANTIC_INTERCEPT = -0.7848
SEMANTIC_MEANS = (
    *(0.6182, 0.5366, 0.584, 0.02501, 0.685, 0.6068, 0.09149, 0.7934, 0.5266, 0.3291, 0.4047, 4.423, 1.626),
    0.8341,
)
SEMANTIC_SCALES = (
    *(0.2508, 0.2527, 0.4929, 0.1562, 0.3825, 0.2453, 0.1776, 0.3817, 0.4993, 0.4699, 0.4908, 1.933, 0.3669),
    0.06977,
)
SEMANTIC_WEIGHTS = (
    *(1.631, -0.06433, 0.124, 0.1226, 0.2364, -0.2316, -0.1833, 0.3323, 0.2032, 0.2437, -0.09698, -0.2247, 0.7027),
    2.741,
)
# A quote without the quantity asked for (« combien de salariés » answered by « 29 ans ») holds the answer about
# once in five on PIAF (20 % of 88 such quotes): its probability is at most that, below the threshold, so it is
# declined.
QUANTITY_MISSING_CAP = 0.2
# The decline threshold, chosen on held-out questions (two folds by article): the share of answers with the gold
# answer in their first sentence stays at least the lexical engine's, and the fewest questions whose article is
# absent get an answer.
SEMANTIC_MIN_CONFIDENCE = 0.277


def semantic_probability(evidence: Evidence, semantic: SemanticEvidence) -> float:
    """The estimated probability that the quoted answer is right, from the lexical and the semantic evidence."""
    features = (*astuple(evidence), *(getattr(semantic, name) for name in SEMANTIC_FEATURES))
    z = SEMANTIC_INTERCEPT + sum(
        w * (x - m) / s for w, x, m, s in zip(SEMANTIC_WEIGHTS, features, SEMANTIC_MEANS, SEMANTIC_SCALES, strict=True)
    )
    p = 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))
    return min(p, QUANTITY_MISSING_CAP) if semantic.quantity_missing else p
