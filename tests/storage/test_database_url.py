"""A PostgreSQL address is read whatever its password holds, and no log line, error or `migrate-log` output
ever shows that password, nor an address that cannot be read."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest

from bot.cli import main
from bot.storage import Storage, StorageError, shown_url
from bot.storage.database_url import UNREADABLE, parse_database_url
from bot.storage.postgres import connect_failure
from tests.storage.backends import Backend
from tests.storage.factories import rec

# Each piece is distinctive, so a test sees a leak of any part of the password, not only of the whole.
PIECES = ("KIWI", "MANGO", "PAPAYA", "GUAVA")

# (address, the password it holds, how it is shown)
FORMS = [
    ("postgresql://bot:KIWI@h:5432/db", "KIWI", "postgresql://bot:***@h:5432/db"),
    ("postgres://bot@h/db?password=KIWI", "KIWI", "postgres://bot:***@h/db"),
    ("postgresql://bot:KIWI#MANGO@h/db", "KIWI#MANGO", "postgresql://bot:***@h/db"),
    ("postgresql://bot:KIWI/MANGO@h/db", "KIWI/MANGO", "postgresql://bot:***@h/db"),
    ("postgresql://bot:KIWI@MANGO@h/db", "KIWI@MANGO", "postgresql://bot:***@h/db"),
    ("postgresql://bot:KIWI:MANGO?PAPAYA@h/db", "KIWI:MANGO?PAPAYA", "postgresql://bot:***@h/db"),
    ("postgresql://bot:K@I/W#I?MANGO@h:6543/db?sslmode=disable", "K@I/W#I?MANGO", "postgresql://bot:***@h:6543/db"),
    ("postgresql://bot:KIWI%40MANGO@h/db", "KIWI@MANGO", "postgresql://bot:***@h/db"),
    ("postgresql://bot@h/db?password=KIWI#MANGO&sslmode=require", "KIWI#MANGO", "postgresql://bot:***@h/db"),
    ("postgresql://bot@h/db?password=KIWI@MANGO", "KIWI@MANGO", "postgresql://bot:***@h/db"),
    ("postgresql://bot:KIWI@h/db?application_name=a@b", "KIWI", "postgresql://bot:***@h/db"),
    ("postgresql://bot@h1:5432,[::1]:5433/db?sslpassword=KIWI", None, "postgresql://bot:***@h1:5432,[::1]:5433/db"),
    ("postgresql://bot@h/db", None, "postgresql://bot@h/db"),
]


def leaks(text: str) -> list[str]:
    return [piece for piece in PIECES if piece in text]


@pytest.mark.parametrize(("url", "password", "shown"), FORMS)
def test_every_form_of_password_is_read_and_never_shown(url: str, password: str | None, shown: str) -> None:
    address = parse_database_url(url)
    assert address.password == password and address.user == "bot"
    assert address.shown() == shown_url(url) == shown
    assert not leaks(repr(address))
    again = parse_database_url(address.dsn())  # what the driver is given reads back the same
    assert (again.password, again.hosts, again.database) == (password, address.hosts, "db")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://bot:KIWI@h:99999/db", "le port doit être un nombre de 1 à 65535"),
        ("postgresql://bot:KIWI@h:MANGO/db", "le port doit être un nombre"),
        ("postgresql://bot:KIWI/h/db", "le port doit être un nombre"),  # no @: the password reads as a port
        ("postgresql://bot:KIWI@h$MANGO/db", "le nom d'hôte contient des caractères non permis"),
        ("postgresql://bot@h/db?password=KIWI&MANGO", "chaque option doit avoir la forme nom=valeur"),
        ("mysql://bot:KIWI@h/db", "doit être une adresse PostgreSQL"),
    ],
)
def test_an_unreadable_address_is_never_shown(url: str, reason: str) -> None:
    with pytest.raises(StorageError) as refused:
        parse_database_url(url)
    assert reason in str(refused.value) and not leaks(str(refused.value))
    assert shown_url(url) == UNREADABLE or "non reconnue" in str(refused.value)
    assert not leaks(shown_url(url))


@pytest.mark.parametrize("password_part", ["?password=KIWI#MANGO/PAPAYA", "?password=KIWI&sslmode=disable"])
async def test_migrations_and_errors_log_no_password(
    pg: Backend, caplog: pytest.LogCaptureFixture, password_part: str
) -> None:
    url = (pg.url or "") + password_part  # the test server trusts any password
    with caplog.at_level(logging.INFO, logger="bot.storage"):
        async with await Storage.open(pg.path, url=url) as storage:
            assert await storage.log_query(rec()) is not None
            assert storage.path == (pg.url or "").replace("postgres@", "postgres:***@")
    assert "schéma mis à jour" in caplog.text and ":***@" in caplog.text
    assert not leaks(caplog.text)


async def test_an_address_with_an_unencoded_password_still_connects(pg: Backend) -> None:
    server, name = (pg.url or "").rsplit("/", 1)
    host = server.split("@", 1)[1]
    url = f"postgresql://postgres:KIWI#MANGO/PAPAYA@GUAVA@{host}/{name}"  # the test server trusts any password
    async with await Storage.open(pg.path, url=url) as storage:
        assert await storage.log_query(rec()) is not None
        assert storage.path == f"postgresql://postgres:***@{host}/{name}"


async def migrate(*argv: str) -> int:
    return await asyncio.to_thread(main, ["migrate-log", *argv])


async def test_migrate_log_shows_no_password(pg: Backend, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with await Storage.open(db_path) as log:
        await log.log_query(rec())
    for bad, code, said in (
        ("postgresql://bot:KIWI#MANGO@127.0.0.1:99999/bot", 2, "le port doit être un nombre de 1 à 65535"),
        ("postgresql://bot:KIWI/MANGO", 2, "le port doit être un nombre de 1 à 65535"),
        ("postgresql://bot@127.0.0.1:1/bot?password=KIWI#MANGO", 1, "postgresql://bot:***@127.0.0.1:1/bot"),
    ):
        assert await migrate("--database", str(db_path), "--to", bad) == code
        out, err = capsys.readouterr()
        assert said in err and not leaks(out + err) and "Traceback" not in err
    assert await migrate("--database", str(db_path), "--to", (pg.url or "") + "?password=KIWI#MANGO") == 0
    out, err = capsys.readouterr()
    assert "copié vers postgresql://postgres:***@127.0.0.1" in out and not leaks(out + err)


def test_connection_failures_are_explained_in_french_without_the_password() -> None:
    address = parse_database_url("postgresql://bot:KIWI#MANGO@base.exemple:5432/db")
    said = {
        kind: connect_failure(address, exc)
        for kind, exc in (
            ("host", socket.gaierror(-2, "Name or service not known")),
            ("port", ConnectionRefusedError(111, "Connect call failed")),
            ("driver", ValueError("invalid DSN postgresql://bot:KIWI#MANGO@base.exemple")),
        )
    }
    assert said["host"] == (
        "postgresql://bot:***@base.exemple:5432/db : "
        "connexion à PostgreSQL impossible (hôte introuvable (base.exemple))"
    )
    assert "aucun serveur PostgreSQL n'écoute à cette adresse (hôte et port à vérifier)" in said["port"]
    assert said["driver"].endswith("(ValueError)")
    assert not leaks(" ".join(said.values()))
