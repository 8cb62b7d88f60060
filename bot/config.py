"""Bot settings: defaults, then `config/bot.toml`, then environment variables, then command-line options.

One table, the `Settings` class itself, gives for each setting its TOML key, environment variable, command-line
option, kind (how a value is read, within which bounds: `bot.setting_kinds`), default and French description;
reading the file, the environment and the options, and every check, work from it. Every invalid value is reported
with where it was given and the reason (in French) before anything starts. Secrets (the Discord token, a database
address) never appear in a repr nor in an error message.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bot.ingest.limits import MEGABYTE, DocumentLimits
from bot.search.oserrors import french_os_error
from bot.setting_kinds import (
    BOOLEAN,
    DATABASE_URL,
    LOG_LEVEL,
    MAX_SHARDS,
    PATH,
    SHARD_IDS,
    SNOWFLAKE,
    TOKEN,
    InvalidValue,
    Kind,
    name,
    number,
    url,
    whole,
)

DEFAULT_CONFIG_FILE = Path("config/bot.toml")

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ENV_VARIABLES",
    "SETTINGS",
    "ConfigError",
    "Setting",
    "Settings",
    "load_settings",
]


class ConfigError(ValueError):
    """Invalid configuration; the French message names every bad key and why it is refused."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# --- the table ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One row of the settings table: where a setting is given, how it is read and what it means (in French)."""

    attribute: str
    default: Any
    toml: str | None  # "section.key"; None: from the environment only (a secret has no place in a shared file)
    env: str
    kind: Kind
    description: str
    option: str | None  # the command-line option that overrides it, if any
    secret: bool  # never shown: not in a repr, not in an error message


def _setting(
    default: Any,
    toml: str | None,
    env: str,
    kind: Kind,
    description: str,
    *,
    option: str | None = None,
    secret: bool = False,
) -> Any:
    """A `Settings` field carrying its row of the table."""
    row = {"toml": toml, "env": env, "kind": kind, "description": description, "option": option, "secret": secret}
    return field(default=default, repr=not secret, metadata={"setting": row})


