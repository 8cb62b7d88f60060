"""French analysis: elision with both apostrophes, accent folding, stemming, stop words, numbers, odd characters."""

from __future__ import annotations

import pytest

from bot.search.analysis import Analyzer, fold, normalize, prefix, words
from bot.search.kinds import asked


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


@pytest.mark.parametrize(
    ("elided", "bare"),
    [
        ("l'entreprise", "entreprise"),
        ("l’entreprise", "entreprise"),
        ("d'Alibaba", "Alibaba"),
        ("d’Alibaba", "Alibaba"),
        ("qu'AliExpress", "AliExpress"),
        ("qu’AliExpress", "AliExpress"),
        ("jusqu'à présent", "présent"),
        ("jusqu’à présent", "présent"),
        ("lorsqu’il vend", "vend"),
        ("lorsqu'il vend", "vend"),
        ("puisqu'elle exporte", "exporte"),
        ("s'internationalisent", "internationalisent"),
        ("n'ont cessé", "cessé"),
    ],
)
def test_elision_with_both_apostrophes(analyzer: Analyzer, elided: str, bare: str) -> None:
    assert analyzer.terms(elided) == analyzer.terms(bare)
    assert analyzer.terms(elided), "the word after the elided article must stay"


def test_typographic_and_straight_apostrophes_give_the_same_words() -> None:
    text = "L’essence réside dans l’utilisation du commerce électronique d’aujourd’hui"
    assert words(normalize(text)) == words(normalize(text.replace("’", "'")))


def test_inner_apostrophe_that_is_not_an_elision_keeps_the_word_whole(analyzer: Analyzer) -> None:
    assert words(normalize("aujourd'hui")) == ["aujourdhui"]
    assert analyzer.terms("aujourd’hui") == analyzer.terms("aujourd'hui") != []


@pytest.mark.parametrize("variant", ["théières", "theieres", "Théière", "THÉIÈRES", "THEIERES", "théière"])
def test_accents_case_and_plural_meet_on_one_term(analyzer: Analyzer, variant: str) -> None:
    assert analyzer.terms(variant) == analyzer.terms("théières")
    assert len(analyzer.terms(variant)) == 1


def test_stemming_joins_inflections(analyzer: Analyzer) -> None:
    assert analyzer.terms("plateformes") == analyzer.terms("plateforme")
    assert analyzer.terms("commandes") == analyzer.terms("commande")
    assert analyzer.terms("Villages") == analyzer.terms("village")
    assert analyzer.terms("vendre") != analyzer.terms("théière")


def test_fold_strips_accents_and_ligatures() -> None:
    assert fold("Théière") == "theiere"
    assert fold("œuvre") == "oeuvre"
    assert fold("Ælia") == "aelia"
    assert fold("Ça") == "ca"


def test_stop_words_are_removed(analyzer: Analyzer) -> None:
    assert analyzer.terms("le la les ?") == []
    assert analyzer.terms("Qui est-ce que c'est ? Où et quand ?") == []
    assert analyzer.terms("le vice-président de la société") == analyzer.terms("vice président société")
    assert analyzer.is_stop_word("Était")
    assert not analyzer.is_stop_word("théière")


def test_terms_keep_duplicates_for_term_frequencies(analyzer: Analyzer) -> None:
    terms = analyzer.terms("commerce et commerce et commerces")
    assert len(terms) == 3 and len(set(terms)) == 1


@pytest.mark.parametrize("spaced", ["1 370", "1\u00a0370", "1\u202f370"])
def test_number_with_thousands_separator_is_one_token(analyzer: Analyzer, spaced: str) -> None:
    assert analyzer.terms(spaced) == analyzer.terms("1370") == ["1370"]
    assert analyzer.terms(f"atteint {spaced} milliards") == analyzer.terms("atteint 1370 milliards")


