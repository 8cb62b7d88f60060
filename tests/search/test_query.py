"""The question as people type it: courtesy, small talk, two-part questions, words that mean the same."""

from __future__ import annotations

import pytest

from bot.search.query import equivalent_words, is_smalltalk, smalltalk_kind, split_parts, strip_courtesy


@pytest.mark.parametrize(
    ("typed", "question"),
    [
        ("Salut à tous ! Qui dirige Pinduoduo ? Merci d'avance 🙏", "Qui dirige Pinduoduo ?"),
        ("bonjour, combien de villes ?", "combien de villes ?"),
        ("Qui dirige Alibaba svp", "Qui dirige Alibaba"),
        ("Qui dirige Alibaba ?", "Qui dirige Alibaba ?"),
    ],
)
def test_courtesy_around_a_question_is_left_out(typed: str, question: str) -> None:
    assert strip_courtesy(typed) == question


@pytest.mark.parametrize(
    "message",
    [
        "bonjour",
        "Salut !",
        "merci beaucoup",
        "aide",
        "qui es-tu ?",
        "que sais-tu faire ?",
        "Bonsoir 👋",
        "👋 Salut à tous !",
    ],
)
def test_small_talk_is_recognised(message: str) -> None:
    assert is_smalltalk(message)


@pytest.mark.parametrize(
    "message",
    ["Qui dirige Pinduoduo ?", "à l'aide de mégadonnées", "Que vend Husna ?", "merci pour les 18 régions ?"],
)
def test_questions_are_not_small_talk(message: str) -> None:
    assert not is_smalltalk(message)


def test_a_question_in_two_parts_is_split() -> None:
    parts = split_parts("Qui est le vice-président de Pinduoduo, et combien de régions participent ?")
    assert parts == ["Qui est le vice-président de Pinduoduo ?", "combien de régions participent ?"]
    assert split_parts("Qui vend du thé et du café ?") == ["Qui vend du thé et du café ?"]


def test_an_equivalent_form_becomes_the_one_the_corpus_uses() -> None:
    usage = {("commerce", "electronique"): 12, ("e", "commerce"): 1, ("chili",): 3}.get

    def used(form: tuple[str, ...]) -> int:
        return usage(form) or 0

    assert equivalent_words(["le", "e", "commerce", "chinois"], used)[:3] == ["le", "commerce", "electronique"]
    assert equivalent_words(["commerce", "en", "ligne"], used) == ["commerce", "electronique"]
    assert equivalent_words(["les", "chiliens"], used) == ["les", "chili"]
    assert equivalent_words(["rien", "a", "voir"], used) == ["rien", "a", "voir"]


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("merci !", "thanks"),
        ("Merci beaucoup 🙏", "thanks"),
        ("tu peux m'aider stp ?", "help"),
        ("j'ai une question", "help"),
        ("Bonjour", "greeting"),
        ("👋 Salut à tous !", "greeting"),
        ("ok super, bonne soirée !", "farewell"),
        ("que sais-tu faire ?", "about"),
        ("Salut ! Qui dirige Pinduoduo ? merci", None),
    ],
)
def test_small_talk_is_read_by_what_it_asks_of_the_bot(message: str, kind: str | None) -> None:
    assert smalltalk_kind(message) == kind
