"""The reader's say on an answer: its span's sentence opens the answer and the span is the bold, verbatim; below
its margin, or when it cannot place its span, the summary's choice stands."""

from __future__ import annotations

from collections.abc import Sequence

from bot.search.confidence import READER_NO_ANSWER_CAP, READER_NO_ANSWER_MARGIN
from bot.search.engine import Engine, EngineOptions
from bot.search.passages import split_sentences
from bot.search.reader import Reading, Span
from bot.search.reading import Shown, reread
from bot.search.summary import Pick
from tests.conftest import dev_questions

PASSAGE = (
    "Le comté de Xifeng se trouve dans la province du Guizhou. Il compte plus de 1 600 entrepreneurs du commerce "
    "électronique. Ils vendent du thé en ligne."
)


class PointingReader:
    """A stand-in reader that points at the first occurrence of `answer` in the passages, with `score` against a
    no-answer score of 0; it records the passages it was given."""

    def __init__(self, answer: str, score: float = 1.0):
        self.answer, self.score = answer, score
        self.read_passages: list[list[str]] = []

    def read(self, question: str, passages: Sequence[str], top: int = 5) -> Reading:
        self.read_passages.append(list(passages))
        for index, passage in enumerate(passages):
            at = passage.find(self.answer)
            if at >= 0:
                return Reading([Span(index, at, at + len(self.answer), self.score)], 0.0)
        return Reading([], 0.0)


def _lexical_picks() -> list[Pick]:
    first = "Le comté de Xifeng se trouve dans la province du Guizhou."
    return [
        Pick(0, first, first, False, 10),
        Pick(0, "Ils vendent du thé en ligne.", "Ils vendent du thé en ligne.", False),
    ]


def test_the_sentence_holding_the_span_opens_the_answer_with_what_it_leans_on() -> None:
    done = reread(
        PointingReader("1 600 entrepreneurs"), "Combien ?", [Shown(PASSAGE, 0, 10)], _lexical_picks(), 600, 0.0
    )
    assert done is not None and done.evidence.moved
    head = done.picks[0]
    # « Il compte… » leans on the sentence before it, which the answer then opens on.
    assert head.text == PASSAGE.rsplit(" Ils", 1)[0] and head.sentence.startswith("Il compte")
    assert head.number == 11 and done.bold == "1 600 entrepreneurs" and done.bold in head.sentence
    assert [pick.sentence for pick in done.picks[1:]] == ["Ils vendent du thé en ligne."]  # no sentence twice


def test_an_opening_longer_than_the_answer_is_cut_as_the_summary_cuts_it() -> None:
    done = reread(
        PointingReader("1 600 entrepreneurs"), "Combien ?", [Shown(PASSAGE, 0, 10)], _lexical_picks(), 40, 0.0
    )
    assert done is not None and [len(pick.text) <= 40 for pick in done.picks] == [True]
    head = done.picks[0]
    assert head.text.endswith("…") and head.sentence.startswith(head.text[:-1]) and done.bold in head.text


def test_a_slice_of_a_passage_opens_on_the_sentences_before_the_slice_too() -> None:
    sentences = PASSAGE.split(". ")
    piece = PASSAGE[PASSAGE.index("Il compte") :]  # the slice starts on the sentence that leans back
    shown = Shown(piece, 0, 11, before=(sentences[0] + ".",))
    done = reread(PointingReader("1 600"), "Combien ?", [shown], _lexical_picks(), 600, 0.0)
    assert done is not None and done.picks[0].text == PASSAGE.rsplit(" Ils", 1)[0] and done.picks[0].number == 11


def test_the_reader_reads_the_sentences_around_the_summary_s_choice(seed_engine: Engine) -> None:
    question = next(q["q"] for q in dev_questions() if q["doc"] and len(_sentences(seed_engine, q["q"])) > 3)
    reader = PointingReader("\u0000")  # points at nothing: only what it reads matters here
    options = EngineOptions(reader=reader, reader_width=1)
    answer = Engine(seed_engine.corpus, seed_engine.index, options, seed_engine.analyzer).answer(question)
    (read,) = reader.read_passages[0]
    passage = answer.sources[0].passage
    assert read in passage and 1 <= len(split_sentences(read)) <= 3  # a verbatim slice: the choice and its neighbours
    chosen = split_sentences(seed_engine.answer(question).sentences[0])[-1]
    assert chosen in split_sentences(read) and answer.sentences[0].endswith(chosen)  # a reader pointing at nothing


def test_below_its_margin_the_reader_leaves_the_summary_s_choice() -> None:
    picks = _lexical_picks()
    done = reread(
        PointingReader("1 600 entrepreneurs", score=0.5), "Combien ?", [Shown(PASSAGE, 0, 10)], picks, 600, 1.0
    )
    assert done is not None and done.picks == picks and done.bold is None and not done.evidence.moved


def test_a_span_across_two_sentences_or_no_span_changes_nothing() -> None:
    across = reread(PointingReader("Guizhou. Il compte"), "Où ?", [Shown(PASSAGE, 0, 10)], _lexical_picks(), 600, 0.0)
    nothing = reread(PointingReader("absent"), "Où ?", [Shown(PASSAGE, 0, 10)], _lexical_picks(), 600, 0.0)
    assert across is None and nothing is None


def test_the_engine_quotes_the_reader_s_sentence_and_bolds_its_span_verbatim(seed_engine: Engine) -> None:
    question = next(q["q"] for q in dev_questions() if q["doc"] and len(_sentences(seed_engine, q["q"])) > 1)
    lexical = seed_engine.answer(question)
    # A sentence of the top passage that the summary did not open on.
    last = next(s for s in _sentences(seed_engine, question) if s not in lexical.sentences[0])
    word = max(last.split(), key=len)
    reader = PointingReader(f" {word}")
    engine = Engine(seed_engine.corpus, seed_engine.index, EngineOptions(reader=reader), seed_engine.analyzer)
    answer = engine.answer(question)
    assert reader.read_passages == [[lexical.sources[0].passage]]  # the best passage, as the index holds it
    assert answer.found and answer.sentences[0].endswith(last)
    assert answer.highlight == word and word in answer.sentences[0]


def _sentences(engine: Engine, question: str) -> list[str]:
    answer = engine.answer(question)
    return split_sentences(answer.sources[0].passage) if answer.found else []


def test_a_quote_the_reader_finds_no_answer_in_is_capped(seed_engine: Engine) -> None:
    question = next(q["q"] for q in dev_questions() if q["doc"])
    plain = seed_engine.answer(question)
    assert plain.found and plain.confidence > READER_NO_ANSWER_CAP
    word = max(plain.sentences[0].split(), key=len)
    confidences = {}
    for score in (READER_NO_ANSWER_MARGIN - 5.0, READER_NO_ANSWER_MARGIN + 5.0):
        options = EngineOptions(reader=PointingReader(word, score=score), reader_min_margin=1e9)
        engine = Engine(seed_engine.corpus, seed_engine.index, options, seed_engine.analyzer)
        confidences[score > READER_NO_ANSWER_MARGIN] = engine.answer(question).confidence
    # The reader's opening is never kept (its margin is below 1e9), so only its say on the confidence differs.
    assert confidences == {False: READER_NO_ANSWER_CAP, True: plain.confidence}
