"""Corpus loading: folders with sources.toml, JSON Lines (plain and gzip), and French errors naming file and line."""

from __future__ import annotations

import errno
import gzip
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.ingest.corpus import CorpusSource
from bot.search import jsonl as jsonl_module
from bot.search.corpus import CorpusError
from bot.search.engine import Engine
from bot.search.loader import corpus_fingerprint, load_corpus
from bot.text.answers import answer_text
from tests.conftest import SEEDS

ARTICLE = "Les théières en argent du Yunnan se vendent en ligne. Su Junping en vend beaucoup."
OTHER = "Le village de Libei vend du tofu de riz. Les ventes ont augmenté de 56,74 % en un an."


def _write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def test_seed_folder_metadata_from_sources_toml() -> None:
    corpus = load_corpus(SEEDS)
    assert len(corpus.documents) == 5
    by_file = {d.file: d for d in corpus.documents}
    assert sorted(by_file) == sorted(p.name for p in SEEDS.glob("*.txt"))
    first = by_file["000_036e6156e28e245c.txt"]
    assert first.doc_id == "000_036e6156e28e245c"
    assert first.title == "La Chine élargit ses efforts pour stimuler la coopération mondiale en commerce électronique"
    assert first.publisher == "Le Quotidien du Peuple en ligne"
    assert first.published == "2025-07-01"
    assert first.url == "http://french.people.com.cn/Economie/n3/2025/0701/c31355-20334739.html"
    tribune = by_file["003_e36b99dc1c08b224.txt"]
    assert (tribune.publisher, tribune.published) == ("La Tribune", "2018-12-28")
    assert tribune.url and tribune.url.startswith("https://www.latribune.fr/")
    # No title in sources.toml and no headline line in the file: no invented title.
    assert by_file["001_24d661fd2205696a.txt"].title is None
    assert corpus.fingerprint and corpus.source == str(SEEDS)


def test_folder_without_sources_toml_guesses_the_headline(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"Les théières du Yunnan\n\n{ARTICLE}\n", encoding="utf-8")
    (tmp_path / "b.md").write_text(f"# Le tofu de Libei\n\n{OTHER}\n", encoding="utf-8")
    corpus = load_corpus(tmp_path)
    docs = {d.doc_id: d for d in corpus.documents}
    assert docs["a"].title == "Les théières du Yunnan"
    assert docs["a"].paragraphs == (ARTICLE,)
    assert docs["b"].title == "Le tofu de Libei"
    assert docs["b"].paragraphs == (OTHER,)
    assert docs["a"].url is docs["a"].published is docs["a"].publisher is None
    assert docs["b"].file == "b.md"


