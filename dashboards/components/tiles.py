"""Kiosk tiles: big colour-and-text status per watched service or release, readable across a room."""

from __future__ import annotations

from datetime import UTC, datetime

from dash import html

from dashboards.components.a11y import aria
from dashboards.figures import format as fmt
from dashboards.figures.tiles import Tile


def tile_card(tile: Tile) -> html.Div:
    status = tile.health.text.upper() if tile.health.text else "NO STATUS"
    return html.Div(
        [
            html.Div(tile.name, className="tile-name"),
            html.Div(status, className="tile-status"),
            html.Dl([
                html.Dt("RPS"), html.Dd(fmt.rps(tile.rps).removesuffix(" rps")),
                html.Dt("Success"), html.Dd(fmt.percent(tile.success)),
                html.Dt("P99"), html.Dd(fmt.millis(tile.p99_ms)),
            ], className="tile-numbers"),
            html.Div(tile.note, className="tile-note") if tile.note else None,
        ],
        className=f"tile {tile.health.value}",
        role="status",
        **aria(label=f"{tile.name}: {tile.health.value}"),
    )  # fmt: skip


def tile_grid(tiles: list[Tile], *, as_of: float | None, window: str, refresh_s: int) -> list[html.Div]:
    """A status line (so a viewer across the room knows the screen is live), then the tiles."""
    when = datetime.fromtimestamp(as_of, tz=UTC).strftime("%H:%M:%S UTC") if as_of else "–"
    refresh = f"refreshing every {refresh_s} s" if refresh_s else "not refreshing"
    status = html.Div(f"observe · data as of {when} · window {window} · {refresh}", className="kiosk-status")
    if not tiles:
        return [status, html.Div("Nothing to watch: no app has traffic in this window.", className="tile-empty")]
    return [status, html.Div([tile_card(t) for t in tiles], className="tile-grid")]
