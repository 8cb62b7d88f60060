"""The reader's say on an answer: which sentence of the best passages answers, and which of its words to bold.

The summary chooses the answering sentence by the question words it holds; the reader (`bot.search.reader`) was
trained to point at the answer itself. It reads the best document's best passages, and when it points at a span
with more conviction than at no answer, the sentence holding that span opens the answer (with the sentences it
leans on, `summary.opening`), and the span, verbatim, is the phrase in bold. Otherwise the summary's choice and
the highlighter's bold stand; when the reader finds no answer at all, the engine caps the answer's confidence
(`bot.search.confidence.reader_capped`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.search.passages import split_sentences
from bot.search.reader import Reading
from bot.search.summary import Pick, opening, shorten

log = logging.getLogger(__name__)


class SpanReader(Protocol):
    """What points at the answer in passages (`bot.search.reader.Reader`)."""

    def read(self, question: str, passages: Sequence[str], top: int = 5) -> Reading: ...


@dataclass(frozen=True, slots=True)
class Shown:
    """A passage, or a slice of one, that the reader reads: its text, the rank of its document among the sources,
    and the index's number of its first sentence (-1 when the index's sentences are not this text's)."""

    text: str
    source: int
    first_sentence: int
    before: tuple[str, ...] = ()  # the sentences of its passage before it, when it is a slice of one


@dataclass(frozen=True, slots=True)
class ReaderEvidence:
    """What the reader said: its best span's score over its no-answer score, and whether it moved the opening."""

    margin: float
    moved: bool


@dataclass(frozen=True, slots=True)
class Reread:
    """The quoted pieces after the reader (its sentence first), the words to bold, and what the reader said."""

    picks: list[Pick]
    bold: str | None
    evidence: ReaderEvidence


def reread(
    reader: SpanReader, question: str, shown: Sequence[Shown], picks: list[Pick], max_chars: int, min_margin: float
) -> Reread | None:
    """The answer's pieces as the reader would open them: when its best span in `shown` beats its no-answer score
    by `min_margin` or more, the sentence holding the span comes first and the span is the bold. None when the
    reader reads nothing (no passage, or a span it cannot place in a sentence)."""
    if not shown or not picks:
        return None
    try:
        reading = reader.read(question, [passage.text for passage in shown], top=1)
    except (MemoryError, RuntimeError, ValueError) as exc:
        log.warning("lecteur en échec, réponse sans lui : %s", exc or type(exc).__name__)
        return None
    if not reading.spans:
        return None
    span = reading.spans[0]
    margin = span.score - reading.no_answer
    passage = shown[span.passage]
    placed = _sentence_at(passage.text, span.start, span.end)
    if placed is None:
        return None
    order, sentences = placed
    if margin < min_margin:
        return Reread(picks, None, ReaderEvidence(margin, False))
    number = passage.first_sentence + order if passage.first_sentence >= 0 else -1
    first = opening([*passage.before, *sentences[:order]], sentences[order], max_chars)
    if len(first) > max_chars:
        first = shorten(first, max_chars)  # a sentence longer than an answer, cut as the summary cuts it
    moved = sentences[order] != picks[0].sentence
    head = Pick(passage.source, first, sentences[order], picks[0].typed, number)
    rest = [pick for pick in picks if pick.sentence not in first and first not in pick.text]
    kept, used = [head], len(first)
    for pick in rest:
        if used + 1 + len(pick.text) <= max_chars:
            kept.append(pick)
            used += 1 + len(pick.text)
    kept[1:] = sorted(kept[1:], key=lambda pick: pick.source)  # stable: the summary's order within a document
    bold = passage.text[span.start : span.end].strip()
    return Reread(kept, bold or None, ReaderEvidence(margin, moved))


def _sentence_at(text: str, start: int, end: int) -> tuple[int, list[str]] | None:
    """(number of the sentence of `text` that holds characters [start, end), the sentences of `text`), or None when
    the span straddles two sentences or lies outside them."""
    bounds = sentence_bounds(text)
    for order, (begin, finish) in enumerate(bounds):
        if begin <= start and end <= finish:
            return order, [text[a:b] for a, b in bounds]
    return None


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """The [start, end) characters of each sentence of `text` (`split_sentences`), in order; a sentence that cannot
    be found verbatim ends the list."""
    bounds, cursor = [], 0
    for sentence in split_sentences(text):
        at = text.find(sentence, cursor)
        if at < 0:
            break
        bounds.append((at, at + len(sentence)))
        cursor = at + len(sentence)
    return bounds
