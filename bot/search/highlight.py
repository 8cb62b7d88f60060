"""The phrase that answers, inside the quoted sentence: a number with its unit, a date, a name, a noun phrase.

`bot.search.spans` lists every candidate phrase of the sentence with its features; a linear score whose weights
depend on the kind of answer the question asks for (`bot.search.kinds`: "quand", "combien", "qui", "quel X",
"que"…) ranks them. The phrase shown is the candidates' consensus: the one that overlaps most, on average, with
the likeliest candidates (it wins on span F1 over the single best-scored one). It is returned exactly as written
in the sentence, so it can be shown in bold without changing a character. A question asking for a number or a
date gets no phrase when the sentence holds none. The weights were fitted on PIAF (listwise logistic
regression over the candidates of the sentence holding the gold answer): `python bench/fit_highlight.py`
refits them and prints both this table and the two-fold span F1.
"""

from __future__ import annotations

import re

import numpy as np

from bot.search.analysis import fold, stem
from bot.search.kinds import BY_NAME, KINDS, Asked
from bot.search.spans import FEATURES, candidates

CONSENSUS_SPANS = 60  # the likeliest spans that vote on the phrase shown
CONSENSUS_TEMPERATURE = 0.75  # softens the scores into chances (PIAF, two folds: 0.75 does best)


def highlight(sentence: str, question: str, asked: Asked) -> str | None:
    """The substring of `sentence` that answers `question`, or None when no phrase of the asked kind stands out."""
    found = candidates(sentence, question, asked)
    if found is None:
        return None
    scores = found.features @ _weights(found.kind)
    required = _REQUIRED.get(found.kind)
    if required is not None:
        holds = found.features[:, [FEATURES.index(name) for name in required]].any(axis=1)
        if not holds.any():
            return None
        scores = np.where(holds, scores, -np.inf)
    respective = _respective(sentence, question, found.kind)
    if respective is not None:
        return respective
    best = consensus(scores, found.starts, found.ends)
    span = sentence[int(found.starts[best]) : int(found.ends[best])]
    return _LEADING_DE.sub("", span, count=1) or span


# "de" opening a phrase is no part of the answer ("de 126%"): SQuAD's normalisation drops it too.
_LEADING_DE = re.compile(r"^(?:de\s+|d['’](?=[a-zà-ÿ]))")  # lower case: "De Gaulle" and "d'Artagnan" stay whole
_ARTICLE_OR_PLACE = r"(?:(?:en|au|aux|à|a|le|la|les|l'|l’)\s*)?"
_MEMBERS = re.compile(
    rf"{_ARTICLE_OR_PLACE}[A-ZÀ-ÝŒ][\w'’-]*(?:\s*,\s*{_ARTICLE_OR_PLACE}[A-ZÀ-ÝŒ][\w'’-]*)*"
    rf"\s+et\s+{_ARTICLE_OR_PLACE}[A-ZÀ-ÝŒ][\w'’-]*"
)
_MEMBER = re.compile(r"[A-ZÀ-ÝŒ][\w'’-]*")
_RESPECTIVELY = re.compile(r"\brespectivement\b", re.IGNORECASE)
_BETWEEN_VALUES = re.compile(r"\s*(?:,|et)\s*")


def _respective(sentence: str, question: str, kind: str) -> str | None:
    """In "en Espagne et en Italie, … respectivement de 20% et 14%", the value that goes with the one member of the
    named list that the question names ("en Italie" -> "14%"), when the two lists are as long as each other."""
    pattern = BY_NAME[kind].span
    cut = _RESPECTIVELY.search(sentence)
    if pattern is None or cut is None:
        return None
    lists = list(_MEMBERS.finditer(sentence, 0, cut.start()))
    values: list[str] = []
    end = -1
    for match in pattern.finditer(sentence, cut.end()):
        if values and not _BETWEEN_VALUES.fullmatch(sentence[end : match.start()]):
            break  # the values listed after "respectivement" end where something else than "," or "et" comes
        values.append(match.group(0))
        end = match.end()
    if not lists or len(values) < 2:
        return None
    members = _MEMBER.findall(lists[-1].group(0))[-len(values) :]
    asked = {stem(fold(word)) for word in _MEMBER.findall(question)}
    named = [k for k, member in enumerate(members) if stem(fold(member)) in asked]
    return values[named[0]] if len(members) == len(values) and len(named) == 1 else None


