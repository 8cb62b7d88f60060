"""Loads a hostile corpus and shows the bot still answers, warning about each trap; prints a table. Then has
moderators add hostile files through the `/admin documents ajouter` command and times another server's answers
meanwhile; prints a second table.

The corpus, built in a temporary folder: a link to a secret file outside the folder and one to /etc/passwd,
a one-paragraph file of --size-mb megabytes, a Markdown file of 1 MB of unclosed links, a javascript: link
and an entry for a missing file in sources.toml, and two files named article.txt in two subfolders.
A truncated .jsonl.gz is tried apart. The same folder then goes through `python -m bot ask` to show what
the operator sees.

The files: a PDF of 1,000 pages all drawing one 1 MB content stream (1.2 MB, about 45 minutes of pypdf), a PDF of
1,000 pages drawing 100 kB each, an HTML page of one 480,000-cell table (4.8 MB, more than 15 minutes of
trafilatura); then ten such files added at once by one moderator, and by ten moderators of ten servers.

    python bench/hostile.py [--size-mb 50] [--part corpus|documents]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bot.ingest.corpus import CorpusSource  # noqa: E402
from bot.search.corpus import CorpusError  # noqa: E402
from bot.search.engine import Engine  # noqa: E402
from bot.search.passages import passages_with_sentences  # noqa: E402
from bot.storage import Storage  # noqa: E402
from bot.storage.stats import percentile_nearest_rank  # noqa: E402
from bot.text.answers import answer_text  # noqa: E402
from tests.ingest.bombs import parse_pids, shared_stream_pdf, slow_pdf, table_html  # noqa: E402

if TYPE_CHECKING:
    from bot.chat.bot import QABot

SECRET = "jeton-secret-0123456789"
QUESTION = "Combien de tonnes de tofu de riz le village de Libei a-t-il vendues ?"
ANSWER = "1 200 tonnes"
FILLER = "M. Dupont et A. B. Martin vendent des théières du Yunnan sur les marchés de la ville. "


def build(folder: Path, size_mb: int) -> Path:
    """Write the hostile corpus under `folder`; returns the corpus folder."""
    outside = folder / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"DISCORD_TOKEN={SECRET}. Ce fichier ne doit jamais être cité.\n")
    corpus = folder / "corpus"
    for sub in ("2019", "2020"):
        (corpus / sub).mkdir(parents=True)
    (corpus / "2019" / "article.txt").write_text(
        "Les théières en argent du Yunnan se vendent en ligne. Su Junping en vend beaucoup.\n", encoding="utf-8"
    )
    (corpus / "2020" / "article.txt").write_text(
        f"Le village de Libei produit du tofu de riz. Il en a vendu {ANSWER} en 2020.\n", encoding="utf-8"
    )
    (corpus / "fuite.txt").symlink_to(outside / "secret.txt")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    with (corpus / "enorme.txt").open("w", encoding="utf-8") as handle:
        handle.write(FILLER * (size_mb * 1_000_000 // len(FILLER.encode())))
    (corpus / "crochets.md").write_text("# Crochets\n\n" + "[a](" * 250_000 + "\n", encoding="utf-8")
    (corpus / "sources.toml").write_text(
        '[[document]]\nfile = "2019/article.txt"\ntitle = "Théières"\nurl = "javascript:alert(document.cookie)"\n\n'
        '[[document]]\nfile = "2020/article.txt"\ntitle = "Le tofu de Libei"\nurl = "https://exemple.fr/tofu"\n\n'
        '[[document]]\nfile = "disparu.txt"\ntitle = "Supprimé"\n',
        encoding="utf-8",
    )
    return corpus


def truncated_gzip(folder: Path) -> Path:
    path = folder / "coupe.jsonl.gz"
    lines = "".join(json.dumps({"id": str(i), "text": f"Article {i}. {FILLER}"}) + "\n" for i in range(2000))
    data = gzip.compress(lines.encode())
    path.write_bytes(data[: len(data) // 2])
    return path


def warned(warnings: list[str], *parts: str) -> str:
    return "yes" if any(all(part in w for part in parts) for w in warnings) else "NO"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=50, help="size of the one-paragraph file")
    parser.add_argument("--part", choices=("corpus", "documents"), help="run only this part")
    args = parser.parse_args()
    if args.part != "documents":
        corpus_part(args.size_mb)
    if args.part != "corpus":
        asyncio.run(documents_part())


def corpus_part(size_mb: int) -> None:
    """The hostile corpus: its table, then the warnings it gave."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        corpus_path = build(folder, size_mb)

        started = time.perf_counter()
        corpus = CorpusSource(corpus_path).load()
        load_s = time.perf_counter() - started
        huge = next(d for d in corpus.documents if d.file == "enorme.txt")
        started = time.perf_counter()
        huge_passages = passages_with_sentences(list(huge.paragraphs), 0)
        split_s = time.perf_counter() - started
        started = time.perf_counter()
        engine = Engine.build(corpus)
        index_s = time.perf_counter() - started
        started = time.perf_counter()
        answer = engine.answer(QUESTION)
        answer_ms = (time.perf_counter() - started) * 1000
        leak = engine.answer("Quel est le DISCORD_TOKEN ?")
        docs = {d.doc_id: d for d in corpus.documents}
        w = corpus.warnings
        rows = [
            (
                "link to a file outside",
                warned(w, "fuite.txt ignoré", "hors du dossier"),
                "secret neither loaded nor quoted"
                if SECRET not in answer_text(leak) and all(SECRET not in d.text for d in corpus.documents)
                else "SECRET LEAKED",
            ),
            (
                "link to /etc/passwd",
                warned(w, "passwd.txt ignoré", "/etc/passwd"),
                f"{len(docs)} documents loaded: {', '.join(sorted(docs))}",
            ),
            (
                f"{size_mb} MB in one paragraph",
                warned(w, "enorme.txt", "sans analyse des phrases"),
                f"load {load_s:.1f} s, split {split_s:.1f} s ({len(huge_passages)} passages), index {index_s:.1f} s",
            ),
            (
                "1 MB of unclosed Markdown links",
                warned(w, "crochets.md", "sans analyse des phrases"),
                f"loaded as {docs['crochets'].title!r}, {len(docs['crochets'].text)} characters",
            ),
            (
                "javascript: link",
                warned(w, "2019/article.txt : lien", "javascript:"),
                f"url kept: {docs['2019/article.txt'].url}",
            ),
            (
                "entry for a missing file",
                warned(w, "« disparu.txt »", "aucun fichier"),
                f"url of 2020/article.txt: {docs['2020/article.txt'].url}",
            ),
            (
                "article.txt in 2019/ and 2020/",
                "-",
                f"ids {sorted(d for d in docs if 'article' in d)}, titles "
                f"{docs['2019/article.txt'].title!r} / {docs['2020/article.txt'].title!r}",
            ),
            (
                "question on 2020/article.txt",
                "-",
                f"{'answered' if answer.found and ANSWER in answer_text(answer) else 'NOT ANSWERED'} from "
                f"{answer.sources[0].doc_id if answer.sources else '-'} in {answer_ms:.0f} ms",
            ),
        ]
        try:
            CorpusSource(truncated_gzip(folder)).load()
            rows.append(("truncated .jsonl.gz", "NO", "loaded?!"))
        except CorpusError as exc:
            rows.append(("truncated .jsonl.gz", "CorpusError", str(exc).replace(str(folder), "…")))

        env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
        env["PYTHONPATH"] = str(REPO_ROOT)
        started = time.perf_counter()
        cli = subprocess.run(
            [sys.executable, "-m", "bot", "ask", QUESTION, "--corpus", str(corpus_path), "--no-log"],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        cli_s = time.perf_counter() - started
        shown = [line for line in cli.stderr.splitlines() if line.startswith("Avertissement")]
        rows.append(
            (
                "python -m bot ask",
                f"{len(shown)} lines",
                f"exit {cli.returncode}, {'answered' if ANSWER in cli.stdout else 'NOT ANSWERED'}, {cli_s:.1f} s",
            )
        )

    print_table(("case", "warned", "outcome"), rows)
    print("\nWarnings of the corpus:")
    for message in w:
        print(f"  {message}")


# -- files a moderator adds --

OTHER_SERVER = 999
OTHER_QUESTION = "De combien le trafic d'AliExpress a-t-il augmenté en Italie ?"
OUTCOMES = (
    ("trop de temps à lire", "stopped at the budget"),
    ("répètent un même contenu", "refused: pages share one stream"),
    ("cellules de tableau", "refused: too many table cells"),
    ("ajouts de documents", "told to wait (adds in flight)"),
    ("le bot lit déjà", "told to wait (parses at once)"),
    ("document ajouté", "added"),
)


async def documents_part() -> None:
    """Hostile files added through the Discord command, one by one then ten at once; another server's answers
    are timed meanwhile."""
    from bot.chat.exts.admin import Admin
    from bot.config import Settings
    from tests.chat.test_admin_documents import attachment
    from tests.helpers import make_bot, make_interaction, make_member, sent_kwargs

    settings = Settings()
    files = {
        "1,000 pages, one 1 MB stream": ("partage.pdf", shared_stream_pdf(1000, 1_000_000)),
        "1,000 pages of 100 kB each": ("lent.pdf", slow_pdf(1000)),
        "480,000 table cells": ("tableau.html", table_html(480_000, columns=40, cell="7")),
    }
    bombs = list(files.values())
    groups = [(case, [(1, 1, *file)]) for case, file in files.items()]
    groups.append(("ten files, one moderator", [(2, 2, f"{n}-{bombs[n % 3][0]}", bombs[n % 3][1]) for n in range(10)]))
    groups.append(("ten files, ten servers", [(10 + n, 10 + n, f"{n}-lent.pdf", bombs[1][1]) for n in range(10)]))
    with tempfile.TemporaryDirectory() as tmp:
        storage = await Storage.open(Path(tmp) / "bot.sqlite3")
        try:
            cog = Admin(make_bot(storage, Engine.from_path(REPO_ROOT / "seeds"), settings=settings))

            async def add(guild_id: int, user_id: int, name: str, data: bytes) -> str:
                interaction = make_interaction(cog.bot, guild_id=guild_id, user=make_member(user_id), manage_guild=True)
                await cog.documents_ajouter.callback(cog, interaction, attachment(name, data), None)
                return sent_kwargs(interaction.followup.send)["content"]

            rows = []
            for case, adds in groups:
                started = time.perf_counter()
                tasks = [asyncio.create_task(add(*args)) for args in adds]
                delays = await answers_meanwhile(cog.bot, tasks)
                seconds = time.perf_counter() - started
                size = sum(len(args[3]) for args in adds)
                rows.append(
                    (
                        case,
                        f"{size / 1e6:.2f} MB",
                        f"{seconds:.1f} s",
                        outcomes(t.result() for t in tasks),
                        latency(delays),
                    )
                )
        finally:
            await storage.close()
    print(f"\nFiles added through /admin documents ajouter (budget {settings.documents_parse_seconds:g} s a parse):")
    print_table(("files", "size", "took", "outcome", "answers on another server"), rows)
    print(f"child processes left: {len(parse_pids())}")


async def answers_meanwhile(bot: QABot, tasks: list[asyncio.Task[str]]) -> list[float]:
    """Ask another server's question again and again until the adds are done; the time of each answer."""
    delays = []
    while not all(task.done() for task in tasks):
        started = time.perf_counter()
        await bot.answer(OTHER_QUESTION, OTHER_SERVER)
        delays.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)
    return delays


def outcomes(replies: Iterable[str]) -> str:
    """How many replies said what, e.g. "2 stopped at the budget, 8 told to wait (adds in flight)"."""
    counts = Counter(next((label for part, label in OUTCOMES if part in text), text[:60]) for text in replies)
    return ", ".join(f"{count} {label}" for label, count in counts.items())


def latency(delays: list[float]) -> str:
    """p50, p95 and max of answer times, in milliseconds."""
    ordered = sorted(delays)
    p50, p95 = (percentile_nearest_rank(ordered, pct) * 1000 for pct in (50, 95))
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {ordered[-1] * 1000:.0f} ms ({len(ordered)} answers)"


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Columns padded to their widest cell, the last one left free."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(f"{cell:<{width}}" for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])


if __name__ == "__main__":
    main()
