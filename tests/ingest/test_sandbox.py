"""Parsing in a child process: the time budget, the memory limit, the cap on parses at once, and no process left
behind, whether the parse ends, is stopped at shutdown or outlives the bot."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from bot.ingest import sandbox
from bot.ingest.errors import IngestError
from bot.ingest.limits import DocumentLimits
from tests.ingest.bombs import alive, parse_pids, slow_pdf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARKET = "Le marché aux plantes de Montbrison réunit quarante exposants le 14 mai sur la place Bouvier.\n"


async def until_running(count: int) -> None:
    """Wait until `count` children are parsing (each has loaded its parsers once it runs a while)."""
    async with asyncio.timeout(sandbox.STARTUP_SECONDS):
        while sandbox.running() < count:
            await asyncio.sleep(0.02)


async def test_a_file_is_parsed_apart_and_comes_back_whole() -> None:
    (document,) = await sandbox.parse_file("marche.txt", MARKET.encode(), DocumentLimits())
    assert document.doc_id == "marche" and document.file == "marche.txt"
    assert document.paragraphs == (MARKET.strip(),)
    assert parse_pids() == []


async def test_a_refusal_of_the_parser_comes_back_in_french() -> None:
    with pytest.raises(IngestError, match=r"^vide\.txt : le fichier est vide\.$"):
        await sandbox.parse_file("vide.txt", b"   \n", DocumentLimits())


async def test_a_slow_pdf_is_stopped_at_its_budget() -> None:
    started = time.perf_counter()
    with pytest.raises(IngestError) as refused:
        await sandbox.parse_file("lent.pdf", slow_pdf(), DocumentLimits(parse_seconds=1))
    assert str(refused.value) == (
        "lent.pdf : le fichier a pris trop de temps à lire (plus de 1 s) : il est peut-être piégé ou trop complexe. "
        "Simplifiez-le ou découpez-le, puis réessayez."
    )
    assert time.perf_counter() - started < 10  # the parse alone takes about twenty seconds
    assert parse_pids() == []


async def test_a_parse_over_its_memory_limit_is_refused() -> None:
    text = (MARKET * 50_000).encode()  # 4.8 MB: its paragraphs and document take more than the parsers already hold
    with pytest.raises(IngestError, match=r"^gros\.txt : le fichier demande trop de mémoire à lire \(plus de 30 Mo\)"):
        await sandbox.parse_file("gros.txt", text, DocumentLimits(), memory_bytes=30 * 1024 * 1024)
    assert parse_pids() == []


async def test_parses_at_once_are_capped_and_the_event_loop_stays_free() -> None:
    limits = DocumentLimits(parse_seconds=2)
    parses = [
        asyncio.create_task(sandbox.parse_file(f"lent{n}.pdf", slow_pdf(), limits)) for n in range(sandbox.MAX_PARSES)
    ]
    await asyncio.sleep(0)
    with pytest.raises(IngestError, match=rf"^de-trop\.pdf : le bot lit déjà {sandbox.MAX_PARSES} fichiers"):
        await sandbox.parse_file("de-trop.pdf", slow_pdf(), limits)
    delays = []
    while not all(parse.done() for parse in parses):
        started = time.perf_counter()
        await asyncio.sleep(0.01)
        delays.append(time.perf_counter() - started)
    assert max(delays) < 0.5, max(delays)
    for parse in parses:
        with pytest.raises(IngestError, match="a pris trop de temps à lire"):
            parse.result()
    assert parse_pids() == []


async def test_stopping_the_parses_kills_their_children_at_once() -> None:
    parse = asyncio.create_task(sandbox.parse_file("lent.pdf", slow_pdf(), DocumentLimits(parse_seconds=600)))
    await until_running(1)
    assert sandbox.stop_parses() == 1
    async with asyncio.timeout(2):
        with pytest.raises(IngestError, match=r"^lent\.pdf : la lecture du fichier a été interrompue"):
            await parse
    assert parse_pids() == []


def test_a_child_dies_with_the_bot() -> None:
    """A bot killed outright (SIGKILL: no shutdown code runs) takes its parses with it."""
    script = (
        "import asyncio\n"
        "from bot.ingest import sandbox\n"
        "from bot.ingest.limits import DocumentLimits\n"
        "from tests.ingest.bombs import parse_pids, slow_pdf\n"
        "async def main():\n"
        "    limits = DocumentLimits(parse_seconds=600)\n"
        "    parse = asyncio.create_task(sandbox.parse_file('lent.pdf', slow_pdf(), limits))\n"
        "    while not sandbox.running():\n"
        "        await asyncio.sleep(0.02)\n"
        "    print(*parse_pids(), flush=True)\n"
        "    await parse\n"
        "asyncio.run(main())\n"
    )
    bot = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    try:
        (child,) = map(int, bot.stdout.readline().split())
        assert alive(child)
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait()
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


@pytest.mark.parametrize(
    "output", [b"5", b"[1, 2]", b'{"documents": [{"titre": "x"}]}', b'{"documents": 3}', b'{"error": 7}', b"\xff"]
)
def test_a_child_answer_of_the_wrong_shape_is_a_french_refusal(output: bytes) -> None:
    """The child has just parsed a hostile file: whatever it sends back is checked before it is used."""
    with pytest.raises(IngestError, match="interrompue"):
        sandbox._documents(output, "piege.pdf", 1 << 30)


async def test_a_child_the_system_refuses_to_start_is_a_french_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refused(*args: object, **kwargs: object) -> None:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(asyncio, "create_subprocess_exec", refused)
    with pytest.raises(IngestError, match="n'a pas pu lancer la lecture"):
        await sandbox.parse_file("notes.txt", b"Un texte.", DocumentLimits())
    assert sandbox.running() == 0