def consensus(scores: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> int:
    """The span with the highest expected overlap (F1 over characters) with the answer, under the scores read as
    a softmax: where the likeliest spans disagree on the edges, the part they share wins over any single guess."""
    top = np.argsort(-scores, kind="stable")[:CONSENSUS_SPANS]
    top = top[np.isfinite(scores[top])]
    chance = np.exp((scores[top] - scores[top[0]]) / CONSENSUS_TEMPERATURE)
    first, last = starts[top].astype(float), ends[top].astype(float)
    shared = np.maximum(0.0, np.minimum(last[:, None], last[None, :]) - np.maximum(first[:, None], first[None, :]))
    lengths = last - first
    overlap = 2 * shared / (lengths[:, None] + lengths[None, :])
    return int(top[int(np.argmax(overlap @ chance))])


# What a span must hold when the question asks for a number, a date or a name: without one, nothing is shown.
_REQUIRED = {"number": ("has_number",), "date": ("has_number", "has_month", "typed_inside")}


def _weights(kind: str) -> np.ndarray:
    return _WEIGHT_TABLE[:, 0] + _WEIGHT_TABLE[:, 1 + KINDS.index(kind)]


# Weights, one row per feature: the shared weight, then the offset for each kind of question (KINDS order).
# fmt: off
_WEIGHT_TABLE = np.array([
    #shared   date number person  place  cause   name  which   what    how  other
    [ -0.19,  1.16,  0.78, -0.25,  0.49, -1.19,  0.74,  0.03, -1.21, -0.27, -0.37],  # len1
    [  0.10,  0.42,  0.73,  0.39,  0.03, -1.35,  0.65,  0.17, -0.56, -0.30, -0.16],  # len2
    [  0.25,  0.17,  0.50,  0.25,  0.05, -0.57,  0.45, -0.09, -0.06, -0.31, -0.32],  # len3
    [  0.13,  0.06,  0.15,  0.17,  0.02, -0.03, -0.17, -0.08,  0.12, -0.12, -0.09],  # len4_5
    [ -0.06, -0.35, -0.41, -0.06, -0.03,  0.74, -0.49, -0.04,  0.37,  0.10,  0.14],  # len6_7
    [ -0.01, -0.86, -1.02, -0.31, -0.36,  1.29, -0.56,  0.03,  0.74,  0.55,  0.48],  # len8_10
    [  0.59,  0.11,  0.50, -0.57,  0.08, -0.42,  0.66, -0.23, -0.12, -0.09,  0.26],  # has_question_word
    [ -3.39,  0.07,  1.64, -0.54, -1.10, -1.88, -0.16, -0.49, -1.09,  0.88,  1.55],  # question_word_share
    [ -1.56,  0.32,  0.20, -1.63,  1.26,  0.90, -1.07, -0.43, -0.75,  0.23,  0.42],  # stop_share
    [  0.30,  0.37,  0.19,  0.28, -0.27, -0.46,  0.42,  0.16,  0.11, -0.26, -0.42],  # starts_article
    [  0.31,  0.78, -0.04,  0.01,  0.52, -0.14, -0.13, -0.31, -0.29, -0.04, -0.26],  # starts_preposition
    [ -0.36,  0.04,  0.12,  0.21, -0.54,  0.34, -0.19, -0.28, -0.11, -0.04,  0.32],  # starts_other_stop
    [ -0.30,  0.11, -0.05, -0.13, -0.27,  0.03,  0.12,  0.00,  0.03,  0.05,  0.01],  # ends_stop
    [  0.65, -1.79, -1.62,  2.12,  1.05, -0.67,  0.79,  0.52, -0.50, -0.59,  0.90],  # capital_share
    [  0.00, -0.07, -0.28, -0.15, -0.18, -0.18,  0.55,  0.03, -0.09,  0.03,  0.35],  # starts_capital
    [  0.38,  0.04, -0.31,  0.33,  0.15,  0.04, -0.48, -0.27,  0.28,  0.04,  0.30],  # sentence_start
    [  0.24,  0.92,  2.33, -0.91, -0.55, -0.13, -0.62,  0.24, -0.18, -0.44, -0.59],  # has_number
    [ -0.61,  1.90, -1.69,  0.36,  0.23, -0.68,  0.01, -0.60, -0.42,  0.75, -0.07],  # has_year
    [ -0.97,  1.92, -1.22, -0.19, -0.03, -1.22,  0.90,  0.06, -0.08, -0.55,  0.08],  # has_month
    [ -0.43,  0.09,  0.17,  0.59,  0.00, -0.40,  0.05,  0.10, -0.56, -0.23,  0.04],  # has_comma
    [  0.12,  0.16, -0.26,  0.12,  0.07, -0.08, -0.20, -0.15, -0.10,  0.07,  0.41],  # after_question_word
    [ -0.03, -0.06,  0.69, -0.08, -0.21, -0.34, -0.32, -0.07, -0.28,  0.50,  0.16],  # before_question_word
    [ -0.44, -0.04,  0.18, -0.05, -0.23,  0.02, -0.15, -0.10, -0.21,  0.02,  0.41],  # distance_left
    [ -0.21,  0.00,  0.06, -0.37, -0.02, -0.02, -0.08, -0.10, -0.28,  0.46,  0.28],  # distance_right
    [  0.38, -0.04, -0.40,  0.20, -0.25, -0.09,  0.62,  0.03, -0.23,  0.05,  0.23],  # clause_start
    [  0.97, -0.12, -0.05, -0.31,  0.11, -0.19,  0.51,  0.16,  0.01,  0.14,  0.11],  # clause_end
    [  0.29, -0.36, -0.76,  0.13, -0.40,  0.18,  0.90,  0.09, -0.34,  0.33,  0.35],  # after_copula
    [  0.11,  0.31, -0.36, -0.01,  0.64,  0.11, -0.46, -0.06,  0.03, -0.09, -0.07],  # after_preposition
    [  0.51, -0.98,  0.67,  0.00,  0.26,  0.38, -0.38,  0.22,  0.00,  0.00,  0.00],  # after_head_noun
    [  1.51,  0.44, -0.63,  0.00, -1.14,  1.03,  0.17,  0.67,  0.00,  0.00,  0.00],  # holds_head_noun
    [  0.42,  0.07, -1.08,  0.63,  0.82,  0.06,  0.12,  0.00,  0.00,  0.00,  0.00],  # typed_exact
    [  0.28,  0.27,  1.37, -0.52, -0.71,  0.88, -0.56,  0.00,  0.00,  0.00,  0.00],  # typed_inside
    [  0.06, -0.19, -0.12, -0.36, -0.09,  0.12, -0.45,  0.09,  0.91,  0.26, -0.14],  # position
    [ -0.08, -1.13, -0.12, -0.08, -0.40,  0.37, -0.30,  0.12,  0.35,  0.61,  0.56],  # all_lower
    [ -0.81,  0.02, -0.04,  0.16, -0.22,  0.30, -0.21, -0.22, -0.02, -0.05,  0.01],  # cuts_name
    [ -0.18,  0.75,  0.04, -0.62, -0.41, -0.33, -0.29,  0.17, -0.02,  0.13,  0.52],  # ends_number
    [  0.33, -0.16,  0.63, -0.13, -0.10, -0.50,  0.31, -0.22, -0.23,  0.25,  0.25],  # near_question_words
    [ -0.53, -0.05,  0.22, -0.26, -0.02, -0.59,  0.12,  0.27, -0.18, -0.04,  0.35],  # between_question_words
    [  0.29,  0.00,  0.22, -0.22,  0.10, -0.03, -0.23,  0.13, -0.01, -0.33,  0.46],  # before_relative
])
# fmt: on
