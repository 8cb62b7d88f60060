"""Parsing a document in a process of its own, so a file built to be slow or huge costs its budget and nothing else.

Each parse runs in a fresh interpreter (`python -m bot.ingest.sandbox`, nothing inherited from the bot), under a
memory limit and a lower CPU priority, and is killed once it has run `DocumentLimits.parse_seconds`; the threads
that answer questions never run a parser. The child reads its job (pickled by the bot) from stdin, says it is
ready once its libraries are loaded (the budget starts then), and writes its documents back as JSON, never as a
pickle, so nothing a parsed file could influence is unpickled by the bot. A child dies with the bot (parent-death
signal on Linux, a watchdog thread elsewhere), and `stop_parses` kills those still running at shutdown. The child
gets none of the bot's settings from the environment, so a parser subverted by a file finds no secret there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import pickle
import sys
from pathlib import Path

from bot.ingest.errors import IngestError
from bot.ingest.limits import DocumentLimits, french_size
from bot.search.corpus import Document
from bot.search.oserrors import french_os_error
from bot.search.workers import die_with_parent

MEMORY_LIMIT_BYTES = 1 << 30  # address space of one parse
STARTUP_SECONDS = 60.0  # to start the interpreter and load the parsers, before the budget starts
MAX_PARSES = 4  # parses at once in this process, all servers together
MAX_OUTPUT_BYTES = 256 * 1024 * 1024  # the documents a parse sends back, as JSON
NICENESS = 10  # answering questions comes first
_READY = b"R"
_ROOT = str(Path(__file__).resolve().parents[2])  # where the `bot` package is, for the child's imports

_PASSED_VARIABLES = frozenset({"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "VIRTUAL_ENV", "SYSTEMROOT"})

_running: set[asyncio.subprocess.Process] = set()
_reserved = 0  # parses started or starting, for MAX_PARSES


async def parse_file(
    name: str, data: bytes, limits: DocumentLimits, *, memory_bytes: int = MEMORY_LIMIT_BYTES
) -> list[Document]:
    """`bot.ingest.files.documents_from_file` in a child process, within `limits.parse_seconds` and `memory_bytes`.

    Raises `IngestError` (French, naming the file) for what that function refuses, and for a parse that runs out
    of time or memory, crashes, or finds the bot already reading `MAX_PARSES` files."""
    return await _parse(("file", name, data, limits.max_file_bytes), name, limits.parse_seconds, memory_bytes)


async def parse_page(
    shown: str,
    url: str,
    content_type: str,
    charset: str | None,
    body: bytes,
    limits: DocumentLimits,
    *,
    memory_bytes: int = MEMORY_LIMIT_BYTES,
) -> Document:
    """`bot.ingest.web.page_document` of a fetched body in a child process, on the same terms as `parse_file`."""
    job = ("page", shown, url, content_type, charset, body)
    (document,) = await _parse(job, shown, limits.parse_seconds, memory_bytes)
    return document


def running() -> int:
    """How many parses have a child process alive now."""
    return sum(1 for process in _running if process.returncode is None)


def stop_parses() -> int:
    """Kill every child still parsing (at shutdown); their callers get an `IngestError`. Returns how many."""
    alive = [process for process in _running if process.returncode is None]
    for process in alive:
        process.kill()
    return len(alive)


async def _parse(job: tuple[object, ...], name: str, seconds: float, memory_bytes: int) -> list[Document]:
    global _reserved
    if _reserved >= MAX_PARSES:
        raise IngestError(f"{name} : le bot lit déjà {MAX_PARSES} fichiers en ce moment. Réessayez dans une minute.")
    _reserved += 1
    process = None
    try:
        process = await _spawn(name, memory_bytes)
        _running.add(process)
        output = await _exchange(process, pickle.dumps(job), name, seconds)
    finally:
        _reserved -= 1
        if process is not None:
            if process.returncode is None:
                process.kill()
            await process.wait()
            _running.discard(process)
    return _documents(output, name, memory_bytes)


def _child_environment() -> dict[str, str]:
    """What the child needs to start Python and find the `bot` package; no secret (token, database address)."""
    env = {name: value for name, value in os.environ.items() if name in _PASSED_VARIABLES}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (_ROOT, os.environ.get("PYTHONPATH"))))
    return env


async def _exchange(process: asyncio.subprocess.Process, payload: bytes, name: str, seconds: float) -> bytes:
    """Send the job, wait for the child to be ready, then give it `seconds` to answer; its raw answer."""
    assert process.stdin is not None and process.stdout is not None
    try:
        async with asyncio.timeout(STARTUP_SECONDS):
            process.stdin.write(payload)
            await process.stdin.drain()
            process.stdin.close()
            ready = await process.stdout.read(1)
        if ready != _READY:
            return b""
        async with asyncio.timeout(seconds):
            output = bytearray()
            while chunk := await process.stdout.read(1024 * 1024):
                output += chunk
                if len(output) > MAX_OUTPUT_BYTES:
                    return b""
            await process.wait()
    except TimeoutError:
        shown = f"{seconds:g}".replace(".", ",")
        raise IngestError(
            f"{name} : le fichier a pris trop de temps à lire (plus de {shown} s) : "
            "il est peut-être piégé ou trop complexe. Simplifiez-le ou découpez-le, puis réessayez."
        ) from None
    except (BrokenPipeError, ConnectionResetError):  # the child died before it read its job
        return b""
    return bytes(output)


async def _spawn(name: str, memory_bytes: int) -> asyncio.subprocess.Process:
    """Start the child that reads one file; a French IngestError when the system refuses (no memory, no process)."""
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            str(os.getpid()),
            str(memory_bytes),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=_child_environment(),
        )
    except OSError as exc:
        raise IngestError(
            f"{name} : le bot n'a pas pu lancer la lecture du fichier ({french_os_error(exc)})."
        ) from None


def _documents(output: bytes, name: str, memory_bytes: int) -> list[Document]:
    """The documents a child sent back, or the French refusal it sent or its silence means."""
    try:
        result = json.loads(output)
    except ValueError:
        result = {}
    if not isinstance(result, dict):  # the child parsed hostile bytes: trust its shape no more than the file's
        result = {}
    if "documents" in result:
        try:
            return [Document(**{**fields, "paragraphs": tuple(fields["paragraphs"])}) for fields in result["documents"]]
        except (TypeError, KeyError):
            result = {}
    if isinstance(result.get("error"), str):
        raise IngestError(result["error"])
    if result.get("memory"):
        raise IngestError(
            f"{name} : le fichier demande trop de mémoire à lire (plus de {french_size(memory_bytes)}) : "
            "il est peut-être piégé ou trop complexe. Simplifiez-le ou découpez-le, puis réessayez."
        )
    raise IngestError(f"{name} : la lecture du fichier a été interrompue. Réexportez-le puis réessayez.")


# -- the child process --


def _child(parent: int, memory_bytes: int) -> None:
    """Run one job read from stdin and write its outcome to stdout as JSON."""
    import resource

    die_with_parent(parent)
    os.nice(NICENESS)
    kind, *args = pickle.loads(sys.stdin.buffer.read())
    from bot.ingest.files import documents_from_file
    from bot.ingest.web import page_document

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))  # the parsers loaded, the file is next
    out = sys.stdout.buffer
    out.write(_READY)
    out.flush()
    try:
        documents = documents_from_file(*args) if kind == "file" else [page_document(*args)]
        result: dict[str, object] = {"documents": [dataclasses.asdict(document) for document in documents]}
    except IngestError as exc:
        result = {"error": str(exc)}
    except MemoryError:
        result = {"memory": True}
    out.write(json.dumps(result).encode())
    out.flush()


if __name__ == "__main__":
    _child(int(sys.argv[1]), int(sys.argv[2]))
