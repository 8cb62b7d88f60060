"""Okapi BM25 over an inverted index: scores only the passages that contain a query term.

The scores are exactly those of rank-bm25's `BM25Okapi.get_scores` (same idf, same epsilon
floor for negative idf, same length normalisation), but the work is proportional to the
postings of the query's terms instead of the size of the corpus.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

K1 = 1.5
B = 0.75
EPSILON = 0.25


class BM25Index:
    """Compressed postings (term -> passage ids and term frequencies) and BM25 statistics."""

    def __init__(
        self,
        vocab: dict[str, int],
        offsets: np.ndarray,
        doc_ids: np.ndarray,
        tfs: np.ndarray,
        doc_len: np.ndarray,
        k1: float = K1,
        b: float = B,
        epsilon: float = EPSILON,
    ) -> None:
        self.vocab = vocab
        self.offsets = offsets  # int64, len(vocab) + 1
        self.doc_ids = doc_ids  # int32, postings sorted by term then passage
        self.tfs = tfs  # float32, term frequency per posting
        self.doc_len = doc_len  # float32, terms per passage
        self.k1, self.b, self.epsilon = k1, b, epsilon
        self.size = len(doc_len)
        self.avgdl = float(doc_len.sum()) / self.size if self.size else 0.0
        df = np.diff(offsets).astype(np.float64)
        idf = np.log(self.size - df + 0.5) - np.log(df + 0.5)
        average = float(idf.mean()) if len(idf) else 0.0
        idf[idf < 0] = epsilon * average
        self.idf = idf
        # No terms at all (avgdl 0, e.g. a title index of untitled documents): no posting ever reads norm.
        self.norm = (k1 * (1 - b + b * doc_len / self.avgdl)).astype(np.float32) if self.avgdl > 0 else doc_len

    @classmethod
    def from_term_ids(
        cls,
        vocab: dict[str, int],
        term_ids: np.ndarray,
        lengths: np.ndarray,
        passage_of: np.ndarray | None = None,
        **params: float,
    ) -> BM25Index:
        """Build from the concatenated term ids of all passages and each passage's length; `passage_of` gives
        each term's passage when they do not come passage after passage."""
        n_docs = len(lengths)
        if passage_of is None:
            passage_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        keys = term_ids * max(n_docs, 1) + passage_of
        keys, counts = np.unique(keys, return_counts=True)
        term_of = keys // max(n_docs, 1)
        offsets = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_of, minlength=len(vocab)), out=offsets[1:])
        return cls(
            vocab,
            offsets,
            (keys % max(n_docs, 1)).astype(np.int32),
            counts.astype(np.float32),
            lengths.astype(np.float32),
            **params,
        )

    def df(self, term: str) -> int:
        """Number of passages containing `term`."""
        t = self.vocab.get(term)
        return 0 if t is None else int(self.offsets[t + 1] - self.offsets[t])

    def term_idf(self, term: str) -> float:
        """BM25 idf of a term; a term absent from the corpus weighs like one seen once."""
        t = self.vocab.get(term)
        if t is None:
            return math.log(self.size + 0.5) - math.log(1.5) if self.size > 1 else 1.0
        return float(self.idf[t])

    def _postings(self, query: Sequence[str], weights: Sequence[float] | None) -> tuple[np.ndarray, np.ndarray, int]:
        """Passage id and score contribution of every posting of the query's terms, and how many terms matched.

        A repeated query term counts once per occurrence, as in `BM25Okapi.get_scores`;
        `weights` scales each query term's contribution (1.0 when omitted).
        """
        per_term: dict[int, float] = {}
        for i, term in enumerate(query):
            t = self.vocab.get(term)
            if t is not None:
                per_term[t] = per_term.get(t, 0.0) + (weights[i] if weights is not None else 1.0)
        if not per_term:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64), 0
        # All the terms' postings in one go (no per-term arrays to allocate, compute and concatenate), the passage
        # ids as intp, which indexing and bincount read without converting them again.
        terms = np.fromiter(per_term, dtype=np.intp, count=len(per_term))
        lo, hi = self.offsets[terms].tolist(), self.offsets[terms + 1].tolist()
        ids = np.concatenate([self.doc_ids[a:b] for a, b in zip(lo, hi, strict=True)], dtype=np.intp)
        tf = np.concatenate([self.tfs[a:b] for a, b in zip(lo, hi, strict=True)])
        # (weight * idf * (k1 + 1)) * tf / (tf + norm), operation by operation as the per-term expression does it.
        factor = np.fromiter(per_term.values(), dtype=np.float64, count=len(terms)) * self.idf[terms] * (self.k1 + 1)
        # In place, as few temporary arrays as possible: a long question reads hundreds of thousands of postings.
        contrib = np.repeat(factor, np.subtract(hi, lo))
        contrib *= tf
        denominator = self.norm[ids]
        denominator += tf
        contrib /= denominator
        return ids, contrib, len(per_term)

    def dense_scores(
        self, query: Sequence[str], weights: Sequence[float] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The BM25 score of every passage (0 where no query term is) and the mask of the passages holding one."""
        ids, contrib, _ = self._postings(query, weights)
        return self._dense(ids, contrib)

    def _dense(self, ids: np.ndarray, contrib: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Postings added up into one score per passage, and the mask of the passages they hit."""
        scores = np.bincount(ids, weights=contrib, minlength=self.size).astype(np.float64, copy=False)
        if len(contrib) and contrib.min() > 0:  # sums of positive contributions: a passage is hit where it scores
            return scores, scores > 0
        hit = np.zeros(self.size, dtype=bool)
        hit[ids] = True
        return scores, hit

    def scores(self, query: Sequence[str], weights: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(passage ids, BM25 scores) of every passage holding at least one query term (see `_postings`)."""
        ids, contrib, terms = self._postings(query, weights)
        if terms <= 1:
            return ids, contrib.astype(np.float64)
        if len(ids) * 16 < self.size:  # few postings: sorting them beats a pass over every passage
            unique, inverse = np.unique(ids, return_inverse=True)
            return unique, np.bincount(inverse, weights=contrib, minlength=len(unique))
        # Common terms: add up into one slot per passage (linear, no sort), then keep the passages hit.
        dense, hit = self._dense(ids, contrib)
        unique = np.flatnonzero(hit)
        return unique.astype(np.int32), dense[unique]
