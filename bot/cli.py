"""Command line: `python -m bot ask|eval|run`, the terminal front door of the engine."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.answer import Answer, QuestionError
from bot.corpus import CorpusError
from bot.engine import Engine, EngineOptions
from bot.evaluation import run_eval

DEFAULT_CORPUS = Path("seeds")
EXIT_USAGE = 2


def _answer_json(answer: Answer) -> dict:
    return {
        "question": answer.question,
        "found": answer.found,
        "answer": answer.text,
        "confidence": answer.confidence,
        "latency_ms": answer.latency_ms,
        "sources": [
            {
                "doc_id": s.doc_id,
                "file": s.file,
                "title": s.title,
                "publisher": s.publisher,
                "published": s.published,
                "url": s.url,
                "link": s.link,
                "score": s.score,
                "passage": s.passage,
            }
            for s in answer.sources
        ],
    }


def _print_answer(answer: Answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(_answer_json(answer), ensure_ascii=False), flush=True)
    else:
        print(answer.text)
        print(f"(confiance : {answer.confidence:.0%})")


def _load_engine(corpus: Path, options: EngineOptions) -> Engine:
    return Engine.from_path(corpus, options)


def _cmd_ask(args: argparse.Namespace) -> int:
    options = EngineOptions(max_chars=args.max_chars)
    engine = _load_engine(args.corpus, options)
    if args.question == "-":
        status = 0
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                _print_answer(engine.answer(line.rstrip("\n")), args.json)
            except QuestionError as exc:
                print(exc, file=sys.stderr)
                status = EXIT_USAGE
        return status
    try:
        answer = engine.answer(args.question)
    except QuestionError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    _print_answer(answer, args.json)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    options = EngineOptions(max_chars=args.max_chars)
    report = run_eval(args.file, lambda: _load_engine(args.corpus, options), options, args.limit)
    print(report.render())
    return 0 if report.passed else 1


def _cmd_run(args: argparse.Namespace) -> int:
    # Imported here so `ask` and `eval` do not load discord.py.
    from dotenv import load_dotenv

    from bot.config import ConfigError, load_settings
    from bot.runner import run_bot

    load_dotenv()
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"Configuration invalide :\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    return run_bot(settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Réponses extractives en français à partir d'un corpus de documents.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE")

    def add_common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--corpus",
            type=Path,
            default=DEFAULT_CORPUS,
            help="dossier de fichiers .txt/.md ou fichier .jsonl (défaut : seeds/)",
        )
        p.add_argument("--max-chars", type=int, default=600, help="longueur maximale de la réponse citée")

    ask = sub.add_parser("ask", help="poser une question depuis le terminal")
    ask.add_argument("question", help="la question, ou « - » pour lire une question par ligne sur l'entrée standard")
    ask.add_argument("--json", action="store_true", help="sortie JSON (un objet par question)")
    add_common(ask)
    ask.set_defaults(func=_cmd_ask)

    ev = sub.add_parser("eval", help="évaluer le moteur sur un jeu de questions")
    ev.add_argument("file", type=Path, help="questions .jsonl (format dev_qa) ou jeu SQuAD .json (PIAF)")
    ev.add_argument("--limit", type=int, default=None, help="ne prendre que les N premières questions")
    add_common(ev)
    ev.set_defaults(func=_cmd_eval)

    run = sub.add_parser("run", help="lancer le bot Discord (jeton DISCORD_TOKEN dans .env)")
    run.add_argument(
        "--config", type=Path, default=None, help="fichier de configuration TOML (défaut : config/bot.toml)"
    )
    run.set_defaults(func=_cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CorpusError as exc:
        print(f"Erreur de corpus : {exc}", file=sys.stderr)
        return EXIT_USAGE
