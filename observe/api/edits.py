"""Edit endpoints of /api/v1: DestinationRule circuit breakers and the audit log.

Reads (GET) are open. Every write (POST) first passes `WriteAuth.authorize` — a refusal is audited with who the
caller claimed to be and why, and nothing is read or written — then its body is read to its end with a 64 KiB
cap (413 past it, whether announced by Content-Length or not), must be a JSON object with known fields only
(nesting too deep for the parser is refused like any invalid JSON), and goes to the EditService pipeline.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from observe.actions.audit import Actor
from observe.actions.destination_rules import PolicyChange
from observe.api.auth import WriteAuth, unauthorized_headers
from observe.errors import (
    BadQuery,
    Forbidden,
    InvalidEdit,
    ObserveError,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from observe.services.edits import EditService

MAX_BODY_BYTES = 64 * 1024
MAX_AUDIT_LIMIT = 500
EDIT_FIELDS = {"preset", "spec", "subset", "dry_run", "reason"}
REVERT_FIELDS = {"reason", "force", "dry_run"}
WriteHandler = Callable[[web.Request, Actor], Awaitable[web.StreamResponse]]


async def read_json_object(request: web.Request, allowed: set[str], *, required: bool = True,
                           invalid: type[ObserveError] = InvalidEdit) -> dict[str, Any]:  # fmt: skip
    """The request body as a JSON object of known fields; 413 / 415 / `invalid` (422 by default) otherwise."""
    too_large = PayloadTooLarge(f"request body over {MAX_BODY_BYTES} bytes", field="body")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise too_large
    raw = bytearray()  # to the end: one read returns only what has arrived, a body may come in many TCP pieces
    async for chunk in request.content.iter_chunked(16 * 1024):
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise too_large
    if not raw.strip() and not required:
        return {}
    if request.content_type != "application/json":
        raise UnsupportedMediaType("request body must be application/json", field="body")
    try:
        body = json.loads(raw)
    except UnicodeDecodeError:
        raise invalid("request body is not UTF-8", field="body") from None
    except json.JSONDecodeError as exc:
        raise invalid(f"request body is not valid JSON: {exc.msg}", field="body") from None
    except RecursionError:
        raise invalid("request body is nested too deeply", field="body") from None
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object", field="body")
    for name in body:
        if name not in allowed:
            raise invalid(f"{str(name)[:40]}: unknown field; allowed are {', '.join(sorted(allowed))}",
                          field=str(name)[:40])  # fmt: skip
    return body


def typed(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    """body[name] (or `default`) when of type `kind` (a bool is no int here); 422 naming the field otherwise."""
    value = body.get(name, default)
    if value is not None and (not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))):
        raise InvalidEdit(f"{name}: wrong type {type(value).__name__}", field=name)
    return value


def write_options(body: dict[str, Any]) -> dict[str, Any]:
    """The `reason` and `dry_run` every write takes, as keyword arguments for the service."""
    return {"reason": typed(body, "reason", str, "") or "", "dry_run": bool(typed(body, "dry_run", bool, False))}


def policy_change(body: dict[str, Any]) -> PolicyChange:
    return PolicyChange(preset=typed(body, "preset", str, None), values=typed(body, "spec", dict, None) or {},
                        subset=typed(body, "subset", str, None))  # fmt: skip


class EditHandlers:
    def __init__(self, service: EditService, auth: WriteAuth) -> None:
        self.service = service
        self.auth = auth

    def write(self, handler: WriteHandler, target: Callable[[web.Request], str]) -> Callable[..., Any]:
        """Wrap a write handler with the auth check; a refusal is audited and answered 401/403."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                actor = self.auth.authorize(request)
            except (Unauthorized, Forbidden) as exc:
                await self.service.record_denial(self.auth.claimed(request), f"{request.method} {request.path}",
                                                 target(request), exc.message)  # fmt: skip
                headers = unauthorized_headers() if isinstance(exc, Unauthorized) else None
                return web.json_response(exc.to_wire(), status=exc.status, headers=headers)
            return await handler(request, actor)

        return guarded

    async def get_rule(self, request: web.Request) -> web.Response:
        ns, host = request.match_info["namespace"], request.match_info["host"]
        return web.json_response({"object": await self.service.get_destination_rule(ns, host)})

    async def post_rule(self, request: web.Request, actor: Actor) -> web.Response:
        body = await read_json_object(request, EDIT_FIELDS)
        result = await self.service.edit_destination_rule(
            request.match_info["namespace"], request.match_info["host"], policy_change(body), actor,
            **write_options(body),
        )  # fmt: skip
        return web.json_response(result.to_wire())

    async def audit(self, request: web.Request) -> web.Response:
        raw = request.query.get("limit", "50")
        if not raw.isdecimal() or not 1 <= int(raw) <= MAX_AUDIT_LIMIT:
            raise BadQuery(f"invalid limit {raw[:20]!r}: an integer from 1 to {MAX_AUDIT_LIMIT}", field="limit")
        entries = await self.service.history(limit=int(raw), target=request.query.get("target") or None)
        return web.json_response({"entries": [e.to_wire() for e in entries]})

    async def revert(self, request: web.Request, actor: Actor) -> web.Response:
        raw = request.match_info["id"]
        if not raw.isdecimal():
            raise BadQuery(f"invalid audit id {raw[:20]!r}", field="id")
        body = await read_json_object(request, REVERT_FIELDS, required=False)
        force = bool(typed(body, "force", bool, False))
        result = await self.service.revert(int(raw), actor, force=force, **write_options(body))
        return web.json_response(result.to_wire())


def register_edit_routes(app: web.Application, service: EditService, auth: WriteAuth) -> None:
    handlers = EditHandlers(service, auth)

    def rule_target(r: web.Request) -> str:
        return f"DestinationRule/{r.match_info['namespace'][:63]}/{r.match_info['host'][:253]}"

    app.router.add_get("/api/v1/destination-rules/{namespace}/{host}", handlers.get_rule)
    app.router.add_post("/api/v1/destination-rules/{namespace}/{host}", handlers.write(handlers.post_rule, rule_target))
    app.router.add_get("/api/v1/audit", handlers.audit)
    app.router.add_post("/api/v1/audit/{id}/revert",
                        handlers.write(handlers.revert, lambda r: f"audit/{r.match_info['id'][:20]}"))  # fmt: skip
