"""The engine on the seed articles: dev questions, noisy questions, bad input, confidence, links and leads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from urllib.parse import unquote

import numpy as np
import pytest

from bot.search.analysis import fold, normalize, prefix
from bot.search.answer import Answer, QuestionError
from bot.search.corpus import Corpus, make_document
from bot.search.engine import Engine, EngineOptions
from bot.search.passages import split_sentences
from bot.search.question import Question
from bot.search.ranking import QueryTerms, coverages, rank
from bot.text.answers import NOT_FOUND, answer_text, quote_link
from bot.text.links import text_fragment_link
from tests.conftest import DEV_QA, SEEDS, dev_questions

ANSWERABLE = [q for q in dev_questions() if q["doc"] is not None]
UNANSWERABLE = [q for q in dev_questions() if q["doc"] is None]


def _contains(haystack: str, needle: str) -> bool:
    return fold(normalize(needle)) in fold(normalize(haystack))


def _ranked(engine: Engine, query: Question) -> list[int]:
    """The passages the engine ranks for a question, best first."""
    return [pid for pid, _ in rank(engine.index, query, QueryTerms.of(query, engine.index), engine.options).ranked]


def _coverage(engine: Engine, query: Question, pid: int) -> float:
    """Share of the question's weight found in passage `pid` or its document title."""
    terms = QueryTerms.of(query, engine.index)
    return float(coverages(engine.index, terms, np.array([pid]), engine.options.prefix_match).coverage[0])


def _check_verbatim(engine: Engine, answer: Answer) -> None:
    """Every quoted sentence is a verbatim piece of the cleaned text of the first source."""
    assert answer.found and answer.sentences
    source = answer.sources[0]
    doc = next(d for d in engine.documents if d.doc_id == source.doc_id)
    for sentence in answer.sentences:
        assert sentence in doc.text, f"not verbatim: {sentence!r}"
        assert sentence in answer_text(answer)


def test_dev_file_is_the_shared_one() -> None:
    shared = DEV_QA.parents[2].parent / "shared" / "eval" / "dev_qa.jsonl"
    if shared.exists():
        assert shared.read_bytes() == DEV_QA.read_bytes()
    assert len(ANSWERABLE) == 18 and len(UNANSWERABLE) == 2


@pytest.mark.parametrize("item", ANSWERABLE, ids=[q["id"] for q in ANSWERABLE])
def test_dev_question_answered_with_key_and_right_source(seed_engine: Engine, item: dict) -> None:
    answer = seed_engine.answer(item["q"])
    assert answer.found, f"declined (confidence {answer.confidence})"
    assert answer.sources[0].file is not None and answer.sources[0].file.startswith(item["doc"])
    assert answer.source is answer.sources[0]
    quoted = " ".join(answer.sentences)
    assert any(_contains(quoted, key) for key in item["a"]), quoted
    assert 1 <= len(answer.sentences) <= 3
    assert len(quoted) <= 600
    _check_verbatim(seed_engine, answer)
    assert answer.lead is None
    assert answer.question == item["q"]


@pytest.mark.parametrize("item", UNANSWERABLE, ids=[q["id"] for q in UNANSWERABLE])
def test_unanswerable_dev_question_declined(seed_engine: Engine, item: dict) -> None:
    answer = seed_engine.answer(item["q"])
    assert not answer.found
    assert answer_text(answer).startswith(NOT_FOUND)
    assert NOT_FOUND == "Je n'ai pas trouvé de réponse à cette question dans le corpus."
    assert answer.sentences == [] and answer.source is None
    assert answer.confidence < seed_engine.options.min_confidence


