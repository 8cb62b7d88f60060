"""The stand-in's REST API (/api/v10): the routes discord.py calls at start-up and while answering interactions.

Every request is recorded; faults armed with `RestApi.inject` answer 429 (with the rate-limit headers
discord.py reads), 5xx, or a delayed normal answer. Interaction callbacks later than `ack_deadline`
are refused as Discord does after 3 seconds.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .gateway import Gateway
from .recorder import RecordedRequest, Recorder
from .state import (
    CALLBACK_DEFERRED_MESSAGE,
    CALLBACK_DEFERRED_UPDATE,
    CALLBACK_MESSAGE,
    CALLBACK_UPDATE_MESSAGE,
    EPHEMERAL_FLAG,
    DiscordState,
    FakeChannel,
    FakeInteraction,
    iso_now,
    snowflake,
)

ACK_DEADLINE_SECONDS = 3.0


def json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """Build a JSON response whose Content-Type is exactly `application/json`, as discord.py requires."""
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    return web.Response(status=status, body=json.dumps(payload).encode(), headers=all_headers)


def error_response(status: int, message: str, code: int = 0, headers: Mapping[str, str] | None = None) -> web.Response:
    """A Discord-shaped JSON error."""
    return json_response({"message": message, "code": code}, status=status, headers=headers)


@dataclass
class Fault:
    """A misbehaviour armed for matching REST requests."""

    method: str | None
    path: re.Pattern[str]
    status: int | None  # None: answer normally (after `delay`)
    times: int
    retry_after: float = 1.0
    delay: float = 0.0
    scope: str = "user"
    is_global: bool = False
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request."""
        return self.times > 0 and (self.method is None or self.method == method) and bool(self.path.search(path))


