"""What the sentence model says of a quoted answer: is its first sentence about what the question asks?

The cosine of the question's vector with the first quoted sentence's is read by the semantic confidence
(`bot.search.confidence.semantic_probability`) beside the lexical evidence: a sentence that merely shares the
question's words scores lower than one that speaks of what is asked.
"""

from __future__ import annotations

from bot.search.confidence import SemanticEvidence
from bot.search.sentence_model import SentenceModel
from bot.search.summary import Pick


def semantic_evidence(model: SentenceModel, question: str, picks: list[Pick]) -> SemanticEvidence:
    """The sentence model's evidence on the quoted pieces `picks` (the first one is what the answer opens on)."""
    (cosine,) = model.cosines(as_written(question), [picks[0].text]).tolist()
    return SemanticEvidence(sentence_cosine=float(cosine))


def as_written(question: str) -> str:
    """A question typed in capitals as a sentence is written ("THEIERES EN ARGENT" -> "Theieres en argent"): the
    model reads capitals as names or acronyms, and would find the quote further from the question than it is."""
    return question.capitalize() if question.isupper() else question
