"""Everything the engine reads at query time, computed once per corpus: passages and their terms.

Each passage is analysed sentence by sentence and its term ids kept in flat arrays, so ranking
can tell which question terms a passage, one of its sentences or its title holds without
analysing any text again. This is what `bot.search.index_file` writes to disk and reads back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from bot.search.analysis import Analyzer, normalize, prefix
from bot.search.bm25 import BM25Index
from bot.search.corpus import Document, default_workers, spawn_pool
from bot.search.passages import Passage, passages_with_sentences

Progress = Callable[[int, int], None]  # (documents done, documents in all)
PROGRESS_EVERY = 2000  # documents between two progress calls (at least)


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
    prefixes: BM25Index  # the prefix field: word prefixes of each passage and of its document's title
    prefix_terms: np.ndarray  # int32 prefix ids, one per entry of `terms`
    title_prefix_terms: np.ndarray  # int32 prefix ids, one per entry of `title_terms`
    lexicon: set[str]  # folded words of the corpus: typo correction only aims at words really used

    def passage_terms(self, pid: int) -> np.ndarray:
        lo, hi = self.passage_sentences[pid], self.passage_sentences[pid + 1]
        return self.terms[self.sentence_offsets[lo] : self.sentence_offsets[hi]]

    def sentence_terms(self, pid: int) -> list[np.ndarray]:
        bounds = self.sentence_offsets[self.passage_sentences[pid] : self.passage_sentences[pid + 1] + 1]
        return [self.terms[lo:hi] for lo, hi in pairwise(bounds)]

    def title_term_ids(self, doc: int) -> np.ndarray:
        return self.title_terms[self.title_offsets[doc] : self.title_offsets[doc + 1]]

    def passage_prefix_ids(self, pid: int) -> np.ndarray:
        lo, hi = self.passage_sentences[pid], self.passage_sentences[pid + 1]
        return self.prefix_terms[self.sentence_offsets[lo] : self.sentence_offsets[hi]]

    def title_prefix_ids(self, doc: int) -> np.ndarray:
        return self.title_prefix_terms[self.title_offsets[doc] : self.title_offsets[doc + 1]]


def build_index(
    documents: list[Document],
    analyzer: Analyzer,
    passage_max_chars: int = 1000,
    k1: float = 1.5,
    b: float = 0.75,
    progress: Progress | None = None,
    workers: int | None = None,
) -> CorpusIndex:
    """Split documents into passages and analyse them, in `workers` processes (default: one per core
    for a large corpus, where starting them pays off).

    `progress` hears how many documents are done. The result does not depend on `workers`: shards are
    merged in corpus order, so every term gets the id a single pass would give it.
    """
    if workers is None:
        workers = default_workers(len(documents))
    step = max(PROGRESS_EVERY, -(-len(documents) // (4 * workers)))
    starts = range(0, len(documents), step)
    shards: Iterable[_Shard]
    if workers > 1 and len(starts) > 1:
        with spawn_pool(workers) as pool:
            futures = [pool.submit(_analyze_shard, documents[s : s + step], s, passage_max_chars) for s in starts]
            shards = (future.result() for future in futures)
            return _merge(documents, shards, k1, b, progress)
    shards = (_analyze_shard(documents[s : s + step], s, passage_max_chars, analyzer) for s in starts)
    return _merge(documents, shards, k1, b, progress)


@dataclass(slots=True)
class _Shard:
    """One run of documents analysed: term ids local to `vocab`, and the sentence and passage bounds."""

    passages: list[Passage]
    vocab: list[str]
    terms: np.ndarray  # int32, ids into `vocab`
    sentence_lengths: np.ndarray  # int64, terms per sentence
    passage_lengths: np.ndarray  # int64, sentences per passage
    title_vocab: list[str]
    title_terms: np.ndarray  # int32, ids into `title_vocab`, document after document
    title_lengths: np.ndarray  # int64, terms per title
    prefix_vocab: list[str]
    prefixes: np.ndarray  # int32, ids into `prefix_vocab`, one per term of `terms`
    title_prefixes: np.ndarray  # int32, ids into `prefix_vocab`, one per term of `title_terms`
    lexicon: set[str]
    documents: int


def _analyze_shard(
    documents: list[Document], first: int, passage_max_chars: int, analyzer: Analyzer | None = None
) -> _Shard:
    """Passages, sentences and term ids of `documents` (the first being number `first` of the corpus)."""
    analyzer = analyzer or Analyzer()
    passages: list[Passage] = []
    vocab: dict[str, int] = {}
    prefix_vocab: dict[str, int] = {}
    lexicon: set[str] = set()
    # Raw token -> entry id (-1 for a stop word): each distinct token is analysed once, then only looked up;
    # an entry holds the token's term id and prefix id, read for all tokens at once at the end.
    token_ids: dict[str, int] = {}
    entry_terms: list[int] = []
    entry_prefixes: list[int] = []

    def token_id(token: str) -> int:
        word, term = analyzer.token_entry(token)
        if not term:
            token_ids[token] = -1
            return -1
        lexicon.add(word)
        entry_terms.append(vocab.setdefault(term, len(vocab)))
        entry_prefixes.append(prefix_vocab.setdefault(prefix(word), len(prefix_vocab)))
        token_ids[token] = entry = len(entry_terms) - 1
        return entry

    entry_ids: list[int] = []
    sentence_lengths: list[int] = []
    passage_lengths: list[int] = []
    title_vocab: dict[str, int] = {}
    title_ids: list[int] = []
    title_prefix_ids: list[int] = []
    title_lengths: list[int] = []
    get = token_ids.get
    for i, doc in enumerate(documents, first):
        title = analyzer.entries(doc.title or "")
        title_ids.extend(title_vocab.setdefault(term, len(title_vocab)) for _, term in title)
        title_prefix_ids.extend(prefix_vocab.setdefault(prefix(word), len(prefix_vocab)) for word, _ in title)
        title_lengths.append(len(title))
        for passage, sentences in passages_with_sentences(list(doc.paragraphs), i, passage_max_chars):
            passages.append(passage)
            passage_lengths.append(len(sentences))
            for sentence in sentences:
                tokens = analyzer.tokens(normalize(sentence))
                ids = list(map(get, tokens))
                if None in ids:
                    ids = [token_id(t) if n is None else n for t, n in zip(tokens, ids, strict=True)]
                kept = [n for n in ids if n >= 0]
                entry_ids.extend(kept)
                sentence_lengths.append(len(kept))
    entries = np.asarray(entry_ids, dtype=np.int64)
    return _Shard(
        passages,
        list(vocab),
        np.asarray(entry_terms, dtype=np.int32)[entries],
        np.asarray(sentence_lengths, dtype=np.int64),
        np.asarray(passage_lengths, dtype=np.int64),
        list(title_vocab),
        np.asarray(title_ids, dtype=np.int32),
        np.asarray(title_lengths, dtype=np.int64),
        list(prefix_vocab),
        np.asarray(entry_prefixes, dtype=np.int32)[entries],
        np.asarray(title_prefix_ids, dtype=np.int32),
        lexicon,
        len(documents),
    )


def _offsets(lengths: list[np.ndarray]) -> np.ndarray:
    out = np.zeros(sum(len(part) for part in lengths) + 1, dtype=np.int64)
    if len(out) > 1:
        np.cumsum(np.concatenate(lengths), out=out[1:])
    return out


def _remap(vocab: dict[str, int], local: list[str]) -> np.ndarray:
    """Merged id of each of a shard's local ids; the merged vocabulary takes in the shard's new terms in order."""
    return np.fromiter((vocab.setdefault(t, len(vocab)) for t in local), dtype=np.int32, count=len(local))


def _merge(
    documents: list[Document],
    shards: Iterable[_Shard],
    k1: float,
    b: float,
    progress: Progress | None,
) -> CorpusIndex:
    """Join the shards in corpus order under one vocabulary, then build the BM25 postings."""
    vocab: dict[str, int] = {}
    passages: list[Passage] = []
    terms: list[np.ndarray] = []
    sentence_lengths: list[np.ndarray] = []
    passage_lengths: list[np.ndarray] = []
    title_vocab: dict[str, int] = {}
    title_terms: list[np.ndarray] = []
    title_lengths: list[np.ndarray] = []
    prefix_vocab: dict[str, int] = {}
    prefixes: list[np.ndarray] = []
    title_prefixes: list[np.ndarray] = []
    lexicon: set[str] = set()
    done = 0
    for shard in shards:
        terms.append(_remap(vocab, shard.vocab)[shard.terms])
        prefix_ids = _remap(prefix_vocab, shard.prefix_vocab)
        prefixes.append(prefix_ids[shard.prefixes])
        title_prefixes.append(prefix_ids[shard.title_prefixes])
        passages.extend(shard.passages)
        sentence_lengths.append(shard.sentence_lengths)
        passage_lengths.append(shard.passage_lengths)
        title_terms.append(_remap(title_vocab, shard.title_vocab)[shard.title_terms])
        title_lengths.append(shard.title_lengths)
        lexicon |= shard.lexicon
        done += shard.documents
        if progress is not None and len(documents) > PROGRESS_EVERY:  # a small corpus is indexed in no time
            progress(done, len(documents))
    all_terms = _concat(terms)
    sentence_offsets = _offsets(sentence_lengths)
    passage_sentences = _offsets(passage_lengths)
    lengths = np.diff(sentence_offsets[passage_sentences])
    body = BM25Index.from_term_ids(vocab, all_terms.astype(np.int64), lengths, k1=k1, b=b)

    all_titles = _concat(title_terms)
    title_offsets = _offsets(title_lengths)
    titles = BM25Index.from_term_ids(title_vocab, all_titles.astype(np.int64), np.diff(title_offsets))

    passage_doc = np.fromiter((p.doc_index for p in passages), dtype=np.int32, count=len(passages))
    all_prefixes = _concat(prefixes)
    all_title_prefixes = _concat(title_prefixes)
    return CorpusIndex(
        passages=passages,
        passage_doc=passage_doc,
        body=body,
        titles=titles,
        terms=all_terms.astype(np.int32),
        sentence_offsets=sentence_offsets,
        passage_sentences=passage_sentences,
        title_terms=all_titles,
        title_offsets=title_offsets,
        prefixes=_prefix_field(
            prefix_vocab, all_prefixes, lengths, all_title_prefixes, title_offsets, passage_doc, k1, b
        ),
        prefix_terms=all_prefixes,
        title_prefix_terms=all_title_prefixes,
        lexicon=lexicon,
    )


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)


def _prefix_field(
    vocab: dict[str, int],
    passage_prefixes: np.ndarray,
    passage_lengths: np.ndarray,
    title_prefixes: np.ndarray,
    title_offsets: np.ndarray,
    passage_doc: np.ndarray,
    k1: float,
    b: float,
) -> BM25Index:
    """BM25 postings of the prefix field: each passage's word prefixes plus those of its document's title."""
    passages = np.arange(len(passage_lengths), dtype=np.int64)
    title_lengths = np.diff(title_offsets)[passage_doc]
    # Each passage's title prefixes: the slice title_offsets[doc]:title_offsets[doc + 1], for every passage.
    starts = np.repeat(title_offsets[:-1][passage_doc] - np.cumsum(title_lengths) + title_lengths, title_lengths)
    repeated_titles = title_prefixes[starts + np.arange(int(title_lengths.sum()), dtype=np.int64)]
    return BM25Index.from_term_ids(
        vocab,
        np.concatenate([passage_prefixes, repeated_titles]).astype(np.int64),
        passage_lengths + title_lengths,
        passage_of=np.concatenate([np.repeat(passages, passage_lengths), np.repeat(passages, title_lengths)]),
        k1=k1,
        b=b,
    )
