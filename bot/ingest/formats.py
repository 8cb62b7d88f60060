"""Parsers from the bytes of one document to a `Document`: plain text, Markdown, HTML (trafilatura), PDF (pypdf).

Shared by uploaded files and fetched pages. Each takes the name to show in messages (a file name or an address)
and raises `IngestError` naming it when the bytes are not what they claim to be or hold no text.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
from collections import Counter

import pypdf
import trafilatura
from pypdf.generic import ArrayObject, IndirectObject

from bot.ingest.errors import IngestError
from bot.ingest.limits import french_size
from bot.search.corpus import Document, make_document
from bot.search.markdown import strip_markdown
from bot.search.urls import is_web_url

PDF_MAGIC = b"%PDF-"
MAX_PDF_PAGES = 1000  # reading text costs about 2 ms a page; a small file can declare thousands
MAX_SHARED_CONTENT_BYTES = 4 * 1024 * 1024  # content read again and again by pages sharing it (about 1 µs a byte)
MAX_TABLE_CELLS = 20_000  # trafilatura's tables take more than linear time: 40,000 cells, 4 s
_TABLE_CELL = re.compile(rb"<t[dh][\s/>]", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SNIFF_BYTES = 2048  # where an HTML page declares its encoding, if it does
_NO_TEXT = "n'en reste aucun texte utilisable (vide, ou seulement des titres et des mentions légales)"

logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged PDFs are reported to the moderator, not logged


def decode_text(name: str, data: bytes, charset: str | None = None) -> str:
    """Text bytes as a string, in `charset` when one is declared, else UTF-8; binary content is refused."""
    if data.lstrip().startswith(PDF_MAGIC):
        raise IngestError(f"{name} : c'est un PDF, pas du texte. Donnez-le avec l'extension .pdf.")
    if b"\0" in data:
        raise IngestError(f"{name} : le contenu est binaire (une image, une archive ?), pas du texte.")
    codec = _codec(charset) or "utf-8-sig"
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        if codec == "utf-8-sig":
            raise IngestError(
                f"{name}, ligne {line} : le texte n'est pas encodé en UTF-8. Réenregistrez-le en UTF-8."
            ) from None
        raise IngestError(f"{name}, ligne {line} : le texte ne suit pas l'encodage {charset} qu'il annonce.") from None


def _codec(charset: str | None) -> str | None:
    """The Python codec for a declared charset; None when absent or unknown (then UTF-8 is assumed)."""
    if not charset:
        return None
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return None
    return "utf-8-sig" if name == "utf-8" else name


def text_document(
    name: str,
    data: bytes,
    doc_id: str,
    *,
    markdown: bool = False,
    charset: str | None = None,
    url: str | None = None,
    file: str | None = None,
) -> Document:
    """A plain-text or Markdown document; a short first line without final punctuation becomes its title (in
    Markdown, the first `# heading`)."""
    text = decode_text(name, data, charset)
    title = None
    if markdown:
        text, title = strip_markdown(text)
    document = make_document(doc_id, text, title=title, url=url, file=file, guess=True)
    if document is None:
        raise IngestError(f"{name} : {_NO_TEXT}.")
    return document


def html_document(
    name: str, data: bytes, doc_id: str, *, charset: str | None = None, url: str | None = None, file: str | None = None
) -> Document:
    """An HTML page's main text and metadata, read by trafilatura: the article without navigation or reader
    comments; title, site name and publication date from the page. `url`, when given, is where the page was fetched
    and wins over the address the page claims for itself."""
    cells = len(_TABLE_CELL.findall(data))
    if cells > MAX_TABLE_CELLS:
        raise IngestError(
            f"{name} : la page a {cells} cellules de tableau, au-delà de {MAX_TABLE_CELLS} : elle est trop longue "
            "à lire. Découpez ses tableaux ou donnez-les en texte brut."
        )
    declared = charset or _declared_charset(data)
    html = decode_text(name, data, declared)
    extracted = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=True,  # a page with no article gives nothing rather than its menu
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if extracted is None or not (extracted.text or "").strip():
        raise IngestError(f"{name} : aucun texte d'article n'a été trouvé dans cette page.")
    page_url = url or (extracted.url if extracted.url and is_web_url(extracted.url) else None)
    document = make_document(
        doc_id,
        extracted.text,
        title=extracted.title or None,
        url=page_url,
        published=extracted.date or None,
        publisher=extracted.sitename or None,
        file=file,
    )
    if document is None:
        raise IngestError(f"{name} : {_NO_TEXT}.")
    return document


def _declared_charset(data: bytes) -> str | None:
    """The encoding a page declares in a `<meta>` tag near its start, if any."""
    match = _META_CHARSET.search(data[:_SNIFF_BYTES])
    return match.group(1).decode("ascii") if match else None


def _unlocked(reader: pypdf.PdfReader) -> bool:
    """Whether an encrypted PDF opens without a password (it is only protected against editing)."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # an encryption pypdf cannot undo without optional packages: as good as locked
        return False


