"""The one answer-kind table: what a question asks for, and whether a sentence holds an answer of that kind."""

from __future__ import annotations

from bot.search.highlight import highlight
from bot.search.kinds import BY_NAME, CUES, KINDS, asked


def test_a_name_opening_the_sentence_is_no_answer_to_qui() -> None:
    person = BY_NAME["person"]
    assert not person.holds("Pinduoduo vend des fruits en ligne.", set())
    assert person.holds("Le site est dirigé par Chen Lei depuis 2021.", set())


def test_a_figure_the_question_gives_is_no_answer_to_combien() -> None:
    number = BY_NAME["number"]
    assert not number.holds("En 2024, le site a ouvert.", {"2024"})
    assert number.holds("En 2024, le site comptait 1 200 vendeurs.", {"2024"})
    assert number.holds("Le site compte trois entrepôts.", set())


def test_the_phrase_in_bold_is_one_the_sentence_is_said_to_hold() -> None:
    sentence = "Selon SimilarWeb, le trafic d'AliExpress a augmenté de 14% en Italie."
    question = "De combien le trafic d'AliExpress a-t-il augmenté en Italie ?"
    frame = asked(question)
    assert frame.asks == "number" and frame.kind == "number"
    bold = highlight(sentence, question, frame)
    assert bold is not None and BY_NAME["number"].holds(bold, set())


def test_the_question_reads_its_kind_nouns_focus_and_names() -> None:
    frame = asked("Dans quelle province se trouve Yiwu ?")
    assert frame.cues == {"place"} and frame.kind == "place"
    assert frame.kind_nouns == ("province",) and frame.focus == "provinc"
    assert frame.names == ("Yiwu",)
    assert KINDS[:5] == CUES
