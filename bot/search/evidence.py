"""The features the confidence reads, from what ranking found of the question in the best passage.

Shares of the question, not scores (see `bot.search.confidence`): how much of it the best passage, its best
sentence, its title and its document hold, whether its rarest term and its names are there, and whether the
quoted sentence holds the kind of answer asked for; then how close the next document comes, and the corpus's
size. Also whether a document "comes close" enough to be named as a lead when nothing is quoted.
"""

from __future__ import annotations

import math

import numpy as np

from bot.search.analysis import fold, stem
from bot.search.confidence import FITTED_DOCUMENTS, Evidence
from bot.search.index import CorpusIndex
from bot.search.question import Question
from bot.search.ranking import Coverage, QueryTerms
from bot.search.summary import Pick


def evidence(
    index: CorpusIndex,
    question: Question,
    terms: QueryTerms,
    ranked: list[tuple[int, float]],
    top: Coverage,
    picks: list[Pick],
) -> Evidence:
    """What the confidence model reads of the best answer, the first of the `ranked` passages; `top` is what the
    re-ranking found of the question in it, `picks` what the summary quotes."""
    pid = ranked[0][0]
    found, derived = top.found[0].tolist(), top.derived[0].tolist()
    weights = terms.weights.tolist()
    heaviest = max(range(len(weights)), key=weights.__getitem__)
    missing = [weights[i] for i in range(len(weights)) if not found[i] and not derived[i]]
    doc = int(index.passage_doc[pid])
    title = set(index.title_terms(doc).tolist())
    # In the question's order, as the weights are added everywhere else.
    in_title = sorted(
        i for t, i in zip(terms.title_ids.tolist(), terms.title_positions.tolist(), strict=True) if t in title
    )
    named = [stem(fold(name)) for name in question.asked.names]
    names_found = 1.0
    if named:
        doc_terms = index.document_terms(doc)
        names_found = sum(index.body.vocab.get(t, -1) in doc_terms for t in named) / len(named)
    return Evidence(
        coverage=float(top.coverage[0]),
        sentence_coverage=float(top.sentence_coverage[0]),
        rarest_found=float(found[heaviest]),
        rarest_derived=float(derived[heaviest]),
        missing_weight=max(missing, default=0.0) / max(weights),
        terms_found=sum(found) / len(weights),
        title_coverage=sum(weights[i] for i in in_title) / terms.total,
        names_found=names_found,
        has_names=float(bool(named)),
        typed=float(bool(picks) and picks[0].typed),
        has_cues=float(bool(question.cues)),
        terms=float(len(question.terms)),
        log_terms=math.log1p(len(question.terms)),
        runner_up=runner_up(index, ranked),
        log_documents=math.log(min(max(index.titles.size, FITTED_DOCUMENTS[0]), FITTED_DOCUMENTS[1])),
    )


def runner_up(index: CorpusIndex, ranked: list[tuple[int, float]]) -> float:
    """The score of the best passage from another document than the first's, over the first's (0 when none):
    near 1, two documents answer alike and the ranking cannot say which one the question is about."""
    pid, best = ranked[0]
    doc = index.passage_doc[pid]
    second = next((score for other, score in ranked[1:] if index.passage_doc[other] != doc), 0.0)
    return min(max(second / best, 0.0), 1.0) if best > 0 else 0.0


def is_lead(question: Question, terms: QueryTerms, top: Coverage, coverage: float, lead_confidence: float) -> bool:
    """A document "comes close" when it holds the question's weightiest term and some more."""
    if coverage < lead_confidence or not question.weights:
        return False
    return bool(top.found[0, int(np.argmax(terms.weights))])
