"""The one HTTP client of the UI: every call to the observe API goes through `Backend`.

Calls never raise: an unreachable API, a timeout, an HTTP error or a body that is not JSON becomes an `Answer`
with an `error` sentence the page shows. Callbacks run in the web server's worker threads, so the client is
thread-safe: one short-lived connection per call (loopback or in-cluster, cheap) and a small TTL cache shared
by the callbacks of one refresh (the graph, the table and the side panel ask for the same topology).
Environment proxies are ignored on purpose: the API is a local or in-cluster address.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dashboards.state import EDGE_SEPARATOR

MAX_BODY_BYTES = 64 * 1024 * 1024
USER_AGENT = "observe-dashboards"


@dataclass(frozen=True, slots=True)
class Answer:
    """A JSON object from the API, or why there is none. `status` is the HTTP status when the API answered."""

    data: dict[str, Any] | None
    error: str | None = None
    status: int | None = None
    field: str | None = None  # the request field an API refusal names (error.field), for an inline message

    @property
    def ok(self) -> bool:
        return self.data is not None and self.error is None


def _params(**values: Any) -> dict[str, str]:
    """Query parameters without the empty ones (the API's defaults apply)."""
    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None or value == "" or value is False or value == ():
            continue
        out[name] = "true" if value is True else ",".join(value) if isinstance(value, tuple | list) else str(value)
    return out


class Backend:
    def __init__(self, api_url: str, *, timeout_s: float = 10.0, cache_ttl_s: float = 2.0, cache_size: int = 64,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        parsed = urllib.parse.urlsplit(api_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"invalid API URL '{api_url}': expected http(s)://host:port")
        self.api_url = api_url.rstrip("/")
        self.timeout_s = timeout_s
        self._ttl_s, self._size, self._clock = cache_ttl_s, cache_size, clock
        self._cache: OrderedDict[str, tuple[float, Answer]] = OrderedDict()
        self._lock = threading.Lock()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ---- the API, one method per endpoint -------------------------------------------------------------------
    def topology(self, *, graph: str, namespaces: tuple[str, ...] = (), window: str = "", at: str = "") -> Answer:
        return self.get("/api/v1/topology", _params(graph=graph, namespace=namespaces, window=window, at=at))

    def edge_series(self, *, source: str, target: str, graph: str, window: str, at: str = "",
                    step: str = "") -> Answer:  # fmt: skip
        params = _params(source=source, target=target, graph=graph, window=window, at=at, step=step)
        return self.get("/api/v1/edges/series", params)

    def node_series(self, *, node: str, graph: str, window: str, at: str = "", step: str = "") -> Answer:
        return self.get("/api/v1/nodes/series", _params(node=node, graph=graph, window=window, at=at, step=step))

    def traces(self, *, service: str = "", edge: tuple[str, str] | None = None, graph: str = "",
               min_duration: str = "", errors: bool = False, limit: int = 20, window: str = "",
               at: str = "") -> Answer:  # fmt: skip
        edge_param = EDGE_SEPARATOR.join(edge) if edge else ""
        params = _params(service=service, edge=edge_param, graph=graph if edge else "", min_duration=min_duration,
                         errors=errors, limit=limit, window=window, at=at)  # fmt: skip
        return self.get("/api/v1/traces", params)

    def trace(self, trace_id: str) -> Answer:
        if not trace_id or not all(c in "0123456789abcdef" for c in trace_id.lower()) or len(trace_id) > 32:
            return Answer(None, f"invalid trace id '{trace_id}': expected up to 32 hex digits")
        return self.get("/api/v1/traces/" + urllib.parse.quote(trace_id.lower(), safe=""), {})

    def diff(self, *, a_at: str, b_at: str = "", window: str = "", graph: str = "",
             namespaces: tuple[str, ...] = ()) -> Answer:  # fmt: skip
        return self.get("/api/v1/diff", _params(a_at=a_at, b_at=b_at, window=window, graph=graph, namespace=namespaces))

    def annotations(self, *, start: float, end: float) -> Answer:
        return self.get("/api/v1/annotations", _params(**{"from": repr(start), "to": repr(end)}))  # exact: see marks

    def snapshots(self) -> Answer:
        return self.get("/api/v1/snapshots", {})

    def snapshot(self, snapshot_id: str) -> Answer:
        return self.get("/api/v1/snapshots/" + urllib.parse.quote(snapshot_id, safe=""), {})

    def create_snapshot(self, body: Mapping[str, Any]) -> Answer:
        return self.send("POST", "/api/v1/snapshots", body)

    def download(self, path: str) -> tuple[bytes, str] | Answer:
        """A non-JSON resource (a snapshot's HTML report): its bytes and content type, or why not."""
        request = urllib.request.Request(self.api_url + path, headers={"User-Agent": USER_AGENT})
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                body = response.read(MAX_BODY_BYTES + 1)
                if len(body) > MAX_BODY_BYTES:
                    return Answer(None, f"the observe API answer is larger than {MAX_BODY_BYTES // 2**20} MiB")
                return body, response.headers.get_content_type()
        except urllib.error.HTTPError as exc:
            return self._http_error(exc)
        except (OSError, ValueError) as exc:
            return Answer(None, f"the observe API at {self.api_url} failed: {exc}")

    def capabilities(self) -> Answer:
        return self.get("/api/v1/capabilities", {})

    def versions(self, *, namespace: str, service: str, window: str = "", at: str = "") -> Answer:
        return self.get("/api/v1/versions", _params(namespace=namespace, service=service, window=window, at=at))

    def compare(self, *, namespace: str, service: str, baseline: str, canary: str, window: str = "",
                at: str = "") -> Answer:  # fmt: skip
        params = _params(namespace=namespace, service=service, baseline=baseline, canary=canary, window=window, at=at)
        return self.get("/api/v1/compare", params)

    def audit(self, *, target: str = "", limit: int = 20) -> Answer:
        return self.get("/api/v1/audit", _params(target=target, limit=limit))

    def mesh_security(self, namespaces: tuple[str, ...]) -> Answer:
        """Effective PeerAuthentication mode per namespace (501 when the server has no --rules-dir or --kube)."""
        return self.get("/api/v1/mesh/security", _params(namespace=namespaces))

    # ---- transport -------------------------------------------------------------------------------------------
    def send(self, method: str, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Answer:
        """A write (never cached; it empties the cache, so the next read sees what it changed); `headers`: the
        caller's credentials."""
        request = urllib.request.Request(self.api_url + path, data=json.dumps(body).encode(), method=method, headers={
            "Accept": "application/json", "Content-Type": "application/json", "User-Agent": USER_AGENT,
            **(headers or {})})  # fmt: skip
        with self._lock:
            self._cache.clear()
        return self._open(request)

    def get(self, path: str, params: Mapping[str, str]) -> Answer:
        url = self.api_url + path + ("?" + urllib.parse.urlencode(sorted(params.items())) if params else "")
        now = self._clock()
        with self._lock:
            cached = self._cache.get(url)
            if cached and cached[0] > now:
                return cached[1]
        answer = self._fetch(url)
        with self._lock:
            self._cache[url] = (now + self._ttl_s, answer)
            self._cache.move_to_end(url)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return answer

    def _fetch(self, url: str) -> Answer:
        return self._open(urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}))

    def _open(self, request: urllib.request.Request) -> Answer:
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                return self._decode(response.read(MAX_BODY_BYTES + 1), response.status)
        except urllib.error.HTTPError as exc:
            return self._http_error(exc)
        except TimeoutError:
            return Answer(None, f"the observe API at {self.api_url} did not answer within {self.timeout_s:g} s")
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                return Answer(None, f"the observe API at {self.api_url} did not answer within {self.timeout_s:g} s")
            detail = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
            return Answer(None, f"the observe API at {self.api_url} is unreachable: {detail}")
        except (OSError, ValueError) as exc:  # connection reset mid-body, malformed status line…
            return Answer(None, f"the observe API at {self.api_url} failed: {exc}")

    def _decode(self, body: bytes, status: int) -> Answer:
        if len(body) > MAX_BODY_BYTES:
            return Answer(None, f"the observe API answer is larger than {MAX_BODY_BYTES // 2**20} MiB", status)
        try:
            data = json.loads(body)
        except ValueError:
            return Answer(None, "the observe API answered something that is not JSON", status)
        if not isinstance(data, dict):
            return Answer(None, "the observe API answered JSON that is not an object", status)
        return Answer(data, None, status)

    def _http_error(self, exc: urllib.error.HTTPError) -> Answer:
        try:
            body = json.loads(exc.read(1024 * 1024) or b"null")
        except (ValueError, OSError):
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("message"):
            field = error.get("field") if isinstance(error.get("field"), str) else None
            return Answer(None, f"{error['message']} (HTTP {exc.code})", exc.code, field)
        return Answer(None, f"the observe API answered HTTP {exc.code} {exc.reason}", exc.code)