@pytest.mark.parametrize(
    ("question", "doc", "key"),
    [
        ("aliexpress trafic italie", "001", "14%"),
        ("THEIERES EN ARGENT", "003", "théières en argent"),
        ("theieres en argent", "003", "Su Junping"),
        ("Qui est le vice-presidnet de Pinduoduo ?", "001", "Chen Qiu"),
        ("QUI EST LE VICE-PRESIDENT DE PINDUODUO", "001", "Chen Qiu"),
        ("qui est le vice president de pinduoduo", "001", "Chen Qiu"),
        ("Qui est le directeur ajdoint du Bureau agricole de Guiyang ?", "004", "Pan Jian"),
        ("supermarches belge commande", "000", "9 000 dollars"),
        ("croissance commerce transfrontalier premier semestre 2025", "002", "10,3 %"),
        ("Combien de villes pour les produits du Guizhou ?", "004", "356 villes"),
    ],
)
def test_noisy_questions_still_answered(seed_engine: Engine, question: str, doc: str, key: str) -> None:
    answer = seed_engine.answer(question)
    assert answer.found, f"declined (confidence {answer.confidence})"
    assert answer.sources[0].doc_id.startswith(doc)
    assert _contains(" ".join(answer.sentences), key)
    _check_verbatim(seed_engine, answer)


@pytest.mark.parametrize("question", ["le la les ?", "Qui est-ce que c'est ?", "et ou mais donc car ?", "?!"])
def test_stop_words_only_question_declined(seed_engine: Engine, question: str) -> None:
    if not any(ch.isalnum() for ch in question):
        with pytest.raises(QuestionError):
            seed_engine.answer(question)
        return
    answer = seed_engine.answer(question)
    assert not answer.found and answer_text(answer) == NOT_FOUND and answer.confidence == 0.0


@pytest.mark.parametrize("question", ["", " ", "\n\t  ", "\u200b\u200b", "???", "\x00\x07", "😀 🎉"])
def test_empty_or_blank_question_raises_question_error_in_french(seed_engine: Engine, question: str) -> None:
    with pytest.raises(QuestionError) as caught:
        seed_engine.answer(question)
    message = str(caught.value)
    assert "question" in message.lower() and "vide" in message
    assert isinstance(caught.value, ValueError)


