"""What the stand-in's Discord holds: users, roles, channels, members, guilds, commands, messages, interactions.

The classes render themselves as the JSON objects Discord sends; `DiscordState` is the world the REST
routes read and change and the gateway announces. Nothing here does any I/O.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

API_VERSION = 10
DISCORD_EPOCH_MS = 1_420_070_400_000
ALL_PERMISSIONS = (1 << 50) - 1

# Permission bits used by the default world (values from Discord's documentation).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_APPLICATION_COMMANDS = 1 << 31
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
MEMBER_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)


# Interaction and option types.
INTERACTION_PING = 1
INTERACTION_COMMAND = 2
INTERACTION_COMPONENT = 3
OPTION_SUB_COMMAND = 1
OPTION_SUB_COMMAND_GROUP = 2
OPTION_STRING = 3
OPTION_INTEGER = 4
OPTION_BOOLEAN = 5
OPTION_USER = 6
OPTION_CHANNEL = 7
OPTION_ROLE = 8
OPTION_NUMBER = 10
OPTION_ATTACHMENT = 11

# Interaction callback types that acknowledge an interaction.
CALLBACK_MESSAGE = 4
CALLBACK_DEFERRED_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_MODAL = 9
EPHEMERAL_FLAG = 1 << 6

_snowflake_counter = itertools.count()


@dataclass(frozen=True)
class Upload:
    """A file a user attaches to a slash command's attachment option; the stand-in serves its bytes."""

    filename: str
    data: bytes
    content_type: str = "text/plain; charset=utf-8"


def snowflake() -> int:
    """Return a fresh Discord-style id whose timestamp part is now."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_snowflake_counter) & 0x3FFFFF)


def iso_now() -> str:
    """Return the current UTC time in Discord's ISO-8601 format."""
    return datetime.now(UTC).isoformat()