def test_large_numbers_and_decimals(analyzer: Analyzer) -> None:
    assert analyzer.terms("65 709 800 yuans")[0] == "65709800"
    assert analyzer.terms("10,3 %") == ["10,3"]
    assert analyzer.terms("10,3%") == ["10,3"]
    assert analyzer.terms("3.35") == analyzer.terms("3,35") == ["3,35"]
    assert analyzer.terms("2.000 km")[0] == "2000"


def test_percent_glued_to_the_number(analyzer: Analyzer) -> None:
    assert analyzer.terms("83%") == ["83"]
    assert analyzer.terms("83 %") == ["83"]
    assert analyzer.terms("au moins 83% de tous les résidents")[0:1] == ["83"]


def test_numbers_and_words_stay_apart(analyzer: Analyzer) -> None:
    assert "2025" in analyzer.terms("en 2025, elle")
    assert analyzer.terms("2 portions") == ["2", *analyzer.terms("portions")]


def test_control_characters_separate_words(analyzer: Analyzer) -> None:
    assert words(normalize("Pinduoduo\x07Chen\x00Qiu")) == ["pinduoduo", "chen", "qiu"]
    assert words(normalize("vice\x1b-président")) == ["vice", "president"]


def test_emoji_separate_words_and_are_dropped(analyzer: Analyzer) -> None:
    assert analyzer.terms("Pinduoduo😀Chen") == analyzer.terms("Pinduoduo Chen")
    assert analyzer.terms("🎉🎉 théières 👍") == analyzer.terms("théières")
    assert analyzer.terms("😀🇫🇷🤖") == []


def test_zero_width_characters_do_not_split_or_break_words(analyzer: Analyzer) -> None:
    assert analyzer.terms("Pin\u200bduo\u200dduo") == analyzer.terms("Pinduoduo")
    assert analyzer.terms("thé\u00adières") == analyzer.terms("théières")
    assert analyzer.terms("\ufeffAliExpress \u200b trafic") == analyzer.terms("AliExpress trafic")


def test_normalize_collapses_spaces_and_unifies_apostrophes() -> None:
    assert normalize("  l’entreprise\u00a0\u00a0 a\tvu\n\n ") == "l'entreprise a vu"
    assert normalize("\u200b\u200b") == ""


def test_odd_input_does_not_crash(analyzer: Analyzer) -> None:
    for text in ["", " ", "'", "’’’", "l'", "qu’", "%", "1 ", ",,,", "\x00\x01\x02", "\ud7ff", "a" * 5000]:
        assert isinstance(analyzer.terms(text), list)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Combien de villes ?", "number"),
        ("combien la municipalité a-t-elle investi ?", "number"),
        ("Quel montant a commandé la chaîne ?", "number"),
        ("Qui est le vice-président de Pinduoduo ?", "person"),
        ("À qui appartient AliExpress ?", "person"),
        ("Quand le programme a-t-il commencé ?", "date"),
        ("En quelle année le comté a-t-il été nommé ?", "date"),
        ("Où se trouve Libei ?", "place"),
        ("Dans quelle ville se trouve Meixin ?", "place"),
    ],
)
def test_cues_name_the_kind_of_answer(question: str, expected: str) -> None:
    assert expected in asked(question).cues


def test_qui_inside_a_clause_is_not_a_person_cue() -> None:
    assert "person" not in asked("Quel est le site qui vend des théières ?").cues
    assert asked("aliexpress trafic italie").cues == set()


def test_prefix_keeps_the_first_letters_of_a_word_and_whole_numbers() -> None:
    assert prefix("construction") == prefix("construit") == "constr"
    assert prefix("electricite") == prefix("electrique")
    assert prefix("pont") == "pont"
    assert prefix("65709800") == "65709800"


def test_entries_pair_each_folded_word_with_its_term_and_skip_stop_words(analyzer: Analyzer) -> None:
    assert analyzer.entries("Les Théières de l’entreprise") == [
        ("theieres", analyzer.stem("theieres")),
        ("entreprise", analyzer.stem("entreprise")),
    ]
