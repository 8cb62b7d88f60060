"""Query-focused extractive summary: the sentence that answers first, then only what it leaves out, verbatim.

Sentences are scored by the question's weighted terms they hold, by whether they hold what the
question asks for (a number for "combien", a name for "qui"...: `bot.search.kinds`), and by the rank of
their passage.
The best one comes first. Another is quoted only when it adds something the question asks for that
the quoted ones lack (one of its terms, or the kind of answer it wants), or, from the same document,
when it scores so close to the best one that the ranking cannot tell which of the two answers; never as
padding. A first sentence that opens on a pronoun or a connective ("Il", "Cependant") brings the sentence
before it, and one that closes a quotation opened earlier brings the sentences back to where it opened.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from bot.search.kinds import BY_NAME, CUES
from bot.search.passages import split_sentences

# A first sentence opening on one of these leans on the sentence before it.
_LEANS_BACK = re.compile(
    r"^(?:[«\"(\s]*)(?:il|elle|ils|elles|celui-ci|celle-ci|ceux-ci|celles-ci|ce dernier|cette dernière|ces derniers"
    r"|ces dernières|cela|ceci|ça|ce|cet|cette|ces|ses|son|sa|leur|leurs|lui|eux|y|en outre|de plus|par ailleurs"
    r"|cependant|toutefois|pourtant|néanmoins|mais|or|donc|ainsi|alors|aussi|en effet|d'ailleurs|d’ailleurs"
    r"|de même|de son côté|pour sa part|par conséquent|c'est|c’est|là)\b",
    re.IGNORECASE,
)
ELLIPSIS = "…"
MIN_RELATIVE_SCORE = 0.1  # a further sentence scores at least this share of the best one
CLOSE_SCORE = 0.9  # a sentence of the same document scoring this share of the best one or more ties with it
PASSAGE_WEIGHT = 0.25  # the passage's retrieval score, against the sentence's own coverage of the question
MAX_CONTEXT = 2  # sentences brought before the first one at most (pronoun, open quotation)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A passage offered to the summary: its place in the document, its text, its retrieval score, which of the
    quoted documents it belongs to (0 the best, 1 the next), and, when the caller already holds them, the terms of
    each of its sentences (else each sentence is analysed)."""

    position: int
    text: str
    score: float
    source: int = 0
    sentence_terms: Sequence[Sequence[str]] | None = None
    first_sentence: int = -1  # the index's number of its first sentence, when `sentence_terms` are the index's


@dataclass(slots=True)
class ScoredSentence:
    source: int  # the candidate's `source`
    position: int  # passage position in the document
    order: int  # sentence number within the passage
    text: str
    terms: frozenset[str]
    score: float
    typed: bool = False  # holds the kind of answer the question asks for (a number for "combien"…)
    number: int = -1  # its number in the index (`CorpusIndex.sentence_range`), -1 when not one of the index's


@dataclass(frozen=True, slots=True)
class Pick:
    """One quoted piece: verbatim text from one document, and the sentence in it that was chosen for the answer
    (the text adds the sentences that sentence leans on), with that sentence's number in the index (-1: unknown)."""

    source: int
    text: str
    sentence: str
    typed: bool
    number: int = -1


def summarize(
    candidates: Sequence[Candidate],
    weights: dict[str, float],
    cues: Collection[str],
    analyze: Callable[[str], list[str]],
    question_text: str,
    max_chars: int = 600,
    max_sentences: int = 3,
    wants: Callable[[str], bool] | None = None,
) -> list[Pick]:
    """Up to `max_sentences` pieces (≤ `max_chars` in all) from the candidates: the best first, then those that
    add what it lacks, best first; the pieces of the best document before those of the next one.

    `wants` says whether a sentence names the quantity the question asks for (`bot.search.units`): when the best
    sentence does not, the nearest sentence of its passage that does is quoted first."""
    scored = score_sentences(candidates, weights, cues, analyze, question_text)
    if not scored:
        return []
    ranked = sorted(scored, key=lambda s: (-s.score, s.source, s.position, s.order))
    best = ranked[0] if wants is None else _giving(ranked[0], scored, wants)
    top = ranked[0].score
    first = _with_context(best, scored, max_chars)
    picks = [Pick(best.source, first, best.text, best.typed, best.number)]
    used = len(first)
    covered = set(best.terms & weights.keys())
    typed = best.typed
    chosen = [best]
    for sentence in ranked:
        if sentence is best:
            continue
        if len(picks) >= max_sentences or sentence.score < MIN_RELATIVE_SCORE * top or sentence.score <= 0:
            break
        if used + 1 + len(sentence.text) > max_chars or sentence.text in first:
            continue
        adds = (sentence.terms & weights.keys()) - covered
        tie = sentence.score >= CLOSE_SCORE * top
        if sentence.source != best.source:
            if not sentence.typed:
                continue  # another document is quoted only when its sentence holds an answer too
        elif not adds and not (sentence.typed and not typed) and not tie:
            continue  # the same document: only what the quoted sentences lack
        if any(_redundant(sentence, other) for other in chosen):
            continue
        chosen.append(sentence)
        picks.append(Pick(sentence.source, sentence.text, sentence.text, sentence.typed))
        covered |= adds
        typed = typed or sentence.typed
        used += 1 + len(sentence.text)
    picks.sort(key=lambda p: p.source)  # stable: by score within a document
    if len(picks) == 1 and len(first) > max_chars:
        return [Pick(best.source, shorten(first, max_chars), best.text, best.typed, best.number)]
    return picks


