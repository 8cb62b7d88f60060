"""The semantic stage's evidence on a quoted answer: is its first sentence about what the question asks?

The cosine of the question's vector with the first quoted sentence's (the sentence model), and whether that
sentence gives the quantity a « combien » question counts or measures (`bot.search.units`), are read by the
semantic confidence (`bot.search.confidence.semantic_probability`) beside the lexical evidence: a sentence
that merely shares the question's words scores lower than one that speaks of what is asked.
"""

from __future__ import annotations

import logging

from bot.search.confidence import SemanticEvidence
from bot.search.question import Question
from bot.search.sentence_model import SentenceModel, SentenceModelError
from bot.search.summary import Pick
from bot.search.vector_file import SentenceVectors

log = logging.getLogger(__name__)


def semantic_evidence(
    model: SentenceModel, question: Question, picks: list[Pick], vectors: SentenceVectors | None = None
) -> SemanticEvidence | None:
    """The semantic stage's evidence on the quoted pieces `picks` (the first one is what the answer opens on):
    the sentence model's cosine, and whether the quantity the question asks for is there. The opening's vector
    comes from the index's `vectors` once built, else it is embedded with the question, in one batch. None,
    after one French warning, when the model fails to encode: the question is then answered on its lexical
    confidence."""
    text = as_written(question.text)
    stored = vectors.vector(picks[0].number, picks[0].text) if vectors is not None else None
    try:
        if stored is None:
            (cosine,) = model.cosines(text, [picks[0].text]).tolist()
        else:
            cosine = float(stored @ model.embed_queries([text])[0])
    except (SentenceModelError, MemoryError) as exc:
        reason = str(exc) if isinstance(exc, SentenceModelError) else "mémoire insuffisante."
        log.warning("modèle de phrases en échec, réponse sur la confiance lexicale seule : %s", reason)
        return None
    wanted = question.wanted
    return SemanticEvidence(
        sentence_cosine=float(cosine),
        quantity_asked=float(wanted is not None),
        quantity_found=float(wanted is not None and any(wanted.held_by(pick.text) for pick in picks)),
    )


def as_written(question: str) -> str:
    """A question typed in capitals as a sentence is written ("THEIERES EN ARGENT" -> "Theieres en argent"): the
    model reads capitals as names or acronyms, and would find the quote further from the question than it is."""
    return question.capitalize() if question.isupper() else question
