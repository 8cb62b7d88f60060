"""Everything the engine reads at query time, computed once per corpus: passages and their terms.

Each passage is analysed sentence by sentence and its term ids kept in flat arrays, so ranking
can tell which question terms a passage, one of its sentences or its title holds without
analysing any text again. This is what `bot.store` writes to disk and reads back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from bot.analyzer import Analyzer
from bot.corpus import Document
from bot.index import BM25Index
from bot.passages import Passage, split_passages, split_sentences

Progress = Callable[[int, int], None]  # (documents done, documents in all)
PROGRESS_EVERY = 2000  # documents between two progress calls


@dataclass(slots=True)
class CorpusIndex:
    """Passages, their BM25 postings, and every passage's, sentence's and title's term ids."""

    passages: list[Passage]
    passage_doc: np.ndarray  # int32, document of each passage
    body: BM25Index  # passages
    titles: BM25Index  # one entry per document
    terms: np.ndarray  # int32 body term ids, passage after passage, sentence after sentence
    sentence_offsets: np.ndarray  # int64, sentence s holds terms[sentence_offsets[s]:sentence_offsets[s + 1]]
    passage_sentences: np.ndarray  # int64, passage p holds sentences passage_sentences[p]:passage_sentences[p + 1]
    title_terms: np.ndarray  # int32 title term ids, document after document
    title_offsets: np.ndarray  # int64
    lexicon: set[str]  # folded words of the corpus: typo correction only aims at words really used

    def passage_terms(self, pid: int) -> np.ndarray:
        lo, hi = self.passage_sentences[pid], self.passage_sentences[pid + 1]
        return self.terms[self.sentence_offsets[lo] : self.sentence_offsets[hi]]

    def sentence_terms(self, pid: int) -> list[np.ndarray]:
        bounds = self.sentence_offsets[self.passage_sentences[pid] : self.passage_sentences[pid + 1] + 1]
        return [self.terms[lo:hi] for lo, hi in pairwise(bounds)]

    def title_term_ids(self, doc: int) -> np.ndarray:
        return self.title_terms[self.title_offsets[doc] : self.title_offsets[doc + 1]]


def build_index(
    documents: list[Document],
    analyzer: Analyzer,
    passage_max_chars: int = 1000,
    k1: float = 1.5,
    b: float = 0.75,
    progress: Progress | None = None,
) -> CorpusIndex:
    """Split documents into passages and analyse them; `progress` hears how far it got."""
    passages: list[Passage] = []
    vocab: dict[str, int] = {}
    term_ids: list[int] = []
    sentence_ends: list[int] = [0]
    passage_ends: list[int] = [0]
    lexicon: set[str] = set()
    setdefault = vocab.setdefault
    for i, doc in enumerate(documents):
        for passage in split_passages(list(doc.paragraphs), i, passage_max_chars):
            passages.append(passage)
            for sentence in split_sentences(passage.text):
                term_ids.extend([setdefault(t, len(vocab)) for t in analyzer.terms(sentence, lexicon)])
                sentence_ends.append(len(term_ids))
            passage_ends.append(len(sentence_ends) - 1)
        if progress is not None and (i + 1) % PROGRESS_EVERY == 0:
            progress(i + 1, len(documents))
    terms = np.asarray(term_ids, dtype=np.int32)
    sentence_offsets = np.asarray(sentence_ends, dtype=np.int64)
    passage_sentences = np.asarray(passage_ends, dtype=np.int64)
    lengths = np.diff(sentence_offsets[passage_sentences])
    body = BM25Index.from_term_ids(vocab, terms.astype(np.int64), lengths, k1=k1, b=b)

    title_vocab: dict[str, int] = {}
    title_ids: list[int] = []
    title_ends: list[int] = [0]
    for doc in documents:
        title_ids.extend(title_vocab.setdefault(t, len(title_vocab)) for t in analyzer.terms(doc.title or ""))
        title_ends.append(len(title_ids))
    title_terms = np.asarray(title_ids, dtype=np.int32)
    title_offsets = np.asarray(title_ends, dtype=np.int64)
    titles = BM25Index.from_term_ids(title_vocab, title_terms.astype(np.int64), np.diff(title_offsets))
    if progress is not None:
        progress(len(documents), len(documents))
    return CorpusIndex(
        passages=passages,
        passage_doc=np.fromiter((p.doc_index for p in passages), dtype=np.int32, count=len(passages)),
        body=body,
        titles=titles,
        terms=terms,
        sentence_offsets=sentence_offsets,
        passage_sentences=passage_sentences,
        title_terms=title_terms,
        title_offsets=title_offsets,
        lexicon=lexicon,
    )
