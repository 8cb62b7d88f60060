"""What the reader changes in the answers, on PIAF questions of articles it was not trained on.

As in `python -m bot eval` (second table), a third of PIAF dev's articles is left out of the corpus: questions on
the other articles are answerable, questions on the left-out ones are not (any answer is a false yes). The
reader is trained in two folds by article (`bench/train_reader.py --train-fold 0|1`); each question is answered
with the reader of the other fold, so no figure comes from an article the reader learned from. Every question is
answered twice: as the engine answers without the reader, and with the reader choosing the opening whatever its
margin. The margin from which the reader's choice is kept (`EngineOptions.reader_min_margin`) is then chosen on
one fold's questions and measured on the other's, both ways.

    python bench/reading.py --fold0 /tmp/reader/fold0.npz --fold1 /tmp/reader/fold1.npz [--limit N] [--width 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.reader import fold_of  # noqa: E402
from bot.app import sentence_model  # noqa: E402
from bot.evaluation import AnswerQuality, held_out, squad_corpus  # noqa: E402
from bot.search.answer import Answer  # noqa: E402
from bot.search.corpus import Corpus  # noqa: E402
from bot.search.engine import Engine, EngineOptions  # noqa: E402
from bot.search.reader import load_reader  # noqa: E402

DEFAULT_PIAF = REPO_ROOT.parent / "shared" / "eval" / "piaf" / "piaf-v1.1-dev.json"
MARGINS = (-np.inf, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 6.0, np.inf)


def raw_titles(path: Path) -> list[str]:
    """The raw title of the article of each paragraph, in the order `squad_corpus` numbers the paragraphs."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [article["title"] for article in data["data"] for _ in article["paragraphs"]]


@dataclass(slots=True)
class Outcome:
    """One question: whether its article is in the corpus, its gold answers, its reader fold, the two answers."""

    answerable: bool
    golds: list[str]
    fold: int
    plain: Answer
    read: Answer
    margin: float


def collect(path: Path, folds: list[Path], limit: int | None, passages: int, width: int) -> list[Outcome]:
    corpus, questions = squad_corpus(path)
    titles = raw_titles(path)
    kept = [d for d in corpus.documents if not held_out(d.title)]
    kept_ids = {d.doc_id for d in kept}
    model = sentence_model(1)
    plain = Engine.build(
        Corpus(kept, fingerprint=corpus.fingerprint, source=corpus.source), EngineOptions(sentence_model=model)
    )
    readers = [load_reader(fold) for fold in folds]
    options = EngineOptions(
        sentence_model=model, reader_min_margin=-np.inf, reader_passages=passages, reader_width=width
    )
    engines = [Engine(plain.corpus, plain.index, replace(options, reader=reader), plain.analyzer) for reader in readers]
    outcomes = []
    started = time.perf_counter()
    timings: list[float] = []
    for number, (question, doc_id, golds) in enumerate(questions[:limit] if limit else questions):
        fold = fold_of(titles[int(doc_id)])  # as the reader was trained (`bench/train_reader.py`)
        if 1 - fold >= len(engines):
            continue  # only the reader of fold 0 is given: fold 0's questions would be read by what learned them
        engine = engines[1 - fold]  # the reader trained on the other fold
        began = time.perf_counter()
        explained = engine.explain(question)
        timings.append((time.perf_counter() - began) * 1000)
        margin = explained.reader.margin if explained.reader is not None else -np.inf
        outcomes.append(Outcome(doc_id in kept_ids, golds, fold, plain.answer(question), explained.answer, margin))
        if number % 200 == 199:
            print(f"{number + 1} questions, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    timings.sort()
    p50, p95 = timings[len(timings) // 2], timings[int(len(timings) * 0.95)]
    print(f"answer with the reader: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    return outcomes


def quality(outcomes: list[Outcome], margin: float) -> AnswerQuality:
    """The held-out figures when the reader's opening is kept from `margin` on."""
    figures = AnswerQuality()
    for outcome in outcomes:
        answer = outcome.read if outcome.margin >= margin else outcome.plain
        if outcome.answerable:
            figures.add_answerable(answer, outcome.golds)
        else:
            figures.add_foreign(answer)
    return figures


def score(figures: AnswerQuality) -> float:
    """What the margin is chosen for: the answer in the first sentence, as long as false yeses stay at 10 % or less."""
    n, m = figures.answerable or 1, figures.foreign or 1
    return figures.first / n - (10.0 if figures.false_yes / m > 0.10 else 0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--piaf", type=Path, default=DEFAULT_PIAF)
    parser.add_argument("--fold0", type=Path, required=True, help="reader weights trained on fold 0's articles")
    parser.add_argument(
        "--fold1",
        type=Path,
        help="reader weights trained on fold 1's articles (without: only the "
        "questions of fold 1, read by the reader of fold 0, and no margin chosen across folds)",
    )
    parser.add_argument("--limit", type=int)
    parser.add_argument("--passages", type=int, default=1, help="the best document's passages the reader reads")
    parser.add_argument(
        "--width", type=int, default=0, help="else: sentences read on each side of the summary's choice"
    )
    args = parser.parse_args()
    folds = [args.fold0, args.fold1] if args.fold1 else [args.fold0]
    outcomes = collect(args.piaf, folds, args.limit, args.passages, args.width)
    print("margin     " + "  ".join(f"{name:>10}" for name, _ in AnswerQuality().rows()))
    for margin in MARGINS:
        rows = quality(outcomes, margin).rows()
        print(f"{margin:>6}     " + "  ".join(f"{value:>10}" for _, value in rows))
    crossed = AnswerQuality()
    if len(folds) == 1:
        return 0
    for held in (0, 1):
        fitted = [o for o in outcomes if o.fold != held]
        best = max(reversed(MARGINS), key=lambda margin: score(quality(fitted, margin)))  # ties: the higher
        part = quality([o for o in outcomes if o.fold == held], best)
        print(f"fold {held}: margin {best} chosen on the other fold")
        for field in ("answerable", "first", "contained", "em", "f1", "foreign", "false_yes"):
            setattr(crossed, field, getattr(crossed, field) + getattr(part, field))
    print("margin chosen on the other fold (2-fold by article): " + ", ".join(f"{k} {v}" for k, v in crossed.rows()))
    print("without the reader: " + ", ".join(f"{k} {v}" for k, v in quality(outcomes, np.inf).rows()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