def test_sources_toml_dates_and_strings(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.txt").write_text(OTHER, encoding="utf-8")
    (tmp_path / "sources.toml").write_text(
        '[[document]]\nfile = "a.txt"\ntitle = "Théières"\npublisher = "Éditeur"\n'
        'published = 2020-08-05T10:00:00\nurl = "https://exemple.fr/a"\n\n'
        '[[document]]\nfile = "b.txt"\npublished = "2019"\n',
        encoding="utf-8",
    )
    docs = {d.doc_id: d for d in load_corpus(tmp_path).documents}
    assert docs["a"].published == "2020-08-05"
    assert (docs["a"].title, docs["a"].publisher, docs["a"].url) == ("Théières", "Éditeur", "https://exemple.fr/a")
    assert docs["b"].published == "2019"


def test_jsonl_corpus_requires_only_id_and_text(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "docs.jsonl",
        [
            {"id": 1, "text": ARTICLE},
            {
                "id": "b",
                "title": "Libei",
                "text": OTHER,
                "url": "https://exemple.fr/b",
                "published": "2020-07-30",
                "publisher": "PR Newswire",
                "extra": [1, 2],
            },
        ],
    )
    corpus = load_corpus(path)
    first, second = corpus.documents
    assert first.doc_id == "1" and first.title is None and first.url is None and first.file is None
    assert first.paragraphs == (ARTICLE,)
    assert (second.doc_id, second.title, second.url, second.published, second.publisher) == (
        "b",
        "Libei",
        "https://exemple.fr/b",
        "2020-07-30",
        "PR Newswire",
    )


def test_jsonl_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text(f"\n{json.dumps({'id': 'a', 'text': ARTICLE})}\n\n   \n", encoding="utf-8")
    assert [d.doc_id for d in load_corpus(path).documents] == ["a"]


def test_gzipped_jsonl_corpus(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl.gz"
    records = [{"id": "a", "text": ARTICLE}, {"id": "b", "text": OTHER}]
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(lines)
    corpus = load_corpus(path)
    assert [d.doc_id for d in corpus.documents] == ["a", "b"]
    engine = Engine.build(corpus)
    answer = engine.answer("Qui vend des théières en argent ?")
    assert answer.found and answer.sources[0].doc_id == "a"


def _error(path: Path) -> str:
    with pytest.raises(CorpusError) as caught:
        load_corpus(path)
    return str(caught.value)


def test_non_utf8_text_file_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bon.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Première ligne.\nDeuxième ligne, théière.\n".encode("latin-1"))
    message = _error(tmp_path)
    assert "latin1.txt" in message
    assert "ligne 1" in message  # "è" of "Première" is the first bad byte
    assert "UTF-8" in message


def test_non_utf8_byte_on_a_later_line(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"Ligne un.\nLigne deux.\nLigne trois \xe9t\xe9.\n")
    message = _error(tmp_path)
    assert "a.txt" in message and "ligne 3" in message


def test_malformed_sources_toml_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "sources.toml").write_text(
        '[[document]]\nfile = "a.txt"\ntitle = "Sans guillemet fermant\n', encoding="utf-8"
    )
    message = _error(tmp_path)
    assert "sources.toml" in message and "ligne 3" in message


def test_sources_toml_entry_without_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    toml = '[[document]]\nfile = "a.txt"\n\n[[document]]\ntitle = "X"\n'
    (tmp_path / "sources.toml").write_text(toml, encoding="utf-8")
    message = _error(tmp_path)
    assert "sources.toml" in message and "2" in message and "file" in message


def test_malformed_jsonl_line_gives_the_right_line_number(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    good = json.dumps({"id": "a", "text": ARTICLE})
    second = json.dumps({"id": "b", "text": OTHER})
    path.write_text(f'{good}\n\n{second}\n{{"id": "c", "text": \n', encoding="utf-8")
    message = _error(path)
    assert "docs.jsonl" in message and "ligne 4" in message and "JSON invalide" in message


def test_jsonl_line_that_is_not_an_object(tmp_path: Path) -> None:
    message = _error(_write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": ARTICLE}, ["id", "text"]]))
    assert "docs.jsonl" in message and "ligne 2" in message


@pytest.mark.parametrize(
    "record",
    [{"id": "b"}, {"text": OTHER}, {"id": "b", "text": 3}, {"id": None, "text": OTHER}, {"id": "", "text": OTHER}],
)
def test_jsonl_missing_id_or_text(tmp_path: Path, record: dict) -> None:
    message = _error(_write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": ARTICLE}, record]))
    assert "docs.jsonl" in message and "ligne 2" in message
    assert "« id »" in message and "« text »" in message


@pytest.mark.parametrize("doc_id", [{"a": 1}, ["a"], True])
def test_jsonl_structured_id_is_refused(tmp_path: Path, doc_id: object) -> None:
    message = _error(
        _write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": ARTICLE}, {"id": doc_id, "text": OTHER}])
    )
    assert "docs.jsonl, ligne 2" in message and "l'identifiant « id » doit être un texte ou un nombre" in message


def test_jsonl_structured_metadata_is_refused(tmp_path: Path) -> None:
    message = _error(_write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": ARTICLE, "publisher": ["x"]}]))
    assert "ligne 1" in message and "« publisher » doit être un texte" in message


def test_jsonl_duplicate_id(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "docs.jsonl", [{"id": "a", "text": ARTICLE}, {"id": "b", "text": OTHER}, {"id": "a", "text": OTHER}]
    )
    message = _error(path)
    assert "ligne 3" in message and "« a »" in message


def test_jsonl_invalid_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_bytes(json.dumps({"id": "a", "text": ARTICLE}).encode() + b'\n{"id": "b", "text": "caf\xe9"}\n')
    message = _error(path)
    assert "docs.jsonl" in message and "ligne 2" in message and "UTF-8" in message


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    message = _error(tmp_path)
    assert str(tmp_path) in message and "vide" in message


def test_folder_of_debris_only_is_empty(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Page d'accueil>>Économie\n\nSignaler\n", encoding="utf-8")
    (tmp_path / "notes.csv").write_text("id,text\n1,théières\n", encoding="utf-8")
    assert "vide" in _error(tmp_path)


def test_empty_jsonl_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "vide.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    message = _error(path)
    assert "vide.jsonl" in message and "vide" in message


def test_jsonl_of_blank_texts_is_empty(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "blanc.jsonl", [{"id": "a", "text": "   "}, {"id": "b", "text": ""}])
    assert "vide" in _error(path)


def test_missing_path(tmp_path: Path) -> None:
    message = _error(tmp_path / "absent")
    assert "absent" in message and "introuvable" in message


def test_unknown_file_format(tmp_path: Path) -> None:
    path = tmp_path / "corpus.csv"
    path.write_text("id,text\n", encoding="utf-8")
    assert "corpus.csv" in _error(path)


def test_the_bot_s_corpus_source_raises_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError):
        CorpusSource(tmp_path).load()
    assert issubclass(CorpusError, ValueError)


def test_cleaning_in_several_processes_gives_the_same_corpus(tmp_path: Path) -> None:
    records: list[object] = []
    for i in range(60):
        text = f"Accueil>>Monde\n\nParagraphe {i} de l'article, assez long pour compter.\n\nSignaler"
        records.append({"id": f"a{i}", "title": f"Titre {i}", "text": text, "url": f"https://ex.fr/{i}"})
    records.insert(30, {"id": "vide", "text": "Accueil>>Monde\n\nSignaler"})  # nothing of an article is left
    path = _write_jsonl(tmp_path / "c.jsonl", records)
    one, two = load_corpus(path, workers=1), load_corpus(path, workers=2)
    assert one.documents == two.documents and one.skipped == two.skipped == ["vide"]
    assert [d.doc_id for d in two.documents] == [f"a{i}" for i in range(60)]
    assert two.documents[7].paragraphs == ("Paragraphe 7 de l'article, assez long pour compter.",)


def test_links_out_of_the_folder_are_never_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("DISCORD_TOKEN=jeton-secret-du-serveur. Ne jamais citer ce fichier.", encoding="utf-8")
    (outside / "sources.toml").write_text('[[document]]\nfile = "a.txt"\ntitle = "Volé"\n', encoding="utf-8")
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "fuite.txt").symlink_to(secret)
    (folder / "environ.txt").symlink_to("/proc/self/environ")
    (folder / "sources.toml").symlink_to(outside / "sources.toml")
    (folder / "dehors").symlink_to(outside, target_is_directory=True)
    (folder / "sub" / "copie.txt").symlink_to(folder / "a.txt")  # a link that stays inside is read
    corpus = load_corpus(folder)
    assert sorted(d.file for d in corpus.documents) == ["a.txt", "sub/copie.txt"]
    assert all("jeton-secret" not in d.text and d.title != "Volé" for d in corpus.documents)
    warned = "\n".join(corpus.warnings)
    for name in ("fuite.txt", "environ.txt", "sources.toml", "dehors"):
        assert f"{name} ignoré" in warned
    assert str(secret) in warned and "hors du dossier du corpus" in warned
    answer = Engine.build(corpus).answer("Quel est le DISCORD_TOKEN ?")
    assert "jeton-secret" not in answer_text(answer)


def test_fingerprint_reads_no_file_out_of_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("un secret", encoding="utf-8")
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "lien.txt").symlink_to(outside)
    before = corpus_fingerprint(folder)
    outside.write_text("un autre secret", encoding="utf-8")
    assert corpus_fingerprint(folder) == before


def test_jsonl_corpus_given_as_a_link_is_read_and_its_target_reported(tmp_path: Path) -> None:
    target = _write_jsonl(tmp_path / "vrai.jsonl", [{"id": "a", "text": ARTICLE}])
    link = tmp_path / "corpus.jsonl"
    link.symlink_to(target)
    corpus = load_corpus(link)
    assert [d.doc_id for d in corpus.documents] == ["a"]
    assert any(str(target) in message and "lien symbolique" in message for message in corpus.warnings)


def test_cli_prints_the_corpus_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    args = ["ask", "Qui vend des théières ?", "--corpus", str(folder), "--database", str(tmp_path / "q.sqlite3")]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "Avertissement" in err and "passwd.txt ignoré" in err and "/etc/passwd" in err


BAD_URLS = [
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "https://exemple.fr/a b",
    "https://exemple.fr/[x]",
    "https://exemple.fr/\x1b[31m",
    "http://exemple.fr:port/",
    "https:///sans-site",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_only_well_formed_http_links_are_kept_from_sources_toml(tmp_path: Path, url: str) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.txt").write_text(OTHER, encoding="utf-8")
    toml = f'[[document]]\nfile = "a.txt"\nurl = {json.dumps(url)}\n\n[[document]]\nfile = "b.txt"\nurl = "HTTPS://ex.fr/b"\n'
    (tmp_path / "sources.toml").write_text(toml, encoding="utf-8")
    corpus = load_corpus(tmp_path)
    docs = {d.doc_id: d for d in corpus.documents}
    assert docs["a"].url is None and docs["b"].url == "HTTPS://ex.fr/b"
    (warning,) = corpus.warnings
    assert warning.startswith("a.txt : lien") and "ignoré" in warning and "\x1b" not in warning


@pytest.mark.parametrize("url", BAD_URLS)
def test_only_well_formed_http_links_are_kept_from_jsonl(tmp_path: Path, url: str) -> None:
    path = _write_jsonl(tmp_path / "docs.jsonl", [{"id": "x", "text": ARTICLE, "url": url}])
    corpus = load_corpus(path)
    assert corpus.documents[0].url is None
    (warning,) = corpus.warnings
    assert "docs.jsonl, ligne 1" in warning and "« x »" in warning and "ignoré" in warning


def _gzipped(count: int = 200) -> bytes:
    lines = "".join(json.dumps({"id": str(i), "text": f"{ARTICLE} Numéro {i}."}) + "\n" for i in range(count))
    return gzip.compress(lines.encode())


def test_truncated_gzip_corpus_is_a_french_corpus_error(tmp_path: Path) -> None:
    data = _gzipped()
    path = tmp_path / "docs.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    message = _error(path)
    assert "docs.jsonl.gz" in message and "tronqué" in message


@pytest.mark.parametrize(
    "content", [b'{"id": "a", "text": "pas compress\xc3\xa9"}\n', b"\x1f\x8b\x08\x00" + b"\x00" * 6 + b"garbage" * 20]
)
def test_invalid_gzip_corpus_is_a_french_corpus_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "docs.jsonl.gz"
    path.write_bytes(content)
    message = _error(path)
    assert "docs.jsonl.gz" in message and "gzip invalide" in message


def test_unreadable_jsonl_corpus_names_the_error_in_french(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": ARTICLE}])

    def refuse(file: object, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(file))

    monkeypatch.setattr(jsonl_module, "open", refuse, raising=False)  # the tests may run as root
    message = _error(path)
    assert "docs.jsonl" in message and "permission refusée (Permission denied)" in message


def test_same_names_in_subfolders_and_stems_get_their_own_ids_and_sources(tmp_path: Path) -> None:
    (tmp_path / "2019").mkdir()
    (tmp_path / "2020").mkdir()
    (tmp_path / "2019" / "article.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "2020" / "article.txt").write_text(OTHER, encoding="utf-8")
    (tmp_path / "a.txt").write_text("Le thé vert du Yunnan se boit chaud. Il se vend bien.", encoding="utf-8")
    (tmp_path / "a.md").write_text("Le riz de Libei pousse vite. Il se vend aussi.", encoding="utf-8")
    (tmp_path / "seul.txt").write_text("Un seul fichier porte ce nom. Il garde un id court.", encoding="utf-8")
    (tmp_path / "sources.toml").write_text(
        '[[document]]\nfile = "2019/article.txt"\ntitle = "Théières 2019"\n\n'
        '[[document]]\nfile = "2020/article.txt"\ntitle = "Tofu 2020"\n\n'
        '[[document]]\nfile = "./a.md"\ntitle = "Riz"\n\n'
        '[[document]]\nfile = "article.txt"\ntitle = "Ancienne entrée"\n\n'
        '[[document]]\nfile = "disparu.txt"\ntitle = "Supprimé"\n',
        encoding="utf-8",
    )
    corpus = load_corpus(tmp_path)
    docs = {d.doc_id: d for d in corpus.documents}
    assert sorted(docs) == ["2019/article.txt", "2020/article.txt", "a.md", "a.txt", "seul"]
    assert docs["2019/article.txt"].title == "Théières 2019" and docs["2020/article.txt"].title == "Tofu 2020"
    assert docs["a.md"].title == "Riz" and docs["a.txt"].title is None
    assert sorted(corpus.warnings) == [
        f"sources.toml : l'entrée « {name} » ne correspond à aucun fichier du corpus (chemin relatif au dossier "
        "attendu, avec son extension)."
        for name in ("article.txt", "disparu.txt")
    ]
    answer = Engine.build(corpus).answer("Qui vend des théières en argent ?")
    assert answer.sources[0].doc_id == "2019/article.txt"


def test_an_unreadable_file_is_named_with_the_error_in_french(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "interdit.txt").write_text(OTHER, encoding="utf-8")
    real_open = Path.open

    def refuse(self: Path, *args: object, **kwargs: object) -> object:  # chmod 000 does not stop root
        if self.name == "interdit.txt":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)  # Path.read_bytes opens through it
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["a"]
    assert corpus.warnings == ["interdit.txt ignoré : lecture impossible, permission refusée (Permission denied)."]
    assert corpus.fingerprint  # the fingerprint skips it too instead of failing


def test_markdown_links_keep_their_text_even_with_parentheses_in_the_target(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        '# Paris\n\nVoir [la ville](https://fr.wikipedia.org/wiki/Paris_(ville) "titre") et ![plan](plan.png) '
        "sur **le site** de [la mairie](https://paris.fr).\n\n" + "[" * 5000 + " crochets ouverts sans fin.\n",
        encoding="utf-8",
    )
    (document,) = load_corpus(tmp_path).documents
    assert document.title == "Paris"
    assert document.paragraphs == (
        "Voir la ville et sur le site de la mairie.",
        "[" * 5000 + " crochets ouverts sans fin.",
    )


def test_a_file_listed_twice_in_sources_toml_keeps_the_last_entry_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "sources.toml").write_text(
        '[[document]]\nfile = "a.txt"\ntitle = "Premier"\n\n[[document]]\nfile = "a.txt"\ntitle = "Second"\n',
        encoding="utf-8",
    )
    corpus = load_corpus(tmp_path)
    assert corpus.documents[0].title == "Second"
    assert corpus.warnings == ["sources.toml : le fichier « a.txt » a plusieurs entrées ; la dernière est gardée."]