@dataclass(frozen=True)
class Settings:
    """Everything the bot process needs to start; immutable once loaded. Each field is a row of the table:
    default, TOML key, environment variable, kind, then the option that overrides it, and the description."""

    # fmt: off
    corpus_path: Path = _setting(  # noqa: RUF009 (a Path is immutable)
        Path("seeds"), "corpus.path", "BOT_CORPUS", PATH, option="--corpus",
        description="dossier des documents (.txt, .md, .html, .pdf) ou fichier .jsonl à indexer")
    corpus_text_field: str = _setting(
        "text", "corpus.text_field", "BOT_CORPUS_TEXT_FIELD", name(64), option="--text-field",
        description="champ qui porte le texte des objets d'un corpus .jsonl")
    corpus_title_field: str = _setting(
        "title", "corpus.title_field", "BOT_CORPUS_TITLE_FIELD", name(64), option="--title-field",
        description="champ qui porte le titre des objets d'un corpus .jsonl")
    database_path: Path = _setting(  # noqa: RUF009
        Path("data/bot.sqlite3"), "database.path", "BOT_DATABASE", PATH, option="--database",
        description="journal SQLite des questions ; l'index enregistré va dans son dossier")
    database_url: str | None = _setting(
        None, "database.url", "BOT_DATABASE_URL", DATABASE_URL, secret=True,
        description="journal partagé par plusieurs processus, dans PostgreSQL")
    max_answer_chars: int = _setting(
        600, "answers.max_chars", "BOT_MAX_ANSWER_CHARS", whole(50, 4000), option="--max-chars",
        description="longueur maximale d'une réponse, en caractères")
    min_confidence: float | None = _setting(
        None, "answers.min_confidence", "BOT_MIN_CONFIDENCE", number(0.0, 1.0),
        description="seuil de confiance sous lequel le bot répond « pas trouvé » (absent : celui du moteur)")
    semantic: bool = _setting(
        True, "answers.semantic", "BOT_SEMANTIC", BOOLEAN,
        description="vérifier avec le modèle de phrases que la réponse parle de la question (false : lexical seul)")
    semantic_threads: int = _setting(
        1, "answers.semantic_threads", "BOT_SEMANTIC_THREADS", whole(1, 64),
        description="threads de calcul du modèle de phrases")
    reader: bool = _setting(
        True, "answers.reader", "BOT_READER", BOOLEAN,
        description="choisir la phrase citée et le gras avec le lecteur entraîné, qui baisse aussi la confiance d'une "
        "citation où il ne trouve pas de réponse (false : sans lui)")
    rate_limit_count: int = _setting(
        5, "rate_limit.count", "BOT_RATE_LIMIT", whole(1, 1000),
        description="nombre de questions permises par membre sur la fenêtre")
    rate_limit_seconds: float = _setting(
        60.0, "rate_limit.window_seconds", "BOT_RATE_WINDOW", number(1.0, 86_400.0),
        description="fenêtre glissante de ces questions, en secondes")
    retention_days: int = _setting(
        0, "retention.days", "BOT_RETENTION_DAYS", whole(0, 36_500),
        description="conservation du journal en jours, pour les serveurs sans réglage propre (0 : indéfiniment)")
    log_level: str = _setting(
        "INFO", "logging.level", "BOT_LOG_LEVEL", LOG_LEVEL,
        description="niveau des journaux")
    discord_token: str | None = _setting(
        None, None, "DISCORD_TOKEN", TOKEN, secret=True,
        description="jeton du bot (fichier .env, jamais dans config/bot.toml)")
    dev_guild_id: int | None = _setting(
        None, None, "DISCORD_DEV_GUILD_ID", SNOWFLAKE,
        description="serveur de test où les commandes sont synchronisées aussitôt")
    api_base: str | None = _setting(
        None, None, "DISCORD_API_BASE", url("http", "https"),
        description="autre adresse de l'API Discord (proxy auto-hébergé, tests locaux)")
    gateway_url: str | None = _setting(
        None, None, "DISCORD_GATEWAY_URL", url("ws", "wss"),
        description="autre adresse de la passerelle Discord")
    documents_max_file_bytes: int = _setting(
        DocumentLimits.max_file_bytes, "documents.max_file_mb", "BOT_DOCUMENTS_MAX_FILE_MB", number(0.1, 25, MEGABYTE),
        description="taille maximale d'un fichier ou d'une page qu'un serveur ajoute, en Mo")
    documents_max_count: int = _setting(
        DocumentLimits.max_documents, "documents.max_documents", "BOT_DOCUMENTS_MAX_DOCUMENTS", whole(1, 100_000),
        description="nombre maximal de documents par serveur")
    documents_max_text_bytes: int = _setting(
        DocumentLimits.max_text_bytes, "documents.max_text_mb", "BOT_DOCUMENTS_MAX_TEXT_MB", number(1, 1000, MEGABYTE),
        description="texte maximal de l'ensemble des documents d'un serveur, en Mo")
    documents_fetch_timeout: float = _setting(
        DocumentLimits.fetch_timeout, "documents.fetch_timeout_seconds", "BOT_DOCUMENTS_FETCH_TIMEOUT", number(1, 60),
        description="délai maximal pour télécharger une page, redirections comprises, en secondes")
    documents_parse_seconds: float = _setting(
        DocumentLimits.parse_seconds, "documents.parse_seconds", "BOT_DOCUMENTS_PARSE_SECONDS", number(1, 600),
        description="temps maximal pour lire un fichier ou une page, une fois son lecteur prêt, en secondes")
    # Off: anyone who may add documents would have the bot read what only its host reaches (see bot.ingest.web).
    documents_allow_private_addresses: bool = _setting(
        False, "documents.allow_private_addresses", "BOT_DOCUMENTS_ALLOW_PRIVATE_ADDRESSES", BOOLEAN,
        description="lire aussi les adresses du réseau privé ou local (à laisser à false)")
    # Discord shards this process runs: None for Discord's recommended count, all in this process;
    # `shard_count` alone runs every shard of that count here.
    shard_ids: tuple[int, ...] | None = _setting(
        None, "discord.shards", "BOT_SHARDS", SHARD_IDS, option="--shards",
        description="shards Discord ouverts par ce processus, avec leur nombre total")
    shard_count: int | None = _setting(
        None, "discord.shard_count", "BOT_SHARD_COUNT", whole(1, MAX_SHARDS), option="--shard-count",
        description="nombre total de shards, tous processus confondus")
    # fmt: on

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


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(item.name, item.default, **item.metadata["setting"]) for item in fields(Settings)
)
ENV_VARIABLES: tuple[str, ...] = tuple(setting.env for setting in SETTINGS)
_BY_TOML = {setting.toml: setting for setting in SETTINGS if setting.toml}
_BY_OPTION = {setting.option: setting for setting in SETTINGS if setting.option}
_BY_ATTRIBUTE = {setting.attribute: setting for setting in SETTINGS}


# --- loading -----------------------------------------------------------------------------------------------

# A Discord bot token (three base64 parts) and the credentials of an address (user part, even with an unencoded
# "/" or "@", and a `password=` parameter): never echoed, wherever they are.
_TOKEN_SHAPE = re.compile(r"[\w-]{20,}\.[\w-]{4,}\.[\w-]{20,}")
_PASSWORD_PARAMETER = re.compile(r"(?i)(?<=password=)[^&\s]*")
_USER_PART = re.compile(r"(?<=://)\S*(?=@)")