class RestApi:
    """Answers REST requests from the state, records them, and misbehaves on demand."""

    def __init__(
        self,
        state: DiscordState,
        recorder: Recorder,
        gateway: Gateway,
        *,
        ack_deadline: float = ACK_DEADLINE_SECONDS,
        recommended_shards: int = 1,
    ) -> None:
        self.state = state
        self.recorder = recorder
        self.gateway = gateway
        self.ack_deadline = ack_deadline
        self.recommended_shards = recommended_shards  # what GET /gateway/bot advises
        self.faults: list[Fault] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def inject(
        self,
        path: str,
        *,
        method: str | None = None,
        status: int | None = None,
        times: int = 1,
        retry_after: float = 1.0,
        delay: float = 0.0,
        scope: str = "user",
        is_global: bool = False,
    ) -> Fault:
        """Arm a fault for the next `times` requests whose path matches the regex `path`.

        status 429 answers a rate limit with `Retry-After`; 5xx answers a server error; None only delays.
        """
        fault = Fault(method, re.compile(path), status, times, retry_after, delay, scope, is_global)
        self.faults.append(fault)
        return fault

    def close(self) -> None:
        """Cancel background work (events announced after a REST call)."""
        for task in list(self._tasks):
            task.cancel()

    def _ratelimit_headers(self, route: str) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": f"e2e-{route}",
        }

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """Handle one request under /api/v{n}/."""
        path = "/" + request.match_info["tail"]
        rec = RecordedRequest(
            at=time.monotonic(),
            method=request.method,
            path=path,
            query=dict(request.query),
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
            body=None,
            files=[],
        )
        rec.headers["Authorization"] = "<present>" if "Authorization" in request.headers else ""
        try:
            await self._read_body(request, rec)
        except ValueError as exc:
            rec.status = 400
            self.recorder.requests.append(rec)
            self.recorder.notify()
            return error_response(400, f"Invalid body: {exc}", 50109)
        route, handler, params = self._route(request.method, path)
        rec.route = route
        self.recorder.requests.append(rec)

        fault = next((f for f in self.faults if f.matches(request.method, path)), None)
        if fault is not None:
            fault.times -= 1
            fault.hits += 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                rec.status = fault.status
                rec.fault = str(fault.status)
                self.recorder.notify()
                return self._fault_response(fault, route)
            rec.fault = f"delay {fault.delay}s"

        if handler is None:
            rec.status = 404
            self.recorder.notify()
            return error_response(404, "404: Not Found")
        needs_auth = route not in {"interaction_callback"} and not route.startswith("webhook")
        if needs_auth and request.headers.get("Authorization") != f"Bot {self.state.token}":
            rec.status = 401
            self.recorder.notify()
            return error_response(401, "401: Unauthorized")
        try:
            response = await handler(request, rec, **params)
        except KeyError as exc:
            response = error_response(404, f"Unknown entity: {exc}", 10003)
        rec.status = response.status
        for key, value in self._ratelimit_headers(route).items():
            response.headers.setdefault(key, value)
        self.recorder.notify()
        return response

    def _fault_response(self, fault: Fault, route: str) -> web.Response:
        if fault.status == 429:
            headers = {
                "Retry-After": f"{fault.retry_after:.3f}",
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + fault.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
                "X-RateLimit-Bucket": f"e2e-{route}",
                "X-RateLimit-Scope": "global" if fault.is_global else fault.scope,
                "Via": "1.1 google",
            }
            if fault.is_global:
                headers["X-RateLimit-Global"] = "true"
            body = {
                "message": "You are being rate limited.",
                "retry_after": fault.retry_after,
                "global": fault.is_global,
                "code": 0,
            }
            return json_response(body, status=429, headers=headers)
        return error_response(int(fault.status or 500), f"{fault.status}: Internal Server Error")

    async def _read_body(self, request: web.Request, rec: RecordedRequest) -> None:
        if not request.can_read_body:
            return
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            form = await request.post()
            for name, value in form.items():
                if name == "payload_json":
                    rec.body = json.loads(str(value))
                elif hasattr(value, "file"):
                    rec.files.append(
                        {"field": name, "filename": value.filename, "content": value.file.read()}  # type: ignore[union-attr]
                    )
            return
        raw = await request.read()
        if not raw:
            return
        if ctype != "application/json":
            raise ValueError(f"unexpected Content-Type {ctype!r}")
        rec.body = json.loads(raw)

    def _route(
        self, method: str, path: str
    ) -> tuple[str, Callable[..., Awaitable[web.Response]] | None, dict[str, str]]:
        for m, pattern, name, handler in self._routes():
            if m != method:
                continue
            match = re.fullmatch(pattern, path)
            if match:
                return name, handler, match.groupdict()
        return "unknown", None, {}

    def _routes(self) -> list[tuple[str, str, str, Callable[..., Awaitable[web.Response]]]]:
        sid = r"(?P<{}>\d+)"
        tok = r"(?P<token>[^/]+)"
        return [
            ("GET", r"/gateway", "gateway", self._get_gateway),
            ("GET", r"/gateway/bot", "gateway_bot", self._get_gateway),
            ("GET", r"/users/@me", "users_me", self._get_me),
            ("GET", r"/oauth2/applications/@me", "application", self._get_application),
            ("GET", r"/applications/@me", "application", self._get_application),
            ("GET", r"/applications/\d+/commands", "commands", self._get_commands),
            ("PUT", r"/applications/\d+/commands", "commands_sync", self._put_commands),
            ("GET", r"/applications/\d+/guilds/" + sid.format("guild") + "/commands", "commands", self._get_commands),
            (
                "PUT",
                r"/applications/\d+/guilds/" + sid.format("guild") + "/commands",
                "commands_sync",
                self._put_commands,
            ),
            (
                "POST",
                r"/interactions/" + sid.format("iid") + "/" + tok + "/callback",
                "interaction_callback",
                self._post_callback,
            ),
            ("POST", r"/webhooks/\d+/" + tok, "webhook_followup", self._post_followup),
            (
                "GET",
                r"/webhooks/\d+/" + tok + r"/messages/(?P<mid>@original|\d+)",
                "webhook_get",
                self._get_webhook_message,
            ),
            (
                "PATCH",
                r"/webhooks/\d+/" + tok + r"/messages/(?P<mid>@original|\d+)",
                "webhook_edit",
                self._patch_webhook_message,
            ),
            (
                "DELETE",
                r"/webhooks/\d+/" + tok + r"/messages/(?P<mid>@original|\d+)",
                "webhook_delete",
                self._delete_webhook_message,
            ),
            ("POST", r"/channels/" + sid.format("cid") + "/messages", "channel_message", self._post_message),
            (
                "PATCH",
                r"/channels/" + sid.format("cid") + "/messages/" + sid.format("mid"),
                "channel_message_edit",
                self._patch_message,
            ),
            (
                "GET",
                r"/channels/" + sid.format("cid") + "/messages/" + sid.format("mid"),
                "channel_message_get",
                self._get_message,
            ),
            (
                "DELETE",
                r"/channels/" + sid.format("cid") + "/messages/" + sid.format("mid"),
                "channel_message_delete",
                self._no_content,
            ),
            (
                "POST",
                r"/channels/" + sid.format("cid") + "/messages/" + sid.format("mid") + "/threads",
                "thread_from_message",
                self._post_thread,
            ),
            ("POST", r"/channels/" + sid.format("cid") + "/threads", "thread", self._post_thread),
            (
                "PUT",
                r"/channels/" + sid.format("cid") + r"/messages/\d+/reactions/[^/]+/@me",
                "reaction",
                self._no_content,
            ),
            (
                "DELETE",
                r"/channels/" + sid.format("cid") + r"/messages/\d+/reactions/[^/]+/@me",
                "reaction_delete",
                self._no_content,
            ),
            ("POST", r"/channels/" + sid.format("cid") + "/typing", "typing", self._no_content),
            ("GET", r"/channels/" + sid.format("cid"), "channel", self._get_channel),
            ("POST", r"/users/@me/channels", "dm_open", self._post_dm),
            ("GET", r"/users/" + sid.format("uid"), "user", self._get_user),
            (
                "GET",
                r"/guilds/" + sid.format("guild") + "/members/" + sid.format("uid"),
                "member",
                self._get_member,
            ),
        ]

    async def _no_content(self, request: web.Request, rec: RecordedRequest, **_: str) -> web.Response:
        return web.Response(status=204)

    async def _get_gateway(self, request: web.Request, rec: RecordedRequest) -> web.Response:
        return json_response(
            {
                "url": f"ws://{request.host}/gateway",
                "shards": self.recommended_shards,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
            }
        )

    async def _get_me(self, request: web.Request, rec: RecordedRequest) -> web.Response:
        return json_response({**self.state.bot_user.to_dict(), "verified": True, "mfa_enabled": False, "email": None})

    async def _get_application(self, request: web.Request, rec: RecordedRequest) -> web.Response:
        return json_response(
            {
                "id": str(self.state.application_id),
                "name": self.state.bot_user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": self.state.app_owner.to_dict(),
                "team": None,
                "verify_key": secrets.token_hex(32),
                "flags": (1 << 15) | (1 << 19),  # gateway guild members + message content (limited)
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(self.state.guilds),
                "bot": self.state.bot_user.to_dict(),
            }
        )

    async def _get_commands(self, request: web.Request, rec: RecordedRequest, guild: str | None = None) -> web.Response:
        cmds = self.state.guild_commands.get(int(guild), []) if guild else self.state.global_commands
        return json_response(cmds)

    async def _put_commands(self, request: web.Request, rec: RecordedRequest, guild: str | None = None) -> web.Response:
        body = rec.body or []
        out = []
        for cmd in body:
            full = {
                "id": str(snowflake()),
                "application_id": str(self.state.application_id),
                "version": str(snowflake()),
                "type": cmd.get("type", 1),
                "name": cmd["name"],
                "description": cmd.get("description", ""),
                "options": cmd.get("options", []),
                # Discord answers permission bitfields as strings, whatever the request held.
                "default_member_permissions": (
                    None if cmd.get("default_member_permissions") is None else str(cmd["default_member_permissions"])
                ),
                "dm_permission": cmd.get("dm_permission", True),
                "contexts": cmd.get("contexts"),
                "integration_types": cmd.get("integration_types", [0]),
                "nsfw": cmd.get("nsfw", False),
                "name_localizations": cmd.get("name_localizations"),
                "description_localizations": cmd.get("description_localizations"),
            }
            if guild:
                full["guild_id"] = guild
            out.append(full)
        if guild:
            self.state.guild_commands[int(guild)] = out
        else:
            self.state.global_commands = out
        return json_response(out)

    def _interaction(self, iid: int | None, token: str) -> FakeInteraction | None:
        if iid is not None:
            inter = self.state.interactions.get(iid)
            return inter if inter is not None and inter.token == token else None
        return next((i for i in self.state.interactions.values() if i.token == token), None)

    async def _post_callback(self, request: web.Request, rec: RecordedRequest, iid: str, token: str) -> web.Response:
        inter = self._interaction(int(iid), token)
        now = time.monotonic()
        if inter is None:
            return error_response(404, "Unknown interaction", 10062)
        if inter.acked:
            return error_response(400, "Interaction has already been acknowledged.", 40060)
        if now - inter.dispatched_at > self.ack_deadline:
            inter.late_callbacks.append(now)
            return error_response(404, "Unknown interaction", 10062)
        body = rec.body or {}
        kind = int(body.get("type", 0))
        inter.acked_at = now
        inter.ack_type = kind
        inter.ack_body = body
        data = body.get("data") or {}
        message: dict[str, Any] | None = None
        if kind in (CALLBACK_MESSAGE, CALLBACK_DEFERRED_MESSAGE):
            message = self.state.bot_message(
                inter.channel_id, data, rec.files, guild_id=inter.guild_id, webhook=True, interaction=inter
            )
            if kind == CALLBACK_DEFERRED_MESSAGE:
                message["flags"] = int(message["flags"]) | (1 << 7)  # LOADING
            inter.original = message
        elif kind in (CALLBACK_UPDATE_MESSAGE, CALLBACK_DEFERRED_UPDATE) and "message" in inter.payload:
            target = inter.payload["message"]
            if kind == CALLBACK_UPDATE_MESSAGE:
                target.update({k: v for k, v in data.items() if k in ("content", "embeds", "components")})
                inter.original_edits.append((now, data))
            message = target
        result: dict[str, Any] = {
            "interaction": {
                "id": str(inter.id),
                "type": inter.type,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": kind == CALLBACK_DEFERRED_MESSAGE,
                "response_message_ephemeral": bool(int(data.get("flags", 0) or 0) & EPHEMERAL_FLAG),
            },
            "resource": {"type": kind, **({"message": message} if message else {})},
        }
        if request.query.get("with_response") in ("1", "true", "True"):
            return json_response(result)
        return web.Response(status=204)

    async def _post_followup(self, request: web.Request, rec: RecordedRequest, token: str) -> web.Response:
        inter = self._interaction(None, token)
        if inter is None or not inter.acked:
            return error_response(404, "Unknown Webhook", 10015)
        body = rec.body or {}
        message = self.state.bot_message(
            inter.channel_id, body, rec.files, guild_id=inter.guild_id, webhook=True, interaction=inter
        )
        if inter.ack_type == CALLBACK_DEFERRED_MESSAGE and not inter.followups and inter.original is not None:
            # The first follow-up after a deferred reply replaces the "thinking" message, as on Discord.
            message["id"] = inter.original["id"]
            message["flags"] = int(message["flags"]) | (int(inter.original["flags"]) & EPHEMERAL_FLAG)
            self.state.messages[int(message["id"])] = message
        inter.followups.append((time.monotonic(), message))
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(message)
        return web.Response(status=204)

    async def _get_webhook_message(
        self, request: web.Request, rec: RecordedRequest, token: str, mid: str
    ) -> web.Response:
        inter = self._interaction(None, token)
        if inter is None:
            return error_response(404, "Unknown Webhook", 10015)
        message = inter.original if mid == "@original" else self.state.messages.get(int(mid))
        if message is None:
            return error_response(404, "Unknown Message", 10008)
        return json_response(message)

    async def _patch_webhook_message(
        self, request: web.Request, rec: RecordedRequest, token: str, mid: str
    ) -> web.Response:
        inter = self._interaction(None, token)
        if inter is None or not inter.acked:
            return error_response(404, "Unknown Webhook", 10015)
        body = rec.body or {}
        if mid == "@original":
            if inter.original is None and "message" in inter.payload:
                inter.original = inter.payload["message"]
            message = inter.original
        else:
            message = self.state.messages.get(int(mid))
        if message is None:
            return error_response(404, "Unknown Message", 10008)
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in body:
                message[key] = body[key]
        if rec.files:
            message["attachments"] = self.state.bot_message(inter.channel_id, {}, rec.files, guild_id=inter.guild_id)[
                "attachments"
            ]
        message["flags"] = int(message.get("flags", 0)) & ~(1 << 7)
        message["edited_timestamp"] = iso_now()
        if mid == "@original":
            inter.original_edits.append((time.monotonic(), body))
        return json_response(message)

    async def _delete_webhook_message(
        self, request: web.Request, rec: RecordedRequest, token: str, mid: str
    ) -> web.Response:
        return web.Response(status=204)

    async def _post_message(self, request: web.Request, rec: RecordedRequest, cid: str) -> web.Response:
        channel = self.state.find_channel(int(cid))
        if channel is None:
            return error_response(404, "Unknown Channel", 10003)
        body = rec.body or {}
        if not (body.get("content") or body.get("embeds") or rec.files or body.get("components")):
            return error_response(400, "Cannot send an empty message", 50006)
        message = self.state.bot_message(channel.id, body, rec.files, guild_id=channel.guild_id)
        return json_response(message)

    async def _patch_message(self, request: web.Request, rec: RecordedRequest, cid: str, mid: str) -> web.Response:
        message = self.state.messages.get(int(mid))
        if message is None:
            return error_response(404, "Unknown Message", 10008)
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in (rec.body or {}):
                message[key] = rec.body[key]
        message["edited_timestamp"] = iso_now()
        return json_response(message)

    async def _get_message(self, request: web.Request, rec: RecordedRequest, cid: str, mid: str) -> web.Response:
        message = self.state.messages.get(int(mid))
        if message is None:
            return error_response(404, "Unknown Message", 10008)
        return json_response(message)

    async def _post_thread(
        self, request: web.Request, rec: RecordedRequest, cid: str, mid: str | None = None
    ) -> web.Response:
        parent = self.state.find_channel(int(cid))
        if parent is None or parent.guild_id is None:
            return error_response(404, "Unknown Channel", 10003)
        body = rec.body or {}
        guild = self.state.guilds[parent.guild_id]
        thread = FakeChannel(
            int(mid) if mid else snowflake(),
            str(body.get("name") or "fil"),
            guild.id,
            int(body.get("type") or 11),
            parent_id=parent.id,
            owner_id=self.state.bot_user.id,
        )
        guild.channels[thread.id] = thread
        data = thread.to_dict()
        self._spawn(self.gateway.dispatch("THREAD_CREATE", {**data, "newly_created": True}))
        return json_response(data, status=201)

    async def _get_channel(self, request: web.Request, rec: RecordedRequest, cid: str) -> web.Response:
        channel = self.state.find_channel(int(cid))
        if channel is None:
            return error_response(404, "Unknown Channel", 10003)
        return json_response(channel.to_dict())

    async def _post_dm(self, request: web.Request, rec: RecordedRequest) -> web.Response:
        uid = int((rec.body or {}).get("recipient_id", 0))
        user = next((m.user for g in self.state.guilds.values() for m in g.members.values() if m.user.id == uid), None)
        if user is None:
            return error_response(404, "Unknown User", 10013)
        return json_response(self.state.dm_channel(user).to_dict())

    async def _get_user(self, request: web.Request, rec: RecordedRequest, uid: str) -> web.Response:
        for g in self.state.guilds.values():
            if int(uid) in g.members:
                return json_response(g.members[int(uid)].user.to_dict())
        return error_response(404, "Unknown User", 10013)

    async def _get_member(self, request: web.Request, rec: RecordedRequest, guild: str, uid: str) -> web.Response:
        g = self.state.guilds.get(int(guild))
        if g is None or int(uid) not in g.members:
            return error_response(404, "Unknown Member", 10007)
        return json_response(g.members[int(uid)].to_dict())

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
