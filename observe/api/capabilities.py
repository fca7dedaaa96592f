"""GET /api/v1/capabilities: what this server lets a client do, so a UI renders only the controls that work.

`edits.enabled`: the edit endpoints exist (a rules directory or cluster applier is configured); `edits.writes`:
writes are allowed (`--allow-writes`) — each write still needs credentials. `presets`: the circuit-breaker
presets' trafficPolicy values, so a form can show them before anyone previews. Open like every read; it says
nothing about tokens or users.
"""

from __future__ import annotations

from aiohttp import web

from observe.actions.destination_rules import PRESETS
from observe.api import keys


async def capabilities(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    enabled = bool(settings.rules_dir or settings.kube)
    return web.json_response({
        "edits": {"enabled": enabled, "writes": enabled and settings.allow_writes},
        "presets": {name: preset.to_wire() for name, preset in PRESETS.items()},
    })  # fmt: skip


def register_capabilities_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/capabilities", capabilities)
