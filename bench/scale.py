"""Scale benchmark: the engine on 1,000, 10,000 and all 36,000 OrangeSum articles, beside other BM25 engines.

Each corpus is a JSON Lines file of OrangeSum articles (the article as text, the headline as title)
that always holds the same sampled test-split articles, so recall reads the same at every size.
Queries are those articles' abstracts (split_abstract = test) and, separately, their headlines
(split_title = test); the article they come from is the target. Recall@k is document-level: the
target among the first k distinct documents of the ranked passages.

Per size, two child processes keep memory figures apart:
- build: read the corpus and index it as `python -m bot index` does (several processes from 5,000
  documents), then save the index; peak resident memory of the building process.
- serve: load the saved index as the bot does at start-up, then answer one question at a time
  (`Engine.answer`: retrieval, re-ranking and summary) and time each; resident memory once loaded.
  The same process then runs the other engines on the very same analysed tokens (each passage's
  term ids from the index, each question's terms as the engine analyses them): rank-bm25's
  `BM25Okapi.get_scores` over every passage, bm25s (one question as token ids, and all in a batch),
  tantivy (whitespace tokenizer over the term ids, its own BM25 with k1 1.2), and the engine's own
  BM25 postings without re-ranking, which must rank like rank-bm25.

    python bench/scale.py                               # 1000, 10000 and all articles (about 6 minutes)
    python bench/scale.py --sizes 1000,3000,10000,20000,all --rank-bm25-queries 50
    python bench/scale.py --sizes 1000 --queries 50     # quick look
    python bench/scale.py --sizes 1000 --queries 50 --semantic 1   # with the sentence model, on one thread
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bot.search.engine import Engine, EngineOptions  # noqa: E402
from bot.search.index import IndexOptions, build_index  # noqa: E402
from bot.search.index_file import index_key, load_index, save_index  # noqa: E402
from bot.search.loader import corpus_fingerprint, load_corpus  # noqa: E402
from bot.search.ranking import QueryTerms, rank  # noqa: E402
from bot.search.sentence_model import SentenceModel, SentenceModelOptions, load_sentence_model  # noqa: E402
from bot.storage.stats import percentile_nearest_rank  # noqa: E402

DEFAULT_ORANGESUM = REPO_ROOT.parent / "shared" / "eval" / "orangesum" / "orangesum_all.jsonl.gz"
KINDS = ("abstract", "title")
ANSWER = "this project (answer)"
POSTINGS = "this project, BM25 postings only"
DEPTH = 200  # passages read to find the first 10 distinct documents (baselines)


# -- corpora -----------------------------------------------------------------------------------


def read_orangesum(path: Path) -> list[dict]:
    """OrangeSum records with a non-empty article, in file order."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    return [r for r in records if (r.get("article") or "").strip()]


