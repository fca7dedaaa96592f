"""ARIA attributes for Dash html components (which take them as `aria-*` keyword arguments)."""

from __future__ import annotations

from typing import Any


def aria(**attributes: str) -> dict[str, Any]:
    """`aria(live="polite")` → `{"aria-live": "polite"}`, to splat into a component: `html.Div(**aria(...))`."""
    return {f"aria-{name.replace('_', '-')}": value for name, value in attributes.items()}
