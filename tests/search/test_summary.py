"""The extractive summary: the answering sentence first, only what adds to it after, context it leans on, no repeats,
bounded length."""

from __future__ import annotations

import pytest

from bot.search.analysis import Analyzer
from bot.search.passages import split_sentences
from bot.search.summary import ELLIPSIS, Candidate, score_sentences, summarize

ANALYZER = Analyzer()


def _weights(question: str) -> dict[str, float]:
    return dict.fromkeys(ANALYZER.terms(question), 1.0)


def _summary(candidates: list[Candidate], question: str, cues: set[str] | None = None, **kw: int) -> list[str]:
    chosen = summarize(candidates, _weights(question), cues or set(), ANALYZER.terms, question, **kw)
    return [pick.text for pick in chosen]


PASSAGE = (
    "Le village de Libei vend du tofu. "
    "Les ventes en ligne du village ont augmenté de 56,74 % en un an. "
    "Le maire se félicite du résultat. "
    "La météo était clémente cet été."
)


def test_best_sentence_is_quoted_verbatim() -> None:
    chosen = _summary([Candidate(0, PASSAGE, 1.0)], "ventes en ligne du village augmenté")
    assert "Les ventes en ligne du village ont augmenté de 56,74 % en un an." in chosen
    assert all(sentence in PASSAGE for sentence in chosen)


def test_unrelated_sentences_are_left_out() -> None:
    chosen = _summary([Candidate(0, PASSAGE, 1.0)], "ventes en ligne du village augmenté")
    assert "La météo était clémente cet été." not in chosen


def test_number_cue_prefers_a_sentence_with_a_new_number() -> None:
    text = "Le comté compte des entrepreneurs du commerce. Le comté compte 1 600 entrepreneurs du commerce."
    scored = score_sentences(
        [Candidate(0, text, 1.0)],
        _weights("entrepreneurs comté"),
        {"number"},
        ANALYZER.terms,
        "Combien d'entrepreneurs compte le comté ?",
    )
    assert scored[1].score > scored[0].score
    # A number the question already holds is no answer to "combien".
    same = score_sentences(
        [Candidate(0, "Le comté compte 1600 boutiques.", 1.0)],
        _weights("comté 1600"),
        {"number"},
        ANALYZER.terms,
        "Combien de boutiques pour 1600 habitants au comté ?",
    )
    plain = score_sentences(
        [Candidate(0, "Le comté compte 1600 boutiques.", 1.0)],
        _weights("comté 1600"),
        set(),
        ANALYZER.terms,
        "Combien de boutiques pour 1600 habitants au comté ?",
    )
    assert same[0].score == pytest.approx(plain[0].score)


def test_person_cue_prefers_a_sentence_with_a_name() -> None:
    text = "Le directeur adjoint du bureau agricole parle. Le directeur adjoint du bureau agricole est Pan Jian."
    scored = score_sentences(
        [Candidate(0, text, 1.0)],
        _weights("directeur adjoint bureau agricole"),
        {"person"},
        ANALYZER.terms,
        "Qui est le directeur adjoint du bureau agricole ?",
    )
    assert scored[1].score > scored[0].score


def test_cue_bonus_needs_some_coverage() -> None:
    scored = score_sentences(
        [Candidate(0, "Il a vendu 400 bicyclettes.", 1.0)],
        _weights("théières"),
        {"number"},
        ANALYZER.terms,
        "Combien de théières ?",
    )
    assert scored[0].score == pytest.approx(0.25)  # only the passage weight, no cue bonus without a matching term


def test_near_duplicates_are_not_quoted_twice() -> None:
    a = "Les ventes en ligne du village ont augmenté de 56,74 % en un an."
    b = "Les ventes en ligne du village ont augmenté de 56,74 % en une année."
    chosen = _summary([Candidate(0, a, 1.0), Candidate(1, b, 0.9)], "ventes en ligne village augmenté 56,74")
    assert len(chosen) == 1


def test_the_answering_sentence_comes_first_whatever_its_place() -> None:
    passage = "Le village de Libei se trouve au Guizhou. Les ventes en ligne du village ont bondi de 56,74 %."
    chosen = _summary([Candidate(0, passage, 1.0)], "De combien les ventes en ligne du village ont-elles bondi ?")
    assert chosen[0] == "Les ventes en ligne du village ont bondi de 56,74 %."