@dataclass
class FakeUser:
    """A Discord user."""

    id: int
    username: str
    bot: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The user object as Discord sends it."""
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.username,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass
class FakeRole:
    """A guild role."""

    id: int
    name: str
    permissions: int
    position: int = 0

    @property
    def mention(self) -> str:
        """How a role mention looks in message text."""
        return f"<@&{self.id}>"

    def to_dict(self) -> dict[str, Any]:
        """The role object as Discord sends it."""
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": True,
            "flags": 0,
        }


@dataclass
class FakeChannel:
    """A guild text channel, a thread or a DM channel."""

    id: int
    name: str
    guild_id: int | None
    type: int = 0  # 0 text, 1 DM, 11 public thread, 15 forum
    position: int = 0
    parent_id: int | None = None
    owner_id: int | None = None
    recipient: FakeUser | None = None

    @property
    def mention(self) -> str:
        """How a channel mention looks in message text."""
        return f"<#{self.id}>"

    def to_dict(self) -> dict[str, Any]:
        """The channel object as Discord sends it."""
        data: dict[str, Any] = {"id": str(self.id), "type": self.type, "flags": 0}
        if self.type == 1:
            data.update(
                last_message_id=None,
                recipients=[self.recipient.to_dict()] if self.recipient else [],
            )
            return data
        data.update(
            name=self.name,
            guild_id=str(self.guild_id),
            position=self.position,
            permission_overwrites=[],
            nsfw=False,
            parent_id=str(self.parent_id) if self.parent_id else None,
            last_message_id=None,
            rate_limit_per_user=0,
            topic=None,
        )
        if self.type == 15:
            data.update(available_tags=[], default_reaction_emoji=None, default_sort_order=None, default_forum_layout=0)
        if self.type in (10, 11, 12):
            data.update(
                owner_id=str(self.owner_id) if self.owner_id else None,
                member_count=1,
                message_count=0,
                total_message_sent=0,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": iso_now(),
                    "locked": False,
                    "create_timestamp": iso_now(),
                },
            )
        return data


@dataclass
class FakeMember:
    """A user's membership in a guild."""

    user: FakeUser
    roles: list[int] = field(default_factory=list)
    joined_at: str = field(default_factory=iso_now)

    @property
    def id(self) -> int:
        """The member's user id."""
        return self.user.id

    @property
    def mention(self) -> str:
        """How a user mention looks in message text."""
        return f"<@{self.user.id}>"

    def to_dict(self, *, with_user: bool = True, permissions: int | None = None) -> dict[str, Any]:
        """The guild member object as Discord sends it."""
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "joined_at": self.joined_at,
            "nick": None,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.to_dict()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class FakeGuild:
    """A guild with roles, text channels and members."""

    id: int
    name: str
    owner: FakeMember
    everyone: FakeRole
    moderator_role: FakeRole
    bot_role: FakeRole
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    roles: dict[int, FakeRole] = field(default_factory=dict)

    def channel(self, name: str) -> FakeChannel:
        """The text channel with that name."""
        for ch in self.channels.values():
            if ch.name == name:
                return ch
        raise KeyError(name)

    def member(self, name: str) -> FakeMember:
        """The member with that username."""
        for m in self.members.values():
            if m.user.username == name:
                return m
        raise KeyError(name)

    @property
    def text_channels(self) -> list[FakeChannel]:
        """Text channels, in position order."""
        return sorted((c for c in self.channels.values() if c.type == 0), key=lambda c: c.position)

    def permissions_of(self, user_id: int) -> int:
        """Guild-level permissions of a member (no channel overwrites in this world)."""
        if user_id == self.owner.id:
            return ALL_PERMISSIONS
        member = self.members[user_id]
        perms = self.everyone.permissions
        for role_id in member.roles:
            perms |= self.roles[role_id].permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def to_dict(self) -> dict[str, Any]:
        """The GUILD_CREATE payload."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner.id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "fr",
            "features": [],
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "application_id": None,
            "widget_enabled": False,
            "widget_channel_id": None,
            "joined_at": iso_now(),
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(self.members),
            "roles": [r.to_dict() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "channels": [c.to_dict() for c in self.channels.values() if c.type in (0, 15)],
            "threads": [c.to_dict() for c in self.channels.values() if c.type == 11],
            "members": [m.to_dict() for m in self.members.values()],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "incidents_data": None,
        }


@dataclass
class FakeInteraction:
    """An interaction dispatched to the bot and everything the bot answered to it."""

    id: int
    token: str
    type: int
    guild_id: int | None
    channel_id: int
    user_id: int
    payload: dict[str, Any]
    dispatched_at: float = 0.0
    acked_at: float | None = None
    ack_type: int | None = None
    ack_body: dict[str, Any] | None = None
    late_callbacks: list[float] = field(default_factory=list)
    original: dict[str, Any] | None = None
    original_edits: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    followups: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    @property
    def acked(self) -> bool:
        """Whether a callback was accepted (within Discord's 3-second window)."""
        return self.acked_at is not None

    @property
    def ack_delay(self) -> float | None:
        """Seconds between dispatch and the accepted callback."""
        return None if self.acked_at is None else self.acked_at - self.dispatched_at

    @property
    def ephemeral(self) -> bool:
        """Whether the acknowledgement asked for a private (ephemeral) response."""
        data = (self.ack_body or {}).get("data") or {}
        return bool(int(data.get("flags", 0) or 0) & EPHEMERAL_FLAG)

    def messages(self) -> list[dict[str, Any]]:
        """Every visible message produced for this interaction: the original response, then follow-ups."""
        out: list[dict[str, Any]] = []
        if self.original is not None and (
            self.original.get("content") or self.original.get("embeds") or self.original.get("attachments")
        ):
            out.append(self.original)
        out.extend(m for _, m in self.followups)
        return out

    def answered_at(self) -> float | None:
        """When the first message with content reached the stand-in."""
        times: list[float] = []
        if self.ack_type == CALLBACK_MESSAGE and self.acked_at is not None:
            times.append(self.acked_at)
        times.extend(t for t, body in self.original_edits if body.get("content") or body.get("embeds"))
        times.extend(t for t, _ in self.followups)
        return min(times) if times else None


def guild_shard(guild_id: int, shard_count: int) -> int:
    """The shard a guild's events go to, by Discord's formula `(guild_id >> 22) % shard_count`."""
    return (guild_id >> 22) % shard_count


def snowflake_on_shard(shard_id: int, shard_count: int) -> int:
    """A fresh id for a guild whose events go to shard `shard_id` of `shard_count` (its timestamp nudged forward)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    ms += (shard_id - ms) % shard_count
    return (ms << 22) | (next(_snowflake_counter) & 0x3FFFFF)


class DiscordState:
    """The application, its bot user and its world: guilds, DM channels, commands, messages, interactions."""

    def __init__(self, *, token: str | None = None, bot_name: str = "Savant") -> None:
        self.token = token or f"MTAw.e2e.{secrets.token_urlsafe(24)}"
        self.application_id = snowflake()
        self.bot_user = FakeUser(self.application_id, bot_name, bot=True)
        self.app_owner = FakeUser(snowflake(), "Propriétaire")
        self.guilds: dict[int, FakeGuild] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.uploads: dict[int, Upload] = {}  # attachments of slash commands, by id, served under `cdn_base`
        self.cdn_base = ""  # set by the server once it listens

    # ------------------------------------------------------------------ world building

    def add_guild(
        self,
        name: str,
        *,
        members: Iterable[str] = (),
        moderators: Iterable[str] = (),
        guild_id: int | None = None,
    ) -> FakeGuild:
        """Create a guild with an owner, a moderator role (Manage Server), the bot and two text channels."""
        gid = guild_id or snowflake()
        everyone = FakeRole(gid, "@everyone", MEMBER_PERMISSIONS, 0)
        mod_role = FakeRole(snowflake(), "Modération", MEMBER_PERMISSIONS | MANAGE_GUILD, 2)
        bot_role = FakeRole(snowflake(), self.bot_user.username, MEMBER_PERMISSIONS, 1)
        owner = FakeMember(FakeUser(snowflake(), f"proprio-{name}"))
        guild = FakeGuild(gid, name, owner, everyone, mod_role, bot_role)
        guild.roles = {r.id: r for r in (everyone, mod_role, bot_role)}
        guild.members[owner.id] = owner
        guild.members[self.bot_user.id] = FakeMember(self.bot_user, [bot_role.id])
        for position, channel_name in enumerate(("général", "questions", "hors-sujet")):
            ch = FakeChannel(snowflake(), channel_name, gid, 0, position)
            guild.channels[ch.id] = ch
        for member_name in members:
            self.add_member(guild, member_name)
        for member_name in moderators:
            self.add_member(guild, member_name, roles=[mod_role])
        self.guilds[gid] = guild
        return guild

    def add_member(self, guild: FakeGuild, name: str, *, roles: Iterable[FakeRole] = ()) -> FakeMember:
        """Add a member to a guild (before the bot connects, or announce it yourself)."""
        member = FakeMember(FakeUser(snowflake(), name), [r.id for r in roles])
        guild.members[member.id] = member
        return member

    def add_role(self, guild: FakeGuild, name: str, permissions: int = 0) -> FakeRole:
        """Add a role to a guild."""
        role = FakeRole(snowflake(), name, permissions, len(guild.roles))
        guild.roles[role.id] = role
        return role

    def find_channel(self, channel_id: int) -> FakeChannel | None:
        """Any channel (guild channel, thread or DM) by id."""
        for g in self.guilds.values():
            if channel_id in g.channels:
                return g.channels[channel_id]
        return self.dm_channels.get(channel_id)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and a user (created on first use)."""
        for ch in self.dm_channels.values():
            if ch.recipient is not None and ch.recipient.id == user.id:
                return ch
        ch = FakeChannel(snowflake(), "", None, 1, recipient=user)
        self.dm_channels[ch.id] = ch
        return ch

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages the bot created in a channel through REST (not webhooks)."""
        return [
            m
            for m in self.messages.values()
            if int(m["channel_id"]) == channel_id
            and not m.get("webhook_id")
            and int(m["author"]["id"]) == self.bot_user.id
        ]

    # ------------------------------------------------------------------ what members do (payloads only)

    def command(self, guild_id: int | None, name: str, type_: int = 1) -> dict[str, Any]:
        """The command of that type (1 chat, 3 message) the bot registered under `name` (guild commands first);
        KeyError if none."""
        for cmd in self.guild_commands.get(guild_id or 0, []):
            if cmd["name"] == name and cmd.get("type", 1) == type_:
                return cmd
        for cmd in self.global_commands:
            if cmd["name"] == name and cmd.get("type", 1) == type_:
                return cmd
        known = sorted(
            {c["name"] for c in self.global_commands}
            | {c["name"] for cmds in self.guild_commands.values() for c in cmds}
        )
        raise KeyError(f"command /{name} was not registered by the bot (registered: {known})")

    def new_interaction(
        self, guild: FakeGuild | None, channel: FakeChannel, user: FakeMember | FakeUser, type_: int
    ) -> FakeInteraction:
        """Register an interaction from `user` in `channel`, its payload carrying what Discord sends (no `data`)."""
        iid = snowflake()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": type_,
            "token": token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": channel.to_dict(),
            "locale": "fr",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild is not None:
            assert isinstance(user, FakeMember)
            perms = guild.permissions_of(user.id)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "fr", "features": []},
                guild_locale="fr",
                member=user.to_dict(permissions=perms),
                app_permissions=str(guild.permissions_of(self.bot_user.id)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
            user_id = user.id
        else:
            u = user.user if isinstance(user, FakeMember) else user
            payload.update(
                user=u.to_dict(),
                app_permissions=str(MEMBER_PERMISSIONS),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
            user_id = u.id
        inter = FakeInteraction(iid, token, type_, guild.id if guild else None, channel.id, user_id, payload)
        self.interactions[iid] = inter
        return inter

    def command_data(self, guild: FakeGuild | None, command: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """The `data` of a slash command interaction: `command` may hold subcommands ("admin salons liste").

        Option names and types come from what the bot registered, so a renamed option fails loudly here.
        """
        path = command.split()
        cmd = self.command(guild.id if guild else None, path[0])
        resolved: dict[str, Any] = {}
        schema = cmd.get("options") or []
        nested: list[dict[str, Any]] = []
        container = nested
        for sub in path[1:]:
            match = next((o for o in schema if o["name"] == sub and o["type"] in (1, 2)), None)
            if match is None:
                raise KeyError(f"subcommand {sub!r} unknown in /{command}")
            node: dict[str, Any] = {"name": sub, "type": match["type"], "options": []}
            container.append(node)
            container = node["options"]
            schema = match.get("options") or []
        container.extend(self._build_options(guild, schema, values, resolved))
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1, "options": nested}
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    def _build_options(
        self, guild: FakeGuild | None, schema: list[dict[str, Any]], values: Mapping[str, Any], resolved: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Option payloads for `values`, typed by the registered schema; users, channels and roles go to `resolved`."""
        by_name = {o["name"]: o for o in schema}
        options = []
        for name, value in values.items():
            if name not in by_name:
                raise KeyError(f"option {name!r} unknown (known: {sorted(by_name)})")
            kind = by_name[name]["type"]
            if kind == OPTION_USER:
                member = value
                user = member.user if isinstance(member, FakeMember) else member
                resolved.setdefault("users", {})[str(user.id)] = user.to_dict()
                if guild is not None and isinstance(member, FakeMember) and user.id in guild.members:
                    resolved.setdefault("members", {})[str(user.id)] = member.to_dict(
                        with_user=False, permissions=guild.permissions_of(user.id)
                    )
                value = str(user.id)
            elif kind == OPTION_CHANNEL:
                ch = value
                data = ch.to_dict()
                data["permissions"] = str(ALL_PERMISSIONS)
                resolved.setdefault("channels", {})[str(ch.id)] = data
                value = str(ch.id)
            elif kind == OPTION_ROLE:
                resolved.setdefault("roles", {})[str(value.id)] = value.to_dict()
                value = str(value.id)
            elif kind == OPTION_ATTACHMENT:
                upload, aid = value, snowflake()
                self.uploads[aid] = upload
                url = f"{self.cdn_base}/attachments/{aid}/{upload.filename}"
                resolved.setdefault("attachments", {})[str(aid)] = {
                    "id": str(aid),
                    "filename": upload.filename,
                    "size": len(upload.data),
                    "url": url,
                    "proxy_url": url,
                    "content_type": upload.content_type,
                }
                value = str(aid)
            options.append({"name": name, "type": kind, "value": value})
        return options

    def user_message(
        self,
        guild: FakeGuild | None,
        channel: FakeChannel,
        author: FakeMember | FakeUser,
        content: str,
        *,
        mentions: Iterable[FakeMember | FakeUser] = (),
        mention_roles: Iterable[FakeRole] = (),
        mention_everyone: bool = False,
        reply_to: Mapping[str, Any] | None = None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        """Record a message a member wrote (with `message_id`, that id: a forum post's first message has its
        thread's) and return its MESSAGE_CREATE payload; with `reply_to`, a reply to that
        message, which Discord sends along (`referenced_message`)."""
        user = author.user if isinstance(author, FakeMember) else author
        mentioned = []
        for m in mentions:
            u = m.user if isinstance(m, FakeMember) else m
            entry = u.to_dict()
            if guild is not None and u.id in guild.members:
                entry["member"] = guild.members[u.id].to_dict(with_user=False)
            mentioned.append(entry)
        message = {
            "id": str(message_id or snowflake()),
            "channel_id": str(channel.id),
            "author": user.to_dict(),
            "content": content,
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": mention_everyone,
            "mentions": mentioned,
            "mention_roles": [str(r.id) for r in mention_roles],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "components": [],
            "nonce": str(snowflake()),
        }
        if guild is not None:
            message["guild_id"] = str(guild.id)
            if isinstance(author, FakeMember):
                message["member"] = author.to_dict(with_user=False)
        if reply_to is not None:
            message["type"] = 19
            message["message_reference"] = {
                "type": 0,
                "message_id": reply_to["id"],
                "channel_id": reply_to["channel_id"],
                **({"guild_id": str(guild.id)} if guild is not None else {}),
            }
            message["referenced_message"] = dict(self.messages.get(int(reply_to["id"]), reply_to))
        self.messages[int(message["id"])] = message
        return message

    # ------------------------------------------------------------------ what the bot creates

    def bot_message(
        self,
        channel_id: int,
        body: Mapping[str, Any],
        files: list[dict[str, Any]],
        *,
        guild_id: int | None,
        webhook: bool = False,
        interaction: FakeInteraction | None = None,
    ) -> dict[str, Any]:
        """Record a message the bot sent (by REST, or as a webhook for an interaction) and return it as Discord does."""
        attachments = []
        for index, f in enumerate(files):
            attachments.append(
                {
                    "id": str(snowflake()),
                    "filename": f["filename"],
                    "size": len(f["content"]),
                    "url": f"https://cdn.invalid/attachments/{index}/{f['filename']}",
                    "proxy_url": f"https://media.invalid/attachments/{index}/{f['filename']}",
                    "content_type": "text/csv" if str(f["filename"]).endswith(".csv") else "application/octet-stream",
                }
            )
        message: dict[str, Any] = {
            "id": str(snowflake()),
            "channel_id": str(channel_id),
            "author": self.bot_user.to_dict(),
            "content": body.get("content") or "",
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": attachments,
            "embeds": list(body.get("embeds") or []),
            "components": list(body.get("components") or []),
            "pinned": False,
            "type": 0,
            "flags": int(body.get("flags") or 0),
            "allowed_mentions": body.get("allowed_mentions"),
        }
        if guild_id is not None:
            message["guild_id"] = str(guild_id)
        if body.get("message_reference"):
            message["type"] = 19
            message["message_reference"] = {
                k: str(v) if k.endswith("_id") and v is not None else v for k, v in body["message_reference"].items()
            }
        if webhook:
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
        if interaction is not None:
            message["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self.user_of(interaction).to_dict(),
                "authorizing_integration_owners": interaction.payload.get("authorizing_integration_owners", {}),
            }
            if interaction.type == INTERACTION_COMMAND:
                message["type"] = 20
        self.messages[int(message["id"])] = message
        return message

    def user_of(self, inter: FakeInteraction) -> FakeUser:
        """The user who started an interaction."""
        if inter.guild_id is not None:
            return self.guilds[inter.guild_id].members[inter.user_id].user
        return FakeUser(inter.user_id, inter.payload.get("user", {}).get("username", "?"))
