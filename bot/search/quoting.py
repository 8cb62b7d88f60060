"""From ranked passages to what an answer shows: the source list, and the summary's candidates read from the index.

The summary (`bot.search.summary`) picks sentences from passages; this module hands it the best document's
best passages (and the next document's best one when it ranks almost as high), with each sentence's terms as
the index holds them, so no text is analysed again at question time.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from bot.search.analysis import Analyzer, prefix
from bot.search.answer import Source
from bot.search.corpus import Document
from bot.search.index import CorpusIndex
from bot.search.options import EngineOptions
from bot.search.question import Question
from bot.search.reading import Shown, sentence_bounds
from bot.search.summary import Candidate, Pick, summarize


class Quoter:
    """Turns a ranking into sources and quoted pieces, for one corpus and its index."""

    def __init__(self, documents: list[Document], index: CorpusIndex, analyzer: Analyzer, options: EngineOptions):
        self.documents = documents
        self.index = index
        self.analyzer = analyzer
        self.options = options

    def sources(self, ranked: list[tuple[int, float]]) -> list[Source]:
        """The ranked documents, best first, each once with its best passage (at most `max_sources`)."""
        sources: list[Source] = []
        seen: set[int] = set()
        for pid, score in ranked:
            passage = self.index.passages[pid]
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

    def shown(
        self, ranked: list[tuple[int, float]], count: int, around: Pick | None = None, width: int = 0
    ) -> list[Shown]:
        """What the reader reads: with `width`, the `width` sentences before and after the summary's choice
        `around` in its passage (a slice of the passage's text, verbatim); else the best document's `count` best
        passages, best first."""
        passages = self.index.passages
        if width and around is not None and around.number >= 0:
            pid = self.index.passage_of_sentence(around.number)
            first, stop = self.index.sentence_range(pid)
            text = passages[pid].text
            bounds = sentence_bounds(text)
            if len(bounds) == stop - first:
                order = around.number - first
                lo, hi = max(order - width, 0), min(order + width, len(bounds) - 1)
                before = tuple(text[a:b] for a, b in bounds[:lo])
                return [Shown(text[bounds[lo][0] : bounds[hi][1]], around.source, first + lo, before)]
        top_doc = passages[ranked[0][0]].doc_index
        pids = [pid for pid, _ in ranked if passages[pid].doc_index == top_doc][:count]
        return [Shown(passages[pid].text, 0, self.index.sentence_range(pid)[0]) for pid in pids]

    def picks(self, ranked: list[tuple[int, float]], question: Question) -> list[Pick]:
        """The quoted pieces: from the best document's best passages, and from the next document's best passage
        when it ranks almost as high (its rank in `sources` is the pick's `source`)."""
        passages = self.index.passages
        top_doc = passages[ranked[0][0]].doc_index
        picked = [(pid, score, 0) for pid, score in ranked if passages[pid].doc_index == top_doc][:3]
        if self.options.max_sources > 1:
            pid, score = next(((p, s) for p, s in ranked if passages[p].doc_index != top_doc), (-1, 0.0))
            if pid >= 0 and score >= self.options.second_source_ratio * ranked[0][1]:
                picked.append((pid, score, 1))
        by_prefix: dict[str, set[str]] = {}
        for term, prefixes in question.prefixes.items():
            for p in prefixes:
                by_prefix.setdefault(p, set()).add(term)
        known = self.sentence_terms([pid for pid, _, _ in picked], by_prefix)
        candidates = [
            Candidate(
                passages[pid].position, passages[pid].text, score, source, terms, self.index.sentence_range(pid)[0]
            )
            for (pid, score, source), terms in zip(picked, known, strict=True)
        ]

        def analyse(sentence: str) -> list[str]:
            """A sentence's terms, plus the question's terms it holds as a word prefix only (for a sentence the
            index does not hold as such)."""
            entries = self.analyzer.entries(sentence)
            derived = {term for word, _ in entries for term in by_prefix.get(prefix(word), ())}
            return [term for _, term in entries] + sorted(derived)

        # With the sentence model, the semantic stage also reads the quantity asked for (`bot.search.units`).
        wanted = question.wanted if self.options.sentence_model is not None else None
        return summarize(
            candidates,
            question.weights,
            question.cues,
            analyse,
            question.text,
            max_chars=self.options.max_chars,
            wants=wanted.named_by if wanted else None,
        )

    def sentence_terms(self, pids: list[int], by_prefix: dict[str, set[str]]) -> list[list[list[str]]]:
        """The terms of each sentence of each passage as the index holds them, so the summary analyses no text
        again, plus the question terms (`by_prefix`: word prefix -> question terms) a sentence holds only as a
        word prefix."""
        vocab = self.index.prefixes.vocab
        derived_by_id = {vocab[p]: terms for p, terms in by_prefix.items() if p in vocab}
        slots, sentence_of, passage_of = self.index.sentence_slots(np.array(pids, dtype=np.int64))
        term_ids = self.index.term_ids[slots].tolist()
        prefix_ids = self.index.prefix_ids[slots].tolist()
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
        names = [""] * len(self.index.body.vocab)
        for term, term_id in self.index.body.vocab.items():
            names[term_id] = term
        return names
