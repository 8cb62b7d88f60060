"""The answer engine: French question in, verbatim extractive answer with its source out.

It knows nothing of Discord, SQLite or the terminal: everything it needs is passed in, and
it returns a plain `Answer`. Ranking is BM25 over passages (plus the document title), then a
re-ranking of the best passages by how well one of their sentences covers the question.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from bot.search.analysis import Analyzer, cues, fold, normalize, prefix, words
from bot.search.answer import Answer, QuestionError, Quote, Source
from bot.search.confidence import Evidence, probability
from bot.search.corpus import Corpus, Document
from bot.search.highlight import highlight
from bot.search.index import CorpusIndex, IndexOptions, Progress, build_index
from bot.search.loader import load_corpus
from bot.search.passages import Passage
from bot.search.query import equivalent_words, is_smalltalk, split_parts, strip_courtesy
from bot.search.summary import Candidate, Pick, summarize

EMPTY_QUESTION = "La question est vide : écrivez une question en français, par exemple « Qui dirige Alibaba ? »."
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
MIN_TERM_WEIGHT = 1e-3  # floor of a question term's weight
ASKED_KIND_WEIGHT = 0.3  # share of its weight the noun after "quel" keeps ("quelle ville")


def _scaled(scores: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Scores of passages `ids` divided by the best score of all, so that two rankings of different scales can
    be added."""
    best = float(scores.max())
    return scores[ids] / best if best > 0 else scores[ids]


