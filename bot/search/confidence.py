"""How likely an answer is right: a logistic model over what the ranking saw, calibrated on held-out questions.

The features say how much of the question the best passage, its best sentence and its document hold,
whether its rarest word and its names are there, and whether the quoted sentence holds the kind of
answer asked for: shares of the question, not scores, so they read the same on 5 or 50,000 documents. Two
more say how close the next document comes and how large the corpus is, since the same shares mean less
among many passages that share a question's words.
The coefficients are fitted by `python bench/confidence.py --fit` on PIAF questions whose articles are in
the corpus (right when the quote holds the gold answer) and on questions whose article was left out
(always wrong), asked once of PIAF's paragraphs alone and once with 36,000 news articles beside them, so that
the probability means the same on a small corpus and on a large one; the same script prints the reliability
table of the probability on questions it was not fitted on. With the reader on, a quote in which it finds no answer
is capped (`reader_capped`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, astuple, dataclass


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
    runner_up: float  # the best passage of another document's score over the best passage's (0..1): a close
    # second is a story the ranking cannot tell from the first (another date, a like event)
    log_documents: float  # ln of the corpus's documents, within FITTED_DOCUMENTS: a large corpus holds more
    # passages that share a question's words without answering it


# The corpus sizes the models were fitted on (PIAF's kept paragraphs, then with 35,984 news articles beside them):
# `log_documents` stays within them, so a corpus smaller or larger reads as the nearest one, never beyond.
FITTED_DOCUMENTS = (963, 36947)


# Fitted by bench/confidence.py --fit (standardised features: (x - mean) / scale, then the weights).
INTERCEPT = -0.6359
MEANS = (
    0.6688,
    0.5837,
    0.6696,
    0.02567,
    0.6032,
    0.6454,
    0.1263,
    0.8173,
    0.5278,
    0.331,
    0.4056,
    4.425,
    1.628,
    0.7895,
    8.672,
)
SCALES = (
    0.2413,
    0.2497,
    0.4704,
    0.1582,
    0.3914,
    0.2388,
    0.2144,
    0.3592,
    0.4992,
    0.4706,
    0.491,
    1.929,
    0.3621,
    0.209,
    1.88,
)
WEIGHTS = (
    1.179,
    0.3171,
    0.1977,
    0.1904,
    0.3383,
    -0.1351,
    0.1053,
    0.458,
    0.2845,
    0.3701,
    -0.2973,
    -0.6337,
    1.281,
    -1.169,
    -0.3061,
)


def probability(evidence: Evidence) -> float:
    """The estimated probability that the quoted answer holds what the question asks (0..1)."""
    return _logistic(astuple(evidence), INTERCEPT, MEANS, SCALES, WEIGHTS)


def _logistic(
    features: tuple[float, ...],
    intercept: float,
    means: tuple[float, ...],
    scales: tuple[float, ...],
    weights: tuple[float, ...],
) -> float:
    """A fitted logistic model's probability: the features standardised, weighted, and squashed into 0..1."""
    z = intercept + sum(w * (x - m) / s for w, x, m, s in zip(weights, features, means, scales, strict=True))
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
# Products the semantic model reads last: how much a close runner-up and the cosine say depends on the corpus's size.
INTERACTIONS = (("log_documents", "runner_up"), ("log_documents", "sentence_cosine"))
# Fitted by bench/semantic.py --fit: the lexical evidence, SEMANTIC_FEATURES, then INTERACTIONS (same scheme).
SEMANTIC_INTERCEPT = -0.8817
SEMANTIC_MEANS = (
    # Evidence
    0.6688,
    0.5837,
    0.6696,
    0.02567,
    0.6032,
    0.6454,
    0.1263,
    0.8173,
    0.5278,
    0.3318,
    0.4056,
    4.425,
    1.628,
    0.7895,
    8.672,
    # sentence_cosine, then INTERACTIONS
    0.8379,
    6.944,
    7.291,
)
SEMANTIC_SCALES = (
    # Evidence
    0.2413,
    0.2497,
    0.4704,
    0.1582,
    0.3914,
    0.2388,
    0.2144,
    0.3592,
    0.4992,
    0.4708,
    0.491,
    1.929,
    0.3621,
    0.209,
    1.88,
    # sentence_cosine, then INTERACTIONS
    0.0586,
    2.523,
    1.631,
)
SEMANTIC_WEIGHTS = (
    # Evidence
    0.963,
    -0.3653,
    0.1654,
    0.115,
    0.2008,
    0.08623,
    -0.1729,
    0.2398,
    0.2041,
    0.2943,
    -0.1641,
    -0.2847,
    0.4961,
    0.4109,
    -1.445,
    # sentence_cosine, then INTERACTIONS
    1.697,
    -2,
    2.426,
)
# A quote without the quantity asked for (« combien de salariés » answered by « 29 ans ») holds the answer about
# once in five on PIAF (20 % of 88 such quotes): its probability is at most that, below the threshold, so it is
# declined.
QUANTITY_MISSING_CAP = 0.2
# The decline threshold, chosen on held-out questions (two folds by article): the lowest at which at most one in ten
# PIAF questions whose article is absent gets an answer (`bench/semantic.py`: 0.094 on PIAF alone, 0.082 among
# 36,000 news articles).
SEMANTIC_MIN_CONFIDENCE = 0.28


# The reader (`bot.search.reader`) finds no answer in what it read when its best span scores below its no-answer
# score. Trained to say so on other paragraphs of the question's own article (`bench/train_reader.py
# --same-article`), it tells a passage on the subject that lacks the fact from one that gives it: of the quotes the
# bot gives and the reader finds no answer in, 40 % hold the answer (243 quotes on PIAF, each read on onnxruntime
# by the reader not trained on its article: `bench/no_answer.py`), so their probability is at most that.
READER_NO_ANSWER_MARGIN = 0.0
READER_NO_ANSWER_CAP = 0.40


def reader_capped(probability: float, margin: float) -> float:
    """The probability of an answer the reader has read, at most READER_NO_ANSWER_CAP where it finds no answer."""
    return min(probability, READER_NO_ANSWER_CAP) if margin < READER_NO_ANSWER_MARGIN else probability


def semantic_features(evidence: Evidence, semantic: SemanticEvidence) -> tuple[float, ...]:
    """What the semantic model reads, in its order: the lexical evidence, SEMANTIC_FEATURES, then INTERACTIONS."""
    values = {**{name: getattr(semantic, name) for name in SEMANTIC_FEATURES}, **asdict(evidence)}
    return (
        *astuple(evidence),
        *(values[name] for name in SEMANTIC_FEATURES),
        *(values[a] * values[b] for a, b in INTERACTIONS),
    )


def semantic_probability(evidence: Evidence, semantic: SemanticEvidence) -> float:
    """The estimated probability that the quoted answer is right, from the lexical and the semantic evidence."""
    features = semantic_features(evidence, semantic)
    p = _logistic(features, SEMANTIC_INTERCEPT, SEMANTIC_MEANS, SEMANTIC_SCALES, SEMANTIC_WEIGHTS)
    return min(p, QUANTITY_MISSING_CAP) if semantic.quantity_missing else p
