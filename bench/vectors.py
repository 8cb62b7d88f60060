"""Sentence vectors built in advance: how long the background build takes, and what it saves each answer.

`build`: for each corpus (OrangeSum samples of N articles, or any corpus folder or file), index it, then run the
background build as the bot does (a child process on one thread; `--priority 19` as in the bot, 0 alone on the
machine) for at most `--minutes`, and report the sentences, the rows built per second, the file's size and the
time the whole build takes at that rate (measured when it finished, projected otherwise).

`serve`: on one corpus, answer the OrangeSum abstracts and headlines of `bench/scale.py`, one at a time, three
ways: the sentence model off (lexical), on without vectors (the question and the quoted opening embedded when
answering), and on with the vectors of the quoted openings in the vector file; then with the vectors and the
reader, run by onnxruntime and by numpy. Only the rows the questions quote are filled (with the model's own
vectors, as the build writes them), so the figure is what a fully built file gives without building every row
of a large corpus first; the rows used are counted.

    python bench/vectors.py build --sizes 1000,10000 --minutes 20 [--processes 2 --priority 0]
    python bench/vectors.py build --corpus seeds
    python bench/vectors.py serve --size all --queries 100
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.scale import (  # noqa: E402
    DEFAULT_ORANGESUM,
    pick_queries,
    read_orangesum,
    rss_mib,
    table,
    timed,
    write_corpora,
)
from bot.search.engine import Engine, EngineOptions  # noqa: E402
from bot.search.index import build_index  # noqa: E402
from bot.search.loader import load_corpus  # noqa: E402
from bot.search.reader import NUMPY_READER_FILE, load_reader  # noqa: E402
from bot.search.sentence_model import SentenceModel, SentenceModelOptions, open_sentence_model  # noqa: E402
from bot.search.vector_build import VectorBuild  # noqa: E402
from bot.search.vector_file import SentenceVectors, VectorWriter  # noqa: E402
from bot.storage.stats import percentile_nearest_rank  # noqa: E402


def _vectors(engine: Engine, model: SentenceModel, path: Path) -> SentenceVectors:
    about = {"index": "bench", "model": model.name, "max_chars": engine.options.max_chars}
    VectorWriter(path, about, engine.index.sentence_count, model.dimension).close()
    return SentenceVectors(path, about)


def build(corpora: dict[str, Path], minutes: float, priority: int, processes: int, folder: Path) -> None:
    model = open_sentence_model(SentenceModelOptions(threads=1))
    rows = []
    for label, path in corpora.items():
        corpus = load_corpus(path)
        started = time.perf_counter()
        engine = Engine(corpus, build_index(corpus.documents), EngineOptions(sentence_model=model))
        index_s = time.perf_counter() - started
        vectors = _vectors(engine, model, folder / f"{label}.vectors")
        job = VectorBuild(engine.index, vectors, model, engine.options.max_chars)
        deadline = time.perf_counter() + minutes * 60

        def until_deadline(built: int, count: int, job: VectorBuild = job, deadline: float = deadline) -> None:
            if time.perf_counter() > deadline:
                job.stop()

        started = time.perf_counter()
        built = job.run(until_deadline, processes=processes, priority=priority)
        seconds = time.perf_counter() - started
        rate = built / seconds if seconds else float("nan")
        whole = vectors.count / rate if rate else float("nan")
        size_mb = (vectors.count * (vectors.dim + 12) + 4096) / 1e6
        rows.append(
            [
                label,
                f"{len(corpus.documents):,}",
                f"{vectors.count:,}",
                f"{index_s:.1f}",
                f"{built:,}",
                f"{seconds:.0f}",
                f"{rate:.1f}",
                f"{whole / 60:.1f}" + ("" if built == vectors.count else " (projected)"),
                f"{size_mb:.1f}",
            ]
        )
        print(f"{label}: {built}/{vectors.count} rows in {seconds:.0f} s", file=sys.stderr, flush=True)
    headers = ["corpus", "docs", "sentences", "index s", "rows built", "s", "rows/s", "whole build min", "file MB"]
    print(table(headers, rows))
    print(f"{processes} child process(es) of 1 thread at priority {priority}; int8 row, scale and digest per sentence")


def serve(corpus_path: Path, queries: dict[str, list[tuple[str, str]]], folder: Path) -> None:
    model = open_sentence_model(SentenceModelOptions(threads=1))
    corpus = load_corpus(corpus_path)
    index = build_index(corpus.documents)
    lexical = Engine(corpus, index)
    questions = [q for pairs in queries.values() for q, _ in pairs]
    for question in questions[:20]:  # warm caches and code paths once
        lexical.answer(question)
    figures = {"sentence model off": [timed(lambda q=q: lexical.answer(q))[1] for q in questions]}
    fresh = Engine(corpus, index, EngineOptions(sentence_model=SentenceModel(model.backend, 0)), lexical.analyzer)
    figures["on, no vectors (question and opening embedded)"] = [
        timed(lambda q=q: fresh.answer(q))[1] for q in questions
    ]
    vectors = _vectors(fresh, model, folder / "serve.vectors")
    writer = VectorWriter(vectors.path, vectors.about, vectors.count, vectors.dim)
    openings = {}
    for question in questions:
        ranked = _ranked(fresh, question)
        picks = fresh.quoter.picks(*ranked) if ranked else []
        if picks and picks[0].number >= 0:
            openings[picks[0].number] = picks[0].text
    numbers = sorted(openings)
    for number, vector in zip(numbers, model.embed_passages([openings[n] for n in numbers]), strict=True):
        writer.fill(number, vector, openings[number])
    writer.close()
    stored = Engine(
        corpus, index, EngineOptions(sentence_model=SentenceModel(model.backend, 0)), lexical.analyzer, vectors
    )
    used = _count_used(vectors)
    figures["on, vectors built"] = [timed(lambda q=q: stored.answer(q))[1] for q in questions]
    readers = {"onnxruntime": load_reader(), "numpy": load_reader(NUMPY_READER_FILE)}
    reading = {
        name: Engine(corpus, index, replace(stored.options, reader=reader), lexical.analyzer, vectors)
        for name, reader in readers.items()
    }
    missed = _missed(vectors)  # the openings the reader chooses instead, filled as a full build would have them
    for engine in reading.values():
        for question in questions:
            engine.answer(question)
    writer = VectorWriter(vectors.path, vectors.about, vectors.count, vectors.dim)
    numbers = sorted(missed)
    for number, vector in zip(numbers, model.embed_passages([missed[n] for n in numbers]), strict=True):
        writer.fill(number, vector, missed[number])
    writer.close()
    used = _count_used(vectors)
    for name, engine in reading.items():
        figures[f"on, vectors built, reader ({name})"] = [
            timed(lambda q=q, e=engine: e.answer(q))[1] for q in questions
        ]
    kinds = [kind for kind, pairs in queries.items() for _ in pairs]
    rows = []
    for name, ms in figures.items():
        for kind in (*queries, "all"):
            chosen = sorted(t for t, k in zip(ms, kinds, strict=True) if kind in ("all", k))
            rows.append([name, kind, *(f"{percentile_nearest_rank(chosen, p):.1f}" for p in (50, 95, 99))])
    print(table(["stage", "questions", "p50 ms", "p95 ms", "p99 ms"], rows))
    print(
        f"{len(corpus.documents):,} documents, {index.sentence_count:,} sentences, {len(questions)} questions; "
        f"rows read from the vector file: {used[0]} of {used[0] + used[1]} lookups; RSS {rss_mib():.0f} MiB"
    )


def _ranked(engine: Engine, question: str) -> tuple | None:
    """What `Quoter.picks` takes for `question`, as `Engine` gives it (None when nothing ranks)."""
    from bot.search.ranking import QueryTerms, rank

    read = engine.analyze_question(question)
    ranking = rank(engine.index, read, QueryTerms.of(read, engine.index), engine.options)
    return (ranking.ranked, read) if ranking.top is not None else None


def _missed(vectors: SentenceVectors) -> dict[int, str]:
    """The sentences (number -> text) that `vectors` is asked for from now on and does not hold."""
    missed: dict[int, str] = {}
    lookup = vectors.vector

    def recorded(number: int, text: str) -> np.ndarray | None:
        found = lookup(number, text)
        if found is None and number >= 0:
            missed[number] = text
        return found

    vectors.vector = recorded  # type: ignore[method-assign]
    return missed


def _count_used(vectors: SentenceVectors) -> list[int]:
    """[rows found, rows missing] of the lookups `vectors` answers from now on."""
    counts = [0, 0]
    lookup = vectors.vector

    def counted(number: int, text: str) -> np.ndarray | None:
        found = lookup(number, text)
        counts[found is None] += 1
        return found

    vectors.vector = counted  # type: ignore[method-assign]
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["build", "serve"])
    parser.add_argument("--orangesum", type=Path, default=DEFAULT_ORANGESUM)
    parser.add_argument("--corpus", type=Path, help="a corpus folder or file instead of OrangeSum samples")
    parser.add_argument("--sizes", default="1000,10000", help="build: OrangeSum article counts, or all")
    parser.add_argument("--size", default="all", help="serve: the OrangeSum article count, or all")
    parser.add_argument("--minutes", type=float, default=20.0, help="build: at most this long per corpus")
    parser.add_argument("--priority", type=int, default=19, help="build: the child's nice value (19 as in the bot)")
    parser.add_argument("--processes", type=int, default=1, help="build: child processes (1 as in the bot)")
    parser.add_argument("--queries", type=int, default=100, help="serve: questions of each kind")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="vectors-") as tmp:
        folder = Path(tmp)
        if args.corpus is not None:
            corpora = {args.corpus.name: args.corpus}
            queries: dict[str, list[tuple[str, str]]] = {"given": []}
        else:
            records = read_orangesum(args.orangesum)
            queries = pick_queries(records, args.queries, rng)
            targets = {t for pairs in queries.values() for _, t in pairs}
            sizes = args.sizes if args.mode == "build" else args.size
            counts = sorted({len(records) if s.strip() == "all" else int(s) for s in sizes.split(",")})
            corpora = {f"{size:,}": path for size, path in write_corpora(records, targets, counts, folder, rng).items()}
        if args.mode == "build":
            build(corpora, args.minutes, args.priority, args.processes, folder)
        else:
            serve(next(iter(corpora.values())), queries, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
