"""The kinds of value a setting takes: how a value is read and within which bounds, with the French reason
when it is refused.

The same kind reads a TOML value (already typed), an environment variable and a command-line option (text):
"600", 600 and " 600 " all give 600, and 5 is refused for the same reason wherever it was given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.storage.database_url import parse_database_url
from bot.storage.schema import StorageError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_SHARDS = 1000


class InvalidValue(Exception):
    """A value was refused; the argument is the French reason ("doit être un entier compris entre 1 et 10")."""


@dataclass(frozen=True)
class Kind:
    """How a setting's value is read: `parse` returns it or raises `InvalidValue`; `bounds` and `metavar` say in
    French what it accepts, for the command line's help."""

    parse: Callable[[Any], Any]
    bounds: str = ""
    metavar: str = "VALEUR"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _to_float(value: Any) -> float:
    if _is_int(value) or isinstance(value, float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip().replace(",", "."))
        except ValueError:
            raise InvalidValue("doit être un nombre") from None
    else:
        raise InvalidValue("doit être un nombre")
    if result != result or result in (float("inf"), float("-inf")):
        raise InvalidValue("doit être un nombre fini")
    return result


def _decimal(number: float) -> str:
    """A bound as French writes it: 0,1."""
    return f"{number:g}".replace(".", ",")


def whole(low: int, high: int, reason: str = "") -> Kind:
    """Whole numbers from `low` to `high`: every setting is bounded, so a value such as 2**63 is refused at
    start-up instead of overflowing later (a date, a SQLite integer, a sleep)."""
    reason = reason or f"doit être un entier compris entre {low} et {high}"

    def parse(value: Any) -> int:
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:  # not a whole number, or more than 4,300 digits
                raise InvalidValue(reason) from None
        if not _is_int(value) or not low <= value <= high:
            raise InvalidValue(reason)
        return int(value)

    return Kind(parse, f"{low} à {high}", "N")


def number(low: float, high: float, unit: int = 0) -> Kind:
    """Finite numbers from `low` to `high` (a comma as decimal mark accepted); given a `unit`, a whole number of
    that many units (megabytes given, bytes kept)."""

    def parse(value: Any) -> float:
        result = _to_float(value)
        if not low <= result <= high:
            raise InvalidValue(f"doit être compris entre {_decimal(low)} et {_decimal(high)}")
        return round(result * unit) if unit else result

    return Kind(parse, f"{_decimal(low)} à {_decimal(high)}", "X")


def name(longest: int) -> Kind:
    """A non-empty name of at most `longest` characters (the field of a JSON Lines record, say)."""

    def parse(value: Any) -> str:
        if not isinstance(value, str) or not 0 < len(value.strip()) <= longest:
            raise InvalidValue(f"doit être un nom non vide de {longest} caractères au plus")
        return value.strip()

    return Kind(parse, f"{longest} caractères au plus", "NOM")


def url(*schemes: str) -> Kind:
    """An address starting with one of `schemes` (trailing slash dropped)."""
    reason = "doit être une adresse commençant par " + " ou ".join(f"{scheme}://" for scheme in schemes)

    def parse(value: Any) -> str:
        text = str(value).strip()
        if not any(text.startswith(f"{scheme}://") and len(text) > len(scheme) + 3 for scheme in schemes):
            raise InvalidValue(reason)
        return text.rstrip("/")

    return Kind(parse, " ou ".join(f"{scheme}://…" for scheme in schemes), "ADRESSE")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "oui", "yes"):
        return True
    if text in ("false", "0", "non", "no"):
        return False
    raise InvalidValue("doit valoir true ou false")


def _path(value: Any) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue("doit être un chemin non vide")
    return Path(value.strip())


def _log_level(value: Any) -> str:
    if not isinstance(value, str) or value.strip().upper() not in LOG_LEVELS:
        raise InvalidValue("doit valoir " + ", ".join(LOG_LEVELS))
    return value.strip().upper()


def _token(value: Any) -> str:
    token = str(value).strip()
    if any(ch.isspace() for ch in token):
        raise InvalidValue("ne doit pas contenir d'espace")
    return token


def _database_url(value: Any) -> str:
    """Read with the storage's own parser, so a bad port or host is refused at start with its French reason."""
    text = str(value).strip()
    try:
        parse_database_url(text)
    except StorageError as exc:
        raise InvalidValue(f"doit être une adresse PostgreSQL lisible ({exc})") from None
    return text


_SHARD_ID = whole(0, MAX_SHARDS - 1, "doit être une liste de numéros de shards, par exemple 0,1")


def _shard_ids(value: Any) -> tuple[int, ...]:
    """Shard ids as a TOML list of integers or a comma-separated text ("0,1"); each once, at least one."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise InvalidValue("doit être une liste de numéros de shards, par exemple 0,1")
    ids = tuple(_SHARD_ID.parse(item) for item in items)
    repeated = sorted({shard for shard in ids if ids.count(shard) > 1})
    if repeated:
        raise InvalidValue(f"nomme plusieurs fois le shard {', '.join(map(str, repeated))}")
    return ids


PATH = Kind(_path, metavar="CHEMIN")
BOOLEAN = Kind(_boolean, "true ou false", "OUI/NON")
LOG_LEVEL = Kind(_log_level, ", ".join(LOG_LEVELS), "NIVEAU")
TOKEN = Kind(_token, "sans espace", "JETON")
DATABASE_URL = Kind(_database_url, "postgresql://…", "ADRESSE")
SNOWFLAKE = whole(1, 2**63 - 1, "doit être un identifiant Discord (entier positif)")
SHARD_IDS = Kind(_shard_ids, f"0 à {MAX_SHARDS - 1}, chacun une fois", "0,1")