def _shown(value: Any, secrets: list[str]) -> str:
    """A refused value as shown in an error message (quoted when text, shortened), or « valeur masquée » when it
    holds a secret given elsewhere or has the shape of a Discord token; an address's credentials are hidden."""
    text = repr(value) if isinstance(value, str) else str(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    if _TOKEN_SHAPE.search(text) or any(secret in text for secret in secrets if len(secret) >= 4):
        return "valeur masquée"
    text = _USER_PART.sub("…", _PASSWORD_PARAMETER.sub("…", text))
    return text if len(text) <= 60 else text[:57] + "…"


def _parse_toml(path: Path) -> dict[str, Any]:
    """The TOML file's content; raises InvalidValue (the French reason) when it cannot be read or parsed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidValue(f"lecture impossible ({french_os_error(exc)})") from None
    try:
        return tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidValue(f"fichier non UTF-8 (octet invalide à la ligne {line}) ; enregistrez-le en UTF-8") from None
    except RecursionError:
        raise InvalidValue("fichier TOML invalide : tableaux ou tables imbriqués trop profondément") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidValue(_syntax_error(str(exc))) from None
    except ValueError:  # an integer of more than 4,300 digits
        raise InvalidValue("fichier TOML invalide : un nombre est trop long") from None


def _syntax_error(message: str) -> str:
    """tomllib's message with its place in French words: "fichier TOML invalide, ligne 2, colonne 7 (…)"."""
    found = re.fullmatch(r"(?s)(.*) \(at (?:line (\d+), column (\d+)|end of document)\)", message)
    if found is None:
        return f"fichier TOML invalide ({message})"
    detail, line, column = found.groups()
    return f"fichier TOML invalide, {f'ligne {line}, colonne {column}' if line else 'à la fin'} ({detail})"


def _read_toml(path: Path, errors: list[str]) -> dict[str, Any]:
    """Flatten the TOML file into {"section.key": value}, reporting unknown keys."""
    try:
        data = _parse_toml(path)
    except InvalidValue as exc:
        errors.append(f"{path} : {exc}")
        return {}
    sections = ", ".join(sorted({key.split(".")[0] for key in _BY_TOML}))
    values: dict[str, Any] = {}
    for section, content in data.items():
        items = content.items() if isinstance(content, dict) else [(None, content)]
        for key, value in items:
            name = section if key is None else f"{section}.{key}"
            if name in _BY_TOML:
                values[name] = value
            elif section == "discord" or "token" in name.lower():
                errors.append(
                    f"{path} : clé inconnue « {name} » (le jeton Discord se met "
                    "dans la variable d'environnement DISCORD_TOKEN, fichier .env)"
                )
            elif key is None:
                errors.append(f"{path} : clé inconnue « {name} » (attendu : une section parmi {sections})")
            else:
                errors.append(f"{path} : clé inconnue « {name} »")
    return values


def _config_path(config_file: Path | None, environ: Mapping[str, str], errors: list[str]) -> Path | None:
    """The TOML file to read: `config_file`, else `$BOT_CONFIG`, else the default one when it exists."""
    chosen = config_file if config_file is not None else environ.get("BOT_CONFIG", "").strip()
    path = Path(chosen or DEFAULT_CONFIG_FILE)
    if path.is_file():
        return path
    if chosen:
        reason = "n'est pas un fichier" if path.exists() else "fichier de configuration introuvable"
        errors.append(f"{path} : {reason}")
    return None


def _where(attribute: str) -> str:
    setting = _BY_ATTRIBUTE[attribute]
    return f"« {setting.toml.split('.')[-1] if setting.toml else ''} », {setting.env} ou {setting.option}"


def _shard_errors(values: dict[str, Any]) -> list[str]:
    """What is wrong with the shard settings once every source is merged (ids need a count that covers them)."""
    ids, count = values.get("shard_ids"), values.get("shard_count")
    if ids is None:
        return []
    if count is None:
        return [
            f"shards : la liste des shards ({_where('shard_ids')}) demande aussi leur nombre total "
            f"({_where('shard_count')})"
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
    """Build the settings from defaults, the TOML file, the environment and command-line options (in that order).

    The file is `config_file`, else `$BOT_CONFIG`, else `config/bot.toml` (relative to the current directory);
    only the default file may be missing. Empty environment variables count as unset; so do options given as None
    (`options` maps option names, such as "--max-chars", to their text). Raises `ConfigError` listing every
    invalid or unknown key.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    errors: list[str] = []
    given: list[tuple[Setting, Any, str]] = []  # (setting, value as given, where), later ones win
    path = _config_path(config_file, environ, errors)
    if path is not None:
        given += [(_BY_TOML[key], raw, f"{path} : « {key} »") for key, raw in _read_toml(path, errors).items()]
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is not None and raw.strip():
            given.append((setting, raw, f"environnement : « {setting.env} »"))
    given += [
        (_BY_OPTION[option], raw, f"option {option} :") for option, raw in (options or {}).items() if raw is not None
    ]

    secrets = [str(raw).strip() for setting, raw, _ in given if setting.secret]
    values: dict[str, Any] = {}
    for setting, raw, where in given:
        try:
            values[setting.attribute] = setting.kind.parse(raw)
        except InvalidValue as exc:
            shown = "valeur masquée" if setting.secret else _shown(raw, secrets)
            errors.append(f"{where} {exc} (reçu : {shown})")
    errors += _shard_errors(values)
    if errors:
        raise ConfigError(errors)
    return Settings(**values)
