"""Measures the reader (`bot.search.reader`): span F1 / EM on PIAF dev questions given their gold paragraph, on the
fold of articles it was not trained on, how often it finds an answer in a paragraph of another article (its
no-answer score beaten), and milliseconds per window with 1 and 2 BLAS threads. `--weights` takes an .onnx file
(onnxruntime, which the reader always runs on one thread) or an .npz file (numpy).

    nice -n 19 python -m bench.reader --fold 1 --weights /tmp/reader/fold0.onnx [--limit N] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.evaluation import span_scores
from bot.search.reader import MAX_TOKENS, READER_FILE, Window, load_reader

# beside the checkout, or beside the folder of worktrees
DEFAULT_PIAF = next(
    (
        p / "shared/eval/piaf/piaf-v1.1-dev.json"
        for p in Path(__file__).resolve().parents[2:4]
        if (p / "shared/eval/piaf/piaf-v1.1-dev.json").is_file()
    ),
    Path("shared/eval/piaf/piaf-v1.1-dev.json"),
)


@dataclass(frozen=True, slots=True)
class Example:
    """One PIAF question with its paragraph, the first answer's characters and every gold answer text."""

    question: str
    context: str
    title: str
    start: int
    end: int
    golds: list[str]


def load_piaf(path: Path) -> list[Example]:
    """Every question of a SQuAD-format file, in file order."""
    examples = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                first = qa["answers"][0]
                examples.append(
                    Example(
                        question=qa["question"],
                        context=paragraph["context"],
                        title=article["title"],
                        start=first["answer_start"],
                        end=first["answer_start"] + len(first["text"]),
                        golds=[answer["text"] for answer in qa["answers"]],
                    )
                )
    return examples


def fold_of(title: str) -> int:
    """The fold (0 or 1) of an article, by a stable hash of its title."""
    return hashlib.sha1(title.encode("utf-8")).digest()[0] % 2


def quality(weights: Path, examples: list[Example], every: int) -> dict[str, float]:
    """EM and F1 given the gold paragraph; for every `every`-th question, whether a paragraph of another
    article gets a span scoring above the no-answer score (a false yes), and the same on the gold paragraph."""
    reader = load_reader(weights)
    rng = random.Random(7)
    contexts = sorted({(e.title, e.context) for e in examples})
    em = f1 = 0.0
    false_yes = true_yes = tried = 0
    for index, example in enumerate(examples):
        reading = reader.read(example.question, [example.context], top=1)
        span = reading.spans[0] if reading.spans else None
        exact, overlap = span_scores(example.context[span.start : span.end] if span else None, example.golds)
        em, f1 = em + exact, f1 + overlap
        if index % every == 0:
            title, context = rng.choice(contexts)
            while title == example.title:
                title, context = rng.choice(contexts)
            other = reader.read(example.question, [context], top=1)
            tried += 1
            true_yes += bool(span and span.score > reading.no_answer)
            false_yes += bool(other.spans and other.spans[0].score > other.no_answer)
    n = len(examples)
    return {"em": em / n, "f1": f1 / n, "yes_gold": true_yes / tried, "yes_other": false_yes / tried, "tried": tried}


def window_cost(weights: Path) -> dict[str, float]:
    """In this process: milliseconds to read one full window (median and best of 7), and the load time."""
    start = time.perf_counter()
    reader = load_reader(weights)
    load_s = time.perf_counter() - start
    rng = np.random.default_rng(0)
    question = rng.integers(5, 200_000, 16).tolist()
    passage = rng.integers(5, 200_000, MAX_TOKENS).tolist()
    tokenizer = reader.tokenizer
    row = [tokenizer.bos, *question, tokenizer.eos, tokenizer.eos, *passage][: MAX_TOKENS - 1]
    row.append(tokenizer.eos)
    window = Window(0, row, len(question) + 3, [(0, 1)] * (MAX_TOKENS - len(question) - 4))
    reader.logits([window])
    times = []
    for _ in range(7):
        start = time.perf_counter()
        reader.logits([window])
        times.append((time.perf_counter() - start) * 1000)
    return {"window_ms": float(np.median(times)), "window_best_ms": min(times), "load_s": load_s}


def cost_in_child(weights: Path, threads: int) -> dict[str, float]:
    """`window_cost` in a fresh process whose BLAS uses `threads` threads."""
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    command = [sys.executable, "-m", "bench.reader", "--weights", str(weights), "--child"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="Lecteur : F1 sur les articles non appris, coût par fenêtre.")
    parser.add_argument("--piaf", type=Path, default=DEFAULT_PIAF, help="PIAF (format SQuAD)")
    parser.add_argument("--weights", type=Path, default=READER_FILE, help="poids du lecteur (.onnx ou .npz)")
    parser.add_argument("--fold", type=int, choices=[0, 1], help="pli d'articles mesuré (celui non appris)")
    parser.add_argument("--limit", type=int, help="au plus ce nombre de questions")
    parser.add_argument("--every", type=int, default=4, help="une question sur N lue aussi dans un autre article")
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2], help="fils d'exécution mesurés")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(window_cost(args.weights)))
        return
    if args.fold is not None:
        examples = [e for e in load_piaf(args.piaf) if fold_of(e.title) == args.fold][: args.limit]
        began = time.time()
        q = quality(args.weights, examples, args.every)
        print(f"Pli {args.fold}, {len(examples)} questions, paragraphe donné : F1 {q['f1']:.3f}, EM {q['em']:.3f}")
        print(
            f"Réponse au-dessus du score « sans réponse » ({q['tried']} questions) : paragraphe juste "
            f"{q['yes_gold']:.3f}, paragraphe d'un autre article {q['yes_other']:.3f} ({time.time() - began:.0f} s)"
        )
    for threads in args.threads:
        c = cost_in_child(args.weights, threads)
        print(
            f"{threads} fil(s) : {c['window_ms']:.1f} ms par fenêtre de {MAX_TOKENS} jetons "
            f"(meilleure {c['window_best_ms']:.1f}), chargement {c['load_s']:.2f} s"
        )
    print(f"(charge de la machine {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
