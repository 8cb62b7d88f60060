"""Bot settings: defaults, then `config/bot.toml`, then environment variables.

Every invalid value is reported with its key and the reason (in French) before the bot
starts, so a typo in the configuration never surfaces later as a strange behaviour.
Secrets (the Discord token) come from the environment only and never appear in a repr.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bot.ingest.limits import MEGABYTE, DocumentLimits
from bot.search.corpus import french_os_error

DEFAULT_CONFIG_FILE = Path("config/bot.toml")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ENV_VARIABLES",
    "TOML_KEYS",
    "ConfigError",
    "Settings",
    "load_settings",
]


class ConfigError(ValueError):
    """Invalid configuration; the French message names every bad key and why it is refused."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass(frozen=True)
class Settings:
    """Everything the bot process needs to start; immutable once loaded."""

    corpus_path: Path = Path("seeds")
    database_path: Path = Path("data/bot.sqlite3")
    database_url: str | None = field(default=None, repr=False)  # PostgreSQL log; may hold a password
    rate_limit_count: int = 5
    rate_limit_seconds: float = 60.0
    max_answer_chars: int = 600
    min_confidence: float | None = None  # None: the engine's own default
    retention_days: int = 0  # 0: keep forever (default for servers without their own setting)
    log_level: str = "INFO"
    discord_token: str | None = field(default=None, repr=False)
    dev_guild_id: int | None = None
    api_base: str | None = None
    gateway_url: str | None = None
    documents_max_file_bytes: int = DocumentLimits.max_file_bytes
    documents_max_count: int = DocumentLimits.max_documents
    documents_max_text_bytes: int = DocumentLimits.max_text_bytes
    documents_fetch_timeout: float = DocumentLimits.fetch_timeout
    documents_parse_seconds: float = DocumentLimits.parse_seconds
    documents_allow_private_addresses: bool = False  # see bot.ingest.web.fetch_document for why it stays off
    # Discord shards this process runs: None for Discord's recommended count, all in this process;
    # `shard_count` alone runs every shard of that count here.
    shard_ids: tuple[int, ...] | None = None
    shard_count: int | None = None

    def document_limits(self) -> DocumentLimits:
        """The `[documents]` limits, as the ingestion functions take them."""
        return DocumentLimits(
            max_file_bytes=self.documents_max_file_bytes,
            max_documents=self.documents_max_count,
            max_text_bytes=self.documents_max_text_bytes,
            fetch_timeout=self.documents_fetch_timeout,
            parse_seconds=self.documents_parse_seconds,
        )

    @property
    def shards(self) -> tuple[int, ...] | None:
        """The shard ids this process runs (None: every shard of Discord's recommended count)."""
        if self.shard_ids is not None:
            return self.shard_ids
        return tuple(range(self.shard_count)) if self.shard_count is not None else None


# --- value parsers: each returns the parsed value or raises _Invalid(reason in French) ----


