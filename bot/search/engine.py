"""The answer engine: French question in, verbatim extractive answer with its source out.

It knows nothing of Discord, SQLite or the terminal: everything it needs is passed in, and it returns a plain
`Answer`. `Engine.answer` composes the rooms of `bot.search`, one hop each: the question read once
(`question`), the passages ranked (`ranking`), the sources and quoted pieces (`quoting`, `summary`), the
evidence and its confidence (`evidence`, `confidence`, and `semantic` when a sentence model checks that the
quote is about the question), and the phrase in bold (`highlight`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from bot.search.analysis import Analyzer
from bot.search.answer import Answer, Quote
from bot.search.confidence import Evidence, SemanticEvidence, probability, reader_capped, semantic_probability
from bot.search.corpus import Corpus, Document
from bot.search.evidence import evidence, is_lead
from bot.search.highlight import highlight
from bot.search.index import CorpusIndex, IndexOptions, Progress, build_index
from bot.search.loader import load_corpus
from bot.search.options import EngineOptions
from bot.search.overview import Overview, overview
from bot.search.query import is_smalltalk, split_parts, strip_courtesy
from bot.search.question import Question, QuestionReader, check_question
from bot.search.quoting import Quoter
from bot.search.ranking import QueryTerms, rank
from bot.search.reading import ReaderEvidence, Reread, reread
from bot.search.semantic import semantic_evidence
from bot.search.summary import Pick
from bot.search.vector_file import SentenceVectors

__all__ = ["Engine", "EngineOptions", "Explained", "Overview"]


class Explained(NamedTuple):
    """An answer and what its confidence was computed from: the lexical evidence (None when nothing matched) and
    the semantic stage's (None without a sentence model or a quote, or when the model failed)."""

    answer: Answer
    evidence: Evidence | None
    semantic: SemanticEvidence | None = None
    reader: ReaderEvidence | None = None


