"""Times turning files and web pages into documents: each fixture type, larger inputs, and a local fetch.

Parsing runs the same functions as the bot (`documents_from_file`); fetching goes through `fetch_document` to an
HTTP server on 127.0.0.1 (private addresses allowed), so it measures the client's own cost, not a network's.

    python -m bench.ingest [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import io
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pypdf
from aiohttp import web

from bot.ingest.files import documents_from_file
from bot.ingest.limits import MEGABYTE, DocumentLimits
from bot.ingest.web import fetch_document

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "ingest"
LIMITS = DocumentLimits(max_file_bytes=25 * MEGABYTE)


def inputs() -> list[tuple[str, str, bytes]]:
    """(case, file name, bytes): the fixtures, then larger files made from them."""
    article = (DATA / "article.html").read_bytes()
    body_start = article.index(b"<h2>")
    long_article = (
        article[:body_start]
        + article[body_start : article.index(b"</article>")] * 200
        + article[article.index(b"</article>") :]
    )
    writer = pypdf.PdfWriter()
    for _ in range(100):
        writer.append(pypdf.PdfReader(DATA / "rapport.pdf"))
    pdf = io.BytesIO()
    writer.write(pdf)
    record = json.loads((DATA / "articles.jsonl").read_text(encoding="utf-8").splitlines()[0])
    jsonl = "\n".join(json.dumps(record | {"id": f"r{i}"}, ensure_ascii=False) for i in range(500))
    fixtures = ("horaires.txt", "guide.md", "article.html", "rapport.pdf", "articles.jsonl")
    cases = [(f"fixture {name.rsplit('.', 1)[1]}", name, (DATA / name).read_bytes()) for name in fixtures]
    return [
        *cases,
        ("html, 200 sections", "long.html", long_article),
        ("pdf, 200 pages", "long.pdf", pdf.getvalue()),
        ("jsonl, 500 records", "lot.jsonl", jsonl.encode()),
    ]


def timed(action: Callable[[], object], runs: int) -> list[float]:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        durations.append((time.perf_counter() - started) * 1000)
    return durations


async def fetch_times(runs: int) -> list[tuple[str, int, list[float]]]:
    """Median fetch times of the article page and the PDF from a local server."""
    bodies = {
        "/article": ((DATA / "article.html").read_bytes(), "text/html"),
        "/rapport.pdf": ((DATA / "rapport.pdf").read_bytes(), "application/pdf"),
    }

    async def serve(request: web.Request) -> web.Response:
        body, content_type = bodies[request.path]
        return web.Response(body=body, content_type=content_type)

    app = web.Application()
    for path in bodies:
        app.router.add_get(path, serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    results = []
    try:
        for path, (body, _type) in bodies.items():
            durations = []
            for _ in range(runs):
                started = time.perf_counter()
                await fetch_document(f"http://127.0.0.1:{port}{path}", LIMITS, allow_private_addresses=True)
                durations.append((time.perf_counter() - started) * 1000)
            results.append((f"fetch {path}", len(body), durations))
    finally:
        await runner.cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    rows = []
    for case, name, data in inputs():
        parse = functools.partial(documents_from_file, name, data, LIMITS.max_file_bytes)
        count = len(parse())  # the first run also loads the libraries
        rows.append((case, len(data), count, timed(parse, args.runs)))
    for case, size, durations in asyncio.run(fetch_times(args.runs)):
        rows.append((case, size, 1, durations))

    print(f"{'cas':<22} {'octets':>9} {'docs':>5} {'médiane ms':>11} {'max ms':>8}")
    for case, size, count, durations in rows:
        print(f"{case:<22} {size:>9} {count:>5} {statistics.median(durations):>11.2f} {max(durations):>8.2f}")


if __name__ == "__main__":
    main()
