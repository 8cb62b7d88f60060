"""The bot's corpus read through `bot.ingest`: a folder's .html and .pdf files read as a server's documents are,
JSON Lines records whose text and title fields are named, and a fingerprint that follows both."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.app import INDEX_OPTIONS
from bot.cli import main
from bot.ingest.corpus import CorpusSource
from bot.ingest.files import documents_from_file
from bot.ingest.limits import DocumentLimits
from bot.search.corpus import CorpusError
from bot.search.engine import Engine
from bot.search.index_file import open_index
from bot.search.loader import load_corpus

DATA = Path(__file__).resolve().parent.parent / "data" / "ingest"
TEXT = "Le marché couvert de Villeneuve ouvre le samedi matin. Il accueille quarante producteurs."
ORANGESUM = [
    {
        "id": "os-1",
        "titre": "Un phare repeint en Bretagne",
        "article": "Le phare de Kerbrat a été repeint en rouge et blanc. Les travaux ont duré onze semaines.",
        "summary": "Un phare breton a changé de couleurs.",
    },
    {
        "id": "os-2",
        "titre": "Une fromagerie primée",
        "article": "La fromagerie de Saint-Aubin a reçu une médaille d'or pour son comté affiné vingt mois.",
        "summary": "Une médaille pour un comté.",
    },
]


def _folder(tmp_path: Path, *fixtures: str) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "marche.txt").write_text(TEXT, encoding="utf-8")
    for name in fixtures:
        shutil.copy(DATA / name, folder / name)
    return folder


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_a_corpus_folder_reads_html_and_pdf_as_server_documents_are(tmp_path: Path) -> None:
    corpus = CorpusSource(_folder(tmp_path, "article.html", "rapport.pdf")).load()
    docs = {document.doc_id: document for document in corpus.documents}
    assert sorted(docs) == ["article", "marche", "rapport"]
    for name in ("article.html", "rapport.pdf"):
        [uploaded] = documents_from_file(name, (DATA / name).read_bytes())
        assert docs[uploaded.doc_id] == uploaded  # same text, title, date, site, file name
    assert docs["article"].publisher == "Le Courrier du Val" and docs["rapport"].file == "rapport.pdf"
    answer = Engine.build(corpus).answer("Combien de visiteurs les bibliothèques ont-elles reçus en 2023 ?")
    assert answer.found and answer.sources[0].doc_id == "rapport"


def test_the_engine_layer_alone_reads_only_text_files(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "article.html", "rapport.pdf")
    assert [document.doc_id for document in load_corpus(folder).documents] == ["marche"]
    assert load_corpus(folder).fingerprint != CorpusSource(folder).fingerprint()


def test_sources_toml_names_html_and_pdf_files_too(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "article.html", "rapport.pdf")
    (folder / "sources.toml").write_text(
        '[[document]]\nfile = "rapport.pdf"\ntitle = "Bilan des bibliothèques"\nurl = "https://mairie.example/bilan"\n'
        '[[document]]\nfile = "article.html"\nurl = "javascript:alert(1)"\n',
        encoding="utf-8",
    )
    corpus = CorpusSource(folder).load()
    docs = {document.doc_id: document for document in corpus.documents}
    assert (docs["rapport"].title, docs["rapport"].url) == ("Bilan des bibliothèques", "https://mairie.example/bilan")
    assert docs["article"].url == "https://courrier-du-val.example/culture/mediatheque-dimanche"  # the page's own
    assert docs["article"].title == "La médiathèque de Villeneuve ouvre le dimanche"
    assert any("article.html : lien « javascript:alert(1) » ignoré" in warning for warning in corpus.warnings)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("scan.pdf", "le PDF ne contient pas de texte"),
        ("casse.pdf", "le PDF est endommagé ou illisible"),
        ("empty.html", "aucun texte d'article"),
        ("image.html", "le contenu est binaire"),
    ],
)
def test_an_unreadable_html_or_pdf_is_left_out_with_a_french_warning(tmp_path: Path, name: str, reason: str) -> None:
    corpus = CorpusSource(_folder(tmp_path, name)).load()
    assert [document.doc_id for document in corpus.documents] == ["marche"]
    [warning] = corpus.warnings
    assert warning.startswith(f"{name} : ") and reason in warning and warning.endswith("laissé de côté.")


def test_a_corpus_file_over_the_server_document_limit_is_left_out(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    page = "<html><body><article><p>" + "Un paragraphe. " * (DocumentLimits.max_file_bytes // 15) + "</p></article>"
    (folder / "enorme.html").write_text(page, encoding="utf-8")
    corpus = CorpusSource(folder).load()
    assert [document.doc_id for document in corpus.documents] == ["marche"]
    assert (
        "enorme.html : le fichier fait" in corpus.warnings[0] and "au-delà de la limite de 5 Mo" in corpus.warnings[0]
    )


def test_a_link_out_of_the_folder_is_not_read_whatever_its_format(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "fuite.pdf").symlink_to(DATA / "rapport.pdf")
    corpus = CorpusSource(folder).load()
    assert [document.doc_id for document in corpus.documents] == ["marche"]
    assert corpus.warnings == [
        f"fuite.pdf ignoré : lien symbolique vers {DATA / 'rapport.pdf'}, hors du dossier du corpus."
    ]


def test_a_jsonl_corpus_names_its_text_and_title_fields(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "orangesum.jsonl", ORANGESUM)
    corpus = CorpusSource(path, text_field="article", title_field="titre").load()
    first, second = corpus.documents
    assert (first.doc_id, first.title) == ("os-1", "Un phare repeint en Bretagne")
    assert "onze semaines" in first.text and "changé de couleurs" not in first.text  # the summary is not the text
    assert second.title == "Une fromagerie primée"
    with pytest.raises(CorpusError, match=r"orangesum\.jsonl, ligne 1 : les champs « id » et « text »"):
        CorpusSource(path).load()


def test_the_fingerprint_changes_with_the_field_names(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "orangesum.jsonl", ORANGESUM)
    prints = {
        CorpusSource(path).fingerprint(),
        CorpusSource(path, text_field="article").fingerprint(),
        CorpusSource(path, text_field="article", title_field="titre").fingerprint(),
    }
    assert len(prints) == 3
    loaded = CorpusSource(path, text_field="article", title_field="titre").load()
    assert loaded.fingerprint == CorpusSource(path, text_field="article", title_field="titre").fingerprint()


def test_a_saved_index_is_not_reused_for_other_field_names(tmp_path: Path) -> None:
    records = [{**record, "summary_text": record["summary"]} for record in ORANGESUM]
    path = _jsonl(tmp_path / "orangesum.jsonl", records)
    folder = tmp_path / "index"
    articles, _ = open_index(CorpusSource(path, text_field="article"), INDEX_OPTIONS, folder, must_save=True)
    summaries, _ = open_index(CorpusSource(path, text_field="summary_text"), INDEX_OPTIONS, folder, must_save=True)
    assert "onze semaines" in articles.documents[0].text
    assert summaries.documents[0].text == "Un phare breton a changé de couleurs."


def test_ask_answers_from_an_orangesum_file_with_text_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _jsonl(tmp_path / "orangesum.jsonl", ORANGESUM)
    question = "Combien de semaines ont duré les travaux du phare de Kerbrat ?"
    args = ["ask", "--json", "--no-log", "--corpus", str(path), "--database", str(tmp_path / "log.sqlite3")]
    assert main([*args, "--text-field", "article", "--title-field", "titre", question]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["found"] and "onze semaines" in answer["answer"]
    assert answer["sources"][0]["doc_id"] == "os-1" and answer["sources"][0]["title"] == "Un phare repeint en Bretagne"
    assert main([*args, question]) == 2  # without the option, the records have no « text »
    assert "les champs « id » et « text »" in capsys.readouterr().err
