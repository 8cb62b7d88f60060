"""Uploaded files made into Documents, and every refusal: French, naming the file, nothing half-returned."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pypdf
import pytest

from bot.ingest import formats
from bot.ingest.errors import IngestError
from bot.ingest.files import documents_from_file
from tests.ingest.bombs import shared_stream_pdf, table_html

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"


def parse(name: str, **kwargs: int) -> list:
    return documents_from_file(name, (DATA / name).read_bytes(), **kwargs)


def refusal(name: str, data: bytes | None = None) -> str:
    with pytest.raises(IngestError) as info:
        documents_from_file(name, (DATA / name).read_bytes() if data is None else data)
    message = str(info.value)
    assert message.startswith(Path(name).name)  # every refusal names the file first
    return message


def test_html_article_text_and_metadata() -> None:
    [document] = parse("article.html")
    assert document.doc_id == "article"
    assert document.file == "article.html"
    assert document.title == "La médiathèque de Villeneuve ouvre le dimanche"
    assert document.publisher == "Le Courrier du Val"
    assert document.published == "2024-02-12"
    assert document.url == "https://courrier-du-val.example/culture/mediatheque-dimanche"
    assert document.paragraphs[0].startswith("Dès le 1er mars, la médiathèque municipale")
    assert "35 000 euros" in document.text
    # Navigation, reader comments and the footer are not the article.
    for debris in ("S'abonner", "Enfin ! Merci", "parking", "Mentions légales"):
        assert debris not in document.text


def test_pdf_text_of_every_page_and_metadata_title() -> None:
    [document] = parse("rapport.pdf")
    assert document.doc_id == "rapport"
    assert document.title == "Rapport annuel 2023 des bibliothèques"
    assert "184 000 visiteurs" in document.text  # page 1
    assert "une ludothèque" in document.text  # page 2
    # Lines the PDF wrapped are joined back into their paragraph.
    assert any(p.endswith("plus vite que tous les autres.") and p.startswith("En 2023") for p in document.paragraphs)


def test_text_file_first_line_is_the_title() -> None:
    [document] = parse("horaires.txt")
    assert document.title == "Horaires de la piscine municipale"
    assert document.paragraphs[0].startswith("La piscine municipale est ouverte du mardi au samedi")
    assert len(document.paragraphs) == 2  # the hard-wrapped lines are joined


def test_markdown_heading_is_the_title_and_markup_goes() -> None:
    [document] = parse("guide.md")
    assert document.title == "Guide du tri des déchets"
    assert "Les emballages en plastique, les briques" in document.text
    assert "Consultez la carte des conteneurs pour" in document.text
    assert not any(mark in document.text for mark in ("**", "#", "](", "https://"))


def test_jsonl_gives_several_documents_with_their_metadata() -> None:
    first, second = parse("articles.jsonl")
    assert first.doc_id == "conseil-2024-03"
    assert (first.title, first.url, first.published, first.publisher) == (
        "Budget primitif adopté",
        "https://villeneuve.example/conseil/2024-03",
        "2024-03-15",
        "Mairie de Villeneuve",
    )
    assert second.doc_id == "42"  # a numeric id, as in the corpus format
    assert second.title is None and second.url is None
    assert {first.file, second.file} == {"articles.jsonl"}


def test_a_path_is_reduced_to_the_file_name() -> None:
    [document] = documents_from_file("../../etc/horaires.txt", (DATA / "horaires.txt").read_bytes())
    assert document.file == "horaires.txt" and document.doc_id == "horaires"


def test_utf8_bom_is_accepted() -> None:
    [document] = documents_from_file("horaires.txt", b"\xef\xbb\xbf" + (DATA / "horaires.txt").read_bytes())
    assert document.title == "Horaires de la piscine municipale"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("casse.pdf", "le PDF est endommagé ou illisible"),
        ("scan.pdf", "ne contient pas de texte (des pages scannées ?)"),
        ("pas-un-pdf.pdf", "ce n'est pas un PDF"),
        ("image.html", "le contenu est binaire"),
        ("latin1.txt", "ligne 1 : le texte n'est pas encodé en UTF-8"),
        ("empty.html", "aucun texte d'article"),
        ("bad-record.jsonl", "ligne 2 : les champs « id » et « text » (texte) sont obligatoires"),
    ],
)
def test_fixture_refusals(name: str, expected: str) -> None:
    assert expected in refusal(name)


def test_pdf_under_a_text_extension_is_named() -> None:
    message = refusal("rapport.txt", (DATA / "rapport.pdf").read_bytes())
    assert "c'est un PDF" in message and ".pdf" in message


def test_unknown_extension_lists_accepted_ones() -> None:
    message = refusal("tableau.docx", b"PK\x03\x04")
    assert "non pris en charge" in message and ".pdf" in message and ".jsonl" in message


@pytest.mark.parametrize("data", [b"", b" \n\t\n"])
def test_empty_file(data: bytes) -> None:
    assert "le fichier est vide" in refusal("vide.txt", data)


def test_file_over_the_size_limit_is_refused_before_parsing() -> None:
    data = (DATA / "rapport.pdf").read_bytes()
    with pytest.raises(IngestError, match=r"rapport\.pdf : le fichier fait 2 ko, au-delà de la limite de 1 ko"):
        documents_from_file("rapport.pdf", data, max_bytes=1024)
    assert documents_from_file("rapport.pdf", data, max_bytes=len(data))  # exactly at the limit is fine


def test_text_that_cleaning_empties_is_refused() -> None:
    assert "aucun texte utilisable" in refusal("menu.txt", b"Partager\nImprimer\n")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (['{"id": "a", "text": "Un texte assez long pour rester après nettoyage."}', "{pas du json"], "ligne 2 : JSON"),
        (['["a", "b"]'], "ligne 1 : un objet JSON"),
        (['{"id": "a", "text": 3}'], "ligne 1 : les champs « id » et « text »"),
        (['{"id": "", "text": "Un texte."}'], "ligne 1 : les champs « id » et « text »"),
        (
            ['{"id": "a", "text": "Premier texte du fichier."}', '{"id": "a", "text": "Second texte."}'],
            "ligne 2 : l'identifiant « a » est déjà utilisé",
        ),
        (['{"id": "a", "text": "Un texte.", "title": {"x": 1}}'], "ligne 1 : le champ « title » doit être un texte"),
        (['{"id": {"x": 1}, "text": "Un texte."}'], "ligne 1 : l'identifiant « id » doit être un texte ou un nombre"),
        (['{"id": ["a"], "text": "Un texte."}'], "ligne 1 : l'identifiant « id » doit être un texte ou un nombre"),
        (['{"id": "a", "text": "Partager"}'], "ligne 1 : le texte de « a » est vide une fois nettoyé"),
    ],
)
def test_jsonl_refusals_name_the_line(lines: list[str], expected: str) -> None:
    assert expected in refusal("lot.jsonl", "\n".join(lines).encode())


def test_jsonl_links_follow_the_corpus_rule() -> None:
    lines = [
        {"id": "a", "text": "Un texte assez long pour rester après nettoyage.", "url": "javascript:alert(1)"},
        {"id": "b", "text": "Un autre texte assez long pour rester.", "url": " https://mairie.example/b "},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    first, second = documents_from_file("lot.jsonl", data)
    assert (first.url, second.url) == (None, "https://mairie.example/b")


def test_jsonl_with_one_bad_line_returns_nothing() -> None:
    good = (DATA / "articles.jsonl").read_bytes()
    with pytest.raises(IngestError, match="ligne 4"):
        documents_from_file("lot.jsonl", good + b'{"id": "x"}\n')


def test_jsonl_in_latin1_is_refused() -> None:
    data = '{"id": "a", "text": "Les élèves déjeunent à la cantine."}\n'.encode("latin-1")
    assert "n'est pas encodé en UTF-8" in refusal("lot.jsonl", data)


def test_encrypted_pdf_is_refused() -> None:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(DATA / "rapport.pdf"))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    buffer = BytesIO()
    writer.write(buffer)
    assert "protégé par un mot de passe" in refusal("rapport.pdf", buffer.getvalue())


def test_pdf_over_the_page_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "MAX_PDF_PAGES", 1)  # rapport.pdf has two pages
    assert "le PDF a plus de 1 pages" in refusal("rapport.pdf")


def test_pdf_pages_sharing_one_large_stream_are_refused_before_parsing() -> None:
    bomb = shared_stream_pdf(300, 20_000)  # 49 kB on disk, 6 MB of drawing to read
    assert refusal("piege.pdf", bomb) == (
        "piege.pdf : les pages du PDF répètent un même contenu (5,7 Mo à lire au total) : il est peut-être piégé. "
        "Réexportez-le depuis son logiciel d'origine puis réessayez."
    )


def test_pdf_pages_with_their_own_content_or_a_small_shared_one_are_read() -> None:
    for data in (shared_stream_pdf(12, 20_000, distinct=12), shared_stream_pdf(3, 20_000)):
        [document] = documents_from_file("pages.pdf", data)
        assert "Les pages disent toutes la meme chose" in document.text


def test_html_table_over_the_cell_cap_is_refused_before_parsing() -> None:
    assert refusal("tableau.html", table_html(60_000)) == (
        f"tableau.html : la page a 60000 cellules de tableau, au-delà de {formats.MAX_TABLE_CELLS} : elle est trop "
        "longue à lire. Découpez ses tableaux ou donnez-les en texte brut."
    )
    [document] = documents_from_file("tableau.html", table_html(800))
    assert "cellule" in document.text


def test_html_in_the_charset_it_declares() -> None:
    page = (DATA / "article.html").read_text(encoding="utf-8").replace('charset="utf-8"', 'charset="windows-1252"')
    [document] = documents_from_file("article.html", page.encode("cp1252"))
    assert document.title == "La médiathèque de Villeneuve ouvre le dimanche"
    assert "subvention de l'État" in document.text
