"""The highlighted phrase: always verbatim from the sentence, of the kind the question asks for, never the question."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bot.search.analysis import fold, words
from bot.search.highlight import consensus, highlight
from bot.search.kinds import KINDS, asked
from bot.search.spans import FEATURES, candidates

ALIBABA = (
    "Selon son directeur général Zhang Kuo, le site de vente en gros sortant d'Alibaba a quant à lui vu ses volumes "
    "de transactions augmenter de 126% en juin et a maintenu une croissance à trois chiffres en juillet."
)
EXPORTS = (
    "Les données montrent qu'au premier semestre 2025, la valeur totale des importations et des exportations du "
    "commerce électronique transfrontalier de la Chine a atteint 1 370 milliards de yuans, soit une augmentation "
    "de 10,3 % par rapport à la même période de 2024."
)
ZHEJIANG = (
    "000 km de là, dans la province côtière du Zhejiang, le commerce électronique a débuté sous l'impulsion "
    "d'hommes d'affaires tels que Lu Zhenhong."
)
WAREHOUSE = (
    "Les produits importés sont gérés dans un entrepôt cautionné à Jinhua, dans la province du Zhejiang "
    "(est de la Chine)."
)
SILK_ROAD = "La Chine a établi des collaborations de commerce électronique de la Route de la Soie avec 35 pays."
NO_FIGURE = (
    "La Chine a établi des collaborations de commerce électronique de la Route de la Soie avec de nombreux pays."
)
ALIEXPRESS = (
    "AliExpress, un détaillant en ligne qui s'adresse en grande partie aux clients étrangers, est déjà le site "
    "d'achat le plus populaire en Lettonie et en Lituanie, a déclaré la semaine dernière le ministère du Commerce."
)

CASES = [
    (ALIBABA, "De combien ont augmenté les volumes de transactions du site de vente en gros d'Alibaba en juin ?"),
    (EXPORTS, "Combien a atteint la valeur des importations et des exportations au premier semestre 2025 ?"),
    (EXPORTS, "Quand la valeur du commerce électronique transfrontalier a-t-elle atteint 1 370 milliards ?"),
    (ZHEJIANG, "Qui a lancé le commerce électronique dans le Zhejiang ?"),
    (WAREHOUSE, "Où sont gérés les produits importés ?"),
    (SILK_ROAD, "Avec combien de pays la Chine a-t-elle établi des collaborations de commerce électronique ?"),
    (ALIEXPRESS, "Quel est le site d'achat le plus populaire en Lettonie ?"),
    (ALIEXPRESS, "Qu'est-ce qu'AliExpress ?"),
    (NO_FIGURE, "Quelle route relie la Chine à ses partenaires ?"),
]


def _content(text: str) -> set[str]:
    return {w for w in words(text) if len(w) > 3}


@pytest.mark.parametrize(("sentence", "question"), CASES)
def test_highlight_is_verbatim_and_not_the_question(sentence: str, question: str) -> None:
    found = highlight(sentence, question, asked(question))
    assert found is not None
    assert found in sentence
    assert found == found.strip() and found[-1] not in ",;:."
    # Something the question does not already say.
    assert _content(found) - _content(question) or re.search(r"\d", found)


def test_combien_gives_the_number_with_its_unit() -> None:
    question = "De combien ont augmenté les volumes de transactions du site de vente en gros d'Alibaba en juin ?"
    assert highlight(ALIBABA, question, asked(question)) == "126%"
    question = "Avec combien de pays la Chine a-t-elle établi des collaborations de commerce électronique ?"
    assert highlight(SILK_ROAD, question, asked(question)).startswith("35")


def test_quand_gives_a_date() -> None:
    question = "Quand la valeur du commerce électronique transfrontalier a-t-elle atteint 1 370 milliards ?"
    found = highlight(EXPORTS, question, asked(question))
    assert found is not None and re.search(r"\b20\d\d\b", found)
    assert "1 370" not in found


def test_qui_gives_a_name_the_question_does_not_hold() -> None:
    question = "Qui a lancé le commerce électronique dans le Zhejiang ?"
    assert highlight(ZHEJIANG, question, asked(question)) == "Lu Zhenhong"
    question = "Qui est le directeur général du site de vente en gros d'Alibaba ?"
    assert highlight(ALIBABA, question, asked(question)) == "Zhang Kuo"


def test_ou_gives_a_place() -> None:
    question = "Où sont gérés les produits importés ?"
    assert highlight(WAREHOUSE, question, asked(question)) == "Jinhua"


def test_nothing_of_the_kind_gives_none() -> None:
    question = "Combien de pays collaborent avec la Chine ?"
    assert highlight(NO_FIGURE, question, asked(question)) is None
    question = "Quand la Chine a-t-elle établi ces collaborations ?"
    assert highlight(NO_FIGURE, question, asked(question)) is None
    assert highlight("« … »", "Qui parle ?", asked("Qui parle ?")) is None
    assert highlight("", "Que dit-il ?", asked("Que dit-il ?")) is None


def _kind(question: str) -> tuple[str, str | None]:
    found = asked(question)
    return found.kind, found.focus


def test_question_kind() -> None:
    assert _kind("Quel traité dessine les limites entre le Maroc et l'Algérie ?") == ("which", "trait")
    assert _kind("Quelle est la capitale du Canada ?")[1] == "capital"
    assert _kind("Que signifie UPU ?")[0] == "what"
    assert _kind("Comment s'appelle le consul de Montélimar ?")[0] == "name"
    assert _kind("Comment fonctionne un moteur ?")[0] == "how"
    assert _kind("Combien d'habitants compte Lyon ?")[0] == "number"
    assert {_kind(q)[0] for q in ("Qui a écrit Candide ?", "Où est né Voltaire ?")} == {"person", "place"} <= set(KINDS)


def test_candidates_never_cross_sentence_marks_nor_start_on_one() -> None:
    found = candidates(
        WAREHOUSE, "Où sont gérés les produits importés ?", asked("Où sont gérés les produits importés ?")
    )
    assert found is not None and found.features.shape == (len(found.starts), len(FEATURES))
    for start, end in zip(found.starts, found.ends, strict=True):
        span = WAREHOUSE[start:end]
        assert (span[0].isalnum() and span[-1].isalnum()) or span[-1] in ")»"
        assert not set(span) & set("();.")


def test_question_words_never_highlighted_alone() -> None:
    question = "Quelle est la valeur totale des importations et des exportations ?"
    found = highlight(EXPORTS, question, asked(question))
    assert found is not None
    assert not {fold(w) for w in words(found)} <= {fold(w) for w in words(question)}


def test_consensus_prefers_what_the_likeliest_spans_share() -> None:
    # Two near-equal guesses overlap on characters 5-10; a span of just the shared part beats either alone.
    starts, ends = np.array([0, 5, 5, 20]), np.array([10, 15, 10, 30])
    assert consensus(np.array([1.0, 0.99, 0.9, -2.0]), starts, ends) == 2
    # One guess far ahead of the rest keeps the vote, and spans ruled out (-inf) never win.
    assert consensus(np.array([9.0, 0.0, 0.0, -np.inf]), starts, ends) == 0
    assert consensus(np.array([-np.inf, -np.inf, -np.inf, 0.0]), starts, ends) == 3


TRAFFIC = (
    "Selon les données de SimilarWeb, en Espagne et en Italie, AliExpress a vu son trafic augmenter respectivement "
    "de 20% et 14% d'une année sur l'autre au cours du premier trimestre."
)


@pytest.mark.parametrize(("place", "value"), [("Italie", "14%"), ("Espagne", "20%")])
def test_respectivement_gives_the_value_of_the_member_asked_for(place: str, value: str) -> None:
    question = f"De combien le trafic d'AliExpress a-t-il augmenté en {place} ?"
    assert highlight(TRAFFIC, question, asked(question)) == value


def test_respectivement_with_three_members() -> None:
    sentence = "Les ventes ont progressé en France, en Allemagne et en Pologne de respectivement 3 %, 5 % et 8 %."
    for place, value in (("France", "3 %"), ("Allemagne", "5 %"), ("Pologne", "8 %")):
        question = f"De combien les ventes ont-elles progressé en {place} ?"
        assert highlight(sentence, question, asked(question)) == value


def test_a_number_is_never_parted_from_its_sign() -> None:
    question = "De combien le trafic d'AliExpress a-t-il augmenté ?"
    found = highlight(TRAFFIC, question, asked(question))
    assert found is not None and not re.search(r"\d$", found)


def test_a_leading_de_is_dropped_but_not_from_a_name() -> None:
    question = "De combien ont augmenté les volumes de transactions du site de vente en gros d'Alibaba en juin ?"
    assert highlight(ALIBABA, question, asked(question)) == "126%"
    sentence = "Le discours du 18 juin a été prononcé par De Gaulle à Londres."
    question = "Qui a prononcé le discours du 18 juin ?"
    assert (highlight(sentence, question, asked(question)) or "").startswith("De Gaulle")


def test_a_phrase_never_ends_on_an_article_or_a_preposition() -> None:
    sentence = "En 2017, autour de 800 milliards d'euros ont été dépensés sur internet par les Chinois."
    question = "Combien les Chinois ont-ils dépensé sur internet en 2017 ?"
    found = candidates(sentence, question, asked(question))
    assert found is not None
    last_words = {fold(sentence[start:end].split()[-1]) for start, end in zip(found.starts, found.ends, strict=True)}
    assert not last_words & {"d'", "de", "les", "par", "sur", "en"}