class _Invalid(Exception):
    """Internal: a value was refused; the argument is the French reason."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _to_int(value: Any) -> int:
    if _is_int(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _Invalid("doit être un entier")


def _to_float(value: Any) -> float:
    if _is_int(value) or isinstance(value, float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip().replace(",", "."))
        except ValueError:
            raise _Invalid("doit être un nombre") from None
    else:
        raise _Invalid("doit être un nombre")
    if result != result or result in (float("inf"), float("-inf")):
        raise _Invalid("doit être un nombre fini")
    return result


def _int_between(low: int, high: int, reason: str = "") -> Callable[[Any], int]:
    """A parser of whole numbers from `low` to `high`: every setting is bounded, so a value such as 2**63
    is refused at start-up instead of overflowing later (a date, a SQLite integer, a sleep)."""
    reason = reason or f"doit être un entier compris entre {low} et {high}"

    def parse(value: Any) -> int:
        try:
            result = _to_int(value)
        except _Invalid:
            raise _Invalid(reason) from None
        if not low <= result <= high:
            raise _Invalid(reason)
        return result

    return parse


def _number_between(low: float, high: float) -> Callable[[Any], float]:
    """A parser of finite numbers from `low` to `high`."""

    def parse(value: Any) -> float:
        result = _to_float(value)
        if not low <= result <= high:
            raise _Invalid(f"doit être compris entre {low:g} et {high:g}".replace(".", ","))
        return result

    return parse


_answer_chars = _int_between(50, 4000)
_confidence = _number_between(0.0, 1.0)
_rate_limit_count = _int_between(1, 1000)
_rate_limit_seconds = _number_between(1.0, 86_400.0)  # one second to one day
_retention_days = _int_between(0, 36_500)  # up to a hundred years
_snowflake = _int_between(1, 2**63 - 1, "doit être un identifiant Discord (entier positif)")


def _megabytes(low: float, high: float) -> Callable[[Any], int]:
    """A size given in megabytes (Mo), returned in bytes."""
    within = _number_between(low, high)
    return lambda value: round(within(value) * MEGABYTE)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "oui", "yes"):
        return True
    if text in ("false", "0", "non", "no"):
        return False
    raise _Invalid("doit valoir true ou false")


MAX_SHARDS = 1000
_shard_count = _int_between(1, MAX_SHARDS)


def _shard_ids(value: Any) -> tuple[int, ...]:
    """Shard ids as a TOML list of integers or a comma-separated text ("0,1"); each once, at least one."""
    reason = "doit être une liste de numéros de shards, par exemple 0,1"
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise _Invalid(reason)
    ids = tuple(_int_between(0, MAX_SHARDS - 1, reason)(item) for item in items)
    repeated = sorted({shard for shard in ids if ids.count(shard) > 1})
    if repeated:
        raise _Invalid(f"nomme plusieurs fois le shard {', '.join(map(str, repeated))}")
    return ids


def _path(value: Any) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("doit être un chemin non vide")
    return Path(value.strip())


def _log_level(value: Any) -> str:
    if not isinstance(value, str) or value.strip().upper() not in LOG_LEVELS:
        raise _Invalid("doit valoir " + ", ".join(LOG_LEVELS))
    return value.strip().upper()


def _token(value: Any) -> str:
    token = str(value).strip()
    if any(ch.isspace() for ch in token):
        raise _Invalid("ne doit pas contenir d'espace")
    return token


def _url(*schemes: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip()
        if not any(text.startswith(f"{scheme}://") and len(text) > len(scheme) + 3 for scheme in schemes):
            raise _Invalid("doit être une adresse commençant par " + " ou ".join(f"{scheme}://" for scheme in schemes))
        return text.rstrip("/")

    return parse


def _database_url(value: Any) -> str:
    text = str(value).strip()
    if not text.startswith(("postgresql://", "postgres://")) or len(text) <= len("postgres://"):
        raise _Invalid("doit être une adresse PostgreSQL commençant par postgresql://")
    return text


# --- key tables ----------------------------------------------------------------------------

# TOML "section.key" -> (Settings field, parser)
TOML_KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "corpus.path": ("corpus_path", _path),
    "database.path": ("database_path", _path),
    "database.url": ("database_url", _database_url),
    "answers.max_chars": ("max_answer_chars", _answer_chars),
    "answers.min_confidence": ("min_confidence", _confidence),
    "rate_limit.count": ("rate_limit_count", _rate_limit_count),
    "rate_limit.window_seconds": ("rate_limit_seconds", _rate_limit_seconds),
    "retention.days": ("retention_days", _retention_days),
    "logging.level": ("log_level", _log_level),
    "documents.max_file_mb": ("documents_max_file_bytes", _megabytes(0.1, 25)),
    "documents.max_documents": ("documents_max_count", _int_between(1, 100_000)),
    "documents.max_text_mb": ("documents_max_text_bytes", _megabytes(1, 1000)),
    "documents.fetch_timeout_seconds": ("documents_fetch_timeout", _number_between(1.0, 60.0)),
    "documents.parse_seconds": ("documents_parse_seconds", _number_between(1.0, 600.0)),
    "documents.allow_private_addresses": ("documents_allow_private_addresses", _boolean),
    "discord.shards": ("shard_ids", _shard_ids),
    "discord.shard_count": ("shard_count", _shard_count),
}

# environment variable -> (Settings field, parser); applied after the TOML file
ENV_VARIABLES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "BOT_CORPUS": ("corpus_path", _path),
    "BOT_DATABASE": ("database_path", _path),
    "BOT_DATABASE_URL": ("database_url", _database_url),
    "BOT_RATE_LIMIT": ("rate_limit_count", _rate_limit_count),
    "BOT_RATE_WINDOW": ("rate_limit_seconds", _rate_limit_seconds),
    "BOT_MAX_ANSWER_CHARS": ("max_answer_chars", _answer_chars),
    "BOT_MIN_CONFIDENCE": ("min_confidence", _confidence),
    "BOT_RETENTION_DAYS": ("retention_days", _retention_days),
    "BOT_LOG_LEVEL": ("log_level", _log_level),
    "BOT_DOCUMENTS_MAX_FILE_MB": TOML_KEYS["documents.max_file_mb"],
    "BOT_DOCUMENTS_MAX_DOCUMENTS": TOML_KEYS["documents.max_documents"],
    "BOT_DOCUMENTS_MAX_TEXT_MB": TOML_KEYS["documents.max_text_mb"],
    "BOT_DOCUMENTS_FETCH_TIMEOUT": TOML_KEYS["documents.fetch_timeout_seconds"],
    "BOT_DOCUMENTS_PARSE_SECONDS": TOML_KEYS["documents.parse_seconds"],
    "BOT_DOCUMENTS_ALLOW_PRIVATE_ADDRESSES": TOML_KEYS["documents.allow_private_addresses"],
    "DISCORD_TOKEN": ("discord_token", _token),
    "DISCORD_DEV_GUILD_ID": ("dev_guild_id", _snowflake),
    "DISCORD_API_BASE": ("api_base", _url("http", "https")),
    "DISCORD_GATEWAY_URL": ("gateway_url", _url("ws", "wss")),
    "BOT_SHARDS": ("shard_ids", _shard_ids),
    "BOT_SHARD_COUNT": ("shard_count", _shard_count),
}

# `python -m bot run` option -> (Settings field, parser); applied last
RUN_OPTIONS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "--shards": ("shard_ids", _shard_ids),
    "--shard-count": ("shard_count", _shard_count),
}

_SECRET_VARIABLES = frozenset({"DISCORD_TOKEN", "BOT_DATABASE_URL"})
_SECRET_KEYS = frozenset({"database.url"})  # TOML keys whose refused value is not echoed (it may hold a password)


def _shown(value: Any) -> str:
    """A refused value as shown in an error message (quoted when text, shortened)."""
    text = repr(value) if isinstance(value, str) else str(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    return text if len(text) <= 60 else text[:57] + "…"


def _read_toml(path: Path, errors: list[str]) -> dict[str, Any]:
    """Flatten the TOML file into {"section.key": value}, reporting unknown keys."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        errors.append(f"{path} : fichier TOML invalide ({exc})")
        return {}
    except OSError as exc:
        errors.append(f"{path} : lecture impossible ({french_os_error(exc)})")
        return {}
    values: dict[str, Any] = {}
    for section, content in data.items():
        if not isinstance(content, dict):
            errors.append(
                f"{path} : clé inconnue « {section} » (attendu : une section "
                f"parmi {', '.join(sorted({k.split('.')[0] for k in TOML_KEYS}))})"
            )
            continue
        for key, value in content.items():
            name = f"{section}.{key}"
            if name in TOML_KEYS:
                values[name] = value
            elif section == "discord" or "token" in key.lower():
                errors.append(
                    f"{path} : clé inconnue « {name} » (le jeton Discord se met "
                    "dans la variable d'environnement DISCORD_TOKEN, fichier .env)"
                )
            else:
                errors.append(f"{path} : clé inconnue « {name} »")
    return values


