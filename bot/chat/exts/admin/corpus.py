"""The shared corpus: `/admin reindexer` reloads it from disk while the old index keeps answering."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import discord

from bot.chat import messages
from bot.chat.embeds import truncate
from bot.chat.exts.admin._groups import ADMIN, Area
from bot.chat.reindexing import ReindexInProgress
from bot.chat.replies import respond
from bot.search.corpus import CorpusError

log = logging.getLogger(__name__)

_HOST_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[/\\][^\s/\\:,;«»()]+)+[/\\]([^\s/\\:,;«»()]+)")


def moderator_error(error: Exception, corpus: Path) -> str:
    """What moderators may read of a failed re-indexing: a corpus error names files relative to the corpus folder
    and no other path of the host; any other failure is only said to be logged (its details may hold paths)."""
    if not isinstance(error, CorpusError):
        return messages.REINDEX_INTERNAL
    text = str(error)
    for root in sorted({str(corpus), str(corpus.resolve())}, key=len, reverse=True):
        text = text.replace(root.rstrip("/\\") + "/", "")
    return _HOST_PATH.sub(lambda match: match.group(1), text)


class CorpusCommands(Area):
    """Re-indexing the shared corpus without restarting the bot."""

    @ADMIN.command(name="reindexer", description=messages.REINDEX_COMMAND)
    async def reindexer(self, interaction: discord.Interaction) -> None:
        """Rebuild the index; the old one keeps serving until the new one is ready, or if it fails."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        started = time.perf_counter()
        try:
            engine = await self.bot.reindex()
        except ReindexInProgress:
            await respond(interaction, messages.REINDEX_RUNNING)
            return
        except Exception as exc:
            if not isinstance(exc, CorpusError):
                log.exception("re-indexing failed")
            error = truncate(discord.utils.escape_mentions(moderator_error(exc, self.bot.settings.corpus_path)), 1500)
            await respond(interaction, messages.REINDEX_FAILED.format(error=error))
            return
        seconds = time.perf_counter() - started
        await respond(interaction, messages.reindexed(engine.document_count, engine.passage_count, seconds))
