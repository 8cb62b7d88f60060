"""Server limits on documents: the French refusals, and the `[documents]` settings that set them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.ingest.limits import MEGABYTE, DocumentLimits, Totals, french_size, over_limit
from bot.search.corpus import make_document, text_bytes

LIMITS = DocumentLimits(max_file_bytes=MEGABYTE, max_documents=10, max_text_bytes=2 * MEGABYTE, fetch_timeout=5)


def test_totals_count_documents_and_utf8_text() -> None:
    documents = [make_document("a", "Élément à vérifier."), make_document("b", "Deux.\n\nParagraphes.")]
    assert text_bytes(documents[0]) == len("Élément à vérifier.".encode())  # accents count twice
    assert Totals.of(documents) == Totals(2, len("Élément à vérifier.".encode()) + len("Deux.\n\nParagraphes."))


@pytest.mark.parametrize(
    ("size", "shown"),
    [(5 * MEGABYTE, "5 Mo"), (3 * MEGABYTE // 2, "1,5 Mo"), (2048, "2 ko"), (100, "1 ko"), (0, "0 ko")],
)
def test_french_size(size: int, shown: str) -> None:
    assert french_size(size) == shown


def test_room_left() -> None:
    assert over_limit(LIMITS, Totals(9, MEGABYTE)) is None
    assert over_limit(LIMITS, Totals(9, MEGABYTE), Totals(1, MEGABYTE)) is None  # exactly at both limits


def test_full_server_says_which_limit_and_what_to_do() -> None:
    message = over_limit(LIMITS, Totals(10, 0))
    assert message is not None and "limite de 10 documents" in message and "Retirez-en" in message
    message = over_limit(LIMITS, Totals(3, 2 * MEGABYTE))
    assert message is not None and "limite de 2 Mo de texte" in message and "Retirez-en" in message


def test_adding_too_many_documents() -> None:
    message = over_limit(LIMITS, Totals(8, 0), Totals(5, 10))
    assert message == (
        "Ce serveur a 8 documents sur 10 permis : en ajouter 5 dépasserait la limite. "
        "Retirez-en au moins 3, ou ajoutez-en moins."
    )


def test_adding_too_much_text() -> None:
    message = over_limit(LIMITS, Totals(2, 3 * MEGABYTE // 2), Totals(1, MEGABYTE))
    assert message == (
        "Ces documents apportent 1 Mo de texte aux 1,5 Mo du serveur, au-delà de la limite de 2 Mo. "
        "Retirez des documents, ou ajoutez-en de plus courts."
    )


def test_default_settings_give_the_default_limits() -> None:
    assert Settings().document_limits() == DocumentLimits()
    assert DocumentLimits() == DocumentLimits(5 * MEGABYTE, 500, 20 * MEGABYTE, 10.0)
    assert Settings().documents_allow_private_addresses is False


def test_documents_section_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text(
        "[documents]\nmax_file_mb = 2.5\nmax_documents = 50\nmax_text_mb = 100\nfetch_timeout_seconds = 3\n"
        "allow_private_addresses = true\n",
        encoding="utf-8",
    )
    settings = load_settings(path, env={})
    assert settings.document_limits() == DocumentLimits(5 * MEGABYTE // 2, 50, 100 * MEGABYTE, 3.0)
    assert settings.documents_allow_private_addresses is True
    env = {
        "BOT_DOCUMENTS_MAX_FILE_MB": "0,5",
        "BOT_DOCUMENTS_MAX_DOCUMENTS": "7",
        "BOT_DOCUMENTS_MAX_TEXT_MB": "1",
        "BOT_DOCUMENTS_FETCH_TIMEOUT": "60",
        "BOT_DOCUMENTS_ALLOW_PRIVATE_ADDRESSES": "false",
    }
    settings = load_settings(path, env=env)
    assert settings.document_limits() == DocumentLimits(MEGABYTE // 2, 7, MEGABYTE, 60.0)
    assert settings.documents_allow_private_addresses is False


@pytest.mark.parametrize(
    ("line", "key", "reason"),
    [
        ("max_file_mb = 0", "documents.max_file_mb", "entre 0,1 et 25"),
        ("max_file_mb = 30", "documents.max_file_mb", "entre 0,1 et 25"),
        ("max_documents = 0", "documents.max_documents", "entier compris entre 1 et 100000"),
        ("max_documents = 1000000", "documents.max_documents", "entre 1 et 100000"),
        ("max_text_mb = 0.5", "documents.max_text_mb", "entre 1 et 1000"),
        ("fetch_timeout_seconds = 120", "documents.fetch_timeout_seconds", "entre 1 et 60"),
        ('allow_private_addresses = "peut-être"', "documents.allow_private_addresses", "true ou false"),
        ("max_pages = 3", "documents.max_pages", "clé inconnue"),
    ],
)
def test_invalid_documents_settings_are_refused_in_french(tmp_path: Path, line: str, key: str, reason: str) -> None:
    path = tmp_path / "bot.toml"
    path.write_text(f"[documents]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert f"« {key} »" in str(info.value) and reason in str(info.value)


def test_invalid_private_addresses_variable() -> None:
    with pytest.raises(ConfigError, match=r"BOT_DOCUMENTS_ALLOW_PRIVATE_ADDRESSES.*true ou false"):
        load_settings(env={"BOT_DOCUMENTS_ALLOW_PRIVATE_ADDRESSES": "peut-être", "BOT_CONFIG": ""})
