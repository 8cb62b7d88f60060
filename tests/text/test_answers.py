"""An answer in French words: source labels that never show a file name, confidence in words, the highlight,
the article's date for "when" questions, the self-introduction, percentages as French writes them, and the JSON
answer beside the text one."""

from __future__ import annotations

from typing import Any

from bot.search.answer import Answer, Quote, Source
from bot.text.answers import (
    NOT_FOUND,
    answer_json,
    answer_text,
    confidence_label,
    confidence_text,
    date_note,
    example_questions,
    introduction,
    percent,
    source_line,
)


def _source(**kw: Any) -> Source:
    fields: dict[str, Any] = {
        "doc_id": "001",
        "title": None,
        "publisher": None,
        "published": None,
        "url": None,
        "score": 1.0,
        "passage": "Texte.",
    }
    fields.update(kw)
    return Source(**fields)


def test_source_line_with_everything() -> None:
    source = _source(title="Les théières", publisher="La Tribune", published="2018-12-28", file="003.txt")
    assert source_line(source) == "« Les théières », La Tribune, 28 décembre 2018"


def test_a_document_without_title_is_named_by_its_publisher_never_its_file() -> None:
    source = _source(
        file="001_24d661fd2205696a.txt", publisher="Le Quotidien du Peuple en ligne", published="2020-08-05"
    )
    assert source_line(source) == "Article du Quotidien du Peuple en ligne, 5 août 2020"
    assert source_line(_source(publisher="La Tribune")) == "Article de La Tribune"
    assert source_line(_source(publisher="Les Échos")) == "Article des Échos"
    assert "001" not in source_line(_source(file="001.txt"))


def test_titles_are_on_one_line_and_approximate_dates_say_so() -> None:
    source = _source(title="Une ligne\nen deux", publisher="La Tribune", published="~2018-12-28")
    assert source_line(source) == "« Une ligne en deux », La Tribune, vers le 28 décembre 2018"


def test_confidence_in_words() -> None:
    assert confidence_label(0.95) == "réponse sûre"
    assert confidence_label(0.5) == "réponse probable"
    assert confidence_label(0.25) == "réponse incertaine"


def _answer(sentence: str, **kw: Any) -> Answer:
    source = _source(title="AliExpress", publisher="La Tribune", published="2020-08-05", url="https://exemple.fr/a")
    return Answer("Question ?", True, 0.9, [source], [sentence], quotes=[Quote(source, [sentence])], **kw)


def test_answer_text_marks_the_highlight_and_links_to_the_first_piece() -> None:
    answer = _answer("AliExpress a vu son trafic augmenter de 14% en Italie.", highlight="14%")
    text = answer_text(answer, lambda phrase: f"**{phrase}**")
    assert text.startswith("AliExpress a vu son trafic augmenter de **14%** en Italie.")
    assert "Source : « AliExpress », La Tribune, 5 août 2020" in text
    assert "https://exemple.fr/a#:~:text=AliExpress" in text


def test_when_questions_and_relative_dates_get_the_article_date() -> None:
    assert date_note(_answer("Le site a ouvert en 2019.", asks="date")) == "Article publié le 5 août 2020"
    assert date_note(_answer("Le site a ouvert l'année dernière.")) == "Article publié le 5 août 2020"
    assert date_note(_answer("Le site compte 300 villageois.", asks="number")) is None


def test_not_found_names_the_closest_document() -> None:
    lead = _source(title="AliExpress", url="https://exemple.fr/a")
    text = answer_text(Answer("Q ?", False, 0.1, [lead], lead=lead))
    assert text.startswith(NOT_FOUND) and "« AliExpress »" in text and "https://exemple.fr/a" in text


def test_introduction_counts_documents_and_gives_examples() -> None:
    text = introduction(5, ["Un titre"], example_questions(["Alibaba", "Lu Zhenhong"]))
    assert "5 documents" in text and "- Un titre" in text
    assert "Que disent les documents sur Alibaba ?" in text and "Qui est Lu Zhenhong ?" in text


def test_percentages_are_written_with_a_space_before_the_sign() -> None:
    assert percent(0.873) == "87\u00a0%" and percent(1.0) == "100\u00a0%" and percent(0.0) == "0\u00a0%"
    assert confidence_text(_answer("Texte.")) == "réponse sûre : 90\u00a0%"


def test_the_json_answer_holds_every_documented_field_and_the_same_text() -> None:
    answer = _answer("AliExpress a vu son trafic augmenter de 14% en Italie.", highlight="14%", latency_ms=12.5)
    data = answer_json(answer)
    assert list(data) == [
        "question",
        "understood_as",
        "intent",
        "found",
        "answer",
        "highlight",
        "confidence",
        "confidence_label",
        "latency_ms",
        "sources",
        "quotes",
    ]
    assert data["answer"] == answer_text(answer) and data["highlight"] == "14%"
    assert (data["confidence"], data["confidence_label"], data["latency_ms"]) == (0.9, "réponse sûre", 12.5)
    (source,) = data["sources"]
    assert set(source) == {
        "doc_id",
        "file",
        "title",
        "label",
        "publisher",
        "published",
        "url",
        "link",
        "score",
        "passage",
    }
    assert source["label"] == "« AliExpress », La Tribune, 5 août 2020" and source["url"] == "https://exemple.fr/a"
    (quote,) = data["quotes"]
    assert quote["doc_id"] == "001" and quote["sentences"] == answer.quotes[0].sentences
    assert quote["link"].startswith("https://exemple.fr/a#:~:text=AliExpress")


def test_small_talk_reads_the_introduction_the_answerer_wrote() -> None:
    answer = Answer("Bonjour", False, 0.0, sentences=["Bonjour ! Je connais 3 documents."], intent="smalltalk")
    assert answer_text(answer) == "Bonjour ! Je connais 3 documents."
    assert answer_json(answer)["answer"] == "Bonjour ! Je connais 3 documents."
