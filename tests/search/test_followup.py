"""Follow-up questions read with the questions before them: what is a follow-up, and how it is written out."""

from __future__ import annotations

import json

import pytest

from bot.search.followup import MAX_PREVIOUS, understand
from tests.conftest import DEV_QA

ITALY = "De combien le trafic d'AliExpress a-t-il augmenté en Italie ?"
MEMBER_QUESTIONS = DEV_QA.parent / "member_questions.jsonl"


def _questions() -> list[str]:
    lines = DEV_QA.read_text(encoding="utf-8").splitlines() + MEMBER_QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [item["q"] for item in map(json.loads, filter(None, lines)) if item["kind"] != "smalltalk"]


@pytest.mark.parametrize("question", _questions())
def test_a_question_that_names_its_own_subject_is_answered_as_typed(question: str) -> None:
    assert understand(question, [ITALY, "Qui est le vice-président de Pinduoduo ?"]) is None


def test_a_place_replaces_the_place_of_the_previous_question() -> None:
    assert understand("Et en Espagne ?", [ITALY]) == "De combien le trafic d'AliExpress a-t-il augmenté en Espagne ?"


def test_a_chain_of_follow_ups_keeps_the_first_question_s_frame() -> None:
    assert understand("Et en Lettonie ?", [ITALY, "Et en Espagne ?"]) == ITALY.replace("Italie", "Lettonie")


def test_only_the_last_questions_are_context() -> None:
    older = ["Qui est le vice-président de Pinduoduo ?"] * 5
    assert understand("Et en Espagne ?", [*older[:-MAX_PREVIOUS], ITALY, *older[: MAX_PREVIOUS - 1]]) is not None
    assert "AliExpress" not in (understand("Et en Espagne ?", [ITALY, *older]) or "")


def test_what_is_asked_replaces_what_was_asked() -> None:
    assert understand("Pourquoi ?", [ITALY]) == "Pourquoi le trafic d'AliExpress a-t-il augmenté en Italie ?"
    assert understand("Depuis quand ?", ["Qui est le vice-président de Pinduoduo ?"]) == (
        "Depuis quand est le vice-président de Pinduoduo ?"
    )


def test_a_noun_phrase_replaces_the_previous_subject() -> None:
    previous = ["Qui est le vice-président de Pinduoduo ?"]
    assert understand("Et l'ambassadeur du Chili ?", previous) == "Qui est l'ambassadeur du Chili ?"
    assert understand("Et celui d'Alibaba ?", previous) == "Qui est le vice-président d'Alibaba ?"


def test_pronouns_become_the_previous_subject() -> None:
    previous = ["Qu'est-ce que Su Junping vend en ligne ?"]
    assert understand("Combien de villageois fait-il vivre ?", previous) == (
        "Combien de villageois Su Junping fait-il vivre ?"
    )
    assert understand("Qu'est-ce qu'il vend ?", previous) == "Qu'est-ce que Su Junping vend ?"
    assert understand("Où vit-il ?", ["Qui est Chen Qiu ?"]) == "Où Chen Qiu vit-il ?"


def test_a_name_replaces_the_name_of_its_kind_elision_included() -> None:
    assert understand("Et Pinduoduo ?", [ITALY]) == "De combien le trafic de Pinduoduo a-t-il augmenté en Italie ?"
    assert understand("Et Alibaba ?", [ITALY]) == "De combien le trafic d'Alibaba a-t-il augmenté en Italie ?"


def test_a_name_of_another_kind_is_added() -> None:
    assert understand("Et en 2019 ?", ["Qui est le vice-président de Pinduoduo ?"]) == (
        "Qui est le vice-président de Pinduoduo en 2019 ?"
    )


@pytest.mark.parametrize(
    "question",
    [
        "merci !",
        "Bonjour",
        "Il y a combien de parcs industriels à Guiyang ?",
        "Combien y a-t-il de parcs industriels à Guiyang ?",
        "Alors, qui dirige Pinduoduo ?",
        "Quelle est la part de marché en e-commerce de la Chine ?",
        "Qui dirige le site de vente en gros d'Alibaba ?",
    ],
)
def test_small_talk_and_complete_questions_are_not_rewritten(question: str) -> None:
    assert understand(question, [ITALY]) is None


def test_small_talk_and_words_without_content_are_no_context() -> None:
    assert understand("Pourquoi ?", ["merci"]) is None
    assert understand("Et en 2020 ?", ["l'", "d'"]) is None
    assert understand("Et en Espagne ?", [ITALY, "merci !", "d'"]) == (
        "De combien le trafic d'AliExpress a-t-il augmenté en Espagne ?"
    )


def test_without_context_nothing_is_a_follow_up() -> None:
    assert understand("Et en Espagne ?", []) is None
    assert understand("Et en Espagne ?", ["", "  "]) is None
