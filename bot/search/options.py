"""The answer's tunable limits and thresholds, read by every stage of answering (`EngineOptions`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.search.confidence import SEMANTIC_MIN_CONFIDENCE
from bot.search.reading import SpanReader
from bot.search.sentence_model import SentenceModel


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Tunable limits and thresholds of answering, and the sentence model when one checks the answers; the
    defaults are the product's. They never change the index (that is `IndexOptions`), so a saved index serves
    whatever they are."""

    max_chars: int = 600  # longest quoted answer
    # Estimated probability of a right answer below which the bot says "not found" (bench/confidence.py).
    min_confidence: float = 0.24
    # The same threshold for the confidence that reads the sentence model too (`semantic_probability`).
    semantic_min_confidence: float = SEMANTIC_MIN_CONFIDENCE
    # Loaded once per process (`load_sentence_model`) and shared by every engine; None: lexical confidence only.
    sentence_model: SentenceModel | None = None
    # Loaded once per process (`bot.search.reader.load_reader`); None: the summary chooses the opening sentence.
    reader: SpanReader | None = None
    reader_passages: int = 1  # the best document's passages the reader reads, best first…
    reader_width: int = 0  # …or, above 0, this many sentences on each side of the summary's choice, in its passage
    reader_min_margin: float = 0.0  # its span's score over its no-answer score from which it chooses the opening
    lead_confidence: float = 0.2  # below: not even named as a lead
    max_sources: int = 5
    # The next document's best passage is quoted from too when its re-ranked score is at least this share of the
    # best one's: the ranking cannot tell the two apart, and the reader sees both (above 1: never).
    second_source_ratio: float = 0.9
    # Longest question read, in characters: the one limit every front door applies (a longer one is cut).
    max_question_chars: int = 2000
    max_query_terms: int = 32
    title_weight: float = 0.6
    prefix_weight: float = 2.0  # the prefix field's share of the first ranking, against BM25's 1
    prefix_match: float = 0.5  # what a question term found only as a word prefix counts for in coverage
    rerank_depth: int = 30
    sentence_weight: float = 1.0
    coverage_weight: float = 1.5  # share of the question's weight a passage and its title hold
