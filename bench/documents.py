"""Server documents benchmark: one server adds a document of its own beside a shared corpus of OrangeSum articles.

Measures how long until the server's document is answerable (the `Answerer.refresh` rebuild, then the first
answer quoting it), and the answer latency in that server (`Answerer.answer`, shared corpus plus the server's
own engine) before and after the addition, over OrangeSum headlines as questions.

    python bench/documents.py                       # all 36,000 articles
    python bench/documents.py --articles 3000       # quick run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.scale import DEFAULT_ORANGESUM, read_orangesum  # noqa: E402
from bot.answering import Answerer  # noqa: E402
from bot.search.corpus import Document  # noqa: E402
from bot.search.engine import Engine  # noqa: E402
from bot.search.loader import load_corpus  # noqa: E402
from bot.storage.stats import percentile_nearest_rank  # noqa: E402

GUILD = 4242
SERVER_DOCUMENT = Document(
    doc_id="reglement-club",
    title="Règlement du club de pétanque des Tilleuls",
    paragraphs=(
        "Le club de pétanque des Tilleuls ouvre ses terrains le samedi à neuf heures et les ferme à dix-neuf heures.",
        "La cotisation annuelle du club de pétanque des Tilleuls s'élève à trente-cinq euros, payable en septembre.",
        "Le tournoi d'été du club se tient chaque année le premier dimanche de juillet sur le boulodrome municipal.",
    ),
)
SERVER_QUESTION = "Combien coûte la cotisation du club de pétanque des Tilleuls ?"


def write_corpus(records: list[dict], folder: Path) -> Path:
    """The articles as a JSON Lines corpus (the article as text, the headline as title), as bench/scale.py does."""
    path = folder / "orangesum.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for r in records:
            doc = {"id": f"orangesum-{r['id']}", "title": r.get("title") or None, "text": r["article"]}
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return path


async def latencies(engines: Answerer, questions: list[str]) -> list[float]:
    """Milliseconds per answer in the server, one question at a time, sorted."""
    times = []
    for question in questions:
        start = time.perf_counter()
        await engines.answer(question, GUILD)
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


async def run(args: argparse.Namespace) -> None:
    records = read_orangesum(args.orangesum)
    rng = random.Random(args.seed)
    if args.articles < len(records):
        records = rng.sample(records, args.articles)
    questions = [r["title"].strip() for r in rng.sample(records, min(args.queries, len(records))) if r.get("title")]

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        shared = Engine.build(load_corpus(write_corpus(records, Path(folder))))
        build_s = time.perf_counter() - start

    documents: list[Document] = []

    async def load(guild_id: int) -> list[Document]:
        return list(documents) if guild_id == GUILD else []

    engines = Answerer(shared, load)
    await engines.answer(questions[0], GUILD)  # warm-up; reads the server's (empty) documents once
    before = await latencies(engines, questions)

    documents.append(SERVER_DOCUMENT)
    start = time.perf_counter()
    await engines.refresh(GUILD)
    rebuilt_s = time.perf_counter() - start
    answer = await engines.answer(SERVER_QUESTION, GUILD)
    answerable_s = time.perf_counter() - start
    quoted = answer.found and answer.source is not None and answer.source.doc_id == SERVER_DOCUMENT.doc_id
    after = await latencies(engines, questions)

    def p(values: list[float], q: int) -> str:
        return f"{percentile_nearest_rank(values, q):.1f}"

    print(f"Shared corpus: {len(records)} OrangeSum articles, index built in {build_s:.1f} s")
    print(f"Questions timed: {len(questions)} OrangeSum headlines, one at a time")
    print(f"Server document answerable after {answerable_s:.3f} s (rebuild {rebuilt_s:.3f} s); quoted: {quoted}")
    print()
    print(f"{'server':<28} {'p50 ms':>8} {'p95 ms':>8}")
    print(f"{'before (no own document)':<28} {p(before, 50):>8} {p(before, 95):>8}")
    print(f"{'after (1 own document)':<28} {p(after, 50):>8} {p(after, 95):>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orangesum", type=Path, default=DEFAULT_ORANGESUM)
    parser.add_argument("--articles", type=int, default=36_000, help="articles of the shared corpus")
    parser.add_argument("--queries", type=int, default=200, help="questions timed before and after")
    parser.add_argument("--seed", type=int, default=7)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
