"""The label table of `python -m bot eval --labels`: what counts as right, how a corpus is sampled, the news set."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import main
from bot.evaluation import contains, is_document, jsonl_items, right_source
from bot.reliability import LABELS, Reliability, judge, question_documents, sample_corpus
from bot.search.answer import Answer, Source
from bot.search.corpus import Corpus, make_document
from bot.search.engine import Engine
from tests.conftest import DEV_QA, REPO, SEEDS, dev_questions

DATA = Path(__file__).resolve().parent / "data"
MEMBER_QUESTIONS = DATA / "member_questions.jsonl"
NEWS_QUESTIONS = DATA / "news_questions.jsonl"
ORANGESUM = REPO.parent / "shared" / "eval" / "orangesum" / "orangesum_all.jsonl.gz"


def _table(out: str) -> dict[str, list[int]]:
    """label -> [answers, right, unanswerable among them] from the printed table."""
    rows = {}
    for line in out.splitlines():
        for label in LABELS:
            if line.startswith(label + " "):
                numbers = re.findall(r"\d+", line[len(label) :])
                rows[label] = [int(numbers[0]), int(numbers[1]), int(numbers[-1])]
    return rows


def test_the_label_table_counts_every_question_once(capsys: pytest.CaptureFixture[str]) -> None:
    items = [item for _, item in jsonl_items(MEMBER_QUESTIONS) if item.get("kind") != "smalltalk"]
    main(["eval", str(MEMBER_QUESTIONS), "--corpus", str(SEEDS), "--labels"])
    rows = _table(capsys.readouterr().out)
    assert set(rows) == set(LABELS)
    assert sum(answers for answers, _, _ in rows.values()) == len(items)
    assert sum(unanswerable for _, _, unanswerable in rows.values()) == sum(i["doc"] is None for i in items)
    assert all(right <= answers for answers, right, _ in rows.values())
    # A decline is right exactly when no document answers the question.
    assert rows["refusée"][1] == rows["refusée"][2]


def test_judge_says_why_an_answer_is_wrong(seed_engine: Engine) -> None:
    answerable = next(q for q in dev_questions() if q["doc"] is not None)
    answer = seed_engine.answer(answerable["q"])
    assert judge(answer, answerable) is None
    assert judge(answer, {**answerable, "doc": "zzz"}).startswith("mauvais document")
    assert judge(answer, {**answerable, "a": ["une clé qu'aucun article ne contient"]}).startswith("bon document")
    assert judge(answer, {**answerable, "doc": None}).startswith("répondue")
    unanswerable = next(q for q in dev_questions() if q["doc"] is None)
    declined = seed_engine.answer(unanswerable["q"])
    assert not declined.found
    assert judge(declined, unanswerable) is None
    assert judge(declined, {**unanswerable, "doc": "000", "a": ["x"]}).startswith("refusée")


def _answer_from(doc_id: str, file: str | None) -> Answer:
    source = Source(doc_id, None, None, None, None, 1.0, "passage", file)
    return Answer("q", True, 0.9, sources=[source], sentences=["passage"])


def test_a_record_without_a_file_must_have_the_very_id() -> None:
    item = {"doc": "1000", "a": ["x"]}
    assert right_source(_answer_from("1000", None), item)
    assert not right_source(_answer_from("10001", None), item)
    assert right_source(_answer_from("10001", None), {**item, "also": ["10001"]})
    # Seed files are named by their number and a hash: the number is enough.
    assert right_source(_answer_from("004_f18c", "004_f18c.txt"), {"doc": "004", "a": ["x"]})
    assert not is_document(None, item) and not is_document(_answer_from("1000", None).sources[0], {"doc": None})


def test_the_document_quoted_is_the_one_judged(seed_engine: Engine) -> None:
    answerable = next(q for q in dev_questions() if q["doc"] is not None)
    answer = seed_engine.answer(answerable["q"])
    other = Source("zzz", None, None, None, None, 9.0, "passage", "zzz.txt")
    ranked_first = replace(answer, sources=[other, *answer.sources])  # another document ranked first, same quote
    assert judge(ranked_first, answerable) is None
    assert not right_source(ranked_first, answerable)


def test_a_sample_keeps_the_questions_documents_and_is_the_same_every_time() -> None:
    documents = [make_document(str(n), f"Article numéro {n} sur un sujet.") for n in range(50)]
    corpus = Corpus([d for d in documents if d is not None], fingerprint="f")
    sample = sample_corpus(corpus, ["7", "42"], 10)
    ids = [d.doc_id for d in sample.documents]
    assert len(ids) == 10 and {"7", "42"} <= set(ids)
    assert ids == sorted(ids, key=int)  # corpus order
    assert ids == [d.doc_id for d in sample_corpus(corpus, ["7", "42"], 10).documents]
    assert [d.doc_id for d in sample_corpus(corpus, ["3", "4", "5"], 2).documents] == ["3", "4", "5"]


def test_a_label_that_breaks_its_promise_fails_the_run() -> None:
    reliability = Reliability()
    reliability.tallies["réponse sûre"].answers, reliability.tallies["réponse sûre"].right = 10, 8
    assert reliability.report("t").passed
    reliability.tallies["réponse probable"].answers, reliability.tallies["réponse probable"].right = 10, 4
    assert not reliability.report("t").passed


def test_eval_reads_the_saved_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "bot.sqlite3"
    assert main(["eval", str(DEV_QA), "--corpus", str(SEEDS), "--saved-index", "--database", str(database)]) == 0
    assert list((tmp_path / "index").iterdir()), "the index was not saved beside the database"
    assert "18/18" in capsys.readouterr().out


def test_a_sample_and_the_saved_index_do_not_go_together() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["eval", str(DEV_QA), "--saved-index", "--sample", "3"])
    assert exited.value.code == 2


def test_the_news_questions_are_well_formed() -> None:
    items = [item for _, item in jsonl_items(NEWS_QUESTIONS)]
    assert len({item["id"] for item in items}) == len(items)
    for item in items:
        assert item["answerable"] == (item["kind"] == "answerable") == (item["doc"] is not None), item["id"]
        assert bool(item["a"]) == item["answerable"], item["id"]
    assert sum(item["answerable"] for item in items) >= 60
    assert sum(not item["answerable"] for item in items) >= 25
    assert len({item["doc"] for item in items if item["doc"]}) >= 60  # one article or so a question


@pytest.mark.skipif(not ORANGESUM.is_file(), reason="OrangeSum absent (../shared/eval/orangesum)")
def test_each_news_key_is_in_its_article() -> None:
    wanted = question_documents(NEWS_QUESTIONS)
    articles = {}
    with gzip.open(ORANGESUM, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["id"] in wanted:
                articles[record["id"]] = record["article"]
    assert set(articles) == wanted
    for _, item in jsonl_items(NEWS_QUESTIONS):
        if item["doc"] is not None:
            assert any(contains(articles[item["doc"]], key) for key in item["a"]), item["id"]
