"""Sentence splitting and passages: bounded length, whole sentences, each passage placed in its document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.search.engine import Engine
from bot.search.index import IndexOptions
from bot.search.loader import load_corpus
from bot.search.passages import LONG_PARAGRAPH_CHARS, Passage, passages_with_sentences, split_sentences
from tests.conftest import SEEDS


def split_passages(paragraphs: list[str], doc_index: int, max_chars: int = 1000) -> list[Passage]:
    """The passages alone, as the index builds them."""
    return [passage for passage, _ in passages_with_sentences(paragraphs, doc_index, max_chars)]


def test_abbreviation_m_does_not_end_a_sentence() -> None:
    text = "L'entreprise a trois boutiques, a déclaré M. Long. Celui-ci expédie des produits. Mme Pan a confirmé."
    assert split_sentences(text) == [
        "L'entreprise a trois boutiques, a déclaré M. Long.",
        "Celui-ci expédie des produits.",
        "Mme Pan a confirmé.",
    ]


def test_decimals_do_not_end_a_sentence() -> None:
    text = "Une croissance multipliée par 3,35 fois. Puis 1.5 kg de tofu et 2.000 km. Fin du texte."
    assert split_sentences(text) == [
        "Une croissance multipliée par 3,35 fois.",
        "Puis 1.5 kg de tofu et 2.000 km.",
        "Fin du texte.",
    ]


def test_initials_do_not_end_a_sentence() -> None:
    text = "Le livre de J. R. R. Tolkien est traduit. L'auteur J.-C. Dupont aussi. Voilà."
    assert split_sentences(text) == [
        "Le livre de J. R. R. Tolkien est traduit.",
        "L'auteur J.-C. Dupont aussi.",
        "Voilà.",
    ]


def test_closing_quote_stays_with_its_sentence() -> None:
    text = "« Les affaires ont doublé. » Maintenant il exporte. Il a dit « merci »."
    assert split_sentences(text) == ["« Les affaires ont doublé. »", "Maintenant il exporte.", "Il a dit « merci »."]


def test_closing_quote_without_space_and_opening_quote_starts_a_sentence() -> None:
    text = "Il a conclu : «Tout va bien.» «Nous continuerons.» Fin."
    assert split_sentences(text) == ["Il a conclu : «Tout va bien.»", "«Nous continuerons.»", "Fin."]


def test_question_and_exclamation_marks() -> None:
    text = "Quelles sont les tendances ? Comment l'IA peut-elle aider ! Ce sont les sujets abordés."
    assert split_sentences(text) == [
        "Quelles sont les tendances ?",
        "Comment l'IA peut-elle aider !",
        "Ce sont les sujets abordés.",
    ]


def test_lowercase_after_a_period_does_not_split() -> None:
    assert split_sentences("Il vend sur Alibaba.com en ligne. Il exporte.") == [
        "Il vend sur Alibaba.com en ligne.",
        "Il exporte.",
    ]


def test_sentences_rebuild_the_paragraph() -> None:
    for paragraph in Engine.from_path(SEEDS).documents[0].paragraphs:
        assert " ".join(split_sentences(paragraph)) == paragraph


def _sentence(words: int, tag: str) -> str:
    return " ".join([tag.capitalize()] + [f"mot{tag}{i}" for i in range(words)]) + "."


@pytest.mark.parametrize("max_chars", [80, 200, 500])
def test_passages_are_bounded_and_keep_sentences_whole(max_chars: int) -> None:
    sentences = [_sentence(n, t) for n, t in zip([5, 12, 3, 20, 8, 7, 15, 2, 9], "abcdefghi", strict=True)]
    paragraphs = [" ".join(sentences[:5]), "Court.", " ".join(sentences[5:])]
    passages = split_passages(paragraphs, doc_index=7, max_chars=max_chars)
    text = " ".join(p.text for p in passages)
    for passage in passages:
        assert len(passage.text) <= max_chars
    for sentence in sentences:
        if len(sentence) <= max_chars:
            # A sentence that fits the bound is never cut: it lies whole in one passage.
            assert any(sentence in p.text for p in passages), f"cut sentence: {sentence!r}"
    # Nothing lost, nothing repeated, reading order kept.
    assert text == " ".join(paragraphs)
    assert [p.position for p in passages] == list(range(len(passages)))
    assert all(p.doc_index == 7 for p in passages)
    assert [p.paragraph for p in passages] == sorted(p.paragraph for p in passages)
    assert {p.paragraph for p in passages} == {0, 1, 2}


def test_long_paragraph_is_cut_into_balanced_passages() -> None:
    sentences = [_sentence(8, t) for t in "abcdefghij"]  # ten sentences of about 60 characters
    passages = split_passages([" ".join(sentences)], doc_index=0, max_chars=400)
    assert len(passages) == 2
    assert all(200 <= len(p.text) <= 400 for p in passages)


def test_a_sentence_longer_than_the_bound_is_cut_at_word_boundaries() -> None:
    long_sentence = _sentence(60, "x")
    passages = split_passages([f"Avant. {long_sentence} Après."], doc_index=0, max_chars=100)
    assert " ".join(p.text for p in passages) == f"Avant. {long_sentence} Après."
    assert all(len(p.text) <= 100 for p in passages)
    words = set(long_sentence.split())
    assert all(set(p.text.split()) <= words | {"Avant.", "Après."} for p in passages)


def test_short_paragraphs_are_one_passage_each() -> None:
    passages = split_passages(["Un.", "Deux phrases. Ici."], doc_index=3)
    assert [(p.paragraph, p.position, p.text) for p in passages] == [(0, 0, "Un."), (1, 1, "Deux phrases. Ici.")]


def test_seed_passages_know_their_document_and_place() -> None:
    engine = Engine.from_path(SEEDS, index_options=IndexOptions(passage_max_chars=300))
    by_doc: dict[int, list] = {}
    for passage in engine.index.passages:
        by_doc.setdefault(passage.doc_index, []).append(passage)
    assert sorted(by_doc) == list(range(engine.document_count))
    for doc_index, passages in by_doc.items():
        doc = engine.documents[doc_index]
        assert [p.position for p in passages] == list(range(len(passages)))
        for passage in passages:
            assert passage.text in doc.paragraphs[passage.paragraph]
            pieces = split_sentences(passage.text)
            assert len(passage.text) <= 300 or len(pieces) == 1
        # Reading order: the passages of a paragraph rebuild it.
        for number, paragraph in enumerate(doc.paragraphs):
            assert " ".join(p.text for p in passages if p.paragraph == number) == paragraph


def test_seed_passages_never_start_mid_sentence() -> None:
    # 500 characters: longer than every seed sentence, shorter than many seed paragraphs.
    engine = Engine.from_path(SEEDS, index_options=IndexOptions(passage_max_chars=500))
    assert engine.passage_count > sum(len(d.paragraphs) for d in engine.documents)
    for passage in engine.index.passages:
        assert re.match(r"[«\"(A-ZÀ-ÝŒ0-9]", passage.text), passage.text[:60]
        assert re.search(r"[.!?…»)\"]$", passage.text), passage.text[-60:]


def test_a_paragraph_over_the_limit_is_cut_at_spaces_without_sentence_analysis() -> None:
    paragraph = " ".join(f"M. Dupont{i} vend {i} théières." for i in range(2000))
    assert len(paragraph) > LONG_PARAGRAPH_CHARS
    passages = passages_with_sentences([paragraph], 0, max_chars=500)
    assert all(sentences == [passage.text] for passage, sentences in passages)  # one piece, read as one sentence
    assert all(len(passage.text) <= 500 for passage, _ in passages)
    assert " ".join(passage.text for passage, _ in passages) == paragraph  # cut at spaces only, nothing lost
    assert [passage.position for passage, _ in passages] == list(range(len(passages)))
    short = paragraph[: LONG_PARAGRAPH_CHARS - 100].rsplit(" ", 1)[0]
    assert passages_with_sentences([short], 0, max_chars=500)[0][1][0] == "M. Dupont0 vend 0 théières."


def test_refused_sentence_ends_in_a_row_still_split_the_same() -> None:
    # Initials and abbreviations refused one after the other: each is checked on its last token only.
    text = "A. B. " * 3000 + "Fin. M. Durand arrive."
    assert split_sentences(text) == [("A. B. " * 3000 + "Fin.").strip(), "M. Durand arrive."]


def test_an_over_long_paragraph_is_named_in_the_corpus_warnings(tmp_path: Path) -> None:
    (tmp_path / "court.txt").write_text("Les théières du Yunnan se vendent en ligne.", encoding="utf-8")
    (tmp_path / "long.txt").write_text("Intro courte.\n\n" + "mot " * 10_000, encoding="utf-8")
    corpus = load_corpus(tmp_path)
    (warning,) = corpus.warnings
    assert warning.startswith("long.txt : le paragraphe n° 2 compte 39999 caractères")
    assert "sans analyse des phrases" in warning


def test_sentences_glued_without_a_space_are_split() -> None:
    """Scraped pages glue sentences ("travail.Selon"); each stays verbatim, and names with dots stay whole."""
    assert split_sentences("Il a trouvé du travail.Selon lui, tout va bien.") == [
        "Il a trouvé du travail.",
        "Selon lui, tout va bien.",
    ]
    assert split_sentences("Le site JD.com vend. M.Dupont parle.") == ["Le site JD.com vend.", "M.Dupont parle."]