def test_very_long_question_is_answered(seed_engine: Engine) -> None:
    base = "Qui est le vice-président de Pinduoduo ? "
    question = (base * (10_000 // len(base) + 1))[:10_000]
    assert len(question) == 10_000
    answer = seed_engine.answer(question)
    assert answer.found and _contains(" ".join(answer.sentences), "Chen Qiu")
    assert answer.question == question


def test_very_long_question_of_distinct_words_does_not_fail(seed_engine: Engine) -> None:
    question = " ".join(f"mot{i} théières commerce" for i in range(700))[:10_000]
    answer = seed_engine.answer(question)
    assert 0.0 <= answer.confidence <= 1.0
    assert len(" ".join(answer.sentences)) <= 600


@pytest.mark.parametrize(
    "question",
    [
        "Qui 😀 est le vice-président de Pinduoduo ? 🤔🇨🇳",
        "Qui est le vice\u200b-président de Pin\u200bduoduo ?",
        "Qui est le vice-président\x07 de\x00 Pinduoduo\x1b ?",
        "\ufeffQui est le vice-président de Pinduoduo\u2060 ?",
        "Qui\u202fest\u00a0le vice‐président de Pinduoduo ?",
    ],
)
def test_odd_characters_in_question_do_not_crash(seed_engine: Engine, question: str) -> None:
    answer = seed_engine.answer(question)
    assert answer.found and _contains(" ".join(answer.sentences), "Chen Qiu")


@pytest.mark.parametrize(
    "question",
    [q["q"] for q in dev_questions()]
    + ["théières", "Chine", "commerce électronique", "x", "1 370", "le la les", "Quel temps fait-il ?"],
)
def test_confidence_in_unit_range_and_length_bounded(seed_engine: Engine, question: str) -> None:
    answer = seed_engine.answer(question)
    assert 0.0 <= answer.confidence <= 1.0
    assert answer.found == bool(answer.sentences)
    assert len(" ".join(answer.sentences)) <= 600
    assert len(answer.sources) <= 5
    assert len({s.doc_id for s in answer.sources}) == len(answer.sources)  # one entry per document
    scores = [s.score for s in answer.sources]
    assert scores == sorted(scores, reverse=True)
    assert answer.latency_ms >= 0


def test_smaller_max_chars_is_respected() -> None:
    engine = Engine.from_path(SEEDS, EngineOptions(max_chars=150))
    for item in dev_questions():
        answer = engine.answer(item["q"])
        assert len(" ".join(answer.sentences)) <= 150


def test_answer_text_names_the_source_in_french(seed_engine: Engine) -> None:
    answer = seed_engine.answer("De combien le trafic d'AliExpress a-t-il augmenté en Italie ?")
    source = answer.sources[0]
    assert source.publisher == "Le Quotidien du Peuple en ligne"
    assert source.published == "2020-08-05"
    text = answer_text(answer)
    assert "Source : Article du Quotidien du Peuple en ligne, 5 août 2020" in text
    link = quote_link(answer.quotes[0])
    assert link is not None and link in text
    assert text.startswith(answer.sentences[0])


def test_text_fragment_link_on_the_first_source(seed_engine: Engine) -> None:
    answer = seed_engine.answer("Qui est le vice-président de Pinduoduo ?")
    source = answer.sources[0]
    link = quote_link(answer.quotes[0])
    assert source.url is not None
    assert link is not None and link.startswith(source.url + "#:~:text=")
    fragment = link.split("#:~:text=", 1)[1]
    for raw in (" ", "-", "&"):
        assert raw not in fragment
    parts = fragment.split(",")
    assert 1 <= len(parts) <= 2
    decoded = [unquote(p) for p in parts]
    first = answer.sentences[0]
    assert first.startswith(decoded[0])
    if len(decoded) == 2:
        assert first.endswith(decoded[1])


def test_fragment_encodes_reserved_characters(seed_engine: Engine) -> None:
    # "vice-président", commas and spaces: the quoted sentence holds them all.
    answer = seed_engine.answer("Qui est le vice-président de Pinduoduo ? Chen Qiu")
    link = quote_link(answer.quotes[0]) or ""
    fragment = link.split("#:~:text=", 1)[1]
    assert fragment.count(",") <= 1
    assert "%2D" in fragment or "%2C" in fragment or "%20" in fragment


def test_sources_carry_metadata_and_passages(seed_engine: Engine) -> None:
    answer = seed_engine.answer("commerce électronique transfrontalier")
    assert len(answer.sources) >= 3
    for source in answer.sources:
        doc = next(d for d in seed_engine.documents if d.doc_id == source.doc_id)
        assert source.file == doc.file and source.title == doc.title and source.url == doc.url
        assert source.passage in doc.text
        json.dumps(asdict(source))


# -- leads: named only when the closest document holds the question's key term ---------

LEAD_DOCS = [
    {
        "id": "zeppelin",
        "title": "Le zeppelin de Friedrichshafen",
        "text": "Le zeppelin survole le lac de Constance chaque été. Les touristes aiment le lac.",
    },
    {"id": "velo", "text": "Le vélo électrique se vend bien en ville. La ville construit des pistes pour le vélo."},
    {"id": "montagne", "text": "La montagne attire les randonneurs. Le fromage de montagne est apprécié en ville."},
    {"id": "fromage", "text": "Le fromage affiné se vend au marché. Le marché ouvre le samedi matin."},
    {"id": "mer", "text": "La mer est calme en juin. Les bateaux de pêche en bois rentrent au port le soir."},
    {"id": "foret", "text": "La forêt couvre la colline. Les bûcherons coupent le bois pour les bateaux."},
]


@pytest.fixture(scope="module")
def lead_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    path = tmp_path_factory.mktemp("lead") / "docs.jsonl"
    path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in LEAD_DOCS), encoding="utf-8")
    return Engine.from_path(path)


def test_lead_names_the_document_holding_the_key_term(lead_engine: Engine) -> None:
    question = "Le zeppelin vend-il du fromage, du bois et des bateaux en ville ?"
    query = lead_engine.analyze_question(question)
    key = max(query.weights, key=query.weights.__getitem__)
    assert key == lead_engine.analyzer.terms("zeppelin")[0]
    assert sorted(query.weights.values())[-2] < query.weights[key]  # the key term is unique
    answer = lead_engine.answer(question)
    assert not answer.found
    assert answer.lead is not None and answer.lead.doc_id == "zeppelin"
    assert answer_text(answer).startswith(NOT_FOUND)
    assert "Le document le plus proche : « Le zeppelin de Friedrichshafen »" in answer_text(answer)


