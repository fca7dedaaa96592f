"""Number and text formatting shared by the graph labels, the table, the tiles and the charts."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

DASH = "–"  # shown for a number that does not exist (no requests in the window)


def rps(value: float | None) -> str:
    if value is None:
        return DASH
    if value >= 100:
        return f"{value:,.0f} rps"
    return f"{value:.2f} rps" if value < 10 else f"{value:.1f} rps"


def percent(ratio: float | None) -> str:
    """A success rate 0..1 as a percentage: 99.95% stays 99.95%, never rounded up to 100%."""
    if ratio is None:
        return DASH
    value = ratio * 100
    if value >= 99.995 and ratio < 1:
        return "99.99%"
    return f"{value:.2f}%" if value < 100 else "100%"


def millis(value: float | None) -> str:
    if value is None:
        return DASH
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def flags(rates: Mapping[str, Any] | None) -> str:
    """Response flags with a rate, 'UO 0.50/s, UH 0.10/s'; empty when none."""
    active = [(f, v) for f, v in sorted((rates or {}).items()) if v]
    return ", ".join(f"{f} {v:.2f}/s" for f, v in active)


# connection_security_policy of an edge, as text (never a colour or a padlock alone)
SECURITY = {"mutual_tls": "mTLS", "none": "plaintext", "mixed": "mixed"}


def security(value: str | None) -> str:
    """'mTLS', 'plaintext', 'mixed' (some requests plaintext), or '–' when the API could not tell."""
    return SECURITY.get(str(value), DASH) if value else DASH


def mirror(block: Mapping[str, Any]) -> str:
    """An edge's mirrored copies (not part of its RPS): 'mirror 2.00 rps'."""
    return f"mirror {rps(block.get('rps'))}"


def plotly_text(text: str) -> str:
    """Text for plotly (hover, tick labels): plotly reads a subset of HTML in strings (`<a href>`, `<br>`), so
    label values — which come from workload labels and span tags, i.e. from users — are entity-escaped; plotly
    turns the entities back into plain characters."""
    return html.escape(text, quote=True)


def node_name(node: Mapping[str, Any]) -> str:
    """A short readable name of a node for its graph type."""
    kind = node.get("kind")
    if kind == "service":
        return str(node.get("service") or node.get("id"))
    if kind == "workload":
        return str(node.get("workload") or node.get("id"))
    if kind == "app":
        version = node.get("version")
        return f"{node.get('app')} {version}" if version else str(node.get("app"))
    return str(node.get("id", "?"))