def _shard_errors(values: dict[str, Any]) -> list[str]:
    """What is wrong with the shard settings once every source is merged (ids need a count that covers them)."""
    ids, count = values.get("shard_ids"), values.get("shard_count")
    if ids is None:
        return []
    if count is None:
        return [
            "shards : la liste des shards (« shards », BOT_SHARDS ou --shards) demande aussi leur nombre total "
            "(« shard_count », BOT_SHARD_COUNT ou --shard-count)"
        ]
    outside = [shard for shard in ids if shard >= count]
    if outside:
        return [
            f"shards : le shard {', '.join(map(str, outside))} n'existe pas avec {count} shard(s) "
            f"(numéros de 0 à {count - 1})"
        ]
    return []


def load_settings(
    config_file: Path | None = None, env: Mapping[str, str] | None = None, options: Mapping[str, Any] | None = None
) -> Settings:
    """Build the settings from defaults, the TOML file, the environment and `run` options (in that order).

    The file is `config_file`, else `$BOT_CONFIG`, else `config/bot.toml` (relative to the
    current directory); only the default file may be missing. Empty environment variables
    count as unset; so do options given as None (`options` maps `RUN_OPTIONS` names to their text).
    Raises `ConfigError` listing every invalid or unknown key.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    errors: list[str] = []
    values: dict[str, Any] = {}

    explicit = config_file is not None or bool(environ.get("BOT_CONFIG", "").strip())
    path = (
        Path(config_file)
        if config_file is not None
        else Path(environ.get("BOT_CONFIG", "").strip() or DEFAULT_CONFIG_FILE)
    )
    if path.is_file():
        for name, raw in _read_toml(path, errors).items():
            field_name, parse = TOML_KEYS[name]
            try:
                values[field_name] = parse(raw)
            except _Invalid as exc:
                shown = "valeur masquée" if name in _SECRET_KEYS else _shown(raw)
                errors.append(f"{path} : « {name} » {exc} (reçu : {shown})")
    elif explicit:
        errors.append(f"{path} : fichier de configuration introuvable")

    for variable, (field_name, parse) in ENV_VARIABLES.items():
        raw = environ.get(variable)
        if raw is None or not raw.strip():
            continue
        try:
            values[field_name] = parse(raw)
        except _Invalid as exc:
            shown = "valeur masquée" if variable in _SECRET_VARIABLES else _shown(raw)
            errors.append(f"environnement : « {variable} » {exc} (reçu : {shown})")

    for option, raw in (options or {}).items():
        if raw is None:
            continue
        field_name, parse = RUN_OPTIONS[option]
        try:
            values[field_name] = parse(raw)
        except _Invalid as exc:
            errors.append(f"option {option} : {exc} (reçu : {_shown(raw)})")

    errors += _shard_errors(values)
    if errors:
        raise ConfigError(errors)
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in values.items() if k in known})
