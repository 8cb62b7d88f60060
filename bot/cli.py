"""Command line: `python -m bot ask|eval|index|run|sync|migrate-log`, the terminal front door of the engine."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from bot.answering import Answerer
from bot.app import INDEX_OPTIONS, build_vectors, corpus_source, engine_for, engine_options, index_dir
from bot.config import SETTINGS, ConfigError, Setting, Settings, load_settings
from bot.evaluation import run_eval
from bot.reliability import question_documents, run_reliability, sample_corpus
from bot.search.answer import Answer, QuestionError
from bot.search.corpus import CorpusError
from bot.search.engine import Engine, EngineOptions
from bot.search.index_file import IndexWriteError, index_file, open_index
from bot.search.oserrors import french_os_error
from bot.search.vector_build import BATCH
from bot.storage import QueryRecord, Storage, StorageError, database_label
from bot.storage.connection import DATABASE_ERRORS
from bot.storage.database_url import parse_database_url
from bot.text.answers import answer_json, answer_text, confidence_text, percent

EXIT_USAGE = 2
EXIT_FAILURE = 1


# Escape sequences (CSI, OSC, two-character ones) and control characters but tab and new line: text from the
# corpus must not move the cursor, retitle the terminal or clear the screen of whoever reads the answer.
_TERMINAL_CONTROLS = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def terminal_text(text: str) -> str:
    """`text` safe to print on a terminal: escape sequences and control characters removed."""
    return _TERMINAL_CONTROLS.sub("", text)


BOLD, PLAIN = "\033[1m", "\033[0m"


def terminal_answer(answer: Answer, bold: bool) -> str:
    """What the terminal shows of an answer, as Discord shows it: the answer phrase in bold (ANSI) when `bold`,
    the confidence in words and figures; the corpus's own escape sequences removed either way."""
    # The highlight is marked first with private-use characters, so that the escape sequences removed from the
    # corpus's text are not the bot's own.
    text = terminal_text(answer_text(answer, lambda phrase: f"\ue000{phrase}\ue001"))
    start, end = (BOLD, PLAIN) if bold else ("", "")
    text = text.replace("\ue000", start).replace("\ue001", end)
    return text if answer.intent == "smalltalk" else f"{text}\n({confidence_text(answer)})"


def _print_answer(answer: Answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer_json(answer), ensure_ascii=False), flush=True)
    else:
        print(terminal_answer(answer, bold=sys.stdout.isatty()))


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from config/bot.toml and BOT_* variables, then the command's options, all checked alike
    (a bad value raises ConfigError, reported by `main`)."""
    given = {
        setting.option: getattr(args, setting.attribute) for setting in SETTINGS if hasattr(args, setting.attribute)
    }
    return load_settings(args.config, options=given)


def _warn(message: str) -> None:
    print(f"Avertissement : {message}", file=sys.stderr)


def _progress(done: int, total: int) -> None:
    print(f"Indexation : {done} / {total} documents ({percent(done / max(total, 1))})", file=sys.stderr)


async def _open_log(settings: Settings, enabled: bool) -> Storage | None:
    """The query log, or None (with a warning) when it cannot be opened: answering comes first."""
    if not enabled:
        return None
    try:
        return await Storage.open(settings.database_path, url=settings.database_url)
    except (OSError, sqlite3.Error, StorageError) as exc:
        label = database_label(settings.database_path, settings.database_url)
        print(f"Avertissement : journal {label} indisponible ({exc}).", file=sys.stderr)
        return None


def _stdin_questions() -> Iterator[str]:
    """The non-blank lines of the standard input, read as UTF-8 whatever the locale: an invalid byte becomes
    U+FFFD and spoils only its own question, never the ones around it."""
    buffer = getattr(sys.stdin, "buffer", None)
    lines = sys.stdin if buffer is None else (raw.decode("utf-8", errors="replace") for raw in buffer)
    return (line.rstrip("\r\n") for line in lines if line.strip())


def _utf8_output() -> None:
    """Write UTF-8 on stdout and stderr whatever the locale (LC_ALL=C gives ASCII, or lone surrogates
    written back as invalid bytes), so the JSON output is always valid UTF-8."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="replace")


async def _ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer each question from the shared corpus; with `--server`, as that server would, its own documents
    (read from the database) asked too. The log row names no server: a test from the terminal is not one of
    that server's members asking."""
    engine = engine_for(settings, _warn, _progress)
    questions = _stdin_questions() if args.question == "-" else [args.question]
    log = await _open_log(settings, not args.no_log or args.server is not None)
    if args.server is not None and log is None:
        print(f"Impossible de lire les documents du serveur {args.server} sans la base de données.", file=sys.stderr)
        return EXIT_FAILURE
    answerer = Answerer(engine, log.guild_documents if log is not None else None, engine_options(settings))
    status = 0
    try:
        for question in questions:
            try:
                answer = await answerer.answer(question, args.server, args.after)
            except QuestionError as exc:
                print(exc, file=sys.stderr)
                status = EXIT_USAGE
                continue
            _print_answer(answer, args.json)
            if log is not None and not args.no_log:
                await log.log_query(QueryRecord.from_answer(answer, origin="cli"))
    finally:
        if log is not None:
            await log.close()
    return status


