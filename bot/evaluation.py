"""Question-set evaluation: the project's dev questions (JSON Lines) and SQuAD-format sets (PIAF).

Figures are computed from what the engine actually returns, the same `Answer` every front door
shows, so they measure the product and not a side path.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.search.analysis import fold, normalize
from bot.search.answer import Answer
from bot.search.corpus import Corpus, CorpusError, make_document
from bot.search.engine import Engine, EngineOptions
from bot.storage.stats import percentile_nearest_rank


@dataclass(slots=True)
class Report:
    """Aggregated figures of one evaluation run, plus the questions that failed."""

    name: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    passed: bool = True

    def render(self) -> str:
        width = max((len(k) for k, _ in self.rows), default=10)
        lines = [f"# {self.name}"] + [f"{k.ljust(width)}  {v}" for k, v in self.rows]
        if self.failures:
            lines.append("")
            lines.append(f"Échecs ({len(self.failures)}) :")
            lines.extend(f"  - {f}" for f in self.failures)
        return "\n".join(lines)


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


def evaluate_dev(engine: Engine, path: Path) -> Report:
    """Dev questions: right first source and key in the answer; unanswerable ones declined."""
    report = Report(f"Questions de {path.name} ({engine.document_count} documents)")
    answered = right_source = with_key = declined = unanswerable = 0
    latencies: list[float] = []
    for number, item in _jsonl(path):
        answer = engine.answer(item["q"])
        latencies.append(answer.latency_ms)
        if item.get("doc") is None:
            unanswerable += 1
            if not answer.found:
                declined += 1
            else:
                report.failures.append(f"{item.get('id', number)} : aurait dû être refusée ({item['q']})")
            continue
        answered += 1
        first = answer.sources[0] if answer.sources else None
        first_ok = answer.found and first is not None and (first.file or first.doc_id).startswith(item["doc"])
        key_ok = answer.found and any(contains(quoted_text(answer), a) for a in item["a"])
        right_source += first_ok
        with_key += key_ok
        if not (first_ok and key_ok):
            got = first.file or first.doc_id if first else "-"
            report.failures.append(
                f"{item.get('id', number)} : source={got} clé={'oui' if key_ok else 'non'} "
                f"confiance={answer.confidence} ({item['q']})"
            )
    report.rows = [
        ("questions avec réponse", str(answered)),
        ("bonne première source", f"{right_source}/{answered}"),
        ("clé dans la réponse", f"{with_key}/{answered}"),
        ("sans réponse refusées", f"{declined}/{unanswerable}"),
        *_latency_rows(latencies),
    ]
    report.passed = right_source == answered and with_key == answered and declined == unanswerable
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


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, json.loads(line)


def run_eval(
    path: Path, engine_factory: Callable[[], Engine], options: EngineOptions | None = None, limit: int | None = None
) -> Report:
    """Pick the evaluation by file format: SQuAD JSON, or the dev questions' JSON Lines."""
    if path.suffix == ".json":
        return evaluate_squad(path, options, limit)
    return evaluate_dev(engine_factory(), path)