def test_a_further_sentence_only_when_it_adds_a_term_the_first_lacks() -> None:
    passage = (
        "Le tofu de riz est fabriqué à Libei. "
        "Le tofu de riz de Libei est vendu en ligne. "
        "Le village exporte son tofu grâce au commerce en ligne."
    )
    chosen = _summary([Candidate(0, passage, 1.0)], "tofu riz Libei vendu ligne exporte")
    assert chosen[0] == "Le tofu de riz de Libei est vendu en ligne."
    # The third sentence brings "exporte"; the first repeats what the best one says and is left out.
    assert chosen[1:] == ["Le village exporte son tofu grâce au commerce en ligne."]


def test_a_sentence_scoring_as_high_as_the_best_is_quoted_too() -> None:
    # Neither adds a term of the question to the other, but the ranking cannot tell which one answers.
    passage = (
        "Le village de Libei vend du tofu en ligne depuis 2015 grâce à ses coopératives. "
        "À Xiao, un autre village vend aussi du tofu en ligne à des clients de Shanghai. "
        "La météo était clémente cet été."
    )
    chosen = _summary([Candidate(0, passage, 1.0)], "Quel village vend du tofu en ligne ?")
    assert sorted(chosen) == sorted(split_sentences(passage)[:2])


def test_a_first_sentence_opening_on_a_pronoun_brings_the_one_before() -> None:
    passage = "Pan Jian dirige le bureau agricole de Guiyang. Il a lancé 13 parcs industriels du commerce en ligne."
    chosen = _summary([Candidate(0, passage, 1.0)], "Combien de parcs industriels ont été lancés ?", {"number"})
    assert chosen[0] == passage


def test_a_quotation_closed_in_the_first_sentence_is_opened_in_the_quote() -> None:
    passage = "« Nous vendons partout. Nos clients sont en Russie et au Chili », explique Eugene."
    chosen = _summary([Candidate(0, passage, 1.0)], "Où sont les clients ?", {"place"})
    assert chosen[0].count("«") == chosen[0].count("»") == 1


@pytest.mark.parametrize("max_chars", [60, 120, 600])
def test_total_length_is_bounded(max_chars: int) -> None:
    sentence = "Le commerce électronique du village numéro {} progresse vite grâce au tofu de riz."
    sentences = [sentence.format(i) for i in range(8)]
    chosen = _summary(
        [Candidate(0, " ".join(sentences), 1.0)], "commerce électronique village tofu riz", max_chars=max_chars
    )
    assert chosen
    assert len(" ".join(chosen)) <= max_chars


def test_single_overlong_sentence_is_shortened_with_an_ellipsis() -> None:
    sentence = "Le commerce électronique " + "du village de Libei " * 40 + "progresse."
    chosen = _summary([Candidate(0, sentence, 1.0)], "commerce électronique Libei", max_chars=100)
    assert len(chosen) == 1
    assert len(chosen[0]) <= 100 and chosen[0].endswith(ELLIPSIS)
    assert sentence.startswith(chosen[0][:-1])


def test_at_most_three_sentences() -> None:
    sentences = [f"Le tofu numéro {i} de Libei se vend en ligne à {i} clients différents." for i in range(10)]
    chosen = _summary([Candidate(0, " ".join(sentences), 1.0)], "tofu Libei vend ligne clients")
    assert 1 <= len(chosen) <= 3


def test_no_candidates_no_summary() -> None:
    assert _summary([], "tofu") == []


def test_a_term_few_sentences_hold_outweighs_terms_they_all_hold() -> None:
    """Within the quoted passages, the article's subject (in every sentence) tells the sentences apart less
    than a term only one sentence holds, even at equal corpus weight."""
    common = [f"Le village de Libei compte {n} entreprises." for n in range(1, 7)]
    rare = "Le tofu y est vendu en ligne."
    scored = score_sentences(
        [Candidate(0, " ".join([*common, rare]), 1.0)],
        _weights("village Libei tofu"),
        set(),
        ANALYZER.terms,
        "village Libei tofu",
    )
    best = max(scored, key=lambda s: s.score)
    assert best.text == rare
    # With the corpus weights alone the two-term sentences would win.
    assert len(best.terms & set(_weights("village Libei tofu"))) == 1
