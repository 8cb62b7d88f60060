"""Loads a hostile corpus and shows the bot still answers, warning about each trap; prints a table.

The corpus, built in a temporary folder: a link to a secret file outside the folder and one to /etc/passwd,
a one-paragraph file of --size-mb megabytes, a Markdown file of 1 MB of unclosed links, a javascript: link
and an entry for a missing file in sources.toml, and two files named article.txt in two subfolders.
A truncated .jsonl.gz is tried apart. The same folder then goes through `python -m bot ask` to show what
the operator sees.

    python bench/hostile.py [--size-mb 50]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bot.ingest.corpus import CorpusSource  # noqa: E402
from bot.search.corpus import CorpusError  # noqa: E402
from bot.search.engine import Engine  # noqa: E402
from bot.search.passages import passages_with_sentences  # noqa: E402
from bot.text.answers import answer_text  # noqa: E402

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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        corpus_path = build(folder, args.size_mb)

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
                f"{args.size_mb} MB in one paragraph",
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

    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'warned':<11}  outcome")
    for case, warn, outcome in rows:
        print(f"{case:<{width}}  {warn:<11}  {outcome}")
    print("\nWarnings of the corpus:")
    for message in w:
        print(f"  {message}")


if __name__ == "__main__":
    main()
