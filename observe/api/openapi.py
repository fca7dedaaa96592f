"""`GET /api/v1/openapi.json`: the hand-maintained openapi.yaml (shipped as package data), served as JSON.

Parsed once per process; tests keep it in step with the router (tests/unit/api/test_openapi.py).
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

import yaml
from aiohttp import web


@functools.cache
def document() -> dict[str, Any]:
    text = importlib.resources.files("observe.api").joinpath("openapi.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document())