def test_no_lead_when_the_key_term_is_nowhere(lead_engine: Engine) -> None:
    # "dirigeable" is absent from the corpus: the weightiest term, held by no document.
    answer = lead_engine.answer("Le dirigeable vend-il du fromage, du bois et des bateaux en ville ?")
    assert not answer.found
    query = lead_engine.analyze_question(answer.question)
    best = _ranked(lead_engine, query)[0]
    assert _coverage(lead_engine, query, best) >= lead_engine.options.lead_confidence  # close: the key term decides
    assert answer.lead is None
    assert answer_text(answer) == NOT_FOUND


@pytest.mark.parametrize("item", UNANSWERABLE, ids=[q["id"] for q in UNANSWERABLE])
def test_seed_unanswerable_questions_name_no_unrelated_lead(seed_engine: Engine, item: dict) -> None:
    answer = seed_engine.answer(item["q"])
    if answer.lead is not None:
        query = seed_engine.analyze_question(item["q"])
        key = max(query.weights, key=query.weights.__getitem__)
        doc = next(d for d in seed_engine.documents if d.doc_id == answer.lead.doc_id)
        assert key in seed_engine.analyzer.terms(doc.text + " " + (doc.title or ""))


def test_engine_counts(seed_engine: Engine) -> None:
    assert seed_engine.document_count == 5
    assert seed_engine.passage_count >= seed_engine.document_count
    assert seed_engine.passage_count == len(seed_engine.index.passages)


def test_typo_is_corrected_only_towards_corpus_words(seed_engine: Engine) -> None:
    corrected = seed_engine.analyze_question("Pinduodou")
    assert corrected.terms == seed_engine.analyzer.terms("Pinduoduo")
    assert corrected.factors[corrected.terms[0]] < 1.0
    # A short unknown word is left alone rather than bent into a corpus word.
    assert seed_engine.analyze_question("Temo").terms == seed_engine.analyzer.terms("Temo") != ["temu"]
    assert seed_engine.analyze_question("zyxwvutsr").terms == seed_engine.analyzer.terms("zyxwvutsr")


_TIE_SCRIPT = """
from bot.search.corpus import Corpus, make_document
from bot.search.engine import Engine
texts = ["Le poing du boxeur frappe fort.", "Le boeing du pilote vole haut.", "La ville dort."]
engine = Engine.build(Corpus([make_document(str(k), t) for k, t in enumerate(texts)]), workers=1)
print(engine.analyze_question("boing").terms)
"""


