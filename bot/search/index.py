"""Everything the engine reads at query time, computed once per corpus: passages and their terms.

Each passage is analysed sentence by sentence and its term ids kept in flat arrays, so ranking
can tell which question terms a passage, one of its sentences or its title holds without
analysing any text again. This is what `bot.search.index_file` writes to disk and reads back.
Each flat array is declared once, in `ARRAYS`: analysis, merging and the saved file's checks
all follow that declaration; ranking, evidence and quoting read them through `CorpusIndex`'s typed
accessors (`term_ids`, `title_terms(doc)`, `sentence_slots`…), never by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from bot.search.analysis import Analyzer, normalize, prefix
from bot.search.bm25 import K1, B, BM25Index
from bot.search.corpus import Document
from bot.search.passages import Passage, passages_with_sentences
from bot.search.workers import default_workers, spawn_pool

Progress = Callable[[int, int], None]  # (documents done, documents in all)
PROGRESS_EVERY = 2000  # documents between two progress calls (at least)

# What an array has one entry per: a document, passage or sentence, a term of a sentence, a term of a title.
Unit = Literal["document", "passage", "sentence", "term", "title_term"]
FIELDS = ("body", "titles", "prefixes")  # the BM25 postings, by CorpusIndex attribute


@dataclass(frozen=True, slots=True)
class IndexOptions:
    """What shapes the index, so what a saved index is keyed by; the answer's options are the engine's."""

    passage_max_chars: int = 1000
    k1: float = K1  # BM25 term-frequency saturation (rank-bm25's default)
    b: float = B  # BM25 length normalisation


@dataclass(frozen=True, slots=True)
class IndexArray:
    """One flat array of the index: ids into a field's vocabulary, one per `per` (a term or a title term),
    or offsets, one per `per` plus one, into the arrays with one entry per `counts`."""

    name: str
    per: Unit
    dtype: type[np.integer]
    vocab: str | None = None  # the field (see FIELDS) whose vocabulary `key` fills
    key: Callable[[str, str], str] | None = None  # (folded word, term) -> vocabulary entry
    counts: Unit | None = None

    @property
    def is_offsets(self) -> bool:
        return self.counts is not None


def _stem(word: str, term: str) -> str:
    return term


def _word_prefix(word: str, term: str) -> str:
    return prefix(word)


ARRAYS: tuple[IndexArray, ...] = (
    # Offsets first, each after the one that counts its `per` units (the saved file is checked in this order). The
    # analysis counts what a document (title terms), a passage (sentences) and a sentence (terms) holds; the other
    # arrays have one id per term or per title term.
    IndexArray("passage_sentences", "passage", np.int64, counts="sentence"),
    IndexArray("sentence_offsets", "sentence", np.int64, counts="term"),
    IndexArray("title_offsets", "document", np.int64, counts="title_term"),
    IndexArray("terms", "term", np.int32, vocab="body", key=_stem),
    IndexArray("prefix_terms", "term", np.int32, vocab="prefixes", key=_word_prefix),
    IndexArray("title_terms", "title_term", np.int32, vocab="titles", key=_stem),
    IndexArray("title_prefix_terms", "title_term", np.int32, vocab="prefixes", key=_word_prefix),
)


@dataclass(slots=True)
class CorpusIndex:
    """Passages, their BM25 postings, and every passage's, sentence's and title's term ids (`ARRAYS`).

    Code outside `bot.search.index*` reads the flat arrays through the typed accessors below, never by name.
    """

    passages: list[Passage]
    passage_doc: np.ndarray  # int32, document of each passage
    body: BM25Index  # passages
    titles: BM25Index  # one entry per document
    prefixes: BM25Index  # the prefix field: word prefixes of each passage and of its document's title
    arrays: dict[str, np.ndarray]  # by `IndexArray.name`
    lexicon: set[str]  # folded words of the corpus: typo correction only aims at words really used
    # The same as passage_doc in intp: gathering through int32 indices converts them first, several times slower.
    passage_doc_ix: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.passage_doc_ix = self.passage_doc.astype(np.intp)

    @property
    def term_ids(self) -> np.ndarray:
        """Body term id of every term of every sentence, in corpus order (see `sentence_slots`)."""
        return self.arrays["terms"]

    @property
    def prefix_ids(self) -> np.ndarray:
        """Prefix-field term id of every term of every sentence, aligned with `term_ids`."""
        return self.arrays["prefix_terms"]

    @property
    def title_term_ids(self) -> np.ndarray:
        """Title term id of every term of every title, in document order (see `title_slots`)."""
        return self.arrays["title_terms"]

    @property
    def title_prefix_ids(self) -> np.ndarray:
        """Prefix-field term id of every term of every title, aligned with `title_term_ids`."""
        return self.arrays["title_prefix_terms"]

    def title_terms(self, doc: int) -> np.ndarray:
        """Title term ids of document `doc`."""
        lo, hi = self.arrays["title_offsets"][doc : doc + 2]
        return self.arrays["title_terms"][lo:hi]

    @property
    def sentence_count(self) -> int:
        """Sentences of the whole index, numbered in corpus order (a passage's are consecutive)."""
        return int(self.arrays["passage_sentences"][-1])

    def sentence_range(self, pid: int) -> tuple[int, int]:
        """The numbers [first, stop) of passage `pid`'s sentences."""
        sentences = self.arrays["passage_sentences"]
        return int(sentences[pid]), int(sentences[pid + 1])

    def passage_of_sentence(self, number: int) -> int:
        """The passage that sentence `number` belongs to."""
        return int(np.searchsorted(self.arrays["passage_sentences"], number, side="right")) - 1

    def _term_bounds(self, pid: int) -> tuple[int, int]:
        sentences, offsets = self.arrays["passage_sentences"], self.arrays["sentence_offsets"]
        return offsets[sentences[pid]], offsets[sentences[pid + 1]]

    def passages_terms(self, first: int, last: int) -> np.ndarray:
        """Body term ids of passages `first` to `last` included (a document's passages are contiguous)."""
        return self.arrays["terms"][self._term_bounds(first)[0] : self._term_bounds(last)[1]]

    def document_terms(self, doc: int) -> set[int]:
        """Body term ids of a whole document: its passages are contiguous, in document order, so two binary
        searches find them instead of a pass over every passage of the corpus."""
        first, stop = (int(i) for i in np.searchsorted(self.passage_doc, [doc, doc + 1]))
        if first == stop:
            return set()
        return set(self.passages_terms(first, stop - 1).tolist())

    def sentence_slots(self, pids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where the terms of passages `pids` sit in the per-term arrays, the sentence each comes from (numbered
        0, 1, … across all of them) and the passage (position in `pids`) each of those sentences belongs to:
        what re-ranking reads of several passages at once, without a Python loop over their terms."""
        sentences, offsets = self.arrays["passage_sentences"], self.arrays["sentence_offsets"]
        first, stop = sentences[pids], sentences[pids + 1]
        sentence_ids = ranges(first, stop)
        lo, hi = offsets[sentence_ids], offsets[sentence_ids + 1]
        term_sentence = np.repeat(np.arange(len(sentence_ids)), hi - lo)
        return ranges(lo, hi), term_sentence, np.repeat(np.arange(len(pids)), stop - first)

    def title_slots(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the title terms of documents `docs` sit in the per-title-term arrays, and the document
        (position in `docs`) each comes from."""
        offsets = self.arrays["title_offsets"]
        lo, hi = offsets[docs], offsets[docs + 1]
        return ranges(lo, hi), np.repeat(np.arange(len(docs)), hi - lo)


def ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The integers of every range [start, stop) one after the other, as one array."""
    lengths = stops - starts
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    return np.arange(total, dtype=np.int64) + np.repeat(starts - ends + lengths, lengths)


def build_index(
    documents: list[Document],
    options: IndexOptions | None = None,
    analyzer: Analyzer | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> CorpusIndex:
    """Split documents into passages and analyse them, in `workers` processes (default: one per core
    for a large corpus, where starting them pays off).

    `progress` hears how many documents are done. The result does not depend on `workers`: shards are
    merged in corpus order, so every term gets the id a single pass would give it.
    """
    options = options or IndexOptions()
    if workers is None:
        workers = default_workers(len(documents))
    step = max(PROGRESS_EVERY, -(-len(documents) // (4 * workers)))
    starts = range(0, len(documents), step)
    shards: Iterable[_Shard]
    if workers > 1 and len(starts) > 1:
        with spawn_pool(workers) as pool:
            max_chars = options.passage_max_chars
            futures = [pool.submit(_analyze_shard, documents[s : s + step], s, max_chars) for s in starts]
            shards = (future.result() for future in futures)
            return _merge(documents, shards, options, progress)
    shards = (_analyze_shard(documents[s : s + step], s, options.passage_max_chars, analyzer) for s in starts)
    return _merge(documents, shards, options, progress)


@dataclass(slots=True)
class _Shard:
    """One run of documents analysed: each array of `ARRAYS` with ids local to `vocabs` (offsets as lengths)."""

    passages: list[Passage]
    vocabs: dict[str, list[str]]  # field -> its terms, in local id order
    columns: dict[str, np.ndarray]  # array name -> local ids, or for offsets the count of each unit's entries
    lexicon: set[str]
    documents: int


_TERM_ARRAYS = tuple(a for a in ARRAYS if a.per == "term")
_TITLE_ARRAYS = tuple(a for a in ARRAYS if a.per == "title_term")


def _analyze_shard(
    documents: list[Document], first: int, passage_max_chars: int, analyzer: Analyzer | None = None
) -> _Shard:
    """Passages, sentences and term ids of `documents` (the first being number `first` of the corpus)."""
    analyzer = analyzer or Analyzer()
    passages: list[Passage] = []
    vocabs: dict[str, dict[str, int]] = {field: {} for field in FIELDS}
    lexicon: set[str] = set()
    # Raw token -> entry id (-1 for a stop word): each distinct token is analysed once, then only looked up;
    # an entry holds the token's id in each per-term array, read for all tokens at once at the end.
    token_ids: dict[str, int] = {}
    entries: dict[str, list[int]] = {a.name: [] for a in _TERM_ARRAYS}
    entry_count = 0

    def token_id(token: str) -> int:
        nonlocal entry_count
        word, term = analyzer.token_entry(token)
        if not term:
            token_ids[token] = -1
            return -1
        lexicon.add(word)
        for array in _TERM_ARRAYS:
            vocab = vocabs[array.vocab]
            entries[array.name].append(vocab.setdefault(array.key(word, term), len(vocab)))
        token_ids[token] = entry_count
        entry_count += 1
        return entry_count - 1

    entry_ids: list[int] = []
    titles: dict[str, list[int]] = {a.name: [] for a in _TITLE_ARRAYS}
    # Offsets as lengths: the title terms of each document, the sentences of each passage, the terms of each sentence.
    lengths: dict[Unit, list[int]] = {"document": [], "passage": [], "sentence": []}
    get = token_ids.get
    for i, doc in enumerate(documents, first):
        title = analyzer.entries(doc.title or "")
        for array in _TITLE_ARRAYS:
            vocab = vocabs[array.vocab]
            titles[array.name].extend(vocab.setdefault(array.key(word, term), len(vocab)) for word, term in title)
        lengths["document"].append(len(title))
        for passage, sentences in passages_with_sentences(list(doc.paragraphs), i, passage_max_chars):
            passages.append(passage)
            lengths["passage"].append(len(sentences))
            for sentence in sentences:
                tokens = analyzer.tokens(normalize(sentence))
                ids = list(map(get, tokens))
                if None in ids:
                    ids = [token_id(t) if n is None else n for t, n in zip(tokens, ids, strict=True)]
                kept = [n for n in ids if n >= 0]
                entry_ids.extend(kept)
                lengths["sentence"].append(len(kept))
    kept_entries = np.asarray(entry_ids, dtype=np.int64)
    columns: dict[str, np.ndarray] = {}
    for array in ARRAYS:
        if array.is_offsets:
            columns[array.name] = np.asarray(lengths[array.per], dtype=np.int64)
        elif array.per == "term":
            columns[array.name] = np.asarray(entries[array.name], dtype=array.dtype)[kept_entries]
        else:
            columns[array.name] = np.asarray(titles[array.name], dtype=array.dtype)
    return _Shard(passages, {field: list(vocab) for field, vocab in vocabs.items()}, columns, lexicon, len(documents))


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
    options: IndexOptions,
    progress: Progress | None,
) -> CorpusIndex:
    """Join the shards in corpus order under one vocabulary per field, then build the BM25 postings."""
    vocabs: dict[str, dict[str, int]] = {field: {} for field in FIELDS}
    parts: dict[str, list[np.ndarray]] = {array.name: [] for array in ARRAYS}
    passages: list[Passage] = []
    lexicon: set[str] = set()
    done = 0
    for shard in shards:
        merged_ids = {field: _remap(vocabs[field], local) for field, local in shard.vocabs.items()}
        for array in ARRAYS:
            column = shard.columns[array.name]
            parts[array.name].append(column if array.vocab is None else merged_ids[array.vocab][column])
        passages.extend(shard.passages)
        lexicon |= shard.lexicon
        done += shard.documents
        if progress is not None and len(documents) > PROGRESS_EVERY:  # a small corpus is indexed in no time
            progress(done, len(documents))
    arrays = {
        array.name: _offsets(parts[array.name]) if array.is_offsets else _concat(parts[array.name], array.dtype)
        for array in ARRAYS
    }
    lengths = np.diff(arrays["sentence_offsets"][arrays["passage_sentences"]])
    k1, b = options.k1, options.b
    body = BM25Index.from_term_ids(vocabs["body"], arrays["terms"].astype(np.int64), lengths, k1=k1, b=b)
    title_offsets = arrays["title_offsets"]
    titles = BM25Index.from_term_ids(vocabs["titles"], arrays["title_terms"].astype(np.int64), np.diff(title_offsets))
    passage_doc = np.fromiter((p.doc_index for p in passages), dtype=np.int32, count=len(passages))
    prefixes = _prefix_field(
        vocabs["prefixes"],
        arrays["prefix_terms"],
        lengths,
        arrays["title_prefix_terms"],
        title_offsets,
        passage_doc,
        k1,
        b,
    )
    return CorpusIndex(passages, passage_doc, body, titles, prefixes, arrays, lexicon)


def _concat(parts: list[np.ndarray], dtype: type[np.integer]) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype=dtype)


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
    repeated_titles = title_prefixes[ranges(title_offsets[:-1][passage_doc], title_offsets[1:][passage_doc])]
    return BM25Index.from_term_ids(
        vocab,
        np.concatenate([passage_prefixes, repeated_titles]).astype(np.int64),
        passage_lengths + title_lengths,
        passage_of=np.concatenate([np.repeat(passages, passage_lengths), np.repeat(passages, title_lengths)]),
        k1=k1,
        b=b,
    )
