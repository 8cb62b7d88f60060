"""Calibrates the "not found" threshold on PIAF: answerable vs held-out questions, per threshold.

Half of PIAF's articles form the corpus; questions on them are answerable, questions on the
other half are not (their article is absent, related ones remain). For each confidence
threshold the table shows the share of answerable questions answered with the gold answer
inside, and the share of unanswerable ones wrongly answered.

    python bench/confidence.py [--piaf PATH] [--limit N]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from bot.evaluation import contains, squad_corpus
from bot.search.corpus import Corpus
from bot.search.engine import Engine, EngineOptions

DEFAULT_PIAF = Path(__file__).resolve().parents[2] / "shared/eval/piaf/piaf-v1.1-dev.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--piaf", type=Path, default=DEFAULT_PIAF)
    parser.add_argument("--limit", type=int, default=800, help="questions per side")
    args = parser.parse_args()

    corpus, questions = squad_corpus(args.piaf)
    titles = sorted({d.title or "" for d in corpus.documents})
    random.Random(7).shuffle(titles)
    kept_titles = set(titles[: len(titles) // 2])
    kept = [d for d in corpus.documents if (d.title or "") in kept_titles]
    kept_ids = {d.doc_id for d in kept}
    engine = Engine.build(Corpus(kept), EngineOptions(min_confidence=0.0))
    rng = random.Random(11)
    inside = [q for q in questions if q[1] in kept_ids]
    outside = [q for q in questions if q[1] not in kept_ids]
    inside = rng.sample(inside, min(args.limit, len(inside)))
    outside = rng.sample(outside, min(args.limit, len(outside)))

    pos = []
    for question, _gold, answers in inside:
        a = engine.answer(question)
        pos.append((a.confidence, any(contains(" ".join(a.sentences), x) for x in answers)))
    neg = [engine.answer(q).confidence for q, _, _ in outside]

    print(f"corpus: {len(kept)} paragraphes ; {len(pos)} questions avec réponse, {len(neg)} sans")
    print(f"{'seuil':>6} {'réponses':>9} {'contenue':>9} {'faux oui':>9}")
    for t in [0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7]:
        answered = sum(c >= t for c, _ in pos) / len(pos)
        good = sum(ok for c, ok in pos if c >= t) / len(pos)
        false_yes = sum(c >= t for c in neg) / len(neg)
        print(f"{t:>6.2f} {answered:>9.3f} {good:>9.3f} {false_yes:>9.3f}")


if __name__ == "__main__":
    main()