def test_a_typo_between_two_equally_frequent_words_is_corrected_the_same_way_every_run() -> None:
    """String hashing changes from one process to the next: no choice may depend on it."""
    runs = {
        subprocess.run(
            [sys.executable, "-c", _TIE_SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in range(6)
    }
    assert len(runs) == 1


@pytest.mark.parametrize("count", [1, 2])
def test_tiny_corpus_still_answers(count: int) -> None:
    """With one or two passages BM25's idf is zero or negative; the question's weights must not vanish."""
    texts = {
        "velo": "Lyon compte 4 000 vélos en libre-service depuis 2005.",
        "tofu": "Le village de Libei vend du tofu de riz dans tout le pays.",
    }
    documents = [make_document(doc_id, text) for doc_id, text in list(texts.items())[:count]]
    engine = Engine.build(Corpus([d for d in documents if d is not None]))
    answer = engine.answer("Combien de vélos en libre-service à Lyon ?")
    assert answer.found and answer.sentences == [texts["velo"]]
    assert 0.0 < answer.confidence <= 1.0
    assert not engine.answer("Quel temps fera-t-il demain à Paris ?").found


DERIVED_DOCS = {
    "viaduc": "Le viaduc de Millau a été construit entre 2001 et 2004 par Eiffage.",
    "stade": "La construction du nouveau stade a pris du retard à cause de la pluie.",
    "tofu": "Le village de Libei vend du tofu de riz dans tout le pays.",
    "velo": "Lyon compte 4 000 vélos en libre-service depuis 2005.",
}


@pytest.fixture(scope="module")
def derived_corpus() -> Corpus:
    return Corpus([d for d in (make_document(i, t) for i, t in DERIVED_DOCS.items()) if d is not None])


def test_a_derived_word_is_found_through_its_prefix(derived_corpus: Corpus) -> None:
    """ "construction" and "construit" share no stem; the prefix field lets the viaduct's article answer."""
    engine = Engine.build(derived_corpus, EngineOptions(min_confidence=0.0))  # four lines: ranking, not confidence
    question = "Quand a eu lieu la construction du viaduc ?"
    assert "construct" in engine.analyze_question(question).terms
    answer = engine.answer(question)
    assert answer.found and answer.sources[0].doc_id == "viaduc"
    assert answer.sentences == [DERIVED_DOCS["viaduc"]]
    # Found only as a prefix, "construction" counts half: the confidence lies between the two coverages.
    stems_only = Engine.build(derived_corpus, EngineOptions(prefix_weight=0.0, prefix_match=0.0))
    query = engine.analyze_question(question)
    pid = _ranked(engine, query)[0]
    viaduc, construction = query.weights[engine.analyzer.stem("viaduc")], query.weights["construct"]
    assert _coverage(stems_only, query, pid) == pytest.approx(viaduc / query.total)
    assert _coverage(engine, query, pid) == pytest.approx((viaduc + 0.5 * construction) / query.total)


def _reference_coverage(engine: Engine, query: Question, pid: int) -> tuple[float, float]:
    """Coverage of a passage and of its best sentence, from its text analysed anew, one term at a time."""
    passage = engine.index.passages[pid]
    title = engine.documents[passage.doc_index].title or ""
    entries = engine.analyzer.entries(passage.text) + engine.analyzer.entries(title)
    found = {t for _, t in entries} & set(query.terms)
    prefixes = {prefix(word) for word, _ in entries}
    derived = {t for t in query.terms if query.prefixes[t] & prefixes} - found
    weighted = {t: query.weights[t] * query.factors[t] for t in query.terms}
    coverage = (sum(weighted[t] for t in found) + 0.5 * sum(weighted[t] for t in derived)) / query.total
    sentences = [set(engine.analyzer.terms(s)) for s in split_sentences(passage.text)]
    best = max(sum(w for t, w in query.weights.items() if t in terms) for terms in sentences)
    return coverage, best / query.total


@pytest.mark.parametrize("question", [q["q"] for q in ANSWERABLE[:6]] + ["Quand a eu lieu la constru du port ?"])
def test_every_candidate_is_covered_as_if_read_alone(seed_engine: Engine, question: str) -> None:
    """Re-ranking reads all candidate passages at once: each gets what its own text and title give it."""
    query = seed_engine.analyze_question(question)
    terms = QueryTerms.of(query, seed_engine.index)
    pids = np.array(_ranked(seed_engine, query))
    assert len(pids) > 1
    share = seed_engine.options.prefix_match
    together = coverages(seed_engine.index, terms, pids, share)
    for row, pid in enumerate(pids.tolist()):
        alone = coverages(seed_engine.index, terms, np.array([pid]), share)
        np.testing.assert_array_equal(together.found[row], alone.found[0])
        np.testing.assert_array_equal(together.derived[row], alone.derived[0])
        coverage, sentence = _reference_coverage(seed_engine, query, pid)
        assert together.coverage[row] == pytest.approx(coverage)
        assert together.sentence_coverage[row] == pytest.approx(sentence)


LEVEL_DOCS = {
    "genes": (
        "Le port de Gênes accueille chaque jour des ferries. "
        "Les ferries de Gênes partent vers la Sardaigne chaque soir."
    ),
    "corse": "Les ferries de Gênes partent vers la Corse chaque matin.",
    "tofu": "Le village de Libei vend du tofu de riz dans tout le pays.",
    "velo": "Lyon compte 4 000 vélos en libre-service depuis 2005.",
}


@pytest.fixture(scope="module")
def level_corpus() -> Corpus:
    documents = (make_document(i, t, url=f"https://exemple.fr/{i}") for i, t in LEVEL_DOCS.items())
    return Corpus([d for d in documents if d is not None])


def test_a_second_document_ranked_as_high_is_quoted_with_its_own_source(level_corpus: Corpus) -> None:
    question = "Vers où partent les ferries de Gênes ?"
    answer = Engine.build(level_corpus).answer(question)
    assert answer.found and [q.source.doc_id for q in answer.quotes] == ["genes", "corse"]
    assert answer.sentences == [s for q in answer.quotes for s in q.sentences]
    for quote in answer.quotes:
        assert all(sentence in LEVEL_DOCS[quote.source.doc_id] for sentence in quote.sentences)
        assert quote_link(quote) == text_fragment_link(quote.source.url, quote.sentences[0])
    assert answer.source == answer.quotes[0].source
    # Each group of quotes is followed by its own source line and link, in ranking order.
    text = answer_text(answer)
    genes, corse = text.index("Source : Document sans titre"), text.rindex("Source : Document sans titre")
    assert text.index(LEVEL_DOCS["corse"]) > genes and corse > text.index(LEVEL_DOCS["corse"])
    assert sum(len(q) + 1 for q in answer.sentences) - 1 <= Engine.build(level_corpus).options.max_chars

    single = Engine.build(level_corpus, EngineOptions(second_source_ratio=1.1)).answer(question)
    assert [q.source.doc_id for q in single.quotes] == ["genes"] and "corse" not in answer_text(single)


# -- answers that point at the answer ----------------------------------------------------------------------


def test_the_answer_is_highlighted_verbatim_in_the_first_sentence(seed_engine: Engine) -> None:
    answer = seed_engine.answer("De combien le trafic d'AliExpress a-t-il augmenté en Italie ?")
    assert answer.found and answer.highlight and answer.highlight in answer.sentences[0]
    assert "14%" in answer.sentences[0]


def test_small_talk_is_introduced_not_searched(seed_engine: Engine) -> None:
    answer = seed_engine.answer("Bonjour !")
    assert answer.intent == "smalltalk" and not answer.found and not answer.sources
    overview = seed_engine.overview()
    assert overview.documents == 5 and overview.titles and overview.names


def test_courtesy_does_not_change_the_answer(seed_engine: Engine) -> None:
    plain = seed_engine.answer("Qui est le vice-président de Pinduoduo ?")
    polite = seed_engine.answer("Salut à tous ! Qui est le vice-président de Pinduoduo ? merci d'avance 🙏")
    assert polite.found and polite.sentences == plain.sentences
    assert polite.question.startswith("Salut")  # the question as typed is kept for the log


def test_both_parts_of_a_two_part_question_are_answered(seed_engine: Engine) -> None:
    answer = seed_engine.answer(
        "Qui est le vice-président de Pinduoduo, et combien de régions participent à la campagne du ministère ?"
    )
    quoted = " ".join(answer.sentences)
    assert answer.found and "Chen Qiu" in quoted and "18 régions" in quoted


def test_confidence_is_a_probability_that_falls_for_a_question_the_corpus_cannot_answer(seed_engine: Engine) -> None:
    right = seed_engine.answer("Qui est le vice-président de Pinduoduo ?")
    off = seed_engine.answer("Comment soigner un rhume rapidement ?")
    assert 0.0 <= off.confidence < right.confidence <= 1.0
    assert right.found and not off.found


def test_sentence_terms_read_from_the_index_are_those_of_the_sentences(seed_engine: Engine) -> None:
    """The summary reads each sentence's terms from the index instead of analysing its text again: the same terms,
    plus the question terms a sentence holds only as a word prefix."""
    pids = list(range(seed_engine.passage_count))
    by_prefix = {prefix("commerce"): {"commerc"}, prefix("plateformes"): {"plateform"}}
    checked = 0
    for pid, held in zip(pids, seed_engine.quoter.sentence_terms(pids, by_prefix), strict=True):
        sentences = split_sentences(seed_engine.index.passages[pid].text)
        assert len(held) == len(sentences)
        for sentence, terms in zip(sentences, held, strict=True):
            entries = seed_engine.analyzer.entries(sentence)
            derived = {t for word, _ in entries for t in by_prefix.get(prefix(word), ())}
            assert sorted(terms) == sorted([term for _, term in entries] + sorted(derived))
            checked += 1
    assert checked > 50