def _shared_content_bytes(reader: pypdf.PdfReader) -> int:
    """The bytes pages would read from content streams they share with other pages, each time they read them:
    a small file can make a thousand pages draw the same megabyte. Only shared streams are decoded."""
    readers: Counter[int] = Counter()
    for page in reader.pages:
        contents = page.raw_get("/Contents") if "/Contents" in page else None
        for item in contents if isinstance(contents, ArrayObject) else [contents]:
            if isinstance(item, IndirectObject):
                readers[item.idnum] += 1
    shared = [(idnum, count) for idnum, count in readers.items() if count > 1]
    return sum(len(reader.get_object(idnum).get_data()) * count for idnum, count in shared)


def pdf_document(name: str, data: bytes, doc_id: str, *, url: str | None = None, file: str | None = None) -> Document:
    """A PDF's text, page after page, read by pypdf; its title from the PDF's metadata when it has one.

    A PDF of scanned pages has no text to read: it is refused with a hint rather than added empty.
    """
    if not data[:1024].lstrip().startswith(PDF_MAGIC):
        raise IngestError(f"{name} : ce n'est pas un PDF (le contenu ne commence pas par « %PDF »).")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and not _unlocked(reader)
        too_long = not locked and len(reader.pages) > MAX_PDF_PAGES
        repeated = 0 if locked or too_long else _shared_content_bytes(reader)
        refused = locked or too_long or repeated > MAX_SHARED_CONTENT_BYTES
        pages = [] if refused else [page.extract_text() or "" for page in reader.pages]
        title = "" if locked or reader.metadata is None else (reader.metadata.title or "").strip()
    except Exception:  # a damaged PDF can fail pypdf in many ways; all of them mean "unreadable"
        raise IngestError(f"{name} : le PDF est endommagé ou illisible. Réexportez-le puis réessayez.") from None
    if too_long:
        raise IngestError(f"{name} : le PDF a plus de {MAX_PDF_PAGES} pages. Découpez-le en plusieurs fichiers.")
    if locked:
        raise IngestError(f"{name} : le PDF est protégé par un mot de passe. Donnez-en une version sans protection.")
    if repeated > MAX_SHARED_CONTENT_BYTES:
        raise IngestError(
            f"{name} : les pages du PDF répètent un même contenu ({french_size(repeated)} à lire au total) : "
            "il est peut-être piégé. Réexportez-le depuis son logiciel d'origine puis réessayez."
        )
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise IngestError(
            f"{name} : le PDF ne contient pas de texte (des pages scannées ?). "
            "Donnez-en une version avec du texte sélectionnable."
        )
    document = make_document(doc_id, text, title=title or None, url=url, file=file, guess=not title)
    if document is None:
        raise IngestError(f"{name} : {_NO_TEXT}.")
    return document