def pick_queries(records: list[dict], per_kind: int, rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """(question, target id) for each kind, sampled from the test splits."""
    queries = {}
    for kind in KINDS:
        pool = [r for r in records if r.get(f"split_{kind}") == "test" and (r.get(kind) or "").strip()]
        picked = rng.sample(pool, min(per_kind, len(pool)))
        queries[kind] = [(r[kind].strip(), f"orangesum-{r['id']}") for r in picked]
    return queries


def write_corpora(
    records: list[dict], targets: set[str], sizes: list[int], folder: Path, rng: random.Random
) -> dict[int, Path]:
    """One JSONL corpus per size: every target, then random other articles (nested: each size holds the smaller)."""
    ids = [f"orangesum-{r['id']}" for r in records]
    others = [i for i, doc_id in enumerate(ids) if doc_id not in targets]
    rng.shuffle(others)
    chosen = [i for i, doc_id in enumerate(ids) if doc_id in targets]
    paths = {}
    for size in sizes:
        keep = sorted(chosen + others[: max(0, size - len(chosen))])
        path = folder / f"orangesum-{size}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for i in keep:
                r = records[i]
                doc = {"id": ids[i], "title": r.get("title") or None, "text": r["article"], "published": r.get("date")}
                out.write(json.dumps(doc, ensure_ascii=False) + "\n")
        paths[size] = path
    return paths


# -- measuring helpers -------------------------------------------------------------------------


def rss_mib() -> float:
    """Current resident memory of this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def first_docs(passage_ids: Sequence[int], passage_doc: np.ndarray, k: int = 10) -> list[int]:
    """The first k distinct documents of a passage ranking."""
    docs: list[int] = []
    for pid in passage_ids:
        doc = int(passage_doc[pid])
        if doc not in docs:
            docs.append(doc)
            if len(docs) == k:
                break
    return docs


def top_passages(scores: np.ndarray, depth: int = DEPTH) -> list[int]:
    """Passage ids by decreasing score (ties by id), the first `depth` only."""
    cut = np.argpartition(-scores, depth - 1)[:depth] if len(scores) > depth else np.arange(len(scores))
    order = np.lexsort((cut, -scores[cut]))
    return cut[order].tolist()


class Result:
    """Latencies and recall of one engine on one kind of query."""

    def __init__(self) -> None:
        self.ms: list[float] = []
        self.hits1 = self.hits10 = self.count = 0
        self.top1: list[int] = []

    def add(self, ms: float | None, docs: list[int], target: int) -> None:
        if ms is not None:
            self.ms.append(ms)
        self.count += 1
        self.hits1 += bool(docs) and docs[0] == target
        self.hits10 += target in docs
        self.top1.append(docs[0] if docs else -1)

    def row(self) -> dict:
        ms = sorted(self.ms)
        return {
            "n": self.count,
            "p50": percentile_nearest_rank(ms, 50),
            "p95": percentile_nearest_rank(ms, 95),
            "p99": percentile_nearest_rank(ms, 99),
            "r1": self.hits1 / self.count if self.count else math.nan,
            "r10": self.hits10 / self.count if self.count else math.nan,
            "top1": self.top1,
        }


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - started) * 1000


# -- child processes -------------------------------------------------------------------------


def child_build(corpus: Path, index_path: Path) -> dict:
    """Cold start: read, index and save, as `python -m bot index` does."""
    options = IndexOptions()
    started = time.perf_counter()
    loaded = load_corpus(corpus)
    read_s = time.perf_counter() - started
    index = build_index(loaded.documents, options)
    build_s = time.perf_counter() - started
    key = index_key(corpus_fingerprint(corpus), options)
    saved = time.perf_counter()
    save_index(loaded, index, index_path, key)
    return {
        "documents": len(loaded.documents),
        "passages": len(index.passages),
        "terms": len(index.body.vocab),
        "read_s": read_s,
        "build_s": build_s,
        "save_s": time.perf_counter() - saved,
        "file_mb": index_path.stat().st_size / 1e6,
        "peak_mib": peak_mib(),
    }


def child_serve(
    corpus: Path, index_path: Path, queries: dict, rank_bm25_queries: int, baselines: bool, semantic: int
) -> dict:
    """Warm start from the saved index (and the sentence model on `semantic` threads, 0: none), then one question
    at a time; then the other engines."""
    started = time.perf_counter()
    model = load_sentence_model(SentenceModelOptions(threads=semantic)) if semantic else None
    options = EngineOptions(sentence_model=model)
    engine = Engine(*load_index(index_path, index_key(corpus_fingerprint(corpus), IndexOptions())), options)
    load_s = time.perf_counter() - started
    rss_loaded = rss_mib()
    doc_index = {d.doc_id: i for i, d in enumerate(engine.documents)}
    analysed = {
        kind: [(q, doc_index[t], engine.analyze_question(q)) for q, t in pairs if t in doc_index]
        for kind, pairs in queries.items()
    }
    out: dict = {"load_s": load_s, "rss_loaded_mib": rss_loaded, "engines": {}}

    for q, _, _ in analysed["title"][:20]:  # warm caches and code paths once
        engine.answer(q)
    if model is not None:  # then forget the vectors of those questions: every timed question is embedded
        fresh = replace(options, sentence_model=SentenceModel(model.backend, model.cache_size))
        engine = Engine(engine.corpus, engine.index, fresh, engine.analyzer)
    project: dict[str, Result] = {kind: Result() for kind in KINDS}
    bm25_only: dict[str, Result] = {kind: Result() for kind in KINDS}
    for kind, items in analysed.items():
        for question, target, query in items:
            _, ms = timed(lambda question=question: engine.answer(question))
            ranking = rank(engine.index, query, QueryTerms.of(query, engine.index), engine.options)
            docs = first_docs([pid for pid, _ in ranking.ranked], engine.index.passage_doc)
            project[kind].add(ms, docs, target)

            def postings(query=query) -> list[int]:
                ids, scores = engine.index.body.scores(query.terms, [1.0] * len(query.terms))
                return ids[top_passages(scores)].tolist() if len(ids) else []

            ranked, ms = timed(postings)
            bm25_only[kind].add(ms, first_docs(ranked, engine.index.passage_doc), target)
    out["rss_served_mib"] = rss_mib()
    out["engines"][ANSWER] = {k: r.row() for k, r in project.items()}
    out["engines"][POSTINGS] = {k: r.row() for k, r in bm25_only.items()}
    if baselines:
        out["engines"].update(run_baselines(engine, analysed, rank_bm25_queries))
    return out


def run_baselines(engine: Engine, analysed: dict, rank_bm25_queries: int) -> dict:
    """rank-bm25, bm25s and tantivy on the index's own passage term ids and the engine's query terms."""
    vocab = engine.index.body.vocab
    tokens = [engine.index.passages_terms(p, p).tolist() for p in range(engine.passage_count)]
    query_ids = {
        kind: [([vocab[t] for t in query.terms if t in vocab], target) for _, target, query in items]
        for kind, items in analysed.items()
    }
    names = [""] * len(vocab)
    for term, i in vocab.items():
        names[i] = term
    limited = {kind: items[:rank_bm25_queries] for kind, items in query_ids.items()}
    return {
        "rank-bm25 get_scores": rank_bm25_run(tokens, limited, engine.index.passage_doc),
        **bm25s_run(tokens, names, query_ids, engine),
        "tantivy": tantivy_run(tokens, query_ids, engine.index.passage_doc),
    }


def score_all(query_ids: dict, passage_doc: np.ndarray, search: Callable[[list[int]], list[int]]) -> dict[str, dict]:
    """Time `search` (query term ids -> ranked passage ids) on every question and score its ranking."""
    rows = {}
    for kind, items in query_ids.items():
        result = Result()
        for ids, target in items:
            ranked, ms = timed(lambda ids=ids: search(ids))
            result.add(ms, first_docs(ranked, passage_doc), target)
        rows[kind] = result.row()
    return rows


def rank_bm25_run(tokens: list[list[int]], query_ids: dict, passage_doc: np.ndarray) -> dict:
    from rank_bm25 import BM25Okapi

    reference, build_ms = timed(lambda: BM25Okapi(tokens))
    rows = score_all(query_ids, passage_doc, lambda ids: top_passages(reference.get_scores(ids)))
    return rows | {"build_s": build_ms / 1000}


def bm25s_run(tokens: list[list[int]], names: list[str], query_ids: dict, engine: Engine) -> dict:
    import bm25s

    retriever = bm25s.BM25(k1=engine.index.body.k1, b=engine.index.body.b)
    corpus = (tokens, {term: i for i, term in enumerate(names)})
    _, build_ms = timed(lambda: retriever.index(corpus, show_progress=False))
    single = score_all(
        query_ids,
        engine.index.passage_doc,
        lambda ids: top_passages(retriever.get_scores_from_ids(ids)) if ids else [],
    )
    batched = {}
    for kind, items in query_ids.items():
        strings = [[names[i] for i in ids] or [""] for ids, _ in items]
        k = min(DEPTH, engine.passage_count)
        (found, _), ms = timed(lambda strings=strings, k=k: retriever.retrieve(strings, k=k, show_progress=False))
        result = Result()
        for row, (_, target) in zip(found.tolist(), items, strict=True):
            result.add(None, first_docs(row, engine.index.passage_doc), target)
        batched[kind] = result.row() | {"p50": ms / len(items), "p95": math.nan, "p99": math.nan}
    return {
        "bm25s, one query (token ids)": single | {"build_s": build_ms / 1000},
        "bm25s, batched (mean per query)": batched,
    }


def tantivy_run(tokens: list[list[int]], query_ids: dict, passage_doc: np.ndarray) -> dict:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", tokenizer_name="ids", index_option="freq")
    builder.add_unsigned_field("pid", stored=True, fast=True)
    schema = builder.build()
    index = tantivy.Index(schema)
    index.register_tokenizer("ids", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())

    def fill() -> None:
        writer = index.writer(heap_size=256_000_000, num_threads=1)
        for pid, ids in enumerate(tokens):
            doc = tantivy.Document()
            doc.add_text("body", " ".join(f"t{i}" for i in ids))
            doc.add_unsigned("pid", pid)
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        index.reload()

    _, build_ms = timed(fill)
    searcher = index.searcher()

    def search(ids: list[int]) -> list[int]:
        if not ids:
            return []
        terms = [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", f"t{i}")) for i in ids]
        hits = searcher.search(tantivy.Query.boolean_query(terms), limit=DEPTH).hits
        return [searcher.doc(address)["pid"][0] for _, address in hits]

    return score_all(query_ids, passage_doc, search) | {"build_s": build_ms / 1000}


def run_child(args: list[str]) -> dict:
    """Run this script as a child process and read the JSON it prints last."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"child {args[:2]} failed with status {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- report ------------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def fmt(value: float, digits: int = 1) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def report(runs: dict[str, dict], machine: str) -> str:
    parts = [f"OrangeSum scale benchmark — {machine}", ""]
    parts.append("Engine per corpus size (answer = retrieval, re-ranking and summary, one question at a time)")
    rows = []
    for label, run in runs.items():
        b, s = run["build"], run["serve"]
        answer = s["engines"][ANSWER]
        rows.append(
            [
                label,
                f"{b['documents']:,}",
                f"{b['passages']:,}",
                fmt(b["read_s"]),
                fmt(b["build_s"]),
                fmt(b["save_s"]),
                fmt(b["file_mb"]),
                fmt(s["load_s"], 2),
                f"{b['peak_mib']:.0f}",
                f"{s['rss_loaded_mib']:.0f}/{s['rss_served_mib']:.0f}",
                *(f"{fmt(answer[k]['p50'])}/{fmt(answer[k]['p95'])}/{fmt(answer[k]['p99'])}" for k in KINDS),
                *(f"{fmt(answer[k]['r1'], 3)}/{fmt(answer[k]['r10'], 3)}" for k in KINDS),
            ]
        )
    parts.append(
        table(
            [
                "size",
                "docs",
                "passages",
                "read s",
                "cold build s",
                "save s",
                "file MB",
                "load s",
                "build peak MiB",
                "RSS loaded/served MiB",
                "abstract p50/95/99 ms",
                "title p50/95/99 ms",
                "abstract R@1/R@10",
                "title R@1/R@10",
            ],
            rows,
        )
    )
    for label, run in runs.items():
        engines = run["serve"]["engines"]
        reference = engines.get("rank-bm25 get_scores")
        rows = []
        for name, result in engines.items():
            for kind in KINDS:
                r = result[kind]
                same = ""
                if reference is not None:
                    ref_top = reference[kind]["top1"]
                    pairs = list(zip(r["top1"], ref_top, strict=False))
                    same = fmt(sum(a == b for a, b in pairs) / len(pairs), 3) if pairs else "—"
                rows.append(
                    [
                        name,
                        kind,
                        str(r["n"]),
                        fmt(result.get("build_s"), 1) if kind == KINDS[0] else "",
                        fmt(r["p50"], 2),
                        fmt(r["p95"], 2),
                        fmt(r["p99"], 2),
                        fmt(r["r1"], 3),
                        fmt(r["r10"], 3),
                        same,
                    ]
                )
        parts += ["", f"Side by side on {label} articles, same passages and analysed tokens"]
        parts.append(
            table(
                ["engine", "queries", "n", "index s", "p50 ms", "p95 ms", "p99 ms", "R@1", "R@10", "top-1 = rank-bm25"],
                rows,
            )
        )
    sizes = list(runs.items())
    if len(sizes) > 1:
        base_label, base = sizes[0]
        rows = []
        for label, run in sizes:
            docs = run["build"]["documents"] / base["build"]["documents"]
            line = [label, f"×{docs:.1f}"]
            for kind in KINDS:
                p50 = run["serve"]["engines"][ANSWER][kind]["p50"]
                line.append(f"{fmt(p50, 2)} (×{p50 / base['serve']['engines'][ANSWER][kind]['p50']:.2f})")
            rows.append(line)
        parts += ["", f"Latency curve (p50 against {base_label} articles)"]
        parts.append(table(["size", "documents", "abstract p50 ms", "title p50 ms"], rows))
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orangesum", type=Path, default=DEFAULT_ORANGESUM)
    parser.add_argument("--sizes", default="1000,10000,all", help="comma-separated article counts, or all")
    parser.add_argument("--queries", type=int, default=200, help="questions of each kind (abstract, title)")
    parser.add_argument("--rank-bm25-queries", type=int, default=200, help="questions of each kind for rank-bm25")
    parser.add_argument("--no-baselines", action="store_true", help="this project only")
    parser.add_argument(
        "--semantic", type=int, default=0, metavar="THREADS", help="answer with the sentence model on THREADS threads"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        mode, corpus, index_path, *rest = args.child
        if mode == "build":
            result = child_build(Path(corpus), Path(index_path))
        else:
            setup = json.loads(Path(rest[0]).read_text(encoding="utf-8"))
            queries, baselines = setup["queries"], setup["baselines"]
            result = child_serve(
                Path(corpus), Path(index_path), queries, setup["rank_bm25"], baselines, setup["semantic"]
            )
        print(json.dumps(result))
        return 0

    if not args.orangesum.exists():
        print(f"OrangeSum not found: {args.orangesum} (give --orangesum PATH)", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    records = read_orangesum(args.orangesum)
    queries = pick_queries(records, args.queries, rng)
    targets = {t for pairs in queries.values() for _, t in pairs}
    sizes = sorted({len(records) if s.strip() == "all" else int(s) for s in args.sizes.split(",")})
    if any(s < len(targets) for s in sizes):
        print(f"every size must hold the {len(targets)} target articles (lower --queries)", file=sys.stderr)
        return 2
    runs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        folder = Path(tmp)
        corpora = write_corpora(records, targets, sizes, folder, rng)
        setup = folder / "setup.json"
        setup.write_text(
            json.dumps(
                {
                    "queries": queries,
                    "rank_bm25": args.rank_bm25_queries,
                    "baselines": not args.no_baselines,
                    "semantic": args.semantic,
                }
            ),
            encoding="utf-8",
        )
        for size, corpus in corpora.items():
            label = f"{size:,}"
            index_path = folder / f"{corpus.stem}.index.npz"
            print(f"{label} articles: building…", file=sys.stderr, flush=True)
            build = run_child(["--child", "build", str(corpus), str(index_path)])
            print(f"{label} articles: answering…", file=sys.stderr, flush=True)
            serve = run_child(["--child", "serve", str(corpus), str(index_path), str(setup)])
            runs[label] = {"build": build, "serve": serve}
    stage = f"sentence model on {args.semantic} thread(s)" if args.semantic else "no sentence model"
    machine = f"{os.cpu_count()} CPU, Python {sys.version.split()[0]}, {len(targets)} target articles, {stage}"
    print(report(runs, machine))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
