"""The one pager of the moderator commands: ◀ ▶ buttons over a list read a page at a time from the database."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

import discord

from bot.chat import messages
from bot.chat.replies import NO_MENTIONS, OwnerView, respond

log = logging.getLogger(__name__)

PAGER_TIMEOUT_SECONDS = 600.0

# Draws one page: (page number from 0, page count) -> the embed, read fresh from the database.
PageRenderer = Callable[[int, int], Awaitable[discord.Embed]]


class Pager(OwnerView):
    """◀ ▶ buttons over a list of `total` items shown `page_size` at a time; only `owner_id` can page."""

    def __init__(
        self,
        render: PageRenderer,
        *,
        owner_id: int,
        total: int,
        page_size: int,
        not_yours: str = messages.NOT_YOUR_PAGER,
    ) -> None:
        super().__init__(owner_id=owner_id, not_yours=not_yours, timeout=PAGER_TIMEOUT_SECONDS)
        self._render = render
        self.total = total
        self.page_size = page_size
        self.page = 0
        self._shown_to: discord.Interaction | None = None  # whose response shows the pager, greyed out on timeout
        self._sync_buttons()

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    def _sync_buttons(self) -> None:
        self.previous_page.disabled = self.page <= 0
        self.next_page.disabled = self.page >= self.pages - 1

    async def render(self) -> discord.Embed:
        """The embed of the current page."""
        return await self._render(self.page, self.pages)

    async def show(self, interaction: discord.Interaction) -> None:
        """Answer `interaction` with the first page and the buttons (privately)."""
        self._shown_to = interaction
        await respond(interaction, embed=await self.render(), view=self)

    async def on_timeout(self) -> None:
        """Grey the buttons out once they no longer answer, so that nobody presses a dead button."""
        self.previous_page.disabled = self.next_page.disabled = True
        if self._shown_to is None:
            return
        try:
            await self._shown_to.edit_original_response(view=self, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.info("could not grey out the buttons of a timed-out pager", exc_info=True)

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = min(max(self.page + step, 0), self.pages - 1)
        self._sync_buttons()
        await interaction.response.edit_message(embed=await self.render(), view=self, allowed_mentions=NO_MENTIONS)

    @discord.ui.button(emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous_page(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next_page(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await self._turn(interaction, +1)
