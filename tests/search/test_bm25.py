"""The inverted BM25 index gives rank-bm25's `BM25Okapi.get_scores`, on the seeds and on PIAF."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from bot.evaluation import squad_corpus
from bot.search.analysis import Analyzer, prefix
from bot.search.bm25 import BM25Index
from bot.search.engine import Engine
from tests.conftest import PIAF, PIAF_SAMPLE
from tests.search.bm25_reference import build, top

TOLERANCE = 1e-5

SEED_QUERIES = [
    "Qui est le vice-président de Pinduoduo ?",
    "aliexpress trafic italie",
    "théières en argent",
    "Combien de villes ?",
    "commerce électronique transfrontalier",
    "1 370 milliards de yuans",
    "10,3 %",
    "Guiyang Guizhou Xifeng",
    "chaîne de supermarchés belge",
    "Route de la Soie 35 pays",
    "commerce commerce commerce électronique",
    "mot inconnu zyxwvut",
    "Chine",
]


def full_scores(index: BM25Index, query: list[str], weights: list[float] | None = None) -> np.ndarray:
    """The sparse scores of `index.scores` spread over every passage."""
    ids, scores = index.scores(query, weights)
    dense = np.zeros(index.size)
    dense[ids] = scores
    return dense


@pytest.fixture(scope="module")
def seed_tokens(seed_engine: Engine) -> list[list[str]]:
    return [seed_engine.analyzer.terms(p.text) for p in seed_engine.index.passages]


@pytest.fixture(scope="module")
def seed_reference(seed_tokens: list[list[str]]) -> BM25Okapi:
    return BM25Okapi(seed_tokens)


@pytest.mark.parametrize("question", SEED_QUERIES)
def test_scores_equal_rank_bm25_on_seed_passages(seed_engine: Engine, seed_reference: BM25Okapi, question: str) -> None:
    query = seed_engine.analyzer.terms(question)
    expected = seed_reference.get_scores(query)
    got = full_scores(seed_engine.index.body, query)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_seed_index_has_the_reference_statistics(seed_engine: Engine, seed_reference: BM25Okapi) -> None:
    index = seed_engine.index.body
    assert index.size == seed_reference.corpus_size == seed_engine.passage_count
    assert index.avgdl == pytest.approx(seed_reference.avgdl)
    for term, idf in seed_reference.idf.items():
        assert index.term_idf(term) == pytest.approx(idf, abs=TOLERANCE)
        assert index.df(term) == sum(term in freqs for freqs in seed_reference.doc_freqs)


def test_repeated_query_terms_count_per_occurrence(seed_engine: Engine, seed_reference: BM25Okapi) -> None:
    once = full_scores(seed_engine.index.body, ["pinduoduo"])
    twice = full_scores(seed_engine.index.body, ["pinduoduo", "pinduoduo"])
    np.testing.assert_allclose(twice, 2 * once, atol=TOLERANCE)
    np.testing.assert_allclose(twice, seed_reference.get_scores(["pinduoduo", "pinduoduo"]), atol=TOLERANCE)
    assert once.max() > 0


def test_unknown_terms_score_nothing(seed_engine: Engine) -> None:
    ids, scores = seed_engine.index.body.scores(["zyxwvut", "qqqqq"])
    assert len(ids) == 0 and len(scores) == 0
    assert top(seed_engine.index.body, ["zyxwvut"], 5) == []
    assert seed_engine.index.body.df("zyxwvut") == 0
    # An unknown term weighs like a term seen once: rare, so weighty.
    assert seed_engine.index.body.term_idf("zyxwvut") >= max(seed_engine.index.body.idf)
    known = full_scores(seed_engine.index.body, ["pinduoduo"])
    np.testing.assert_allclose(full_scores(seed_engine.index.body, ["pinduoduo", "zyxwvut"]), known, atol=TOLERANCE)


def test_scores_cover_only_passages_holding_a_term(seed_engine: Engine, seed_tokens: list[list[str]]) -> None:
    ids, _ = seed_engine.index.body.scores(["yunnan"])
    assert sorted(ids.tolist()) == [i for i, tokens in enumerate(seed_tokens) if "yunnan" in tokens]


def test_weights_scale_each_term(seed_engine: Engine) -> None:
    index = seed_engine.index.body
    a, b = full_scores(index, ["pinduoduo"]), full_scores(index, ["chili"])
    weighted = full_scores(index, ["pinduoduo", "chili"], [0.5, 2.0])
    np.testing.assert_allclose(weighted, 0.5 * a + 2.0 * b, atol=TOLERANCE)
    np.testing.assert_allclose(full_scores(index, ["pinduoduo"], [0.0]), 0 * a, atol=TOLERANCE)
    # A repeated term with weights adds them up.
    np.testing.assert_allclose(full_scores(index, ["chili", "chili"], [0.25, 0.5]), 0.75 * b, atol=TOLERANCE)


def test_top_is_sorted_and_breaks_ties_by_passage_id() -> None:
    docs = [["a", "b"], ["a", "b"], ["c"], ["a", "b"], ["d", "e"]]
    index = build(docs)
    best = top(index, ["a"], 2)
    assert [pid for pid, _ in best] == [0, 1]
    everything = top(index, ["a", "c"], 10)
    scores = [score for _, score in everything]
    assert scores == sorted(scores, reverse=True)
    assert {pid for pid, _ in everything} == {0, 1, 2, 3}


def test_small_handmade_corpus_matches_reference() -> None:
    docs = [["chat", "noir"], ["chat", "chat", "blanc"], ["chien"], [], ["chat", "chien", "noir", "noir"]]
    reference = BM25Okapi(docs)
    index = build(docs)
    for query in (["chat"], ["noir", "chien"], ["chat", "chat"], ["blanc", "inconnu"]):
        np.testing.assert_allclose(full_scores(index, query), reference.get_scores(query), atol=TOLERANCE)


def test_index_of_empty_texts_builds_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        index = build([[], []])
        assert top(index, ["chat"], 3) == []


# -- PIAF: the same top 10 as rank-bm25 on a sample of questions -----------------------


@pytest.fixture(scope="module", params=["sample", "full"])
def piaf(request: pytest.FixtureRequest) -> tuple[Engine, list[str], BM25Okapi]:
    """The committed PIAF sample (always), and the full dev set when ../shared is there."""
    path = PIAF_SAMPLE if request.param == "sample" else PIAF
    if not path.exists():
        pytest.skip(f"PIAF dev set absent ({PIAF}): fetch ../shared/eval/piaf/piaf-v1.1-dev.json to run this test")
    corpus, questions = squad_corpus(path)
    engine = Engine.build(corpus)
    reference = BM25Okapi([engine.analyzer.terms(p.text) for p in engine.index.passages])
    sample = random.Random(20240601).sample([q for q, _, _ in questions], 100)
    return engine, sample, reference


def test_piaf_top10_matches_rank_bm25(piaf: tuple[Engine, list[str], BM25Okapi]) -> None:
    engine, questions, reference = piaf
    analyzer: Analyzer = engine.analyzer
    compared = 0
    for question in questions:
        query = analyzer.terms(question)
        expected = reference.get_scores(query)
        best_ten = top(engine.index.body, query, 10)
        if not best_ten:
            assert expected.max() <= 0
            continue
        best = np.sort(expected)[::-1][: len(best_ten)]
        # Ties aside: the k-th passage we rank has the reference's k-th best score.
        got = np.array([expected[pid] for pid, _ in best_ten])
        np.testing.assert_allclose(got, best, atol=TOLERANCE, err_msg=question)
        np.testing.assert_allclose([s for _, s in best_ten], best, atol=TOLERANCE, err_msg=question)
        # Untied ranks name the same passages.
        order = np.argsort(-expected, kind="stable")[: len(best_ten)]
        for rank, (pid, score) in enumerate(best_ten):
            neighbours = np.abs(expected - score) <= TOLERANCE
            if neighbours.sum() == 1:
                assert pid == order[rank], question
        compared += 1
    assert compared >= 90


def test_prefix_field_holds_each_passage_and_its_title(seed_engine: Engine) -> None:
    """The prefix postings equal BM25 built directly over each passage's word prefixes plus its title's."""
    analyzer = seed_engine.analyzer
    expected = build(
        [
            [prefix(word) for word, _ in analyzer.entries(p.text)]
            + [prefix(word) for word, _ in analyzer.entries(seed_engine.documents[p.doc_index].title or "")]
            for p in seed_engine.index.passages
        ]
    )
    field = seed_engine.index.prefixes
    assert field.vocab.keys() == expected.vocab.keys()
    np.testing.assert_array_equal(field.doc_len, expected.doc_len)
    for term in expected.vocab:
        ids, scores = field.scores([term])
        want_ids, want_scores = expected.scores([term])
        np.testing.assert_array_equal(ids, want_ids)
        np.testing.assert_allclose(scores, want_scores)


@pytest.mark.parametrize("question", ["vente en ligne Chine", "Alibaba", "zzz inconnu", "Temu 2024 commerce"])
def test_dense_scores_equal_the_sparse_ones(seed_engine: Engine, question: str) -> None:
    terms = seed_engine.analyzer.terms(question)
    ids, scores = seed_engine.index.body.scores(terms)
    dense, hit = seed_engine.index.body.dense_scores(terms)
    assert dense.shape == hit.shape == (seed_engine.passage_count,) and dense.dtype == np.float64
    np.testing.assert_array_equal(np.flatnonzero(hit), ids)
    np.testing.assert_allclose(dense[ids], scores)
    assert not dense[~hit].any()


def test_a_passage_holding_a_term_is_hit_even_when_it_scores_nothing(seed_engine: Engine) -> None:
    """A hit is a posting, not a positive score: a zero weight (or a tiny corpus's zero idf) keeps it a hit."""
    ids, _ = seed_engine.index.body.scores(["pinduoduo"])
    dense, hit = seed_engine.index.body.dense_scores(["pinduoduo"], [0.0])
    assert len(ids) and not dense.any()
    np.testing.assert_array_equal(np.flatnonzero(hit), ids)
    _, hit = seed_engine.index.body.dense_scores(["pinduoduo", "chili"], [0.0, 1.0])
    np.testing.assert_array_equal(np.flatnonzero(hit), np.union1d(ids, seed_engine.index.body.scores(["chili"])[0]))