def _cmd_ask(args: argparse.Namespace) -> int:
    _utf8_output()
    return asyncio.run(_ask(args, _settings(args)))


def _eval_engine(args: argparse.Namespace, settings: Settings, options: EngineOptions) -> Callable[[], Engine]:
    """How `eval` gets its engine: the saved index (`--saved-index`), or one built in memory from the corpus or
    from a sample of it that keeps the questions' documents (`--sample N`)."""
    if args.saved_index:
        return lambda: engine_for(settings, _warn)

    def build() -> Engine:
        corpus = corpus_source(settings).load()
        if args.sample:
            corpus = sample_corpus(corpus, question_documents(args.file), args.sample)
        return Engine.build(corpus, options)

    return build


def _cmd_eval(args: argparse.Namespace) -> int:
    settings = _settings(args)
    options = engine_options(settings, _warn)
    evaluate = run_reliability if args.labels else run_eval
    try:
        report = evaluate(args.file, _eval_engine(args, settings, options), options, args.limit)
    except OSError as exc:
        print(f"Erreur : le jeu de questions {args.file} est illisible ({french_os_error(exc)}).", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        print(
            f"Erreur : {args.file} n'est ni un jeu SQuAD (.json) ni des questions JSON Lines "
            f"(`q`, `doc`, `a`) : {type(exc).__name__}.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    print(report.render())
    return 0 if report.passed else 1


def _cmd_index(args: argparse.Namespace) -> int:
    settings = _settings(args)
    folder = index_dir(settings)
    started = time.perf_counter()
    try:
        corpus, index = open_index(
            corpus_source(settings), INDEX_OPTIONS, folder, _warn, _progress, rebuild=args.force, must_save=True
        )
    except IndexWriteError as exc:
        print(f"Erreur : {exc}.", file=sys.stderr)
        return EXIT_FAILURE
    path = index_file(folder, settings.corpus_path)
    print(
        f"Index à jour : {path} ({path.stat().st_size / 1e6:.1f} Mo)\n"
        f"{len(corpus.documents)} documents, {len(index.passages)} passages, {len(index.body.vocab)} termes, "
        f"prêt en {time.perf_counter() - started:.1f} s"
    )
    if args.no_vectors or not settings.semantic:
        return 0
    started = time.perf_counter()
    try:
        built = build_vectors(settings, corpus, index, _warn, _vector_progress)
    except KeyboardInterrupt:
        print("\nVecteurs de phrases interrompus : le calcul reprendra où il s'est arrêté.", file=sys.stderr)
        return EXIT_FAILURE
    if built is not None:
        done, count = built
        print(f"Vecteurs de phrases : {done} / {count} phrases, en {time.perf_counter() - started:.1f} s")
    return 0


def _vector_progress(done: int, total: int) -> None:
    if done == total or done % max(total // 20, 1) < BATCH:  # a line per 5 %
        print(f"Vecteurs de phrases : {done} / {total} ({percent(done / max(total, 1))})", file=sys.stderr)


def _cmd_run(args: argparse.Namespace) -> int:
    # Imported here so `ask` and `eval` do not load discord.py.
    from dotenv import find_dotenv, load_dotenv

    from bot.chat.runner import run_bot

    load_dotenv(find_dotenv(usecwd=True))  # the .env of the directory the bot is started from
    return run_bot(_settings(args))


def _cmd_sync(args: argparse.Namespace) -> int:
    from dotenv import find_dotenv, load_dotenv

    from bot.chat.runner import sync_commands

    load_dotenv(find_dotenv(usecwd=True))
    return sync_commands(_settings(args))


def _cmd_migrate_log(args: argparse.Namespace) -> int:
    """Copy the SQLite query log into an empty PostgreSQL database (ids kept)."""
    source = _settings(args).database_path
    try:  # the address is never echoed as given: it may hold a password
        parse_database_url(args.to)
    except StorageError as exc:
        print(f"« --to » : {exc}.", file=sys.stderr)
        return EXIT_USAGE
    if not Path(source).is_file():
        print(f"{source} : journal SQLite introuvable ; rien à copier.", file=sys.stderr)
        return EXIT_FAILURE
    return asyncio.run(_migrate_log(Path(source), args.to))


async def _migrate_log(source: Path, url: str) -> int:
    try:
        async with await Storage.open(source) as log, await Storage.open(source, url=url) as target:
            copied = await log.copy_to(target)
    except (StorageError, *DATABASE_ERRORS) as exc:
        print(f"Copie du journal impossible : {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(
        f"Journal {source} copié vers {target.path} : {copied['queries']} questions, {copied['votes']} votes, "
        f"{copied['guild_settings']} réglages de serveur, {copied['channels']} salons autorisés, "
        f"{copied['documents']} documents des serveurs.\n"
        "Pour l'utiliser : BOT_DATABASE_URL (ou database.url dans config/bot.toml), puis redémarrez le bot."
    )
    return 0


CORPUS_OPTIONS = ("--corpus", "--text-field", "--title-field")


def _option_help(setting: Setting) -> str:
    """An option's help, from the settings table: what it sets, its bounds and default, what it overrides."""
    parts = [setting.kind.bounds] if setting.kind.bounds else []
    if setting.default is not None:
        parts.append(f"défaut : {setting.default}")
    parts.append(f"remplace {setting.toml} et {setting.env}")
    return f"{setting.description} ({' ; '.join(parts)})"


def _add_settings_options(parser: argparse.ArgumentParser, *options: str) -> None:
    """`--config`, then the named options, each overriding its setting and checked as the setting is."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FICHIER",
        help="fichier de configuration TOML (défaut : config/bot.toml)",
    )
    for setting in SETTINGS:
        if setting.option in options:
            parser.add_argument(
                setting.option,
                dest=setting.attribute,
                default=None,
                metavar=setting.kind.metavar,
                help=_option_help(setting),
            )


def _add_eval_parser(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("eval", help="évaluer le moteur sur un jeu de questions")
    ev.add_argument("file", type=Path, help="questions .jsonl (format dev_qa) ou jeu SQuAD .json (PIAF)")
    ev.add_argument("--limit", type=int, default=None, help="ne prendre que les N premières questions")
    ev.add_argument(
        "--labels",
        action="store_true",
        help="fiabilité des étiquettes : pour « réponse sûre », « probable », « incertaine » et les refus, "
        "le nombre de réponses et la part de justes",
    )
    corpus = ev.add_mutually_exclusive_group()
    corpus.add_argument(
        "--saved-index",
        action="store_true",
        help="répondre depuis l'index enregistré par `python -m bot index` (construit et enregistré au besoin)",
    )
    corpus.add_argument(
        "--sample",
        type=int,
        default=None,
        metavar="N",
        help="ne garder que N documents du corpus, dont tous ceux que nomment les questions (.jsonl)",
    )
    _add_settings_options(ev, *CORPUS_OPTIONS, "--max-chars", "--database")
    ev.set_defaults(func=_cmd_eval)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Réponses extractives en français à partir d'un corpus de documents.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE")

    ask = sub.add_parser("ask", help="poser une question depuis le terminal")
    ask.add_argument("question", help="la question, ou « - » pour lire une question par ligne sur l'entrée standard")
    ask.add_argument("--json", action="store_true", help="sortie JSON (un objet par question)")
    ask.add_argument("--no-log", action="store_true", help="ne pas enregistrer la question dans le journal")
    ask.add_argument(
        "--after",
        action="append",
        default=[],
        metavar="QUESTION",
        help="question posée juste avant, pour lire une question de suite (« Et en Espagne ? ») ; "
        "à répéter pour une conversation plus longue, la plus ancienne d'abord",
    )
    ask.add_argument(
        "--server", type=int, default=None, metavar="ID", help="répondre comme ce serveur Discord, avec ses documents"
    )
    _add_settings_options(ask, *CORPUS_OPTIONS, "--max-chars", "--database")
    ask.set_defaults(func=_cmd_ask)

    _add_eval_parser(sub)

    index = sub.add_parser(
        "index", help="construire l'index du corpus et l'enregistrer à côté de la base (démarrages rapides)"
    )
    index.add_argument("--force", action="store_true", help="reconstruire même si l'index enregistré est à jour")
    index.add_argument("--no-vectors", action="store_true", help="sans les vecteurs de phrases (calculés par le bot)")
    _add_settings_options(index, *CORPUS_OPTIONS, "--database")
    index.set_defaults(func=_cmd_index)

    run = sub.add_parser("run", help="lancer le bot Discord (jeton DISCORD_TOKEN dans .env)")
    _add_settings_options(run, "--shards", "--shard-count")
    run.set_defaults(func=_cmd_run)

    sync = sub.add_parser(
        "sync",
        help="envoyer les commandes slash à Discord, puis quitter (au démarrage, le bot ne les envoie "
        "que si elles ont changé)",
    )
    _add_settings_options(sync)
    sync.set_defaults(func=_cmd_sync)

    migrate = sub.add_parser(
        "migrate-log", help="copier le journal SQLite dans une base PostgreSQL vide (plusieurs processus)"
    )
    migrate.add_argument("--to", required=True, help="adresse de la base cible : postgresql://utilisateur@hôte/base")
    _add_settings_options(migrate, "--database")
    migrate.set_defaults(func=_cmd_migrate_log)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except CorpusError as exc:
        print(f"Erreur de corpus : {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"Configuration invalide :\n{exc}", file=sys.stderr)
        return EXIT_USAGE
