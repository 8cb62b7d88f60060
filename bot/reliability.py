"""Whether the confidence labels mean what they say: on a question set, how often each label's answers are right.

A member reads « réponse sûre », « probable » or « incertaine », or is told that the corpus does not say; this
counts, for each, the answers given and the share that are right. An answer is right when the document it quotes
first (the source the member reads) is the question's document and its quote holds a key of the question; a
decline is right when no document answers the question (JSON Lines: `doc` null; SQuAD: the article left out of
the corpus, as in the held-out evaluation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.evaluation import Report, contains, held_out, is_document, jsonl_items, quoted_text, squad_corpus
from bot.search.answer import Answer
from bot.search.corpus import Corpus
from bot.search.engine import Engine, EngineOptions
from bot.text.answers import CONFIDENCE_LABELS, confidence_label

DECLINED = "refusée"
LABELS = (*(label for _, label in CONFIDENCE_LABELS), DECLINED)
# What each label promises: the least share of right answers it must keep on questions it was not fitted on.
PROMISES = {"réponse sûre": 0.8, "réponse probable": 0.5}


@dataclass(slots=True)
class Tally:
    """Answers given under one label, and how many of them were right."""

    answers: int = 0
    right: int = 0
    unanswerable: int = 0  # of `answers`, those to questions no document answers

    def share(self) -> float | None:
        return self.right / self.answers if self.answers else None


@dataclass(slots=True)
class Reliability:
    """The tallies of one question set by label, and the questions a label got wrong."""

    tallies: dict[str, Tally] = field(default_factory=lambda: {label: Tally() for label in LABELS})
    wrong: list[str] = field(default_factory=list)

    def add(self, name: str, question: str, answer: Answer, verdict: str | None, answerable: bool) -> None:
        """Count one answer; `verdict` is None when the answer is right, else why it is wrong."""
        label = confidence_label(answer.confidence) if answer.found else DECLINED
        tally = self.tallies[label]
        tally.answers += 1
        tally.right += verdict is None
        tally.unanswerable += not answerable
        if verdict is not None:
            self.wrong.append(f"{name} [{label}, {round(answer.confidence * 100)} %] {verdict} : {question}")

    def report(self, title: str) -> Report:
        header = ("étiquette", "réponses  justes  part juste  (dont sans réponse dans le corpus)")
        rows = [header]
        for label in LABELS:
            tally = self.tallies[label]
            share = tally.share()
            shown = "-" if share is None else f"{share:.0%}".replace("%", " %")
            rows.append((label, f"{tally.answers:>8}  {tally.right:>6}  {shown:>10}  ({tally.unanswerable})"))
        report = Report(title, rows=rows, failures=self.wrong)
        report.passed = all(
            (share := self.tallies[label].share()) is None or share >= floor for label, floor in PROMISES.items()
        )
        return report


def judge(answer: Answer, item: dict) -> str | None:
    """None when the answer to a question of a JSON Lines set is right, else why it is wrong (in French)."""
    if item.get("doc") is None:
        return "répondue alors qu'aucun document ne le dit" if answer.found else None
    if not answer.found:
        return "refusée alors que le document le dit"
    quoted = answer.source
    if not is_document(quoted, item):
        return f"mauvais document ({quoted.file or quoted.doc_id if quoted else '-'})"
    if not any(contains(quoted_text(answer), key) for key in item["a"]):
        return "bon document, clé absente de la citation"
    return None


def questions_reliability(engine: Engine, path: Path) -> Report:
    """The label table of a JSON Lines question set (`q`, `doc`, `a`, optional `also`); small talk is left out."""
    reliability = Reliability()
    items = [(number, item) for number, item in jsonl_items(path) if item.get("kind") != "smalltalk"]
    for number, item in items:
        answer = engine.answer(item["q"])
        name = str(item.get("id", number))
        reliability.add(name, item["q"], answer, judge(answer, item), item.get("doc") is not None)
    return reliability.report(
        f"Fiabilité des étiquettes, {path.name} : {len(items)} questions, {engine.document_count} documents"
    )


def squad_reliability(path: Path, options: EngineOptions | None = None, limit: int | None = None) -> Report:
    """The label table of a SQuAD set with a third of its articles left out of the corpus (as `eval` does):
    a question is answered right from its own paragraph with the gold answer quoted, declined right when its
    article is left out."""
    corpus, questions = squad_corpus(path)
    kept = [d for d in corpus.documents if not held_out(d.title)]
    engine = Engine.build(Corpus(kept, fingerprint=corpus.fingerprint, source=corpus.source), options)
    kept_ids = {d.doc_id for d in kept}
    reliability = Reliability()
    for number, (question, gold, answers) in enumerate(questions[:limit] if limit else questions, 1):
        item = {"doc": gold if gold in kept_ids else None, "a": answers}
        answer = engine.answer(question)
        reliability.add(str(number), question, answer, judge(answer, item), gold in kept_ids)
    reliability.wrong = []  # thousands of questions: the table says enough
    return reliability.report(
        f"Fiabilité des étiquettes, {path.name}, un tiers des articles retirés du corpus : "
        f"{min(limit or len(questions), len(questions))} questions, {len(kept)} paragraphes"
    )


def run_reliability(
    path: Path, engine_factory: Callable[[], Engine], options: EngineOptions | None = None, limit: int | None = None
) -> Report:
    """The label table of a question file, by its format: SQuAD JSON, or JSON Lines questions."""
    if path.suffix == ".json":
        return squad_reliability(path, options, limit)
    return questions_reliability(engine_factory(), path)


def sample_corpus(corpus: Corpus, keep: Iterable[str], size: int) -> Corpus:
    """`size` documents of a corpus: every one of `keep` that it holds, then others evenly spaced over the rest,
    in corpus order, so the same corpus and questions always give the same sample."""
    wanted = set(keep)
    kept = [d for d in corpus.documents if d.doc_id in wanted]
    others = [d for d in corpus.documents if d.doc_id not in wanted]
    room = max(size - len(kept), 0)
    step = len(others) / room if room else 0.0
    picked = {id(others[int(i * step)]) for i in range(min(room, len(others)))}
    documents = [d for d in corpus.documents if d.doc_id in wanted or id(d) in picked]
    return Corpus(documents, fingerprint=f"{corpus.fingerprint}:sample{size}", source=corpus.source)


def question_documents(path: Path) -> set[str]:
    """The documents a JSON Lines question set names (`doc` and `also`), which a sample of its corpus must keep."""
    return {doc for _, item in jsonl_items(path) for doc in [item.get("doc"), *item.get("also", [])] if doc}
