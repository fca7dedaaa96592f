"""The observe Dash UI: topology, side panel, traces and kiosk screens.

It talks to the observe API over HTTP only, through `dashboards.backend`; `create_app(api_url)` builds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["create_app"]

if TYPE_CHECKING:
    from dash import Dash


def create_app(api_url: str, **options: Any) -> Dash:
    """Build the Dash app (imported lazily so `import dashboards` stays cheap for pure helpers)."""
    from dashboards.app import create_app as _create_app

    return _create_app(api_url, **options)
