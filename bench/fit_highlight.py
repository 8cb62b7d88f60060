"""Fits the weights of the highlight scorer (bot/search/highlight.py) on PIAF and prints its span F1 on two folds.

Each PIAF question gives one training sentence: the sentence of its paragraph that holds the gold answer.
Its candidate spans are scored by a listwise logistic regression (softmax over the spans of the sentence,
the spans of best F1 against the gold answers as the target); the span shown is the consensus of those
scores (`highlight.consensus`), as in the module. Articles are split in two folds by a hash of
their title: the table shows, per kind of question, the span F1 on each fold of weights fitted on the other.
The weights fitted on all questions are then printed, or written into the module with --write.

    python bench/fit_highlight.py [--piaf PATH] [--write]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from bot.evaluation import span_scores
from bot.search import highlight
from bot.search.kinds import asked
from bot.search.passages import split_sentences

DEFAULT_PIAF = Path(__file__).resolve().parents[2] / "shared/eval/piaf/piaf-v1.1-dev.json"
MODULE = Path(highlight.__file__)
L2_SHARED, L2_KIND = 1e-3, 3e-3  # ridge penalties on standardised features: shared weights, per-kind offsets
STEPS, RATE = 250, 0.08  # full-batch Adam
TARGET_POWER = 8.0  # the target spreads over the spans by their F1 to this power (partial overlaps count some)


def fold_of(title: str) -> int:
    """The fold of an article: a hash of its title, independent of the held-out split's hash."""
    return hashlib.sha256(("fold:" + title).encode("utf-8")).digest()[0] % 2


def examples(path: Path) -> list[tuple[str, str, list[str], int]]:
    """(question, sentence holding its gold answer, gold answers, fold) for each PIAF question."""
    data = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for article in data["data"]:
        title = re.sub(r"<[^>]+>", "", article.get("title", "")).replace("_", " ").strip()
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans, position = [], 0
            for sentence in split_sentences(context):
                start = context.find(sentence, position)
                spans.append((start, sentence))
                position = start + len(sentence) if start >= 0 else position
            for qa in paragraph["qas"]:
                golds = [a["text"] for a in qa["answers"] if a.get("text")]
                if not golds:
                    continue
                at = qa["answers"][0].get("answer_start", -1)
                inside = [s for start, s in spans if 0 <= start <= at < start + len(s) and golds[0] in s]
                sentence = inside[0] if inside else next((s for _, s in spans if golds[0] in s), None)
                if sentence is not None:
                    found.append((qa["question"], sentence, golds, fold_of(title)))
    return found


