"""Who may write, checked on every write request; reads never come here (they stay open).

Order of checks, each refusal raising before anything is read or written:
1. writes disabled (the default) → 403 `forbidden`.
2. CSRF → 403: the request must carry the custom header `X-Requested-By: observe` (name and value
   configurable). A browser cannot add a custom header to a cross-site request without a CORS preflight, and
   observe answers no preflight, so a forged form post or image load can never pass; the Dash backend (a
   server-side client) sets it. When an `Origin` header is present it must be this server's own origin or one
   of `allowed_origins`, a second guard against a misconfigured proxy adding CORS.
3. Identity → 401: `Authorization: Bearer <token>` compared with the configured token in constant time
   (hmac.compare_digest; the token is never logged or echoed), or — when `user_header` is configured — that
   header as set by an authenticating proxy (oauth2-proxy and the like), trusted only from `trusted_proxies`
   addresses, so a client cannot name itself by sending the header directly.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field

from aiohttp import web

from observe.actions.audit import Actor
from observe.errors import Forbidden, Unauthorized

LOOPBACK = ("127.0.0.1/32", "::1/128")


@dataclass(frozen=True)
class WriteAuth:
    enabled: bool = False
    token: str = field(default="", repr=False)  # empty: bearer tokens are not accepted; never in a repr or log
    token_actor: str = "token"  # the name audit entries give a bearer-token caller
    user_header: str = ""  # e.g. X-Forwarded-User; empty: no proxy authentication
    trusted_proxies: tuple[str, ...] = LOOPBACK
    csrf_header: str = "X-Requested-By"
    csrf_value: str = "observe"
    allowed_origins: tuple[str, ...] = ()

    def authorize(self, request: web.Request) -> Actor:
        """The caller of a write, or Forbidden / Unauthorized."""
        if not self.enabled:
            raise Forbidden("writes are disabled on this server (enable with --allow-writes or OBSERVE_ALLOW_WRITES)")
        self._check_csrf(request)
        remote = request.remote
        supplied = _bearer(request)
        if supplied is not None and self.token:
            if hmac.compare_digest(supplied.encode(), self.token.encode()):
                return Actor(self.token_actor, "token", remote)
            raise Unauthorized("invalid bearer token")
        if self.user_header and self._from_trusted_proxy(remote):
            user = request.headers.get(self.user_header, "").strip()
            if user:
                return Actor(user, "header", remote)
        raise Unauthorized("authentication required: a bearer token or an authenticating proxy")

    def claimed(self, request: web.Request) -> Actor:
        """Who a (denied) request says it is, for the audit; not trusted for anything else."""
        user = request.headers.get(self.user_header, "").strip() if self.user_header else ""
        if user:
            return Actor(user[:200], "header-unverified", request.remote)
        if _bearer(request) is not None:
            return Actor("bearer", "token-unverified", request.remote)
        return Actor("anonymous", "none", request.remote)

    def _check_csrf(self, request: web.Request) -> None:
        if request.headers.get(self.csrf_header) != self.csrf_value:
            raise Forbidden(f"CSRF check failed: write requests must send the header {self.csrf_header}: "
                            f"{self.csrf_value}", field=self.csrf_header)  # fmt: skip
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.allowed_origins:
            own = f"{request.scheme}://{request.host}"
            if origin != own:
                raise Forbidden(f"CSRF check failed: origin {origin[:100]!r} is not allowed", field="Origin")

    def _from_trusted_proxy(self, remote: str | None) -> bool:
        if remote is None:
            return False
        try:
            address = ipaddress.ip_address(remote)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in self.trusted_proxies)


def _bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def unauthorized_headers() -> dict[str, str]:
    return {"WWW-Authenticate": 'Bearer realm="observe"'}
