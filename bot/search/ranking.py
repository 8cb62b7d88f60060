"""Ranking: BM25 over the passage, title and prefix fields, then a re-rank of the best passages by coverage.

The first ranking adds BM25 over stems (plus the title) and BM25 over word prefixes, each scaled to its best
passage; the re-ranking then favours the passages holding all of the question (and one sentence holding most
of it), where BM25 favours one repeating a rare term. Coverage is a share of the question's own term weights,
so it reads the same on 5 or 50,000 documents; what it found in the best passage is kept for the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.search.index import CorpusIndex
from bot.search.options import EngineOptions
from bot.search.question import Question


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
class QueryTerms:
    """A question as ranking reads it: its terms' ids in the passage, title and prefix vocabularies (sorted, for
    binary searches) with the question positions they stand for, and the weight of each position."""

    body_ids: np.ndarray  # sorted body term ids of the question's terms
    body_positions: np.ndarray  # position in the question of each of body_ids
    title_ids: np.ndarray  # sorted title term ids of the question's terms
    title_positions: np.ndarray  # position in the question of each of title_ids
    prefix_ids: np.ndarray  # sorted prefix term ids of the question's words
    prefix_positions: np.ndarray  # bool (prefix, position): the question terms each prefix comes from
    weights: np.ndarray  # idf weight per position
    weighted: np.ndarray  # idf weight times the typo factor
    total: float

    @classmethod
    def of(cls, question: Question, index: CorpusIndex) -> QueryTerms:
        """The question's terms as ranking reads them: built once per question, read by the re-ranking, the
        evidence and the lead."""
        body, titles, prefixes = index.body.vocab, index.titles.vocab, index.prefixes.vocab
        by_prefix: dict[int, list[int]] = {}
        for i, term in enumerate(question.terms):
            for p in question.prefixes[term]:
                if p in prefixes:
                    by_prefix.setdefault(prefixes[p], []).append(i)
        prefix_ids = sorted(by_prefix)
        cells = [(row, i) for row, p in enumerate(prefix_ids) for i in by_prefix[p]]
        prefix_positions = np.zeros((len(prefix_ids), len(question.terms)), dtype=bool)
        if cells:
            prefix_positions[tuple(np.array(cells).T)] = True
        weights = np.array([question.weights[t] for t in question.terms], dtype=np.float64)
        return cls(
            *_sorted_pairs([(body[t], i) for i, t in enumerate(question.terms) if t in body]),
            *_sorted_pairs([(titles[t], i) for i, t in enumerate(question.terms) if t in titles]),
            np.array(prefix_ids, dtype=np.int64),
            prefix_positions,
            weights,
            weights * np.array([question.factors[t] for t in question.terms], dtype=np.float64),
            question.total,
        )


@dataclass(frozen=True, slots=True)
class Coverage:
    """What a question finds in some passages, one row per passage: the positions of its terms found as a stem
    (in the passage or its document's title), those found only as a word prefix, and the resulting shares."""

    found: np.ndarray  # bool (passage, position)
    derived: np.ndarray  # bool (passage, position), never where `found` is
    coverage: np.ndarray  # share of the question's weight in the passage or its title (prefixes count less)
    sentence_coverage: np.ndarray  # share of the question's weight in the passage's best sentence

    def row(self, k: int) -> Coverage:
        """Passage `k` alone, as a one-row `Coverage`."""
        keep = slice(k, k + 1)
        return Coverage(self.found[keep], self.derived[keep], self.coverage[keep], self.sentence_coverage[keep])


@dataclass(frozen=True, slots=True)
class Ranking:
    """The re-ranked passages, and for the best one what the re-ranking found of the question in it, which
    the evidence reads again."""

    ranked: list[tuple[int, float]]  # (passage, score), best first
    top: Coverage | None  # one row: the best passage's (None when nothing matched)


def coverages(index: CorpusIndex, terms: QueryTerms, pids: np.ndarray, prefix_match: float) -> Coverage:
    """Which question terms each passage of `pids` holds, as a stem or only as a word prefix (a derived word:
    "construit" for "construction"), counting its document's title, and the shares of the question's weight
    they and each passage's best sentence hold; all passages at once, a term counting once per passage or
    sentence however often it occurs there. A word prefix counts `prefix_match` of its term's weight."""
    count, n = len(pids), len(terms.weights)
    slots, term_sentence, sentence_passage = index.sentence_slots(pids)
    title_slots, title_doc = index.title_slots(index.passage_doc[pids])
    term_passage = sentence_passage[term_sentence]

    at, hit = _lookup(terms.body_ids, index.term_ids[slots])
    positions = terms.body_positions[at[hit]]
    in_sentence = np.zeros((len(sentence_passage), n), dtype=bool)
    in_sentence[term_sentence[hit], positions] = True
    found = np.zeros((count, n), dtype=bool)
    found[term_passage[hit], positions] = True
    at, hit = _lookup(terms.title_ids, index.title_term_ids[title_slots])
    found[title_doc[hit], terms.title_positions[at[hit]]] = True

    present = np.zeros((count, len(terms.prefix_ids)), dtype=bool)
    at, hit = _lookup(terms.prefix_ids, index.prefix_ids[slots])
    present[term_passage[hit], at[hit]] = True
    at, hit = _lookup(terms.prefix_ids, index.title_prefix_ids[title_slots])
    present[title_doc[hit], at[hit]] = True
    derived = (present @ terms.prefix_positions) & ~found

    best_sentence = np.zeros(count)
    np.maximum.at(best_sentence, sentence_passage, _weight_sums(in_sentence, terms.weights))
    weight = _weight_sums(found, terms.weighted) + prefix_match * _weight_sums(derived, terms.weighted)
    return Coverage(found, derived, weight / terms.total, best_sentence / terms.total)


def rank(index: CorpusIndex, question: Question, terms: QueryTerms, options: EngineOptions) -> Ranking:
    """Best passages (index, score), re-ranked by how much of the question they and their best sentence cover,
    with what the re-ranking found in the best one."""
    if not question.terms:
        return Ranking([], None)
    factors = [question.factors[t] for t in question.terms]
    body, hit = index.body.dense_scores(question.terms, factors)
    prefixes, prefix_hit = index.prefixes.dense_scores(sorted(set().union(*question.prefixes.values())))
    hit |= prefix_hit
    ids = np.flatnonzero(hit)  # a tiny corpus gives BM25 scores of 0: a passage hit stays a candidate
    if len(ids) == 0:
        return Ranking([], None)
    by_doc, title_hit = index.titles.dense_scores(question.terms, factors)
    if title_hit.any():
        body += options.title_weight * np.take(by_doc, index.passage_doc_ix)
    scores = _scaled(body, ids) + options.prefix_weight * _scaled(prefixes, ids)
    depth = options.rerank_depth
    if len(ids) > depth:
        keep = np.argpartition(-scores, depth - 1)[:depth]
        ids, scores = ids[keep], scores[keep]
    top = float(scores.max()) or 1.0
    found = coverages(index, terms, ids, options.prefix_match)
    final = scores / top + options.sentence_weight * found.sentence_coverage + options.coverage_weight * found.coverage
    ranked = sorted(zip(ids.tolist(), final.tolist(), strict=True), key=lambda item: (-item[1], item[0]))
    return Ranking(ranked, found.row(int(np.flatnonzero(ids == ranked[0][0])[0])))
