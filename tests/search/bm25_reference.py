"""Test-only ways into `BM25Index`: building one from lists of terms, and its k best passages."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.search.bm25 import BM25Index


def build(docs: Sequence[Sequence[str]], **params: float) -> BM25Index:
    """Index tokenised passages (lists of terms)."""
    vocab: dict[str, int] = {}
    ids: list[int] = []
    lengths = np.zeros(len(docs), dtype=np.int64)
    for i, terms in enumerate(docs):
        lengths[i] = len(terms)
        ids.extend(vocab.setdefault(t, len(vocab)) for t in terms)
    return BM25Index.from_term_ids(vocab, np.asarray(ids, dtype=np.int64), lengths, **params)


def top(index: BM25Index, query: Sequence[str], k: int) -> list[tuple[int, float]]:
    """The k best (passage id, score) pairs, best first; ties broken by passage id."""
    ids, scores = index.scores(query)
    if len(ids) > k:
        keep = np.argpartition(-scores, k - 1)[:k]
        ids, scores = ids[keep], scores[keep]
    order = np.lexsort((ids, -scores))
    return [(int(ids[i]), float(scores[i])) for i in order]