class Engine:
    """Answers questions from one corpus and its index; immutable and thread-safe."""

    def __init__(
        self,
        corpus: Corpus,
        index: CorpusIndex,
        options: EngineOptions | None = None,
        analyzer: Analyzer | None = None,
        vectors: SentenceVectors | None = None,
    ):
        """Answer from `corpus` and the `index` built for it (`build_index`, or loaded from its saved file), with
        the sentence `vectors` of that index built so far, when it has a vector file."""
        self.options = options or EngineOptions()
        self.analyzer = analyzer or Analyzer()
        self.corpus = corpus
        self.index = index
        self.vectors = vectors
        self.reader = QuestionReader(
            index, self.analyzer, self.options.max_question_chars, self.options.max_query_terms
        )
        self.quoter = Quoter(corpus.documents, index, self.analyzer, self.options)

    @classmethod
    def build(
        cls,
        corpus: Corpus,
        options: EngineOptions | None = None,
        index_options: IndexOptions | None = None,
        progress: Progress | None = None,
        workers: int | None = None,
    ) -> Engine:
        """Index `corpus` (in `workers` processes, see `build_index`) and answer from it."""
        analyzer = Analyzer()
        return cls(corpus, build_index(corpus.documents, index_options, analyzer, progress, workers), options, analyzer)

    @classmethod
    def from_path(
        cls, path: str | Path, options: EngineOptions | None = None, index_options: IndexOptions | None = None
    ) -> Engine:
        """Load and index a corpus folder or JSON Lines file (raises CorpusError)."""
        return cls.build(load_corpus(path), options, index_options)

    @property
    def documents(self) -> list[Document]:
        """The corpus's documents, in index order (a passage's `doc_index` points into it)."""
        return self.corpus.documents

    @property
    def document_count(self) -> int:
        return len(self.corpus.documents)

    @property
    def passage_count(self) -> int:
        return len(self.index.passages)

    def overview(self, count: int = 3) -> Overview:
        """What the corpus holds, for the bot to introduce itself: document count, a few titles, a few names."""
        return overview(self.corpus.documents, count)

    def analyze_question(self, question: str) -> Question:
        """The question read once against this corpus (raises QuestionError for an empty one)."""
        return self.reader.read(question)

    def answer(self, question: str) -> Answer:
        """Answer one question (raises QuestionError for an empty one).

        Small talk ("bonjour", "que sais-tu faire ?") is recognised and left to the front door to answer;
        a question in two parts gets each part answered, each with its source.
        """
        started = time.perf_counter()
        check_question(question)
        if is_smalltalk(question):
            return Answer(question, found=False, confidence=0.0, intent="smalltalk", latency_ms=_since(started))
        parts = split_parts(strip_courtesy(question))
        answers = [self._answer(self.reader.read(part)).answer for part in parts]
        answer = answers[0] if len(answers) == 1 else _joined(answers)
        return replace(answer, question=question, latency_ms=_since(started))

    def explain(self, question: str) -> Explained:
        """The answer to a one-part question and the evidence its confidence was computed from: what
        `bench/confidence.py` and `bench/semantic.py` fit the confidence models on."""
        return self._answer(self.reader.read(strip_courtesy(question)))

    def _answer(self, question: Question) -> Explained:
        terms = QueryTerms.of(question, self.index)
        ranking = rank(self.index, question, terms, self.options)
        ranked = ranking.ranked
        sources = self.quoter.sources(ranked)
        asks = question.asked.asks
        if ranking.top is None:
            return Explained(Answer(question.text, found=False, confidence=0.0, sources=sources, asks=asks), None)
        picks = self.quoter.picks(ranked, question)
        found_evidence = evidence(self.index, question, terms, ranked, ranking.top, picks)
        reread = self._reread(question, ranked, picks)
        if reread is not None:
            picks = reread.picks
        model = self.options.sentence_model
        semantic = semantic_evidence(model, question, picks, self.vectors) if model is not None and picks else None
        if semantic is None:
            confidence, threshold = probability(found_evidence), self.options.min_confidence
        else:
            confidence = semantic_probability(found_evidence, semantic)
            threshold = self.options.semantic_min_confidence
        if reread is not None:
            confidence = reader_capped(confidence, reread.evidence.margin)
        quotes: list[Quote] = []
        if picks and confidence >= threshold:
            for rank_ in sorted({pick.source for pick in picks}):
                quotes.append(Quote(sources[rank_], [pick.text for pick in picks if pick.source == rank_]))
        found = bool(quotes)
        lead = None
        if not found and is_lead(question, terms, ranking.top, found_evidence.coverage, self.options.lead_confidence):
            lead = sources[0]
        mark = None
        if found:
            bold = reread.bold if reread is not None else None
            mark = bold or highlight(picks[0].sentence, question.text, question.asked)
        answer = Answer(
            question=question.text,
            found=found,
            confidence=round(confidence, 3),
            sources=sources,
            sentences=[sentence for quote in quotes for sentence in quote.sentences],
            lead=lead,
            quotes=quotes,
            highlight=mark if mark and mark in (quotes[0].sentences[0] if quotes else "") else None,
            asks=asks,
        )
        return Explained(answer, found_evidence, semantic, reread.evidence if reread is not None else None)

    def _reread(self, question: Question, ranked: list[tuple[int, float]], picks: list[Pick]) -> Reread | None:
        """The reader's opening and bold, when a reader is configured and reads something (`bot.search.reading`)."""
        options = self.options
        if options.reader is None or not picks:
            return None
        shown = self.quoter.shown(ranked, options.reader_passages, picks[0], options.reader_width)
        return reread(options.reader, question.text, shown, picks, options.max_chars, options.reader_min_margin)


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _joined(answers: list[Answer]) -> Answer:
    """One answer for a question in several parts: each found part's quotes, in order, with its own source."""
    found = [a for a in answers if a.found]
    if not found:
        return answers[0]
    quotes = [quote for a in found for quote in a.quotes]
    return replace(
        found[0],
        found=True,
        confidence=min(a.confidence for a in found),
        quotes=quotes,
        sentences=[sentence for quote in quotes for sentence in quote.sentences],
        sources=[source for a in found for source in a.sources][: max(len(a.sources) for a in found)],
    )
