"""The quantity a « combien » question asks for, and whether a sentence gives a number of it."""

from __future__ import annotations

import pytest

from bot.search.summary import Candidate, summarize
from bot.search.units import Wanted, wanted


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("combien de chevaux pour la nouvelle corvette stingray", "puissance"),
        ("Quelle puissance faisait la Porsche 911 Turbo en 1974 ?", "puissance"),
        ("Quel est le chiffre d'affaires d'AliExpress en Espagne ?", "argent"),
        ("Combien Pinduoduo va-t-il investir dans son projet ?", "argent"),
        ("c'est quoi le salaire d'un responsable ?", "argent"),
        ("Quelle est la part de marché de TikTok Shop en Malaisie ?", "part"),
        ("A quel âge obtient-il son diplôme ?", "age"),
        ("Combien de temps dure le trajet ?", "duree"),
        ("A combien de kilomètres de Paris se trouvent les Ulis ?", "distance"),
    ],
)
def test_a_measure_is_read_from_the_question(question: str, measure: str) -> None:
    assert wanted(question) == Wanted(measure=measure)


@pytest.mark.parametrize(
    "question",
    [
        "Quelle puissance étrangère s'était vu confier le Shandong ?",
        "Quel puissance étrangère s'était vu confier le Shandong ?",
        "Quelle puissance asiatique vint arbitrer le conflit entre Bangkok et Paris ?",
        "Quelle puissance a dominé le Danemark ?",
        "Quelle est la puissance coloniale de l'Indochine ?",
    ],
)
def test_a_power_that_is_a_state_is_no_quantity(question: str) -> None:
    assert wanted(question) is None


@pytest.mark.parametrize(
    "question",
    [
        "Quelle est la puissance du Vizzavona ?",
        "Quelle puissance a la nouvelle Porsche ?",
        "quelle puissance développe le moteur ?",
        "Quelle puissance ?",
    ],
)
def test_the_power_of_a_machine_is_a_quantity(question: str) -> None:
    assert wanted(question) == Wanted(measure="puissance")


def test_a_counted_noun_brings_its_synonyms_and_other_questions_want_no_quantity() -> None:
    staff = wanted("Combien de salariés travaillent chez Meixin Group ?")
    assert staff is not None and staff.measure is None and {"salar", "employ"} <= staff.nouns
    assert wanted("Husna a vendu combien de jouets sur TikTok ?") == Wanted(nouns=frozenset({"jouet"}))
    for question in ("Qui a fondé Alibaba ?", "Combien de fois a-t-il gagné ?", "Le prix du pain a-t-il baissé ?"):
        assert wanted(question) is None, question


def test_a_sentence_gives_the_quantity_with_its_unit() -> None:
    power = Wanted(measure="puissance")
    assert power.held_by("Son moteur V8 développe 490 ch.")
    assert power.held_by("Elle faisait 260 chevaux.")
    assert not power.held_by("La Corvette Stingray (C8) arrive en 2020.")
    money = Wanted(measure="argent")
    assert money.held_by("En 2017, autour de 800 milliards d'euros ont été dépensés.")
    assert not money.held_by("AliExpress a vu son trafic augmenter de 20% et 14%.")


def test_a_counted_noun_is_given_by_a_number_that_is_no_other_measure_year_or_date() -> None:
    staff = wanted("Combien de salariés travaillent chez Meixin Group ?")
    assert staff is not None
    assert staff.held_by("Le groupe emploie 1 200 employés.")
    assert staff.held_by("Ils sont sept.")
    assert staff.held_by("Des centaines de salariés ont manifesté.")  # a rough count still counts
    assert not staff.held_by("Tang Hexia, 29 ans, travaille depuis six ans chez Meixin Group.")
    assert not staff.held_by("Le groupe a été fondé en 2009, le 28 décembre.")
    assert not staff.held_by("Chongqing est l'une des deux premières villes pilotes.")
    assert not staff.named_by("Ils sont sept.") and staff.named_by("Le groupe emploie 1 200 employés.")


def test_a_number_that_names_or_ranks_counts_nothing() -> None:
    staff = wanted("Combien de salariés travaillent chez Meixin Group ?")
    assert staff is not None
    assert not staff.held_by("La Porsche 911 Carrera 4S arrive chez Meixin Group.")
    assert not staff.held_by("La Porsche 911 (992) est exposée chez Meixin Group.")
    assert not staff.held_by("Il s'agit du 28e départ de l'année chez Meixin Group.")
    assert not staff.held_by("Meixin Group a fermé à cause du Covid-19.")
    # A number that counts something may still count the noun asked under another name.
    assert staff.held_by("Meixin Group compte 1 400 ouvriers.")
    assert staff.held_by("Environ 300 ont manifesté devant le siège.")
    assert staff.held_by("Personnel : 23 000")


def test_a_neighbour_that_gives_the_quantity_is_quoted_first() -> None:
    text = (
        "La Chevrolet Corvette Stingray (C8) est la nouvelle corvette à moteur central. "
        "Son V8 atteint 490 ch. Elle est assemblée au Kentucky."
    )
    weights = {"corvet": 2.0, "stingray": 2.0, "nouvel": 1.0, "chevaux": 1.0}
    candidates = [Candidate(0, text, 1.0)]

    def analyse(sentence: str) -> list[str]:
        return [w for w in weights if w in sentence.lower()]

    question = "combien de chevaux pour la nouvelle corvette stingray"
    lexical = summarize(candidates, weights, {"number"}, analyse, question)
    assert lexical[0].sentence.startswith("La Chevrolet")
    power = wanted(question)
    assert power is not None
    checked = summarize(candidates, weights, {"number"}, analyse, question, wants=power.named_by)
    assert checked[0].sentence == "Son V8 atteint 490 ch."


def test_the_nearest_sentence_of_the_passage_that_gives_the_quantity_is_quoted_first() -> None:
    text = (
        "Mercedes-AMG a présenté le coupé C63 AMG Black Series. "
        "Il porte le nom Black Series après la SLK55. "
        "Le coupé conserve son moteur V8. "
        "Il délivre alors jusqu'à 517 ch. "
        "Une version cabriolet donnera 530 ch."
    )
    weights = {"c63": 2.0, "black": 1.0, "series": 1.0, "chevaux": 1.0}
    candidates = [Candidate(0, text, 1.0)]

    def analyse(sentence: str) -> list[str]:
        return [w for w in weights if w in sentence.lower()]

    question = "combien de chevaux fait la mercedes c63 amg black series ?"
    power = wanted(question)
    assert power is not None
    picks = summarize(candidates, weights, {"number"}, analyse, question, wants=power.named_by)
    assert picks[0].sentence == "Il délivre alors jusqu'à 517 ch."  # three sentences on, before the farther one
    none = summarize(
        [Candidate(0, text.replace(" ch", " Nm"), 1.0)], weights, {"number"}, analyse, question, wants=power.named_by
    )
    assert none[0].sentence.startswith("Mercedes-AMG")  # no sentence gives it: the best one stays first
