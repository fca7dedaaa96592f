"""One error tree. Each error carries its HTTP status and a stable code; the API middleware maps them to JSON."""

from __future__ import annotations

from typing import Any, ClassVar


class ObserveError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"

    def __init__(self, message: str, *, field: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        body.update(self.extra)
        return {"error": body}


class BadQuery(ObserveError):
    status = 400
    code = "bad_query"


class Unauthorized(ObserveError):
    """No valid credentials (no or wrong bearer token, no trusted user header)."""

    status = 401
    code = "unauthorized"


class Forbidden(ObserveError):
    """The caller may not do this: writes disabled, CSRF check failed, or Kubernetes RBAC."""

    status = 403
    code = "forbidden"


class NotFound(ObserveError):
    status = 404
    code = "not_found"


class Conflict(ObserveError):
    status = 409
    code = "conflict"


class NotEnabled(ObserveError):
    """A feature this server was started without (snapshots need --data-dir): the message says how to enable it."""

    status = 501
    code = "not_enabled"


class PayloadTooLarge(ObserveError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ObserveError):
    status = 415
    code = "unsupported_media_type"


class TooManyRequests(ObserveError):
    """A rate limit: `extra["retry_after_s"]` (whole seconds) is also sent as the Retry-After header."""

    status = 429
    code = "too_many_requests"


class InvalidEdit(ObserveError):
    status = 422
    code = "invalid_edit"


class SourceUnavailable(ObserveError):
    """A backend (Prometheus, Jaeger) failed or timed out; `source` names it."""

    status = 503
    code = "source_unavailable"

    def __init__(self, source: str, message: str):
        super().__init__(message, extra={"source": source})
        self.source = source


class QueryRejected(SourceUnavailable):
    """The backend is up but refused this query (too many samples, a bad expression): not a reason to back off."""

    code = "query_rejected"
