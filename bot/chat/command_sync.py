"""Registering the slash commands with Discord only when they changed.

Syncing on every start would re-sync in a crash loop and can exhaust Discord's daily quota of
command updates, so the hash of the last synced payload is kept per target (global, or the dev
server) in a small file beside the database, in sha256sum's format: `<hex>  global`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import discord
from discord import app_commands

from bot.config import Settings

log = logging.getLogger(__name__)

STATE_FILE_NAME = "commands.sha256"


def state_file(settings: Settings) -> Path:
    """Where the synced hashes live: beside the database, so each deployment has its own."""
    return settings.database_path.parent / STATE_FILE_NAME


class CommandSync:
    """Syncs a command tree globally, or to the dev server when one is set, unless Discord already has it."""

    def __init__(self, path: Path, dev_guild_id: int | None = None) -> None:
        self.path = path
        self.guild = discord.Object(id=dev_guild_id) if dev_guild_id else None

    @classmethod
    def for_settings(cls, settings: Settings) -> CommandSync:
        return cls(state_file(settings), settings.dev_guild_id)

    @property
    def target(self) -> str:
        """The name of the target in the state file: `global` or `guild-<id>`."""
        return f"guild-{self.guild.id}" if self.guild else "global"

    def digest(self, tree: app_commands.CommandTree) -> str:
        """SHA-256 of the JSON payload a sync would send, with the application it goes to."""
        commands = [command.to_dict(tree) for command in tree.get_commands(guild=self.guild)]
        commands.sort(key=lambda payload: (payload.get("type", 1), payload["name"]))
        payload = {"application_id": tree.client.application_id, "commands": commands}
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    async def run(self, tree: app_commands.CommandTree, *, force: bool = False) -> bool:
        """Sync when the tree changed since the last sync to this target (or when forced); True if synced."""
        if self.guild is not None:
            tree.copy_global_to(guild=self.guild)
        digest = self.digest(tree)
        synced_hashes = self._read()
        if not force and synced_hashes.get(self.target) == digest:
            log.info(
                "commandes slash inchangées depuis la dernière synchronisation (%s) : rien à envoyer "
                "(« python -m bot sync » pour forcer)",
                self.target,
            )
            return False
        synced = await tree.sync(guild=self.guild)
        log.info("%d commandes slash synchronisées (%s)", len(synced), self.target)
        synced_hashes[self.target] = digest
        self._write(synced_hashes)
        return True

    def _read(self) -> dict[str, str]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return {}
        except OSError:
            log.warning("lecture de %s impossible : les commandes slash seront synchronisées", self.path, exc_info=True)
            return {}
        result = {}
        for line in lines:
            digest, _, target = line.partition("  ")
            if digest and target:
                result[target.strip()] = digest.strip()
        return result

    def _write(self, hashes: dict[str, str]) -> None:
        text = "".join(f"{digest}  {target}\n" for target, digest in sorted(hashes.items()))
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(self.path)
        except OSError:
            log.warning(
                "écriture de %s impossible : le prochain démarrage synchronisera de nouveau", self.path, exc_info=True
            )
