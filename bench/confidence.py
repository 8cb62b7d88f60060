"""Calibrates the answer confidence on PIAF: fits the logistic model, shows its reliability and the decline threshold.

A third of PIAF's articles (by a hash of the title, as in `python -m bot eval`) is left out of the
corpus: questions on the other articles are answerable (an answer is right when its quote holds the
gold answer), questions on the left-out ones are not (any answer is wrong). Every question is asked twice:
of PIAF's paragraphs alone, and of the same paragraphs among news articles (`--distractors`, OrangeSum by
default), where a large corpus holds many passages that share a question's words without answering it.
The model is fitted on the questions of half of the articles and measured on the other half, then the
other way round, so every figure printed comes from questions the model was not fitted on. `--fit` also
prints the coefficients fitted on all the questions, to paste into `bot/search/confidence.py`.

    python -m bench.confidence [--piaf PATH] [--distractors PATH.jsonl.gz] [--distractor-count N] [--fit]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import astuple, fields, replace
from pathlib import Path

import numpy as np

from bot.evaluation import contains, held_out, quoted_text, squad_corpus
from bot.search.answer import Answer
from bot.search.confidence import Evidence
from bot.search.corpus import Corpus, Document
from bot.search.engine import Engine, EngineOptions
from bot.search.loader import load_corpus
from bot.text.answers import CONFIDENCE_LABELS

SHARED_EVAL = Path(__file__).resolve().parents[2] / "shared/eval"
DEFAULT_PIAF = SHARED_EVAL / "piaf/piaf-v1.1-dev.json"
DEFAULT_NEWS = SHARED_EVAL / "orangesum/orangesum_all.jsonl.gz"
DISTRACTOR = "distractor:"  # the prefix of a distractor's document id
L2 = 1e-2  # ridge penalty of the fit (standardised features)


def fit(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logistic regression by Newton's method on standardised features: (weights with intercept, means, scales)."""
    means, scales = features.mean(0), features.std(0) + 1e-9
    x = np.c_[np.ones(len(features)), (features - means) / scales]
    w = np.zeros(x.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (p - labels) + L2 * np.r_[0, w[1:]]
        hessian = (x * (p * (1 - p))[:, None]).T @ x + L2 * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    return w, means, scales


def predict(model: tuple[np.ndarray, np.ndarray, np.ndarray], features: np.ndarray) -> np.ndarray:
    w, means, scales = model
    return 1 / (1 + np.exp(-(np.c_[np.ones(len(features)), (features - means) / scales] @ w)))


def article_fold(doc_title: str | None) -> int:
    """The half (0 or 1) an article's questions fall in for the two-fold cross-validation, by a hash of its title."""
    return hashlib.sha256(("fold:" + (doc_title or "")).encode()).digest()[0] % 2


def cross_validated(x: np.ndarray, y: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Each question's probability from the model fitted on the other half of the articles."""
    p = np.zeros(len(y))
    for k in (0, 1):
        p[fold == k] = predict(fit(x[fold != k], y[fold != k]), x[fold == k])
    return p


def judged(answer: Answer, gold: str, answers: list[str], kept: set[str]) -> tuple[bool, bool, bool]:
    """(the question's paragraph is among the `kept` documents, the quote holds a gold answer, its first sentence
    does). Only a PIAF paragraph quoted first counts: a distractor may hold a gold answer's words, a year or a
    number, by chance."""
    inside = gold in kept
    holds = inside and answer.found and answer.source is not None and not answer.source.doc_id.startswith(DISTRACTOR)
    return (
        inside,
        holds and any(contains(quoted_text(answer), a) for a in answers),
        holds and any(contains(answer.sentences[0], a) for a in answers),
    )


def add_distractor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--distractors", type=Path, default=DEFAULT_NEWS, help="corpus JSON Lines ajouté aux paragraphes de PIAF"
    )
    parser.add_argument("--distractor-count", type=int, help="ne garder que ses N premiers articles")
    parser.add_argument(
        "--same-article",
        action="store_true",
        help="poser aussi les questions à PIAF privé d'un paragraphe sur deux de chaque article (et s'y ajuster)",
    )


def piaf_corpora(
    piaf: Path, distractors: Path | None, count: int | None = None, same_article: bool = False
) -> tuple[list[tuple[str, str, list[str]]], dict[str, str | None], Iterator[tuple[str, Corpus, list[int]]]]:
    """PIAF's questions, its paragraphs' titles, and the corpora they are asked of, by name, each with the
    questions asked of it:
    - the kept paragraphs (two thirds of the articles), every question;
    - with `same_article`, the same with one paragraph in two of each article left out (`sibling_split`): a
      question on a left-out paragraph is on topic but unanswerable, as a member's question on a fact the article
      does not give; asked are the questions of articles that keep a paragraph and lose one, less those whose
      answer a kept paragraph happens to hold;
    - the kept paragraphs among the `count` first articles of `distractors` (their ids prefixed so they never
      meet a paragraph's), every question.
    The corpora are loaded one at a time, as they are asked."""
    corpus, questions = squad_corpus(piaf)
    titles = {d.doc_id: d.title for d in corpus.documents}
    kept = [d for d in corpus.documents if not held_out(d.title)]

    def corpora() -> Iterator[tuple[str, Corpus, list[int]]]:
        everything = list(range(len(questions)))
        yield f"PIAF ({len(kept)} paragraphes)", Corpus(kept), everything
        if same_article:
            yield on_topic(kept)
        if distractors is not None:
            news = load_corpus(distractors, text_field="article").documents[:count]
            mixed = kept + [replace(d, doc_id=DISTRACTOR + d.doc_id) for d in news]
            yield f"PIAF + {len(news)} articles de presse", Corpus(mixed), everything

    def on_topic(kept: list[Document]) -> tuple[str, Corpus, list[int]]:
        halves = sibling_split(kept)
        by_title: dict[str | None, list[str]] = {}
        for d in halves:
            by_title.setdefault(d.title, []).append(d.text)
        left = {d.doc_id for d in kept} - {d.doc_id for d in halves}
        split = {titles[doc_id] for doc_id in left}
        asked = [
            n
            for n, (_, gold, answers) in enumerate(questions)
            if titles[gold] in split
            and (gold not in left or not any(contains(t, a) for t in by_title[titles[gold]] for a in answers))
        ]
        return f"PIAF, un paragraphe sur deux ({len(halves)} paragraphes)", Corpus(halves), asked

    return questions, titles, corpora()


def sibling_split(paragraphs: list[Document]) -> list[Document]:
    """The paragraphs less one in two of each article's (by a hash of the paragraph's id), each article keeping
    at least its first: what is left is on the same subjects, without the facts of the paragraphs left out."""
    kept, seen = [], set()
    for paragraph in paragraphs:
        left_out = hashlib.sha256(("sibling:" + paragraph.doc_id).encode()).digest()[0] % 2
        if paragraph.title not in seen or not left_out:
            kept.append(paragraph)
        seen.add(paragraph.title)
    return kept


# The labels a member reads, as (word, lowest probability, probability above): « sûre » from 0.7, …
LABELS = tuple(
    (label.removeprefix("réponse "), floor, above)
    for (floor, label), above in zip(CONFIDENCE_LABELS, (1.01, *(f for f, _ in CONFIDENCE_LABELS)), strict=False)
)


def reliability(p: np.ndarray, y: np.ndarray, inside: np.ndarray, firsts: np.ndarray, fold: np.ndarray) -> None:
    """Print the held-out probability against the share of right answers, by band and by label, and what each
    decline threshold keeps."""
    n_in, n_out = inside.sum(), (~inside).sum()
    print("Fiabilité (probabilité annoncée contre part de réponses justes, questions hors ajustement) :")
    print(f"{'probabilité':>14} {'questions':>10} {'justes':>8}")
    edges = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001]
    for lo, hi in itertools.pairwise(edges):
        band = (p >= lo) & (p < hi)
        if band.any():
            print(f"{lo:>6.1f} – {min(hi, 1):<5.1f} {band.sum():>10} {y[band].mean():>8.3f}")
    print(
        "Par étiquette : "
        + " ; ".join(
            f"{label} {((p >= lo) & (p < hi)).sum()} q., {y[(p >= lo) & (p < hi)].mean():.3f} justes"
            for label, lo, hi in LABELS
            if ((p >= lo) & (p < hi)).any()
        )
    )
    print("Seuil de refus :")
    print(f"{'seuil':>6} {'1re phrase':>11} {'contenue':>9} {'faux oui':>9}")
    for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        said = p >= t
        print(
            f"{t:>6.2f} {(firsts & said).sum() / n_in:>11.3f} {(y.astype(bool) & said).sum() / n_in:>9.3f} "
            f"{(~inside & said).sum() / n_out:>9.3f}"
        )
    for k in (0, 1):
        part = fold == k
        said = p >= 0.25
        print(
            f"moitié {k} (seuil 0,25) : 1re phrase {(firsts & said & part).sum() / (inside & part).sum():.3f}, "
            f"faux oui {(~inside & said & part).sum() / (~inside & part).sum():.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--piaf", type=Path, default=DEFAULT_PIAF)
    add_distractor_arguments(parser)
    parser.add_argument("--fit", action="store_true", help="print the coefficients fitted on every question")
    args = parser.parse_args()

    questions, titles, corpora = piaf_corpora(args.piaf, args.distractors, args.distractor_count, args.same_article)
    rows, labels, answerable, first, folds, settings, names = [], [], [], [], [], [], []
    for setting, (name, corpus, asked) in enumerate(corpora):
        names.append(name)
        kept_ids = {d.doc_id for d in corpus.documents}
        engine = Engine.build(corpus, EngineOptions(min_confidence=0.0))
        for question, gold, answers in (questions[n] for n in asked):
            answer, evidence, *_ = engine.explain(question)
            if evidence is None:
                evidence = Evidence(*(0.0,) * len(fields(Evidence)))
            inside, right, opens = judged(answer, gold, answers, kept_ids)
            rows.append(astuple(evidence))
            labels.append(float(right))
            answerable.append(inside)
            first.append(opens)
            folds.append(article_fold(titles[gold]))
            settings.append(setting)
    x, y = np.array(rows), np.array(labels)
    inside, firsts, fold = np.array(answerable), np.array(first), np.array(folds)

    p = cross_validated(x, y, fold)

    setting = np.array(settings)
    for k, name in enumerate(names):
        part = setting == k
        print(f"\n== {name} : {(inside & part).sum()} questions avec réponse, {(~inside & part).sum()} sans")
        reliability(p[part], y[part], inside[part], firsts[part], fold[part])
    if args.fit:
        w, means, scales = fit(x, y)
        rounded = lambda values: "(" + ", ".join(f"{v:.4g}" for v in values) + ",)"  # noqa: E731
        print("\n# Fitted by bench/confidence.py --fit")
        print(f"INTERCEPT = {w[0]:.4g}")
        print(f"MEANS = {rounded(means)}")
        print(f"SCALES = {rounded(scales)}")
        print(f"WEIGHTS = {rounded(w[1:])}")


if __name__ == "__main__":
    main()
