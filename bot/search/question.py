"""The question understood once: cleaned text, weighted terms, typo corrections, equivalents, what it asks for.

`QuestionReader.read` turns one question (one part of a two-part one, see `bot.search.query.split_parts`)
into a `Question` frame, against the index's vocabulary: words of an `EQUIVALENTS` group become the form the
corpus uses most, an unknown word is corrected towards a corpus word one edit away, each term is weighted by its
idf, and `bot.search.kinds.asked` says what it asks for. Ranking, evidence, summary and highlight read this
frame and analyse the question no more.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.search.analysis import Analyzer, normalize, prefix, words
from bot.search.answer import QuestionError
from bot.search.index import CorpusIndex
from bot.search.kinds import Asked, asked
from bot.search.query import equivalent_words
from bot.search.units import Wanted, wanted

EMPTY_QUESTION = "La question est vide : écrivez une question en français, par exemple « Qui dirige Alibaba ? »."
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
MIN_TERM_WEIGHT = 1e-3  # floor of a question term's weight
ASKED_KIND_WEIGHT = 0.3  # share of its weight the noun after "quel" keeps ("quelle ville")
TYPO_FACTOR = 0.8  # what a term corrected from a typo weighs in BM25, against 1 for a term as typed


class EmptyQuestion(QuestionError):
    """A question without a letter or a digit (blank, punctuation, markup only)."""


def check_question(question: str | None) -> str:
    """The question normalised, or EmptyQuestion (in French) when it holds no letter or figure: the one
    empty-question check, the engine's and the front doors' (through `bot.answering.Answerer.check`)."""
    text = normalize(question or "")
    if not any(ch.isalnum() for ch in text):
        raise EmptyQuestion(EMPTY_QUESTION)
    return text


def cut(text: str, max_chars: int) -> str:
    """`text` cut at its last space before `max_chars` (or at `max_chars` without one): the question-length
    limit, owned by `EngineOptions.max_question_chars`."""
    if len(text) <= max_chars:
        return text
    at = text.rfind(" ", 0, max_chars)
    return text[: at if at > 0 else max_chars]


@dataclass(frozen=True, slots=True)
class Question:
    """One question as every stage reads it: its text, its terms with their idf weights and typo factors, the
    prefix-field terms of the words each term comes from, and what it asks for."""

    text: str
    terms: list[str]
    weights: dict[str, float]  # term -> idf (question weight)
    factors: dict[str, float]  # term -> 1.0, or less for a typo-corrected term
    prefixes: dict[str, frozenset[str]]  # term -> prefix-field terms of the question words it comes from
    asked: Asked
    wanted: Wanted | None = None  # the quantity it counts or measures (« combien de chevaux »: a power)

    @property
    def total(self) -> float:
        return sum(self.weights.values()) or 1.0

    @property
    def cues(self) -> frozenset[str]:
        return self.asked.cues


class QuestionReader:
    """Reads questions against one index's vocabulary (typo correction, equivalents, idf weights)."""

    def __init__(self, index: CorpusIndex, analyzer: Analyzer, max_chars: int, max_terms: int):
        self.index = index
        self.analyzer = analyzer
        self.max_chars = max_chars
        self.max_terms = max_terms

    def read(self, question: str) -> Question:
        """Terms of a question, typo-corrected against the index vocabulary, weighted by idf."""
        text = cut(check_question(question), self.max_chars)
        factors: dict[str, float] = {}
        prefixes: dict[str, set[str]] = {}
        for word in equivalent_words(words(text), self._usage):
            if self.analyzer.is_stop_word(word):
                continue
            term, factor = self._term(word)
            factors[term] = max(factor, factors.get(term, 0.0))
            prefixes.setdefault(term, set()).add(prefix(word))
        # BM25's idf is 0 or below on tiny corpora (a term in 1 of 2 passages): a question weight must stay
        # positive, or coverage and confidence read 0 and a two-document corpus never answers.
        weights = {t: max(self.index.body.term_idf(t), MIN_TERM_WEIGHT) for t in factors}
        frame = asked(text)
        # "Dans quelle province…": the noun after "quel" names the kind of answer; the answer rarely repeats it.
        for word in frame.kind_nouns:
            term = self.analyzer.stem(word)
            if term in weights:
                weights[term] *= ASKED_KIND_WEIGHT
        if len(weights) > self.max_terms:
            keep = sorted(weights, key=weights.__getitem__, reverse=True)[: self.max_terms]
            weights = {t: weights[t] for t in keep}
        terms = list(weights)
        return Question(
            text,
            terms,
            weights,
            {t: factors[t] for t in terms},
            {t: frozenset(prefixes[t]) for t in terms},
            frame,
            wanted(text),
        )

    def _term(self, word: str) -> tuple[str, float]:
        """The term of a question word and its typo factor: as typed when the corpus knows it, else corrected."""
        term = self.analyzer.stem(word)
        if self._known(term):
            return term, 1.0
        plural = self._verb_plural(word)
        if plural is not None:
            return plural, 1.0
        corrected = self._correct(word)
        return (term, 1.0) if corrected is None else (corrected, TYPO_FACTOR)

    def _usage(self, form: tuple[str, ...]) -> int:
        """How much the corpus uses a form of words: the passages holding its least frequent word."""
        terms = [self.analyzer.stem(w) for w in form if not self.analyzer.is_stop_word(w)]
        return min((self.index.body.df(t) for t in terms), default=0)

    def _known(self, term: str) -> bool:
        return term in self.index.body.vocab or term in self.index.titles.vocab

    def _verb_plural(self, word: str) -> str | None:
        """The corpus term of a verb's third person plural that Snowball leaves whole ("vendent" -> "vend",
        "trouvent" -> "trouv"), when the singular's stem is known."""
        if not word.endswith("ent") or len(word) < 6:
            return None
        for singular in (word[:-2], word[:-3]):
            term = self.analyzer.stem(singular)
            if self._known(term):
                return term
        return None

    def _correct(self, word: str) -> str | None:
        """The term of the most frequent corpus word one edit away from an unknown word (typo tolerance).

        Only words of five letters or more are corrected, and only towards a word that occurs in the
        corpus as written (not merely a stem), so a real word absent from the corpus stays unknown.
        """
        if not 5 <= len(word) <= 24 or not word.isalpha():
            return None
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        edits |= {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
        edits |= {a + c + b for a, b in splits for c in _ALPHABET}
        best, best_df = None, 0
        for edit in sorted(edits & self.index.lexicon):  # in order, so that a tie always goes the same way
            term = self.analyzer.stem(edit)
            df = self.index.body.df(term)
            if df > best_df:
                best, best_df = term, df
        return best