def _lookup(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of `values` is in the sorted `keys`, and which of them are there at all."""
    if len(keys) == 0:
        return np.zeros(len(values), dtype=np.intp), np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
    return at, keys[at] == values


def _sorted_pairs(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, positions) arrays of (id, position) pairs, sorted by id for `_lookup`."""
    pairs = sorted(pairs)
    return np.array([i for i, _ in pairs], dtype=np.int64), np.array([p for _, p in pairs], dtype=np.intp)


def _weight_sums(mask: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum of the weights of each row's True positions, added one after the other in the question's order."""
    if mask.shape[1] == 0:
        return np.zeros(mask.shape[0])
    return np.cumsum(np.where(mask, weights, 0.0), axis=1)[:, -1]


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Tunable limits and thresholds of answering; the defaults are the product's. They never change the
    index (that is `IndexOptions`), so a saved index serves whatever they are."""

    max_chars: int = 600  # longest quoted answer
    # Estimated probability of a right answer below which the bot says "not found" (bench/confidence.py).
    min_confidence: float = 0.24
    lead_confidence: float = 0.2  # below: not even named as a lead
    max_sources: int = 5
    # The next document's best passage is quoted from too when its re-ranked score is at least this share of the
    # best one's: the ranking cannot tell the two apart, and the reader sees both (above 1: never).
    second_source_ratio: float = 0.9
    max_question_chars: int = 2000  # longer questions are cut (bounded time)
    max_query_terms: int = 32
    title_weight: float = 0.6
    prefix_weight: float = 2.0  # the prefix field's share of the first ranking, against BM25's 1
    prefix_match: float = 0.5  # what a question term found only as a word prefix counts for in coverage
    rerank_depth: int = 30
    sentence_weight: float = 1.0
    coverage_weight: float = 1.5  # share of the question's weight a passage and its title hold


@dataclass(frozen=True, slots=True)
class Overview:
    """What a corpus holds, in a few words: its size, some titles, some names it talks about."""

    documents: int
    titles: list[str]
    names: list[str]


@dataclass(frozen=True, slots=True)
class Query:
    """An analysed question: its terms with their weights, and the kind of answer it wants."""

    text: str
    terms: list[str]
    weights: dict[str, float]  # term -> idf (question weight)
    factors: dict[str, float]  # term -> 1.0, or less for a typo-corrected term
    cues: set[str]
    prefixes: dict[str, frozenset[str]]  # term -> prefix-field terms of the question words it comes from

    @property
    def total(self) -> float:
        return sum(self.weights.values()) or 1.0


@dataclass(frozen=True, slots=True)
class _QueryTerms:
    """A query as ranking reads it: its terms' ids in the passage, title and prefix vocabularies (sorted, for
    binary searches) with the query positions they stand for, and the weight of each position."""

    body_ids: np.ndarray  # sorted body term ids of the query's terms
    body_positions: np.ndarray  # position in the query of each of body_ids
    title_ids: np.ndarray  # sorted title term ids of the query's terms
    title_positions: np.ndarray  # position in the query of each of title_ids
    prefix_ids: np.ndarray  # sorted prefix term ids of the query's words
    prefix_positions: np.ndarray  # bool (prefix, position): the query terms each prefix comes from
    weights: np.ndarray  # idf weight per position
    weighted: np.ndarray  # idf weight times the typo factor
    total: float


@dataclass(frozen=True, slots=True)
class _Coverage:
    """What a question finds in some passages, one row per passage: the positions of its terms found as a stem
    (in the passage or its document's title), those found only as a word prefix, and the resulting shares."""

    found: np.ndarray  # bool (passage, position)
    derived: np.ndarray  # bool (passage, position), never where `found` is
    coverage: np.ndarray  # share of the question's weight in the passage or its title (prefixes count less)
    sentence_coverage: np.ndarray  # share of the question's weight in the passage's best sentence

    def row(self, k: int) -> _Coverage:
        """Passage `k` alone, as a one-row `_Coverage`."""
        keep = slice(k, k + 1)
        return _Coverage(self.found[keep], self.derived[keep], self.coverage[keep], self.sentence_coverage[keep])


@dataclass(frozen=True, slots=True)
class _Ranking:
    """The re-ranked passages, and for the best one what the re-ranking found of the question in it, which
    the confidence model reads again."""

    ranked: list[tuple[int, float]]  # (passage, score), best first
    top: _Coverage | None  # one row: the best passage's (None when nothing matched)


class Engine:
    """Answers questions from one corpus and its index; immutable and thread-safe."""

    def __init__(
        self,
        corpus: Corpus,
        index: CorpusIndex,
        options: EngineOptions | None = None,
        analyzer: Analyzer | None = None,
    ):
        """Answer from `corpus` and the `index` built for it (`build_index`, or loaded from its saved file)."""
        self.options = options or EngineOptions()
        self.analyzer = analyzer or Analyzer()
        self.corpus = corpus
        self.documents: list[Document] = corpus.documents
        self.index = index
        self.passages: list[Passage] = index.passages
        self.passage_doc = index.passage_doc
        # The same as intp: gathering through int32 indices converts them first, several times slower per answer.
        self._passage_doc_ix = index.passage_doc.astype(np.intp)
        self.body = index.body
        self.titles = index.titles
        self.prefixes = index.prefixes
        self.lexicon = index.lexicon

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
    def document_count(self) -> int:
        return len(self.documents)

    @property
    def passage_count(self) -> int:
        return len(self.passages)

    def overview(self, count: int = 3) -> Overview:
        """What the corpus holds, for the bot to introduce itself: document count, a few titles, a few names.

        The names are people or organisations (capitalised words past a sentence's start) from the opening
        paragraphs of different documents, so example questions about them find an answer.
        """
        titles = [" ".join(d.title.split()) for d in self.documents if d.title][:count]
        names: list[str] = []
        for document in self.documents:
            opening = " ".join(document.paragraphs[:2])
            found = [m.group(0) for m in _MULTI_NAME.finditer(opening) if m.group(0) not in names]
            if found:
                names.append(found[0])
            if len(names) >= count:
                break
        return Overview(len(self.documents), titles, names)

    # -- question analysis -------------------------------------------------------------

    def analyze_question(self, question: str) -> Query:
        """Terms of a question, typo-corrected against the index vocabulary, weighted by idf."""
        text = normalize(question or "")
        if not any(ch.isalnum() for ch in text):
            raise QuestionError(EMPTY_QUESTION)
        if len(text) > self.options.max_question_chars:
            cut = text.rfind(" ", 0, self.options.max_question_chars)
            text = text[: cut if cut > 0 else self.options.max_question_chars]
        factors: dict[str, float] = {}
        prefixes: dict[str, set[str]] = {}
        for word in equivalent_words(words(text), self._usage):
            if self.analyzer.is_stop_word(word):
                continue
            term = self.analyzer.stem(word)
            factor = 1.0
            if not self._known(term):
                plural = self._verb_plural(word)
                corrected = plural or self._correct(word)
                if corrected is not None:
                    term, factor = corrected, 1.0 if plural else 0.8
            factors[term] = max(factor, factors.get(term, 0.0))
            prefixes.setdefault(term, set()).add(prefix(word))
        # BM25's idf is 0 or below on tiny corpora (a term in 1 of 2 passages): a question weight must stay
        # positive, or coverage and confidence read 0 and a two-document corpus never answers.
        weights = {t: max(self.body.term_idf(t), MIN_TERM_WEIGHT) for t in factors}
        # "Dans quelle province…": the noun after "quel" names the kind of answer; the answer rarely repeats it.
        for word in _asked_kinds(text):
            term = self.analyzer.stem(word)
            if term in weights:
                weights[term] *= ASKED_KIND_WEIGHT
        if len(weights) > self.options.max_query_terms:
            keep = sorted(weights, key=weights.__getitem__, reverse=True)[: self.options.max_query_terms]
            weights = {t: weights[t] for t in keep}
        terms = list(weights)
        return Query(
            text,
            terms,
            weights,
            {t: factors[t] for t in terms},
            cues(text),
            {t: frozenset(prefixes[t]) for t in terms},
        )

    def _usage(self, form: tuple[str, ...]) -> int:
        """How much the corpus uses a form of words: the passages holding its least frequent word."""
        terms = [self.analyzer.stem(w) for w in form if not self.analyzer.is_stop_word(w)]
        return min((self.body.df(t) for t in terms), default=0)

    def _known(self, term: str) -> bool:
        return term in self.body.vocab or term in self.titles.vocab

    def _verb_plural(self, word: str) -> str | None:
        """The corpus term of a verb's third person plural that Snowball leaves whole ("vendent" -> "vend",
        "trouvent" -> "trouv"), when the singular's stem is known."""
        if not word.endswith("ent") or len(word) < 6:
            return None
        for singular in (word[:-2], word[:-3]):
            term = self.analyzer.stem(singular)
            if self._known(term):
                return term
        return None

    def _correct(self, word: str) -> str | None:
        """The term of the most frequent corpus word one edit away from an unknown word (typo tolerance).

        Only words of five letters or more are corrected, and only towards a word that occurs in the
        corpus as written (not merely a stem), so a real word absent from the corpus stays unknown.
        """
        if not 5 <= len(word) <= 24 or not word.isalpha():
            return None
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        edits |= {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
        edits |= {a + c + b for a, b in splits for c in _ALPHABET}
        best, best_df = None, 0
        for edit in sorted(edits & self.lexicon):  # in order, so that a tie always goes the same way
            term = self.analyzer.stem(edit)
            df = self.body.df(term)
            if df > best_df:
                best, best_df = term, df
        return best

    # -- ranking -------------------------------------------------------------------------

    def rank(self, query: Query) -> list[tuple[int, float]]:
        """Best passages (index, score), re-ranked by how much of the question they and their best sentence cover.

        The first ranking adds BM25 over stems (plus the title) and BM25 over word prefixes, each scaled
        to its best passage; the re-ranking then favours the passages holding all of the question, where
        BM25 favours one repeating a rare term.
        """
        return self._rank(query, self._query_terms(query)).ranked

    def _rank(self, query: Query, terms: _QueryTerms) -> _Ranking:
        """`rank`, keeping what the re-ranking found in the best passage for the confidence model."""
        if not query.terms:
            return _Ranking([], None)
        factors = [query.factors[t] for t in query.terms]
        body, hit = self.body.dense_scores(query.terms, factors)
        prefixes, prefix_hit = self.prefixes.dense_scores(sorted(set().union(*query.prefixes.values())))
        hit |= prefix_hit
        ids = np.flatnonzero(hit)  # a tiny corpus gives BM25 scores of 0: a passage hit stays a candidate
        if len(ids) == 0:
            return _Ranking([], None)
        by_doc, title_hit = self.titles.dense_scores(query.terms, factors)
        if title_hit.any():
            body += self.options.title_weight * np.take(by_doc, self._passage_doc_ix)
        scores = _scaled(body, ids) + self.options.prefix_weight * _scaled(prefixes, ids)
        depth = self.options.rerank_depth
        if len(ids) > depth:
            keep = np.argpartition(-scores, depth - 1)[:depth]
            ids, scores = ids[keep], scores[keep]
        top = float(scores.max()) or 1.0
        found = self._coverages(terms, ids)
        final = (
            scores / top
            + self.options.sentence_weight * found.sentence_coverage
            + self.options.coverage_weight * found.coverage
        )
        ranked = sorted(zip(ids.tolist(), final.tolist(), strict=True), key=lambda item: (-item[1], item[0]))
        return _Ranking(ranked, found.row(int(np.flatnonzero(ids == ranked[0][0])[0])))

    def _query_terms(self, query: Query) -> _QueryTerms:
        """The query's terms as ranking reads them: built once per question, read by the re-ranking, the
        confidence and the lead."""
        body, titles, prefixes = self.body.vocab, self.titles.vocab, self.prefixes.vocab
        by_prefix: dict[int, list[int]] = {}
        for i, term in enumerate(query.terms):
            for p in query.prefixes[term]:
                if p in prefixes:
                    by_prefix.setdefault(prefixes[p], []).append(i)
        prefix_ids = sorted(by_prefix)
        cells = [(row, i) for row, p in enumerate(prefix_ids) for i in by_prefix[p]]
        prefix_positions = np.zeros((len(prefix_ids), len(query.terms)), dtype=bool)
        if cells:
            prefix_positions[tuple(np.array(cells).T)] = True
        weights = np.array([query.weights[t] for t in query.terms], dtype=np.float64)
        return _QueryTerms(
            *_sorted_pairs([(body[t], i) for i, t in enumerate(query.terms) if t in body]),
            *_sorted_pairs([(titles[t], i) for i, t in enumerate(query.terms) if t in titles]),
            np.array(prefix_ids, dtype=np.int64),
            prefix_positions,
            weights,
            weights * np.array([query.factors[t] for t in query.terms], dtype=np.float64),
            query.total,
        )

    def _coverages(self, terms: _QueryTerms, pids: np.ndarray) -> _Coverage:
        """Which question terms each passage of `pids` holds, as a stem or only as a word prefix (a derived word:
        "construit" for "construction"), counting its document's title, and the shares of the question's weight
        they and each passage's best sentence hold; all passages at once, a term counting once per passage or
        sentence however often it occurs there."""
        arrays = self.index.arrays
        count, n = len(pids), len(terms.weights)
        slots, term_sentence, sentence_passage = self.index.sentence_slots(pids)
        title_slots, title_doc = self.index.title_slots(self.passage_doc[pids])
        term_passage = sentence_passage[term_sentence]

        at, hit = _lookup(terms.body_ids, arrays["terms"][slots])
        positions = terms.body_positions[at[hit]]
        in_sentence = np.zeros((len(sentence_passage), n), dtype=bool)
        in_sentence[term_sentence[hit], positions] = True
        found = np.zeros((count, n), dtype=bool)
        found[term_passage[hit], positions] = True
        at, hit = _lookup(terms.title_ids, arrays["title_terms"][title_slots])
        found[title_doc[hit], terms.title_positions[at[hit]]] = True

        present = np.zeros((count, len(terms.prefix_ids)), dtype=bool)
        at, hit = _lookup(terms.prefix_ids, arrays["prefix_terms"][slots])
        present[term_passage[hit], at[hit]] = True
        at, hit = _lookup(terms.prefix_ids, arrays["title_prefix_terms"][title_slots])
        present[title_doc[hit], at[hit]] = True
        derived = (present @ terms.prefix_positions) & ~found

        best_sentence = np.zeros(count)
        np.maximum.at(best_sentence, sentence_passage, _weight_sums(in_sentence, terms.weights))
        weight = _weight_sums(found, terms.weighted) + self.options.prefix_match * _weight_sums(derived, terms.weighted)
        return _Coverage(found, derived, weight / terms.total, best_sentence / terms.total)

    def coverage(self, query: Query, pid: int) -> float:
        """Share of the question's weight found in a passage or its document title (0..1).

        A ratio of the question's own term weights, so it reads the same on 5 or 50,000 documents.
        """
        return float(self._coverages(self._query_terms(query), np.array([pid])).coverage[0])

    def _is_lead(self, query: Query, terms: _QueryTerms, top: _Coverage, confidence: float) -> bool:
        """A document "comes close" when it holds the question's weightiest term and some more."""
        if confidence < self.options.lead_confidence or not query.weights:
            return False
        return bool(top.found[0, int(np.argmax(terms.weights))])

    # -- answering -----------------------------------------------------------------------

    def answer(self, question: str) -> Answer:
        """Answer one question (raises QuestionError for an empty one).

        Small talk ("bonjour", "que sais-tu faire ?") is recognised and left to the front door to answer;
        a question in two parts gets each part answered, each with its source.
        """
        started = time.perf_counter()
        if not any(ch.isalnum() for ch in normalize(question or "")):
            raise QuestionError(EMPTY_QUESTION)
        if is_smalltalk(question):
            return Answer(question, found=False, confidence=0.0, intent="smalltalk", latency_ms=_since(started))
        parts = split_parts(strip_courtesy(question))
        answers = [self._answer_part(part) for part in parts]
        answer = answers[0] if len(answers) == 1 else _joined(answers)
        return replace(answer, question=question, latency_ms=_since(started))

    def explain(self, question: str) -> tuple[Answer, Evidence | None]:
        """The answer to a one-part question and the evidence its confidence was computed from (None when
        nothing matched): what `bench/confidence.py` fits the confidence model on."""
        query = self.analyze_question(strip_courtesy(question))
        return self._answer_query(query)

    def _answer_part(self, text: str) -> Answer:
        return self._answer_query(self.analyze_question(text))[0]

    def _answer_query(self, query: Query) -> tuple[Answer, Evidence | None]:
        terms = self._query_terms(query)
        ranking = self._rank(query, terms)
        ranked = ranking.ranked
        sources = self._sources(ranked)
        if ranking.top is None:
            return Answer(query.text, found=False, confidence=0.0, sources=sources, asks=_asks(query)), None
        picks = self._summary(ranked, query)
        evidence = self._evidence(query, terms, ranked[0][0], ranking.top, picks)
        confidence = probability(evidence)
        quotes: list[Quote] = []
        if picks and confidence >= self.options.min_confidence:
            for rank in sorted({pick.source for pick in picks}):
                quotes.append(Quote(sources[rank], [pick.text for pick in picks if pick.source == rank]))
        found = bool(quotes)
        lead = None
        if not found and self._is_lead(query, terms, ranking.top, evidence.coverage):
            lead = sources[0]
        mark = highlight(picks[0].sentence, query.text, query.cues) if found else None
        answer = Answer(
            question=query.text,
            found=found,
            confidence=round(confidence, 3),
            sources=sources,
            sentences=[sentence for quote in quotes for sentence in quote.sentences],
            lead=lead,
            quotes=quotes,
            highlight=mark if mark and mark in (quotes[0].sentences[0] if quotes else "") else None,
            asks=_asks(query),
        )
        return answer, evidence

    def _evidence(self, query: Query, terms: _QueryTerms, pid: int, top: _Coverage, picks: list[Pick]) -> Evidence:
        """What the confidence model reads of the best answer, passage `pid` (see `bot.search.confidence`);
        `top` is what the re-ranking found of the question in it."""
        found, derived = top.found[0].tolist(), top.derived[0].tolist()
        weights = terms.weights.tolist()
        heaviest = max(range(len(weights)), key=weights.__getitem__)
        missing = [weights[i] for i in range(len(weights)) if not found[i] and not derived[i]]
        doc = int(self.passage_doc[pid])
        lo, hi = self.index.arrays["title_offsets"][doc : doc + 2]
        title = set(self.index.arrays["title_terms"][lo:hi].tolist())
        # In the question's order, as the weights are added everywhere else.
        in_title = sorted(
            i for t, i in zip(terms.title_ids.tolist(), terms.title_positions.tolist(), strict=True) if t in title
        )
        names = _names(query.text)
        named = [self.analyzer.stem(fold(name)) for name in names]
        names_found = 1.0
        if named:
            doc_terms = self._document_terms(doc)
            names_found = sum(self.body.vocab.get(t, -1) in doc_terms for t in named) / len(named)
        return Evidence(
            coverage=float(top.coverage[0]),
            sentence_coverage=float(top.sentence_coverage[0]),
            rarest_found=float(found[heaviest]),
            rarest_derived=float(derived[heaviest]),
            missing_weight=max(missing, default=0.0) / max(weights),
            terms_found=sum(found) / len(weights),
            title_coverage=sum(weights[i] for i in in_title) / terms.total,
            names_found=names_found,
            has_names=float(bool(named)),
            typed=float(bool(picks) and picks[0].typed),
            has_cues=float(bool(query.cues)),
            terms=float(len(query.terms)),
            log_terms=math.log1p(len(query.terms)),
        )

    def _document_terms(self, doc: int) -> set[int]:
        """Body term ids of a whole document: its passages are contiguous, in document order, so two binary
        searches find them instead of a pass over every passage of the corpus."""
        first, stop = (int(i) for i in np.searchsorted(self.passage_doc, [doc, doc + 1]))
        if first == stop:
            return set()
        return set(self.index.passages_terms(first, stop - 1).tolist())

    def _sources(self, ranked: list[tuple[int, float]]) -> list[Source]:
        sources: list[Source] = []
        seen: set[int] = set()
        for pid, score in ranked:
            passage = self.passages[pid]
            if passage.doc_index in seen:
                continue
            seen.add(passage.doc_index)
            doc = self.documents[passage.doc_index]
            sources.append(
                Source(
                    doc_id=doc.doc_id,
                    title=doc.title,
                    publisher=doc.publisher,
                    published=doc.published,
                    url=doc.url,
                    score=round(score, 4),
                    passage=passage.text,
                    file=doc.file,
                )
            )
            if len(sources) >= self.options.max_sources:
                break
        return sources

    def _summary(self, ranked: list[tuple[int, float]], query: Query) -> list[Pick]:
        """The quoted pieces: from the best document's best passages, and from the next document's best passage
        when it ranks almost as high (its rank in `_sources` is the pick's `source`)."""
        top_doc = self.passages[ranked[0][0]].doc_index
        picked = [(pid, score, 0) for pid, score in ranked if self.passages[pid].doc_index == top_doc][:3]
        if self.options.max_sources > 1:
            pid, score = next(((p, s) for p, s in ranked if self.passages[p].doc_index != top_doc), (-1, 0.0))
            if pid >= 0 and score >= self.options.second_source_ratio * ranked[0][1]:
                picked.append((pid, score, 1))
        by_prefix: dict[str, set[str]] = {}
        for term, prefixes in query.prefixes.items():
            for p in prefixes:
                by_prefix.setdefault(p, set()).add(term)
        known = self.sentence_terms([pid for pid, _, _ in picked], by_prefix)
        candidates = [
            Candidate(self.passages[pid].position, self.passages[pid].text, score, source, terms)
            for (pid, score, source), terms in zip(picked, known, strict=True)
        ]

        def analyse(sentence: str) -> list[str]:
            """A sentence's terms, plus the question's terms it holds as a word prefix only (for a sentence the
            index does not hold as such)."""
            entries = self.analyzer.entries(sentence)
            derived = {term for word, _ in entries for term in by_prefix.get(prefix(word), ())}
            return [term for _, term in entries] + sorted(derived)

        return summarize(
            candidates,
            query.weights,
            query.cues,
            analyse,
            query.text,
            max_chars=self.options.max_chars,
        )

    def sentence_terms(self, pids: list[int], by_prefix: dict[str, set[str]]) -> list[list[list[str]]]:
        """The terms of each sentence of each passage as the index holds them, so the summary analyses no text
        again, plus the question terms (`by_prefix`: word prefix -> question terms) a sentence holds only as a
        word prefix."""
        derived_by_id = {self.prefixes.vocab[p]: terms for p, terms in by_prefix.items() if p in self.prefixes.vocab}
        slots, sentence_of, passage_of = self.index.sentence_slots(np.array(pids, dtype=np.int64))
        term_ids = self.index.arrays["terms"][slots].tolist()
        prefix_ids = self.index.arrays["prefix_terms"][slots].tolist()
        names = self._term_names
        out: list[list[list[str]]] = [[] for _ in pids]
        sentences: list[list[str]] = [[] for _ in range(len(passage_of))]
        derived: list[set[str]] = [set() for _ in range(len(passage_of))]
        for sentence, term, prefix_id in zip(sentence_of.tolist(), term_ids, prefix_ids, strict=True):
            sentences[sentence].append(names[term])
            if prefix_id in derived_by_id:
                derived[sentence].update(derived_by_id[prefix_id])
        for sentence, passage in enumerate(passage_of.tolist()):
            out[passage].append(sentences[sentence] + sorted(derived[sentence]))
        return out

    @cached_property
    def _term_names(self) -> list[str]:
        """The body vocabulary by term id."""
        names = [""] * len(self.body.vocab)
        for term, term_id in self.body.vocab.items():
            names[term_id] = term
        return names


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


_MULTI_NAME = re.compile(r"(?<=[a-zà-ÿ,] )[A-ZÀ-Ý][a-zà-ÿ]+(?: [A-ZÀ-Ý][a-zà-ÿ]+)+")
_NAME_WORD = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-ZÀ-ÝŒ][\w-]+")


_KIND_NOUNS = frozenset(
    fold(w)
    for w in """ville villes région régions province provinces pays continent département commune quartier lieu endroit
    année années date jour mois siècle époque âge nombre montant pourcentage somme prix taux quantité personne
    entreprise société marque plateforme plateformes""".split()
)
_ASKED_KIND = re.compile(r"\b(?:quel|quelle|quels|quelles|lequel|laquelle)\s+([^\W\d_]+)", re.IGNORECASE)


def _asked_kinds(question: str) -> list[str]:
    """Folded nouns that name the kind of answer asked for: "quelle province" -> ["province"]."""
    return [w for w in (fold(m.group(1)) for m in _ASKED_KIND.finditer(question)) if w in _KIND_NOUNS]


def _names(question: str) -> list[str]:
    """Capitalised words of a question past its first word: the names it is about."""
    return [name for name in _NAME_WORD.findall(question) if len(name) > 1]


def _asks(query: Query) -> str | None:
    """The kind of answer a question asks for, as the front doors show it (the first of its cues, or None)."""
    return next((cue for cue in ("date", "number", "person", "place", "cause") if cue in query.cues), None)


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
