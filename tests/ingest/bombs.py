"""Files built to make a parser work for a long time while staying small, for the tests and `bench/hostile.py`, and
how to see the processes a parse leaves behind."""

from __future__ import annotations

import io
import os
import zlib
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, StreamObject

_TEXT_LINE = b"BT /F1 12 Tf 72 720 Td (Les pages disent toutes la meme chose) Tj ET\n"


def shared_stream_pdf(pages: int, stream_bytes: int, *, distinct: int = 1) -> bytes:
    """A PDF of `pages` pages whose text is drawn by `distinct` content streams of `stream_bytes` each (compressed,
    so the file stays small), every page pointing to one of them."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    streams = []
    for number in range(distinct):
        stream = StreamObject()
        stream._data = zlib.compress(f"% {number}\n".encode() + _TEXT_LINE * (stream_bytes // len(_TEXT_LINE)))
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
        streams.append(writer._add_object(stream))
    for number in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Contents")] = streams[number % distinct]
        page[NameObject("/Resources")] = resources
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def table_html(cells: int, *, columns: int = 8, cell: str = "cellule") -> bytes:
    """An HTML article holding one table of `cells` cells, each holding `cell`."""
    row = "<tr>" + f"<td>{cell}</td>" * columns + "</tr>\n"
    rows = row * (cells // columns)
    return (
        "<html><head><title>Tableau</title></head><body><article><h1>Un très grand tableau</h1>"
        "<p>Ce tableau recense les ventes de théières du Yunnan, marché par marché, depuis dix ans.</p>"
        f"<table>{rows}</table></article></body></html>"
    ).encode()


def slow_pdf(pages: int = 200) -> bytes:
    """A PDF whose pages each draw their own 100 kB of text: no page shares anything, but reading it takes about
    a second every ten pages (40 kB in the file)."""
    return shared_stream_pdf(pages, 100_000, distinct=pages)


def parse_pids(parent: int | None = None) -> list[int]:
    """The parse processes (`python -m bot.ingest.sandbox`) whose parent is `parent` (this process by default), read
    from /proc (a zombie, ended but not reaped, has no command line left and does not show)."""
    parent = os.getpid() if parent is None else parent
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):  # the process ended while it was read
            continue
        if int(fields[1]) == parent and b"bot.ingest.sandbox" in command:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether `pid` is a process that still runs (a zombie has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
