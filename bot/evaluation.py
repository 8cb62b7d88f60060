"""Question-set evaluation: the project's dev questions (JSON Lines) and SQuAD-format sets (PIAF).

Figures are computed from what the engine actually returns, the same `Answer` every front door
shows, so they measure the product and not a side path.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.search.analysis import fold, normalize
from bot.search.answer import Answer, Source
from bot.search.corpus import Corpus, CorpusError, make_document
from bot.search.engine import Engine, EngineOptions
from bot.search.followup import understand
from bot.storage.stats import percentile_nearest_rank


@dataclass(slots=True)
class Report:
    """Aggregated figures of one evaluation run, plus the questions that failed."""

    name: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    passed: bool = True
    parts: list[Report] = field(default_factory=list)  # further tables printed after this one

    def render(self) -> str:
        width = max((len(k) for k, _ in self.rows), default=10)
        lines = [f"# {self.name}"] + [f"{k.ljust(width)}  {v}" for k, v in self.rows]
        if self.failures:
            lines.append("")
            lines.append(f"Échecs ({len(self.failures)}) :")
            lines.extend(f"  - {f}" for f in self.failures)
        return "\n\n".join(["\n".join(lines), *(part.render() for part in self.parts)])


def contains(haystack: str, needle: str) -> bool:
    """Case-, accent- and spacing-insensitive containment (how a reader would judge it)."""

    def key(s: str) -> str:
        return re.sub(r"\s+", " ", fold(normalize(s))).strip()

    return key(needle) in key(haystack)


def quoted_text(answer: Answer) -> str:
    return " ".join(answer.sentences)


def _latency_rows(latencies: list[float]) -> list[tuple[str, str]]:
    """Nearest-rank percentiles, the same definition `/admin stats` and the benchmarks use."""
    ordered = sorted(latencies)
    return [
        ("latence p50 (ms)", f"{percentile_nearest_rank(ordered, 50):.2f}"),
        ("latence p95 (ms)", f"{percentile_nearest_rank(ordered, 95):.2f}"),
        ("latence max (ms)", f"{max(ordered, default=0):.2f}"),
    ]


def is_document(source: Source | None, item: dict) -> bool:
    """Whether a source is the question's document: `doc`, or one of `also` (other documents that answer it too).
    A file name counts when it starts with it (the seeds' "004" for "004_f18c….txt"); a document without a file
    (a JSON Lines record) must have that very id."""
    if source is None or item.get("doc") is None:
        return False
    accepted = [item["doc"], *item.get("also", [])]
    return source.doc_id in accepted or (source.file is not None and source.file.startswith(tuple(accepted)))


def right_source(answer: Answer, item: dict) -> bool:
    """Whether an answer's first ranked source is the question's document (`is_document`)."""
    return answer.found and bool(answer.sources) and is_document(answer.sources[0], item)


def _judged(answer: Answer, item: dict) -> tuple[bool, bool]:
    """Whether an answer to a question of the seed sets (`doc`, `a`) has the right first source, and a key of
    `a` in its first quoted piece."""
    return right_source(answer, item), answer.found and any(contains(answer.sentences[0], a) for a in item["a"])


def evaluate_dev(engine: Engine, path: Path) -> Report:
    """Questions on the seeds (JSON Lines: `q`, `doc`, `a`, `kind`): answerable ones need the right first source
    and a key in the first quoted piece; unanswerable ones (`doc` null) must be declined; small talk
    (`kind` "smalltalk") must be recognised as such."""
    report = Report(f"Questions de {path.name} ({engine.document_count} documents)")
    answered = right_source = first_key = with_key = declined = unanswerable = chatted = smalltalk = 0
    latencies: list[float] = []
    for number, item in jsonl_items(path):
        answer = engine.answer(item["q"])
        latencies.append(answer.latency_ms)
        name = item.get("id", number)
        if item.get("kind") == "smalltalk":
            smalltalk += 1
            chatted += answer.intent == "smalltalk"
            if answer.intent != "smalltalk":
                report.failures.append(f"{name} : aurait dû être prise pour une formule de politesse ({item['q']})")
            continue
        if item.get("doc") is None:
            unanswerable += 1
            if not answer.found:
                declined += 1
            else:
                report.failures.append(f"{name} : aurait dû être refusée ({item['q']})")
            continue
        answered += 1
        first = answer.sources[0] if answer.sources else None
        first_ok, key_first = _judged(answer, item)
        key_ok = answer.found and any(contains(quoted_text(answer), a) for a in item["a"])
        right_source += first_ok
        first_key += key_first
        with_key += key_ok
        if not (first_ok and key_first):
            got = first.file or first.doc_id if first else "-"
            report.failures.append(
                f"{name} : source={got} clé en tête={'oui' if key_first else 'non'} "
                f"confiance={answer.confidence} ({item['q']})"
            )
    report.rows = [
        ("questions avec réponse", str(answered)),
        ("bonne première source", f"{right_source}/{answered}"),
        ("clé dans la première phrase", f"{first_key}/{answered}"),
        ("clé dans la réponse", f"{with_key}/{answered}"),
        ("sans réponse refusées", f"{declined}/{unanswerable}"),
        ("politesses reconnues", f"{chatted}/{smalltalk}"),
        *_latency_rows(latencies),
    ]
    report.passed = (
        right_source == answered and first_key == answered and declined == unanswerable and chatted == smalltalk
    )
    return report


def squad_corpus(path: Path) -> tuple[Corpus, list[tuple[str, str, list[str]]]]:
    """A SQuAD file as a corpus (one document per paragraph, id = its position) and its questions."""
    data = json.loads(path.read_text(encoding="utf-8"))
    documents = []
    questions: list[tuple[str, str, list[str]]] = []
    position = 0
    for article in data.get("data", []):
        title = re.sub(r"<[^>]+>", "", article.get("title", "")).replace("_", " ").strip() or None
        for paragraph in article.get("paragraphs", []):
            doc_id = str(position)
            position += 1
            document = make_document(doc_id, paragraph["context"], title=title)
            if document is not None:
                documents.append(document)
            for qa in paragraph.get("qas", []):
                answers = [a["text"] for a in qa.get("answers", []) if a.get("text")]
                if answers:
                    questions.append((qa["question"], doc_id, answers))
    if not documents:
        raise CorpusError(f"{path} : aucun paragraphe trouvé (format SQuAD attendu).")
    return Corpus(documents, fingerprint=str(path), source=str(path)), questions


def evaluate_squad(path: Path, options: EngineOptions | None = None, limit: int | None = None) -> Report:
    """Retrieval and answer figures on a SQuAD-format set, all its paragraphs as the corpus."""
    started = time.perf_counter()
    corpus, questions = squad_corpus(path)
    engine = Engine.build(corpus, options)
    build_s = time.perf_counter() - started
    if limit:
        questions = questions[:limit]
    hits1 = hits5 = contained = found = 0
    reciprocal = 0.0
    lengths: list[int] = []
    latencies: list[float] = []
    for question, gold, answers in questions:
        answer = engine.answer(question)
        latencies.append(answer.latency_ms)
        ranked = [s.doc_id for s in answer.sources]
        if ranked[:1] == [gold]:
            hits1 += 1
        if gold in ranked[:5]:
            hits5 += 1
            reciprocal += 1 / (ranked.index(gold) + 1)
        if answer.found:
            found += 1
            text = quoted_text(answer)
            lengths.append(len(text))
            contained += any(contains(text, a) for a in answers)
    n = len(questions) or 1
    report = Report(f"{path.name} : {len(questions)} questions, {len(corpus.documents)} paragraphes")
    report.rows = [
        ("recall@1", f"{hits1 / n:.3f}"),
        ("recall@5", f"{hits5 / n:.3f}"),
        ("MRR@5", f"{reciprocal / n:.3f}"),
        ("réponse contenue", f"{contained / n:.3f}"),
        ("réponses données", f"{found / n:.3f}"),
        ("longueur moyenne (car.)", f"{statistics.mean(lengths) if lengths else 0:.0f}"),
        ("longueur max (car.)", str(max(lengths, default=0))),
        *_latency_rows(latencies),
        ("construction de l'index (s)", f"{build_s:.2f}"),
    ]
    return report


def jsonl_items(path: Path) -> Iterator[tuple[int, dict]]:
    """The objects of a JSON Lines question file, each with its line number (blank lines skipped)."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, json.loads(line)


def run_eval(
    path: Path, engine_factory: Callable[[], Engine], options: EngineOptions | None = None, limit: int | None = None
) -> Report:
    """Pick the evaluation by file format: SQuAD JSON, or the dev questions' JSON Lines."""
    if path.suffix == ".json":
        full = evaluate_squad(path, options, limit)
        full.parts.append(evaluate_held_out(path, options, limit))
        return full
    first = next((item for _, item in jsonl_items(path)), {})
    if "after" in first:
        return evaluate_followups(engine_factory(), path)
    return evaluate_dev(engine_factory(), path)


def evaluate_followups(engine: Engine, path: Path) -> Report:
    """Questions asked after others (JSON Lines: `after` the questions before, oldest first, `q`, `doc`, `a`,
    `kind` "complete" for a question that must be answered as typed): each is read as the answerer reads it,
    with the questions before as context; follow-ups need the right source and the key in the first sentence,
    complete questions must not be rewritten."""
    report = Report(f"Questions de suite de {path.name} ({engine.document_count} documents)")
    follow = source_ok = first_key = complete = rewritten = complete_ok = 0
    for number, item in jsonl_items(path):
        understood = understand(item["q"], item["after"])
        answer = engine.answer(understood or item["q"])
        source_right, key_first = _judged(answer, item)
        name = item.get("id", number)
        if item.get("kind") == "complete":
            complete += 1
            rewritten += understood is not None
            complete_ok += source_right and key_first
            if understood is not None:
                report.failures.append(f"{name} : réécrite à tort en « {understood} » ({item['q']})")
            continue
        follow += 1
        source_ok += source_right
        first_key += key_first
        if not (source_right and key_first):
            report.failures.append(
                f"{name} : source={'oui' if source_right else 'non'} clé en tête="
                f"{'oui' if key_first else 'non'} compris comme « {understood} » ({item['q']})"
            )
    report.rows = [
        ("questions de suite", str(follow)),
        ("bonne première source", f"{source_ok}/{follow}"),
        ("clé dans la première phrase", f"{first_key}/{follow}"),
        ("questions complètes", str(complete)),
        ("complètes réécrites à tort", f"{rewritten}/{complete}"),
        ("complètes bien répondues", f"{complete_ok}/{complete}"),
    ]
    report.passed = rewritten == 0 and first_key >= 0.9 * follow
    return report


# -- answer quality: the first quoted sentence, the highlighted span, declines ---------------------------------

_SQUAD_ARTICLES = re.compile(r"\b(?:le|la|les|l'|un|une|des|du|de|d'|au|aux)(?=\s|$)|\b[ld]'")
_PUNCTUATION = re.compile(r"[^\w\s']")


def squad_normalize(text: str) -> str:
    """SQuAD-style answer normalisation for French: lower case, no punctuation, no articles, single spaces."""
    text = normalize(text).lower().replace("’", "'")
    text = _PUNCTUATION.sub(" ", text)
    text = _SQUAD_ARTICLES.sub(" ", text)
    return " ".join(text.replace("'", " ").split())


def span_scores(prediction: str | None, golds: list[str]) -> tuple[float, float]:
    """(exact match, token F1) of a predicted span against the best of the gold answers; 0 without a prediction."""
    if not prediction:
        return 0.0, 0.0
    predicted = squad_normalize(prediction).split()
    best_em = best_f1 = 0.0
    for gold in golds:
        expected = squad_normalize(gold).split()
        best_em = max(best_em, float(predicted == expected))
        common = sum(min(predicted.count(t), expected.count(t)) for t in set(predicted) & set(expected))
        if common:
            precision, recall = common / len(predicted), common / len(expected)
            best_f1 = max(best_f1, 2 * precision * recall / (precision + recall))
    return best_em, best_f1


def held_out(title: str | None, share: int = 3) -> bool:
    """Whether an article is left out of the corpus in the held-out evaluation: one in `share`, by a hash of its
    title, so the split is the same on every machine and owes nothing to the method."""
    digest = hashlib.sha256((title or "").encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % share == 0


@dataclass(slots=True)
class AnswerQuality:
    """Per-question outcomes of the held-out evaluation, summed up by `rows`."""

    answerable: int = 0
    first: int = 0  # gold answer inside the first quoted sentence
    contained: int = 0  # gold answer anywhere in the quoted sentences
    em: float = 0.0
    f1: float = 0.0
    foreign: int = 0  # questions whose article is left out of the corpus
    false_yes: int = 0

    def add_answerable(self, answer: Answer, golds: list[str]) -> None:
        self.answerable += 1
        if not answer.found:
            return
        self.first += any(contains(answer.sentences[0], g) for g in golds)
        self.contained += any(contains(quoted_text(answer), g) for g in golds)
        em, f1 = span_scores(answer.highlight, golds)
        self.em += em
        self.f1 += f1

    def add_foreign(self, answer: Answer) -> None:
        self.foreign += 1
        self.false_yes += answer.found

    def rows(self) -> list[tuple[str, str]]:
        n, m = self.answerable or 1, self.foreign or 1
        return [
            ("réponse en première phrase", f"{self.first / n:.3f}"),
            ("réponse contenue", f"{self.contained / n:.3f}"),
            ("surlignage EM", f"{self.em / n:.3f}"),
            ("surlignage F1", f"{self.f1 / n:.3f}"),
            ("faux oui (articles absents)", f"{self.false_yes / m:.3f}"),
        ]


def evaluate_held_out(path: Path, options: EngineOptions | None = None, limit: int | None = None) -> Report:
    """A third of the SQuAD articles (by a hash of the title) left out of the corpus: how the answers read on the
    questions whose article is there, and how often the bot answers those whose article is not."""
    corpus, questions = squad_corpus(path)
    kept = [d for d in corpus.documents if not held_out(d.title)]
    kept_ids = {d.doc_id for d in kept}
    engine = Engine.build(Corpus(kept, fingerprint=corpus.fingerprint, source=corpus.source), options)
    if limit:
        questions = questions[:limit]
    quality = AnswerQuality()
    for question, gold, answers in questions:
        answer = engine.answer(question)
        if gold in kept_ids:
            quality.add_answerable(answer, answers)
        else:
            quality.add_foreign(answer)
    report = Report(
        f"{path.name}, un tiers des articles retirés du corpus : {quality.answerable} questions avec réponse, "
        f"{quality.foreign} sans"
    )
    report.rows = quality.rows()
    return report