class Dataset:
    """Feature rows of every candidate span, their F1, and which question (and kind) each belongs to."""

    def __init__(self, items: list[tuple[str, str, list[str], int]]) -> None:
        self.blocks: list[np.ndarray] = []
        self.f1: list[np.ndarray] = []
        self.spans: list[tuple[np.ndarray, np.ndarray]] = []
        kinds, folds = [], []
        for question, sentence, golds, fold in items:
            found = highlight.candidates(sentence, question, asked(question))
            if found is None:
                continue
            scores = np.array(
                [span_scores(sentence[a:b], golds)[1] for a, b in zip(found.starts, found.ends, strict=True)]
            )
            self.blocks.append(found.features)
            self.spans.append((found.starts, found.ends))
            self.f1.append(scores)
            kinds.append(highlight.KINDS.index(found.kind))
            folds.append(fold)
        self.kinds, self.folds = np.array(kinds), np.array(folds)

    def fit(self, chosen: np.ndarray) -> np.ndarray:
        """Weights (shared column, then one column per kind) fitted on the questions `chosen`."""
        usable = [k for k in np.flatnonzero(chosen) if self.f1[k].max() > 0]
        x = np.vstack([self.blocks[k] for k in usable])
        target = np.concatenate([self.f1[k] ** TARGET_POWER / np.sum(self.f1[k] ** TARGET_POWER) for k in usable])
        sizes = np.array([len(self.blocks[k]) for k in usable])
        firsts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        row_kind = np.repeat(self.kinds[usable], sizes)
        rows = np.arange(len(row_kind))
        kind_rows = np.zeros((len(row_kind), len(highlight.KINDS)))
        kind_rows[rows, row_kind] = 1.0
        mean, scale = x.mean(0), x.std(0) + 1e-9
        z = (x - mean) / scale
        weights = np.zeros((x.shape[1], 1 + len(highlight.KINDS)))
        first_moment, second_moment = np.zeros_like(weights), np.zeros_like(weights)
        for step in range(1, STEPS + 1):
            score = (z @ (weights[:, :1] + weights[:, 1:]))[rows, row_kind]
            score -= np.repeat(np.maximum.reduceat(score, firsts), sizes)
            exp = np.exp(score)
            error = (exp / np.repeat(np.add.reduceat(exp, firsts), sizes) - target) / len(usable)
            gradient = np.empty_like(weights)
            gradient[:, 0] = z.T @ error + L2_SHARED * weights[:, 0]
            gradient[:, 1:] = z.T @ (kind_rows * error[:, None]) + L2_KIND * weights[:, 1:]
            first_moment = 0.9 * first_moment + 0.1 * gradient
            second_moment = 0.999 * second_moment + 0.001 * gradient**2
            weights -= RATE * (first_moment / (1 - 0.9**step)) / (np.sqrt(second_moment / (1 - 0.999**step)) + 1e-8)
        return weights / scale[:, None]  # on raw features (the mean only shifts every span of a sentence alike)

    def scores(self, weights: np.ndarray, chosen: np.ndarray) -> dict[str, list[float]]:
        """F1 of the span the module would show (its consensus of the scores) for each chosen question, per kind."""
        by_kind: dict[str, list[float]] = defaultdict(list)
        for k in np.flatnonzero(chosen):
            kind = int(self.kinds[k])
            best = highlight.consensus(self.blocks[k] @ (weights[:, 0] + weights[:, 1 + kind]), *self.spans[k])
            by_kind[highlight.KINDS[kind]].append(float(self.f1[k][best]))
            by_kind["all"].append(float(self.f1[k][best]))
        return by_kind


def table(weights: np.ndarray) -> str:
    """The weights as the module's constant."""
    header = "    #" + " ".join(f"{name[:6]:>6}" for name in ("shared", *highlight.KINDS))
    lines = ["# fmt: off", "_WEIGHT_TABLE = np.array([", header]
    for name, row in zip(highlight.FEATURES, weights, strict=True):
        lines.append("    [" + ",".join(f"{w + 0.0:6.2f}" for w in np.round(row, 2)) + f"],  # {name}")
    return "\n".join([*lines, "])", "# fmt: on", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--piaf", type=Path, default=DEFAULT_PIAF)
    parser.add_argument("--write", action="store_true", help="write the weights into bot/search/highlight.py")
    args = parser.parse_args()

    data = Dataset(examples(args.piaf))
    per_fold = [data.scores(data.fit(data.folds != fold), data.folds == fold) for fold in (0, 1)]
    print("span F1 on the sentence holding the gold answer, weights fitted on the other fold")
    print(f"{'kind':8} {'n0':>5} {'F1 fold0':>9} {'n1':>5} {'F1 fold1':>9}")
    for kind in (*highlight.KINDS, "all"):
        cells = [(len(s[kind]), np.mean(s[kind]) if s[kind] else 0.0) for s in per_fold]
        print(f"{kind:8} " + " ".join(f"{n:5} {f1:9.3f}" for n, f1 in cells))
    text = table(data.fit(np.ones(len(data.kinds), dtype=bool)))
    if args.write:
        source = MODULE.read_text(encoding="utf-8")
        start = source.index("# fmt: off\n_WEIGHT_TABLE")
        MODULE.write_text(source[:start] + text, encoding="utf-8")
        print(f"weights written to {MODULE}")
    else:
        print(text)


if __name__ == "__main__":
    main()