def _giving(best: ScoredSentence, scored: list[ScoredSentence], wants: Callable[[str], bool]) -> ScoredSentence:
    """The best sentence, or the nearest sentence of its passage that gives what is asked when it does not, the
    next one before the previous one at the same distance (« combien de chevaux »: the sentence naming the car,
    then the one with « 517 ch » a few sentences on)."""
    if wants(best.text):
        return best
    giving = [
        s for s in scored if s.source == best.source and s.position == best.position and s is not best and wants(s.text)
    ]
    return min(giving, key=lambda s: (abs(s.order - best.order), s.order < best.order), default=best)


def _with_context(best: ScoredSentence, scored: list[ScoredSentence], max_chars: int) -> str:
    """The best sentence, preceded by the sentences of its passage it leans on (`opening`)."""
    before = sorted(
        (s for s in scored if (s.source, s.position) == (best.source, best.position)), key=lambda s: s.order
    )
    return opening([s.text for s in before[: best.order]], best.text, max_chars)


def opening(before: Sequence[str], sentence: str, max_chars: int) -> str:
    """What an answer opens on when `sentence` is its best one: the sentence, preceded by those of `before` (every
    sentence before it in its passage, in order) it leans on: the one before when it opens on a pronoun or a
    connective, and those back to an opening quotation mark it closes. It depends on the passage alone, so the
    sentence vectors built in advance (`bot.search.vector_build`) embed the very text an answer opens on."""
    text, kept = sentence, list(before)
    while kept and len(kept[-1]) + 1 + len(text) <= max_chars and len(text) > 0:
        if not (_LEANS_BACK.match(text) or _open_quotes(text) < 0) or len(before) - len(kept) >= MAX_CONTEXT:
            break
        text = f"{kept.pop()} {text}"
    return text


def _open_quotes(text: str) -> int:
    """Opening minus closing quotation marks: below 0 when the text closes a quotation it did not open."""
    return text.count("«") - text.count("»")


def score_sentences(
    candidates: Sequence[Candidate],
    weights: dict[str, float],
    cues: Collection[str],
    analyze: Callable[[str], list[str]],
    question_text: str,
) -> list[ScoredSentence]:
    """Every sentence of the candidate passages with its answer score.

    A question term weighs its corpus idf times its idf among these sentences: a word every sentence
    holds (the article's subject) tells them apart less than one only a few hold.
    """
    sentences = []
    for candidate in candidates:
        split = split_sentences(candidate.text)
        known = candidate.sentence_terms
        first = candidate.first_sentence
        if known is None or len(known) != len(split):  # the caller's sentences are not these: analyse them
            known, first = [analyze(sentence) for sentence in split], -1
        sentences.extend(
            (candidate, order, sentence, frozenset(terms), first + order if first >= 0 else -1)
            for order, (sentence, terms) in enumerate(zip(split, known, strict=True))
        )
    local = {
        t: w * (1 + math.log((len(sentences) + 1) / (1 + sum(t in terms for *_, terms, _ in sentences))))
        for t, w in weights.items()
    }
    total = sum(local.values()) or 1.0
    top_score = max((c.score for c in candidates), default=0.0) or 1.0
    question_numbers = set(re.findall(r"\d+", question_text))
    asked = [BY_NAME[cue] for cue in CUES if cue in cues]  # the answer kinds asked for (`bot.search.kinds`)
    out: list[ScoredSentence] = []
    for candidate, order, sentence, terms, number in sentences:
        coverage = sum(w for t, w in local.items() if t in terms) / total  # in question order: the same every run
        typed = False
        bonus = 0.0
        for kind in asked:
            if kind.holds(sentence, question_numbers):
                bonus += kind.bonus
                typed = True
        score = coverage + PASSAGE_WEIGHT * candidate.score / top_score + (bonus if coverage > 0 else 0.0)
        out.append(ScoredSentence(candidate.source, candidate.position, order, sentence, terms, score, typed, number))
    return out


def _redundant(a: ScoredSentence, b: ScoredSentence) -> bool:
    """Two sentences that share most of their terms say the same thing."""
    if not a.terms or not b.terms:
        return a.text == b.text
    overlap = len(a.terms & b.terms) / min(len(a.terms), len(b.terms))
    return overlap >= 0.8


def shorten(text: str, max_chars: int) -> str:
    """Cut a single over-long sentence at a word boundary, marking the cut with an ellipsis."""
    cut = text.rfind(" ", 0, max_chars - 1)
    return text[: cut if cut > 0 else max_chars - 1].rstrip(" ,;:") + ELLIPSIS
