"""`sources.toml`: the metadata (title, publisher, url, published) of a corpus folder's files, by relative path."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path, PurePosixPath

from bot.search.corpus import CorpusError

SOURCES_FILE = "sources.toml"
_KEYS = ("title", "publisher", "url", "published")


def parse_sources(toml_path: Path, text: str, warnings: list[str]) -> dict[str, dict[str, str]]:
    """The metadata of each `[[document]]` entry of `text`, by its `file`; raises CorpusError naming the line
    when the file is invalid."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        where = f", ligne {match.group(1)}" if match else ""
        raise CorpusError(f"{toml_path}{where} : fichier TOML invalide ({exc}).") from None
    entries = data.get("document", [])
    if not isinstance(entries, list):
        raise CorpusError(f"{toml_path} : « document » doit être une liste de tables [[document]].")
    sources: dict[str, dict[str, str]] = {}
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise CorpusError(f"{toml_path} : l'entrée [[document]] n° {number} n'a pas de clé « file ».")
        meta: dict[str, str] = {}
        for key in _KEYS:
            value = entry.get(key)
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                value = value.date()
            meta[key] = value.isoformat() if isinstance(value, dt.date) else str(value)
        name = PurePosixPath(entry["file"]).as_posix()  # "./a.txt" is "a.txt"
        if name in sources:
            warnings.append(f"{SOURCES_FILE} : le fichier « {name} » a plusieurs entrées ; la dernière est gardée.")
        sources[name] = meta
    return sources
