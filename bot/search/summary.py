"""Query-focused extractive summary: the 1 to 3 sentences that best answer, quoted verbatim.

Sentences are scored by the question's weighted terms they contain, by whether they hold
what the question asks for (a number for "combien", a name for "qui"...), and by the rank of
their passage; near-duplicates are skipped and the chosen sentences keep their reading order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.search.passages import split_sentences

_NUMBER = re.compile(r"\d")
_NAME = re.compile(r"(?<![.!?«]\s)(?<!^)\b[A-ZÀ-Ý][a-zà-ÿ]+(?:[ -][A-ZÀ-Ý][a-zà-ÿ]+)+")
_DATE = re.compile(
    r"\b(?:1[0-9]{3}|20[0-9]{2})\b|\b(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre"
    r"|octobre|novembre|décembre)\b|\b(?:siècle|an(?:née)?s?)\b",
    re.IGNORECASE,
)
_PLACE = re.compile(r"\b(?:à|en|au|aux|dans|de)\s+(?:l[a'e]\s*)?[A-ZÀ-Ý]\w+")
_CUE_PATTERNS = {"number": _NUMBER, "person": _NAME, "date": _DATE, "place": _PLACE}

ELLIPSIS = "…"
# A further sentence joins the best one when it scores at least this share of it: context around
# the best sentence often holds the answer itself (on PIAF, 0.1 instead of 0.35 lifts the share of
# answers holding the gold answer by about two points).
MIN_RELATIVE_SCORE = 0.1


@dataclass(frozen=True, slots=True)
class Candidate:
    """A passage offered to the summary: its place in the document, its text, its retrieval score, and which
    of the quoted documents it belongs to (0 the best, 1 the next)."""

    position: int
    text: str
    score: float
    source: int = 0


@dataclass(slots=True)
class ScoredSentence:
    source: int  # the candidate's `source`
    position: int  # passage position in the document
    order: int  # sentence number within the passage
    text: str
    terms: frozenset[str]
    score: float


def summarize(
    candidates: Sequence[Candidate],
    weights: dict[str, float],
    cues: set[str],
    analyze: Callable[[str], list[str]],
    question_text: str,
    max_chars: int = 600,
    max_sentences: int = 3,
) -> list[tuple[int, str]]:
    """Pick up to `max_sentences` sentences (≤ `max_chars` in all) from the candidates, as (source, text)
    in reading order, source after source."""
    scored = score_sentences(candidates, weights, cues, analyze, question_text)
    if not scored:
        return []
    ranked = sorted(scored, key=lambda s: (-s.score, s.source, s.position, s.order))
    best = ranked[0]
    chosen = [best]
    used = len(best.text)
    for sentence in ranked[1:]:
        if len(chosen) >= max_sentences:
            break
        if sentence.score < MIN_RELATIVE_SCORE * best.score or sentence.score <= 0:
            break
        if used + 1 + len(sentence.text) > max_chars:
            continue
        if any(_redundant(sentence, other) for other in chosen):
            continue
        chosen.append(sentence)
        used += 1 + len(sentence.text)
    chosen.sort(key=lambda s: (s.source, s.position, s.order))
    if len(chosen) == 1 and len(best.text) > max_chars:
        return [(best.source, _shorten(best.text, max_chars))]
    return [(s.source, s.text) for s in chosen]


def score_sentences(
    candidates: Sequence[Candidate],
    weights: dict[str, float],
    cues: set[str],
    analyze: Callable[[str], list[str]],
    question_text: str,
) -> list[ScoredSentence]:
    """Every sentence of the candidate passages with its answer score.

    A question term weighs its corpus idf times its idf among these sentences: a word every sentence
    holds (the article's subject) tells them apart less than one only a few hold.
    """
    sentences = [
        (candidate, order, sentence, frozenset(analyze(sentence)))
        for candidate in candidates
        for order, sentence in enumerate(split_sentences(candidate.text))
    ]
    local = {
        t: w * (1 + math.log((len(sentences) + 1) / (1 + sum(t in terms for *_, terms in sentences))))
        for t, w in weights.items()
    }
    total = sum(local.values()) or 1.0
    top_score = max((c.score for c in candidates), default=0.0) or 1.0
    question_numbers = set(re.findall(r"\d+", question_text))
    out: list[ScoredSentence] = []
    for candidate, order, sentence, terms in sentences:
        passage_weight = 0.25 * candidate.score / top_score
        coverage = sum(local.get(t, 0.0) for t in terms) / total
        bonus = 0.0
        for cue in cues:
            pattern = _CUE_PATTERNS.get(cue)
            if pattern is None:
                continue
            if cue == "number":
                if set(re.findall(r"\d+", sentence)) - question_numbers:
                    bonus += 0.15
            elif pattern.search(sentence):
                bonus += 0.1
        score = coverage + passage_weight + (bonus if coverage > 0 else 0.0)
        out.append(ScoredSentence(candidate.source, candidate.position, order, sentence, terms, score))
    return out


def _redundant(a: ScoredSentence, b: ScoredSentence) -> bool:
    """Two sentences that share most of their terms say the same thing."""
    if not a.terms or not b.terms:
        return a.text == b.text
    overlap = len(a.terms & b.terms) / min(len(a.terms), len(b.terms))
    return overlap >= 0.8


def _shorten(text: str, max_chars: int) -> str:
    """Cut a single over-long sentence at a word boundary, marking the cut with an ellipsis."""
    cut = text.rfind(" ", 0, max_chars - 1)
    return text[: cut if cut > 0 else max_chars - 1].rstrip(" ,;:") + ELLIPSIS
