"""Who may write from this UI: the credentials `observe ui` was given, and when write controls are rendered.

The API needs, on every write, `X-Requested-By: observe` and an identity: a bearer token or a user header set by
an authenticating proxy. The token lives in this server process only (never in a page, a store or a log); the
user header, when `forward_user_header` names one, is copied from the browser's request (as the proxy set it)
so the audit names the person — the API trusts it only from its `trusted_proxies`, so this UI's address must be
one of them. Write controls are rendered only when the API says writes are on AND this UI holds credentials for
the caller: a viewer never sees a control that could only fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import flask

CSRF_HEADER = {"X-Requested-By": "observe"}


@dataclass(frozen=True, slots=True)
class WriteAccess:
    token: str = field(default="", repr=False)
    forward_user_header: str = ""

    def headers(self, incoming: Mapping[str, str]) -> dict[str, str] | None:
        """The headers of a write for the browser request `incoming`, or None: no credentials for this caller.
        A forwarded user comes first (the audit then names a person, not the UI's token)."""
        user = incoming.get(self.forward_user_header, "").strip() if self.forward_user_header else ""
        if user:
            return {**CSRF_HEADER, self.forward_user_header: user}
        if self.token:
            return {**CSRF_HEADER, "Authorization": f"Bearer {self.token}"}
        return None

    def request_headers(self) -> dict[str, str] | None:
        """`headers` for the browser request being served (a Dash callback's POST)."""
        return self.headers(dict(flask.request.headers))

    def may_write(self, capabilities: Mapping[str, Any] | None) -> bool:
        """Whether to render write controls: the API takes writes and this UI holds credentials for the caller."""
        return writes_enabled(capabilities) and self.request_headers() is not None


def writes_enabled(capabilities: Mapping[str, Any] | None) -> bool:
    """Whether the API accepts writes at all (`GET /api/v1/capabilities`); an API without it: no."""
    edits = (capabilities or {}).get("edits") or {}
    return bool(edits.get("enabled")) and bool(edits.get("writes"))


def edits_enabled(capabilities: Mapping[str, Any] | None) -> bool:
    """Whether the API has the edit endpoints (history is readable even when writes are off)."""
    return bool(((capabilities or {}).get("edits") or {}).get("enabled"))
